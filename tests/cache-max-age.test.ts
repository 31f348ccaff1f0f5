import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerKeyFromCases, startSimulator, type Simulator } from '../src/sim/index.js';
import { duration } from '../src/util/args.js';
import { cli, csvRows, suiteYaml, tempDir, writeFiles } from './helpers.js';

describe('--cache-max-age 0s', () => {
  let sim: Simulator;
  const cases = Array.from({ length: 6 }, (_, i) => ({
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

  it('is accepted in every spelling of zero, and only for the options that take it', () => {
    for (const zero of ['0', '0s', '0ms', '0m', '0.0h', '0d']) expect(duration('--cache-max-age', zero, true)).toBe(0);
    expect(() => duration('--max-duration', '0s')).toThrow(/^--max-duration 0s: expected a duration/);
    expect(() => duration('--cache-max-age', '-1s', true)).toThrow(/expected a duration/);
  });

  it('asks every job again, right after the answers were cached, and caches the new answers', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      's.yaml': suiteYaml('s', cases),
      'gapbench.config.yaml': `models:\n  - { id: m, provider: openai, model: m, baseURL: "${sim.openaiBaseURL}", cache: true }\n`,
    });
    const env = { OPENAI_API_KEY: 'k' };
    const run = (id: string, ...extra: string[]) =>
      cli(['run', '--suite', 's.yaml', '--run-id', id, '--quiet', ...extra], { cwd: dir, env });
    expect((await run('one')).code).toBe(0);
    const before = sim.stats().byModel.m.requests;
    const zero = await run('zero', '--cache-max-age', '0s');
    expect(zero.code, zero.stderr).toBe(0);
    expect(sim.stats().byModel.m.requests).toBe(before + cases.length);
    expect(csvRows(join(dir, 'results', 'zero', 'summary.csv'))[0].cached).toBe('0');
    // Without the option the cache answers again.
    expect((await run('again')).code).toBe(0);
    expect(sim.stats().byModel.m.requests).toBe(before + cases.length);
  });
});
