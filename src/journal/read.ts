import { closeSync, constants, existsSync, openSync, readSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { open } from 'node:fs/promises';
import { isJobRecord, scoreOf, type ErrorRecord, type JobRecord } from './record.js';

const CHUNK = 1 << 20;
const JOB_ID = /"job_id":"([^"]+)"/;

interface Line {
  text: string;
  /** Byte offset of the line in the file, and its length in bytes (without the newline). */
  offset: number;
  bytes: number;
}

/**
 * Longest journal line read (a record holds one answer, bounded by maxResponseBytes, 16 MiB by
 * default, and JSON escaping can make it several times longer). A longer line is skipped as
 * damaged rather than held: a file without newlines (a journal replaced by /dev/zero's bytes)
 * must not fill memory.
 */
const MAX_LINE_BYTES = 256 * 1024 * 1024;

/**
 * The lines of a file, pulled chunk by chunk: nothing is read ahead of the consumer, so memory
 * stays flat however large the journal and however slow the consumer (readline's iterator
 * buffers lines it has already read). Each byte is scanned once: the pieces of a line that spans
 * chunks are kept apart and joined once, when its newline comes. A special file (FIFO, device,
 * directory) is refused before it is read. `stats.oversized` counts lines over `maxLine` (skipped).
 */
export async function* readLines(
  path: string,
  maxLine = MAX_LINE_BYTES,
  stats?: { oversized: number },
): AsyncGenerator<Line> {
  const fh = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    if (!(await fh.stat()).isFile()) throw new UsageError(`${path}: not a regular file`);
    let parts: Buffer[] = [];
    let partBytes = 0;
    let skipping = false; // inside a line over maxLine: drop bytes up to its newline
    let lineStart = 0; // file offset where the current line began
    let base = 0; // file offset of the chunk
    const take = (piece: Buffer) => {
      if (skipping) return;
      if (partBytes + piece.length > maxLine) {
        skipping = true;
        parts = [];
        partBytes = 0;
        if (stats) stats.oversized++;
        return;
      }
      if (piece.length) parts.push(Buffer.from(piece));
      partBytes += piece.length;
    };
    const finish = (): Line | undefined => {
      let data = skipping || partBytes === 0 ? undefined : Buffer.concat(parts, partBytes);
      parts = [];
      partBytes = 0;
      skipping = false;
      if (data && data[data.length - 1] === 0x0d) data = data.subarray(0, data.length - 1);
      return data?.length ? { text: data.toString('utf8'), offset: lineStart, bytes: data.length } : undefined;
    };
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      const data = buf.subarray(0, bytesRead);
      let start = 0;
      for (let nl = data.indexOf(0x0a, start); nl >= 0; nl = data.indexOf(0x0a, start)) {
        // A line inside one chunk is read straight from it, with no copy.
        if (partBytes === 0 && !skipping) {
          const end = nl > start && data[nl - 1] === 0x0d ? nl - 1 : nl;
          if (end - start > maxLine) {
            if (stats) stats.oversized++;
          } else if (end > start)
            yield { text: data.toString('utf8', start, end), offset: base + start, bytes: end - start };
        } else {
          take(data.subarray(start, nl));
          const line = finish();
          if (line) yield line;
        }
        start = nl + 1;
        lineStart = base + start;
      }
      take(data.subarray(start));
      base += bytesRead;
    }
    const line = finish();
    if (line) yield line;
  } finally {
    await fh.close();
  }
}

/**
 * Reads single lines back by offset (see `Line`), for writing records in another order. Reads are
 * synchronous: from the page cache they take microseconds, where a promise round trip per line
 * would cost ten times more. Lines asked for in sorted order usually lie near each other in the
 * file (a fresh run appends records roughly in case order), so a window of the file is read at once
 * and later lines inside it cost no system call. Several windows are kept (the least recently used
 * one moves): a journal made of parts, such as a merge of shards, is read in sorted order by
 * stepping through every part at once, each part in its own window.
 */
export function openLineReader(
  path: string,
  windowBytes = 1 << 16,
  windowCount = 32,
): { read(offset: number, bytes: number): string; bytes(offset: number, bytes: number): Buffer; close(): void } {
  const fd = openSync(path, 'r');
  const windows: { buf: Buffer; start: number; filled: number; used: number }[] = [];
  let clock = 0;
  let last: (typeof windows)[number] | undefined;
  const holds = (w: (typeof windows)[number], offset: number, n: number) =>
    offset >= w.start && offset + n <= w.start + w.filled;
  /** The bytes, as a view of a window: valid until the next call. */
  const bytes = (offset: number, n: number): Buffer => {
    let w = last && holds(last, offset, n) ? last : windows.find((x) => holds(x, offset, n));
    if (!w) {
      if (windows.length < windowCount)
        windows.push((w = { buf: Buffer.allocUnsafe(windowBytes), start: 0, filled: 0, used: 0 }));
      else w = windows.reduce((a, b) => (b.used < a.used ? b : a));
      if (n > w.buf.length) w.buf = Buffer.allocUnsafe(n);
      // A little before the line too: the lines wanted next may have been written just before it.
      w.start = Math.max(0, offset - (w.buf.length >> 3), offset + n - w.buf.length);
      w.filled = readSync(fd, w.buf, 0, w.buf.length, w.start);
      if (offset + n > w.start + w.filled)
        throw new Error(`${path}: line at byte ${offset} is past the end of the file`);
    }
    w.used = ++clock;
    last = w;
    return w.buf.subarray(offset - w.start, offset - w.start + n);
  };
  return {
    read: (offset, n) => bytes(offset, n).toString('utf8'),
    bytes,
    close: () => closeSync(fd),
  };
}

/** A journal line as a record, or undefined for a torn or foreign line. */
function parseRecord(line: string): JobRecord | undefined {
  try {
    const v: unknown = JSON.parse(line);
    return isJobRecord(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Streams the records of a journal, one at a time; a torn or foreign line is skipped. */
export async function* readRecords(path: string, stats?: { damaged: number }): AsyncGenerator<JobRecord> {
  for await (const { record } of readRecordLines(path, false, stats)) yield record;
}

/** Each record with where its line stands in the file; `latestOnly` keeps a job's newest record. */
export async function* readRecordLines(
  path: string,
  latestOnly: boolean,
  stats?: { damaged: number },
): AsyncGenerator<{ record: JobRecord; line: Line }> {
  if (!existsSync(path)) return;
  let last: Map<string, number> | undefined;
  if (latestOnly) {
    // First pass: only each job's last line (a regex, no JSON parse). A job recorded twice comes
    // from a resume with --retry-errors; its newer record wins.
    last = new Map();
    let lineNo = 0;
    let duplicates = false;
    for await (const line of readLines(path)) {
      const m = JOB_ID.exec(line.text);
      if (m) {
        if (!last.has(m[1])) last.set(m[1], lineNo);
        // A later line of the same job wins only if it is whole: a torn copy never hides a valid record.
        else if (parseRecord(line.text)) {
          duplicates = true;
          last.set(m[1], lineNo);
        }
      }
      lineNo++;
    }
    if (!duplicates) last = undefined;
  }
  let lineNo = 0;
  const over = { oversized: 0 };
  for await (const line of readLines(path, MAX_LINE_BYTES, over)) {
    const at = lineNo++;
    if (last) {
      const m = JOB_ID.exec(line.text);
      if (!m || last.get(m[1]) !== at) continue;
    }
    const record = parseRecord(line.text);
    if (record) yield { record, line };
    else if (stats && line.text.trim() !== '') stats.damaged++;
  }
  if (stats) stats.damaged += over.oversized;
}

/** What a resume needs to know of a job already recorded. */
interface RecordedJob {
  status: 'ok' | 'error';
  model: string;
  suite: string;
  caseId: string;
  repeat: number;
  /** A stored answer whose grading failed (error kind `grader`): a retry grades it again without asking the model. */
  answer?: ErrorRecord;
  /** A sequential run's answer: its case's position and score (undefined: an error left out of scores). */
  seq?: { pos: number; score: number | undefined };
}

export type RecordedJobs = Map<string, RecordedJob>;

/** job_id -> its latest record's status and identity, for resume. */
export async function recordedJobs(path: string, stats?: { damaged: number }): Promise<RecordedJobs> {
  const out: RecordedJobs = new Map();
  for await (const r of readRecords(path, stats)) {
    const answer = r.status === 'error' && r.error.kind === 'grader' && r.output !== undefined ? r : undefined;
    out.set(r.job_id, {
      status: r.status,
      model: r.model,
      suite: r.suite,
      caseId: r.case_id,
      repeat: r.repeat,
      ...(answer ? { answer } : {}),
      ...(r.seq_pos === undefined ? {} : { seq: { pos: r.seq_pos, score: scoreOf(r) } }),
    });
  }
  return out;
}

/** The latest record of each job, in journal order, with flat memory (see readRecordLines). */
export async function* readLatestRecords(path: string): AsyncGenerator<JobRecord> {
  for await (const { record } of readRecordLines(path, true)) yield record;
}
