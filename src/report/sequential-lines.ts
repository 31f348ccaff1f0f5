/**
 * The terminal's last word on a sequential run (docs/sequential.md): per suite, why it stopped and
 * what stopping saved, in requests and in money at the measured mean cost of a request.
 */
import { terminalSafe } from '../util/text.js';
import type { Aggregate } from './aggregate.js';
import type { GapRow } from './gap.js';
import type { SequentialView } from './gap-sequential.js';
import type { RunStopReason } from './sequential-log.js';

const WHY: Record<RunStopReason, string> = {
  decided: 'decided: the interval excludes 0',
  within_margin: 'within the margin: no gap larger than it',
  ci_width: 'the interval is as narrow as asked',
  n_max: 'reached n_max, every case',
  interrupted: 'interrupted before the rule fired (resume to go on)',
};

/** One line per suite of a sequential run; none for a fixed-n run. */
export function stopLines(gaps: readonly GapRow[], agg: Aggregate, view: SequentialView | undefined): string[] {
  const lines: string[] = [];
  if (!view) return lines;
  for (const g of gaps) {
    if (!g.sequential || g.suite === 'all' || g.category !== 'all' || !/decides the stop/.test(g.note)) continue;
    const reason = g.stop_reason ?? 'interrupted';
    const sent = g.n_dispatched ?? 0;
    const nMax = g.n_max ?? 0;
    const cells = [...agg.cells.values()].filter((c) => c.suite === g.suite);
    const records = cells.reduce((n, c) => n + c.n + c.excluded, 0);
    const cost = cells.reduce((n, c) => n + c.tokenCost, 0);
    // Every job of the plan not sent: the cases never dispatched, and none of a dispatched case.
    const saved = reason === 'interrupted' ? 0 : Math.max(0, nMax * view.jobsPerCase - records);
    const share = nMax ? Math.round((100 * (nMax - sent)) / nMax) : 0;
    const money =
      saved && cost > 0 && records
        ? `, about $${((saved * cost) / records).toPrecision(3)} at the measured $${(cost / records).toPrecision(3)} per request`
        : '';
    const ci = `[${g.ci_low_pp.toFixed(1)}, ${g.ci_high_pp.toFixed(1)}] pp`;
    lines.push(
      `Sequential stop, ${terminalSafe(g.suite, 60)}: ${WHY[reason]} (${ci}, ${g.n_paired} case(s) committed, ${sent} of ${nMax} sent)` +
        (saved ? `; saved ${saved} request(s), ${share}% of the cases${money}` : ''),
    );
  }
  return lines;
}

/** A sequential row in words (report.html's headline): what its interval is, and why the run stopped. */
export function sequentialWords(g: GapRow): string | undefined {
  if (!g.sequential) return undefined;
  const fixed = g.test !== 'betting_cs' ? ', the final fixed-n test deciding at n_max' : '';
  const stop = g.stop_reason ? `; stopped: ${g.stop_reason}` : '';
  return `anytime-valid confidence sequence on ${g.n_paired} committed case(s) of ${g.n_max}${fixed}${stop}, ${g.n_dispatched} sent`;
}
