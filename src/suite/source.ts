import { readdirSync, statSync } from 'node:fs';
import { basename, extname, isAbsolute, join, relative, resolve } from 'node:path';
import type * as csvParse from 'csv-parse/sync';
import { requireCjs } from '../util/cjs.js';

// Both parsers load on first use: most suites are inline YAML, and a CLI's start-up is mostly module loading.
const parseCsv: typeof csvParse.parse = ((...args: Parameters<typeof csvParse.parse>) =>
  (requireCjs('csv-parse/sync') as typeof csvParse).parse(...args)) as typeof csvParse.parse;
import { FileError } from '../errors.js';
import { readBounded } from '../util/readfile.js';
import { isRecord } from '../util/record.js';
import type { RawSource } from './schema.js';
import { expandVars } from './template.js';

interface SourceRow {
  row: Record<string, unknown>;
  /** 0-based index of the row within its file. */
  index: number;
  /** 1-based line in the file where the row starts. */
  line: number;
  /** File name without extension (the MMLU subject, for example). */
  file: string;
  path: string;
}

const FORMATS = ['jsonl', 'csv', 'json', 'parquet'] as const;
type Format = (typeof FORMATS)[number];

/**
 * Resolves the source path: `${VAR}` values are taken relative to the working directory (that is
 * where the user typed them); a path written in the suite file is relative to the suite file.
 */
export function resolveSourcePath(
  source: RawSource,
  suiteFile: string,
  suiteDir: string,
  cwd: string,
  vars: Record<string, string | undefined>,
  line?: number,
): string | undefined {
  const expanded = expandVars(source.path, vars);
  if (expanded.missing.length && source.hub) return undefined;
  if (expanded.missing.length) {
    throw new FileError(
      suiteFile,
      line,
      `source.path: environment variable ${expanded.missing[0]} is not set (set it, or pass --set ${expanded.missing[0]}=PATH, to the file's location)`,
    );
  }
  const p = expanded.text;
  if (isAbsolute(p)) return p;
  return resolve(expanded.usedVar ? cwd : suiteDir, p);
}

/** Rows of downloaded Hub files; a file's name (for `{file}`) is its first folder, else its base name. */
export async function readHubRows(
  source: RawSource,
  files: { path: string; local: string }[],
  suiteFile: string,
  line?: number,
): Promise<SourceRow[]> {
  const out: SourceRow[] = [];
  for (const f of files) {
    // The Hub's files carry their format in their name (the suite's `format` is for the local path).
    const format = formatOf(f.path) ?? source.format;
    if (!format) throw new FileError(suiteFile, line, `source.format: cannot tell the format of ${f.path}`);
    const name = f.path.includes('/') ? f.path.split('/')[0] : basename(f.path, extname(f.path));
    out.push(...(await readFile(f.local, format, source, suiteFile, line, name)));
    if (source.limit && out.length >= source.limit) return out.slice(0, source.limit);
  }
  return out;
}

export async function readSourceRows(
  source: RawSource,
  path: string,
  suiteFile: string,
  line?: number,
): Promise<SourceRow[]> {
  let files: string[];
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new FileError(suiteFile, line, `source.path: ${path} does not exist`);
  }
  const format = source.format ?? formatOf(path);
  if (st.isDirectory()) {
    if (!format)
      throw new FileError(suiteFile, line, `source.format: set it (jsonl, csv or json) to read the directory ${path}`);
    files = readdirSync(path)
      .filter((f) => extname(f).toLowerCase() === `.${format}`)
      .sort()
      .map((f) => join(path, f));
    if (!files.length) throw new FileError(suiteFile, line, `source.path: no .${format} files in ${path}`);
  } else {
    if (!format)
      throw new FileError(
        suiteFile,
        line,
        `source.format: cannot tell the format of ${basename(path)} (set format: jsonl, csv, json or parquet)`,
      );
    files = [path];
  }
  const out: SourceRow[] = [];
  for (const f of files) {
    const rows = await readFile(f, format, source, suiteFile, line);
    out.push(...rows);
    if (source.limit && out.length >= source.limit) return out.slice(0, source.limit);
  }
  return out;
}

function formatOf(path: string): Format | undefined {
  const ext = extname(path).slice(1).toLowerCase();
  return (FORMATS as readonly string[]).includes(ext) ? (ext as Format) : ext === 'ndjson' ? 'jsonl' : undefined;
}

/** Largest source file a suite reads (its cases are held in memory): 256 MiB. */
export const MAX_SOURCE_BYTES = 256 * 1024 * 1024;

async function readFile(
  file: string,
  format: Format,
  source: RawSource,
  suiteFile: string,
  line?: number,
  name = basename(file, extname(file)),
): Promise<SourceRow[]> {
  const shown = relative(process.cwd(), file) || file;
  // Checked while reading, and special files (/dev/zero, FIFOs) refused before a byte is read.
  const bytes = readBounded(
    file,
    MAX_SOURCE_BYTES,
    shown,
    'cases are held in memory; split it, or use source.limit on a smaller file',
  );
  if (format === 'parquet') return readParquet(bytes, shown, name, file);
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  if (format === 'jsonl') {
    const rows: SourceRow[] = [];
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i].trim();
      if (!l) continue;
      let v: unknown;
      try {
        v = JSON.parse(l);
      } catch {
        throw new FileError(shown, i + 1, 'invalid JSON on this line');
      }
      if (!isRecord(v)) throw new FileError(shown, i + 1, 'each line must be a JSON object');
      rows.push({ row: v, index: rows.length, line: i + 1, file: name, path: file });
    }
    return rows;
  }
  if (format === 'json') {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      throw new FileError(shown, undefined, `invalid JSON (${(e as Error).message})`);
    }
    if (!Array.isArray(v)) throw new FileError(shown, undefined, 'expected a JSON array of objects');
    return v.map((row, index) => ({ row: row as Record<string, unknown>, index, line: 0, file: name, path: file }));
  }
  const header = source.header ?? !source.columns;
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parseCsv(text, {
      relax_column_count: true,
      skip_empty_lines: true,
      info: true,
      bom: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (e) {
    const err = e as Error & { lines?: number };
    throw new FileError(shown, err.lines, `invalid CSV (${err.message.split('\n')[0]})`);
  }
  let columns = source.columns;
  let start = 0;
  if (header) {
    const first = records[0]?.record;
    if (!first) return [];
    columns = columns ?? first.map((c) => c.trim());
    start = 1;
  }
  if (!columns) throw new FileError(suiteFile, line, 'source.columns: a CSV without a header needs column names');
  const rows: SourceRow[] = [];
  for (let i = start; i < records.length; i++) {
    const rec = records[i].record;
    const row: Record<string, unknown> = {};
    columns.forEach((c, j) => (row[c] = rec[j]));
    rows.push({ row, index: rows.length, line: records[i].info.lines, file: name, path: file });
  }
  return rows;
}

/** Parquet (the Hub's native dataset format), read with hyparquet; each row is an object of its columns. */
async function readParquet(bytes: Buffer, shown: string, name: string, file: string): Promise<SourceRow[]> {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let objects: Record<string, unknown>[];
  try {
    const { parquetReadObjects } = await import('hyparquet');
    objects = (await parquetReadObjects({ file: buffer })) as Record<string, unknown>[];
  } catch (e) {
    throw new FileError(shown, undefined, `not a readable parquet file (${(e as Error).message})`);
  }
  return objects.map((row, index) => ({ row: plain(row), index, line: 0, file: name, path: file }));
}

/** Parquet integers may arrive as bigint; templates and graders want numbers and strings. */
function plain(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = typeof v === 'bigint' ? Number(v) : v;
  return out;
}
