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
import { pText } from '../report/terminal.js';
import { openCsv } from '../report/csv.js';
import { padEnd, padStart, terminalSafe } from '../util/text.js';
import { readManifest } from '../journal/manifest.js';
import { parse } from '../util/args.js';
import { regressionPoints, significanceLevel } from './thresholds.js';

const COMPARE_HELP = `Usage: gapbench compare <run-a> <run-b> [options]

Per suite x model, the change from run A to run B on the cases both answered: delta in points,
a McNemar score test with Tango's interval (pass/fail) or a paired t test and its interval
(docs/statistics.md).
Writes compare.csv (default: in run B's directory) and prints a table.

Options:
  --out FILE                 where to write compare.csv
  --fail-on-regression PP    exit 1 when any model fell by more than PP points and the paired
                             test finds the drop significant
  --strict                   with --fail-on-regression: any drop of more than PP points fails
  --alpha A                  significance level (default 0.05)
  --excel                    CSV with a UTF-8 BOM
  -h, --help                 show this help`;

export async function compareCommand(argv: string[], io: IO): Promise<number> {
  const { values, positionals } = parse(
    'compare',
    argv,
    {
      out: { type: 'string' },
      'fail-on-regression': { type: 'string' },
      strict: { type: 'boolean' },
      alpha: { type: 'string' },
      excel: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  );
  if (values.help) {
    io.stdout.write(`${COMPARE_HELP}\n`);
    return EXIT.ok;
  }
  if (positionals.length !== 2)
    throw new UsageError('expected two run directories: gapbench compare results/<run-a> results/<run-b>');
  const pp = regressionPoints(values['fail-on-regression']);
  const [dirA, dirB] = positionals.map((p) => resolve(io.cwd, p));
  const [ma, mb] = [readManifest(dirA), readManifest(dirB)];
  const alpha = significanceLevel(values.alpha);
  const [aggA, aggB] = [await aggregateRun(dirA, ma), await aggregateRun(dirB, mb)];
  const rows = compareRuns(aggA, aggB, alpha);
  if (!rows.length)
    throw new UsageError(`${positionals[0]} and ${positionals[1]} share no suite x model with answered cases`);
  const outPath = values.out ? resolve(io.cwd, values.out) : join(dirB, 'compare.csv');
  const w = openCsv(outPath, COMPARE_COLUMNS, { bom: Boolean(values.excel) });
  for (const r of rows) w.write({ ...r });
  w.close();

  io.stdout.write(`Compare ${ma.run_id} -> ${mb.run_id}\n`);
  io.stdout.write(compareTable(rows, useColor(io.stdout, io.env)));
  io.stdout.write(`Wrote ${outPath}\n`);
  const strict = Boolean(values.strict);
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
