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
 * step ringed; each API measured at low load as a horizontal line at its TTFT p95, for comparison
 * (a line, not a point: an API's requests/s at concurrency 1 says nothing of its capacity, and a
 * fast API's point would squeeze every self-hosted curve against the axis).
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
  // Each API's line: its TTFT p95 at its lowest load.
  const apiLines = [...bySeries.entries()]
    .filter(([key]) => key.startsWith('closed\u0000'))
    .map(([key, steps]) => {
      const low = steps.reduce((a, s) => ((s.concurrency ?? 1) < (a.concurrency ?? 1) ? s : a));
      const at = secs(low.ttftP95Ms)!;
      return {
        yAxis: at,
        lineStyle: { type: 'dotted' as const, color: '#2e7d32' },
        label: { formatter: `${key.split('\u0000')[1]} (API): TTFT p95 ${at} s`, position: 'insideStartTop' as const },
      };
    });
  const sloLine =
    bound === undefined
      ? []
      : [
          {
            yAxis: bound / 1000,
            lineStyle: { type: 'dashed' as const, color: '#c0392b' },
            label: { formatter: `SLO: TTFT p95 ≤ ${bound / 1000} s`, position: 'insideEndTop' as const },
          },
        ];
  const open = [...bySeries.entries()].filter(([key]) => key.startsWith('open\u0000'));
  const series = open.map(([key, steps], i) => {
    const model = key.split('\u0000')[1];
    // By load, not by the order measured: a sweep's bisection steps come after the ladder.
    const sorted = [...steps].sort((a, b) => (a.concurrency ?? a.rateRps ?? 0) - (b.concurrency ?? b.rateRps ?? 0));
    const good = capacity.goodput.get(model);
    return {
      type: 'line' as const,
      name: `${model} (self-hosted)`,
      symbol: 'circle',
      symbolSize: 7,
      data: sorted.map((s) => ({
        value: [Number(s.requestsPerS.toPrecision(4)), secs(s.ttftP95Ms)],
        label: {
          show: true,
          position: 'top' as const,
          fontSize: 10,
          formatter:
            (s.concurrency !== undefined ? `c=${s.concurrency}` : `${s.rateRps} rps`) +
            (s.concurrency !== undefined && s.concurrency === good?.saturationConcurrency ? ' (knee)' : ''),
        },
        // The goodput step: the most the model serves within the target.
        ...(good?.concurrency !== undefined && s.concurrency === good.concurrency && s.meetsSlo
          ? { symbolSize: 14, itemStyle: { borderWidth: 3, borderColor: '#1d232b' } }
          : {}),
      })),
      ...(i === 0 && sloLine.length + apiLines.length
        ? { markLine: { symbol: 'none', silent: true, data: [...sloLine, ...apiLines] } }
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
