/**
 * What a capacity sweep measures and writes: the latency target (SLO), one step's figures, the
 * goodput found in a model's steps, capacity.csv (a row appended the moment its step ends, so a
 * killed sweep keeps its finished steps), goodput.csv and the terminal table. docs/capacity.md.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { CAPACITY_COLUMNS, GOODPUT_COLUMNS } from './capacity-columns.js';
import { formatNumber, toCsvString, toLine, type CsvValue } from './csv.js';

/** A latency target on p95s, in ms; an absent bound is no bound. */
export interface Slo {
  ttftP95Ms?: number;
  itlP95Ms?: number;
  e2eP95Ms?: number;
}

/** The target as written in the config (`slo:`) or with --slo: any subset of these keys. */
export interface RawSlo {
  ttft_p95_s?: number;
  itl_p95_ms?: number;
  e2e_p95_s?: number;
}

/** Defaults for the keys not given: a chat product's usual target (docs/capacity.md). e2e: no bound. */
const DEFAULT_SLO: RawSlo = { ttft_p95_s: 2, itl_p95_ms: 100 };

export function resolveSlo(...layers: (RawSlo | undefined)[]): Slo {
  const raw: RawSlo = Object.assign({}, DEFAULT_SLO, ...layers.filter(Boolean));
  return {
    ...(raw.ttft_p95_s === undefined ? {} : { ttftP95Ms: raw.ttft_p95_s * 1000 }),
    ...(raw.itl_p95_ms === undefined ? {} : { itlP95Ms: raw.itl_p95_ms }),
    ...(raw.e2e_p95_s === undefined ? {} : { e2eP95Ms: raw.e2e_p95_s * 1000 }),
  };
}

/** `ttft_p95<=2s;itl_p95<=100ms`: goodput.csv's `slo` column. */
export function sloText(slo: Slo): string {
  const parts: string[] = [];
  if (slo.ttftP95Ms !== undefined) parts.push(`ttft_p95<=${formatNumber(slo.ttftP95Ms / 1000)}s`);
  if (slo.itlP95Ms !== undefined) parts.push(`itl_p95<=${formatNumber(slo.itlP95Ms)}ms`);
  if (slo.e2eP95Ms !== undefined) parts.push(`e2e_p95<=${formatNumber(slo.e2eP95Ms / 1000)}s`);
  return parts.join(';') || 'none';
}

/** One step's measured figures (warm-up excluded); percentiles are type 7 (linear interpolation). */
export interface StepStats {
  durationS: number;
  requests: number;
  requestsPerS: number;
  outputTokensPerS: number;
  ttft: { p50: number; p95: number };
  itl: { p50: number; p95: number };
  e2e: { p50: number; p95: number };
  errors: number;
  coldStarts: number;
  note?: string;
}

/** Whether a step's p95s are within the target; a step with no answer never is. NaN (not measured) fails a bound. */
export function meetsSlo(s: StepStats, slo: Slo): boolean {
  if (s.requests === 0) return false;
  const within = (v: number, bound: number | undefined) => bound === undefined || v <= bound;
  return within(s.ttft.p95, slo.ttftP95Ms) && within(s.itl.p95, slo.itlP95Ms) && within(s.e2e.p95, slo.e2eP95Ms);
}

export interface CapacityStep {
  model: string;
  side: 'open' | 'closed';
  step: number;
  concurrency: number;
  stats: StepStats;
  meetsSlo: boolean;
}

function stepCells(runId: string, s: CapacityStep): CsvValue[] {
  const t = s.stats;
  return [
    runId,
    s.model,
    s.side,
    s.step,
    s.concurrency,
    '',
    t.durationS,
    t.requests,
    t.requestsPerS,
    t.outputTokensPerS,
    t.ttft.p50,
    t.ttft.p95,
    t.itl.p50,
    t.itl.p95,
    t.e2e.p50,
    t.e2e.p95,
    t.errors,
    t.coldStarts,
    s.meetsSlo,
    t.note ?? '',
  ];
}

/** A step as capacity.csv's row, by column (report.html's table). */
export function stepRow(runId: string, s: CapacityStep): Record<string, CsvValue> {
  const cells = stepCells(runId, s);
  return Object.fromEntries(CAPACITY_COLUMNS.map((c, i) => [c, cells[i]]));
}

/** capacity.csv, written a whole line at a time as each step ends. */
export class CapacityCsv {
  constructor(
    readonly path: string,
    private readonly runId: string,
  ) {
    writeFileSync(path, toCsvString(CAPACITY_COLUMNS, []));
  }

  append(step: CapacityStep): void {
    appendFileSync(this.path, toLine(stepCells(this.runId, step)));
  }
}

/** A swept model's goodput (the best step within the target) and saturation (its plateau). */
export interface Goodput {
  model: string;
  slo: string;
  goodput?: CapacityStep;
  /**
   * The saturation throughput: the mean over the plateau (every step within 5% of the highest), so
   * one step's luck does not set it (the highest of several noisy steps is biased upwards). Absent
   * when no step got an answer.
   */
  plateau?: { requestsPerS: number; outputTokensPerS: number };
  /** The knee: the lowest concurrency within 5% of that throughput (goodput.csv's saturation_concurrency). */
  knee?: CapacityStep;
  note: string;
}

/** Within this fraction of the highest throughput counts as saturated. */
export const SATURATED = 0.05;

export function goodputOf(model: string, steps: readonly CapacityStep[], slo: Slo, notes: string[] = []): Goodput {
  const answered = steps.filter((s) => s.stats.requests > 0);
  const best = (xs: CapacityStep[]) =>
    xs.reduce<CapacityStep | undefined>(
      (a, s) => (!a || s.stats.requestsPerS > a.stats.requestsPerS ? s : a),
      undefined,
    );
  const goodput = best(answered.filter((s) => s.meetsSlo));
  const top = best(answered)?.stats.requestsPerS ?? 0;
  const flat = answered.filter((s) => s.stats.requestsPerS >= (1 - SATURATED) * top);
  const mean = (f: (s: CapacityStep) => number) => flat.reduce((a, s) => a + f(s), 0) / flat.length;
  const plateau = flat.length
    ? { requestsPerS: mean((s) => s.stats.requestsPerS), outputTokensPerS: mean((s) => s.stats.outputTokensPerS) }
    : undefined;
  const knee = flat.reduce<CapacityStep | undefined>(
    (a, s) => (!a || s.concurrency < a.concurrency ? s : a),
    undefined,
  );
  const why = !plateau
    ? 'no step got an answer: no goodput'
    : !goodput
      ? 'no step met the SLO (not even concurrency 1): no goodput'
      : '';
  return {
    model,
    slo: sloText(slo),
    goodput,
    plateau,
    knee,
    note: [why, ...notes].filter(Boolean).join('; '),
  };
}

function goodputCells(runId: string, g: Goodput): CsvValue[] {
  return [
    runId,
    g.model,
    g.slo,
    g.goodput?.stats.requestsPerS,
    g.goodput?.stats.outputTokensPerS,
    g.goodput?.concurrency,
    g.goodput?.stats.ttft.p95,
    g.goodput?.stats.e2e.p95,
    g.plateau?.requestsPerS,
    g.plateau?.outputTokensPerS,
    g.knee?.concurrency,
    g.note,
  ];
}

/** A model's goodput as goodput.csv's row, by column. */
export function goodputRow(runId: string, g: Goodput): Record<string, CsvValue> {
  const cells = goodputCells(runId, g);
  return Object.fromEntries(GOODPUT_COLUMNS.map((c, i) => [c, cells[i]]));
}

export function writeGoodputCsv(path: string, runId: string, rows: readonly Goodput[]): void {
  writeFileSync(
    path,
    toCsvString(
      GOODPUT_COLUMNS,
      rows.map((g) => goodputCells(runId, g)),
    ),
  );
}

/** The terminal table: per swept model its goodput, its saturation, and the knee (where throughput stops rising). */
export function goodputTable(rows: readonly Goodput[], safe: (s: string) => string): string {
  const num = (v: number | undefined, d = 1) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(d));
  const head = [
    'model',
    'goodput req/s',
    'tok/s',
    'at conc.',
    'TTFT p95 ms',
    'saturation req/s',
    'tok/s',
    'knee conc.',
  ];
  const lines = rows.map((g) => [
    safe(g.model),
    num(g.goodput?.stats.requestsPerS, 2),
    num(g.goodput?.stats.outputTokensPerS, 0),
    num(g.goodput?.concurrency, 0),
    num(g.goodput?.stats.ttft.p95, 0),
    num(g.plateau?.requestsPerS, 2),
    num(g.plateau?.outputTokensPerS, 0),
    num(g.knee?.concurrency, 0),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [fmt(head), ...lines.map(fmt)].join('\n') + '\n';
}
