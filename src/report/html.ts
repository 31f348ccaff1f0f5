import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import * as echarts from 'echarts';
import type { Aggregate } from './aggregate.js';
import type { GapRow } from './gap.js';
import type { SummaryRow } from './summary.js';

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
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);

const FONT = "system-ui, 'Noto Sans CJK SC', 'Microsoft YaHei', 'PingFang SC', sans-serif";
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

/** One chart as an SVG string; ECharts is used without a DOM (ssr). */
function renderSvg(option: echarts.EChartsOption, width = 900, height = 360): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ animation: false, textStyle: { fontFamily: FONT }, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

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

function gapScopeLabel(g: GapRow): string {
  const where = g.category && g.category !== 'all' ? `${g.suite} / ${g.category}` : g.suite;
  return `${where} · ${g.scope}\n${g.closed_model} vs ${g.open_model}`;
}

/** Cost per 1,000 correct answers on each side and the break-even volume, when the run priced both. */
function costWords(g: GapRow): string {
  const parts: string[] = [];
  if (g.closed_cost_per_1k_correct_usd !== undefined && g.open_cost_per_1k_correct_usd !== undefined)
    parts.push(
      `1,000 correct answers cost $${round(g.closed_cost_per_1k_correct_usd, 2)} closed vs $${round(g.open_cost_per_1k_correct_usd, 2)} self-hosted / 每千个正确答案成本`,
    );
  if (g.breakeven_requests_per_month !== undefined)
    parts.push(
      `self-hosting is cheaper above ${Math.round(g.breakeven_requests_per_month).toLocaleString('en')} requests a month (machine rented 730 h; throughput measured in this run) / 自建更便宜的月请求量`,
    );
  else if (g.open_cost_per_1k_correct_usd !== undefined && g.closed_cost_per_1k_correct_usd !== undefined)
    parts.push('one machine never serves enough requests to beat the API at these prices / 单机无法达到盈亏平衡');
  return parts.length ? `<br><small>${parts.map(escapeHtml).join('; ')}</small>` : '';
}

/** A gap's interval in words; a test on too few cases has none (the CSV leaves it empty). */
function intervalText(g: GapRow): string {
  return Number.isFinite(g.ci_low_pp) && Number.isFinite(g.ci_high_pp)
    ? `[${round(g.ci_low_pp)}, ${round(g.ci_high_pp)}]`
    : `(no interval from ${g.n_paired} case${g.n_paired === 1 ? '' : 's'})`;
}

function gapSection(gaps: readonly GapRow[]): string {
  if (!gaps.length) return '<p>No gap: the run needs at least one closed and one open model.</p>';
  const words = gaps
    .filter((g) => !g.category || g.category === 'all')
    .map(
      (g) =>
        `<li><b>${escapeHtml(g.suite)}</b> (${escapeHtml(g.scope)}): ${escapeHtml(g.closed_model)} ` +
        `${round(g.closed_score * 100)}% vs ${escapeHtml(g.open_model)} ${round(g.open_score * 100)}%, ` +
        `gap ${round(g.gap_pp)} pp ${intervalText(g)}, ` +
        `<b>${escapeHtml(VERDICT_WORDS[g.verdict] ?? g.verdict)}</b> (${Number.isFinite(g.p_value) ? `p = ${round(g.p_value, 4)}` : 'no p-value'})${costWords(g)}</li>`,
    )
    .join('');
  const chart = intervalChart(
    'Gap (closed − open), percentage points, with 95% interval / 差距（百分点）',
    gaps.map(gapScopeLabel),
    gaps.map((g) => [round(g.gap_pp), round(g.ci_low_pp), round(g.ci_high_pp)]),
    'pp',
  );
  return `<ul class="headline">${words}</ul><figure>${chart}</figure>`;
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

function costSection(summary: readonly SummaryRow[]): string {
  const priced = summary.filter((s) => s.cost_per_correct_usd !== undefined);
  if (!priced.length) return '<p>No model has a price: cost per correct answer is not known.</p>';
  const series = (['closed', 'open'] as const).map((group) => ({
    type: 'scatter' as const,
    name: group,
    symbolSize: 10,
    data: priced
      .filter((s) => s.group === group)
      .map((s) => ({ value: [s.cost_per_correct_usd!, round(s.score * 100)], name: `${s.suite} · ${s.model}` })),
    label: { show: true, position: 'right' as const, formatter: '{b}' },
  }));
  return `<figure>${renderSvg({
    title: {
      text: 'Cost per correct answer (USD) against score / 每个正确答案的成本',
      left: 8,
      textStyle: { fontSize: 14 },
    },
    legend: { top: 30, right: 10 },
    grid: { left: 60, right: 220, top: 80, bottom: 40 },
    xAxis: { type: 'value', name: 'USD / correct', nameLocation: 'middle', nameGap: 25, scale: true },
    yAxis: { type: 'value', name: 'score %', scale: true },
    series,
  })}</figure>`;
}

/**
 * Monthly cost against monthly requests for each best/pair row that priced both sides: the API's
 * cost grows with the volume, the rented machine's is flat up to what it can serve; where they
 * cross is the break-even volume.
 */
function breakEvenSection(gaps: readonly GapRow[]): string {
  const rows = gaps.filter(
    (g) =>
      g.closed_cost_per_request_usd !== undefined &&
      g.open_monthly_cost_usd !== undefined &&
      g.open_capacity_requests_per_month,
  );
  if (!rows.length) return '';
  const charts = rows.slice(0, 6).map((g) => {
    const cap = g.open_capacity_requests_per_month!;
    const top = Math.max(cap, g.breakeven_requests_per_month ?? 0) * 1.2;
    const xs = Array.from({ length: 21 }, (_, i) => Math.round((top * i) / 20));
    return renderSvg(
      {
        title: {
          text: `Break-even / 盈亏平衡 · ${g.suite} · ${g.closed_model} (API) vs ${g.open_model} (self-hosted)`,
          left: 8,
          textStyle: { fontSize: 13 },
        },
        legend: { bottom: 0, left: 'center' },
        grid: { left: 80, right: 40, top: 50, bottom: 75 },
        xAxis: { type: 'value', name: 'requests / month', nameLocation: 'middle', nameGap: 28 },
        yAxis: { type: 'value', name: 'USD / month' },
        series: [
          {
            type: 'line',
            name: 'API',
            showSymbol: false,
            data: xs.map((x) => [x, round(x * g.closed_cost_per_request_usd!, 2)]),
          },
          {
            type: 'line',
            name: 'self-hosted (up to one machine)',
            showSymbol: false,
            data: xs.filter((x) => x <= cap).map((x) => [x, round(g.open_monthly_cost_usd!, 2)]),
            markLine:
              g.breakeven_requests_per_month === undefined
                ? undefined
                : {
                    symbol: 'none',
                    label: {
                      formatter: `break-even ${Math.round(g.breakeven_requests_per_month).toLocaleString('en')}`,
                    },
                    data: [{ xAxis: g.breakeven_requests_per_month }],
                  },
          },
        ],
      },
      900,
      300,
    );
  });
  return charts.map((c) => `<figure>${c}</figure>`).join('');
}

function latencySection(summary: readonly SummaryRow[]): string {
  const labels = summary.map((s) => `${s.suite} · ${s.model}`);
  const bars = (name: string, values: number[]) => ({
    type: 'bar' as const,
    name,
    data: values,
    label: { show: true, position: 'right' as const },
  });
  const height = Math.max(200, 70 + summary.length * 40);
  const latency = renderSvg(
    {
      title: { text: 'Latency p50 / p95 (ms) / 延迟', left: 8, textStyle: { fontSize: 14 } },
      legend: { top: 4, right: 10 },
      grid: { left: 260, right: 60, top: 40, bottom: 30 },
      xAxis: { type: 'value', name: 'ms' },
      yAxis: { type: 'category', data: labels, inverse: true, axisLabel: { width: 250, overflow: 'truncate' } },
      series: [
        bars(
          'p50',
          summary.map((s) => Math.round(s.latency_p50_ms)),
        ),
        bars(
          'p95',
          summary.map((s) => Math.round(s.latency_p95_ms)),
        ),
      ],
    },
    900,
    height,
  );
  const errors = renderSvg(
    {
      title: { text: 'Errors per model / 错误数', left: 8, textStyle: { fontSize: 14 } },
      grid: { left: 260, right: 60, top: 40, bottom: 30 },
      xAxis: { type: 'value', minInterval: 1 },
      yAxis: { type: 'category', data: labels, inverse: true, axisLabel: { width: 250, overflow: 'truncate' } },
      series: [
        bars(
          'errors',
          summary.map((s) => s.errors),
        ),
      ],
    },
    900,
    height,
  );
  return `<figure>${latency}</figure><figure>${errors}</figure>`;
}

/** Each model's score over the runs history.csv holds (shown once it holds two runs or more). */
function historySection(history: readonly Record<string, string>[]): string {
  const runs = [...new Set(history.map((h) => h.run_id))];
  if (runs.length < 2) return '<p>history.csv holds this run only: no trend yet.</p>';
  const series = new Map<string, (number | null)[]>();
  for (const h of history) {
    const key = `${h.suite} · ${h.model.replace(/^'/, '')}`;
    const values = series.get(key) ?? runs.map(() => null);
    values[runs.indexOf(h.run_id)] = round(Number(h.score) * 100);
    series.set(key, values);
  }
  return `<figure>${renderSvg({
    title: { text: 'Score over runs (history.csv) / 历次得分', left: 8, textStyle: { fontSize: 14 } },
    legend: { top: 34, type: 'plain' },
    grid: { left: 60, right: 40, top: 100, bottom: 40 },
    xAxis: { type: 'category', data: runs },
    yAxis: { type: 'value', name: 'score %', scale: true },
    series: [...series].map(([name, data]) => ({
      type: 'line' as const,
      name,
      data,
      connectNulls: true,
      label: { show: true },
    })),
  })}</figure>`;
}

/** The cases where the closed group's mean score and the open group's differ most. */
function disagreementSection(agg: Aggregate, limit = 20): string {
  const group = new Map(agg.models.map((m) => [m.id, m.group]));
  const scored = [...agg.cases.values()].map((c) => {
    const mean = (g: string) => {
      let sum = 0;
      let n = 0;
      for (const [model, [s, count]] of c.byModel) {
        if (group.get(model) === g && count) {
          sum += s / count;
          n++;
        }
      }
      return n ? sum / n : undefined;
    };
    const closed = mean('closed');
    const open = mean('open');
    return { c, closed, open, diff: closed === undefined || open === undefined ? -1 : Math.abs(closed - open) };
  });
  const top = scored
    .filter((x) => x.diff > 0)
    .sort((a, b) => b.diff - a.diff)
    .slice(0, limit);
  if (!top.length) return '<p>Closed and open models agree on every case.</p>';
  const outputsOf = (c: (typeof top)[number]['c'], g: string) =>
    c.outputs
      ? [...c.outputs]
          .filter(([m]) => group.get(m) === g)
          .map(([m, o]) => `<div class="out"><b>${escapeHtml(m)}</b><pre>${escapeHtml(o)}</pre></div>`)
          .join('')
      : '<i>outputs not kept (run with --matrix-outputs)</i>';
  const rows = top
    .map(
      (x) =>
        `<tr><td>${escapeHtml(x.c.suite)}</td><td>${escapeHtml(x.c.caseId)}</td><td>${escapeHtml(x.c.category)}</td>` +
        `<td class="num">${round(x.closed! * 100)}%</td><td class="num">${round(x.open! * 100)}%</td>` +
        `<td>${outputsOf(x.c, 'closed')}</td><td>${outputsOf(x.c, 'open')}</td></tr>`,
    )
    .join('');
  return (
    '<table><thead><tr><th>suite</th><th>case</th><th>category</th><th>closed score</th><th>open score</th>' +
    `<th>closed outputs</th><th>open outputs</th></tr></thead><tbody>${rows}</tbody></table>`
  );
}

/** Any row list as a table, by its own columns, so columns added to a CSV appear here too. */
export function rowsTable(rows: readonly object[]): string {
  if (!rows.length) return '<p>(none)</p>';
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) =>
    typeof v === 'number'
      ? `<td class="num">${Number.isFinite(v) ? (Number.isInteger(v) ? v : round(v, 4)) : ''}</td>`
      : `<td>${escapeHtml(v === undefined || v === null ? '' : String(v))}</td>`;
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${columns.map((c) => cell((r as Record<string, unknown>)[c])).join('')}</tr>`)
    .join('');
  return `<div class="wide"><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}

const STYLE = `body{font-family:${FONT};margin:24px auto;max-width:1100px;color:#1d232b}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccd;padding-bottom:4px;margin-top:32px}
figure{margin:12px 0}svg{max-width:100%;height:auto}table{border-collapse:collapse;font-size:12px}
td,th{border:1px solid #ccd;padding:3px 6px;vertical-align:top}td.num{text-align:right}
pre{white-space:pre-wrap;word-break:break-word;max-width:320px;margin:2px 0}.wide{overflow-x:auto}
@media print{h2{break-after:avoid}figure,tr{break-inside:avoid}}`;

export function renderHtml(input: HtmlInput): string {
  const { runId, summary, gaps, aggregate } = input;
  const sections = [
    ['Headline: is the gap real? / 差距是否真实', gapSection(gaps)],
    ['Scores / 得分', scoresSection(summary)],
    ['Cost / 成本', costSection(summary) + breakEvenSection(gaps)],
    ['Latency and errors / 延迟与错误', latencySection(summary)],
    ['Score over time / 历史趋势', historySection(input.history ?? [])],
    ['Where closed and open disagree most / 分歧最大的用例', disagreementSection(aggregate)],
    ['gap.csv', rowsTable(gaps)],
    ['summary.csv', rowsTable(summary)],
  ];
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<title>gapbench ${escapeHtml(runId)}</title><style>${STYLE}</style></head><body>` +
    `<h1>gapbench report · ${escapeHtml(runId)}</h1>` +
    sections.map(([h, body]) => `<section><h2>${escapeHtml(h)}</h2>${body}</section>`).join('') +
    '</body></html>\n'
  );
}

export function writeHtmlReport(path: string, input: HtmlInput): void {
  writeFileSync(path, renderHtml(input));
}

/** history.csv as rows of text; a missing or unreadable file is no history, never a failed report. */
export function readHistory(path: string): Record<string, string>[] {
  if (!existsSync(path)) return [];
  try {
    return parse(readFileSync(path, 'utf8'), { columns: true, bom: true, relax_column_count: true });
  } catch {
    return [];
  }
}
