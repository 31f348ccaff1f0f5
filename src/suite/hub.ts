/**
 * Files of public benchmarks fetched from the Hugging Face Hub (or a mirror) by the Hub's
 * file-resolution API, `{HF_ENDPOINT}/datasets/{repo}/resolve/{revision}/{path}`, pinned to a
 * revision, checked against a SHA-256, and cached under `GAPBENCH_CACHE_DIR` (default
 * `~/.cache/gapbench`) as `hub/{endpoint}/datasets/{repo}/{revision}/{path}`: each endpoint has its
 * own cache, so a file one mirror served is never used for another.
 *
 * A pin whose sha256 is null has not been recorded yet (no network where the table was written):
 * the first download's digest is written beside the file (`.sha256`), printed so it can be pinned,
 * checked against any copy another endpoint served, and checked by later loads.
 *
 * Every download is bounded (docs/security.md): headers within GAPBENCH_HUB_TIMEOUT seconds,
 * never GAPBENCH_HUB_IDLE_TIMEOUT seconds without a byte, and at most the size a suite's source
 * file may have, counted after decompression (a gzip bomb is cut as it inflates).
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, relative } from 'node:path';
import { UsageError } from '../errors.js';
import { openRegularFile } from '../util/readfile.js';
import { cachedPath, checkPin, hubCacheRoot, hubEndpoint, hubUrl, type HubPin } from './hub-paths.js';
import { MAX_SOURCE_BYTES } from './source.js';

export { cacheDir, cachedPath, hubUrl, type HubPin } from './hub-paths.js';

interface HubOptions {
  /** HF_ENDPOINT, HF_TOKEN, GAPBENCH_CACHE_DIR, GAPBENCH_OFFLINE / HF_HUB_OFFLINE, GAPBENCH_HUB_TIMEOUT, GAPBENCH_HUB_IDLE_TIMEOUT. */
  vars: Record<string, string | undefined>;
  log?: (line: string) => void;
  /** Largest file downloaded (after decompression); default MAX_SOURCE_BYTES. */
  maxBytes?: number;
}

/** Downloads bigger than this report progress. */
const PROGRESS_BYTES = 1 << 20;
/** Seconds to wait for a connection and the response headers, and for the next byte of a body. */
const HUB_TIMEOUT_S = 30;
const HUB_IDLE_TIMEOUT_S = 30;

function seconds(vars: HubOptions['vars'], name: string, fallback: number): number {
  const raw = vars[name];
  if (raw === undefined || raw === '') return fallback * 1000;
  const n = Number(raw);
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`${name}=${raw.slice(0, 40)}: expected seconds above 0`);
  return n * 1000;
}

function offline(vars: Record<string, string | undefined>): boolean {
  return ['GAPBENCH_OFFLINE', 'HF_HUB_OFFLINE'].some((k) => vars[k] === '1' || vars[k] === 'true');
}

/** The local paths of every pinned file, downloading those not cached yet. */
export async function hubFiles(pin: HubPin, opts: HubOptions): Promise<{ path: string; local: string }[]> {
  checkPin(pin); // every name, before any byte is fetched or written
  const out: { path: string; local: string }[] = [];
  const unpinned: { path: string; digest: string }[] = [];
  for (const path of Object.keys(pin.files)) {
    const got = await fetchOrReuse(pin, path, opts);
    if (got.newDigest) unpinned.push({ path, digest: got.newDigest });
    out.push({ path, local: got.local });
  }
  if (unpinned.length) noteUnpinned(pin, unpinned, opts);
  return out;
}

/** One file's local path (downloaded if needed); its digest when it was downloaded unpinned. */
export async function hubFile(pin: HubPin, path: string, opts: HubOptions): Promise<string> {
  checkPin(pin);
  const got = await fetchOrReuse(pin, path, opts);
  if (got.newDigest) noteUnpinned(pin, [{ path, digest: got.newDigest }], opts);
  return got.local;
}

async function fetchOrReuse(
  pin: HubPin,
  path: string,
  opts: HubOptions,
): Promise<{ local: string; newDigest?: string }> {
  const local = cachedPath(pin, path, opts.vars);
  const url = hubUrl(pin, path, opts.vars);
  const want = pin.files[path] ?? null;
  if (existsSync(local)) {
    checkCached(local, path, want, opts.maxBytes ?? MAX_SOURCE_BYTES);
    return { local };
  }
  if (offline(opts.vars))
    throw new UsageError(`offline and not cached: ${pin.repo}/${path} (needs ${url}; cache file ${local})`);
  const got = await download(url, local, path, want, opts);
  if (want) return { local };
  try {
    checkOtherEndpoints(pin, path, got, opts.vars);
  } catch (e) {
    rmSync(local, { force: true });
    throw e;
  }
  writeFileSync(`${local}.sha256`, `${got}\n`);
  return { local, newDigest: got };
}

/** An unpinned file is trusted on first use per endpoint only: a copy another endpoint served must agree. */
function checkOtherEndpoints(pin: HubPin, path: string, digest: string, vars: HubOptions['vars']): void {
  const root = hubCacheRoot(vars);
  const mine = hubEndpoint(vars).key;
  let keys: string[] = [];
  try {
    keys = readdirSync(root).filter((k) => k !== mine);
  } catch {
    return;
  }
  for (const key of keys) {
    const other = `${cachedPath(pin, path, vars, key)}.sha256`;
    if (!existsSync(other)) continue;
    const theirs = readFileSync(other, 'utf8').trim().slice(0, 64);
    if (theirs !== digest)
      throw new UsageError(
        `${pin.repo}/${path} from ${hubEndpoint(vars).url} (sha256 ${digest.slice(0, 12)}…) differs from the copy another endpoint served (${theirs.slice(0, 12)}…, cached in ${relative(root, dirname(other)).split(/[\\/]/)[0]}): one of them is not the real file; pin the right sha256 in the suite (nothing was cached)`,
      );
  }
}

function noteUnpinned(pin: HubPin, files: { path: string; digest: string }[], opts: HubOptions): void {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const from = hubEndpoint(opts.vars).url;
  const [first] = files;
  const more = files.length > 1 ? ` and ${files.length - 1} more file(s), each beside its cached copy as .sha256` : '';
  log(
    `note: ${pin.repo}/${first.path} is not pinned; its first download (from ${from}) has sha256 ${first.digest}${more}: record them in the suite (node scripts/hub-pins.mjs SUITE.yaml) so no other copy is accepted`,
  );
}

/** A cached file checked against its digest as it is read (no more than `max` bytes, a regular file only). */
function checkCached(local: string, path: string, pinned: string | null, max: number): void {
  const recorded = existsSync(`${local}.sha256`) ? readFileSync(`${local}.sha256`, 'utf8').trim().slice(0, 64) : null;
  const want = pinned ?? recorded;
  if (!want) return;
  const got = fileDigest(local, path, max);
  if (got !== want)
    throw new UsageError(
      `cached ${path} does not match its checksum (sha256 ${got.slice(0, 12)}…, expected ${want.slice(0, 12)}…): delete ${local} to download it again`,
    );
}

/** SHA-256 of a cached file, read in pieces; a file over `max` bytes is refused, not read on. */
function fileDigest(local: string, path: string, max: number): string {
  const fd = openRegularFile(local);
  const hash = createHash('sha256');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let total = 0;
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) {
      total += n;
      if (total > max)
        throw new UsageError(`cached ${path} is over ${max} bytes: delete ${local} to download it again`);
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

async function fetchHub(url: string, path: string, opts: HubOptions, abort: AbortController): Promise<Response> {
  const vars = opts.vars;
  const headers: Record<string, string> = {};
  const endpoint = hubEndpoint(vars);
  if (vars.HF_TOKEN) headers.authorization = `Bearer ${vars.HF_TOKEN}`;
  else if (endpoint.basic) headers.authorization = `Basic ${endpoint.basic}`;
  const limit = seconds(vars, 'GAPBENCH_HUB_TIMEOUT', HUB_TIMEOUT_S);
  const timer = setTimeout(() => abort.abort(new Error(`no answer within ${limit / 1000} s`)), limit);
  let res: Response;
  try {
    res = await fetch(url, { headers, redirect: 'follow', signal: abort.signal });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = abort.signal.aborted
      ? `${(abort.signal.reason as Error).message} (GAPBENCH_HUB_TIMEOUT)`
      : `${cause?.code ?? cause?.message ?? (e as Error).message} (offline or wrong HF_ENDPOINT?)`;
    throw new UsageError(`cannot download ${path} from ${url}: ${why}`);
  } finally {
    clearTimeout(timer);
  }
  if (!res.ok) {
    abort.abort();
    const hint =
      res.status === 401 || res.status === 403
        ? ' (gated or private: set HF_TOKEN)'
        : res.status === 404
          ? ' (no such file at this revision: wrong HF_ENDPOINT or repository?)'
          : '';
    throw new UsageError(`cannot download ${path} from ${url}: HTTP ${res.status}${hint}`);
  }
  if (/text\/html/i.test(res.headers.get('content-type') ?? '')) {
    abort.abort();
    throw new UsageError(
      `cannot download ${path} from ${url}: the server answered with an HTML page, not the file (is HF_ENDPOINT a Hub mirror?)`,
    );
  }
  return res;
}

/**
 * Streams to a temporary file beside the target, checks length and digest, then renames into
 * place. The body is cut when it stalls (idle timeout) or grows past the bound (after decompression).
 */
async function download(
  url: string,
  local: string,
  path: string,
  want: string | null,
  opts: HubOptions,
): Promise<string> {
  const abort = new AbortController();
  const res = await fetchHub(url, path, opts, abort);
  const max = opts.maxBytes ?? MAX_SOURCE_BYTES;
  const idle = seconds(opts.vars, 'GAPBENCH_HUB_IDLE_TIMEOUT', HUB_IDLE_TIMEOUT_S);
  const encoded = Boolean(res.headers.get('content-encoding'));
  const total = encoded ? NaN : Number(res.headers.get('content-length') ?? NaN);
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  mkdirSync(dirname(local), { recursive: true });
  const tmp = `${local}.part-${process.pid}`;
  const hash = createHash('sha256');
  let bytes = 0;
  let shownPct = -1;
  const out = createWriteStream(tmp);
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(
      () => abort.abort(new Error(`stalled: no data for ${idle / 1000} s (GAPBENCH_HUB_IDLE_TIMEOUT)`)),
      idle,
    );
  };
  try {
    if (Number.isFinite(total) && total > max)
      throw new Error(`${total} bytes, over the ${max} a source file may have`);
    arm();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      arm();
      bytes += chunk.length;
      if (bytes > max) throw new Error(`over the ${max} bytes a source file may have (after decompression)`);
      hash.update(chunk);
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      const pct = Number.isFinite(total) && total > PROGRESS_BYTES ? Math.floor((bytes / total) * 10) * 10 : -1;
      if (pct > shownPct) {
        shownPct = pct;
        log(`downloading ${path}: ${pct}% of ${(total / 1e6).toFixed(1)} MB`);
      }
    }
    clearTimeout(timer);
    await new Promise<void>((ok, fail) => out.end((e?: Error | null) => (e ? fail(e) : ok())));
  } catch (e) {
    clearTimeout(timer);
    // A stall aborted the body: say so, rather than what the aborted read threw.
    const why = abort.signal.aborted ? (abort.signal.reason as Error) : (e as Error);
    abort.abort();
    out.destroy();
    rmSync(tmp, { force: true });
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot download ${path} from ${url}: ${why.message} (nothing was cached)`);
  }
  const got = hash.digest('hex');
  const bad =
    Number.isFinite(total) && bytes !== total
      ? `truncated: ${bytes} of ${total} bytes`
      : want && got !== want
        ? `checksum mismatch: sha256 ${got.slice(0, 12)}…, pinned ${want.slice(0, 12)}…`
        : '';
  if (bad) {
    rmSync(tmp, { force: true });
    throw new UsageError(`download of ${path} from ${url} failed: ${bad} (nothing was cached)`);
  }
  renameSync(tmp, local);
  return got;
}

/** Downloads (or reuses) one file and returns its SHA-256: what scripts/hub-pins.mjs records. */
export async function hubDigest(pin: HubPin, path: string, opts: HubOptions): Promise<string> {
  const local = await hubFile({ ...pin, files: { [path]: null } }, path, { ...opts, log: () => undefined });
  return fileDigest(local, path, opts.maxBytes ?? MAX_SOURCE_BYTES);
}
