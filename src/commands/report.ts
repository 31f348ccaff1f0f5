import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { EXIT, type IO } from '../io.js';
import { writeReports } from '../report/index.js';
import { readManifest, writeManifest } from '../journal/manifest.js';
import { lockedByLiveProcess } from '../run/rundir.js';
import { parse } from '../util/args.js';

const REPORT_HELP = `Usage: gapbench report <run-dir> [options]

Rebuilds results.csv, summary.csv, gap.csv, matrix.csv, report.html (and with --xlsx results.xlsx)
and the terminal report from the run's
records.jsonl (and the prices in manifest.json). Does not touch history.csv or call any model.

Options:
  --excel            CSVs with a UTF-8 BOM (Excel shows Chinese text correctly)
  --xlsx             also write results.xlsx (typed cells, one sheet per table)
  --matrix-outputs   add one output column per model to matrix.csv
  -h, --help         show this help`;

export async function reportCommand(argv: string[], io: IO): Promise<number> {
  const { values, positionals } = parse(
    'report',
    argv,
    {
      excel: { type: 'boolean' },
      xlsx: { type: 'boolean' },
      'matrix-outputs': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  );
  if (values.help) {
    io.stdout.write(`${REPORT_HELP}\n`);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UsageError('expected one run directory: gapbench report results/<run-id>');
  const dir = resolve(io.cwd, positionals[0]);
  const manifest = readManifest(dir);
  if (!existsSync(join(dir, 'records.jsonl'))) throw new UsageError(`${positionals[0]}: no records.jsonl`);
  const report = await writeReports(dir, {
    excel: Boolean(values.excel),
    xlsx: Boolean(values.xlsx),
    matrixOutputs: Boolean(values['matrix-outputs']),
    history: false,
    manifest,
  });
  io.stdout.write(report.terminal(io.stdout, io.env));
  io.stdout.write(`Rebuilt from ${report.records} records: ${dir}\n`);
  if (report.damaged) io.stderr.write(`note: skipped ${report.damaged} damaged line(s) of records.jsonl\n`);
  // A run killed before it finished still says `running`: the report marks it for what it is.
  if (manifest.status === 'running' && !lockedByLiveProcess(dir)) {
    writeManifest(dir, {
      ...manifest,
      status: 'interrupted',
      reason: manifest.reason ?? 'the process ended before the run finished',
    });
    io.stderr.write(
      `note: ${dir} was not finished (its process ended): marked interrupted; resume it with gapbench run --resume\n`,
    );
  }
  return EXIT.ok;
}
