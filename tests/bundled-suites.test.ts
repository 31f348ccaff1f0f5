import { describe, expect, it } from 'vitest';
import { bundledSuites, loadSuite } from '../src/suite/load.js';
import { validateSuite } from '../src/suite/validate.js';
import { cli, tempDir } from './helpers.js';

const OWN = [
  'demo',
  'extraction-json',
  'instruction-following',
  'knowledge-mc',
  'knowledge-mc-zh',
  'math-word',
  'math-word-zh',
];
const DATASET_SUITES = ['ceval', 'cmmlu', 'gsm8k', 'mmlu'];

describe('bundled suites', () => {
  it('are all listed', () => {
    expect(bundledSuites()).toEqual([...OWN, ...DATASET_SUITES].sort());
  });

  it.each(OWN)('%s loads, and every check, answer key and example passes validation', async (name) => {
    const suite = await loadSuite(name, { cwd: tempDir(), vars: {} });
    expect(suite.description.length).toBeGreaterThan(40);
    expect(suite.cases.every((c) => c.category && c.category !== 'default')).toBe(true);
    const r = await validateSuite(suite);
    expect(r.problems).toEqual([]);
    if (name.startsWith('math-word')) expect(r.checks).toBe(suite.cases.length);
    if (name === 'instruction-following' || name === 'extraction-json') expect(r.examples).toBe(2 * suite.cases.length);
  });

  it('validate catches a wrong answer, a bad example and a bad answer key', async () => {
    const dir = tempDir();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      `${dir}/bad.yaml`,
      `name: bad
cases:
  - { id: m, prompt: "3 x 4?", grader: numeric, expected: 13, check: "3 * 4" }
  - { id: e, prompt: "Say hi", grader: { type: contains, value: hi }, examples: { pass: ["hello"], fail: ["hi"] } }
  - { id: k, prompt: "Pick\\nA. x\\nB. y", grader: choice, expected: E }
`,
    );
    const r = await cli(['validate', 'bad.yaml'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/case m: check '3 \* 4' = 12, but expected is 13/);
    expect(r.stderr).toMatch(/case e: the pass example failed/);
    expect(r.stderr).toMatch(/case e: the fail example passed/);
    expect(r.stderr).toMatch(/case k: expected E is not one of the case.s options \(A, B\)/);
    const ok = await cli(['validate', 'knowledge-mc-zh', 'math-word'], { cwd: dir });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/math-word\.yaml: 80 cases, 80 checks, 0 examples: ok/);
  });

  it('dataset suites name the variable they need', async () => {
    const r = await cli(['run', '--model', 'ollama:x', '--suite', 'gsm8k'], { cwd: tempDir() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/suites\/gsm8k\.yaml:\d+: source\.path: environment variable GSM8K_TEST_JSONL is not set/);
    // Suites that download say so when listed, without touching the network.
    const list = await cli(['suites'], { cwd: tempDir(), env: { HF_ENDPOINT: 'http://127.0.0.1:1' } });
    expect(list.code).toBe(0);
    for (const name of ['mmlu', 'ceval', 'cmmlu'])
      expect(list.stdout).toMatch(new RegExp(`^${name} .*downloads from the Hugging Face Hub on first run`, 'm'));
    expect(list.stdout).toMatch(/^gsm8k .*needs GSM8K_TEST_JSONL=PATH/m);
  });

  it('a wrong HF_ENDPOINT fails the run in one line (exit 2)', async () => {
    const r = await cli(['run', '--model', 'ollama:x', '--suite', 'cmmlu'], {
      cwd: tempDir(),
      env: { HF_ENDPOINT: 'http://127.0.0.1:1' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /cannot download agronomy\/test\/0000\.parquet from http:\/\/127\.0\.0\.1:1\/datasets\/haonan-li\/cmmlu\/resolve\//,
    );
  });
});
