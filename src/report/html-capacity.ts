/**
 * The throughput-latency chart of a capacity sweep (one curve per swept model: output tokens/s
 * against TTFT p95 and e2e p95, a point per concurrency step, the knee and the goodput marked, the
 * SLO's TTFT bound as a line, each API model's TTFT p95 at concurrency 1 as a dashed line), and
 * report.html of a capacity run around it. Inline SVG rendered by ECharts, as report.html's charts.
 */
import { writeFileSync } from 'node:fs';
import { CAPACITY_COLUMNS, GOODPUT_COLUMNS } from './capacity-columns.js';
import { goodputRow, sloText, stepRow, type CapacityStep, type Goodput, type Slo } from './capacity.js';
import { niceRange } from './chart-labels.js';
import { renderSvg } from './html-charts.js';
import { escapeHtml, rowsTable } from './html-tables.js';
import { STYLE } from './html-style.js';

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;
const COLORS = ['#3b6fb6', '#d9822b', '#2e9e6b', '#b6443b', '#7a5cc0', '#8c6d3f'];

/** The knee and the goodput on a model's TTFT curve (one mark when they are the same step). */
function markers(g: Goodput | undefined): { coord: number[]; name: string; symbol: string }[] {
  const at = (s: CapacityStep, name: string, symbol: string) => ({
    coord: [round(s.stats.outputTokensPerS, 1), round(s.stats.ttft.p95 / 1000, 3)],
    name: `${name} (c=${s.concurrency})`,
    symbol,
  });
  if (g?.knee && g.knee === g.goodput) return [at(g.knee, 'knee = goodput', 'diamond')];
  return [
    ...(g?.knee ? [at(g.knee, 'knee', 'diamond')] : []),
    ...(g?.goodput ? [at(g.goodput, 'goodput', 'triangle')] : []),
  ];
}

/** One curve per swept model; `goodput` marks each model's knee and goodput. */
export function capacityChart(steps: readonly CapacityStep[], goodput: readonly Goodput[], slo: Slo): string {
  const open = steps.filter((s) => s.side === 'open' && s.stats.requests > 0);
  if (!open.length) return '<p>No swept model answered: no throughput-latency curve.</p>';
  const models = [...new Set(open.map((s) => s.model))];
  const closed = steps.filter((s) => s.side === 'closed' && s.concurrency === 1 && s.stats.requests > 0);
  const ys = [...open.flatMap((s) => [s.stats.ttft.p95, s.stats.e2e.p95]), ...closed.map((s) => s.stats.ttft.p95)];
  if (slo.ttftP95Ms !== undefined) ys.push(slo.ttftP95Ms);
  const y = niceRange(0, Math.max(...ys.filter(Number.isFinite)) / 1000);
  const x = niceRange(0, Math.max(...open.map((s) => s.stats.outputTokensPerS)));
  const sloLine =
    slo.ttftP95Ms === undefined
      ? []
      : [
          {
            yAxis: slo.ttftP95Ms / 1000,
            name: `SLO TTFT p95 ${slo.ttftP95Ms / 1000} s`,
            lineStyle: { color: '#b6443b' },
          },
        ];
  const apiLines = closed.map((s) => ({
    yAxis: round(s.stats.ttft.p95 / 1000, 3),
    name: `${s.model} (API) TTFT p95`,
    lineStyle: { color: '#888', type: 'dashed' as const },
  }));
  const series = models.flatMap((m, i) => {
    const pts = open.filter((s) => s.model === m).sort((a, b) => a.concurrency - b.concurrency);
    const color = COLORS[i % COLORS.length];
    const line = (name: string, pick: (s: CapacityStep) => number, dashed: boolean) => ({
      type: 'line' as const,
      name,
      color,
      symbolSize: 7,
      lineStyle: { type: dashed ? ('dashed' as const) : ('solid' as const) },
      data: pts.map((s) => ({
        value: [round(s.stats.outputTokensPerS, 1), round(pick(s) / 1000, 3)],
        name: `c=${s.concurrency}`,
      })),
      label: { show: !dashed, formatter: '{b}', fontSize: 10, position: 'left' as const },
    });
    const ttft = {
      ...line(`${m} TTFT p95`, (s) => s.stats.ttft.p95, false),
      markPoint: {
        data: markers(goodput.find((g) => g.model === m)),
        symbolSize: 14,
        label: { show: true, formatter: '{b}', fontSize: 10, position: 'top' as const, distance: 8 },
      },
      ...(i === 0
        ? {
            markLine: {
              symbol: 'none',
              data: [...sloLine, ...apiLines],
              label: { formatter: '{b}', fontSize: 10, position: 'insideEndTop' as const },
            },
          }
        : {}),
    };
    return [ttft, line(`${m} e2e p95`, (s) => s.stats.e2e.p95, true)];
  });
  return `<figure>${renderSvg(
    {
      title: { text: 'Throughput against latency / 吞吐量与延迟', left: 8, textStyle: { fontSize: 14 } },
      legend: { top: 30, right: 10 },
      grid: { left: 70, right: 40, top: 80, bottom: 50 },
      xAxis: { type: 'value', name: 'output tokens/s', nameLocation: 'middle', nameGap: 30, ...x, interval: x.step },
      yAxis: { type: 'value', name: 'seconds (p95)', ...y, interval: y.step },
      series,
    },
    900,
    420,
  )}<figcaption>One point per concurrency step (c=N). Solid: time to first token, p95; dashed: end-to-end, p95. Past the knee throughput stops rising and requests queue; goodput is the last point within the target.</figcaption></figure>`;
}

interface CapacityHtmlInput {
  runId: string;
  steps: readonly CapacityStep[];
  goodput: readonly Goodput[];
  slo: Slo;
}

/** report.html of a capacity run. */
export function writeCapacityHtml(path: string, r: CapacityHtmlInput): void {
  const sections = [
    [`Throughput and latency, target ${sloText(r.slo)}`, capacityChart(r.steps, r.goodput, r.slo)],
    [
      'goodput.csv',
      rowsTable(
        r.goodput.map((g) => goodputRow(r.runId, g)),
        GOODPUT_COLUMNS,
      ),
    ],
    [
      'capacity.csv',
      rowsTable(
        r.steps.map((s) => stepRow(r.runId, s)),
        CAPACITY_COLUMNS,
      ),
    ],
  ];
  writeFileSync(
    path,
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>gapbench capacity ${escapeHtml(r.runId)}</title>` +
      `<style>${STYLE}</style></head><body><h1>gapbench capacity · ${escapeHtml(r.runId)}</h1>` +
      sections.map(([h, body]) => `<section><h2>${escapeHtml(h)}</h2>${body}</section>`).join('') +
      '</body></html>\n',
  );
}
