import type { EndpointSpec } from '../providers/provider.js';

/** Where a model's endpoint came from, for messages that must name it. */
interface EndpointChoice {
  value: string;
  /** ` (from OLLAMA_HOST)`, or empty when the config or preset gave it. */
  from: string;
}

/** The model's own value, else the environment variable, else the preset's, else the protocol's default. */
export function chooseEndpoint(
  spec: EndpointSpec,
  own: string | undefined,
  preset: { endpoint?: string; endpointEnv?: string },
  env: NodeJS.ProcessEnv,
): EndpointChoice | undefined {
  if (own !== undefined) return { value: own, from: '' };
  const envName = preset.endpointEnv ?? spec.env;
  const fromEnv = envName ? env[envName] : undefined;
  if (fromEnv) return { value: fromEnv, from: ` (from ${envName})` };
  const value = preset.endpoint ?? spec.default;
  return value === undefined ? undefined : { value, from: '' };
}

/**
 * An http(s) URL. A bare host (spec.bare) may leave out the scheme, as Ollama allows
 * (`10.0.0.5:11434`, `gpu-box`), but then it is a host and port only: `http//gpu-box` is a
 * typo, not a path.
 */
export function validEndpoint(value: string, spec: EndpointSpec): boolean {
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value);
  if (!spec.bare && !hasScheme) return false;
  if (!hasScheme && value.includes('/')) return false;
  try {
    const u = new URL(hasScheme ? value : `http://${value}`);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** A bare host in full, as Ollama's own clients read it: `myhost` means http://myhost:11434. */
export function normalizeEndpoint(value: string, spec: EndpointSpec): string {
  if (!spec.bare) return value;
  const withScheme = /^[a-z]+:\/\//i.test(value) ? value : `http://${value}`;
  try {
    const u = new URL(withScheme);
    const portWritten = /:\d+(\/|$)/.test(withScheme.replace(/^[a-z]+:\/\//i, ''));
    if (!u.port && !portWritten && u.protocol === 'http:') u.port = String(spec.bare.port);
    return u.href.replace(/\/+$/, '');
  } catch {
    return withScheme.replace(/\/+$/, '');
  }
}

/** The host name of an address (with or without a scheme; IPv6 without brackets), or undefined. */
function hostOf(url: string): string | undefined {
  try {
    return new URL(/^[a-z]+:\/\//i.test(url) ? url : `http://${url}`).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
}

const loopbackHost = (h: string) => h === 'localhost' || h === '::1' || /^127\./.test(h);

/** Loopback and private hosts: a local server, where a missing key is not an error. */
export function isLocalURL(url: string): boolean {
  const h = hostOf(url);
  return (
    h !== undefined &&
    (loopbackHost(h) ||
      /^10\./.test(h) ||
      /^192\.168\./.test(h) ||
      /^172\.(1[6-9]|2\d|3[01])\./.test(h) ||
      h.endsWith('.local'))
  );
}

/** This machine only (localhost, *.localhost, 127.0.0.0/8, ::1, 0.0.0.0): not even the private network. */
export function isLoopbackURL(url: string): boolean {
  const h = hostOf(url);
  return h !== undefined && (loopbackHost(h) || h.endsWith('.localhost') || h === '0.0.0.0');
}
