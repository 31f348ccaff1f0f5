import { countsAsFailure, type JobRecord, type OkRecord } from '../journal/record.js';
import type { Group } from '../types.js';

export const RESULTS_COLUMNS = [
  'run_id',
  'suite',
  'case_id',
  'category',
  'model',
  'group',
  'provider',
  'repeat',
  'prompt',
  'expected',
  'output',
  'extracted',
  'grader',
  'score',
  'passed',
  'reason',
  'latency_ms',
  'input_tokens',
  'output_tokens',
  'reasoning_tokens',
  'finish_reason',
  'attempts',
  'cached',
  'error_kind',
  'error',
  'scored',
] as const satisfies readonly (keyof RecordRow)[];

/** Text form of an expected answer for a CSV cell (objects as compact JSON). */
export function expectedText(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** One row of results.csv: a job, flattened (the columns are documented in docs/outputs.md). */
export interface RecordRow {
  run_id: string;
  suite: string;
  case_id: string;
  category: string;
  model: string;
  group: Group;
  provider: string;
  repeat: number;
  prompt: string;
  expected: string;
  output: string;
  extracted: string;
  grader: string;
  score: number;
  passed: boolean;
  reason: string;
  latency_ms: number | undefined;
  input_tokens: number | undefined;
  output_tokens: number | undefined;
  reasoning_tokens: number | undefined;
  finish_reason: string | undefined;
  attempts: number;
  cached: boolean;
  /** The error's kind (`grader` when the answer came but could not be graded); empty when none. */
  error_kind: string;
  error: string;
  /** Whether the row enters the score: false for errors that say nothing about the model (grader, truncated, ...). */
  scored: boolean;
}

/** One results.csv row per job. */
export function resultRow(r: JobRecord): RecordRow {
  const ok = r.status === 'ok';
  // An error record keeps the answer when there was one (the grading failed, or it was cut to nothing).
  const a = r as JobRecord &
    Partial<
      Pick<OkRecord, 'output' | 'latency_ms' | 'input_tokens' | 'output_tokens' | 'finish_reason' | 'reasoning_tokens'>
    >;
  return {
    run_id: r.run_id,
    suite: r.suite,
    case_id: r.case_id,
    category: r.category,
    model: r.model,
    group: r.group,
    provider: r.provider,
    repeat: r.repeat,
    prompt: r.prompt,
    expected: expectedText(r.expected),
    output: a.output ?? '',
    extracted: r.grade.extracted ?? '',
    grader: r.grader,
    score: r.grade.score,
    passed: r.grade.passed,
    reason: r.grade.reason,
    latency_ms: a.latency_ms,
    input_tokens: a.input_tokens,
    output_tokens: a.output_tokens,
    reasoning_tokens: a.reasoning_tokens,
    finish_reason: a.finish_reason,
    attempts: r.attempts,
    cached: r.cached,
    error_kind: ok ? (r.grade.error ? 'grader' : '') : r.error.kind,
    error: ok ? (r.grade.error ? r.grade.reason : '') : r.error.message,
    scored: ok || countsAsFailure(r.error.kind),
  };
}
