/**
 * gap.csv's rows for a sequential run (docs/sequential.md): every row is computed on the committed
 * cases only, in commit order, and its interval is a confidence sequence (`test: betting_cs`),
 * valid at whatever moment the run stopped. The deciding row's sequence runs at the level the
 * stop rule used (alpha/5 with the final test, split over the suites); every other row's at alpha.
 * At n_max, with the final test, the fixed-n paired test at 4·alpha/5 decides the deciding row.
 */
import type { SequentialSettings } from '../journal/manifest.js';
import type { CaseRow } from './aggregate.js';
import { pairedComparison, verdictOf } from './paired.js';
import { finalTestAlpha, gapSequence, sequenceAlpha, sequentialVerdict } from './sequential.js';
import type { Deciding, RunStopReason, SuiteLog } from './sequential-log.js';

/** What a report knows of a sequential run: its settings and each suite's replayed commit log. */
export interface SequentialView {
  settings: SequentialSettings;
  alpha: number;
  deciding: Deciding;
  suites: ReadonlyMap<string, SuiteLog>;
  /** Whether the config declared pairs (then the `best` row never decides). */
  declared: boolean;
  /** Requests a case costs: benchmarked models x repeats. */
  jobsPerCase: number;
}

/** The sequential columns of a gap row (empty for a fixed-n run, where `sequential` is false). */
export interface SequentialColumns {
  sequential: boolean;
  e_value?: number;
  n_dispatched?: number;
  n_max?: number;
  stop_reason?: RunStopReason;
  margin_pp?: number;
  target_width_pp?: number;
  order_seed?: number;
}

/**
 * The committed cases among `cases`, in commit order. Over several suites (the `all` row) cases
 * are interleaved by how far through its suite each was committed, as the run sent them.
 */
export function committed(view: SequentialView, cases: readonly CaseRow[]): CaseRow[] {
  const at = (c: CaseRow) => {
    const log = view.suites.get(c.suite);
    const i = log?.entered.get(c.caseId);
    return i === undefined || !log ? undefined : (i + 1) / Math.max(1, log.seq.n);
  };
  const keyed = cases
    .map((c) => [at(c), c] as const)
    .filter((x): x is readonly [number, CaseRow] => x[0] !== undefined);
  return keyed.sort((x, y) => x[0] - y[0]).map((x) => x[1]);
}

interface RowKeys {
  suite: string;
  category: string;
  scope: string;
  closed_model: string;
  open_model: string;
}

/** The row the stop rule watched: the suite's whole-suite row of the deciding comparison. */
function decides(view: SequentialView, row: RowKeys): boolean {
  const { closed, open } = view.deciding;
  return (
    row.suite !== 'all' &&
    row.category === 'all' &&
    row.closed_model === closed.join(' + ') &&
    row.open_model === open.join(' + ') &&
    (row.scope === 'pair' || (row.scope === 'best' && !view.declared))
  );
}

/** The fields a sequential run replaces in a row computed on committed cases a (closed) and b (open). */
export function sequentialFields(view: SequentialView, row: RowKeys, a: readonly number[], b: readonly number[]) {
  const suites = row.suite === 'all' ? [...view.suites.values()] : [view.suites.get(row.suite)].filter((x) => !!x);
  const deciding = decides(view, row) && suites.length === 1;
  const alpha = deciding ? sequenceAlpha(suites[0].rule) : view.alpha;
  const seq = gapSequence(
    a.map((x, i) => x - b[i]),
    alpha,
  );
  const { low_pp, high_pp } = seq.interval();
  const reasons = new Set(suites.map((s) => s.reason ?? 'interrupted'));
  const reason = reasons.size === 1 ? [...reasons][0] : undefined;
  const s = view.settings;
  const columns: SequentialColumns = {
    sequential: true,
    e_value: seq.eValue(),
    n_dispatched: suites.reduce((n, x) => n + x.dispatched.size, 0),
    n_max: suites.reduce((n, x) => n + x.nMax, 0),
    ...(reason ? { stop_reason: reason } : {}),
    ...(s.margin_pp !== undefined ? { margin_pp: s.margin_pp } : {}),
    ...(s.ci_pp !== undefined ? { target_width_pp: s.ci_pp } : {}),
    order_seed: s.order_seed,
  };
  const side = low_pp > 0 ? 'closed_better' : high_pp < 0 ? 'open_better' : 'no_significant_difference';
  const fields = {
    ...columns,
    ci_low_pp: low_pp,
    ci_high_pp: high_pp,
    p_value: seq.pValue(),
    p_adjusted: seq.pValue(),
    test: 'betting_cs' as const,
    verdict: side as ReturnType<typeof verdictOf>,
    note: deciding ? `decides the stop (sequence at alpha ${round(alpha)})` : '',
  };
  if (!deciding) return fields;
  const rule = suites[0].rule;
  const settled = suites[0].settled;
  if (side !== 'no_significant_difference' || !rule.finalTest || settled < rule.nMax) return fields;
  // The sequence did not decide by n_max: the fixed-n test at the rest of alpha decides.
  const verdict = sequentialVerdict(seq, rule, a, b, settled);
  const level = finalTestAlpha(rule);
  const r = pairedComparison(a, b, undefined, level);
  if (!r) return fields;
  return {
    ...fields,
    ci_low_pp: r.ci.low * 100,
    ci_high_pp: r.ci.high * 100,
    p_value: r.p,
    p_adjusted: r.p,
    test: r.test,
    verdict,
    note: `decides the stop; at n_max the final fixed-n test at alpha ${round(level)} decides (the sequence, at alpha ${round(alpha)}, had not)`,
  };
}

function round(x: number): string {
  return String(Number(x.toPrecision(3)));
}
