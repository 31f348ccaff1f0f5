import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers.js';

/**
 * The layout DESIGN.md asks for, checked on the source: imports point down the data flow only
 * (commands -> run -> report -> config/suite -> journal/providers/graders -> util), with no cycles,
 * and the functions of run/ and commands/ stay short enough to read in one screen.
 */
const SRC = join(REPO, 'src');

/** Rank of each top-level part of src/: a file may import only from a lower rank, or its own folder. */
const RANK: Record<string, number> = {
  index: 9,
  cli: 8,
  evaluate: 8,
  commands: 7,
  run: 6,
  import: 5,
  report: 5,
  config: 4,
  suite: 4,
  journal: 3,
  providers: 3,
  graders: 3,
  sim: 3,
  util: 2,
  errors: 1,
  io: 1,
  version: 1,
  types: 0,
};

function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** file (relative to src/) -> the project files it imports, type-only imports included. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles()) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/(?:from\s+|import\s*\(\s*)['"](\.[^'"]+)['"]/g)].map((m) =>
      relative(SRC, resolve(dirname(file), m[1].replace(/\.js$/, '.ts'))),
    );
    graph.set(relative(SRC, file), targets);
  }
  return graph;
}

const part = (file: string) => (file.includes('/') ? file.split('/')[0] : file.replace(/\.ts$/, ''));

describe('architecture', () => {
  const graph = importGraph();

  it('every part of src/ has a layer', () => {
    const unknown = [...new Set([...graph.keys()].map(part))].filter((p) => RANK[p] === undefined);
    expect(unknown).toEqual([]);
  });

  it('imports point down the layers only', () => {
    const upward: string[] = [];
    for (const [from, targets] of graph) {
      for (const to of targets) {
        if (part(from) !== part(to) && RANK[part(to)] >= RANK[part(from)]) upward.push(`${from} -> ${to}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('has no import cycles', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...path.slice(path.indexOf(f)), f].join(' -> '));
        return;
      }
      state.set(f, 'open');
      for (const t of graph.get(f) ?? []) visit(t, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of graph.keys()) visit(f, []);
    expect(cycles).toEqual([]);
  });

  it('functions in run/ and commands/ are at most 60 lines', () => {
    const long: string[] = [];
    for (const file of sourceFiles().filter((f) => /[\\/](run|commands)[\\/]/.test(f))) {
      const text = readFileSync(file, 'utf8');
      const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
      const walk = (node: ts.Node) => {
        if (ts.isFunctionLike(node) && 'body' in node && node.body) {
          const start = sf.getLineAndCharacterOfPosition(node.getStart()).line;
          const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
          if (end - start + 1 > 60) long.push(`${relative(SRC, file)}:${start + 1} (${end - start + 1} lines)`);
        }
        ts.forEachChild(node, walk);
      };
      walk(sf);
    }
    expect(long).toEqual([]);
  });
});

describe('the provider registry', () => {
  it('takes a new protocol with one provider file and one registry entry (and its import)', async () => {
    // A copy of src/ with an `echo` protocol added the way the README says, run through the CLI.
    const root = join(REPO, '.test-tmp', `protocol-${process.pid}`);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    try {
      cpSync(SRC, join(root, 'src'), { recursive: true });
      cpSync(join(REPO, 'package.json'), join(root, 'package.json'));
      writeFileSync(
        join(root, 'src', 'providers', 'echo.ts'),
        [
          "import type { ProviderDescriptor } from './provider.js';",
          'export const echoDescriptor: ProviderDescriptor = {',
          "  protocol: 'echo',",
          "  description: 'answers with the prompt',",
          "  key: 'none',",
          "  group: 'open',",
          '  defaults: () => ({ concurrency: 2, timeoutMs: 1000, cache: false }),',
          '  create: (model) => ({ model, complete: async (req) => ({ text: String(req.messages.at(-1)?.content), latencyMs: 0 }) }),',
          '};',
        ].join('\n'),
      );
      const index = join(root, 'src', 'providers', 'index.ts');
      const registry = readFileSync(index, 'utf8')
        .replace(/^/, "import { echoDescriptor } from './echo.js';\n")
        .replace('  replay: replayDescriptor,\n', '  replay: replayDescriptor,\n  echo: echoDescriptor,\n');
      expect(registry).toContain('echo:');
      writeFileSync(index, registry);
      writeFileSync(
        join(root, 'suite.yaml'),
        'name: echo\ngrader: { type: contains }\ncases:\n  - { id: a, prompt: say 42, expected: "42" }\n',
      );
      const cli = (...args: string[]) =>
        promisify(execFile)(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli.ts'), ...args], {
          cwd: root,
          encoding: 'utf8',
        });
      const listed = await cli('models');
      expect(listed.stdout).toMatch(/^echo\s+open\s+echo\b/m);
      const run = await cli('run', '--model', 'echo:anything', '--suite', 'suite.yaml', '--out', 'out', '--quiet');
      expect(run.stdout).toMatch(/echo:anything\s+open\s+100\.0/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
