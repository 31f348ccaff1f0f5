/**
 * The docs stay true to the code: the option tables and the presets table are made from the code
 * (`npm run docs`) and must match it; every command has its table; every CSV column is described;
 * every link resolves; the README stays a newcomer's page, and its real comparison runs as shown.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_SPECS, generatedParts, partsIn, renderDocs } from '../src/commands/docs.js';
import { helpText, optionMeaning, parse } from '../src/util/args.js';
import { cli, DATASETS, REPO, tempDir } from './helpers.js';

const PAGES = ['README.md', ...readdirSync(join(REPO, 'docs')).map((f) => `docs/${f}`)].filter((p) =>
  p.endsWith('.md'),
);
const read = (page: string) => readFileSync(join(REPO, page), 'utf8');

describe('generated parts of the docs', () => {
  it.each(PAGES)('%s is up to date with the code (else run npm run docs)', (page) => {
    const text = read(page);
    expect(renderDocs(text)).toBe(text);
  });

  it('every command of gapbench --help has one option table in docs/commands.md, and the presets one table', async () => {
    const main = await cli(['--help'], { cwd: tempDir() });
    const listed = [...main.stdout.matchAll(/^ {2}(\w+) {2,}/gm)].map((m) => m[1]);
    expect(listed).toContain('run');
    expect(COMMAND_SPECS.map((s) => s.name).sort()).toEqual([...listed].sort());
    const all = PAGES.flatMap((p) => partsIn(read(p)));
    expect([...all].sort()).toEqual([...generatedParts().keys()].sort());
    expect(partsIn(read('docs/commands.md'))).toEqual(COMMAND_SPECS.map((s) => `options:${s.name}`));
  });

  it.each(COMMAND_SPECS.map((s) => [s.name, s] as const))('gapbench %s --help prints its table', async (name, spec) => {
    const r = await cli([name, '--help'], { cwd: tempDir() });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${helpText(spec)}\n`);
    for (const option of Object.keys(spec.options)) expect(r.stdout).toContain(`--${option}`);
  });

  it('the README lists every command', () => {
    const readme = read('README.md');
    for (const s of COMMAND_SPECS) expect(readme).toContain(`| \`npx gapbench ${s.name}`);
  });
});

describe('option tables: each value is converted and each default applied by the table, as help shows it', () => {
  const options = COMMAND_SPECS.flatMap((spec) => Object.entries(spec.options).map(([name, o]) => ({ spec, name, o })));
  /** What help and docs print as the default, or undefined. */
  const shownDefault = (o: (typeof options)[number]['o']) => /\(.*default: (.*)\)$/.exec(optionMeaning(o))?.[1];

  it.each(options.filter((x) => x.o.default !== undefined).map((x) => [`${x.spec.name} --${x.name}`, x] as const))(
    '%s: the default printed, given as the flag, is the value applied without it',
    (_label, { spec, name, o }) => {
      const applied = parse(spec, []).values[name];
      expect(applied).toEqual(o.default);
      const shown = shownDefault(o)!;
      const argv = (o.multiple ? shown.split(', ') : [shown]).flatMap((text) => [`--${name}`, text]);
      expect(parse(spec, argv).values[name]).toEqual(applied);
    },
  );

  it('an option whose default the command decides (a fallback text: the config, a resumed run) is undefined when absent', () => {
    const decided = options.filter((x) => x.o.fallback !== undefined && x.o.default === undefined);
    expect(decided.map((x) => `${x.spec.name} --${x.name}`)).toContain('run --repeat');
    for (const { spec, name, o } of decided)
      expect(parse(spec, []).values[name], `${spec.name} --${name}`).toBe(o.type === 'boolean' ? false : undefined);
  });

  it('every option whose value is a number (N, S, MS, PP, ...) has a parse', () => {
    const numeric = new Set(['N', 'K', 'S', 'MS', 'PP', 'A', 'SCORE', 'FRACTION', 'AGE', 'TIME']);
    const found = options.filter((x) => x.o.value !== undefined && numeric.has(x.o.value));
    expect(found.length).toBeGreaterThan(20);
    expect(found.filter((x) => !x.o.parse).map((x) => `${x.spec.name} --${x.name}`)).toEqual([]);
  });

  it('a constant a command puts after an absent flag (values.x ?? ... ?? 5) is the default its help prints', () => {
    const dir = join(REPO, 'src', 'commands');
    const chain = /values(?:\.(\w+)|\['([\w-]+)'\])(?:\s*\?\?\s*[\w?.]+)*\s*\?\?\s*(\d[\d_.]*|'[^']*')/g;
    const found: string[] = [];
    const wrong: string[] = [];
    for (const file of readdirSync(dir)) {
      for (const m of readFileSync(join(dir, file), 'utf8').matchAll(chain)) {
        const [name, literal] = [m[1] ?? m[2], m[3].replace(/^'|'$/g, '').replace(/_/g, '')];
        found.push(name);
        const shown = options.filter((x) => x.name === name).map((x) => shownDefault(x.o) ?? '');
        if (!shown.some((text) => text.split(/,? /).includes(literal))) wrong.push(`${file}: --${name} ?? ${literal}`);
      }
    }
    expect(found).toContain('repeat');
    expect(wrong).toEqual([]);
  });
});

/** The first column of the markdown table under `## heading` in outputs.md, without backticks. */
function documentedColumns(heading: string): string[] {
  const text = read('docs/outputs.md');
  const at = text.indexOf(`\n## ${heading}\n`);
  expect(at, `docs/outputs.md has no section '## ${heading}'`).toBeGreaterThan(0);
  const section = text.slice(at + 1).split(/\n## /)[0];
  return [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
}

/** The header of a CSV file. */
const header = (path: string) =>
  readFileSync(path, 'utf8')
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)[0]
    .split(',')
    .map((c) => c.replace(/^"|"$/g, ''));

describe('docs/outputs.md', () => {
  it('describes every column of every CSV a run and a compare write, in file order', async () => {
    const dir = tempDir();
    for (const id of ['a', 'b']) expect((await cli(['demo', '--run-id', id, '--quiet'], { cwd: dir })).code).toBe(0);
    const run = join(dir, 'results', 'b');
    expect((await cli(['compare', join(dir, 'results', 'a'), run], { cwd: dir })).code).toBe(0);
    for (const file of ['results.csv', 'summary.csv', 'gap.csv', 'compare.csv'])
      expect(documentedColumns(file), file).toEqual(header(join(run, file)));
    expect(documentedColumns('history.csv')).toEqual(header(join(dir, 'results', 'history.csv')));
  });
});

/** GitHub's anchor for a heading. */
const slug = (h: string) =>
  h
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

describe('links', () => {
  it.each(PAGES)('every relative link of %s reaches a file and heading that exist', (page) => {
    const dir = page.includes('/') ? page.slice(0, page.lastIndexOf('/')) : '.';
    const broken: string[] = [];
    const text = read(page).replace(/```[\s\S]*?```/g, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      const [file, anchor] = target.split('#');
      const path = file ? join(REPO, dir, file) : join(REPO, page);
      if (!existsSync(path)) {
        broken.push(target);
        continue;
      }
      if (anchor && path.endsWith('.md')) {
        const headings = [...readFileSync(path, 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1]));
        if (!headings.includes(anchor)) broken.push(target);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe('README.md', () => {
  it('is a newcomer page of at most about 200 lines', () => {
    expect(read('README.md').split('\n').length).toBeLessThanOrEqual(200);
  });

  const maybe = existsSync(join(DATASETS, 'zeroeval-gsm8k')) ? it : it.skip;
  if (!existsSync(join(DATASETS, 'zeroeval-gsm8k')))
    console.log(`README real comparison skipped: reference datasets not found at ${DATASETS}`);

  maybe('its real comparison runs as written and prints the table it shows', async () => {
    const readme = read('README.md');
    const config = /```yaml\n(suites: \[gsm8k\][\s\S]*?)```/.exec(readme)?.[1];
    const shown = /```\n\$ GSM8K_TEST_JSONL=(\S+) npx gapbench (run [^\n]*)\n([\s\S]*?)```/.exec(readme);
    expect(config).toBeDefined();
    expect(shown).not.toBeNull();
    const dir = tempDir();
    mkdirSync(join(dir, 'data'));
    symlinkSync(join(DATASETS, 'zeroeval-gsm8k'), join(dir, 'data', 'zeroeval-gsm8k'));
    symlinkSync(join(DATASETS, 'gsm8k'), join(dir, 'data', 'gsm8k'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'gapbench.config.yaml'), config!);
    const [, jsonl, command, output] = shown!;
    const r = await cli(command.split(' '), { cwd: dir, env: { GSM8K_TEST_JSONL: jsonl } });
    expect(r.code).toBe(0);
    // The same lines, but for where the results went.
    const lines = (s: string) => s.split('\n').filter((l) => l && !l.startsWith('Results:'));
    expect(lines(r.stdout)).toEqual(lines(output));
  });
});

describe('docs/config-and-providers.md', () => {
  it('names every field of the config file, of a model, of params and of price', async () => {
    const { configSchema, modelSchema } = await import('../src/config/schema.js');
    const page = read('docs/config-and-providers.md');
    // params and price are optional objects of a model: their own fields are one unwrap away.
    const inner = (key: 'params' | 'price') => Object.keys(modelSchema.shape[key].unwrap().shape);
    const fields = [
      ...Object.keys(configSchema.shape),
      ...Object.keys(modelSchema.shape),
      ...inner('params'),
      ...inner('price'),
    ];
    const missing = fields.filter((f) => !new RegExp(`(^|[\\s{,])${f}:|\`${f}\``, 'm').test(page));
    expect(missing).toEqual([]);
  });
});

describe('docs/library.md', () => {
  it('describes every option of evaluate(), and only those', async () => {
    const ts = (await import('typescript')).default;
    const file = join(REPO, 'src', 'evaluate.ts');
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    const names: string[] = [];
    sf.forEachChild((node) => {
      if (ts.isInterfaceDeclaration(node) && node.name.text === 'EvaluateOptions')
        for (const m of node.members) if (m.name && ts.isIdentifier(m.name)) names.push(m.name.text);
    });
    const page = read('docs/library.md');
    const table = page.slice(page.indexOf('| option | meaning |'));
    const documented = [...table.matchAll(/^\| ([^|]+) \|/gm)]
      .flatMap((m) => [...m[1].matchAll(/`(\w+)`/g)].map((n) => n[1]))
      .filter((n) => n !== 'option');
    expect(names.length).toBeGreaterThan(5);
    expect([...documented].sort()).toEqual([...names].sort());
  });
});

describe("the README's demo output", () => {
  it('is what the demo prints, but for timings and the hourly cost that follow them', async () => {
    const readme = read('README.md');
    const at = readme.indexOf('## The demo');
    const shown = /```\n([\s\S]*?)```/.exec(readme.slice(at))![1];
    const r = await cli(['demo', '--run-id', 'd'], { cwd: tempDir() });
    expect(r.code).toBe(0);
    // A model row without its last two columns (cost per correct answer and latency vary with timing).
    const stable = (line: string) =>
      /^\S+ +(closed|open) /.test(line) ? line.split(/ {2,}/).slice(0, 5).join('  ') : line;
    const printed = r.stdout.split('\n').filter((l) => l.trim() && !l.startsWith('Results:'));
    const readmeLines = new Set(shown.split('\n').map(stable));
    for (const line of printed) expect(readmeLines, line).toContain(stable(line));
  });
});

describe('the public API in docs/library.md', () => {
  it('names every export of src/index.ts', () => {
    const index = read('src/index.ts');
    const names = [...index.matchAll(/^export (?:type )?\{([^}]*)\}/gm)].flatMap((m) =>
      m[1].split(',').map((p) => p.trim().replace(/^type\s+/, '')),
    );
    expect(names).toContain('evaluate');
    const page = read('docs/library.md');
    expect(names.filter((n) => n && !page.includes(`\`${n}`))).toEqual([]);
  });
});

describe('docs/graders.md', () => {
  it('has a row for every built-in grader, naming each of its options', async () => {
    const { listGraders } = await import('../src/graders/index.js');
    const options = new Map<string, readonly string[]>();
    for (const f of readdirSync(join(REPO, 'src', 'graders')).filter((f) => f.endsWith('.ts'))) {
      const mod = (await import(`../src/graders/${f.replace(/\.ts$/, '.js')}`)) as Record<string, unknown>;
      for (const v of Object.values(mod)) {
        const def = v as { type?: unknown; options?: unknown };
        if (typeof def?.type === 'string' && Array.isArray(def.options)) options.set(def.type, def.options as string[]);
      }
    }
    const rows = read('docs/graders.md')
      .split('\n')
      .filter((l) => l.startsWith('| `'));
    const missing: string[] = [];
    for (const { type } of listGraders()) {
      const row = rows.find((r) => r.split(' | ')[0].includes(`\`${type}\``));
      if (!row) missing.push(type);
      else for (const o of options.get(type) ?? []) if (!row.includes(`\`${o}`)) missing.push(`${type}.${o}`);
    }
    expect(options.size).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });
});

describe('docs/development.md', () => {
  it('names every scenario of npm run bench', () => {
    const bench = read('bench/run.mjs');
    // Names of the two scenario tables: `name,` or `'name': fn,`, comments skipped.
    const names = [...bench.matchAll(/^const (?:all|extra) = \{([^}]*)\}/gm)].flatMap((m) =>
      m[1]
        .replace(/\/\/.*$/gm, '')
        .split(/[\n,]/)
        .map((t) => t.trim())
        .filter(Boolean)
        .map((t) => t.replace(/:.*$/, '').replace(/'/g, '').trim()),
    );
    expect(names).toContain('speed');
    const page = read('docs/development.md');
    expect(names.filter((n) => !page.includes(`\`${n}\``))).toEqual([]);
  });
});
