import { join } from 'node:path';
import { useColor } from '../io.js';
import { readRecordLines } from '../journal/read.js';
import { canonicalize } from './aggregate.js';
import { gapRows } from './gap.js';
import { summarize } from './summary.js';
import { ReportState } from './state.js';
import { renderTerminal } from './terminal.js';
import type { Report, ReportOptions } from './types.js';
import { WRITERS } from './writers.js';

export { ReportState } from './state.js';

export type { OutputOptions, Report } from './types.js';

/** The figures of a run, from its gathered state: no file is read or written. */
export function computeReport(state: ReportState): Report {
  const a = state.aggregator.agg;
  canonicalize(a, state.suiteOrder, state.modelOrder);
  const summary = summarize(a, state.priceOf);
  const gaps = gapRows(a, summary, { pairs: state.pairs, alpha: state.alpha, priceOf: state.priceOf });
  return {
    records: a.records,
    ok: a.ok,
    errors: a.errors,
    summary,
    gaps,
    aggregate: a,
    terminal: (out, env) => renderTerminal(summary, gaps, useColor(out, env), state.paramsOf),
  };
}

/**
 * Derives every CSV of a run, and report.html, from records.jsonl alone (plus prices from the manifest):
 * results.csv streams record by record; summary, gap and matrix come from per-cell aggregates.
 * `live` is the state gathered while the run wrote every record of the journal (see ReportState).
 */
export async function writeReports(runDir: string, opts: ReportOptions, live?: ReportState): Promise<Report> {
  const journal = join(runDir, 'records.jsonl');
  let state = live;
  const damage = { damaged: 0 };
  if (!state) {
    state = new ReportState(opts.manifest, opts.matrixOutputs);
    for await (const { record, line } of readRecordLines(journal, true, damage))
      state.add(record, line.offset, line.bytes);
  }
  const report = { ...computeReport(state), damaged: damage.damaged };
  for (const w of WRITERS) if (w.wanted(opts)) await w.write({ runDir, opts, report, state, journal });
  return report;
}
