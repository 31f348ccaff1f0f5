import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerKeyFromCases, startSimulator, type Simulator } from '../src/sim/index.js';
import type { Case } from '../src/types.js';
import { cli, parseCsv, spawnCli, tempDir, writeFiles } from './helpers.js';

const N = 40;
const suiteYaml = ['name: arith', 'grader: numeric', 'cases:'];
const cases: Case[] = [];
for (let i = 0; i < N; i++) {
  const prompt = `What is ${i} + ${i * 3}?`;
  suiteYaml.push(`  - { id: q${i}, prompt: "${prompt}", expected: ${i * 4}, category: ${i % 2 ? 'odd' : 'even'} }`);
  cases.push({ id: `q${i}`, prompt, expected: String(i * 4), category: 'x', grader: { type: 'numeric' }, vars: {} });
}

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    seed: 5,
    answers: answerKeyFromCases(cases),
    models: [
      { name: 'always-right', accuracy: 1, latencyMs: 2 },
      { name: 'never-right:7b', accuracy: 0, latencyMs: 2 },
      { name: 'half:7b', accuracy: 0.5, latencyMs: 2 },
      { name: 'slow', accuracy: 0.8, latencyMs: 150 },
      { name: 'jittery', accuracy: 0.6, latencyMs: 1, jitterMs: 25 },
    ],
  });
});
afterAll(() => sim.close());

function project(config: string): string {
  const dir = tempDir();
  writeFiles(dir, { 'gapbench.config.yaml': config, 'arith.yaml': suiteYaml.join('\n') });
  return dir;
}

const twoModels = () => `models:
  - id: closed-model
    provider: openai
    model: always-right
    baseURL: ${sim.openaiBaseURL}
    apiKeyEnv: TEST_KEY
  - id: open-model
    provider: ollama
    model: half:7b
    host: ${sim.ollamaHost}
    concurrency: 2
`;

function csv(dir: string, file: string): Record<string, string>[] {
  return parseCsv(readFileSync(join(dir, file), 'utf8'), { columns: true }) as Record<string, string>[];
}

describe('gapbench run', () => {
  it('scores each model by the fraction its server answered right, and writes every output file', async () => {
    const dir = project(twoModels());
    const r = await cli(['run', '--suite', 'arith.yaml', '--run-id', 'r1'], { cwd: dir, env: { TEST_KEY: 'k' } });
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const run = join(dir, 'results', 'r1');
    for (const f of ['records.jsonl', 'manifest.json', 'results.csv', 'summary.csv', 'gap.csv', 'matrix.csv'])
      expect(existsSync(join(run, f))).toBe(true);
    expect(r.stdout).toContain(`Results: ${run}`);
    const results = csv(run, 'results.csv');
    expect(results).toHaveLength(2 * N);
    // In suite order: case by case, the models in config order (whatever order answers came in).
    expect(results.slice(0, 4).map((x) => `${x.case_id}/${x.model}`)).toEqual([
      'q0/closed-model',
      'q0/open-model',
      'q1/closed-model',
      'q1/open-model',
    ]);
    const summary = csv(run, 'summary.csv');
    const byModel = Object.fromEntries(summary.map((s) => [s.model, s]));
    expect(Number(byModel['closed-model'].score)).toBe(1);
    // The open model's score is exactly the share of its rows that passed, and near its accuracy.
    const openRows = results.filter((x) => x.model === 'open-model');
    const passed = openRows.filter((x) => x.passed === 'true').length;
    expect(Number(byModel['open-model'].score)).toBeCloseTo(passed / N, 10);
    expect(passed / N).toBeGreaterThan(0.25);
    expect(passed / N).toBeLessThan(0.75);
    expect(byModel['open-model']).toMatchObject({ group: 'open', provider: 'ollama', n: String(N), errors: '0' });
    const manifest = JSON.parse(readFileSync(join(run, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      run_id: 'r1',
      status: 'finished',
      counts: { jobs: 2 * N, records: 2 * N, errors: 0 },
    });
    expect(JSON.stringify(manifest)).not.toContain('"k"');
    expect(r.stdout).toMatch(/Gap, best pair \(open-model vs closed-model\): open trails closed by/);
  });

  it('accepts --model provider:model without a config file', async () => {
    const dir = tempDir();
    writeFiles(dir, { 'arith.yaml': suiteYaml.join('\n') });
    const r = await cli(
      ['run', '--model', 'ollama:never-right:7b', '--suite', 'arith.yaml', '--run-id', 'x', '--quiet'],
      { cwd: dir, env: { OLLAMA_HOST: sim.ollamaHost } },
    );
    expect(r.code).toBe(0);
    const s = csv(join(dir, 'results', 'x'), 'summary.csv');
    expect(s).toEqual([expect.objectContaining({ model: 'ollama:never-right:7b', group: 'open', score: '0' })]);
  });

  it.each([
    [
      'a malformed config',
      'models:\n  - provider: openai\n   model: x\n',
      [],
      /gapbench\.config\.yaml:3: invalid YAML/,
    ],
    [
      'an unknown provider',
      'models:\n  - provider: openia\n    model: x\n',
      [],
      /gapbench\.config\.yaml:2: .*unknown provider 'openia'/,
    ],
    [
      'a missing API key',
      'models:\n  - provider: moonshot\n    model: kimi-k2.6\n',
      [],
      /model 'moonshot:kimi-k2.6': environment variable MOONSHOT_API_KEY is not set/,
    ],
    [
      'an unknown suite',
      'models: []\n',
      ['--model', 'ollama:x'],
      /--suite nope: no such file, and not a bundled suite/,
    ],
    [
      'an unknown option',
      'models: []\n',
      ['--model', 'ollama:x', '--frobnicate'],
      /^gapbench run: unknown option '--frobnicate' \(see gapbench run --help\)\n$/,
    ],
    [
      'a misspelled option',
      'models: []\n',
      ['--model', 'ollama:x', '--concurency', '2'],
      /^gapbench run: unknown option '--concurency' \(did you mean --concurrency\? see gapbench run --help\)\n$/,
    ],
    [
      'a bad --repeat',
      'models: []\n',
      ['--model', 'ollama:x', '--repeat', 'two'],
      /--repeat two: expected a whole number/,
    ],
    ['no models', 'models: []\n', [], /no models to run/],
  ])('%s: one-line error, exit 2, nothing written', async (_, config, extra, msg) => {
    const dir = project(config);
    const suite = extra.includes('--model') && String(msg).includes('nope') ? 'nope' : 'arith.yaml';
    const r = await cli(['run', '--suite', suite, ...extra], { cwd: dir, env: {} });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(msg);
    expect(r.stderr).not.toMatch(/gapbench \w+: gapbench \w+:/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\bat .*\.(ts|js):\d+/);
    expect(existsSync(join(dir, 'results'))).toBe(false);
  });

  it('suites listed in the config resolve from the config directory; a missing one names the config file and line', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'conf'));
    writeFiles(join(dir, 'conf'), {
      'arith.yaml': suiteYaml.join('\n'),
      'gb.yaml': `models:\n  - { id: o, provider: ollama, model: "half:7b", host: "${sim.ollamaHost}" }\nsuites:\n  - arith.yaml\n  - nope.yaml\n`,
    });
    const bad = await cli(['run', '--config', join('conf', 'gb.yaml'), '--quiet'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toMatch(
      /^gapbench run: conf[\\/]gb\.yaml:5: suites\[1\] 'nope\.yaml': no such file, and not a bundled suite/,
    );
    expect(existsSync(join(dir, 'results'))).toBe(false);
    writeFiles(join(dir, 'conf'), {
      'gb.yaml': `models:\n  - { id: o, provider: ollama, model: "half:7b", host: "${sim.ollamaHost}" }\nsuites: [arith.yaml, demo]\n`,
    });
    const ok = await cli(['run', '--config', join('conf', 'gb.yaml'), '--run-id', 'cs', '--quiet'], { cwd: dir });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(
      csv(join(dir, 'results', 'cs'), 'summary.csv')
        .map((r) => r.suite)
        .sort(),
    ).toEqual(['arith', 'demo']);
  });

  it('warns before the run when a gold answer disagrees with its own check', async () => {
    const dir = project(
      `models:\n  - { id: good, provider: openai, model: always-right, baseURL: "${sim.openaiBaseURL}" }\n`,
    );
    writeFiles(dir, {
      'chk.yaml':
        'name: chk\ngrader: numeric\ncases:\n  - { id: ok, prompt: "17 + 25?", expected: 42, check: 17 + 25 }\n  - { id: typo, prompt: "6 * 7?", expected: 43, check: 6 * 7 }\n',
    });
    const r = await cli(['run', '--suite', 'chk.yaml', '--run-id', 'chk', '--quiet'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      "warning: chk.yaml: 1 case(s) whose check disagrees with expected (case typo: check '6 * 7' = 42, but expected is 43); see gapbench validate chk.yaml\n",
    );
  });

  it('stops only the lane whose model is not found, with one clear message', async () => {
    const dir = project(`models:
  - { id: good, provider: openai, model: always-right, baseURL: "${sim.openaiBaseURL}" }
  - { id: missing, provider: ollama, model: "qwen9:404b", host: "${sim.ollamaHost}" }
`);
    const r = await cli(['run', '--suite', 'arith.yaml', '--run-id', 'nf', '--quiet'], { cwd: dir });
    // A model that answered none of its jobs fails the run, with its most frequent error.
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL missing answered none of its 40 jobs \(most often not_found: /);
    expect(r.stdout).toMatch(/model 'missing' stopped after a not_found error: .*ollama pull qwen9:404b/);
    const rows = csv(join(dir, 'results', 'nf'), 'results.csv');
    expect(rows.filter((x) => x.model === 'good' && x.passed === 'true')).toHaveLength(N);
    const missing = rows.filter((x) => x.model === 'missing');
    expect(missing).toHaveLength(N);
    expect(missing.every((x) => x.error_kind === 'not_found')).toBe(true);
    expect(missing.filter((x) => x.attempts === '1')).toHaveLength(1);
    // A model with no answer takes no part in the gap: no "significant gap" against errors.
    expect(csv(join(dir, 'results', 'nf'), 'gap.csv')).toEqual([]);
    expect(r.stdout).toContain("(no gap: no open model answered anything: 'missing' gave only errors)");
    // --max-errors says how many errors.
    const strict = await cli(['run', '--suite', 'arith.yaml', '--run-id', 'nf2', '--quiet', '--max-errors', '0.5'], {
      cwd: dir,
    });
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain(`FAIL missing had ${N} error rows of ${N} on arith, over --max-errors 0.5`);
    expect(strict.stdout).not.toMatch(/FAIL good/);
  });

  it('reuses cached answers without a request when the model is cached', async () => {
    const dir = project(
      `models:\n  - { id: c, provider: openai, model: half:7b, baseURL: "${sim.openaiBaseURL}", cache: true }\n`,
    );
    await cli(['run', '--suite', 'arith.yaml', '--run-id', 'a', '--quiet'], { cwd: dir });
    const before = sim.stats().byModel['half:7b']?.requests ?? 0;
    const r = await cli(['run', '--suite', 'arith.yaml', '--run-id', 'b', '--quiet'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(sim.stats().byModel['half:7b'].requests).toBe(before);
    const a = csv(join(dir, 'results', 'a'), 'results.csv');
    const b = csv(join(dir, 'results', 'b'), 'results.csv');
    expect(b.map((x) => x.output)).toEqual(a.map((x) => x.output));
    expect(b.every((x) => x.cached === 'true')).toBe(true);
    // --cache refresh asks again; --repeat 2 keeps two samples per case.
    await cli(['run', '--suite', 'arith.yaml', '--run-id', 'c', '--quiet', '--cache', 'refresh'], { cwd: dir });
    expect(sim.stats().byModel['half:7b'].requests).toBe(before + N);
  });

  it.each([[[]], [['--matrix-outputs']]])(
    'gapbench report %j rebuilds from records.jsonl alone the same CSVs the run wrote from its live state',
    async (extra) => {
      const dir = project(
        `${twoModels()}  - { id: gone, provider: ollama, model: "nope:1b", host: "${sim.ollamaHost}" }\n  - { id: flaky, provider: openai, model: "half:7b", baseURL: "${sim.openaiBaseURL}", group: closed }\n`,
      );
      const run = join(dir, 'results', 'rep');
      const r1 = await cli(
        ['run', '--suite', 'arith.yaml', '--suite', 'demo', '--repeat', '2', '--run-id', 'rep', '--quiet', ...extra],
        { cwd: dir, env: { TEST_KEY: 'k' } },
      );
      // 'gone' answered nothing: the run fails (exit 1), its reports are written all the same.
      expect(r1.code).toBe(1);
      const rows = csv(run, 'results.csv');
      expect(rows).toHaveLength((N + 12) * 2 * 4);
      expect(rows.some((x) => x.error_kind === 'not_found')).toBe(true);
      const before = Object.fromEntries(
        ['results.csv', 'summary.csv', 'gap.csv', 'matrix.csv'].map((f) => [f, readFileSync(join(run, f), 'utf8')]),
      );
      const r = await cli(['report', run, ...extra], { cwd: dir });
      expect(r.code).toBe(0);
      for (const [f, text] of Object.entries(before)) expect(readFileSync(join(run, f), 'utf8')).toBe(text);
    },
  );
});

describe('results.csv order', () => {
  it('comes out in suite, case, model, repeat order however the answers arrive, byte for byte what report rebuilds', async () => {
    const dir = project(`models:
  - { id: j8, provider: openai, model: jittery, baseURL: "${sim.openaiBaseURL}", concurrency: 8 }
  - { id: one, provider: ollama, model: "half:7b", host: "${sim.ollamaHost}", concurrency: 1 }
  - { id: j3, provider: ollama, model: jittery, host: "${sim.ollamaHost}", concurrency: 3 }
`);
    const r = await cli(
      ['run', '--suite', 'arith.yaml', '--suite', 'demo', '--repeat', '3', '--run-id', 'order', '--quiet'],
      { cwd: dir },
    );
    expect(r.code).toBe(0);
    const run = join(dir, 'results', 'order');
    const journalOrder = readFileSync(join(run, 'records.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { suite: string; case_index: number; model: string; repeat: number });
    const key = (x: { suite: string; case_index: number; model: string; repeat: number }) => [
      x.suite === 'arith' ? 0 : 1,
      x.case_index,
      ['j8', 'one', 'j3'].indexOf(x.model),
      x.repeat,
    ];
    const cmp = (a: number[], b: number[]) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2] || a[3] - b[3];
    // The answers did arrive out of order...
    expect(journalOrder.some((x, i) => i > 0 && cmp(key(journalOrder[i - 1]), key(x)) > 0)).toBe(true);
    // ...and results.csv is sorted all the same.
    const rows = csv(run, 'results.csv');
    expect(rows).toHaveLength((N + 12) * 3 * 3);
    const keys = rows.map((x) => [
      x.suite === 'arith' ? 0 : 1,
      x.suite === 'arith' ? Number(x.case_id.slice(1)) : 0,
      ['j8', 'one', 'j3'].indexOf(x.model),
      Number(x.repeat),
    ]);
    for (let i = 1; i < keys.length; i++) {
      if (keys[i][0] === 0 && keys[i - 1][0] === 0) expect(cmp(keys[i - 1], keys[i])).toBeLessThan(0);
      else expect(keys[i][0]).toBeGreaterThanOrEqual(keys[i - 1][0]);
    }
    const before = readFileSync(join(run, 'results.csv'), 'utf8');
    expect((await cli(['report', run], { cwd: dir })).code).toBe(0);
    expect(readFileSync(join(run, 'results.csv'), 'utf8')).toBe(before);
  });
});

describe('the CLI as a process', () => {
  it('demo says first that its models are simulated and writes a run directory', async () => {
    const dir = tempDir();
    const p = spawnCli(['demo', '--run-id', 'd'], { cwd: dir });
    const r = await p.done;
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^SIMULATED MODELS/);
    expect(readdirSync(join(dir, 'results', 'd')).sort()).toEqual([
      'gap.csv',
      'manifest.json',
      'matrix.csv',
      'records.jsonl',
      'report.html',
      'results.csv',
      'summary.csv',
    ]);
  });

  it('start runs the demo when there is no config, saying first that its models are simulated, then why', async () => {
    const dir = tempDir();
    const r = await cli(['start', '--run-id', 's', '--quiet'], { cwd: dir });
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^SIMULATED MODELS/);
    expect(r.stdout).toMatch(/No gapbench\.config\.yaml here, so this is the demo/);
  });

  it('many requests in flight on one run print no Node warnings (no listener leak on the run signal)', async () => {
    const dir = project(
      `models:\n  - { id: s, provider: openai, model: slow, baseURL: "${sim.openaiBaseURL}", concurrency: 32 }\n  - { id: o, provider: ollama, model: "half:7b", host: "${sim.ollamaHost}", concurrency: 16 }\n`,
    );
    const r = await spawnCli(['run', '--suite', 'arith.yaml', '--run-id', 'many', '--quiet'], { cwd: dir }).done;
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/Warning|MaxListeners/);
  });

  it('after kill -9, --resume records every job exactly once and repeats no finished request', async () => {
    const dir = project(
      `models:\n  - { id: s, provider: openai, model: slow, baseURL: "${sim.openaiBaseURL}", concurrency: 4 }\n`,
    );
    sim.resetStats();
    const p = spawnCli(['run', '--suite', 'arith.yaml', '--run-id', 'k', '--quiet'], { cwd: dir });
    const journal = join(dir, 'results', 'k', 'records.jsonl');
    for (let i = 0; i < 200; i++) {
      await new Promise((r) => setTimeout(r, 25));
      if (existsSync(journal) && readFileSync(journal, 'utf8').split('\n').length > 12) break;
    }
    p.child.kill('SIGKILL');
    await p.done;
    const first = readFileSync(journal, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).job_id as string);
    expect(first.length).toBeGreaterThan(5);
    expect(first.length).toBeLessThan(N);
    const requestsBefore = sim.stats().byModel.slow.requests;
    const r = await spawnCli(['run', '--resume', join('results', 'k'), '--quiet'], { cwd: dir }).done;
    expect(r.code).toBe(0);
    const all = readFileSync(journal, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).job_id as string);
    expect(all).toHaveLength(N);
    expect(new Set(all).size).toBe(N);
    // Only the jobs with no record were asked again (in-flight ones at the kill had no record).
    expect(sim.stats().byModel.slow.requests - requestsBefore).toBe(N - first.length);
  });

  /** A run against the slow model, returned once it has recorded a job (or after 5 s). */
  const startedRun = async (runId: string) => {
    const dir = project(
      `models:\n  - { id: s, provider: openai, model: slow, baseURL: "${sim.openaiBaseURL}", concurrency: 2 }\n`,
    );
    const p = spawnCli(['run', '--suite', 'arith.yaml', '--run-id', runId], { cwd: dir });
    const journal = join(dir, 'results', runId, 'records.jsonl');
    for (let i = 0; i < 200 && !(existsSync(journal) && readFileSync(journal, 'utf8').length > 0); i++)
      await new Promise((r) => setTimeout(r, 25));
    return { dir, p, journal };
  };

  it('Ctrl-C stops starting jobs, writes the CSVs, prints how to resume and exits 130', async () => {
    const { dir, p, journal } = await startedRun('int');
    p.child.kill('SIGINT');
    const r = await p.done;
    expect(r.code).toBe(130);
    expect(r.stdout).toMatch(/Resume with: gapbench run --resume .*int/);
    expect(existsSync(join(dir, 'results', 'int', 'summary.csv'))).toBe(true);
    const manifest = JSON.parse(readFileSync(join(dir, 'results', 'int', 'manifest.json'), 'utf8'));
    expect(manifest.status).toBe('interrupted');
    const resumed = await spawnCli(['run', '--resume', join('results', 'int'), '--quiet'], { cwd: dir }).done;
    expect(resumed.code).toBe(0);
    expect(readFileSync(journal, 'utf8').trim().split('\n')).toHaveLength(N);
  });

  it('a second Ctrl-C exits at once and leaves no scratch file; the journal resumes', async () => {
    const { dir, p, journal } = await startedRun('int2');
    p.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 50));
    p.child.kill('SIGINT');
    const r = await p.done;
    expect(r.code).toBe(130);
    // Whether the reports were written before the second signal depends on the machine's load: what
    // must hold is that nothing half-written (a .tmp scratch file) or foreign is left, nor the lock.
    const known = [
      'manifest.json',
      'records.jsonl',
      'results.csv',
      'summary.csv',
      'gap.csv',
      'matrix.csv',
      'report.html',
    ];
    const left = readdirSync(join(dir, 'results', 'int2'));
    expect(left).toEqual(expect.arrayContaining(['manifest.json', 'records.jsonl']));
    expect(left.filter((f) => !known.includes(f))).toEqual([]);
    const resumed = await spawnCli(['run', '--resume', join('results', 'int2'), '--quiet'], { cwd: dir }).done;
    expect(resumed.code).toBe(0);
    expect(
      new Set(
        readFileSync(journal, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).job_id),
      ).size,
    ).toBe(N);
  });
});
