import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers.js';

/**
 * The layout DESIGN.md asks for, checked on the source: imports point down the data flow only
 * (commands -> run/report -> config/suite -> journal/providers/graders -> util), with no cycles,
 * and the functions of run/ and commands/ stay short enough to read in one screen.
 */
const SRC = join(REPO, 'src');

/** Rank of each top-level part of src/: a file may import only from a lower rank, or its own folder. */
const RANK: Record<string, number> = {
  index: 8,
  cli: 7,
  evaluate: 7,
  commands: 6,
  import: 5,
  run: 5,
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
