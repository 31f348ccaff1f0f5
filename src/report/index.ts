import { dirname, join } from 'node:path';
import type { ModelConfig } from '../config/config.js';
import { useColor, type Out } from '../io.js';
import type { Manifest } from '../run/manifest.js';
import { readLatestRecords } from '../run/read.js';
import { Aggregator, type Aggregate } from './aggregate.js';
import { openCsv } from './csv.js';
import { GAP_COLUMNS, gapRows, type GapRow } from './gap.js';
import { appendHistory } from './history.js';
import { matrixColumns, matrixRows } from './matrix.js';
import { RESULTS_COLUMNS, resultRow } from './results.js';
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
 * Derives every CSV of a run from records.jsonl alone (plus prices from the manifest):
 * results.csv streams record by record; summary, gap and matrix come from per-cell aggregates.
 */
export async function writeReports(runDir: string, opts: ReportOptions): Promise<Report> {
  const prices = new Map<string, ModelConfig['price']>(opts.manifest.models.map((m) => [m.id, m.price]));
  const priceOf = (id: string) => prices.get(id);
  const bom = opts.excel;
  const agg = new Aggregator(opts.manifest.run_id, opts.matrixOutputs);
  const results = openCsv(join(runDir, 'results.csv'), RESULTS_COLUMNS, { bom });
  for await (const r of readLatestRecords(join(runDir, 'records.jsonl'))) {
    await results.write(resultRow(r));
    agg.add(r, priceOf);
  }
  await results.close();
  const a = agg.agg;
  // Keep the manifest's model order (config order), not the order records happened to finish in.
  const order = new Map(opts.manifest.models.map((m, i) => [m.id, i]));
  a.models.sort((x, y) => (order.get(x.id) ?? 1e9) - (order.get(y.id) ?? 1e9));
  const suiteOrder = new Map(opts.manifest.suites.map((s, i) => [s.name, i]));
  a.suites.sort((x, y) => (suiteOrder.get(x) ?? 1e9) - (suiteOrder.get(y) ?? 1e9));

  const summary = summarize(a, priceOf);
  const sw = openCsv(join(runDir, 'summary.csv'), SUMMARY_COLUMNS, { bom });
  for (const row of summary) await sw.write({ ...row });
  await sw.close();

  const gaps = gapRows(a, summary);
  const gw = openCsv(join(runDir, 'gap.csv'), GAP_COLUMNS, { bom });
  for (const row of gaps) await gw.write({ ...row });
  await gw.close();

  const mw = openCsv(join(runDir, 'matrix.csv'), matrixColumns(a, opts.matrixOutputs), { bom });
  for (const row of matrixRows(a, opts.matrixOutputs)) await mw.write(row);
  await mw.close();

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
