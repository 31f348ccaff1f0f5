/** Scheduled runs that cannot mislead: gated regressions, cache visibility and age, silent models. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerKeyFromCases, startSimulator, type Simulator } from '../src/sim/index.js';
import { cli, csvRows, suiteYaml, tempDir, writeFiles } from './helpers.js';

const N = 200;

/** A replayed open model right on the cases `right` says, against a fixed closed one. */
function regressionProject(): {
  dir: string;
  answers: (right: (i: number) => boolean) => void;
  run: (runId: string, ...args: string[]) => ReturnType<typeof cli>;
} {
  const dir = tempDir();
  const suite = ['name: syn', 'grader: numeric', 'cases:'];
  for (let i = 0; i < N; i++) suite.push(`  - { id: c${i}, prompt: "q${i}", expected: ${i} }`);
  const answers = (right: (i: number) => boolean) =>
    writeFileSync(
      join(dir, 'open.jsonl'),
      Array.from({ length: N }, (_, i) => JSON.stringify({ id: `c${i}`, output: `${right(i) ? i : -1}` })).join('\n'),
    );
  writeFiles(dir, {
    'syn.yaml': suite.join('\n'),
    'gapbench.config.yaml': 'models:\n  - { id: open, provider: replay, model: open.jsonl, group: open }\n',
  });
  const run = (runId: string, ...args: string[]) =>
    cli(['run', '--suite', 'syn.yaml', '--run-id', runId, '--quiet', ...args], { cwd: dir });
  return { dir, answers, run };
}

describe('--fail-on-regression fails only on drops the paired test finds significant', () => {
  it('a 5-point drop that is noise passes (unless --strict); a large one fails', async () => {
    const { dir, answers, run } = regressionProject();
    answers((i) => i < 120); // 60%
    expect((await run('base')).code).toBe(0);
    // 20 cases lost, 10 gained: -5 pp; McNemar's score test: z = 10 / sqrt(30), p = 0.0679.
    answers((i) => (i < 120 && i >= 20) || (i >= 120 && i < 130));
    const noisy = await run('noisy', '--fail-on-regression', '3');
    expect(noisy.code).toBe(0);
    const strict = await run('strict', '--fail-on-regression', '3', '--strict', '--baseline', 'results/base');
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(/FAIL open on syn: 60\.0% -> 55\.0% \(-5\.0 pp, p = 0\.068, --strict\) against base/);
    // 40 cases lost: -20 pp, p < 0.001.
    answers((i) => i >= 40 && i < 120);
    const big = await run('big', '--fail-on-regression', '3', '--baseline', 'results/base');
    expect(big.code).toBe(1);
    expect(big.stdout).toMatch(
      /FAIL open on syn: 60\.0% -> 40\.0% \(-20\.0 pp, p < 0\.001, significant at alpha 0\.05\)/,
    );
    const cmp = await cli(['compare', 'results/base', 'results/noisy', '--fail-on-regression', '3'], { cwd: dir });
    expect(cmp.code).toBe(0);
    expect(
      (await cli(['compare', 'results/base', 'results/noisy', '--fail-on-regression', '3', '--strict'], { cwd: dir }))
        .code,
    ).toBe(1);
  });

  it('a drop of exactly PP points is not more than PP (no floating-point edge), but a gate that cannot rule out more says inconclusive', async () => {
    const { dir, answers, run } = regressionProject();
    answers((i) => i < 150); // 75%
    expect((await run('base')).code).toBe(0);
    answers((i) => i < 144); // 72%: 6 lost, none gained, McNemar score test z = sqrt(6), p = 0.0143
    const exact = await run('x', '--fail-on-regression', '3', '--baseline', 'results/base');
    expect(exact.code).toBe(0);
    expect(exact.stdout).toMatch(
      /inconclusive --fail-on-regression 3: open on syn: 75\.0% -> 72\.0% \(-3\.0 pp \[-6\.\d, -\d\.\d\]\): a drop of up to 6\.\d pp cannot be ruled out \(200 cases\) against base/,
    );
    expect(exact.stdout).not.toContain('ok --fail-on-regression');
    const strictNI = await run(
      'z',
      '--fail-on-regression',
      '3',
      '--fail-if-inconclusive',
      '--baseline',
      'results/base',
    );
    expect(strictNI.code).toBe(1);
    expect(strictNI.stdout).toMatch(/FAIL inconclusive --fail-on-regression 3: open on syn/);
    // A gate with room to spare says what it checked.
    const wide = await run('w', '--fail-on-regression', '10', '--baseline', 'results/base');
    expect(wide.stdout).toContain(
      'ok --fail-on-regression 10: no drop of more than 10 pp that is significant at alpha 0.05 in 1 suite x model against base',
    );
    const under = await run('y', '--fail-on-regression', '2.9', '--baseline', 'results/base');
    expect(under.code).toBe(1);
    expect(under.stdout).toMatch(/FAIL open on syn: 75\.0% -> 72\.0% \(-3\.0 pp, p = 0\.014/);
    const cmp = await cli(['compare', 'results/base', 'results/x', '--fail-on-regression', '3'], { cwd: dir });
    expect(cmp.code).toBe(0);
  });
});

describe('cached answers are visible and can expire', () => {
  let sim: Simulator;
  const cases = Array.from({ length: 10 }, (_, i) => ({
    id: `q${i}`,
    prompt: `What is ${i} + ${i}?`,
    expected: String(2 * i),
    category: 'x',
    grader: { type: 'numeric' },
    vars: {},
  }));
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, models: [{ name: 'm', accuracy: 1 }], answers: answerKeyFromCases(cases) });
  });
  afterAll(() => sim.close());

  it('counts them per model (summary, history, terminal); --cache-max-age asks again', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      's.yaml': suiteYaml('s', cases),
      'gapbench.config.yaml': `models:\n  - { id: m, provider: openai, model: m, baseURL: "${sim.openaiBaseURL}", cache: true }\n`,
    });
    const env = { OPENAI_API_KEY: 'k' };
    expect((await cli(['run', '--suite', 's.yaml', '--run-id', 'one', '--quiet'], { cwd: dir, env })).code).toBe(0);
    const before = sim.stats().byModel.m.requests;
    const two = await cli(['run', '--suite', 's.yaml', '--run-id', 'two'], { cwd: dir, env });
    expect(two.code).toBe(0);
    expect(sim.stats().byModel.m.requests).toBe(before);
    expect(csvRows(join(dir, 'results', 'two', 'summary.csv'))[0].cached).toBe('10');
    expect(two.stdout).toMatch(/note: 'm' 10 of 10 answers came from the response cache/);
    expect(csvRows(join(dir, 'results', 'history.csv')).map((h) => [h.run_id, h.cached])).toEqual([
      ['one', '0'],
      ['two', '10'],
    ]);
    await new Promise((r) => setTimeout(r, 20));
    const three = await cli(['run', '--suite', 's.yaml', '--run-id', 'three', '--quiet', '--cache-max-age', '10ms'], {
      cwd: dir,
      env,
    });
    expect(three.code).toBe(0);
    expect(sim.stats().byModel.m.requests).toBe(before + 10);
    expect(csvRows(join(dir, 'results', 'three', 'summary.csv'))[0].cached).toBe('0');
  });
});
