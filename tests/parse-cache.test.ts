import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSuite } from '../src/suite/load.js';
import { spawnCli, tempDir, writeFiles } from './helpers.js';

/** A suite read a second time comes from the parse cache: same cases, same error lines. */
describe('suite parse cache', () => {
  const suite = `name: cached
grader: { type: json, schema: { type: object, properties: { a: { type: number } }, required: [a] } }
cases:
  - id: one
    prompt: "Give {\\"a\\": 1}"
    expected: {a: 1}
  - id: two
    prompt: "Give {\\"a\\": 2}"
    expected: {a: 2}
`;

  it('gives the same cases from the cache as from the parser, and writes one entry per distinct text', async () => {
    const dir = tempDir();
    const cache = join(dir, 'cache');
    writeFiles(dir, { 's.yaml': suite });
    const first = await loadSuite('s.yaml', { cwd: dir, vars: { GAPBENCH_CACHE_DIR: cache } });
    expect(readdirSync(join(cache, 'parsed'))).toHaveLength(1);
    const second = await loadSuite('s.yaml', { cwd: dir, vars: { GAPBENCH_CACHE_DIR: cache } });
    expect(second.cases).toEqual(first.cases);
    expect(second.hash).toBe(first.hash);
    const grade = await second.graderOf(second.cases[0])('{"a": 1}', { case: second.cases[0] } as never);
    expect(grade.passed).toBe(true);
    // An edited file is a new entry, never the old data.
    writeFileSync(join(dir, 's.yaml'), suite.replace('{a: 2}', '{a: 3}'));
    const edited = await loadSuite('s.yaml', { cwd: dir, vars: { GAPBENCH_CACHE_DIR: cache } });
    expect(edited.cases[1].expected).toEqual({ a: 3 });
    expect(readdirSync(join(cache, 'parsed'))).toHaveLength(2);
  });

  it('names the same line for an error whether the file was parsed or found in the cache', async () => {
    const dir = tempDir();
    const cache = join(dir, 'cache');
    writeFiles(dir, { 'bad.yaml': `${suite}  - id: three\n    prompt: p\n    colour: red\n` });
    const messages: string[] = [];
    for (let i = 0; i < 2; i++)
      await loadSuite('bad.yaml', { cwd: dir, vars: { GAPBENCH_CACHE_DIR: cache } }).catch((e: Error) =>
        messages.push(e.message),
      );
    expect(readdirSync(join(cache, 'parsed'))).toHaveLength(1);
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatch(/bad\.yaml:12/);
    expect(messages[1]).toBe(messages[0]);
  });

  it('parses again data JSON cannot carry (.inf), rather than caching it changed', async () => {
    const dir = tempDir();
    const cache = join(dir, 'cache');
    writeFiles(dir, { 'inf.yaml': `name: inf\ncases:\n  - {id: a, prompt: p, expected: .inf}\n` });
    for (let i = 0; i < 2; i++) {
      const s = await loadSuite('inf.yaml', { cwd: dir, vars: { GAPBENCH_CACHE_DIR: cache } });
      expect(s.cases[0].expected).toBe(Infinity);
    }
    expect(existsSync(join(cache, 'parsed'))).toBe(false);
  });

  it('ships the bundled suites parsed: a new cache directory stays empty after gapbench suites', async () => {
    // The built CLI (npm run build filled dist/parsed/): a first start reads JSON, not YAML.
    const dir = tempDir();
    const r = await spawnCli(['suites'], { cwd: dir }).done;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^extraction-json\s+40\s+json/m);
    expect(existsSync(join(dir, '.cache', 'parsed'))).toBe(false);
  });
});
