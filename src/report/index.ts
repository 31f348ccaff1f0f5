import { dirname, join } from 'node:path';
import { useColor, type Out } from '../io.js';
import type { Manifest } from '../journal/manifest.js';
import { openLineReader, readRecordLines } from '../journal/read.js';
import type { JobRecord } from '../journal/record.js';
import { canonicalize, type Aggregate, type OutputRef } from './aggregate.js';
import { fillAnswers, pickDisagreements, type Disagreement } from './disagreement.js';
import { formatNumber, openCsv, type CsvValue } from './csv.js';
import { GAP_COLUMNS, gapRows, type GapRow } from './gap.js';
import { appendHistory, historyRecords, type RunOutcome } from './history.js';
import { runScores } from './history-cases.js';
import { matrixColumns, matrixRows } from './matrix.js';
import { RESULTS_COLUMNS, resultRow } from './results.js';
import { SUMMARY_COLUMNS, summarize, type SummaryRow } from './summary.js';
import type { RowOrder } from './order.js';
import { ReportState } from './state.js';
import { renderTerminal } from './terminal.js';
import { labelReasoning } from './reasoning.js';

export { ReportState } from './state.js';

/** The output choices of a run (`--excel`, `--xlsx`, `--matrix-outputs`). */
export interface OutputOptions {
  excel: boolean;
  /** Also write results.xlsx. */
  xlsx?: boolean;
  matrixOutputs: boolean;
}

interface ReportOptions extends OutputOptions {
  /**
   * The run belongs in <out>/history.csv (finished runs only). The rows are appended by
   * Report.recordHistory once the run's exit code is known (applyThresholds calls it).
   */
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
  /** Lines of records.jsonl that did not parse and were skipped (rebuilt from the journal only). */
  damaged?: number;
  terminal(out: Out, env: NodeJS.ProcessEnv): string;
  /**
   * Present when the run belongs in history.csv: appends its rows (and per-case scores) with the
   * run's outcome. Whoever decides the exit code calls it once (applyThresholds; evaluate() with 0).
   */
  recordHistory?: (outcome: RunOutcome) => Promise<void>;
}

/** The figures of a run, from its gathered state: no file is read or written. */
export function computeReport(state: ReportState): Report {
  const a = state.aggregator.agg;
  canonicalize(a, state.suiteOrder, state.modelOrder);
  const summary = summarize(a, state.priceOf);
  const gaps = gapRows(a, summary, { pairs: state.pairs, alpha: state.alpha, priceOf: state.priceOf });
  labelReasoning(summary, gaps, state.modelOf);
  return {
    records: a.records,
    ok: a.ok,
    errors: a.errors,
    summary,
    gaps,
    aggregate: a,
    terminal: (out, env) => renderTerminal(summary, gaps, useColor(out, env), state.paramsOf, state.modelOf),
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
  const bom = opts.excel;
  writeResults(join(runDir, 'results.csv'), journal, state.order, bom);
  const report = { ...computeReport(state), damaged: damage.damaged };
  const outputs = opts.matrixOutputs && state.order.size ? outputReader(journal) : undefined;
  try {
    report.aggregate.readOutput = outputs?.read;
    await writeDerived(runDir, journal, opts, state, report);
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

/** matrix.csv, history, report.html and results.xlsx, from the computed report. */
async function writeDerived(
  runDir: string,
  journal: string,
  opts: ReportOptions,
  state: ReportState,
  report: Report,
): Promise<void> {
  const bom = opts.excel;
  const a = report.aggregate;
  writeCsv(join(runDir, 'summary.csv'), SUMMARY_COLUMNS, report.summary, bom);
  writeCsv(join(runDir, 'gap.csv'), GAP_COLUMNS, report.gaps, bom);
  writeCsv(join(runDir, 'matrix.csv'), matrixColumns(a, opts.matrixOutputs), matrixRows(a, opts.matrixOutputs), bom);
  const historyPath = join(dirname(runDir), 'history.csv');
  const recording = opts.history && report.summary.length > 0;
  if (recording) {
    let done = false;
    report.recordHistory = async (outcome) => {
      if (done) return;
      done = true;
      await appendHistory(historyPath, opts.manifest, report.summary, { bom, outcome, scores: runScores(a) });
    };
  }
  // Loaded only here: ECharts costs nothing to a run's start-up.
  const { writeHtmlReport, readHistory } = await import('./html.js');
  // This run's rows are appended after the gate; the report shows them already.
  const own = recording ? historyRecords(opts.manifest, report.summary, { exit: 0, stopped: [] }) : [];
  const history = [...readHistory(historyPath), ...own.map((r) => textRow(r))];
  writeHtmlReport(join(runDir, 'report.html'), {
    runId: a.runId,
    summary: report.summary,
    gaps: report.gaps,
    aggregate: a,
    history,
    disagreements: withAnswers(pickDisagreements(a), journal, state),
  });
  if (opts.xlsx) {
    const { writeXlsx } = await import('./xlsx.js');
    const reader = state.order.size ? openLineReader(journal) : undefined;
    const order = state.order;
    try {
      await writeXlsx(join(runDir, 'results.xlsx'), {
        summary: report.summary,
        gaps: report.gaps,
        aggregate: a,
        matrix: { columns: matrixColumns(a, opts.matrixOutputs), rows: matrixRows(a, opts.matrixOutputs) },
        results: {
          columns: RESULTS_COLUMNS,
          rows: (function* () {
            for (const [offset, bytes] of order.sorted())
              yield { ...resultRow(JSON.parse(reader!.read(offset, bytes)) as JobRecord) };
          })(),
        },
        history,
      });
    } finally {
      reader?.close();
    }
  }
}

/** The picked cases with their prompts and answers, read back from the journal by offset. */
function withAnswers(picked: Disagreement[], journal: string, state: ReportState): Disagreement[] {
  const a = state.aggregator.agg;
  const wanted = new Set(
    picked.map(
      (d) => `${state.suiteOrder.get(d.suite) ?? 65535}:${a.cases.get(`${d.suite}\u0000${d.caseId}`)?.caseIndex}`,
    ),
  );
  if (!wanted.size || !state.order.size) return picked;
  const reader = openLineReader(journal);
  try {
    const records = [...state.order.where((suite, caseIndex) => wanted.has(`${suite}:${caseIndex}`))].map(
      ([offset, bytes]) => JSON.parse(reader.read(offset, bytes)) as JobRecord,
    );
    fillAnswers(picked, records, a);
  } finally {
    reader.close();
  }
  return picked;
}

/**
 * results.csv in suite, case, model, repeat order: each record is read back from the journal by
 * its offset, so memory holds a few numbers per record, never the outputs.
 */
function writeResults(path: string, journal: string, order: RowOrder, bom: boolean): void {
  const results = openCsv(path, RESULTS_COLUMNS, { bom });
  const reader = order.size ? openLineReader(journal) : undefined;
  try {
    for (const [offset, bytes] of order.sorted()) {
      results.write({ ...resultRow(JSON.parse(reader!.read(offset, bytes)) as JobRecord) });
    }
    results.close();
  } catch (e) {
    results.discard();
    throw e;
  } finally {
    reader?.close();
  }
}

function writeCsv(path: string, columns: readonly string[], rows: Iterable<object>, bom: boolean): void {
  const w = openCsv(path, columns, { bom });
  try {
    for (const row of rows) w.write({ ...row } as Record<string, CsvValue>);
    w.close();
  } catch (e) {
    w.discard();
    throw e;
  }
}

/** A history record as history.csv reads back (text cells). */
function textRow(r: Record<string, CsvValue>): Record<string, string> {
  // As history.csv will hold them, so a report rebuilt from it shows the same figures.
  const text = (v: CsvValue) =>
    v === undefined || v === null ? '' : typeof v === 'number' ? formatNumber(v) : String(v);
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, text(v)]));
}
