import { UsageError } from '../errors.js';
import { EXIT, type IO } from '../io.js';
import { bundledSuites, loadSuite } from '../suite/load.js';
import { validateSuite } from '../suite/validate.js';
import { helpText, parse, SET_OPTION, type CommandSpec } from '../util/args.js';

export const SUITES_SPEC = {
  name: 'suites',
  usage: 'suites',
  about:
    'Lists the bundled suites (use them by name: --suite knowledge-mc) with their case counts, graders and what they measure. Suites that read a dataset you download (gsm8k, mmlu, ceval) show the variable that must point at it.',
  options: {},
} as const satisfies CommandSpec;

export const VALIDATE_SPEC = {
  name: 'validate',
  usage: 'validate <suite> [...] [--set KEY=VALUE]',
  about:
    "Checks suites without calling a model: the schema, every grader's options, unknown fields, duplicate ids, template fields, each case's `check` expression against its expected answer, multiple-choice keys, and each case's example answers (pass examples must pass, fail examples must fail). Exit 0 when all is well, 2 with one line per problem otherwise.",
  options: {
    set: SET_OPTION,
  },
  positionals: true,
} as const satisfies CommandSpec;

export async function suitesCommand(argv: string[], io: IO): Promise<number> {
  const { values } = parse(SUITES_SPEC, argv);
  if (values.help) {
    io.stdout.write(`${helpText(SUITES_SPEC)}\n`);
    return EXIT.ok;
  }
  const rows: string[][] = [];
  for (const name of bundledSuites()) {
    try {
      // Listing never downloads: a Hub suite not cached yet says so.
      const s = await loadSuite(name, { cwd: io.cwd, vars: { ...io.env, GAPBENCH_OFFLINE: '1' }, buildGraders: false });
      const graders = [...new Set(s.cases.map((c) => c.grader.type))].join(', ');
      rows.push([name, String(s.cases.length), graders, s.description.replace(/\s+/g, ' ').slice(0, 90)]);
    } catch (e) {
      const msg = (e as Error).message;
      const v = /variable (\w+) is not set/.exec(msg);
      rows.push([
        name,
        '-',
        '-',
        /offline and not cached/.test(msg)
          ? 'downloads from the Hugging Face Hub on first run (see docs/suites.md: public datasets)'
          : v
            ? `needs ${v[1]}=PATH (see docs/suites.md: public datasets)`
            : `error: ${msg.slice(0, 80)}`,
      ]);
    }
  }
  const header = ['suite', 'cases', 'graders', 'description'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 3 ? c : c.padEnd(widths[i]))).join('  ');
  io.stdout.write(`${fmt(header)}\n${rows.map(fmt).join('\n')}\n`);
  return EXIT.ok;
}

export async function validateCommand(argv: string[], io: IO): Promise<number> {
  const { values, positionals } = parse(VALIDATE_SPEC, argv);
  if (values.help) {
    io.stdout.write(`${helpText(VALIDATE_SPEC)}\n`);
    return EXIT.ok;
  }
  if (!positionals.length)
    throw new UsageError('expected a suite file or bundled suite name: gapbench validate suites/my-suite.yaml');
  const vars = { ...io.env, ...Object.fromEntries(values.set ?? []) };
  let bad = 0;
  for (const ref of positionals) {
    const s = await loadSuite(ref, { cwd: io.cwd, vars });
    const r = await validateSuite(s);
    for (const p of r.problems) io.stderr.write(`${s.file}: ${p}\n`);
    bad += r.problems.length;
    io.stdout.write(
      `${s.file}: ${s.cases.length} cases, ${r.checks} checks, ${r.examples} examples: ${r.problems.length ? `${r.problems.length} problem(s)` : 'ok'}\n`,
    );
  }
  return bad ? EXIT.usage : EXIT.ok;
}
