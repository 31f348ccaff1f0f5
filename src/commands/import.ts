import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../config/config.js';
import { UsageError } from '../errors.js';
import { convertPromptfoo, type ImportResult } from '../import/promptfoo.js';
import { EXIT, type IO } from '../io.js';
import { loadSuite } from '../suite/load.js';
import { validateSuite } from '../suite/validate.js';
import { helpText, parse, type CommandSpec } from '../util/args.js';
import { terminalSafe } from '../util/text.js';

export const IMPORT_SPEC = {
  name: 'import',
  usage: 'import promptfoo FILE [--out DIR] [--force] [--allow-outside DIR]',
  about:
    'Converts a promptfoo config (promptfooconfig.yaml) into DIR/gapbench.config.yaml and one suite per prompt in DIR/suites/, scored as promptfoo scores: a test passes when all its assertions pass (or its weighted score reaches its threshold). The suites are validated before anything is written (nothing is run). Prints every part it could not carry over, and every endpoint and API-key variable the models were given. Existing files are not overwritten without --force.',
  options: {
    out: { value: 'DIR', help: 'where to write the config and suites', default: '.' },
    force: { type: 'boolean', help: 'overwrite existing files' },
    'allow-outside': {
      multiple: true,
      value: 'DIR',
      help: "let file:// references read below DIR too (otherwise only below the promptfoo config's directory)",
    },
  },
  positionals: true,
} as const satisfies CommandSpec;

export async function importCommand(argv: string[], io: IO): Promise<number> {
  const { values, positionals } = parse(IMPORT_SPEC, argv);
  if (values.help) {
    io.stdout.write(`${helpText(IMPORT_SPEC)}\n`);
    return EXIT.ok;
  }
  const [kind, file, ...extra] = positionals;
  if (kind !== 'promptfoo' || !file || extra.length)
    throw new UsageError('usage: gapbench import promptfoo FILE [--out DIR] [--force] [--allow-outside DIR]');
  const out = resolve(io.cwd, values.out);
  const allowOutside = (values['allow-outside'] ?? []).map((d) => resolve(io.cwd, d));
  const result = convertPromptfoo(resolve(io.cwd, file), file, { allowOutside });
  refuseOverwrite(result, out, io.cwd, values.force);
  await writeValidated(result, out, io);
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

/**
 * Every file is written into a staging directory beside the targets, the config and each suite are
 * loaded and validated from there (no model is called), and only then moved into place: a suite
 * that would not load is never written, and never half a config.
 */
async function writeValidated(result: ImportResult, out: string, io: IO): Promise<void> {
  let stage: string;
  try {
    mkdirSync(out, { recursive: true });
    stage = mkdtempSync(join(out, '.gapbench-import-'));
    for (const f of result.files) {
      const target = join(stage, f.path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, f.yaml === undefined ? f.text : f.text + stringify(f.yaml, { lineWidth: 0 }));
    }
  } catch (e) {
    throw new UsageError(`import: cannot write into ${out} (${(e as Error).message})`);
  }
  try {
    await validateStaged(result, stage, io);
    for (const f of result.files) {
      mkdirSync(dirname(join(out, f.path)), { recursive: true });
      renameSync(join(stage, f.path), join(out, f.path));
    }
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

async function validateStaged(result: ImportResult, stage: string, io: IO): Promise<void> {
  const fail = (what: string, e: unknown) =>
    new UsageError(`the ${what} it would write does not load (${(e as Error).message}); nothing was written`);
  try {
    loadConfig({ configPath: 'gapbench.config.yaml', cwd: stage, env: io.env });
  } catch (e) {
    throw fail('gapbench.config.yaml', e);
  }
  for (const f of result.files.filter((x) => x.yaml !== undefined && x.path.startsWith('suites/'))) {
    let problems: string[];
    try {
      const suite = await loadSuite(f.path, { cwd: stage, vars: {} });
      problems = (await validateSuite(suite)).problems;
    } catch (e) {
      throw fail(f.path, e);
    }
    if (problems.length) throw fail(f.path, new Error(problems[0]));
  }
}

function report(result: ImportResult, file: string, out: string, io: IO): void {
  const { models, suites, tests } = result.counts;
  io.stdout.write(
    `Imported ${terminalSafe(file)}: ${models} model(s), ${suites} suite(s) of ${tests} test(s) into ${terminalSafe(out)}/ (validated, nothing run)\n`,
  );
  for (const f of result.files) io.stdout.write(`  ${f.path}\n`);
  const given = result.endpoints.filter((e) => e.fromConfig);
  if (given.length) {
    // The promptfoo config chose where requests go and which key they carry: say so loudly.
    io.stdout.write(`Endpoints and API keys taken from ${terminalSafe(file)} (check them before running):\n`);
    for (const e of given)
      io.stdout.write(
        `  ! ${terminalSafe(e.model)}: sends ${e.keyEnv ? `the key in $${terminalSafe(e.keyEnv)}` : 'no key'} to ${terminalSafe(e.endpoint)}\n`,
      );
  }
  if (!result.unsupported.length) {
    io.stdout.write('Everything was carried over.\n');
    return;
  }
  io.stdout.write(`Not carried over (${result.unsupported.length}):\n`);
  for (const u of result.unsupported) io.stdout.write(`  - ${terminalSafe(u)}\n`);
}
