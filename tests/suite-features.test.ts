/** What imported suites need: grader_all, case description, top-level x-* keys, all with score: min. */
import { describe, expect, it } from 'vitest';
import type { GradeContext } from '../src/graders/grader.js';
import { loadSuite } from '../src/suite/load.js';
import type { Case } from '../src/types.js';
import { tempDir, writeFiles } from './helpers.js';

async function load(yaml: string) {
  const dir = tempDir();
  writeFiles(dir, { 's.yaml': yaml });
  return loadSuite('s.yaml', { cwd: dir, vars: {} });
}

const ctx = (c: Case): GradeContext => ({ case: c, completion: { latencyMs: 10 } });

describe('suite features for imports', () => {
  it('grader_all applies to every case besides its own grader; a case passes only when all pass', async () => {
    const s = await load(`name: s
x-common: &common { type: contains, value: "!" }
grader_all:
  - *common
cases:
  - { id: a, prompt: "Say hi", expected: "hi!", description: "greets loudly" }
  - { id: b, prompt: "Say yo", grader: { type: contains, value: yo, ignore_case: true } }
`);
    const [a, b] = s.cases;
    expect(a.description).toBe('greets loudly');
    expect(a.grader).toEqual({
      type: 'all',
      score: 'min',
      graders: [{ type: 'exact' }, { type: 'contains', value: '!' }],
    });
    const grade = (c: typeof a, out: string) => s.graderOf(c)(out, ctx(c));
    expect((await grade(a, 'hi!')).passed).toBe(true);
    const half = await grade(b, 'YO');
    expect(half.passed).toBe(false);
    expect(half.score).toBe(0); // min, not the mean 0.5: an always-true check cannot lift a failed case
    expect((await grade(b, 'YO!')).score).toBe(1);
  });

  it('all: score mean (default) averages, score min takes the lowest; a bad score is a config error', async () => {
    const s = await load(`name: s
cases:
  - { id: m, prompt: p, grader: { type: all, graders: [{ type: contains, value: x }, { type: contains, value: y }] } }
  - { id: n, prompt: p, grader: { type: all, score: min, graders: [{ type: contains, value: x }, { type: contains, value: y }] } }
`);
    const [m, n] = s.cases;
    expect((await s.graderOf(m)('x', ctx(m))).score).toBe(0.5);
    expect((await s.graderOf(n)('x', ctx(n))).score).toBe(0);
    await expect(
      load(`name: s\ncases:\n  - { id: m, prompt: p, grader: { type: all, score: max, graders: [exact] } }\n`),
    ).rejects.toThrow(/s\.yaml:3: cases\[0\]\.grader: .*`score` must be 'mean' or 'min', got "max"/);
  });

  it('x-* keys are allowed only at the top level; a description must be text', async () => {
    await expect(load(`name: s\nx-note: hi\ncases:\n  - { id: a, prompt: p, x-no: 1 }\n`)).rejects.toThrow(
      /cases\[0\]\.x-no: unknown field 'x-no'/,
    );
    await expect(load(`name: s\ncases:\n  - { id: a, prompt: p, description: [1] }\n`)).rejects.toThrow(
      /cases\[0\]\.description: must be a string/,
    );
    await expect(load(`name: s\ntypo: 1\ncases:\n  - { id: a, prompt: p }\n`)).rejects.toThrow(/typo/);
  });
});
