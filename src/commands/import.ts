import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { stringify } from 'yaml';
import { UsageError } from '../errors.js';
import { convertPromptfoo, type ImportResult } from '../import/promptfoo.js';
import { EXIT, type IO } from '../io.js';
import { parse } from '../util/args.js';
import { terminalSafe } from '../util/text.js';

const IMPORT_HELP = `Usage: gapbench import promptfoo FILE [--out DIR] [--force]

Converts a promptfoo config (promptfooconfig.yaml) into DIR/gapbench.config.yaml and one suite per
prompt in DIR/suites/ (default DIR: the current directory), scored as promptfoo scores: a test
passes when all its assertions pass (or its weighted score reaches its threshold). Prints every
part it could not carry over. Existing files are not overwritten without --force.`;

export async function importCommand(argv: string[], io: IO): Promise<number> {
  const { values, positionals } = parse(
    'import',
    argv,
    { out: { type: 'string' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    true,
  );
  if (values.help) {
    io.stdout.write(`${IMPORT_HELP}\n`);
    return EXIT.ok;
  }
  const [kind, file, ...extra] = positionals;
  if (kind !== 'promptfoo' || !file || extra.length)
    throw new UsageError('usage: gapbench import promptfoo FILE [--out DIR] [--force]');
  const out = resolve(io.cwd, values.out ?? '.');
  const result = convertPromptfoo(resolve(io.cwd, file));
  refuseOverwrite(result, out, io.cwd, values.force === true);
  writeAll(result, out);
  report(result, file, relative(io.cwd, out) || '.', io);
  return EXIT.ok;
}

function refuseOverwrite(result: ImportResult, out: string, cwd: string, force: boolean): void {
  if (force) return;
  const taken = result.files.map((f) => join(out, f.path)).filter((p) => existsSync(p));
  if (taken.length)
    throw new UsageError(
      `import: ${relative(cwd, taken[0]) || taken[0]} exists${taken.length > 1 ? ` (and ${taken.length - 1} more)` : ''}; pass --force to overwrite`,
    );
}

/** Every file is written beside its target first and renamed only when all were written: never half a config. */
function writeAll(result: ImportResult, out: string): void {
  const staged: [string, string][] = [];
  try {
    for (const f of result.files) {
      const target = join(out, f.path);
      mkdirSync(dirname(target), { recursive: true });
      const text = f.yaml === undefined ? f.text : f.text + stringify(f.yaml, { lineWidth: 0 });
      writeFileSync(`${target}.importing`, text);
      staged.push([`${target}.importing`, target]);
    }
  } catch (e) {
    for (const [tmp] of staged) rmSync(tmp, { force: true });
    throw new UsageError(`import: cannot write into ${out} (${(e as Error).message})`);
  }
  for (const [tmp, target] of staged) renameSync(tmp, target);
}

function report(result: ImportResult, file: string, out: string, io: IO): void {
  const { models, suites, tests } = result.counts;
  io.stdout.write(
    `Imported ${terminalSafe(file)}: ${models} model(s), ${suites} suite(s) of ${tests} test(s) into ${terminalSafe(out)}/\n`,
  );
  for (const f of result.files) io.stdout.write(`  ${f.path}\n`);
  if (!result.unsupported.length) {
    io.stdout.write('Everything was carried over.\n');
    return;
  }
  io.stdout.write(`Not carried over (${result.unsupported.length}):\n`);
  for (const u of result.unsupported) io.stdout.write(`  - ${terminalSafe(u)}\n`);
}
