/**
 * The `transform` grader: a JavaScript step before grading. Text is graded as it is; any other
 * value as its JSON, with the value itself in ctx.value; a throw fails the case with its reason.
 */
import { describe, expect, it } from 'vitest';
import { loadSuite } from '../src/suite/load.js';
import { cli, tempDir, writeFiles } from './helpers.js';

const SUITE = `name: t
cases:
  - id: a
    prompt: List fruits as JSON.
    grader:
      type: transform
      path: fruits.mjs
      grader: {type: json, fields: {count: 2}}
  - id: b
    prompt: Say hi.
    grader: {type: transform, path: fruits.mjs, export: upper, grader: {type: contains, value: HI}}
  - id: c
    prompt: Which value?
    grader: {type: transform, path: fruits.mjs, export: keep, grader: {type: custom, path: seen.mjs}}
`;

const MODULE = `export default (output) => { const f = JSON.parse(output).fruits; return { count: f.length }; };
export const upper = (output) => output.toUpperCase();
export const keep = () => ({ n: 7 });
`;

describe('transform grader', () => {
  it('grades what the function returns', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      's.yaml': SUITE,
      'fruits.mjs': MODULE,
      'seen.mjs': 'export default (output, ctx) => ctx.value?.n === 7 && output === \'{"n":7}\';\n',
    });
    const s = await loadSuite('s.yaml', { cwd: dir, vars: {} });
    const g = (i: number, out: string) => s.graderOf(s.cases[i])(out, { case: s.cases[i] });
    expect((await g(0, '{"fruits": ["a", "b"]}')).passed).toBe(true);
    expect((await g(0, '{"fruits": ["a"]}')).passed).toBe(false);
    const thrown = await g(0, 'not json');
    expect(thrown).toMatchObject({ passed: false, score: 0 });
    expect(thrown.reason).toMatch(/^the transform threw: /);
    expect(thrown.error).toBeFalsy();
    expect((await g(1, 'hi there')).passed).toBe(true);
    expect((await g(2, 'anything')).passed).toBe(true);
  });

  it('bad options: one line naming the file, line and option', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      's.yaml':
        'name: t\ncases:\n  - id: a\n    prompt: x\n    grader: {type: transform, path: nope.mjs, grader: exact}\n',
      'g.yaml': 'name: t\ncases:\n  - id: a\n    prompt: x\n    grader: {type: transform, path: f.mjs}\n',
      'f.mjs': 'export default (o) => o;\n',
    });
    const a = await cli(['validate', 's.yaml'], { cwd: dir });
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(
      /^gapbench validate: s\.yaml:5: cases\[0\]\.grader: .*transform file not found: .*nope\.mjs\n$/,
    );
    const b = await cli(['validate', 'g.yaml'], { cwd: dir });
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/g\.yaml:5: cases\[0\]\.grader: .*`grader` is required/);
  });
});
