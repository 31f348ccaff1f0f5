import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate, UsageError } from '../src/index.js';
import { answerKeyFromCases, startSimulator, type Simulator } from '../src/sim/index.js';
import { loadSuite } from '../src/suite/load.js';
import { REPO, tempDir } from './helpers.js';

let sim: Simulator;
beforeAll(async () => {
  const suite = await loadSuite('knowledge-mc', { cwd: REPO, vars: {} });
  sim = await startSimulator({
    models: [
      { name: 'gpt-4o-mini', accuracy: 0.9, latencyMs: 2 },
      { name: 'llama3.1:8b', accuracy: 0.7, latencyMs: 2 },
    ],
    seed: 3,
    answers: answerKeyFromCases(suite.cases),
  });
});
afterAll(() => sim.close());

/** What the README's example needs to reach the simulator instead of OpenAI and a local Ollama. */
const simEnv = () => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  OPENAI_API_KEY: 'sk-test-readme',
  OPENAI_BASE_URL: sim.openaiBaseURL,
  OLLAMA_HOST: sim.ollamaHost,
  GAPBENCH_CACHE_DIR: join(tempDir(), 'cache'),
});

describe('evaluate()', () => {
  it('runs models on suites and returns the summary, gap and records, writing nothing without out', async () => {
    const cwd = tempDir();
    const seen: number[] = [];
    const r = await evaluate({
      models: ['openai:gpt-4o-mini', { provider: 'ollama', model: 'llama3.1:8b', concurrency: 2 }],
      suites: ['knowledge-mc'],
      cwd,
      env: simEnv(),
      onProgress: (p) => seen.push(p.done),
    });
    const cases = (await loadSuite('knowledge-mc', { cwd: REPO, vars: {} })).cases.length;
    expect(r.records).toHaveLength(2 * cases);
    expect(seen.at(-1)).toBe(2 * cases);
    expect(r.summary.map((s) => [s.model, s.group, s.n])).toEqual([
      ['openai:gpt-4o-mini', 'closed', cases],
      ['ollama:llama3.1:8b', 'open', cases],
    ]);
    // The score is exactly the share of records graded as passed.
    const passed = r.records.filter((x) => x.model === 'openai:gpt-4o-mini' && x.grade.passed).length;
    expect(r.summary[0].score).toBeCloseTo(passed / cases, 12);
    expect(r.gaps.find((g) => g.scope === 'best' && g.category === 'all')).toMatchObject({
      closed_model: 'openai:gpt-4o-mini',
      open_model: 'ollama:llama3.1:8b',
      n_paired: cases,
    });
    expect(r.runDir).toBeUndefined();
    expect(r.unfinished).toBe(0);
    expect(r.manifest.status).toBe('finished');
    expect(existsSync(join(cwd, 'results'))).toBe(false);
    expect(r.text).toMatch(/Suite knowledge-mc/);
  });

  it('writes the run directory a `gapbench run` would when out is given', async () => {
    const cwd = tempDir();
    const r = await evaluate({
      models: ['openai:gpt-4o-mini', 'ollama:llama3.1:8b'],
      suites: ['knowledge-mc'],
      out: 'results',
      runId: 'lib',
      keepRecords: false,
      cwd,
      env: simEnv(),
    });
    expect(r.runDir).toBe(join(cwd, 'results', 'lib'));
    expect(r.records).toEqual([]);
    for (const f of ['records.jsonl', 'manifest.json', 'results.csv', 'summary.csv', 'gap.csv', 'matrix.csv']) {
      expect(existsSync(join(r.runDir!, f))).toBe(true);
    }
    expect(JSON.parse(readFileSync(join(r.runDir!, 'manifest.json'), 'utf8')).status).toBe('finished');
    expect(existsSync(join(cwd, 'results', 'history.csv'))).toBe(true);
  });

  it('refuses a run id whose directory exists, as run does; resume: true continues it without recording a job twice', async () => {
    const cwd = tempDir();
    const opts = {
      models: ['openai:gpt-4o-mini', 'ollama:llama3.1:8b'],
      suites: ['knowledge-mc'],
      out: 'results',
      runId: 'twice',
      cwd,
      env: simEnv(),
    };
    const first = await evaluate({ ...opts, signal: AbortSignal.abort() });
    const journal = join(cwd, 'results', 'twice', 'records.jsonl');
    const before = readFileSync(journal, 'utf8');
    await expect(evaluate(opts)).rejects.toThrow(
      new UsageError(
        `--run-id twice: ${join(cwd, 'results', 'twice')} already exists (choose another id, or --resume it)`,
      ),
    );
    expect(readFileSync(journal, 'utf8')).toBe(before);
    const resumed = await evaluate({ ...opts, resume: true });
    expect(resumed.unfinished).toBe(0);
    const ids = readFileSync(journal, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).job_id as string);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(first.unfinished + first.records.length);
    expect(JSON.parse(readFileSync(join(cwd, 'results', 'twice', 'manifest.json'), 'utf8')).status).toBe('finished');
  });

  it('stops at an aborted signal and says how many jobs it did not run', async () => {
    const controller = new AbortController();
    const r = await evaluate({
      models: ['openai:gpt-4o-mini'],
      suites: ['knowledge-mc'],
      cwd: tempDir(),
      env: simEnv(),
      signal: controller.signal,
      onProgress: (p) => p.done === 5 && controller.abort(),
    });
    expect(r.records.length).toBeGreaterThanOrEqual(5);
    expect(r.unfinished).toBeGreaterThan(0);
    expect(r.records.length + r.unfinished).toBe(r.manifest.suites[0].cases);
    expect(r.manifest.status).toBe('interrupted');
  });

  it('rejects bad input with a UsageError naming the model, before any request', async () => {
    const env = simEnv();
    const before = sim.stats().requests;
    await expect(evaluate({ models: ['nope:x'], suites: ['knowledge-mc'], env })).rejects.toThrow(UsageError);
    await expect(
      evaluate({ models: [{ provider: 'openai', model: 'x', temprature: 1 }], suites: ['knowledge-mc'], env }),
    ).rejects.toThrow(/evaluate\(\) models: models\[0\]\.temprature: unknown field 'temprature'/);
    await expect(
      evaluate({
        models: ['openai:gpt-4o-mini'],
        suites: ['knowledge-mc'],
        env: { ...env, OPENAI_API_KEY: '', OPENAI_BASE_URL: '' },
      }),
    ).rejects.toThrow(/OPENAI_API_KEY is set but empty/);
    await expect(evaluate({ models: ['openai:gpt-4o-mini'], suites: [], env })).rejects.toThrow(/no suites/);
    expect(sim.stats().requests).toBe(before);
  });
});

describe('the README library example', () => {
  it('compiles with tsc against the package types and runs as written', async () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Library use'));
    const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code).toMatch(/from 'gapbench'/);
    // Inside the package, so `import ... from 'gapbench'` resolves to this package (its exports).
    const dir = join(REPO, '.test-tmp', `readme-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    try {
      writeFileSync(join(dir, 'example.mts'), code!);
      const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
      execFileSync(process.execPath, [
        tsc,
        '--strict',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--target',
        'es2022',
        '--types',
        'node',
        '--rootDir',
        dir,
        '--outDir',
        dir,
        join(dir, 'example.mts'),
      ]);
      const cwd = tempDir();
      // Asynchronously: the simulator answers from this process's event loop.
      const { stdout: out } = await promisify(execFile)(process.execPath, [join(dir, 'example.mjs')], {
        cwd,
        env: simEnv(),
        encoding: 'utf8',
      });
      expect(out).toMatch(/Suite knowledge-mc/);
      expect(out).toMatch(/ollama:llama3\.1:8b vs openai:gpt-4o-mini: -?\d+\.\d pp, p = \d\.\d{3} \(\w+\)/);
      expect(existsSync(join(cwd, 'results', 'history.csv'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
