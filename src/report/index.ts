import { dirname, join } from 'node:path';
import { useColor } from '../io.js';
import { openLineReader, readRecordLines } from '../journal/read.js';
import type { JobRecord } from '../journal/record.js';
import { canonicalize, type OutputRef } from './aggregate.js';
import { formatNumber, type CsvValue } from './csv.js';
import { gapRows } from './gap.js';
import { appendHistory, historyRecords } from './history.js';
import { runScores } from './history-cases.js';
import { summarize } from './summary.js';
import { ReportState } from './state.js';
import { renderTerminal } from './terminal.js';
import { stopLines } from './sequential-lines.js';
import { labelReasoning } from './reasoning.js';
import type { Report, ReportOptions } from './types.js';
import { WRITERS } from './writers.js';

export { ReportState } from './state.js';

export type { OutputOptions, Report } from './types.js';

/** The figures of a run, from its gathered state: no file is read or written. */
export function computeReport(state: ReportState): Report {
  const a = state.aggregator.agg;
  canonicalize(a, state.suiteOrder, state.modelOrder);
  const summary = summarize(a, state.priceOf);
  const { pairs, alpha, priceOf, sequential, capacity } = state;
  const gaps = gapRows(a, summary, { pairs, alpha, priceOf, capacity, ...(sequential ? { sequential } : {}) });
  labelReasoning(summary, gaps, state.modelOf);
  return {
    records: a.records,
    ok: a.ok,
    errors: a.errors,
    summary,
    gaps,
    aggregate: a,
    terminal: (out, env) =>
      renderTerminal(summary, gaps, useColor(out, env), state.paramsOf, state.modelOf) +
      stopLines(gaps, a, sequential)
        .map((l) => `${l}\n`)
        .join(''),
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
  const report: Report = { ...computeReport(state), damaged: damage.damaged };
  const historyPath = join(dirname(runDir), 'history.csv');
  const recording = opts.history && report.summary.length > 0;
  if (recording) {
    let done = false;
    report.recordHistory = async (outcome) => {
      if (done) return;
      done = true;
      const scores = runScores(report.aggregate);
      await appendHistory(historyPath, opts.manifest, report.summary, { bom: opts.excel, outcome, scores });
    };
  }
  // Loaded only here: ECharts costs nothing to a run's start-up.
  const { readHistory } = await import('./html.js');
  // This run's rows are appended after the gate; the report shows them already.
  const own = recording ? historyRecords(opts.manifest, report.summary, { exit: 0, stopped: [] }) : [];
  const history = [...readHistory(historyPath), ...own.map((r) => textRow(r))];
  // matrix.csv's and results.xlsx's output columns read each answer back from the journal when written.
  const outputs = opts.matrixOutputs && state.order.size ? outputReader(journal) : undefined;
  try {
    report.aggregate.readOutput = outputs?.read;
    for (const w of WRITERS) if (w.wanted(opts)) await w.write({ runDir, opts, report, state, journal, history });
  } finally {
    outputs?.close();
    delete report.aggregate.readOutput;
  }
  return report;
}

/** Answers read back from the journal one at a time (two small windows: long answers are not kept). */
function outputReader(journal: string): { read: (at: OutputRef) => string; close: () => void } {
  const reader = openLineReader(journal, 1 << 16, 2);
  return {
    read: ([offset, bytes]) => {
      const r = JSON.parse(reader.read(offset, bytes)) as JobRecord;
      return r.status === 'ok' ? r.output : `[error: ${r.error.kind}]`;
    },
    close: () => reader.close(),
  };
}

/** A history record as history.csv reads back (text cells). */
function textRow(r: Record<string, CsvValue>): Record<string, string> {
  // As history.csv will hold them, so a report rebuilt from it shows the same figures.
  const text = (v: CsvValue) =>
    v === undefined || v === null ? '' : typeof v === 'number' ? formatNumber(v) : String(v);
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, text(v)]));
}
