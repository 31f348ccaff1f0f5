import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { EXIT, type IO } from '../io.js';
import { writeReports } from '../report/index.js';
import { readManifest, writeManifest } from '../journal/manifest.js';
import { lockedByLiveProcess } from '../run/rundir.js';
import { helpText, parse, type CommandSpec } from '../util/args.js';
import { REPORT_OPTIONS } from './thresholds.js';
import { CAPACITY_OPTION, capacityRef } from './capacity-opt.js';

export const REPORT_SPEC = {
  name: 'report',
  usage: 'report <run-dir> [options]',
  about:
    'Rebuilds results.csv, summary.csv, gap.csv, matrix.csv, report.html (and results.xlsx when the run wrote one) and the terminal report from the run\'s records.jsonl (and the prices in manifest.json), with the output choices the run was made with (manifest.json "outputs"): the same files, byte for byte except timestamps. Does not touch history.csv or call any model.',
  options: {
    excel: { ...REPORT_OPTIONS.excel, fallback: "the run's choice" },
    'no-excel': { type: 'boolean', help: 'write CSVs without a BOM' },
    xlsx: { ...REPORT_OPTIONS.xlsx, fallback: "the run's choice" },
    'no-xlsx': { type: 'boolean', help: 'skip results.xlsx' },
    'matrix-outputs': { ...REPORT_OPTIONS['matrix-outputs'], fallback: "the run's choice" },
    'no-matrix-outputs': { type: 'boolean', help: 'leave the output columns out of matrix.csv' },
    ...CAPACITY_OPTION,
  },
  positionals: true,
} as const satisfies CommandSpec;

export async function reportCommand(argv: string[], io: IO): Promise<number> {
  const { values, positionals } = parse(REPORT_SPEC, argv);
  if (values.help) {
    io.stdout.write(`${helpText(REPORT_SPEC)}\n`);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UsageError('expected one run directory: gapbench report results/<run-id>');
  const dir = resolve(io.cwd, positionals[0]);
  const manifest = readManifest(dir);
  if (manifest.kind === 'capacity')
    throw new UsageError(
      `${positionals[0]}: a capacity run (gapbench capacity): its capacity.csv, goodput.csv and report.html are final`,
    );
  if (!existsSync(join(dir, 'records.jsonl'))) throw new UsageError(`${positionals[0]}: no records.jsonl`);
  const say = (line: string) => io.stderr.write(`${line}\n`);
  const capacity = capacityRef(
    { flag: values.capacity, recorded: manifest.capacity, own: dir },
    io.cwd,
    manifest.models,
    say,
  );
  // A capacity result named now is recorded, so the next report reproduces these files.
  if (capacity && values.capacity !== undefined) writeManifest(dir, { ...manifest, capacity });
  if (capacity) manifest.capacity = capacity;
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
