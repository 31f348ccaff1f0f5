import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { isJobRecord, type JobRecord } from './record.js';

const CHUNK = 1 << 20;

/**
 * The lines of a file, pulled chunk by chunk: nothing is read ahead of the consumer, so memory
 * stays flat however large the journal and however slow the consumer (readline's iterator
 * buffers lines it has already read).
 */
export async function* readLines(path: string): AsyncGenerator<string> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let rest: Buffer<ArrayBufferLike> = Buffer.alloc(0);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      let data: Buffer<ArrayBufferLike> = rest.length ? Buffer.concat([rest, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
      let start = 0;
      for (let nl = data.indexOf(0x0a, start); nl >= 0; nl = data.indexOf(0x0a, start)) {
        const end = nl > start && data[nl - 1] === 0x0d ? nl - 1 : nl;
        if (end > start) yield data.toString('utf8', start, end);
        start = nl + 1;
      }
      rest = Buffer.from(data.subarray(start));
      data = rest;
    }
    if (rest.length) yield rest.toString('utf8');
  } finally {
    await fh.close();
  }
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
export async function* readRecords(path: string): AsyncGenerator<JobRecord> {
  if (!existsSync(path)) return;
  for await (const line of readLines(path)) {
    const r = parseRecord(line);
    if (r) yield r;
  }
}

/** job_id -> status of its latest record, for resume. */
export async function recordedJobs(path: string): Promise<Map<string, 'ok' | 'error'>> {
  const out = new Map<string, 'ok' | 'error'>();
  for await (const r of readRecords(path)) out.set(r.job_id, r.status);
  return out;
}

const JOB_ID = /"job_id":"([^"]+)"/;

/**
 * Streams the latest record of each job, in journal order, in two passes with flat memory: the
 * first pass only finds each job's last line (a regex, no JSON parse), the second yields those.
 * A job recorded twice comes from a resume with --retry-errors; its newer record wins.
 */
export async function* readLatestRecords(path: string): AsyncGenerator<JobRecord> {
  if (!existsSync(path)) return;
  const last = new Map<string, number>();
  let lineNo = 0;
  let duplicates = false;
  for await (const line of readLines(path)) {
    const m = JOB_ID.exec(line);
    if (m) {
      if (last.has(m[1])) duplicates = true;
      last.set(m[1], lineNo);
    }
    lineNo++;
  }
  if (!duplicates) {
    yield* readRecords(path);
    return;
  }
  lineNo = 0;
  for await (const line of readLines(path)) {
    const at = lineNo++;
    const m = JOB_ID.exec(line);
    if (!m || last.get(m[1]) !== at) continue;
    const r = parseRecord(line);
    if (r) yield r;
  }
}
