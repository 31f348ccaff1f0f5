import { closeSync, openSync, renameSync, rmSync } from 'node:fs';
import { writeAllSync } from '../util/write.js';

/**
 * Every CSV gapbench writes goes through here, so every file is safe to open in Excel, WPS,
 * LibreOffice and Google Sheets:
 * - RFC 4180: CRLF between records; every text field quoted (so a comma, quote, CR, LF, TAB or
 *   semicolon inside one never splits it, whatever separator an import assumes), quotes doubled.
 * - Formula injection: a text cell starting with =, +, -, @, TAB or CR gets a leading ' (OWASP).
 *   Numbers we write are numbers and are left alone (a gap of -3.5 stays -3.5).
 * - Excel holds at most 32,767 characters a cell: longer text is cut at 32,000 characters (code
 *   points) with a visible marker.
 * - NUL characters are dropped (some importers stop reading at them).
 * - Numbers use '.' decimals, no thousands separators, no exponents, at most 6 significant digits
 *   (integers in full); NaN/Infinity are empty cells.
 * - `bom: true` writes a UTF-8 BOM so Excel reads Chinese text as UTF-8.
 */
export type CsvValue = string | number | boolean | null | undefined;

export const MAX_CELL = 32_000;
// Fullwidth ＝＋－＠ too: Apple Numbers and some Excel builds normalise them to formula starts.
const DANGEROUS = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

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

/**
 * A cell made safe: text is guarded and cut, numbers stay numbers. A string that is a plain decimal
 * (`-5`, `3.25`, not `007` or `1e5`) is written bare so it reads as the number it is; every other
 * string is quoted, so an import that treats quoted fields as text (LibreOffice: "Format quoted
 * field as text") keeps `007`, `1e5`, `12/05/2024` and `50%` as typed.
 */
type SafeCell = string | number | Bare;

/** A string written without quotes (a plain decimal). */
class Bare {
  constructor(readonly text: string) {}
}

const PLAIN_DECIMAL = /^-?(0|[1-9]\d{0,14})(\.\d{1,12})?$/;

export function safeCell(v: CsvValue): SafeCell {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  let s = v.includes('\u0000') ? v.replace(/\u0000/g, '') : v;
  if (PLAIN_DECIMAL.test(s)) return new Bare(s);
  if (DANGEROUS.test(s)) s = `'${s}`;
  if (s.length > MAX_CELL) s = truncate(s);
  return s;
}

/**
 * Cut to at most MAX_CELL UTF-16 units (Excel's limit counts those), never inside a surrogate pair;
 * the marker says how many characters (code points) were cut.
 */
function truncate(s: string): string {
  let keep = MAX_CELL - 40;
  const code = s.charCodeAt(keep - 1);
  if (code >= 0xd800 && code <= 0xdbff) keep--;
  let cut = 0;
  for (const _ of s.slice(keep)) cut++;
  return `${s.slice(0, keep)}…[truncated ${cut} chars]`;
}

/**
 * One cell as CSV text: numbers bare (formatNumber), plain decimals and plain column names bare,
 * every other text quoted with its quotes doubled. Every text field is quoted, so a comma, quote,
 * CR, LF, TAB or semicolon inside one never splits it, whatever separator an import assumes.
 */
function cellText(c: SafeCell): string {
  if (typeof c === 'number') return formatNumber(c);
  if (c instanceof Bare) return c.text;
  return `"${c.includes('"') ? c.replaceAll('"', '""') : c}"`;
}

/** Rows of cells already made safe (safeCell), as CSV text: each row ends with CRLF. */
export function csvRows(rows: readonly (readonly SafeCell[])[]): string {
  let out = '';
  for (const row of rows) out += `${row.map(cellText).join(',')}\r\n`;
  return out;
}

/** A column name: bare when it is a plain name (`score_gpt-4o`), else a safe text cell. */
function headerCell(name: string): SafeCell {
  return /^[A-Za-z_][\w.:/@ -]*$/.test(name) ? new Bare(name) : safeCell(name);
}

/** One row as CSV text, cells made safe, ending with CRLF. */
export function toLine(values: readonly CsvValue[]): string {
  return csvRows([values.map(safeCell)]);
}

/** Rows are written as arrays or records. */
interface CsvWriter {
  write(row: Record<string, CsvValue> | readonly CsvValue[]): void;
  /** Writes the rows still held in memory. */
  flush(): void;
  /** Writes what is left and moves the file into place. */
  close(): void;
  /** Drops the unfinished file (the previous one, if any, stays). */
  discard(): void;
}

const BATCH_ROWS = 256;
const BATCH_CHARS = 1 << 20;

/**
 * A CSV file written as rows come: rows are formatted in batches (at most 256 rows or about 1 MiB
 * of text) and appended with synchronous writes, so memory stays flat however large the file.
 */
/**
 * A CSV written to a temporary name beside `path` and renamed into place by `close()`, so a
 * failure (a full disk, a crash) never leaves a truncated file that looks complete: the old file
 * stays, or none. `discard()` drops the temporary file instead.
 */
export function openCsv(path: string, columns: readonly string[], opts: { bom?: boolean } = {}): CsvWriter {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  let open = true;
  let batch: SafeCell[][] = [columns.map(headerCell)];
  let chars = 0;
  const put = (text: string) => writeAllSync(fd, Buffer.from(text, 'utf8'), tmp);
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
      for (const c of cells) chars += typeof c === 'string' ? c.length : 16;
      batch.push(cells);
      if (batch.length >= BATCH_ROWS || chars >= BATCH_CHARS) flush();
    },
    flush,
    close() {
      try {
        flush();
      } catch (e) {
        this.discard();
        throw e;
      }
      open = false;
      closeSync(fd);
      renameSync(tmp, path);
    },
    discard() {
      if (!open) return;
      open = false;
      closeSync(fd);
      rmSync(tmp, { force: true });
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
  if (opts.header !== false) out += csvRows([columns.map(headerCell)]);
  for (const row of rows)
    out += toLine(Array.isArray(row) ? row : columns.map((c) => (row as Record<string, CsvValue>)[c]));
  return out;
}
