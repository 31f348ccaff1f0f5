import { ERROR_KINDS } from '../errors.js';
import type { Usage } from './cost.js';
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
  /** Secret values (key, header values, URL credentials) the answer echoed, cut before it was stored. */
  redacted?: number;
  /** Unix ms of the request's start and end, for busy-time (hourly cost) accounting. */
  t_start: number;
  t_end: number;
  /** The shard (1-based) that ran the job, in a sharded run: each shard's machine is billed for its own busy time. */
  shard?: number;
  /** A sequential run (--until-decided, ...): the case's position in its suite's pre-drawn order. */
  seq_pos?: number;
  /** A sequential run: the answer came after its suite's stop rule fired (not part of the sequence). */
  after_stop?: true;
}

export interface OkRecord extends JobRecordBase, AnswerTimings {
  status: 'ok';
  output: string;
  latency_ms: number;
  input_tokens?: number;
  output_tokens?: number;
  finish_reason?: string;
  /** Reasoning the server returned beside the answer; kept for reading, never graded. */
  reasoning?: string;
  reasoning_tokens?: number;
  /** The last error kind when the job needed retries. */
  last_error_kind?: ErrorKind;
  /** The vendor batch that answered (batch mode): its tokens cost the batch price. */
  batch_id?: string;
}

/**
 * How a streamed answer came, and what a local server said of its own work (absent when not
 * streamed or not reported). Times in ms from sending the request.
 */
export interface AnswerTimings {
  /** Time to the first token, reasoning or answer. */
  ttft_ms?: number;
  /** Time to the first token of the answer itself, after any thinking. */
  ttft_content_ms?: number;
  /** Output tokens per second from the first token to the last. */
  decode_tps?: number;
  /** Ollama's model load (`load_duration`). */
  load_ms?: number;
  /** Reading the prompt (Ollama `prompt_eval_duration`, llama.cpp `timings.prompt_ms`). */
  prompt_eval_ms?: number;
  /** Generating (Ollama `eval_duration`, llama.cpp `timings.predicted_ms`). */
  eval_ms?: number;
  /** The model was loaded for this answer: `load_ms` is left out of latency and busy time. */
  cold_load?: true;
}

export interface ErrorRecord extends JobRecordBase, AnswerTimings {
  status: 'error';
  error: { kind: ErrorKind; message: string };
  /** The model's answer when there was one (kind `grader`: the grading failed; `truncated`: cut to nothing). */
  output?: string;
  reasoning?: string;
  finish_reason?: string;
  latency_ms?: number;
  input_tokens?: number;
  output_tokens?: number;
  reasoning_tokens?: number;
}

/** Whether an error counts as a wrong answer (see ERROR_KINDS for which do and why). */
export function countsAsFailure(kind: ErrorKind): boolean {
  return ERROR_KINDS[kind].scored;
}

export type JobRecord = OkRecord | ErrorRecord;

/** The score a record counts with in every report, or undefined for an error left out of scores. */
export function scoreOf(r: JobRecord): number | undefined {
  return r.status === 'error' && !countsAsFailure(r.error.kind) ? undefined : r.grade.score;
}

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

/** A record's tokens as the cost is computed from them (the same for the grader and the reports). */
export function recordUsage(r: { input_tokens?: number; output_tokens?: number; batch_id?: string }): Usage {
  return { inputTokens: r.input_tokens, outputTokens: r.output_tokens, batched: r.batch_id !== undefined };
}
