import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VERSION } from '../version.js';

/**
 * Parsed YAML files by the hash of their bytes, as JSON. Parsing YAML is most of a suite's load
 * time (the bundled suites: ~100 ms each on a cold process); JSON.parse of the same data is a few
 * ms. Entries are content-addressed, so an edited file is simply a miss; the key includes the
 * gapbench version, whose parser settings made the entry. Failing to read or write the cache is
 * never an error: the file is parsed as before.
 */
const DIR = 'parsed';
/** Entries kept: a directory of edited suites' old versions does not grow without end. */
const MAX_ENTRIES = 500;

function entryPath(cacheDir: string, text: string): string {
  const key = createHash('sha256').update(`${VERSION}\u0000${text}`).digest('hex').slice(0, 40);
  return join(cacheDir, DIR, `${key}.json`);
}

/**
 * Entries made at build time for the bundled suites (`npm run build` runs scripts/preparse.mjs):
 * a new user's first `gapbench suites` starts warm. Beside the compiled code, in dist/.
 */
const SHIPPED_DIR = fileURLToPath(new URL('..', import.meta.url));

export function cachedParse(cacheDir: string, text: string): unknown {
  for (const dir of [cacheDir, SHIPPED_DIR]) {
    try {
      return (JSON.parse(readFileSync(entryPath(dir, text), 'utf8')) as { data: unknown }).data;
    } catch {
      /* not there: the next place, else parse */
    }
  }
  return undefined;
}

export function storeParse(cacheDir: string, text: string, data: unknown): void {
  // Only data that JSON carries unchanged (.inf, .nan and -0 do not round-trip): the rest is parsed each time.
  if (!jsonSafe(data)) return;
  const path = entryPath(cacheDir, text);
  try {
    mkdirSync(join(cacheDir, DIR), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ data }));
    renameSync(tmp, path);
    prune(join(cacheDir, DIR));
  } catch {
    /* a read-only or full cache directory costs speed only */
  }
}

function jsonSafe(v: unknown, depth = 0): boolean {
  if (depth > 200) return false;
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0);
  if (Array.isArray(v)) return v.every((x) => jsonSafe(x, depth + 1));
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype)
    return Object.entries(v as Record<string, unknown>).every(([k, x]) => k !== '__proto__' && jsonSafe(x, depth + 1));
  return false;
}

function prune(dir: string): void {
  const names = readdirSync(dir);
  if (names.length <= MAX_ENTRIES) return;
  const byAge = names
    .map((n) => ({ n, t: statSync(join(dir, n)).mtimeMs }))
    .sort((a, b) => a.t - b.t)
    .slice(0, names.length - MAX_ENTRIES);
  for (const { n } of byAge) rmSync(join(dir, n), { force: true });
}
