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
import { splitRecords } from './history-read.js';

/** One load step of one model, as the break-even and the throughput-latency chart use it. */
export interface CapacityStep {
  model: string;
  side: 'open' | 'closed';
  step: number;
  concurrency?: number;
  rateRps?: number;
  requests: number;
  requestsPerS: number;
  outputTokensPerS?: number;
  ttftP95Ms?: number;
  e2eP95Ms?: number;
  meetsSlo: boolean;
}

/** A swept model's goodput at the SLO; the rate fields are absent when no step met it. */
interface Goodput {
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
  steps: CapacityStep[];
  goodput: Map<string, Goodput>;
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
  const steps = readTable(capPath, CAPACITY_COLUMNS).map(({ cell, num, line }) => {
    const side = cell('side');
    if (side !== 'open' && side !== 'closed')
      throw new FileError(capPath, line, `side: '${side.slice(0, 20)}' is neither open nor closed`);
    const meets = cell('meets_slo');
    if (meets !== 'true' && meets !== 'false')
      throw new FileError(capPath, line, `meets_slo: '${meets.slice(0, 20)}' is neither true nor false`);
    return {
      runId: cell('run_id'),
      model: need(cell('model'), capPath, line, 'model'),
      side: side as CapacityStep['side'],
      step: num('step') ?? 0,
      concurrency: num('concurrency'),
      rateRps: num('rate_rps'),
      requests: num('requests') ?? 0,
      // A step with no answer (a server failing every request) has no rate.
      requestsPerS: num('requests_per_s') ?? 0,
      outputTokensPerS: num('output_tokens_per_s'),
      ttftP95Ms: num('ttft_p95_ms'),
      e2eP95Ms: num('e2e_p95_ms'),
      meetsSlo: meets === 'true',
    };
  });
  const goodput = new Map<string, Goodput>();
  let runId = steps[0]?.runId ?? '';
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
  return { dir: abs, runId: runId || abs, steps: steps.map(({ runId: _, ...s }) => s), goodput };
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
