import { closeSync, openSync, writeSync } from 'node:fs';
import type * as csvStringify from 'csv-stringify/sync';
import { requireCjs } from '../util/cjs.js';

const { stringify: stringifySync } = requireCjs('csv-stringify/sync') as typeof csvStringify;

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

// With a custom record_delimiter csv-stringify quotes a bare LF or CR only when asked
// (quote_record_delimiter); spreadsheets end a row at either, so those cells must be quoted.
const OPTIONS = { record_delimiter: '\r\n', quote_record_delimiter: true } as const;

function toLine(values: readonly CsvValue[]): string {
  return stringifySync([values.map(safeCell)], OPTIONS);
}

/** Rows are written as arrays or records; csv-stringify does the RFC 4180 quoting. */
export interface CsvWriter {
  write(row: Record<string, CsvValue> | readonly CsvValue[]): void;
  /** Writes the rows still held in memory. */
  flush(): void;
  close(): void;
}

const BATCH_ROWS = 256;
const BATCH_CHARS = 1 << 20;

/**
 * A CSV file written as rows come: rows are formatted in batches (at most 256 rows or about 1 MiB
 * of text) and appended with synchronous writes, so memory stays flat however large the file.
 */
export function openCsv(path: string, columns: readonly string[], opts: { bom?: boolean } = {}): CsvWriter {
  const fd = openSync(path, 'w');
  let batch: string[][] = [columns.map((c) => safeCell(c))];
  let chars = 0;
  const put = (text: string) => {
    const buf = Buffer.from(text, 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
  };
  if (opts.bom) put('\uFEFF');
  const flush = (): void => {
    if (!batch.length) return;
    const text = stringifySync(batch, OPTIONS);
    batch = [];
    chars = 0;
    put(text);
  };
  return {
    write(row) {
      const values = Array.isArray(row) ? row : columns.map((c) => (row as Record<string, CsvValue>)[c]);
      const cells = values.map(safeCell);
      for (const c of cells) chars += c.length;
      batch.push(cells);
      if (batch.length >= BATCH_ROWS || chars >= BATCH_CHARS) flush();
    },
    flush,
    close() {
      try {
        flush();
      } finally {
        closeSync(fd);
      }
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
