import { paint } from '../io.js';
import type { SamplingParams } from '../types.js';
import type { GapRow } from './gap.js';
import { headlineOrder } from './gap-scope.js';
import type { SummaryRow } from './summary.js';
import { displayWidth, padEnd, padStart, terminalSafe } from '../util/text.js';
import type { ManifestModel } from '../journal/manifest.js';
import { reasoningMismatch } from './reasoning.js';

const optionalLine = (line: string | undefined) => (line === undefined ? [] : [line]);

/** Why a model's cost is empty: it has no price (and, when the catalogue was asked, why it had none). */
function priceNotes(rows: readonly SummaryRow[], modelOf: (id: string) => ManifestModel | undefined): string[] {
  return rows
    .filter((r) => r.cost_usd === undefined)
    .map((r) => {
      const src = modelOf(r.model)?.priceSource;
      const why = src?.startsWith('none: ') ? `: ${terminalSafe(src.slice(6), 160)}` : '';
      const what = r.group === 'open' && !why ? 'set price: { perHour } for your machine' : 'set price:';
      return `  cost/correct: no price for ${name(r.model)} (${what})${why}`;
    });
}

const pct = (x: number) => (Number.isFinite(x) ? (x * 100).toFixed(1) : '-');
const usd = (x: number | undefined) =>
  x === undefined || !Number.isFinite(x) ? '-' : x >= 0.01 ? `$${x.toFixed(4)}` : `$${x.toPrecision(2)}`;
const ms = (x: number) => (Number.isFinite(x) ? `${Math.round(x)} ms` : '-');
const name = (m: string) => `'${terminalSafe(m, 40)}'`;

/** What the terminal report may know about a model besides its rows: the sampling it asked for. */
type ParamsOf = (model: string) => SamplingParams | undefined;

/**
 * The end-of-run report: a table per suite, every gap scope computed for it (each labelled), then
 * per-model notes (errors with their most frequent message, truncated answers, repeats that
 * disagree although sampling was fixed). Colour only on a TTY.
 */
export function renderTerminal(
  summary: readonly SummaryRow[],
  gaps: readonly GapRow[],
  color: boolean,
  paramsOf: ParamsOf = () => undefined,
  modelOf: (id: string) => ManifestModel | undefined = () => undefined,
): string {
  const lines: string[] = [];
  const suites = [...new Set(summary.map((s) => s.suite))];
  for (const suite of suites) {
    const rows = summary.filter((s) => s.suite === suite);
    lines.push('', paint(color, 1, `Suite ${terminalSafe(suite, 60)}`), ...table(rows));
    const scopes = headlineOrder(gaps.filter((x) => x.suite === suite && x.category === 'all'));
    if (scopes.length)
      for (const g of scopes) lines.push(...gapLines(g, color), ...optionalLine(reasoningMismatch(g, modelOf)));
    else lines.push(noGapReason(rows));
    lines.push(...categoryLines(gaps.filter((x) => x.suite === suite && x.category !== 'all')));
    const fewest = Math.min(...rows.map((r) => r.n_cases));
    if (rows.length && fewest < SMALL_SUITE)
      lines.push(
        `  warning: only ${fewest} case(s) in this suite: intervals are wide and only large gaps can be told from noise (30 or more cases recommended)`,
      );
    lines.push(...modelNotes(rows, paramsOf), ...priceNotes(rows, modelOf));
  }
  const overall = headlineOrder(gaps.filter((x) => x.suite === 'all' && x.category === 'all'));
  if (overall.length) {
    lines.push('', paint(color, 1, 'All suites'));
    for (const g of overall) lines.push(...gapLines(g, color), ...optionalLine(reasoningMismatch(g, modelOf)));
  }
  return `${lines.join('\n')}\n`;
}

function table(rows: readonly SummaryRow[]): string[] {
  const header = ['model', 'group', 'score % [95% CI]', 'cases', 'errors', 'cost/correct', 'p50 latency'];
  const body = rows.map((r) => [
    terminalSafe(r.model, 40),
    r.group,
    `${pct(r.score)} [${pct(r.ci_low)}, ${pct(r.ci_high)}]`,
    String(r.n_cases),
    String(r.errors),
    usd(r.cost_per_correct_usd),
    ms(r.latency_p50_ms),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => displayWidth(b[i]))));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i >= 3 ? padStart(c, widths[i]) : padEnd(c, widths[i]))).join('  ');
  return [line(header), ...body.map(line)];
}

/** Why a suite has no gap line: a group is missing, or none of its models answered anything. */
function noGapReason(rows: readonly SummaryRow[]): string {
  for (const group of ['closed', 'open']) {
    const inGroup = rows.filter((r) => r.group === group);
    if (inGroup.length && inGroup.every((r) => r.n <= r.errors - r.excluded)) {
      return `  (no gap: no ${group} model answered anything: ${inGroup.map((r) => name(r.model)).join(', ')} gave only errors)`;
    }
  }
  return '  (no gap: needs at least one closed and one open model)';
}

/** Per model: its errors (and which of them count), truncated answers, and unstable repeats. */
function modelNotes(rows: readonly SummaryRow[], paramsOf: ParamsOf): string[] {
  const notes: string[] = [];
  for (const r of rows) {
    if (r.errors > 0) {
      const counted = r.errors - r.excluded;
      const how =
        r.excluded === 0
          ? 'counted as wrong answers'
          : counted === 0
            ? 'left out of the score'
            : `${counted} counted as wrong answers, ${r.excluded} left out of the score`;
      notes.push(`  errors: ${name(r.model)} ${r.errors} (${how}); most often ${terminalSafe(r.top_error ?? '', 160)}`);
    }
    if (r.truncated > 0) {
      const empty = r.empty > 0 ? `, ${r.empty} of them empty` : '';
      notes.push(
        `  warning: ${name(r.model)} ${r.truncated} answer(s) cut by the token limit${empty}: raise params.max_tokens (reasoning models spend it on thinking)`,
      );
    }
    if (r.cached > 0) {
      notes.push(
        `  note: ${name(r.model)} ${r.cached} of ${r.n + r.excluded} answers came from the response cache (--cache refresh or --cache-max-age asks again)`,
      );
    }
    const p = paramsOf(r.model);
    if (r.consistency < 1 && p?.temperature === 0 && p.seed !== undefined) {
      notes.push(
        `  warning: ${name(r.model)} gave differing answers on ${pct(1 - r.consistency)}% of cases at temperature 0 with seed ${p.seed}: its server does not make them repeatable`,
      );
    }
  }
  return notes;
}

/** Below this many cases a suite's figures get a warning. */
const SMALL_SUITE = 30;

const SCOPE_LABEL: Record<GapRow['scope'], string> = {
  best: 'best pair',
  mean: 'group means',
  pair: 'pair',
};

const TEST_LABEL: Record<GapRow['test'], string> = {
  mcnemar_score: 'McNemar score test, Tango interval',
  paired_t: 'paired t',
  bounded_score: 'bounded score test',
  betting_cs: 'betting confidence sequence, anytime-valid',
};

/** Categories that name a side after Holm's adjustment, labelled exploratory (the rest only counted). */
function categoryLines(rows: readonly GapRow[]): string[] {
  if (!rows.length) return [];
  const named = rows.filter((r) => r.verdict !== 'no_significant_difference');
  const head = `  Categories (exploratory, Holm-adjusted within the suite): ${named.length} of ${rows.length} row(s) name a side`;
  return [
    head,
    ...named.map(
      (r) =>
        `    ${terminalSafe(r.category, 60)} (${SCOPE_LABEL[r.scope]}): gap ${r.gap_pp.toFixed(1)} pp [${r.ci_low_pp.toFixed(1)}, ${r.ci_high_pp.toFixed(1)}], adjusted ${pText(r.p_adjusted)}, ${r.verdict.replace('_', ' ')}`,
    ),
  ];
}

/** A p-value as the terminal and FAIL lines print it. */
export function pText(p: number): string {
  if (!Number.isFinite(p)) return 'no p-value';
  return p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(3)}`;
}

export function gapLines(g: GapRow, color: boolean): string[] {
  const who = `${terminalSafe(g.open_model, 80)} vs ${terminalSafe(g.closed_model, 80)}`;
  const size = Math.abs(g.gap_pp).toFixed(1);
  const cases = `${g.n_paired} case${g.n_paired === 1 ? '' : 's'}`;
  // A test on too few cases has no interval (the CSV leaves it empty).
  const ci =
    Number.isFinite(g.ci_low_pp) && Number.isFinite(g.ci_high_pp)
      ? `[${g.ci_low_pp.toFixed(1)}, ${g.ci_high_pp.toFixed(1)}]`
      : `(no interval from ${cases})`;
  const p = pText(g.p_value);
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
  const lines = [
    `  Gap, ${SCOPE_LABEL[g.scope]} (${who}): ${lead} ${ci}, ${p} (${TEST_LABEL[g.test] ?? g.test}, ${cases}), ${verdict}`,
  ];
  if (g.scope === 'best' && g.note.startsWith('best pair chosen'))
    lines.push('    (best pair chosen on half the cases, gap tested on the other half)');
  if (g.verdict === 'no_significant_difference') {
    const need = Number.isFinite(g.cases_for_5pp) ? `; a 5 pp gap needs about ${g.cases_for_5pp} cases` : '';
    if (Number.isFinite(g.min_detectable_pp))
      lines.push(
        `    (with ${cases} this test finds a gap of ${g.min_detectable_pp.toFixed(1)} pp 80% of the time${need})`,
      );
    else if (g.note.includes('too few cases'))
      lines.push(`    (${cases}: too few to detect any gap 80% of the time${need})`);
  }
  return lines;
}
