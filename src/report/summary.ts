import type { Group, Price } from '../types.js';
import { busyTime, cellKey, type Aggregate, type CaseEntry, type Cell } from './aggregate.js';
import { boundedMeanInterval } from './score-tests.js';
import { pairedT, percentile, wilson, type Interval } from './stats.js';

export interface SummaryRow {
  run_id: string;
  suite: string;
  model: string;
  group: Group;
  provider: string;
  /** Answers scored (error records that count as failures included). */
  n: number;
  /** Cases with at least one scored answer: the unit of every interval and test. */
  n_cases: number;
  passed: number;
  /** Mean over cases of each case's mean score over its repeats. */
  score: number;
  ci_low: number;
  ci_high: number;
  /** `wilson` (pass/fail), `t` (graded, 100 cases or more) or `bounded` (graded, fewer cases or no spread). */
  ci_method: 'wilson' | 't' | 'bounded';
  /** Share of cases whose repeats all scored the same (1 without repeats). */
  consistency: number;
  /** Every error record; `excluded` of them are left out of the score. */
  errors: number;
  excluded: number;
  truncated: number;
  empty: number;
  /** The most frequent error, `kind: message`. */
  top_error: string | undefined;
  /** Answers taken from the response cache instead of the model. */
  cached: number;
  latency_p50_ms: number;
  latency_p95_ms: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number | undefined;
  cost_per_correct_usd: number | undefined;
  tokens_per_s: number | undefined;
  /** The reasoning setting the model ran at (`high`, `off`, `budget 2048`, `default (thinks)`; from the manifest). */
  reasoning?: string;
  /** Mean reasoning tokens per answer, over the answers whose usage reported them. */
  reasoning_tokens_per_answer?: number;
  /** Streamed answers: time to first token (reasoning or answer), median and 95th percentile. */
  ttft_p50_ms: number;
  ttft_p95_ms: number;
  /** Streamed answers: time to the first token of the answer itself, median. */
  ttft_content_p50_ms: number;
  /** Streamed answers: output tokens per second while decoding, median over answers. */
  decode_tokens_per_s: number;
  /** Answers that waited for the model to load (Ollama load_duration), left out of latency and busy time. */
  cold_loads: number;
}

export const SUMMARY_COLUMNS = [
  'run_id',
  'suite',
  'model',
  'group',
  'provider',
  'n',
  'n_cases',
  'passed',
  'score',
  'ci_low',
  'ci_high',
  'ci_method',
  'consistency',
  'errors',
  'excluded',
  'truncated',
  'empty',
  'top_error',
  'cached',
  'latency_p50_ms',
  'latency_p95_ms',
  'input_tokens',
  'output_tokens',
  'cost_usd',
  'cost_per_correct_usd',
  'tokens_per_s',
  'reasoning',
  'reasoning_tokens_per_answer',
  'ttft_p50_ms',
  'ttft_p95_ms',
  'ttft_content_p50_ms',
  'decode_tokens_per_s',
  'cold_loads',
] as const;

/** USD spent by a cell: token prices when the model has them, else hourly price x busy time. */
function cellCost(c: Cell, price: Price | undefined): number | undefined {
  if (!price) return undefined;
  if (price.input !== undefined || price.output !== undefined) return c.tokenCost;
  if (price.perHour !== undefined) return (price.perHour * busyTime([c]).ms) / 3_600_000;
  return undefined;
}

/**
 * One row per suite x model. Cases are the units: a case's score is its mean over repeats, the
 * suite score the mean over cases. When every case's score is 0 or 1 (pass/fail, repeats in
 * agreement) the interval is the 95% Wilson interval of the cases passed; otherwise see
 * gradedInterval (the percentile bootstrap it replaced covered 53-83% at 5 cases). A model that answers the same R times gets exactly the
 * interval of one answer per case.
 */
export function summarize(agg: Aggregate, priceOf: (model: string) => Price | undefined): SummaryRow[] {
  const entries = new Map<string, CaseEntry[]>();
  for (const row of agg.cases) {
    for (const [model, e] of row.entries()) {
      const key = cellKey(row.suite, model);
      const list = entries.get(key) ?? [];
      list.push(e);
      entries.set(key, list);
    }
  }
  const rows: SummaryRow[] = [];
  for (const suite of agg.suites) {
    for (const m of agg.models) {
      const key = cellKey(suite, m.id);
      const c = agg.cells.get(key);
      if (c) rows.push(summaryRow(agg.runId, c, priceOf(m.id), entries.get(key) ?? []));
    }
  }
  return rows;
}

/** Most frequent `kind: message` of a cell's errors (first seen wins a tie). */
function topError(counts: ReadonlyMap<string, number>): string | undefined {
  let best: string | undefined;
  let most = 0;
  for (const [k, n] of counts) if (n > most) [best, most] = [k, n];
  return best;
}

function summaryRow(runId: string, c: Cell, price: Price | undefined, cases: readonly CaseEntry[]): SummaryRow {
  const means = cases.map((e) => e[0] / e[1]);
  const binary = cases.every((e) => (e[2] === e[1] && e[3] === 1) || (e[2] === 0 && e[4] === 0));
  const passedCases = cases.reduce((a, e) => a + (e[2] === e[1] && e[1] > 0 && e[3] === 1 ? 1 : 0), 0);
  const graded = binary ? undefined : gradedInterval(means);
  const ci = graded ? graded.ci : wilson(passedCases, cases.length);
  const cost = cellCost(c, price);
  const latSecs = c.latencySumMs / 1000;
  return {
    run_id: runId,
    suite: c.suite,
    model: c.model,
    group: c.group,
    provider: c.provider,
    n: c.n,
    n_cases: cases.length,
    passed: c.passed,
    score: means.length ? means.reduce((a, x) => a + x, 0) / means.length : NaN,
    ci_low: ci.low,
    ci_high: ci.high,
    ci_method: graded ? graded.method : 'wilson',
    consistency: cases.length ? cases.filter((e) => e[3] === e[4]).length / cases.length : NaN,
    errors: c.errors,
    excluded: c.excluded,
    truncated: c.truncated,
    empty: c.empty,
    top_error: topError(c.errorCounts),
    cached: c.cached,
    latency_p50_ms: c.latencies.length ? percentile(c.latencies.values(), 50) : NaN,
    latency_p95_ms: c.latencies.length ? percentile(c.latencies.values(), 95) : NaN,
    input_tokens: c.inputTokens,
    output_tokens: c.outputTokens,
    cost_usd: cost,
    cost_per_correct_usd: cost !== undefined && c.passed > 0 ? cost / c.passed : undefined,
    tokens_per_s: latSecs > 0 && c.outputTokens > 0 ? c.outputTokens / latSecs : undefined,
    reasoning_tokens_per_answer: c.reasoningAnswers > 0 ? c.reasoningTokens / c.reasoningAnswers : undefined,
    ttft_p50_ms: c.ttfts.length ? percentile(c.ttfts.values(), 50) : NaN,
    ttft_p95_ms: c.ttfts.length ? percentile(c.ttfts.values(), 95) : NaN,
    ttft_content_p50_ms: c.ttftContents.length ? percentile(c.ttftContents.values(), 50) : NaN,
    decode_tokens_per_s: c.decodeTps.length ? percentile(c.decodeTps.values(), 50) : NaN,
    cold_loads: c.coldLoads,
  };
}

/**
 * Cases from which a graded score's interval is Student's t (below it, the bounded-mean interval):
 * at 50 cases of a score that is 1 on 80% of cases, t covered 0.925 (npm run bench -- stats-coverage).
 */
const T_INTERVAL_MIN_CASES = 100;

/**
 * The 95% interval of a mean of graded scores in [0, 1]. From 100 cases: Student's t, clipped to
 * [0, 1]. Below that, or when every score is the same (a t interval of width 0): the bounded-mean
 * (Wilson-type) interval, which holds for any distribution on [0, 1] because the variance of such a
 * score is at most mu (1 - mu); at a few skewed scores a t interval under-covers badly.
 */
export function gradedInterval(means: readonly number[]): { ci: Interval; method: 't' | 'bounded' } {
  const n = means.length;
  if (!n) return { ci: { low: NaN, high: NaN }, method: 'bounded' };
  const t = pairedT(
    means,
    means.map(() => 0),
  );
  if (n >= T_INTERVAL_MIN_CASES && t.sd > 0)
    return { ci: { low: Math.max(0, t.ci.low), high: Math.min(1, t.ci.high) }, method: 't' };
  return { ci: boundedMeanInterval(t.mean, n, 0, 1).ci, method: 'bounded' };
}
