import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers.js';

/**
 * Every export of src/ is used somewhere else (another source file, a test, a benchmark), or is
 * the package's public API (src/index.ts). An export nobody imports is either dead code or
 * internal state that should not be visible: the surface a newcomer reads stays the one in use.
 * Names are matched as whole words in the other files, which also sees dynamic imports
 * (`(await import('./commands/x.js')).xCommand`).
 */
function files(dir: string, ext: RegExp): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p, ext) : ext.test(f) ? [p] : [];
  });
}

const DECL =
  /^export\s+(?:declare\s+)?(?:default\s+)?(?:async\s+)?(?:abstract\s+)?(?:const|let|function\*?|class|interface|type|enum)\s+([A-Za-z_$][\w$]*)/gm;
const LIST = /^export\s+(?:type\s+)?\{([^}]*)\}(?!\s*from)/gm;

function exportedNames(text: string): string[] {
  const names = [...text.matchAll(DECL)].map((m) => m[1]);
  for (const m of text.matchAll(LIST))
    for (const part of m[1].split(',')) {
      const name = part
        .trim()
        .split(/\s+as\s+/)
        .pop()
        ?.replace(/^type\s+/, '');
      if (name) names.push(name);
    }
  return names;
}

describe('exports', () => {
  it('every export of src/ is used outside its own file, or is public API (src/index.ts)', () => {
    const src = files(join(REPO, 'src'), /\.ts$/);
    const others = [...src, ...files(join(REPO, 'tests'), /\.ts$/), ...files(join(REPO, 'bench'), /\.m?js$/)];
    const texts = new Map(others.map((f) => [f, readFileSync(f, 'utf8')]));
    const unused: string[] = [];
    for (const file of src) {
      if (file === join(REPO, 'src', 'index.ts')) continue;
      for (const name of exportedNames(texts.get(file)!)) {
        const word = new RegExp(`(?<![\\w$])${name.replace(/\$/g, '\\$')}(?![\\w$])`);
        const used = [...texts].some(([f, t]) => f !== file && word.test(t));
        if (!used) unused.push(`${relative(REPO, file)}: ${name}`);
      }
    }
    expect(unused).toEqual([]);
  });
});
