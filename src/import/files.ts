/**
 * Every file the promptfoo import reads: contained (below the promptfoo config's directory, or
 * below a directory the user named with --allow-outside), a regular file (no directory, FIFO or
 * device), read with a bound checked while reading, and parsed so that any error is one line
 * naming the file (exit 2), never an unexpected error.
 */
import { closeSync, openSync, readSync, realpathSync, statSync, constants } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type * as csvParse from 'csv-parse/sync';
import { FileError, UsageError } from '../errors.js';
import { requireCjs } from '../util/cjs.js';
import { parseYamlText } from '../util/yamlfile.js';
import { formatPath } from '../util/zodmsg.js';

const { parse: parseCsv } = requireCjs('csv-parse/sync') as typeof csvParse;

/** Largest file the import reads (a promptfoo config, prompt, tests file or var): 32 MiB. */
const MAX_IMPORT_BYTES = 32 * 1024 * 1024;

export interface ReadRoots {
  /** The promptfoo config's directory (real path). */
  dir: string;
  /** Directories named with --allow-outside (real paths). */
  allowed: readonly string[];
}

const inside = (root: string, p: string) => {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
};

/** The real path of a directory given on the command line, for ReadRoots. */
export function realDir(path: string, what: string): string {
  try {
    const real = realpathSync(path);
    if (!statSync(real).isDirectory()) throw new UsageError(`${what}: ${path} is not a directory`);
    return real;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${what}: ${path} does not exist`);
  }
}

/**
 * Where a `file://` reference (relative to the config's directory, or absolute) points, checked:
 * it exists and resolves (symbolic links followed) inside the config's directory or an allowed one.
 */
export function containedPath(ref: string, roots: ReadRoots, what: string): string {
  const raw = ref.replace(/^file:\/\//, '');
  const path = resolve(roots.dir, raw);
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw new UsageError(`${what}: ${ref} does not exist (looked for ${path})`);
  }
  if (!inside(roots.dir, real) && !roots.allowed.some((r) => inside(r, real)))
    throw new UsageError(
      `${what}: ${ref} is outside the promptfoo config's directory (${roots.dir}); the import reads only files below it (pass --allow-outside DIR to allow another directory)`,
    );
  return real;
}

/** A regular file's text, read with the size bound checked while reading (a growing file cannot pass it). */
export function readBounded(path: string, shown: string): string {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new UsageError(`${shown}: file not found`);
  }
  if (st.isDirectory()) throw new UsageError(`${shown}: is a directory, not a file`);
  if (!st.isFile()) throw new UsageError(`${shown}: not a regular file (a device, FIFO or socket is not read)`);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new UsageError(`${shown}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.alloc(Math.min(1 << 20, MAX_IMPORT_BYTES + 1 - total));
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
      if (total > MAX_IMPORT_BYTES) throw new UsageError(`${shown}: over ${MAX_IMPORT_BYTES} bytes, not imported`);
    }
    const bytes = Buffer.concat(chunks);
    if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
      throw new UsageError(`${shown}: is UTF-16 encoded: save it as UTF-8`);
    return bytes.toString('utf8').replace(/^\uFEFF/, '');
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${shown}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  } finally {
    closeSync(fd);
  }
}

/** YAML (JSON is YAML) or JSON by extension; a syntax error or an alias bomb names the file and line. */
export function parseData(text: string, shown: string): unknown {
  if (/\.json$/i.test(shown)) {
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw new FileError(shown, undefined, `invalid JSON (${(e as Error).message.split('\n')[0]})`);
    }
  }
  if (/\.jsonl$/i.test(shown)) {
    return text.split('\n').flatMap((line, i) => {
      if (!line.trim()) return [];
      try {
        return [JSON.parse(line) as unknown];
      } catch (e) {
        throw new FileError(shown, i + 1, `invalid JSON (${(e as Error).message.split('\n')[0]})`);
      }
    });
  }
  return parseYamlText(text, shown).data;
}

/** Names a field of a file as `file:line: path` (the line when the file is YAML). */
export type Locate = (path: readonly (string | number)[]) => string;

/** Data and a locator for its fields. */
export function parseLocated(text: string, shown: string): { data: unknown; locate: Locate } {
  if (/\.jsonl?$/i.test(shown))
    return { data: parseData(text, shown), locate: (path) => `${shown}: ${formatPath(path)}` };
  const yaml = parseYamlText(text, shown);
  return {
    data: yaml.data,
    locate: (path) => {
      const line = yaml.lineOf(path);
      return `${shown}${line ? `:${line}` : ''}: ${formatPath(path)}`;
    },
  };
}

export function parseCsvRows(text: string, shown: string): Record<string, string>[] {
  try {
    return parseCsv(text, { columns: true, skip_empty_lines: true, bom: true }) as Record<string, string>[];
  } catch (e) {
    throw new FileError(shown, undefined, `invalid CSV (${(e as Error).message.split('\n')[0]})`);
  }
}
