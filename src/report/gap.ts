import type { Price } from '../types.js';
import type { Aggregate, CaseRow } from './aggregate.js';
import { breakEven, type BreakEven } from './breakeven.js';
import type { CapacityResult } from './capacity-read.js';
import type { SummaryRow } from './summary.js';
import { adjustCategories, bestNote, bestOnChoosingHalf, choosesPair } from './gap-scope.js';
import { ALPHA, pairedComparison, verdictOf, type PairedTest } from './paired.js';
import { committed, sequentialFields, type SequentialColumns, type SequentialView } from './gap-sequential.js';

/** A closed and an open model the config asks to compare (`pairs:`), besides the best pair and the group means. */
export interface ModelPair {
  closed: string;
  open: string;
}

interface GapOptions {
  pairs?: readonly ModelPair[];
  alpha?: number;
  /** Prices by model id, for cost at real usage and break-even. */
  priceOf?: (model: string) => Price | undefined;
  /** A sequential run: rows on committed cases, intervals from confidence sequences (gap-sequential.ts). */
  sequential?: SequentialView;
  /** A capacity result (`--capacity`): the open side's capacity per machine at its goodput. */
  capacity?: CapacityResult;
}

export type Verdict = 'closed_better' | 'open_better' | 'no_significant_difference';

export interface GapRow extends BreakEven, Partial<SequentialColumns> {
  run_id: string;
  suite: string;
  category: string;
  /**
   * `best`: best closed vs best open model (chosen on half the cases and tested on the other half
   * when a side has several models); `mean`: the groups' per-case means; `pair`: a configured pair.
   */
  scope: 'best' | 'mean' | 'pair';
  closed_model: string;
  open_model: string;
  closed_score: number;
  open_score: number;
  gap_pp: number;
  relative_gap_pct: number | undefined;
  ci_low_pp: number;
  ci_high_pp: number;
  p_value: number;
  test: PairedTest | 'betting_cs';
  n_paired: number;
  verdict: Verdict;
  /** Smallest gap the test detects with 80% power (exact) at this n and disagreement rate; empty when none is (see note). */
  min_detectable_pp: number;
  /** Paired cases a 5-point gap would need for 80% power at this disagreement rate; empty when no number would. */
  cases_for_5pp: number;
  /** Category rows: Holm-adjusted p over the suite's categories (their verdict uses it); other rows: p_value. */
  p_adjusted: number;
  /** Why a power figure is empty, how `best` chose its pair, whether the row is exploratory. */
  note: string;
  closed_cost_per_correct_usd: number | undefined;
  open_cost_per_correct_usd: number | undefined;
  /** Each side's reasoning setting (report/reasoning.ts; ` / ` between a group's differing settings). */
  closed_reasoning?: string;
  open_reasoning?: string;
}

export const GAP_COLUMNS = [
  'run_id',
  'suite',
  'category',
  'scope',
  'closed_model',
  'open_model',
  'closed_score',
  'open_score',
  'gap_pp',
  'relative_gap_pct',
  'ci_low_pp',
  'ci_high_pp',
  'p_value',
  'test',
  'n_paired',
  'verdict',
  'min_detectable_pp',
  'cases_for_5pp',
  'closed_cost_per_correct_usd',
  'open_cost_per_correct_usd',
  'closed_cost_per_1k_correct_usd',
  'open_cost_per_1k_correct_usd',
  'breakeven_requests_per_month',
  'open_capacity_source',
  'open_ttft_p95_ms_at_goodput',
  'closed_ttft_p95_ms',
  'open_e2e_p95_ms_at_goodput',
  'closed_e2e_p95_ms',
  'p_adjusted',
  'note',
  'closed_reasoning',
  'open_reasoning',
  'sequential',
  'e_value',
  'n_dispatched',
  'n_max',
  'stop_reason',
  'margin_pp',
  'target_width_pp',
  'order_seed',
] as const;

/**
 * Open vs closed, per suite, per category within it, and over all suites. `best` pairs the best
 * closed with the best open model (see gap-scope.ts: chosen on one half, tested on the other); `mean` pairs the two groups' per-case means;
 * `pair` each configured pair. Pairing is by case: a case enters when both sides have a scored
 * answer for it (a service error counts as a failure; errors that say nothing about the model are
 * left out). A model without a single answer in the scope takes no part. Test and interval: a
 * paired t test on the per-case differences (a case's score is its mean over repeats) and the
 * interval that inverts it, so the interval excludes 0 exactly when p < alpha, exactly when the
 * verdict names a side. Pass/fail rows use McNemar's score test with Tango's interval (paired.ts);
 * category rows are Holm-adjusted within their suite (p_adjusted, which their verdict uses).
 */
export function gapRows(agg: Aggregate, summary: readonly SummaryRow[], opts: GapOptions = {}): GapRow[] {
  const alpha = opts.alpha ?? ALPHA;
  const closedAll = agg.models.filter((m) => m.group === 'closed').map((m) => m.id);
  const openAll = agg.models.filter((m) => m.group === 'open').map((m) => m.id);
  if (!closedAll.length || !openAll.length) return [];
  const rows: GapRow[] = [];
  const casesBySuite = new Map<string, CaseRow[]>();
  for (const row of agg.cases) {
    const list = casesBySuite.get(row.suite) ?? [];
    list.push(row);
    casesBySuite.set(row.suite, list);
  }
  const view = opts.sequential;
  if (view) for (const [suite, list] of casesBySuite) casesBySuite.set(suite, committed(view, list));
  const sumOf = (suite: string | undefined, models: string[]) => {
    const rs = summary.filter((s) => models.includes(s.model) && (suite === undefined || s.suite === suite));
    const cost = rs.reduce(
      (a, s) => (s.cost_usd === undefined || a === undefined ? undefined : a + s.cost_usd),
      0 as number | undefined,
    );
    const passed = rs.reduce((a, s) => a + s.passed, 0);
    return { costPerCorrect: cost !== undefined && passed > 0 && rs.length ? cost / passed : undefined };
  };
  // A model with no answer at all in the scope (its lane stopped on a bad key or an unknown
  // model, or every request failed) is left out: a gap against nothing but errors says nothing.
  const answered = (suite: string | undefined, m: string) =>
    summary.some((s) => s.model === m && (suite === undefined || s.suite === suite) && s.n > s.errors - s.excluded);
  const emit = (suite: string, cases: CaseRow[], suiteFilter: string | undefined) => {
    const closed = closedAll.filter((m) => answered(suiteFilter, m));
    const open = openAll.filter((m) => answered(suiteFilter, m));
    if (!closed.length || !open.length) return;
    const selected = closed.length > 1 || open.length > 1;
    const bc = bestOnChoosingHalf(cases, closed);
    const bo = bestOnChoosingHalf(cases, open);
    const categories = [...new Set(cases.map((c) => c.category))];
    const groups: [string, CaseRow[]][] = [['all', cases]];
    if (suiteFilter !== undefined && categories.length > 1)
      for (const cat of categories) groups.push([cat, cases.filter((c) => c.category === cat)]);
    for (const [category, list] of groups) {
      const costs =
        category === 'all'
          ? {
              best: [sumOf(suiteFilter, [bc]).costPerCorrect, sumOf(suiteFilter, [bo]).costPerCorrect],
              mean: [sumOf(suiteFilter, closed).costPerCorrect, sumOf(suiteFilter, open).costPerCorrect],
            }
          : undefined;
      const at = { runId: agg.runId, suite, category, cases: list, alpha, sequential: view };
      const tested = selected ? list.filter((c) => !choosesPair(c)) : list;
      const b = compare({ ...at, cases: tested }, 'best', [bc], [bo], costs?.best);
      if (b) b.note = [bestNote(selected), b.note].filter(Boolean).join('; ');
      if (b) rows.push(b);
      if (closed.length > 1 || open.length > 1) {
        const m = compare(at, 'mean', closed, open, costs?.mean);
        if (m) rows.push(m);
      }
      for (const pair of opts.pairs ?? []) {
        if (!closed.includes(pair.closed) || !open.includes(pair.open)) continue;
        const pc =
          category === 'all'
            ? [sumOf(suiteFilter, [pair.closed]).costPerCorrect, sumOf(suiteFilter, [pair.open]).costPerCorrect]
            : undefined;
        const r = compare(at, 'pair', [pair.closed], [pair.open], pc);
        if (r) rows.push(r);
      }
    }
  };
  for (const suite of agg.suites) emit(suite, casesBySuite.get(suite) ?? [], suite);
  if (agg.suites.length > 1) emit('all', view ? committed(view, agg.cases) : agg.cases, undefined);
  adjustCategories(rows, alpha);
  if (opts.priceOf) for (const r of rows) Object.assign(r, breakEven(agg, r, opts.priceOf, opts.capacity));
  return rows;
}

/** Mean score of a case for a set of models (mean over repeats, then over models); undefined if any is missing. */
function caseScore(row: CaseRow, models: string[]): number | undefined {
  let sum = 0;
  for (const m of models) {
    const s = row.entry(m);
    if (!s) return undefined;
    sum += s[0] / s[1];
  }
  return sum / models.length;
}

interface Scope {
  runId: string;
  suite: string;
  category: string;
  cases: CaseRow[];
  alpha: number;
  sequential?: SequentialView;
}

function compare(
  at: Scope,
  scope: GapRow['scope'],
  closed: string[],
  open: string[],
  costs: (number | undefined)[] | undefined,
): GapRow | undefined {
  const a: number[] = [];
  const b: number[] = [];
  for (const row of at.cases) {
    const x = caseScore(row, closed);
    const y = caseScore(row, open);
    if (x === undefined || y === undefined) continue;
    a.push(x);
    b.push(y);
  }
  const r = pairedComparison(a, b, undefined, at.alpha, true);
  if (!r) return undefined;
  const { meanA, meanB, ci, p } = r;
  const gap = (meanA - meanB) * 100;
  const row: GapRow = {
    run_id: at.runId,
    suite: at.suite,
    category: at.category,
    scope,
    closed_model: closed.join(' + '),
    open_model: open.join(' + '),
    closed_score: meanA,
    open_score: meanB,
    gap_pp: gap,
    relative_gap_pct: meanA > 0 ? (gap / (meanA * 100)) * 100 : undefined,
    ci_low_pp: ci.low * 100,
    ci_high_pp: ci.high * 100,
    p_value: p,
    test: r.test,
    n_paired: r.n,
    verdict: verdictOf(r, at.alpha),
    min_detectable_pp: r.minDetectable * 100,
    cases_for_5pp: r.casesFor5pp,
    p_adjusted: p,
    note: r.powerNote ?? '',
    closed_cost_per_correct_usd: costs?.[0],
    open_cost_per_correct_usd: costs?.[1],
  };
  if (!at.sequential) return { ...row, sequential: false };
  const seq = sequentialFields(at.sequential, row, a, b);
  return { ...row, ...seq, note: [seq.note, row.note].filter(Boolean).join('; ') };
}
