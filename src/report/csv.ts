import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { stringify as stringifySync } from 'csv-stringify/sync';

/**
 * Every CSV gapbench writes goes through here, so every file is safe to open in Excel, WPS,
 * LibreOffice and Google Sheets:
 * - RFC 4180: CRLF between records; fields with a comma, quote, CR or LF (bare or paired) are
 *   quoted, quotes doubled.
 * - Formula injection: a text cell starting with =, +, -, @, TAB or CR gets a leading ' (OWASP).
 *   Numbers we write are numbers and are left alone (a gap of -3.5 stays -3.5).
 * - Excel holds at most 32,767 characters a cell: longer text is cut at 32,000 with a visible marker.
 * - NUL characters are dropped (some importers stop reading at them).
 * - Numbers use '.' decimals, no thousands separators, no exponents; NaN/Infinity are empty cells.
 * - `bom: true` writes a UTF-8 BOM so Excel reads Chinese text as UTF-8.
 */
export type CsvValue = string | number | boolean | null | undefined;

export const MAX_CELL = 32_000;
const DANGEROUS = /^[=+\-@\t\r]/;

export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return '';
  if (Number.isInteger(n)) return Math.abs(n) < 1e21 ? n.toFixed(0) : BigInt(n).toString();
  // Round away float noise (0.1 + 0.2), then print without an exponent.
  const rounded = Number(n.toPrecision(12));
  let s = rounded.toString();
  if (/e/i.test(s)) {
    const digits = Math.min(20, Math.max(0, 12 - Math.floor(Math.log10(Math.abs(rounded)))));
    s = rounded.toFixed(digits).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
  }
  return s;
}

/** The text of one cell, made safe. */
export function safeCell(v: CsvValue): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  let s = v.includes('\u0000') ? v.replace(/\u0000/g, '') : v;
  if (DANGEROUS.test(s)) s = `'${s}`;
  if (s.length > MAX_CELL) s = truncate(s);
  return s;
}

function truncate(s: string): string {
  const cut = (keep: number) => `${s.slice(0, keep)}…[truncated ${s.length - keep} chars]`;
  let keep = MAX_CELL - 40;
  // Never split a surrogate pair.
  const code = s.charCodeAt(keep - 1);
  if (code >= 0xd800 && code <= 0xdbff) keep--;
  const out = cut(keep);
  return out.length <= MAX_CELL ? out : cut(keep - (out.length - MAX_CELL));
}

// csv-stringify quotes a field holding the record delimiter (CRLF), a comma or a quote, but not a
// bare LF or CR; spreadsheets end a row at either, so those cells are quoted too.
const OPTIONS = { record_delimiter: '\r\n', quoted_match: /[\r\n]/ } as const;

function toLine(values: readonly CsvValue[]): string {
  return stringifySync([values.map(safeCell)], OPTIONS);
}

/** Rows are written as arrays or records; csv-stringify does the RFC 4180 quoting. */
export interface CsvWriter {
  /** Returns a promise only when the rows went to the file and it asked to wait (backpressure). */
  write(row: Record<string, CsvValue> | readonly CsvValue[]): Promise<void> | void;
  close(): Promise<void>;
}

const BATCH_ROWS = 256;
const BATCH_CHARS = 1 << 20;

/**
 * A streaming CSV writer: rows are formatted in batches and go to disk as they come, so memory
 * stays flat for large runs (a batch is at most 256 rows or about 1 MiB of text).
 */
export function openCsv(path: string, columns: readonly string[], opts: { bom?: boolean } = {}): CsvWriter {
  const file = createWriteStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  let failed: Error | undefined;
  file.on('error', (e) => (failed ??= e));
  let batch: string[][] = [columns.map((c) => safeCell(c))];
  let chars = 0;
  if (opts.bom) file.write('\uFEFF');
  const flush = (): Promise<void> | void => {
    if (!batch.length) return;
    const text = stringifySync(batch, OPTIONS);
    batch = [];
    chars = 0;
    // Respect backpressure: a large results.csv must not pile up in memory ahead of the disk.
    if (!file.write(text) && !failed) return once(file, 'drain').then(() => undefined);
  };
  return {
    write(row) {
      if (failed) throw failed;
      const values = Array.isArray(row) ? row : columns.map((c) => (row as Record<string, CsvValue>)[c]);
      const cells = values.map(safeCell);
      for (const c of cells) chars += c.length;
      batch.push(cells);
      if (batch.length >= BATCH_ROWS || chars >= BATCH_CHARS) return flush();
    },
    async close() {
      await flush();
      await new Promise<void>((resolve, reject) => {
        file.on('finish', () => (failed ? reject(failed) : resolve()));
        file.on('error', reject);
        file.end();
      });
    },
  };
}

/** A whole CSV as a string (small files; history appends). */
export function toCsvString(columns: readonly string[], rows: readonly (Record<string, CsvValue> | readonly CsvValue[])[], opts: { bom?: boolean; header?: boolean } = {}): string {
  let out = opts.bom ? '\uFEFF' : '';
  if (opts.header !== false) out += toLine(columns);
  for (const row of rows) out += toLine(Array.isArray(row) ? row : columns.map((c) => (row as Record<string, CsvValue>)[c]));
  return out;
}
