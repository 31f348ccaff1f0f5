/**
 * `gapbench import promptfoo` carries exactly what it says: vars read only by assertions travel
 * under the case's `vars:`, vars named like case keys never change what is sent, transforms run
 * before grading, array vars expand, multi-turn chat prompts become conversations; the suites are
 * validated before anything is written; and "Everything was carried over." appears only when true.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerKeyFromCases, startSimulator, type Simulator } from '../src/sim/index.js';
import { loadSuite } from '../src/suite/load.js';
import { REPO, cli, runRecords, tempDir } from './helpers.js';

const FIXTURE = join(REPO, 'tests', 'fixtures', 'promptfoo', 'features');

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    seed: 3,
    answers: answerKeyFromCases([]),
    models: [{ name: 'gpt-sim', accuracy: 1, latencyMs: 1 }],
  });
});
afterAll(() => sim.close());

function project(): string {
  const dir = tempDir();
  cpSync(FIXTURE, dir, { recursive: true });
  const cfg = join(dir, 'promptfooconfig.yaml');
  writeFileSync(cfg, readFileSync(cfg, 'utf8').replaceAll('SIM_BASE_URL', sim.openaiBaseURL));
  return dir;
}

describe('gapbench import promptfoo: vars, transforms, conversations', () => {
  it('imports every feature, validated, and says so', async () => {
    const dir = project();
    const r = await cli(['import', 'promptfoo', 'promptfooconfig.yaml', '--out', 'gb'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1 model\(s\), 2 suite\(s\) of 7 test\(s\) into gb\/ \(validated, nothing run\)/);
    expect(r.stdout).toMatch(/! openai:chat:gpt-sim: sends the key in \$SIM_KEY to http:\/\/127\.0\.0\.1:\d+\/v1\n/);
    expect(r.stdout).toMatch(/Everything was carried over\.\n$/);
    const raw = parseYaml(readFileSync(join(dir, 'gb', 'suites', 'prompt-1.yaml'), 'utf8'));
    expect(raw.cases[1]).toMatchObject({
      id: 't2',
      vars: { prompt: 'this var must never replace the prompt', id: 42 },
    });
    expect(raw.cases[1].prompt).toBeUndefined();

    const s = await loadSuite(join(dir, 'gb', 'suites', 'prompt-1.yaml'), { cwd: dir, vars: {} });
    expect(s.cases.map((c) => c.prompt)).toEqual([
      'Q: What is the capital of France?',
      'Q: Name a primary colour.',
      'Q: Say hello.',
      'Q: List two fruits as JSON.',
      "Q: Translate 'cat' to French.",
      "Q: Translate 'cat' to German.",
      'Q: Describe the sea.',
    ]);
    expect(s.cases[1]).toMatchObject({ id: 't2', category: 'default', system: undefined });
    const grade = async (i: number, output: string) =>
      (await s.graderOf(s.cases[i])(output, { case: s.cases[i], completion: { latencyMs: 1 } })).passed;
    // answer is read by the assertion only; the defaultTest transform trims first.
    expect(await grade(0, '  It is paris.  ')).toBe(true);
    expect(await grade(0, 'It is Lyon.')).toBe(false);
    expect(await grade(1, 'Red.')).toBe(true);
    // Test-level transform (upper case) before `contains: HELLO`.
    expect(await grade(2, 'hello there')).toBe(true);
    expect(await grade(2, 'bye')).toBe(false);
    // A multi-line transform makes an object; an assertion-level transform makes it text again.
    expect(await grade(3, 'Sure: {"fruits": ["apple", "pear"]}')).toBe(true);
    expect(await grade(3, '{"fruits": "apple"}')).toBe(false);
    expect(await grade(3, 'no JSON here')).toBe(false);
    // Weighted: blue (3) + not desert (1) + capital first (1) of 5, threshold 0.5.
    expect(await grade(6, 'Blue and deep.')).toBe(true);
    expect(await grade(6, 'a desert of water')).toBe(false);

    const chat = await loadSuite(join(dir, 'gb', 'suites', 'tutor.yaml'), { cwd: dir, vars: {} });
    expect(chat.cases[0].messages?.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(chat.cases[0].messages?.[3].content).toBe('What is the capital of France?');
  });

  it('the imported suites run against the server the config names', async () => {
    const dir = project();
    expect((await cli(['import', 'promptfoo', 'promptfooconfig.yaml'], { cwd: dir })).code).toBe(0);
    const r = await cli(['run', '--run-id', 'x', '--quiet', '--cache', 'off'], { cwd: dir, env: { SIM_KEY: 'k' } });
    expect(r.stderr).toBe('');
    const records = runRecords(join(dir, 'results', 'x'));
    expect(records).toHaveLength(14);
    expect(records.filter((x) => x.status !== 'ok')).toEqual([]);
  });

  it('a var a test does not set is sent empty, as promptfoo renders it; nested var access is listed', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'p.yaml'),
      "prompts: ['To {{language}}: {{input}}', 'About {{item.name}}']\nproviders: [openai:gpt-4o]\ntests:\n  - vars: {input: hi, item: {name: x}}\n  - vars: {input: yo, language: ~}\n",
    );
    const r = await cli(['import', 'promptfoo', 'p.yaml', '--out', 'o'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  - prompts[1]: nested var access ({{a.b}}, {{a[0]}}) is not supported (skipped)\n');
    const s = await loadSuite(join(dir, 'o', 'suites', 'prompt-1.yaml'), { cwd: dir, vars: {} });
    expect(s.cases.map((c) => c.prompt)).toEqual(['To : hi', 'To : yo']);
  });

  it('a JavaScript assertion or transform that does not parse: one line naming it, exit 2, nothing written', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'p.yaml'),
      "prompts: ['{{x}}']\nproviders: [openai:gpt-4o]\ntests:\n  - vars: {x: a}\n    assert:\n      - type: javascript\n        value: output.includes(\n",
    );
    const r = await cli(['import', 'promptfoo', 'p.yaml', '--out', 'o'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^gapbench import: p\.yaml:6: tests\[0\]\.assert\[0\]\.value: the JavaScript does not parse \(.+\)\n$/,
    );
    writeFileSync(
      join(dir, 't.yaml'),
      "prompts: ['{{x}}']\nproviders: [openai:gpt-4o]\ndefaultTest:\n  options:\n    transform: 'output.('\ntests: [{vars: {x: a}}]\n",
    );
    const t = await cli(['import', 'promptfoo', 't.yaml', '--out', 'o'], { cwd: dir });
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(
      /^gapbench import: t\.yaml:5: defaultTest\.options\.transform: the JavaScript does not parse/,
    );
  });
});
