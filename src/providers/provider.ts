import type { ChatRequest, Completion, Group, SamplingParams } from '../types.js';

/**
 * What a provider needs to know about the model it serves. The config layer's `ModelConfig`
 * extends this with what only the scheduler and the reports use (lane limits, group, price).
 * Holds no secret: only the name of the variable holding the key.
 */
export interface ProviderModel {
  /** Label in every output (unique per run). */
  id: string;
  /** The provider's model name (may contain colons); for `replay`, the recorded file. */
  model: string;
  /** The server: a base URL (`baseURL` protocols) or a host (`host` protocols); absent for replay. */
  endpoint?: string;
  /** Environment variable holding the API key, when the protocol takes one. */
  apiKeyEnv?: string;
  params: SamplingParams;
  timeoutMs: number;
  /** Largest response body (decompressed) a request may hold; default 16 MiB. */
  maxResponseBytes?: number;
  /** Said with an authentication failure (e.g. which region's endpoint a key belongs to). */
  authHint?: string;
  /** Extra HTTP headers; values may hold `${VAR}` (read from the environment when the provider is built). */
  headers?: Record<string, string>;
  /** Options of the replay provider. */
  replay?: { idField?: string; outputField?: string; idTemplate?: string };
}

/**
 * Turns a chat request into a completion, or throws a `ProviderError` whose `kind` says
 * what went wrong. Providers never retry: the lane owns retries, so SDK retries are off.
 */
export interface Provider {
  readonly model: ProviderModel;
  complete(req: ChatRequest): Promise<Completion>;
}

export interface ProviderEnv {
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/**
 * An endpoint's `user:password@` credentials as a Basic Authorization header, and the endpoint
 * without them (fetch refuses URLs that carry credentials, and no output may show them).
 */
export function splitCredentials(endpoint: string): { url: string; basic?: string; password?: string } {
  try {
    const u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `http://${endpoint}`);
    if (!u.username && !u.password) return { url: endpoint };
    const user = decodeURIComponent(u.username);
    const password = decodeURIComponent(u.password);
    u.username = '';
    u.password = '';
    const url = u.href.replace(/\/$/, endpoint.endsWith('/') ? '/' : '');
    return { url, basic: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`, password };
  } catch {
    return { url: endpoint };
  }
}

/** Every secret value a model's requests carry: its key, header values, URL credentials. */
export function secretsOf(model: ProviderModel, env: NodeJS.ProcessEnv): string[] {
  const key = (model.apiKeyEnv && env[model.apiKeyEnv]?.trim()) || '';
  const creds = model.endpoint ? splitCredentials(model.endpoint) : { url: '' };
  return [key, ...Object.values(resolveHeaders(model, env)), creds.password ?? '', creds.basic ?? ''].filter(
    (s) => s.length >= 4,
  );
}

/** A model's extra headers with `${VAR}` read from the environment. */
export function resolveHeaders(model: ProviderModel, env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(model.headers ?? {}))
    out[name] = value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, v: string) => env[v] ?? '');
  return out;
}

export type ProviderFactory = (model: ProviderModel, env: ProviderEnv) => Provider;

/** How a protocol names its server in the config. */
export interface EndpointSpec {
  /** The config field: `baseURL` (a URL with its path, OpenAI style) or `host` (Ollama style). */
  field: 'baseURL' | 'host';
  /** Used when neither the model nor its preset gives one. */
  default?: string;
  /** Environment variable read before the default (e.g. OLLAMA_HOST). */
  env?: string;
  /** A host may leave out the scheme and port (`gpu-box` means http://gpu-box:DEFAULT_PORT). */
  bare?: { port: number };
}

/**
 * A wire protocol, as every other layer sees it: config reads the endpoint field and key needs,
 * the scheduler the lane defaults, the runner `create`. Adding a protocol is one file exporting
 * one of these and one line in the registry (providers/index.ts).
 */
export interface ProviderDescriptor {
  readonly protocol: string;
  /** One line for `gapbench models`. */
  readonly description: string;
  /** Absent: the protocol talks to no server (replay). */
  readonly endpoint?: EndpointSpec;
  /**
   * `required`: a key must be set unless the endpoint is a local server; `none`: never sent
   * unless the model names an apiKeyEnv (then it must be set, and is sent as a bearer token).
   */
  readonly key: 'required' | 'none';
  /** Default group of a model used as `protocol:model` without a preset; absent: `group` is required. */
  readonly group?: Group;
  /** Lane defaults, given whether the endpoint is on this machine or a private network. */
  defaults(local: boolean): { concurrency: number; timeoutMs: number; cache: boolean };
  readonly create: ProviderFactory;
  /** A cheap check before the run, whose failure is a usage error (replay: the file loads). */
  preflight?(model: ProviderModel, env: ProviderEnv): void;
}

/** Whether an abort came from the per-request timeout (retryable) or from the run stopping. */
export function abortKind(signal: AbortSignal): 'timeout' | 'aborted' {
  const reason = signal.reason as { name?: string } | undefined;
  return reason?.name === 'TimeoutError' ? 'timeout' : 'aborted';
}
