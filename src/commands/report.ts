import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { EXIT, type IO } from '../io.js';
import { writeReports } from '../report/index.js';
import { readManifest, writeManifest } from '../journal/manifest.js';
import { lockedByLiveProcess } from '../run/rundir.js';
import { parse } from '../util/args.js';

const REPORT_HELP = `Usage: gapbench report <run-dir> [options]

Rebuilds results.csv, summary.csv, gap.csv, matrix.csv, report.html (and results.xlsx when the run
wrote one) and the terminal report from the run's records.jsonl (and the prices in manifest.json),
with the output choices the run was made with (manifest.json "outputs"): the same files, byte for
byte except timestamps. Does not touch history.csv or call any model.

Options:
  --excel / --no-excel                    CSVs with / without a UTF-8 BOM (Excel shows Chinese text correctly)
  --xlsx / --no-xlsx                      write / skip results.xlsx (typed cells, one sheet per table)
  --matrix-outputs / --no-matrix-outputs  add / leave out one output column per model in matrix.csv
  -h, --help                              show this help`;

export async function reportCommand(argv: string[], io: IO): Promise<number> {
  const { values, positionals } = parse(
    'report',
    argv,
    {
      excel: { type: 'boolean' },
      xlsx: { type: 'boolean' },
      'matrix-outputs': { type: 'boolean' },
      'no-excel': { type: 'boolean' },
      'no-xlsx': { type: 'boolean' },
      'no-matrix-outputs': { type: 'boolean' },
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
  // The run's own choices, each flag overriding one (a manifest from before they were recorded has none).
  const choice = (name: 'excel' | 'xlsx' | 'matrix-outputs', recorded: boolean | undefined): boolean => {
    if (values[name] && values[`no-${name}`]) throw new UsageError(`--${name} and --no-${name}: choose one`);
    return values[name] ? true : values[`no-${name}`] ? false : Boolean(recorded);
  };
  const report = await writeReports(dir, {
    excel: choice('excel', manifest.outputs?.excel),
    xlsx: choice('xlsx', manifest.outputs?.xlsx),
    matrixOutputs: choice('matrix-outputs', manifest.outputs?.matrix_outputs),
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
