import ExcelJS from 'exceljs';
import type { Aggregate } from './aggregate.js';
import type { CsvValue } from './csv.js';
import { GAP_COLUMNS, type GapRow } from './gap.js';
import { SUMMARY_COLUMNS, type SummaryRow } from './summary.js';

/**
 * results.xlsx, written with exceljs: sheets Summary, Gap, Scores (long form, for pivots), Matrix,
 * Results, Run history (Excel reserves "History"). Cells are typed: a JS number is a number cell, every text a string cell
 * (`t="s"`), so outputs and ids never become numbers, dates or formulas and need no leading quote;
 * no cell is ever given a formula. Fractions in [0, 1] (score, ci_*) are formatted as percentages.
 * Header row frozen, autofilter on, column widths by kind of column. Text is made valid for XML
 * (control characters other than TAB/LF/CR and lone surrogates dropped) and cut at Excel's 32,767.
 */
interface XlsxInput {
  summary: readonly SummaryRow[];
  gaps: readonly GapRow[];
  aggregate: Aggregate;
  matrix: { columns: readonly string[]; rows: Iterable<Record<string, CsvValue>> };
  results: { columns: readonly string[]; rows: Iterable<Record<string, CsvValue>> };
  history: readonly Record<string, string>[];
}

const EXCEL_MAX = 32_767;
// eslint-disable-next-line no-control-regex
const XML_INVALID =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const PERCENT = /^(score|ci_low|ci_high|closed_score|open_score)$|^score_/;

function xlsxText(s: string): string {
  const clean = s.replace(XML_INVALID, '');
  if (clean.length <= EXCEL_MAX) return clean;
  let keep = EXCEL_MAX - 40;
  if (/[\uD800-\uDBFF]/.test(clean[keep - 1])) keep--;
  return `${clean.slice(0, keep)}…[truncated ${Array.from(clean.slice(keep)).length} chars]`;
}

function cellValue(v: unknown): string | number | boolean | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'boolean') return v;
  return xlsxText(typeof v === 'string' ? v : JSON.stringify(v));
}

/** Column width from the header and the kind of column (rows are streamed: widths come first). */
function widthOf(column: string): number {
  if (/^(output|prompt|reason|error|expected|extracted)$|^output_/.test(column)) return 50;
  if (/^(suite|model|closed_model|open_model|case_id|category|verdict|run_id|started_at)$/.test(column)) return 18;
  return Math.max(9, column.length + 2);
}

/** One sheet, streamed: each row is committed (written) as it comes, so memory stays flat. */
function addSheet(
  wb: ExcelJS.stream.xlsx.WorkbookWriter,
  name: string,
  columns: readonly string[],
  rows: Iterable<object>,
): void {
  const ws = wb.addWorksheet(name, { views: [{ state: 'frozen', ySplit: 1 }] });
  ws.columns = columns.map((c) => ({
    key: c,
    width: widthOf(c),
    ...(PERCENT.test(c) ? { style: { numFmt: '0.0%' } } : {}),
  }));
  ws.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: Math.max(1, columns.length) } };
  const head = ws.addRow([...columns]);
  head.font = { bold: true };
  head.commit();
  for (const row of rows) ws.addRow(columns.map((c) => cellValue((row as Record<string, unknown>)[c]))).commit();
  ws.commit();
}

const columnsOf = (rows: readonly object[]): string[] => [...new Set(rows.flatMap((r) => Object.keys(r)))];

export async function writeXlsx(path: string, input: XlsxInput): Promise<void> {
  // Streamed (rows written as they come): about twice as fast as building the workbook in memory.
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useSharedStrings: true, useStyles: true });
  wb.creator = 'gapbench';
  // The columns of summary.csv and gap.csv, in their order: a sheet and its CSV never disagree
  // (the break-even chart's inputs on a gap row are report.html's, not a column).
  addSheet(wb, 'Summary', SUMMARY_COLUMNS, input.summary);
  addSheet(wb, 'Gap', GAP_COLUMNS, input.gaps);
  const scores = input.summary.map((s) => ({
    suite: s.suite,
    category: 'all',
    model: s.model,
    group: s.group,
    n: s.n,
    score: s.score,
    ci_low: s.ci_low,
    ci_high: s.ci_high,
  }));
  addSheet(wb, 'Scores', ['suite', 'category', 'model', 'group', 'n', 'score', 'ci_low', 'ci_high'], scores);
  addSheet(wb, 'Matrix', input.matrix.columns, input.matrix.rows);
  addSheet(wb, 'Results', input.results.columns, input.results.rows);
  const history = input.history.map((h) => {
    const typed: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(h)) {
      // history.csv is read back as text: its numeric columns become numbers again.
      typed[k] =
        /^(score|ci_low|ci_high|n|cost_usd)$/.test(k) && v !== '' && Number.isFinite(Number(v))
          ? Number(v)
          : v.replace(/^'/, '');
    }
    return typed;
  });
  // Excel reserves the sheet name "History".
  addSheet(wb, 'Run history', columnsOf(input.history), history);
  await wb.commit();
}
