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
  const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
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

/**
 * Reads every record, keeping only the latest per job (a resumed run with --retry-errors appends a
 * newer record for a job that had failed). Holds one record per job in memory; for reports that
 * must stay flat, use `latestLineNumbers` + a second streaming pass.
 */
export async function latestLineIndex(path: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let i = 0;
  for await (const r of readRecords(path)) out.set(r.job_id, i++);
  return out;
}

/** Streams the latest record of each job, in journal order (two passes, flat memory). */
export async function* readLatestRecords(path: string): AsyncGenerator<JobRecord> {
  const latest = await latestLineIndex(path);
  let i = 0;
  for await (const r of readRecords(path)) {
    if (latest.get(r.job_id) === i++) yield r;
  }
}
