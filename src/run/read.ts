import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { isJobRecord, type JobRecord } from './record.js';

/**
 * Streams the records of a journal, one at a time (memory stays flat however long the run).
 * A job recorded twice (a resumed run that re-ran errors) yields its last record only when
 * `latestOnly` is set; a torn or foreign line is skipped and counted.
 */
export async function* readRecords(path: string): AsyncGenerator<JobRecord> {
  if (!existsSync(path)) return;
  const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 }), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      continue;
    }
    if (isJobRecord(v)) yield v;
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
  for await (const line of createInterface({ input: createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 }), crlfDelay: Infinity })) {
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
  for await (const line of createInterface({ input: createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 }), crlfDelay: Infinity })) {
    const at = lineNo++;
    const m = JOB_ID.exec(line);
    if (!m || last.get(m[1]) !== at) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      continue;
    }
    if (isJobRecord(v)) yield v;
  }
}
