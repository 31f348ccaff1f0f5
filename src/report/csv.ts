import { closeSync, openSync } from 'node:fs';
import { writeAllSync } from '../util/write.js';

/**
 * Every CSV gapbench writes goes through here, so every file is safe to open in Excel, WPS,
 * LibreOffice and Google Sheets:
 * - RFC 4180: CRLF between records; fields with a comma, quote, CR or LF (bare or paired) are
 *   quoted, quotes doubled.
 * - Formula injection: a text cell starting with =, +, -, @, TAB or CR gets a leading ' (OWASP),
 *   except a plain negative number such as -3 or -0.5 (a literal, no formula).
 *   Numbers we write are numbers and are left alone (a gap of -3.5 stays -3.5).
 * - Excel holds at most 32,767 characters (UTF-16 units) a cell: longer text is cut at 32,000 with a
 *   visible marker that counts the characters (code points) dropped.
 * - NUL characters are dropped (some importers stop reading at them).
 * - Numbers use '.' decimals, no thousands separators, no exponents; NaN/Infinity are empty cells.
 * - `bom: true` writes a UTF-8 BOM so Excel reads Chinese text as UTF-8.
 */
export type CsvValue = string | number | boolean | null | undefined;

export const MAX_CELL = 32_000;
const DANGEROUS = /^[=+\-@\t\r]/;
// A plain negative number ("-3", "-0.5", "-1e3") is a literal, not a formula: left as it is, so
// `expected` and `extracted` stay numbers in a spreadsheet (issue 15). "-2+3" is still guarded.
const NEGATIVE_NUMBER = /^-(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return '';
  if (Number.isInteger(n)) return Math.abs(n) < 1e21 ? n.toFixed(0) : BigInt(n).toString();
  // Round away float noise (0.1 + 0.2), then print without an exponent.
  const rounded = Number(n.toPrecision(12));
  let s = rounded.toString();
  if (/e/i.test(s)) {
    const digits = Math.min(20, Math.max(0, 12 - Math.floor(Math.log10(Math.abs(rounded)))));
    s = rounded
      .toFixed(digits)
      .replace(/(\.\d*?)0+$/, '$1')
      .replace(/\.$/, '');
  }
  return s;
}

/** The text of one cell, made safe. */
export function safeCell(v: CsvValue): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  let s = v.includes('\u0000') ? v.replace(/\u0000/g, '') : v;
  if (DANGEROUS.test(s) && !NEGATIVE_NUMBER.test(s)) s = `'${s}`;
  if (s.length > MAX_CELL) s = truncate(s);
  return s;
}

/**
 * Cuts text to at most MAX_CELL UTF-16 units (the unit of Excel's cell limit), never inside a
 * surrogate pair; the marker counts the characters (code points) dropped, as a reader counts them.
 */
function truncate(s: string): string {
  const points = Array.from(s);
  let keep = 0;
  let units = 0;
  while (keep < points.length && units + points[keep].length <= MAX_CELL - 40) units += points[keep++].length;
  return `${points.slice(0, keep).join('')}…[truncated ${points.length - keep} chars]`;
}

/**
 * RFC 4180 quoting: a field is quoted when it holds a comma, a quote, a CR or an LF (a bare CR
 * or LF too: spreadsheets end a row at either), a TAB or a ';', and its quotes are doubled. The tests
 * check it byte for byte against csv-stringify (record_delimiter CRLF, quote_record_delimiter,
 * quoted_match for TAB and ';') on hostile
 * text; csv-stringify itself normalises its options on every call and costs about ten times
 * more per row, which made writing results.csv most of the time a run spent after its last answer.
 */
// TAB and ';' too: a Tab- or semicolon-separated import would otherwise split the field there and
// start a new cell after the guard (issue 15).
const NEEDS_QUOTES = /[",\r\n\t;]/;

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
