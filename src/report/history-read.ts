/**
 * history.csv read as a log other tools may have touched: CRLF, LF and CR line ends mixed, a last
 * row cut off mid-write, rows with more cells than the header. What is valid is read, every row
 * left out is counted with its line and reason, and nothing here throws on content.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';

/** history.csv is read up to this size (about a million rows); the rest is reported as skipped. */
export const HISTORY_MAX_BYTES = 256 * 1024 * 1024;

interface HistoryRead {
  rows: Record<string, string>[];
  /** One line per row left out: `line N: why`. */
  skipped: string[];
}

/** Reads history.csv; a missing file is an empty history. */
export function readHistoryFile(path: string): HistoryRead {
  if (!existsSync(path)) return { rows: [], skipped: [] };
  const size = statSync(path).size;
  const fd = openSync(path, 'r');
  let text: string;
  try {
    const buf = Buffer.alloc(Math.min(size, HISTORY_MAX_BYTES));
    const got = readSync(fd, buf, 0, buf.length, 0);
    text = buf.toString('utf8', 0, got);
  } finally {
    closeSync(fd);
  }
  const out = parseHistory(text);
  if (size > HISTORY_MAX_BYTES) out.skipped.push(`bytes after ${HISTORY_MAX_BYTES}: file too large, not read`);
  return out;
}

/** The valid rows of history.csv text (see the file comment). */
function parseHistory(text: string): HistoryRead {
  const records = splitRecords(text.replace(/^\uFEFF/, ''));
  const skipped: string[] = [];
  const header = records.shift();
  if (!header || !header.complete || !header.cells.includes('run_id'))
    return { rows: [], skipped: header ? ['line 1: no header with run_id'] : [] };
  const names = header.cells;
  const rows: Record<string, string>[] = [];
  for (const r of records) {
    if (r.cells.length === 1 && r.cells[0] === '') continue;
    if (!r.complete) skipped.push(`line ${r.line}: cut off (no end of line or an unclosed quote)`);
    else if (r.cells.length < names.length) skipped.push(`line ${r.line}: ${r.cells.length} of ${names.length} cells`);
    else {
      const row: Record<string, string> = {};
      names.forEach((n, i) => (row[n] = r.cells[i]));
      if (!row.run_id) skipped.push(`line ${r.line}: no run_id`);
      else if ('score' in row && !Number.isFinite(Number(row.score)))
        skipped.push(`line ${r.line}: score '${row.score.slice(0, 20)}' is not a number`);
      else rows.push(row);
    }
  }
  return { rows, skipped };
}

interface RawRecord {
  cells: string[];
  line: number;
  /** Ended by a line break (a last row without one is complete only when it parses whole). */
  complete: boolean;
}

/** RFC 4180 records with any of CRLF, LF or CR ending a record outside quotes. */
export function splitRecords(text: string): RawRecord[] {
  const out: RawRecord[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let i = 0;
  const end = (complete: boolean) => {
    cells.push(cell);
    out.push({ cells, line: start, complete });
    cells = [];
    cell = '';
  };
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') ((cell += '"'), (i += 2));
      else if (ch === '"') ((quoted = false), i++);
      else {
        if (ch === '\n' || (ch === '\r' && text[i + 1] !== '\n')) line++;
        cell += ch;
        i++;
      }
      continue;
    }
    if (ch === '"') ((quoted = true), i++);
    else if (ch === ',') (cells.push(cell), (cell = ''), i++);
    else if (ch === '\r' || ch === '\n') {
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
      end(true);
      start = ++line;
    } else ((cell += ch), i++);
  }
  // gapbench ends every row with CRLF: a last record without a line break is a write cut short.
  if (cell !== '' || cells.length || quoted) end(false);
  return out;
}
