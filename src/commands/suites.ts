import { UsageError } from '../errors.js';
import { EXIT, type IO } from '../io.js';
import { bundledSuites, loadSuite } from '../suite/load.js';
import { validateSuite } from '../suite/validate.js';
import { keyValues, parse } from '../util/args.js';

const SUITES_HELP = `Usage: gapbench suites

Lists the bundled suites (use them by name: --suite knowledge-mc) with their case counts, graders
and what they measure. Suites that read a dataset you download (gsm8k, mmlu, ceval) show the
variable that must point at it.`;

const VALIDATE_HELP = `Usage: gapbench validate <suite> [...] [--set KEY=VALUE]

Checks suites without calling a model: the schema, every grader's options, unknown fields,
duplicate ids, template fields, each case's \`check\` expression against its expected answer,
multiple-choice keys, and each case's example answers (pass examples must pass, fail examples
must fail). Exit 0 when all is well, 2 with one line per problem otherwise.`;

export async function suitesCommand(argv: string[], io: IO): Promise<number> {
  const { values } = parse('suites', argv, { help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    io.stdout.write(`${SUITES_HELP}\n`);
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
          ? 'downloads from the Hugging Face Hub on first run (see README: public datasets)'
          : v
            ? `needs ${v[1]}=PATH (see README: public datasets)`
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
  const { values, positionals } = parse(
    'validate',
    argv,
    { set: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } },
    true,
  );
  if (values.help) {
    io.stdout.write(`${VALIDATE_HELP}\n`);
    return EXIT.ok;
  }
  if (!positionals.length)
    throw new UsageError('expected a suite file or bundled suite name: gapbench validate suites/my-suite.yaml');
  const vars = { ...io.env, ...keyValues('--set', values.set) };
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
