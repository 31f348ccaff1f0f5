/**
 * Files of public benchmarks fetched from the Hugging Face Hub (or a mirror) by the Hub's
 * file-resolution API, `{HF_ENDPOINT}/datasets/{repo}/resolve/{revision}/{path}`, pinned to a
 * revision, checked against a SHA-256, and cached under `GAPBENCH_CACHE_DIR` (default
 * `~/.cache/gapbench`) as `hub/datasets/{repo}/{revision}/{path}`.
 *
 * A pin whose sha256 is null has not been recorded yet (no network where the table was written):
 * the first download's digest is written beside the file (`.sha256`) and later loads check it.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { UsageError } from '../errors.js';

export interface HubPin {
  repo: string;
  revision: string;
  /** Path in the repository -> SHA-256 (hex), or null when not yet recorded. */
  files: Record<string, string | null>;
}

interface HubOptions {
  /** HF_ENDPOINT, HF_TOKEN, GAPBENCH_CACHE_DIR, GAPBENCH_OFFLINE / HF_HUB_OFFLINE. */
  vars: Record<string, string | undefined>;
  log?: (line: string) => void;
}

const DEFAULT_ENDPOINT = 'https://huggingface.co';
/** Downloads bigger than this report progress. */
const PROGRESS_BYTES = 1 << 20;

export function cacheDir(vars: Record<string, string | undefined>): string {
  return vars.GAPBENCH_CACHE_DIR || join(homedir(), '.cache', 'gapbench');
}

function hubUrl(pin: HubPin, path: string, vars: Record<string, string | undefined>): string {
  const endpoint = (vars.HF_ENDPOINT || DEFAULT_ENDPOINT).replace(/\/+$/, '');
  const file = path.split('/').map(encodeURIComponent).join('/');
  return `${endpoint}/datasets/${pin.repo}/resolve/${encodeURIComponent(pin.revision)}/${file}`;
}

export function cachedPath(pin: HubPin, path: string, vars: Record<string, string | undefined>): string {
  return join(cacheDir(vars), 'hub', 'datasets', ...pin.repo.split('/'), pin.revision, ...path.split('/'));
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function offline(vars: Record<string, string | undefined>): boolean {
  return ['GAPBENCH_OFFLINE', 'HF_HUB_OFFLINE'].some((k) => vars[k] === '1' || vars[k] === 'true');
}

/** The local paths of every pinned file, downloading those not cached yet. */
export async function hubFiles(pin: HubPin, opts: HubOptions): Promise<{ path: string; local: string }[]> {
  const out: { path: string; local: string }[] = [];
  for (const path of Object.keys(pin.files)) out.push({ path, local: await hubFile(pin, path, opts) });
  return out;
}

async function hubFile(pin: HubPin, path: string, opts: HubOptions): Promise<string> {
  const local = cachedPath(pin, path, opts.vars);
  const url = hubUrl(pin, path, opts.vars);
  const want = pin.files[path] ?? null;
  if (existsSync(local)) {
    checkCached(local, path, want);
    return local;
  }
  if (offline(opts.vars))
    throw new UsageError(`offline and not cached: ${pin.repo}/${path} (needs ${url}; cache file ${local})`);
  const got = await download(url, local, path, want, opts);
  if (!want) writeFileSync(`${local}.sha256`, `${got}\n`);
  return local;
}

function checkCached(local: string, path: string, pinned: string | null): void {
  const want = pinned ?? (existsSync(`${local}.sha256`) ? readFileSync(`${local}.sha256`, 'utf8').trim() : null);
  if (!want) return;
  const got = sha256(readFileSync(local));
  if (got !== want)
    throw new UsageError(
      `cached ${path} does not match its checksum (sha256 ${got.slice(0, 12)}…, expected ${want.slice(0, 12)}…): delete ${local} to download it again`,
    );
}

async function fetchHub(url: string, path: string, vars: Record<string, string | undefined>): Promise<Response> {
  const headers: Record<string, string> = {};
  if (vars.HF_TOKEN) headers.authorization = `Bearer ${vars.HF_TOKEN}`;
  let res: Response;
  try {
    res = await fetch(url, { headers, redirect: 'follow' });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new UsageError(
      `cannot download ${path} from ${url}: ${cause?.code ?? cause?.message ?? (e as Error).message} (offline or wrong HF_ENDPOINT?)`,
    );
  }
  if (!res.ok) {
    const hint =
      res.status === 401 || res.status === 403
        ? ' (gated or private: set HF_TOKEN)'
        : res.status === 404
          ? ' (no such file at this revision: wrong HF_ENDPOINT or repository?)'
          : '';
    throw new UsageError(`cannot download ${path} from ${url}: HTTP ${res.status}${hint}`);
  }
  if (/text\/html/i.test(res.headers.get('content-type') ?? ''))
    throw new UsageError(
      `cannot download ${path} from ${url}: the server answered with an HTML page, not the file (is HF_ENDPOINT a Hub mirror?)`,
    );
  return res;
}

/** Streams to a temporary file beside the target, checks length and digest, then renames into place. */
async function download(
  url: string,
  local: string,
  path: string,
  want: string | null,
  opts: HubOptions,
): Promise<string> {
  const res = await fetchHub(url, path, opts.vars);
  const total = Number(res.headers.get('content-length') ?? NaN);
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  mkdirSync(dirname(local), { recursive: true });
  const tmp = `${local}.part-${process.pid}`;
  const hash = createHash('sha256');
  let bytes = 0;
  let shownPct = -1;
  const out = createWriteStream(tmp);
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      bytes += chunk.length;
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      const pct = Number.isFinite(total) && total > PROGRESS_BYTES ? Math.floor((bytes / total) * 10) * 10 : -1;
      if (pct > shownPct) {
        shownPct = pct;
        log(`downloading ${path}: ${pct}% of ${(total / 1e6).toFixed(1)} MB`);
      }
    }
    await new Promise<void>((ok, fail) => out.end((e?: Error | null) => (e ? fail(e) : ok())));
  } catch (e) {
    out.destroy();
    rmSync(tmp, { force: true });
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot download ${path} from ${url}: ${(e as Error).message}`);
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
