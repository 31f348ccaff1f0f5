import { dirname, join } from 'node:path';
import type { ModelConfig } from '../config/config.js';
import { useColor, type Out } from '../io.js';
import type { Manifest } from '../run/manifest.js';
import { openLineReader, readRecordLines } from '../run/read.js';
import type { JobRecord } from '../run/record.js';
import { Aggregator, canonicalize, type Aggregate } from './aggregate.js';
import { closeSync, openSync, writeSync } from 'node:fs';
import { openCsv, toLine } from './csv.js';
import { GAP_COLUMNS, gapRows, type GapRow } from './gap.js';
import { appendHistory } from './history.js';
import { matrixColumns, matrixRows } from './matrix.js';
import { RESULTS_COLUMNS, resultRow } from './results.js';
import type { RowSpool } from './spool.js';
import { SUMMARY_COLUMNS, summarize, type SummaryRow } from './summary.js';
import { renderTerminal } from './terminal.js';

export interface ReportOptions {
  excel: boolean;
  matrixOutputs: boolean;
  /** Append the summary to <out>/history.csv (finished runs only). */
  history: boolean;
  manifest: Manifest;
}

export interface Report {
  records: number;
  ok: number;
  errors: number;
  summary: SummaryRow[];
  gaps: GapRow[];
  aggregate: Aggregate;
  terminal(out: Out, env: NodeJS.ProcessEnv): string;
}

/**
 * What the reports need from the journal, gathered one record at a time: per-cell aggregates and,
 * for results.csv, each record's sort key and line position (a few numbers, never the outputs).
 * `gapbench run` fills it as records reach the journal, so the reports need no second pass over a
 * fresh run's journal; `report`, `regrade` and resumed runs fill it from records.jsonl.
 */
export class ReportState {
  readonly aggregator: Aggregator;
  readonly order = new RowOrder();
  readonly priceOf: (id: string) => ModelConfig['price'] | undefined;
  readonly modelOrder: Map<string, number>;
  readonly suiteOrder: Map<string, number>;

  /**
   * `spool`: results.csv rows are formatted as records come and kept there (a fresh run); without
   * one, writeReports reads each record back from the journal and formats it at the end.
   */
  constructor(
    manifest: Manifest,
    matrixOutputs: boolean,
    readonly spool?: RowSpool,
  ) {
    const prices = new Map<string, ModelConfig['price']>(manifest.models.map((m) => [m.id, m.price]));
    this.priceOf = (id) => prices.get(id);
    this.aggregator = new Aggregator(manifest.run_id, matrixOutputs);
    // Config order for models and suites, not the order records happened to finish in.
    this.modelOrder = new Map(manifest.models.map((m, i) => [m.id, i]));
    this.suiteOrder = new Map(manifest.suites.map((s, i) => [s.name, i]));
  }

  add(record: JobRecord, offset: number, bytes: number): void {
    this.aggregator.add(record, this.priceOf);
    if (this.spool) {
      const row = resultRow(record);
      const text = toLine(RESULTS_COLUMNS.map((c) => row[c]));
      bytes = Buffer.byteLength(text);
      offset = this.spool.append(text, bytes);
    }
    this.order.push(
      this.suiteOrder.get(record.suite) ?? 65535,
      record.case_index,
      this.modelOrder.get(record.model) ?? 65535,
      record.repeat,
      offset,
      bytes,
    );
  }
}

/**
 * Derives every CSV of a run from records.jsonl alone (plus prices from the manifest):
 * results.csv streams record by record; summary, gap and matrix come from per-cell aggregates.
 * `live` is the state gathered while the run wrote every record of the journal (see ReportState).
 */
export async function writeReports(runDir: string, opts: ReportOptions, live?: ReportState): Promise<Report> {
  const bom = opts.excel;
  const journal = join(runDir, 'records.jsonl');
  let state = live;
  if (!state) {
    state = new ReportState(opts.manifest, opts.matrixOutputs);
    for await (const { record, line } of readRecordLines(journal, true)) state.add(record, line.offset, line.bytes);
  }
  const { aggregator: agg, order, priceOf, modelOrder, suiteOrder } = state;
  // results.csv in suite, case, model, repeat order: each row is read back by its offset (from the
  // spool, already formatted, or from the journal), so memory holds a few numbers per record.
  if (state.spool) {
    const fd = openSync(join(runDir, 'results.csv'), 'w');
    try {
      writeSync(fd, (bom ? '\uFEFF' : '') + toLine(RESULTS_COLUMNS));
      state.spool.copyTo(fd, order.sorted());
    } finally {
      closeSync(fd);
      state.spool.remove();
    }
  } else {
    const results = openCsv(join(runDir, 'results.csv'), RESULTS_COLUMNS, { bom });
    const reader = order.size ? openLineReader(journal) : undefined;
    try {
      for (const [offset, bytes] of order.sorted())
        results.write(resultRow(JSON.parse(reader!.read(offset, bytes)) as JobRecord));
    } finally {
      reader?.close();
      results.close();
    }
  }
  const a = agg.agg;
  canonicalize(a, suiteOrder, modelOrder);

  const summary = summarize(a, priceOf);
  const sw = openCsv(join(runDir, 'summary.csv'), SUMMARY_COLUMNS, { bom });
  for (const row of summary) sw.write({ ...row });
  sw.close();

  const gaps = gapRows(a, summary);
  const gw = openCsv(join(runDir, 'gap.csv'), GAP_COLUMNS, { bom });
  for (const row of gaps) gw.write({ ...row });
  gw.close();

  const mw = openCsv(join(runDir, 'matrix.csv'), matrixColumns(a, opts.matrixOutputs), { bom });
  for (const row of matrixRows(a, opts.matrixOutputs)) mw.write(row);
  mw.close();

  if (opts.history && summary.length) await appendHistory(join(dirname(runDir), 'history.csv'), opts.manifest, summary);

  return {
    records: a.records,
    ok: a.ok,
    errors: a.errors,
    summary,
    gaps,
    aggregate: a,
    terminal: (out, env) => renderTerminal(summary, gaps, useColor(out, env)),
  };
}

/** Sort keys and line positions of every record, in typed arrays (a few bytes per record). */
class RowOrder {
  private n = 0;
  get size(): number {
    return this.n;
  }
  private keys = new Float64Array(1024 * 4);
  private pos = new Float64Array(1024 * 2);

  push(suite: number, caseIndex: number, model: number, repeat: number, offset: number, bytes: number): void {
    if (this.n * 4 >= this.keys.length) {
      const k = new Float64Array(this.keys.length * 2);
      k.set(this.keys);
      this.keys = k;
      const p = new Float64Array(this.pos.length * 2);
      p.set(this.pos);
      this.pos = p;
    }
    this.keys.set([suite, caseIndex, model, repeat], this.n * 4);
    this.pos.set([offset, bytes], this.n * 2);
    this.n++;
  }

  *sorted(): Generator<[number, number]> {
    const k = this.keys;
    const idx = new Uint32Array(this.n);
    for (let i = 0; i < this.n; i++) idx[i] = i;
    idx.sort(
      (x, y) =>
        k[x * 4] - k[y * 4] ||
        k[x * 4 + 1] - k[y * 4 + 1] ||
        k[x * 4 + 2] - k[y * 4 + 2] ||
        k[x * 4 + 3] - k[y * 4 + 3],
    );
    for (const i of idx) yield [this.pos[i * 2], this.pos[i * 2 + 1]];
  }
}
