import type { ErrorKind, Grade, Group } from '../types.js';

/**
 * One line of records.jsonl: a finished job. The journal is the source of truth; every CSV is
 * derived from these lines (`gapbench report` rebuilds them). Success and failure are told apart
 * by `status`, never by which optional fields happen to be set.
 */
export interface JobRecordBase {
  v: 1;
  job_id: string;
  run_id: string;
  suite: string;
  case_id: string;
  /** Position of the case in its suite (keeps CSV rows in suite order). */
  case_index: number;
  category: string;
  model: string;
  group: Group;
  provider: string;
  model_name: string;
  repeat: number;
  prompt: string;
  system?: string;
  expected?: unknown;
  grader: string;
  grade: Grade;
  attempts: number;
  cached: boolean;
  started_at: string;
  finished_at: string;
  /** Unix ms of the request's start and end, for busy-time (hourly cost) accounting. */
  t_start: number;
  t_end: number;
}

export interface OkRecord extends JobRecordBase {
  status: 'ok';
  output: string;
  latency_ms: number;
  input_tokens?: number;
  output_tokens?: number;
  finish_reason?: string;
  /** The last error kind when the job needed retries. */
  last_error_kind?: ErrorKind;
}

export interface ErrorRecord extends JobRecordBase {
  status: 'error';
  error: { kind: ErrorKind; message: string };
}

export type JobRecord = OkRecord | ErrorRecord;

export function isJobRecord(v: unknown): v is JobRecord {
  const r = v as Partial<JobRecord> | null;
  return (
    !!r &&
    typeof r === 'object' &&
    r.v === 1 &&
    typeof r.job_id === 'string' &&
    (r.status === 'ok' || r.status === 'error') &&
    typeof r.grade === 'object'
  );
}

/** Where records go: the journal, or memory for a library run that writes no directory. */
export interface RecordSink {
  /** Stores one record before it counts; returns where its line starts and its length in bytes. */
  append(record: JobRecord): { offset: number; bytes: number };
}
