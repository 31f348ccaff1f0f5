import { closeSync, openSync } from 'node:fs';
import { writeAllSync } from '../util/write.js';

/**
 * Every CSV gapbench writes goes through here, so every file is safe to open in Excel, WPS,
 * LibreOffice and Google Sheets:
 * - RFC 4180: CRLF between records; fields with a comma, quote, CR or LF (bare or paired) are
 *   quoted, quotes doubled.
 * - Formula injection: a text cell starting with =, +, -, @, TAB or CR gets a leading ' (OWASP).
 *   Numbers we write are numbers and are left alone (a gap of -3.5 stays -3.5).
 * - Excel holds at most 32,767 characters a cell: longer text is cut at 32,000 with a visible marker.
 * - NUL characters are dropped (some importers stop reading at them).
 * - Numbers use '.' decimals, no thousands separators, no exponents, at most 6 significant digits
 *   (integers in full); NaN/Infinity are empty cells.
 * - `bom: true` writes a UTF-8 BOM so Excel reads Chinese text as UTF-8.
 */
export type CsvValue = string | number | boolean | null | undefined;

export const MAX_CELL = 32_000;
const DANGEROUS = /^[=+\-@\t\r]/;

/**
 * A number as a CSV cell: integers in full; other numbers to 6 significant digits and at most 12
 * decimals (so float noise such as a gap of -1.1e-14 prints as 0), never with an exponent, and
 * never as -0.
 */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return '';
  if (Number.isInteger(n)) return Math.abs(n) < 1e21 ? (n === 0 ? '0' : n.toFixed(0)) : BigInt(n).toString();
  const r = Number(n.toPrecision(6));
  if (Math.abs(r) < 5e-13) return '0';
  const digits = Math.min(12, Math.max(0, 5 - Math.floor(Math.log10(Math.abs(r)))));
  const s = r.toFixed(digits);
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
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

/**
 * RFC 4180 quoting: a field is quoted when it holds a comma, a quote, a CR or an LF (a bare CR
 * or LF too: spreadsheets end a row at either), and its quotes are doubled. The tests check it
 * byte for byte against csv-stringify (record_delimiter CRLF, quote_record_delimiter) on hostile
 * text; csv-stringify itself normalises its options on every call and costs about ten times
 * more per row, which made writing results.csv most of the time a run spent after its last answer.
 */
const NEEDS_QUOTES = /[",\r\n]/;

function field(s: string): string {
  return NEEDS_QUOTES.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Rows of cells already made safe (safeCell), as CSV text: each row ends with CRLF. */
export function csvRows(rows: readonly (readonly string[])[]): string {
  let out = '';
  for (const row of rows) {
    for (let i = 0; i < row.length; i++) out += i ? `,${field(row[i])}` : field(row[i]);
    out += '\r\n';
  }
  return out;
}

/** One row as CSV text, cells made safe, ending with CRLF. */
export function toLine(values: readonly CsvValue[]): string {
  return csvRows([values.map(safeCell)]);
}

/** Rows are written as arrays or records. */
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
  const put = (text: string) => writeAllSync(fd, Buffer.from(text, 'utf8'));
  if (opts.bom) put('\uFEFF');
  const flush = (): void => {
    if (!batch.length) return;
    const text = csvRows(batch);
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
export function toCsvString(
  columns: readonly string[],
  rows: readonly (Record<string, CsvValue> | readonly CsvValue[])[],
  opts: { bom?: boolean; header?: boolean } = {},
): string {
  let out = opts.bom ? '\uFEFF' : '';
  if (opts.header !== false) out += toLine(columns);
  for (const row of rows)
    out += toLine(Array.isArray(row) ? row : columns.map((c) => (row as Record<string, CsvValue>)[c]));
  return out;
}
