import type { CapacityResult, CapacityStep } from './capacity-read.js';
import { niceRange } from './chart-labels.js';
import { renderSvg } from './html-charts.js';

/** The TTFT bound of an SLO text as goodput.csv writes it (`ttft_p95<=2s;...`), in ms. */
function ttftBoundMs(slo: string): number | undefined {
  const m = /ttft_p95<=(\d+(?:\.\d+)?)(ms|s)\b/.exec(slo);
  return m ? Number(m[1]) * (m[2] === 's' ? 1000 : 1) : undefined;
}

const secs = (ms: number | undefined) => (ms === undefined ? undefined : Math.round(ms) / 1000);

/**
 * Throughput against latency from a capacity result (capacity.csv): one line per swept open model,
 * a point per load step labelled with its concurrency (or rate), time to first token p95 rising
 * past the knee as requests queue; the SLO's TTFT bound as a horizontal line, each model's goodput
 * step ringed; the APIs measured at low load as single points, for comparison.
 */
export function throughputLatencySection(capacity: CapacityResult | undefined): string {
  if (!capacity || capacity.unreadable || !capacity.steps.some((s) => s.side === 'open')) return '';
  const bySeries = new Map<string, CapacityStep[]>();
  for (const s of capacity.steps) {
    if (s.requests === 0 || s.ttftP95Ms === undefined) continue;
    const key = `${s.side}\u0000${s.model}`;
    bySeries.set(key, [...(bySeries.get(key) ?? []), s]);
  }
  const slo = [...capacity.goodput.values()].map((g) => g.slo).find(Boolean) ?? '';
  const bound = ttftBoundMs(slo);
  // The target's line stays in view even when every step is far below it.
  const top = Math.max(bound ?? 0, ...capacity.steps.map((s) => s.ttftP95Ms ?? 0)) / 1000;
  const series = [...bySeries.entries()].map(([key, steps], i) => {
    const [side, model] = key.split('\u0000');
    // By load, not by the order measured: a sweep's bisection steps come after the ladder.
    const sorted = [...steps].sort((a, b) => (a.concurrency ?? a.rateRps ?? 0) - (b.concurrency ?? b.rateRps ?? 0));
    const good = capacity.goodput.get(model);
    return {
      type: side === 'open' ? ('line' as const) : ('scatter' as const),
      name: side === 'open' ? `${model} (self-hosted)` : `${model} (API)`,
      symbol: side === 'open' ? 'circle' : 'diamond',
      symbolSize: side === 'open' ? 7 : 11,
      data: sorted.map((s) => ({
        value: [Number(s.requestsPerS.toPrecision(4)), secs(s.ttftP95Ms)],
        label: {
          show: true,
          position: side === 'open' ? ('top' as const) : ('right' as const),
          fontSize: 10,
          formatter:
            (s.concurrency !== undefined ? `c=${s.concurrency}` : `${s.rateRps} rps`) +
            (side === 'open' && s.concurrency !== undefined && s.concurrency === good?.saturationConcurrency
              ? ' (knee)'
              : ''),
        },
        // The goodput step: the most the model serves within the target.
        ...(side === 'open' && good?.concurrency !== undefined && s.concurrency === good.concurrency && s.meetsSlo
          ? { symbolSize: 14, itemStyle: { borderWidth: 3, borderColor: '#1d232b' } }
          : {}),
      })),
      ...(i === 0 && bound !== undefined
        ? {
            markLine: {
              symbol: 'none',
              silent: true,
              lineStyle: { type: 'dashed' as const, color: '#c0392b' },
              label: { formatter: `SLO: TTFT p95 ≤ ${bound / 1000} s`, position: 'insideEndTop' as const },
              data: [{ yAxis: bound / 1000 }],
            },
          }
        : {}),
    };
  });
  const goodWords = [...capacity.goodput.values()]
    .map((g) =>
      g.requestsPerS
        ? `${g.model}: goodput ${Number(g.requestsPerS.toPrecision(3))} requests/s at concurrency ${g.concurrency ?? '?'} (ringed)`
        : `${g.model}: no step met the target`,
    )
    .join(' · ');
  return `<figure>${renderSvg(
    {
      title: {
        text: `Throughput against time to first token / 吞吐量与首字延迟 · capacity run ${capacity.runId}`,
        subtext: `${slo ? `target ${slo} · ` : ''}${goodWords}`,
        left: 8,
        textStyle: { fontSize: 13, width: 860, overflow: 'break' },
        subtextStyle: { fontSize: 11, width: 860, overflow: 'break', color: '#556' },
      },
      legend: { bottom: 0, left: 'center' },
      grid: { left: 80, right: 40, top: 80, bottom: 75 },
      xAxis: { type: 'value', name: 'requests / s', nameLocation: 'middle', nameGap: 28 },
      yAxis: {
        type: 'value',
        name: 'TTFT p95 (s)',
        nameLocation: 'middle',
        nameGap: 50,
        ...(({ max, step }) => ({ min: 0, max, interval: step }))(niceRange(0, top * 1.1)),
      },
      series,
    },
    900,
    380,
  )}</figure>`;
}
