import { paint } from '../io.js';
import type { GapRow } from './gap.js';
import type { SummaryRow } from './summary.js';
import { displayWidth, padEnd, padStart, terminalSafe } from '../util/text.js';

const pct = (x: number) => (Number.isFinite(x) ? (x * 100).toFixed(1) : '-');
const usd = (x: number | undefined) =>
  x === undefined || !Number.isFinite(x) ? '-' : x >= 0.01 ? `$${x.toFixed(4)}` : `$${x.toPrecision(2)}`;
const ms = (x: number) => (Number.isFinite(x) ? `${Math.round(x)} ms` : '-');

/** The end-of-run report: a table per suite, then the open-closed gap line. Colour only on a TTY. */
export function renderTerminal(summary: readonly SummaryRow[], gaps: readonly GapRow[], color: boolean): string {
  const lines: string[] = [];
  const suites = [...new Set(summary.map((s) => s.suite))];
  for (const suite of suites) {
    const rows = summary.filter((s) => s.suite === suite);
    const header = ['model', 'group', 'score % [95% CI]', 'n', 'errors', 'cost/correct', 'p50 latency'];
    const body = rows.map((r) => [
      terminalSafe(r.model, 40),
      r.group,
      `${pct(r.score)} [${pct(r.ci_low)}, ${pct(r.ci_high)}]`,
      String(r.n),
      String(r.errors),
      usd(r.cost_per_correct_usd),
      ms(r.latency_p50_ms),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => displayWidth(b[i]))));
    lines.push('', paint(color, 1, `Suite ${terminalSafe(suite, 60)}`));
    lines.push(header.map((h, i) => (i >= 3 ? padStart(h, widths[i]) : padEnd(h, widths[i]))).join('  '));
    for (const b of body)
      lines.push(b.map((c, i) => (i >= 3 ? padStart(c, widths[i]) : padEnd(c, widths[i]))).join('  '));
    const g = gaps.find((x) => x.suite === suite && x.category === 'all' && x.scope === 'best');
    if (g) {
      lines.push(gapLine(g, color));
      const note = errorNote(rows, [g.closed_model, g.open_model]);
      if (note) lines.push(note);
    } else lines.push(noGapReason(rows));
  }
  const overall = gaps.find((x) => x.suite === 'all' && x.scope === 'best');
  if (overall) lines.push('', paint(color, 1, 'All suites'), gapLine(overall, color));
  return `${lines.join('\n')}\n`;
}

/** Why a suite has no gap line: a group is missing, or none of its models answered anything. */
function noGapReason(rows: readonly SummaryRow[]): string {
  for (const group of ['closed', 'open']) {
    const inGroup = rows.filter((r) => r.group === group);
    if (inGroup.length && inGroup.every((r) => r.n <= r.errors)) {
      return `  (no gap: no ${group} model answered anything: ${inGroup.map((r) => `'${terminalSafe(r.model, 40)}'`).join(', ')} gave only errors)`;
    }
  }
  return '  (no gap: needs at least one closed and one open model)';
}

/** Errors count as failures in the gap: say so when the compared models had any. */
function errorNote(rows: readonly SummaryRow[], models: readonly string[]): string | undefined {
  const parts = rows
    .filter((r) => models.includes(r.model) && r.errors > 0)
    .map((r) => `'${terminalSafe(r.model, 40)}' ${r.errors} of ${r.n}`);
  return parts.length ? `  note: error rows count as wrong answers in this gap (${parts.join(', ')})` : undefined;
}

export function gapLine(g: GapRow, color: boolean): string {
  const who = `${terminalSafe(g.open_model, 40)} vs ${terminalSafe(g.closed_model, 40)}`;
  const size = Math.abs(g.gap_pp).toFixed(1);
  const ci = `[${g.ci_low_pp.toFixed(1)}, ${g.ci_high_pp.toFixed(1)}]`;
  const p = g.p_value < 0.001 ? 'p < 0.001' : `p = ${g.p_value.toFixed(3)}`;
  const lead =
    g.gap_pp > 0
      ? `open trails closed by ${size} pp`
      : g.gap_pp < 0
        ? `open leads closed by ${size} pp`
        : 'open and closed tie';
  const verdict =
    g.verdict === 'no_significant_difference'
      ? paint(color, 33, 'no significant difference')
      : paint(color, g.verdict === 'closed_better' ? 31 : 32, g.verdict.replace('_', ' '));
  return `  Gap (${who}): ${lead} ${ci}, ${p} (${g.test === 'mcnemar_exact' ? 'McNemar' : 'permutation'}, n = ${g.n_paired}), ${verdict}`;
}
