/**
 * Cost at real usage and the break-even volume of one closed and one open model (gap.csv's best
 * and pair rows over a whole suite). The open model's capacity per machine comes from a capacity
 * result's goodput at its latency target when there is one for that model, else from this run's
 * own throughput at the concurrency it happened to run at; `open_capacity_source` says which.
 */
import type { Price } from '../types.js';
import { busyTime, type Aggregate, type Cell } from './aggregate.js';
import type { CapacityResult } from './capacity-read.js';

/** Hours in a month, for monthly rent and capacity (365 x 24 / 12). */
const HOURS_PER_MONTH = 730;

/** gap.csv's cost and break-even fields (a GapRow has them; only best and pair rows over a whole suite fill them). */
export interface BreakEven {
  /** Cost of 1,000 correct answers from the closed model at its measured per-request cost. */
  closed_cost_per_1k_correct_usd?: number;
  /** The same for the open model: a rented machine at its `utilization`, serving at its capacity figure. */
  open_cost_per_1k_correct_usd?: number;
  /** Monthly requests above which the self-hosted model is cheaper; empty when one machine never is. */
  breakeven_requests_per_month?: number;
  /** Which throughput the open side's cost and capacity use: a capacity run's goodput, or this run's own. */
  open_capacity_source?: string;
  /** The open model's latency at its goodput step, and the API's, from the capacity result. */
  open_ttft_p95_ms_at_goodput?: number;
  closed_ttft_p95_ms?: number;
  open_e2e_p95_ms_at_goodput?: number;
  closed_e2e_p95_ms?: number;
  /** The inputs of the cost-vs-volume chart (report.html): the API's cost per request, the month's rent, one machine's monthly capacity. */
  closed_cost_per_request_usd?: number;
  open_monthly_cost_usd?: number;
  open_capacity_requests_per_month?: number;
}

/** The row a break-even is computed for. */
interface RowKey {
  suite: string;
  category: string;
  scope: string;
  closed_model: string;
  open_model: string;
}

/** One open model's requests per busy hour, and the words that say where the figure comes from. */
interface Throughput {
  perHour?: number;
  source: string;
  /** From a capacity result: the latency at that load (goodput step). */
  ttftP95Ms?: number;
  e2eP95Ms?: number;
}

/** What this run measured of one model over the row's suite(s). */
interface Usage {
  records: number;
  passed: number;
  tokenCost: number;
  throughput?: number;
  /** Mean requests in flight while busy (answers' latency / busy time): the run's own concurrency as it really was. */
  inFlight?: number;
}

function usage(agg: Aggregate, row: RowKey, model: string): Usage {
  let records = 0;
  let passed = 0;
  let tokenCost = 0;
  let requestMs = 0;
  const cells: Cell[] = [];
  for (const c of agg.cells.values()) {
    if (c.model !== model || (row.suite !== 'all' && c.suite !== row.suite)) continue;
    records += c.n + c.excluded;
    passed += c.passed;
    tokenCost += c.tokenCost;
    cells.push(c);
    // Request time only: a record's interval also holds its wait for a free slot of the lane.
    requestMs += c.latencySumMs;
  }
  const busy = busyTime(cells);
  const busyHours = busy.ms / 3_600_000;
  return {
    records,
    passed,
    tokenCost,
    throughput: busyHours > 0 ? busy.requests / busyHours : undefined,
    inFlight: busy.ms > 0 ? requestMs / busy.ms : undefined,
  };
}

const fmt = (n: number) => String(Number(n.toPrecision(3)));

function inFlightWords(n: number): string {
  const v = Number(n.toPrecision(2));
  return `on average ${v} request${v === 1 ? '' : 's'} in flight`;
}

/** The open model's capacity figure: the capacity result's goodput when it has one, else this run's. */
function openThroughput(model: string, own: Usage, capacity: CapacityResult | undefined): Throughput {
  const ownSource = own.throughput
    ? `this run's throughput at its own concurrency${own.inFlight ? ` (${inFlightWords(own.inFlight)})` : ''}`
    : "this run's throughput, none measured (answers that took no measurable time)";
  const fallback = (why: string) => ({ perHour: own.throughput, source: `${ownSource}; ${why}` });
  if (!capacity) return { perHour: own.throughput, source: ownSource };
  const g = capacity.goodput.get(model);
  const run = `capacity run ${capacity.runId}`;
  if (capacity.unreadable) return fallback(`${run} unreadable (${capacity.unreadable})`);
  if (!g) return fallback(`${run} has no result for this model`);
  if (!g.requestsPerS) return fallback(`${run}: no step met ${g.slo || 'the SLO'}`);
  const at = g.concurrency !== undefined ? ` at concurrency ${fmt(g.concurrency)}` : '';
  return {
    perHour: g.requestsPerS * 3600,
    source: `goodput ${g.slo}: ${fmt(g.requestsPerS)} requests/s${at} (${run})`,
    ttftP95Ms: g.ttftP95Ms,
    e2eP95Ms: g.e2eP95Ms,
  };
}

/** The API's latency as the capacity run measured it: its highest load step (the run's concurrency). */
function closedLatency(model: string, capacity: CapacityResult | undefined): BreakEven {
  const steps = (capacity?.steps ?? []).filter((s) => s.side === 'closed' && s.model === model && s.requests > 0);
  const last = steps.sort((a, b) => a.step - b.step).at(-1);
  return last ? { closed_ttft_p95_ms: last.ttftP95Ms, closed_e2e_p95_ms: last.e2eP95Ms } : {};
}

/**
 * The closed API costs what the run measured per request. The open model runs on a machine rented
 * for the whole month (perHour x 730 h); at `utilization` u it serves at most u x throughput
 * (requests per busy hour) x 730 requests a month, and one of its requests costs perHour / (u x
 * throughput). Break-even is the monthly volume at which the API's cost for the same requests
 * equals the rent; it is left empty when that volume exceeds what one machine can serve (then no
 * number of machines is cheaper: each full machine costs more than the API would for its requests).
 */
export function breakEven(
  agg: Aggregate,
  row: RowKey,
  priceOf: (model: string) => Price | undefined,
  capacity?: CapacityResult,
): BreakEven {
  if (row.category !== 'all' || row.scope === 'mean') return {};
  const cp = priceOf(row.closed_model);
  const op = priceOf(row.open_model);
  const c = usage(agg, row, row.closed_model);
  const o = usage(agg, row, row.open_model);
  const out: BreakEven = closedLatency(row.closed_model, capacity);
  const closedTokenPriced = cp && (cp.input !== undefined || cp.output !== undefined);
  const closedPerRequest = closedTokenPriced && c.records > 0 ? c.tokenCost / c.records : undefined;
  if (closedPerRequest !== undefined && c.passed > 0)
    out.closed_cost_per_1k_correct_usd = ((closedPerRequest * c.records) / c.passed) * 1000;
  if (closedPerRequest !== undefined) out.closed_cost_per_request_usd = closedPerRequest;
  const t = op?.perHour !== undefined ? openThroughput(row.open_model, o, capacity) : undefined;
  // Said even when no figure came of it (no throughput measured, no answer right).
  if (t) out.open_capacity_source = t.source;
  if (op?.perHour !== undefined && t?.perHour && o.passed > 0) {
    const u = op.utilization ?? 1;
    const capacityPerMonth = u * t.perHour * HOURS_PER_MONTH;
    Object.assign(out, {
      open_ttft_p95_ms_at_goodput: t.ttftP95Ms,
      open_e2e_p95_ms_at_goodput: t.e2eP95Ms,
      open_monthly_cost_usd: op.perHour * HOURS_PER_MONTH,
      open_capacity_requests_per_month: Math.floor(capacityPerMonth),
      open_cost_per_1k_correct_usd: ((op.perHour / (u * t.perHour)) * o.records * 1000) / o.passed,
    });
    if (closedPerRequest && closedPerRequest > 0) {
      const volume = (op.perHour * HOURS_PER_MONTH) / closedPerRequest;
      if (volume <= capacityPerMonth) out.breakeven_requests_per_month = Math.ceil(Number(volume.toPrecision(12)));
    }
  } else if (op && (op.input !== undefined || op.output !== undefined) && o.records > 0 && o.passed > 0) {
    out.open_cost_per_1k_correct_usd = (o.tokenCost / o.passed) * 1000;
  }
  return out;
}
