import type { GapRow } from './gap.js';
import { renderSvg } from './html-charts.js';

/** Machines drawn past the first: enough to show the staircase, few enough to read it. */
const MACHINES = 4;

const count = (n: number) => Math.round(n).toLocaleString('en');

/** 1,200 → 1.2k, 3,500,000 → 3.5M: log-axis ticks that fit. */
function compact(n: number): string {
  const units: [number, string][] = [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [u, s] of units) if (n >= u) return `${Number((n / u).toPrecision(3))}${s}`;
  return String(Number(n.toPrecision(3)));
}

/**
 * Monthly cost against monthly requests for each best/pair row that priced both sides: the API's
 * cost is a straight line through zero; self-hosting is a staircase, one more machine's rent each
 * time the volume passes a machine's capacity (its goodput, or this run's throughput: the subtitle
 * says which). Both axes are logarithmic, so a crossing at a small fraction of a machine and the
 * steps of several machines fit one chart; the first crossing (the break-even) is marked.
 */
export function breakEvenSection(gaps: readonly GapRow[]): string {
  const rows = gaps.filter(
    (g) =>
      g.closed_cost_per_request_usd &&
      g.open_monthly_cost_usd !== undefined &&
      g.open_capacity_requests_per_month &&
      g.open_capacity_requests_per_month > 0,
  );
  return rows
    .slice(0, 6)
    .map((g) => `<figure>${costVolumeChart(g)}</figure>`)
    .join('');
}

function costVolumeChart(g: GapRow): string {
  const cap = g.open_capacity_requests_per_month!;
  const rent = g.open_monthly_cost_usd!;
  const perRequest = g.closed_cost_per_request_usd!;
  const be = g.breakeven_requests_per_month;
  const lo = 10 ** Math.floor(Math.log10(Math.min(cap, be ?? cap) / 5));
  const hi = cap * MACHINES;
  // The staircase: machine k serves up to k x cap for k x rent (a riser at each k x cap).
  const steps: [number, number][] = [[lo, rent]];
  for (let k = 1; k <= MACHINES; k++)
    steps.push([k * cap, k * rent], ...(k < MACHINES ? [[k * cap, (k + 1) * rent] as [number, number]] : []));
  const api: [number, number][] = [lo, ...Array.from({ length: 40 }, (_, i) => lo * (hi / lo) ** ((i + 1) / 40))].map(
    (x) => [x, x * perRequest],
  );
  const source = g.open_capacity_source ? ` · capacity: ${g.open_capacity_source}` : '';
  return renderSvg(
    {
      title: {
        text: `Monthly cost against volume / 成本与月请求量 · ${g.suite} · ${g.closed_model} (API) vs ${g.open_model} (self-hosted)`,
        subtext: `one machine: $${count(rent)} a month for up to ${count(cap)} requests${source}`,
        left: 8,
        textStyle: { fontSize: 13, width: 860, overflow: 'break' },
        subtextStyle: { fontSize: 11, width: 860, overflow: 'break', color: '#556' },
      },
      legend: { bottom: 0, left: 'center' },
      grid: { left: 90, right: 40, top: 80, bottom: 75 },
      xAxis: {
        type: 'log',
        name: 'requests / month (log scale)',
        nameLocation: 'middle',
        nameGap: 28,
        min: lo,
        max: hi,
        axisLabel: { formatter: (v: number) => compact(v) },
      },
      yAxis: {
        type: 'log',
        name: 'USD / month (log scale)',
        nameLocation: 'middle',
        nameGap: 65,
        axisLabel: { formatter: (v: number) => `$${compact(v)}` },
      },
      series: [
        {
          type: 'line',
          name: 'API (per request)',
          showSymbol: false,
          data: api,
          color: '#3b6fb6',
          lineStyle: { width: 2 },
        },
        {
          type: 'line',
          name: `self-hosted (one more machine every ${count(cap)} requests)`,
          showSymbol: false,
          data: steps,
          color: '#d9822b',
          lineStyle: { width: 2 },
          markPoint:
            be === undefined
              ? undefined
              : {
                  symbol: 'circle',
                  symbolSize: 9,
                  label: {
                    position: 'left',
                    distance: 8,
                    fontSize: 12,
                    formatter: `break-even ${count(be)} requests/month`,
                    backgroundColor: '#fff',
                  },
                  data: [{ name: 'break-even', coord: [be, rent] }],
                },
        },
      ],
    },
    900,
    340,
  );
}
