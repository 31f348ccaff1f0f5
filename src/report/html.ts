import { writeFileSync } from 'node:fs';
import type { Aggregate } from './aggregate.js';
import type { Disagreement } from './disagreement.js';
import { costSection, FONT, historySection, latencySection, renderSvg } from './html-charts.js';
import { breakEvenSection } from './html-breakeven.js';
import { throughputLatencySection } from './html-throughput.js';
import type { CapacityResult } from './capacity-read.js';
import { disagreementSection, escapeHtml, rowsTable } from './html-tables.js';
import { sequentialWords } from './sequential-lines.js';
import { GAP_COLUMNS, type GapRow } from './gap.js';
import { readHistoryFile } from './history-read.js';
import { headlineOrder, SCOPE_WORDS } from './gap-scope.js';
import { SUMMARY_COLUMNS, type SummaryRow } from './summary.js';
import { pText } from './terminal.js';

/**
 * report.html: one self-contained file (no script, no network) whose charts are inline SVG
 * rendered at report time by Apache ECharts' server-side renderer. Every text that reaches the
 * page (labels, model outputs) goes through escapeHtml; ECharts escapes the text it puts in SVG.
 */
interface HtmlInput {
  runId: string;
  summary: readonly SummaryRow[];
  gaps: readonly GapRow[];
  aggregate: Aggregate;
  /** Rows of history.csv (earlier runs included), as text; empty when there is none. */
  history?: readonly Record<string, string>[];
  /** The cases where closed and open disagree most, with their prompts and answers (see pickDisagreements). */
  disagreements?: readonly Disagreement[];
  /** The capacity result the break-even used: its throughput-latency chart joins the cost section. */
  capacity?: CapacityResult;
}

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

export { rowsTable } from './html-tables.js';

/**
 * An interval chart: one box per row spanning [low, high] with its line at the estimate
 * (a boxplot whose whiskers equal the box), plus the estimate as a labelled point.
 */
function intervalChart(title: string, labels: string[], rows: [number, number, number][], unit: string): string {
  const height = Math.max(200, 70 + labels.length * 44);
  return renderSvg(
    {
      title: { text: title, left: 8, textStyle: { fontSize: 14 } },
      grid: { left: 350, right: 50, top: 40, bottom: 30 },
      xAxis: { type: 'value', name: unit, nameLocation: 'end' },
      yAxis: { type: 'category', data: labels, inverse: true, axisLabel: { width: 340, overflow: 'break' } },
      series: [
        {
          type: 'boxplot',
          data: rows.map(([est, lo, hi]) => [lo, lo, est, hi, hi]),
          itemStyle: { color: '#cfe0f5', borderColor: '#3b6fb6' },
        },
        {
          type: 'scatter',
          data: rows.map(([est], i) => [est, i]),
          symbolSize: 7,
          itemStyle: { color: '#1b3f73' },
          label: { show: true, position: 'right', formatter: (p) => String((p.value as number[])[0]) },
        },
      ],
    },
    900,
    height,
  );
}

const VERDICT_WORDS: Record<string, string> = {
  closed_better: 'closed better (significant)',
  open_better: 'open better (significant)',
  no_significant_difference: 'no significant difference',
};

function scopeWords(g: GapRow): string {
  if (g.scope === 'best' && !g.note.startsWith('best pair chosen')) return 'best pair (one model per side)';
  return SCOPE_WORDS[g.scope] ?? g.scope;
}

function gapScopeLabel(g: GapRow): string {
  const where = g.category && g.category !== 'all' ? `${g.suite} / ${g.category} (exploratory)` : g.suite;
  return `${where} · ${g.scope}\n${g.closed_model} vs ${g.open_model}`;
}

/** Cost per 1,000 correct answers on each side and the break-even volume, when the run priced both. */
function costWords(g: GapRow): string {
  const parts: string[] = [];
  if (g.closed_cost_per_1k_correct_usd !== undefined && g.open_cost_per_1k_correct_usd !== undefined)
    parts.push(
      `1,000 correct answers cost $${round(g.closed_cost_per_1k_correct_usd, 2)} closed vs $${round(g.open_cost_per_1k_correct_usd, 2)} self-hosted / 每千个正确答案成本`,
    );
  const basis = g.open_capacity_source?.startsWith('goodput')
    ? 'its goodput at the latency target'
    : "this run's throughput";
  if (g.breakeven_requests_per_month !== undefined)
    parts.push(
      `self-hosting is cheaper above ${Math.round(g.breakeven_requests_per_month).toLocaleString('en')} requests a month (machine rented 730 h; capacity from ${basis}) / 自建更便宜的月请求量`,
    );
  else if (g.open_cost_per_1k_correct_usd !== undefined && g.closed_cost_per_1k_correct_usd !== undefined)
    parts.push('one machine never serves enough requests to beat the API at these prices / 单机无法达到盈亏平衡');
  const latency = latencyWords(g);
  if (latency) parts.push(latency);
  return parts.length ? `<br><small>${parts.map(escapeHtml).join('; ')}</small>` : '';
}

/**
 * The open model's latency at its goodput step (the load its cost per request assumes) against
 * the API's, when a capacity result measured both.
 */
function latencyWords(g: GapRow): string | undefined {
  if (g.open_ttft_p95_ms_at_goodput === undefined || g.closed_ttft_p95_ms === undefined) return undefined;
  const load = g.breakeven_requests_per_month !== undefined ? 'its break-even load' : 'its goodput load';
  const e2e =
    g.open_e2e_p95_ms_at_goodput !== undefined && g.closed_e2e_p95_ms !== undefined
      ? ` (whole answer p95 ${seconds(g.open_e2e_p95_ms_at_goodput)} vs ${seconds(g.closed_e2e_p95_ms)})`
      : '';
  return `open at ${load} answers with TTFT p95 ${seconds(g.open_ttft_p95_ms_at_goodput)} vs the API's ${seconds(g.closed_ttft_p95_ms)}${e2e} / 盈亏平衡负载下的首字延迟`;
}

const seconds = (ms: number) => `${Number((ms / 1000).toPrecision(2))} s`;

const small = (text: string | undefined) => (text ? `<br><small>${escapeHtml(text)}</small>` : '');

/** A gap's interval in words; a test on too few cases has none (the CSV leaves it empty). */
function intervalText(g: GapRow): string {
  return Number.isFinite(g.ci_low_pp) && Number.isFinite(g.ci_high_pp)
    ? `[${round(g.ci_low_pp)}, ${round(g.ci_high_pp)}]`
    : `(no interval from ${g.n_paired} case${g.n_paired === 1 ? '' : 's'})`;
}

function gapSection(gaps: readonly GapRow[]): string {
  if (!gaps.length) return '<p>No gap: the run needs at least one closed and one open model.</p>';
  const words = headlineOrder(gaps.filter((g) => !g.category || g.category === 'all'))
    .map(
      (g) =>
        `<li><b>${escapeHtml(g.suite)}</b> (${escapeHtml(scopeWords(g))}): ${escapeHtml(g.closed_model)} ` +
        `${round(g.closed_score * 100)}% vs ${escapeHtml(g.open_model)} ${round(g.open_score * 100)}%, ` +
        `gap ${round(g.gap_pp)} pp ${intervalText(g)}, ` +
        `<b>${escapeHtml(VERDICT_WORDS[g.verdict] ?? g.verdict)}</b> (${escapeHtml(pText(g.p_value))})${costWords(g)}${small(sequentialWords(g))}</li>`,
    )
    .join('');
  // A sequential run's rows carry confidence sequences (or, at n_max, the final test's interval), not 95% intervals.
  const chart = intervalChart(
    gaps.some((g) => g.sequential)
      ? 'Gap (closed − open), percentage points, sequential intervals (gap.csv: test) / 差距（百分点）'
      : 'Gap (closed − open), percentage points, with 95% interval / 差距（百分点）',
    gaps.map(gapScopeLabel),
    gaps.map((g) => [round(g.gap_pp), round(g.ci_low_pp), round(g.ci_high_pp)]),
    'pp',
  );
  const categories = gaps.filter((g) => g.category && g.category !== 'all');
  const exploratory = categories.length
    ? `<p><small>Category rows (in the chart and gap.csv) are exploratory: their p-values are Holm-adjusted within each suite (p_adjusted), and their intervals are not. / 分类结果仅供探索</small></p>`
    : '';
  return `<ul class="headline">${words}</ul>${exploratory}<figure>${chart}</figure>`;
}

function scoresSection(summary: readonly SummaryRow[]): string {
  const rows = [...summary].sort((a, b) => (a.group === b.group ? 0 : a.group === 'closed' ? -1 : 1));
  return `<figure>${intervalChart(
    'Score per model with 95% interval, closed then open / 各模型得分',
    rows.map((s) => `[${s.group}] ${s.suite} · ${s.model}`),
    rows.map((s) => [round(s.score * 100), round(s.ci_low * 100), round(s.ci_high * 100)]),
    '%',
  )}</figure>`;
}

export const STYLE = `body{font-family:${FONT};margin:24px auto;padding:0 12px;max-width:1100px;color:#1d232b}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccd;padding-bottom:4px;margin-top:32px}
figure{margin:12px 0}svg{max-width:100%;height:auto}table{border-collapse:collapse;font-size:12px}
td,th{border:1px solid #ccd;padding:3px 6px;vertical-align:top}td.num{text-align:right}
pre{white-space:pre-wrap;word-break:break-word;max-width:320px;margin:2px 0;font-size:11px}.wide{overflow-x:auto}
summary{cursor:pointer;color:#3b6fb6;font-size:11px}summary .cut{white-space:pre-wrap;word-break:break-word;color:#1d232b;font-family:monospace}.out{margin-bottom:6px}
table.dis td{min-width:60px}table.dis td:nth-child(3),table.dis td:nth-child(5),table.dis td:nth-child(6){min-width:150px}
@media print{h2{break-after:avoid}figure,tr{break-inside:avoid}}`;

export function renderHtml(input: HtmlInput): string {
  const { runId, summary, gaps } = input;
  const sections = [
    ['Headline: is the gap real? / 差距是否真实', gapSection(gaps)],
    ['Scores / 得分', scoresSection(summary)],
    ['Cost / 成本', costSection(summary) + breakEvenSection(gaps) + throughputLatencySection(input.capacity)],
    ['Latency and errors / 延迟与错误', latencySection(summary)],
    ['Score over time / 历史趋势', historySection(input.history ?? [])],
    ['Where closed and open disagree most / 分歧最大的用例', disagreementSection(input.disagreements)],
    ['gap.csv', rowsTable(gaps, GAP_COLUMNS)],
    ['summary.csv', rowsTable(summary, SUMMARY_COLUMNS)],
  ];
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<title>gapbench ${escapeHtml(runId)}</title><style>${STYLE}</style></head><body>` +
    `<h1>gapbench report · ${escapeHtml(runId)}</h1>` +
    stableIds(sections.map(([h, body]) => `<section><h2>${escapeHtml(h)}</h2>${body}</section>`).join('')) +
    '</body></html>\n'
  );
}

/**
 * ECharts numbers its SVG ids and classes (zr3-c0, zr0-cls-20) by counters that run across the
 * whole process: renumber each such name in order of appearance, so the same run gives the same
 * file from any process (a report rebuilt by `gapbench report` equals the run's, byte for byte).
 */
function stableIds(html: string): string {
  const names = new Map<string, string>();
  return html.replace(/\bzr\d+-[a-z]+-?\d+\b/g, (name) => {
    let stable = names.get(name);
    if (stable === undefined) names.set(name, (stable = `zr-${names.size}`));
    return stable;
  });
}

export function writeHtmlReport(path: string, input: HtmlInput): void {
  writeFileSync(path, renderHtml(input));
}

/** history.csv as rows of text; a missing or unreadable file is no history, never a failed report. */
export function readHistory(path: string): Record<string, string>[] {
  return readHistoryFile(path).rows;
}
