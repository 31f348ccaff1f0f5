/**
 * The files a run's report is made of: one entry per output, in the order they are written.
 * Adding an output format is one writer here (and its own module, loaded only when wanted).
 */
import { join } from 'node:path';
import { openLineReader } from '../journal/read.js';
import type { JobRecord } from '../journal/record.js';
import { openCsv, type CsvValue } from './csv.js';
import { fillAnswers, pickDisagreements, type Disagreement } from './disagreement.js';
import { GAP_COLUMNS } from './gap.js';
import { matrixColumns, matrixRows } from './matrix.js';
import type { RowOrder } from './order.js';
import { RESULTS_COLUMNS, resultRow } from './results.js';
import type { ReportState } from './state.js';
import { SUMMARY_COLUMNS } from './summary.js';
import type { Report, ReportOptions } from './types.js';

/** What every writer may use: the run directory, the options, the figures, and the journal in row order. */
interface WriteContext {
  runDir: string;
  opts: ReportOptions;
  report: Report;
  state: ReportState;
  journal: string;
  /** history.csv's rows, this run's included (appended to the file only after the gate). */
  history: Record<string, string>[];
}

interface ReportWriter {
  /** The file it writes, for messages. */
  file: string;
  wanted(opts: ReportOptions): boolean;
  write(ctx: WriteContext): void | Promise<void>;
}

export const WRITERS: readonly ReportWriter[] = [
  {
    file: 'results.csv',
    wanted: () => true,
    write: (ctx) => writeResults(join(ctx.runDir, 'results.csv'), ctx.journal, ctx.state.order, ctx.opts.excel),
  },
  {
    file: 'summary.csv',
    wanted: () => true,
    write: (ctx) => writeCsv(join(ctx.runDir, 'summary.csv'), SUMMARY_COLUMNS, ctx.report.summary, ctx.opts.excel),
  },
  {
    file: 'gap.csv',
    wanted: () => true,
    write: (ctx) => writeCsv(join(ctx.runDir, 'gap.csv'), GAP_COLUMNS, ctx.report.gaps, ctx.opts.excel),
  },
  {
    file: 'matrix.csv',
    wanted: () => true,
    write: (ctx) => {
      const [a, outputs] = [ctx.report.aggregate, ctx.opts.matrixOutputs];
      writeCsv(join(ctx.runDir, 'matrix.csv'), matrixColumns(a, outputs), matrixRows(a, outputs), ctx.opts.excel);
    },
  },
  {
    file: 'report.html',
    wanted: () => true,
    write: async (ctx) => {
      // Loaded only here: ECharts costs nothing to a run's start-up.
      const { writeHtmlReport } = await import('./html.js');
      const a = ctx.report.aggregate;
      writeHtmlReport(join(ctx.runDir, 'report.html'), {
        runId: a.runId,
        summary: ctx.report.summary,
        gaps: ctx.report.gaps,
        aggregate: a,
        history: ctx.history,
        disagreements: withAnswers(pickDisagreements(a), ctx.journal, ctx.state),
        capacity: ctx.state.capacity,
      });
    },
  },
  { file: 'results.xlsx', wanted: (opts) => Boolean(opts.xlsx), write: writeWorkbook },
];

async function writeWorkbook(ctx: WriteContext): Promise<void> {
  const { writeXlsx } = await import('./xlsx.js');
  const { report, state, opts } = ctx;
  const a = report.aggregate;
  const reader = state.order.size ? openLineReader(ctx.journal) : undefined;
  try {
    await writeXlsx(join(ctx.runDir, 'results.xlsx'), {
      summary: report.summary,
      gaps: report.gaps,
      aggregate: a,
      matrix: { columns: matrixColumns(a, opts.matrixOutputs), rows: matrixRows(a, opts.matrixOutputs) },
      results: {
        columns: RESULTS_COLUMNS,
        rows: (function* () {
          for (const [offset, bytes] of state.order.sorted())
            yield { ...resultRow(JSON.parse(reader!.read(offset, bytes)) as JobRecord) };
        })(),
      },
      history: ctx.history,
    });
  } finally {
    reader?.close();
  }
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

/** The picked cases with their prompts and answers, read back from the journal by offset. */
function withAnswers(picked: Disagreement[], journal: string, state: ReportState): Disagreement[] {
  const a = state.aggregator.agg;
  const wanted = new Set(picked.map((d) => `${state.suiteOrder.get(d.suite) ?? 65535}:${d.row.caseIndex}`));
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
