/**
 * Where a Hub file comes from and where it is cached, built from outside data (a suite's pin, the
 * HF_ENDPOINT variable) and therefore checked: a repo, revision or file name that could leave its
 * place (`..`, an absolute path, a backslash, a control character) is refused before any byte is
 * fetched or written, and every cache path is verified to stay under the cache directory.
 */
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { UsageError, withoutCredentials } from '../errors.js';

export interface HubPin {
  repo: string;
  revision: string;
  /** Path in the repository -> SHA-256 (hex), or null when not yet recorded. */
  files: Record<string, string | null>;
}

type Vars = Record<string, string | undefined>;

const DEFAULT_ENDPOINT = 'https://huggingface.co';

/** One name segment: starts with a letter or digit (so never `.` or `..`), then the Hub's characters. */
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** A file segment may hold more (spaces, `=`, `+`, non-ASCII), but no separator or control character. */
const FILE_SEGMENT = /^(?!\.\.?$)[^/\\\u0000-\u001f\u007f]+$/;

/** Refuses a pin whose repo, revision or file names could point outside its place. */
export function checkPin(pin: HubPin): void {
  const parts = pin.repo.split('/');
  if (parts.length !== 2 || !parts.every((p) => SEGMENT.test(p)))
    throw new UsageError(`source.hub.repo ${JSON.stringify(pin.repo)}: expected owner/name (letters, digits, . - _)`);
  if (!SEGMENT.test(pin.revision))
    throw new UsageError(
      `source.hub.revision ${JSON.stringify(pin.revision)}: expected a commit hash, tag or branch name (letters, digits, . - _; no / or ..)`,
    );
  for (const path of Object.keys(pin.files)) checkFilePath(path);
}

function checkFilePath(path: string): void {
  if (!path.split('/').every((seg) => FILE_SEGMENT.test(seg)))
    throw new UsageError(
      `source.hub.files ${JSON.stringify(path)}: expected a path inside the repository (no leading /, no . or .. segments, no backslash or control characters)`,
    );
}

interface HubEndpoint {
  /** The endpoint as shown and requested: no credentials, no trailing slash. */
  url: string;
  /** `user:password@` of HF_ENDPOINT, sent as Basic authorization (never shown). */
  basic?: string;
  /** The cache folder of this endpoint: files from one endpoint are never served for another. */
  key: string;
}

export function hubEndpoint(vars: Vars): HubEndpoint {
  const raw = vars.HF_ENDPOINT || DEFAULT_ENDPOINT;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(`HF_ENDPOINT ${withoutCredentials(raw).slice(0, 200)}: not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new UsageError(`HF_ENDPOINT ${withoutCredentials(raw).slice(0, 200)}: expected an http:// or https:// URL`);
  const basic = u.username
    ? Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')
    : undefined;
  u.username = '';
  u.password = '';
  const url = u.href.replace(/\/+$/, '');
  const host = u.host.replace(/[^A-Za-z0-9.-]/g, '_');
  const key = `${host}-${createHash('sha256').update(url).digest('hex').slice(0, 8)}`;
  return { url, ...(basic ? { basic } : {}), key };
}

export function cacheDir(vars: Vars): string {
  return vars.GAPBENCH_CACHE_DIR || join(homedir(), '.cache', 'gapbench');
}

export function hubUrl(pin: HubPin, path: string, vars: Vars): string {
  checkFilePath(path);
  const file = path.split('/').map(encodeURIComponent).join('/');
  const repo = pin.repo.split('/').map(encodeURIComponent).join('/');
  return `${hubEndpoint(vars).url}/datasets/${repo}/resolve/${encodeURIComponent(pin.revision)}/${file}`;
}

/** The cache folder of every endpoint, for a file's copies fetched from other endpoints. */
export function hubCacheRoot(vars: Vars): string {
  return join(cacheDir(vars), 'hub');
}

/** `{cache}/hub/{endpoint key}/datasets/{repo}/{revision}/{path}`, checked to stay inside the cache. */
export function cachedPath(pin: HubPin, path: string, vars: Vars, endpointKey = hubEndpoint(vars).key): string {
  checkPin({ ...pin, files: {} });
  checkFilePath(path);
  const root = resolve(hubCacheRoot(vars));
  const local = resolve(root, endpointKey, 'datasets', ...pin.repo.split('/'), pin.revision, ...path.split('/'));
  if (!local.startsWith(root + sep))
    throw new UsageError(`source.hub: ${JSON.stringify(path)} would be cached outside ${root}`);
  return local;
}
