import type { Group, Price } from '../types.js';
import { cellKey, unionLength, type Aggregate, type Cell } from './aggregate.js';
import { bootstrapMeanCI, percentile, wilson } from './stats.js';

export interface SummaryRow {
  run_id: string;
  suite: string;
  model: string;
  group: Group;
  provider: string;
  n: number;
  passed: number;
  score: number;
  ci_low: number;
  ci_high: number;
  ci_method: 'wilson' | 'bootstrap';
  errors: number;
  latency_p50_ms: number;
  latency_p95_ms: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number | undefined;
  cost_per_correct_usd: number | undefined;
  tokens_per_s: number | undefined;
}

export const SUMMARY_COLUMNS = [
  'run_id',
  'suite',
  'model',
  'group',
  'provider',
  'n',
  'passed',
  'score',
  'ci_low',
  'ci_high',
  'ci_method',
  'errors',
  'latency_p50_ms',
  'latency_p95_ms',
  'input_tokens',
  'output_tokens',
  'cost_usd',
  'cost_per_correct_usd',
  'tokens_per_s',
] as const;

/** USD spent by a cell: token prices when the model has them, else hourly price x busy time. */
export function cellCost(c: Cell, price: Price | undefined): number | undefined {
  if (!price) return undefined;
  if (price.input !== undefined || price.output !== undefined) return c.tokenCost;
  if (price.perHour !== undefined) return (price.perHour * unionLength(c.intervals)) / 3_600_000;
  return undefined;
}

/**
 * One row per suite x model. Pass rates get a 95% Wilson interval; when scores are not all 0/1
 * (partial credit) the interval is a seeded percentile bootstrap of the mean score.
 */
export function summarize(agg: Aggregate, priceOf: (model: string) => Price | undefined): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const suite of agg.suites) {
    for (const m of agg.models) {
      const c = agg.cells.get(cellKey(suite, m.id));
      if (c) rows.push(summaryRow(agg.runId, c, priceOf(m.id)));
    }
  }
  return rows;
}

export function summaryRow(runId: string, c: Cell, price: Price | undefined): SummaryRow {
  const score = c.n ? c.scoreSum / c.n : NaN;
  const ci = c.binary ? wilson(c.passed, c.n) : bootstrapMeanCI(c.scores, { seed: 1 });
  const cost = cellCost(c, price);
  const latSecs = c.latencySumMs / 1000;
  return {
    run_id: runId,
    suite: c.suite,
    model: c.model,
    group: c.group,
    provider: c.provider,
    n: c.n,
    passed: c.passed,
    score,
    ci_low: ci.low,
    ci_high: ci.high,
    ci_method: c.binary ? 'wilson' : 'bootstrap',
    errors: c.errors,
    latency_p50_ms: c.latencies.length ? percentile(c.latencies, 50) : NaN,
    latency_p95_ms: c.latencies.length ? percentile(c.latencies, 95) : NaN,
    input_tokens: c.inputTokens,
    output_tokens: c.outputTokens,
    cost_usd: cost,
    cost_per_correct_usd: cost !== undefined && c.passed > 0 ? cost / c.passed : undefined,
    tokens_per_s: latSecs > 0 && c.outputTokens > 0 ? c.outputTokens / latSecs : undefined,
  };
}
