import type { SummaryRow } from './summary.js';
import { niceRange, placeLabels, textWidth } from './chart-labels.js';
import { speedNote } from './html-speed.js';
import * as echarts from 'echarts';

/** report.html's cost, break-even, latency and history charts (labels placed by chart-labels.ts). */

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

export const FONT = "system-ui, 'Noto Sans CJK SC', 'Microsoft YaHei', 'PingFang SC', sans-serif";

// Widths that err wide (see textWidth): ECharts lays legends and axis labels out on them.
echarts.setPlatformAPI({ measureText: textWidth });

/** One chart as an SVG string; ECharts is used without a DOM (ssr). */
export function renderSvg(option: echarts.EChartsOption, width = 900, height = 360): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ animation: false, textStyle: { fontFamily: FONT }, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

export function costSection(summary: readonly SummaryRow[]): string {
  const priced = summary.filter((s) => s.cost_per_correct_usd !== undefined);
  if (!priced.length) return '<p>No model has a price: cost per correct answer is not known.</p>';
  const [width, height] = [900, Math.max(360, 140 + priced.length * 18)];
  const grid = { left: 70, right: 40, top: 80, bottom: 50 };
  const x = niceRange(0, Math.max(...priced.map((s) => s.cost_per_correct_usd!)));
  const y = niceRange(
    Math.max(0, Math.min(...priced.map((s) => s.score * 100)) - 2),
    Math.min(100, Math.max(...priced.map((s) => s.score * 100)) + 2),
  );
  const plot = { x0: grid.left, x1: width - grid.right, y0: grid.top, y1: height - grid.bottom };
  const points = priced.map((s) => ({
    px: plot.x0 + ((s.cost_per_correct_usd! - x.min) / (x.max - x.min)) * (plot.x1 - plot.x0),
    py: plot.y1 - ((s.score * 100 - y.min) / (y.max - y.min)) * (plot.y1 - plot.y0),
    text: `${s.suite} · ${s.model}`,
  }));
  // Points of similar cost and score would print their names over each other: placed apart here.
  const placed = placeLabels(points, { right: width - 4, top: plot.y0, bottom: plot.y1 }, 11);
  const series = (['closed', 'open'] as const).map((group) => ({
    type: 'scatter' as const,
    name: group,
    symbolSize: 10,
    data: priced.flatMap((s, i) =>
      s.group !== group
        ? []
        : [
            {
              value: [s.cost_per_correct_usd!, round(s.score * 100)],
              name: points[i].text,
              label: { position: placed[i].side, offset: [0, placed[i].dy] },
              labelLine: { show: Math.abs(placed[i].dy) > 2, lineStyle: { color: '#aab' } },
            },
          ],
    ),
    label: { show: true, formatter: '{b}', fontSize: 11, distance: 3 },
  }));
  return `<figure>${renderSvg(
    {
      title: {
        text: 'Cost per correct answer (USD) against score / 每个正确答案的成本',
        left: 8,
        textStyle: { fontSize: 14 },
      },
      legend: { top: 30, right: 10 },
      grid,
      xAxis: {
        type: 'value',
        name: 'USD / correct',
        nameLocation: 'middle',
        nameGap: 30,
        min: x.min,
        max: x.max,
        interval: x.step,
      },
      yAxis: scoreAxis(y),
      series,
    },
    width,
    height,
  )}</figure>`;
}

export function latencySection(summary: readonly SummaryRow[]): string {
  const labels = summary.map((s) => `${s.suite} · ${s.model}`);
  const bars = (name: string, values: number[]) => ({
    type: 'bar' as const,
    name,
    data: values,
    label: { show: true, position: 'right' as const },
  });
  // Streamed answers add what a user waits before the first token appears.
  const streamed = summary.some((s) => !Number.isNaN(s.ttft_p50_ms));
  const ms = (v: number) => (Number.isNaN(v) ? 0 : Math.round(v));
  const height = Math.max(200, 70 + summary.length * (streamed ? 70 : 40));
  const latency = renderSvg(
    {
      title: {
        text: streamed ? 'Latency and time to first token (ms) / 延迟与首字时间' : 'Latency p50 / p95 (ms) / 延迟',
        left: 8,
        textStyle: { fontSize: 14 },
      },
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
        ...(streamed
          ? [
              bars(
                'TTFT p50',
                summary.map((s) => ms(s.ttft_p50_ms)),
              ),
              bars(
                'TTFT p95',
                summary.map((s) => ms(s.ttft_p95_ms)),
              ),
            ]
          : []),
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
  return `<figure>${latency}${speedNote(summary)}</figure><figure>${errors}</figure>`;
}

/**
 * Each model's score over the runs history.csv holds (shown once it holds two runs or more). The
 * legend stands at the right, one line per suite x model, and only each line's last point is
 * labelled (labels of close scores shifted apart): one label per point overlaps as soon as two
 * models score alike.
 */
export function historySection(all: readonly Record<string, string>[]): string {
  // A run of a subset of the cases (history.csv's filter column) is no point on a suite's trend.
  // A run of a subset of the cases (--limit, --case, ...) is not on the same footing as whole runs.
  const history = all.filter((h) => !h.filtered);
  const runs = [...new Set(history.map((h) => h.run_id))];
  if (runs.length < 2) return '<p>history.csv holds this run only: no trend yet.</p>';
  const series = new Map<string, (number | null)[]>();
  for (const h of history) {
    const key = `${h.suite} · ${h.model.replace(/^'/, '')}`;
    const values = series.get(key) ?? runs.map(() => null);
    // A run whose every answer was left out of the score has none (an empty cell): no point.
    const score = h.score === '' ? NaN : Number(h.score);
    values[runs.indexOf(h.run_id)] = Number.isFinite(score) ? round(score * 100) : null;
    series.set(key, values);
  }
  for (const [key, data] of series) if (data.every((v) => v === null)) series.delete(key);
  const values = [...series.values()].flat().filter((v): v is number => v !== null);
  if (!values.length) return '<p>history.csv holds no scores to chart yet.</p>';
  const [width, height] = [900, Math.max(360, 90 + series.size * 22)];
  const longest = Math.max(...[...series.keys()].map((k) => textWidth(k, '12px').width));
  const legendWidth = Math.min(420, longest + 40);
  const tilt = runs.length > 4 || runs.some((r) => r.length > 16);
  const grid = { left: 60, right: legendWidth + 60, top: 50, bottom: tilt ? 110 : 40 };
  const y = niceRange(Math.max(0, Math.min(...values) - 2), Math.min(100, Math.max(...values) + 2));
  const plot = { x0: grid.left, x1: width - grid.right, y0: grid.top, y1: height - grid.bottom };
  const slot = (plot.x1 - plot.x0) / runs.length;
  // Each line's last value is labelled, the labels of close scores placed apart.
  const ends = [...series.values()].map((data) => {
    const i = lastIndex(data);
    return {
      i,
      px: plot.x0 + (i + 0.5) * slot,
      py: plot.y1 - ((data[i]! - y.min) / (y.max - y.min)) * (plot.y1 - plot.y0),
      text: String(data[i]),
    };
  });
  const placed = placeLabels(ends, { right: plot.x1 + 50, top: plot.y0, bottom: plot.y1 });
  return `<figure>${renderSvg(
    {
      title: { text: 'Score over runs (history.csv) / 历次得分', left: 8, textStyle: { fontSize: 14 } },
      legend: {
        type: 'plain',
        orient: 'vertical',
        right: 8,
        top: 40,
        textStyle: { width: legendWidth - 40, overflow: 'truncate' },
      },
      grid,
      xAxis: { type: 'category', data: runs, axisLabel: { rotate: tilt ? 30 : 0, hideOverlap: true } },
      yAxis: scoreAxis(y),
      series: [...series].map(([name, data], k) => ({
        type: 'line' as const,
        name,
        data: data.map((v, i) =>
          i === ends[k].i
            ? {
                value: v,
                label: {
                  show: true,
                  color: 'inherit',
                  position: placed[k].side,
                  distance: 6,
                  offset: [0, placed[k].dy],
                },
              }
            : v,
        ),
        connectNulls: true,
      })),
    },
    width,
    height,
  )}</figure>`;
}

/** Index of the last value that is not null. */
function lastIndex(values: readonly (number | null)[]): number {
  for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null) return i;
  return -1;
}

/** The score axis (percent) on a range niceRange chose: the same in every chart that has one. */
function scoreAxis(y: { min: number; max: number; step: number }) {
  return {
    type: 'value' as const,
    name: 'score %',
    nameLocation: 'middle' as const,
    nameGap: 40,
    min: y.min,
    max: y.max,
    interval: y.step,
  };
}
