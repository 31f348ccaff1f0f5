import { resolve, join } from 'node:path';
import { UsageError } from '../errors.js';
import { EXIT, useColor, paint, type IO } from '../io.js';
import {
  aggregateRun,
  COMPARE_COLUMNS,
  compareRuns,
  mostlyCached,
  regressions,
  type CompareRow,
} from '../report/compare.js';
import { ALPHA } from '../report/paired.js';
import { pText } from '../report/terminal.js';
import { openCsv } from '../report/csv.js';
import { padEnd, padStart, terminalSafe } from '../util/text.js';
import { readManifest } from '../journal/manifest.js';
import { helpText, parse, type CommandSpec } from '../util/args.js';
import { regressionPoints, significanceLevel, THRESHOLD_OPTIONS } from './thresholds.js';

export const COMPARE_SPEC = {
  name: 'compare',
  usage: 'compare <run-a> <run-b> [options]',
  about:
    "Per suite x model, the change from run A to run B on the cases both answered: delta in points, a McNemar score test with Tango's interval (pass/fail) or a paired t test and its interval (docs/statistics.md). Writes compare.csv (default: in run B's directory) and prints a table.",
  options: {
    out: { value: 'FILE', help: 'where to write compare.csv', fallback: "compare.csv in run B's directory" },
    'fail-on-regression': {
      value: 'PP',
      help: 'exit 1 when any model fell by more than PP points and the paired test finds the drop significant',
      parse: regressionPoints,
    },
    strict: THRESHOLD_OPTIONS.strict,
    alpha: { value: 'A', help: 'significance level', parse: significanceLevel, default: ALPHA },
    excel: { type: 'boolean', help: 'write compare.csv with a UTF-8 BOM' },
  },
  positionals: true,
} as const satisfies CommandSpec;

export async function compareCommand(argv: string[], io: IO): Promise<number> {
  const { values, positionals } = parse(COMPARE_SPEC, argv);
  if (values.help) {
    io.stdout.write(`${helpText(COMPARE_SPEC)}\n`);
    return EXIT.ok;
  }
  if (positionals.length !== 2)
    throw new UsageError('expected two run directories: gapbench compare results/<run-a> results/<run-b>');
  const pp = values['fail-on-regression'];
  const [dirA, dirB] = positionals.map((p) => resolve(io.cwd, p));
  const [ma, mb] = [readManifest(dirA), readManifest(dirB)];
  const [aggA, aggB] = [await aggregateRun(dirA, ma), await aggregateRun(dirB, mb)];
  const rows = compareRuns(aggA, aggB, values.alpha);
  if (!rows.length)
    throw new UsageError(`${positionals[0]} and ${positionals[1]} share no suite x model with answered cases`);
  const outPath = values.out ? resolve(io.cwd, values.out) : join(dirB, 'compare.csv');
  const w = openCsv(outPath, COMPARE_COLUMNS, { bom: values.excel });
  for (const r of rows) w.write({ ...r });
  w.close();

  io.stdout.write(`Compare ${ma.run_id} -> ${mb.run_id}\n`);
  io.stdout.write(compareTable(rows, useColor(io.stdout, io.env)));
  io.stdout.write(`Wrote ${outPath}\n`);
  const strict = values.strict;
  const failed = pp === undefined ? [] : regressions(rows, pp, strict);
  if (pp !== undefined)
    for (const m of mostlyCached(aggA, aggB))
      io.stderr.write(`warning: --fail-on-regression: most answers of ${m} came from the cache\n`);
  for (const r of failed)
    io.stdout.write(
      `FAIL ${r.model} on ${r.suite} fell ${(-r.delta_pp).toFixed(1)} pp (more than ${pp}${strict ? '' : `, ${pText(r.p_value)}`})\n`,
    );
  return failed.length ? EXIT.threshold : EXIT.ok;
}

/** The terminal table: regressions red, improvements green. */
function compareTable(rows: CompareRow[], color: boolean): string {
  const out: string[] = [];
  const header = ['suite', 'model', 'A %', 'B %', 'delta pp [95% CI]', 'p', 'n', 'verdict'];
  const body = rows.map((r) => [
    terminalSafe(r.suite, 30),
    terminalSafe(r.model, 36),
    (r.score_a * 100).toFixed(1),
    (r.score_b * 100).toFixed(1),
    `${r.delta_pp >= 0 ? '+' : ''}${r.delta_pp.toFixed(1)} [${r.ci_low_pp.toFixed(1)}, ${r.ci_high_pp.toFixed(1)}]`,
    r.p_value < 0.001 ? '< 0.001' : r.p_value.toFixed(3), // as pText prints it, without the p
    String(r.n_paired),
    r.verdict,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  out.push(
    `${header
      .map((h, i) => (i >= 2 && i <= 6 ? padStart(h, widths[i]) : padEnd(h, widths[i])))
      .join('  ')
      .trimEnd()}\n`,
  );
  for (const b of body) {
    const line = b
      .map((c, i) => (i >= 2 && i <= 6 ? padStart(c, widths[i]) : padEnd(c, widths[i])))
      .join('  ')
      .trimEnd();
    out.push(
      `${b[7] === 'regressed' ? paint(color, 31, line) : b[7] === 'improved' ? paint(color, 32, line) : line}\n`,
    );
  }
  return out.join('');
}
