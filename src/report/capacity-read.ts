/**
 * A capacity result (`gapbench capacity`'s run directory) read back for the break-even: capacity.csv
 * (one row per model x load step) and goodput.csv (one row per swept model). The files are outside
 * data (copied, edited, written by another version), so every cell the break-even uses is checked
 * and a bad one is a one-line error naming the file, line and column.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FileError, UsageError } from '../errors.js';
import { readBounded } from '../util/readfile.js';
import { CAPACITY_COLUMNS, GOODPUT_COLUMNS } from './capacity-columns.js';
import type { CapacityStep, Goodput, Slo } from './capacity.js';
import { splitRecords } from './history-read.js';

/** goodput.csv's row of a swept model; the goodput fields are absent when no step met the SLO. */
interface GoodputRow {
  model: string;
  slo: string;
  requestsPerS?: number;
  concurrency?: number;
  ttftP95Ms?: number;
  e2eP95Ms?: number;
  saturationRequestsPerS?: number;
  /** Where throughput stopped rising: the knee of the curve. */
  saturationConcurrency?: number;
  note: string;
}

export interface CapacityResult {
  /** The directory, absolute. */
  dir: string;
  /** The capacity run's id (its rows' run_id). */
  runId: string;
  /** capacity.csv's rows as `gapbench capacity` measured them (a number not measured is NaN). */
  steps: CapacityStep[];
  goodput: Map<string, GoodputRow>;
  /** Why the recorded result could not be read again (moved, deleted, damaged): the break-even says so. */
  unreadable?: string;
}

/** Largest capacity file read: a sweep writes a few hundred rows. */
const MAX_BYTES = 16 * 1024 * 1024;

/** Reads a capacity result directory (`dir`: as the user wrote it, for messages); a missing or bad one is a UsageError in one line. */
export function readCapacity(path: string, dir = path): CapacityResult {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new UsageError(`${dir}: no such capacity directory`);
  if (!statSync(abs).isDirectory()) throw new UsageError(`${dir}: not a directory (a capacity result is a directory)`);
  const capPath = join(abs, 'capacity.csv');
  const goodPath = join(abs, 'goodput.csv');
  if (!existsSync(capPath) || !existsSync(goodPath))
    throw new UsageError(
      `${dir}: no ${existsSync(capPath) ? 'goodput.csv' : 'capacity.csv'}: not a capacity result (written by gapbench capacity)`,
    );
  let runId = '';
  const steps = readTable(capPath, CAPACITY_COLUMNS).map(({ cell, num, line }): CapacityStep => {
    const side = cell('side');
    if (side !== 'open' && side !== 'closed')
      throw new FileError(capPath, line, `side: '${side.slice(0, 20)}' is neither open nor closed`);
    const meets = cell('meets_slo');
    if (meets !== 'true' && meets !== 'false')
      throw new FileError(capPath, line, `meets_slo: '${meets.slice(0, 20)}' is neither true nor false`);
    runId ||= cell('run_id');
    // An empty cell is a figure not measured (NaN, as the writer leaves it empty).
    const n = (name: string) => num(name) ?? NaN;
    return {
      model: need(cell('model'), capPath, line, 'model'),
      side,
      step: num('step') ?? 0,
      concurrency: n('concurrency'),
      stats: {
        durationS: n('duration_s'),
        requests: num('requests') ?? 0,
        requestsPerS: num('requests_per_s') ?? 0,
        outputTokensPerS: n('output_tokens_per_s'),
        ttft: { p50: n('ttft_p50_ms'), p95: n('ttft_p95_ms') },
        itl: { p50: n('itl_p50_ms'), p95: n('itl_p95_ms') },
        e2e: { p50: n('e2e_p50_ms'), p95: n('e2e_p95_ms') },
        errors: num('errors') ?? 0,
        coldStarts: num('cold_starts') ?? 0,
        note: cell('note'),
      },
      meetsSlo: meets === 'true',
    };
  });
  const goodput = new Map<string, GoodputRow>();
  for (const { cell, num, line } of readTable(goodPath, GOODPUT_COLUMNS)) {
    const model = need(cell('model'), goodPath, line, 'model');
    runId ||= cell('run_id');
    goodput.set(model, {
      model,
      slo: cell('slo'),
      requestsPerS: num('goodput_requests_per_s'),
      concurrency: num('goodput_concurrency'),
      ttftP95Ms: num('goodput_ttft_p95_ms'),
      e2eP95Ms: num('goodput_e2e_p95_ms'),
      saturationRequestsPerS: num('saturation_requests_per_s'),
      saturationConcurrency: num('saturation_concurrency'),
      note: cell('note'),
    });
  }
  return { dir: abs, runId: runId || abs, steps, goodput };
}

/** The capacity result a manifest recorded, read again for the reports; one that is gone is marked, not fatal. */
export function loadRecordedCapacity(ref: { dir: string; run_id: string }): CapacityResult {
  try {
    return readCapacity(ref.dir);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return { dir: ref.dir, runId: ref.run_id, steps: [], goodput: new Map(), unreadable: e.message };
  }
}

/**
 * A capacity result in the shapes `gapbench capacity` draws its throughput-latency chart from:
 * each swept model's goodput, saturation and knee steps found again by their concurrency, and the
 * target parsed back from goodput.csv's `slo` text (`ttft_p95<=2s;itl_p95<=100ms;e2e_p95<=30s`).
 */
export function chartInput(c: CapacityResult): { steps: CapacityStep[]; goodput: Goodput[]; slo: Slo } {
  const goodput = [...c.goodput.values()].map((g): Goodput => {
    const own = c.steps.filter((s) => s.side === 'open' && s.model === g.model && s.stats.requests > 0);
    const at = (conc: number | undefined, meets = false) =>
      own.find((s) => s.concurrency === conc && (!meets || s.meetsSlo));
    const saturation = own.reduce<CapacityStep | undefined>(
      (a, s) => (!a || s.stats.requestsPerS > a.stats.requestsPerS ? s : a),
      undefined,
    );
    return {
      model: g.model,
      slo: g.slo,
      goodput: g.requestsPerS ? at(g.concurrency, true) : undefined,
      saturation,
      knee: at(g.saturationConcurrency),
      note: g.note,
    };
  });
  const text = [...c.goodput.values()].map((g) => g.slo).find(Boolean) ?? '';
  const slo: Slo = {};
  for (const [key, field] of [
    ['ttft_p95', 'ttftP95Ms'],
    ['itl_p95', 'itlP95Ms'],
    ['e2e_p95', 'e2eP95Ms'],
  ] as const) {
    const m = new RegExp(`${key}<=(\\d+(?:\\.\\d+)?)(ms|s)\\b`).exec(text);
    if (m) slo[field] = Number(m[1]) * (m[2] === 's' ? 1000 : 1);
  }
  return { steps: c.steps, goodput, slo };
}

interface Row {
  cell: (name: string) => string;
  /** A number cell: empty is undefined, anything but a finite non-negative number an error. */
  num: (name: string) => number | undefined;
  line: number;
}

/** A CSV whose header must begin with `columns` in order (later columns are ignored). */
function readTable(path: string, columns: readonly string[]): Row[] {
  const text = readBounded(path, MAX_BYTES)
    .toString('utf8')
    .replace(/^\uFEFF/, '');
  const records = splitRecords(text);
  const header = records.shift()?.cells ?? [];
  columns.forEach((c, i) => {
    if (header[i] !== c)
      throw new FileError(path, 1, `column ${i + 1} is '${(header[i] ?? '').slice(0, 40)}', expected '${c}'`);
  });
  const rows: Row[] = [];
  for (const r of records) {
    if (r.cells.length === 1 && r.cells[0] === '') continue;
    if (!r.complete) throw new FileError(path, r.line, 'row cut off (no end of line or an unclosed quote)');
    if (r.cells.length < columns.length)
      throw new FileError(path, r.line, `${r.cells.length} of ${columns.length} cells`);
    // gapbench's CSV writer guards a text cell starting like a formula with a leading ': undone here.
    const cell = (name: string) =>
      r.cells[columns.indexOf(name)].replace(/^'(?=[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20])/, '');
    const num = (name: string) => {
      const s = cell(name).trim();
      if (s === '') return undefined;
      const n = Number(s);
      if (!Number.isFinite(n) || n < 0)
        throw new FileError(path, r.line, `${name}: '${s.slice(0, 20)}' is not a non-negative number`);
      return n;
    };
    rows.push({ cell, num, line: r.line });
  }
  return rows;
}

function need<T>(v: T | undefined | '', path: string, line: number, name: string): T {
  if (v === undefined || v === '') throw new FileError(path, line, `${name}: empty`);
  return v;
}
