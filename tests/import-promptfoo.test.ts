/**
 * `gapbench import promptfoo`: configs modelled on promptfoo's examples import unchanged, and the
 * imported graders give the same pass/fail per test as promptfoo on the same outputs.
 * The verdicts (fixtures/promptfoo/basic/promptfoo-recorded.json) were recorded from a real
 * promptfoo 0.123.1 run on the same outputs (fixtures/promptfoo/record-promptfoo.mjs).
 */
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerKeyFromCases, startSimulator, type Simulator } from '../src/sim/index.js';
import { loadSuite } from '../src/suite/load.js';
import { REPO, cli, tempDir } from './helpers.js';

const FIXTURES = join(REPO, 'tests', 'fixtures', 'promptfoo');

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    seed: 3,
    answers: answerKeyFromCases([]),
    models: [
      { name: 'gpt-4o-mini', accuracy: 1, latencyMs: 1 },
      { name: 'llama3.1:8b', accuracy: 0, latencyMs: 1 },
    ],
  });
});
afterAll(() => sim.close());

function project(name: string): string {
  const dir = tempDir();
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  const cfg = join(dir, 'promptfooconfig.yaml');
  writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('SIM_BASE_URL', sim.openaiBaseURL));
  return dir;
}

describe('gapbench import promptfoo', () => {
  it('imports a config unchanged and grades every test as promptfoo does', async () => {
    const dir = project('basic');
    const r = await cli(['import', 'promptfoo', 'promptfooconfig.yaml', '--out', 'gb'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Imported promptfooconfig\.yaml: 2 model\(s\), 2 suite\(s\) of 11 test\(s\) into gb\//);
    expect(r.stdout).toMatch(/Everything was carried over\./);
    const config = parseYaml(readFileSync(join(dir, 'gb', 'gapbench.config.yaml'), 'utf8'));
    expect(config.models).toEqual([
      {
        id: 'closed',
        provider: 'openai',
        model: 'gpt-4o-mini',
        baseURL: sim.openaiBaseURL,
        apiKeyEnv: 'SIM_KEY',
        params: { temperature: 0, max_tokens: 256 },
      },
      { id: 'ollama:chat:llama3.1:8b', provider: 'ollama', model: 'llama3.1:8b' },
    ]);
    expect(config.suites).toEqual(['suites/prompt-1.yaml', 'suites/chat.yaml']);

    const recorded = JSON.parse(readFileSync(join(FIXTURES, 'basic', 'promptfoo-recorded.json'), 'utf8'));
    const { _recorded, ...want } = recorded;
    expect(_recorded).toMatch(/^promptfoo \d+\.\d+\.\d+, echo provider/);
    const sorted = (o: Record<string, [string, boolean][]>) =>
      Object.fromEntries(Object.entries(o).map(([k, v]) => [k, [...v].sort((a, b) => a[0].localeCompare(b[0]))]));
    expect(Object.values(want).flat()).toHaveLength(30);
    for (const file of config.suites) {
      const suite = await loadSuite(join(dir, 'gb', file), { cwd: dir, vars: {} });
      expect(suite.cases.map((c) => c.id)).toEqual(Array.from({ length: 11 }, (_, i) => `t${i + 1}`));
      const got: Record<string, [string, boolean][]> = {};
      for (const c of suite.cases) {
        got[c.id] = [];
        for (const [output] of want[c.id] as [string, boolean][]) {
          const g = await suite.graderOf(c)(output, { case: c, completion: { latencyMs: 5 } });
          expect(g.error).toBeFalsy();
          got[c.id].push([output, g.passed]);
        }
      }
      expect(sorted(got)).toEqual(sorted(want));
    }
    const first = await loadSuite(join(dir, 'gb', 'suites', 'prompt-1.yaml'), { cwd: dir, vars: {} });
    expect(first.cases[2]).toMatchObject({
      description: 'several options',
      prompt: 'Convert this English to German: Thank you',
    });
    const chat = await loadSuite(join(dir, 'gb', 'suites', 'chat.yaml'), { cwd: dir, vars: {} });
    expect(chat.cases[7]).toMatchObject({ prompt: 'Spanish: Cat', system: expect.stringMatching(/translator/) });
  });

  it('the imported config runs against the models it names', async () => {
    const dir = project('basic');
    await cli(['import', 'promptfoo', 'promptfooconfig.yaml'], { cwd: dir });
    const r = await cli(['run', '--run-id', 'x', '--quiet'], {
      cwd: dir,
      env: { SIM_KEY: 'k', OLLAMA_HOST: sim.ollamaHost },
    });
    expect(r.code).toBe(0);
    const records = readFileSync(join(dir, 'results', 'x', 'records.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(records).toHaveLength(2 * 2 * 11);
    expect(records.every((l) => !JSON.parse(l).error)).toBe(true);
  });

  it('lists everything it cannot carry, with the test it came from', async () => {
    const dir = project('partial');
    const r = await cli(['import', 'promptfoo', 'promptfooconfig.yaml'], { cwd: dir });
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('  - '));
    expect(lines).toEqual([
      "  - top-level 'scenarios' is not carried over",
      "  - providers[0] 'bedrock:anthropic.claude-3-haiku': provider not supported (skipped)",
      "  - providers[1] 'openai:chat:gpt-4o-mini': config.response_format is not carried over",
      '  - prompts[0]: Nunjucks filters and {% %} tags are not supported (skipped)',
      '  - prompt-2: tests[0] (close to reference): similar (embedding similarity) has no gapbench equivalent',
      '  - prompt-2: tests[0] (close to reference): levenshtein (an absolute edit distance) has no gapbench equivalent',
      "  - prompt-2: tests[0] (close to reference): assertion type 'python' is not supported",
      "  - promptfoo's default grading model is not carried over: llm-rubric is graded by 'openai:chat:gpt-4o-mini' (set defaultTest.options.provider to choose)",
    ]);
    const suite = parseYaml(readFileSync(join(dir, 'suites', 'prompt-2.yaml'), 'utf8'));
    expect(suite.cases[0].grader).toEqual({
      type: 'judge',
      judge: 'openai:chat:gpt-4o-mini',
      rubric: 'Is a faithful summary',
    });
    const config = parseYaml(readFileSync(join(dir, 'gapbench.config.yaml'), 'utf8'));
    expect(config.models.map((m: { provider: string }) => m.provider)).toEqual(['openai', 'deepseek']);
  });

  it('bad input: not promptfoo, a missing file://, an existing output; nothing half written', async () => {
    const dir = project('basic');
    writeFileSync(join(dir, 'other.yaml'), 'models: []\n');
    const a = await cli(['import', 'promptfoo', 'other.yaml'], { cwd: dir });
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/other\.yaml: not a promptfoo config \(it needs prompts: and providers:\)/);
    writeFileSync(join(dir, 'p.yaml'), "prompts: ['{{x}}']\nproviders: [openai:gpt-4o]\ntests: file://nope.csv\n");
    const b = await cli(['import', 'promptfoo', 'p.yaml', '--out', 'o'], { cwd: dir });
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/tests: file:\/\/nope\.csv does not exist/);
    expect(existsSync(join(dir, 'o'))).toBe(false);
    expect((await cli(['import', 'promptfoo', 'promptfooconfig.yaml'], { cwd: dir })).code).toBe(0);
    const c = await cli(['import', 'promptfoo', 'promptfooconfig.yaml'], { cwd: dir });
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/import: gapbench\.config\.yaml exists \(and \d+ more\); pass --force to overwrite/);
    expect((await cli(['import', 'promptfoo', 'promptfooconfig.yaml', '--force'], { cwd: dir })).code).toBe(0);
  });
});
