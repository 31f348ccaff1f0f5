import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../src/config/config.js';
import type { ProviderError } from '../src/errors.js';
import { ResponseCache } from '../src/run/cache.js';
import type { LaneHandle } from '../src/run/lane.js';
import type { JobRecord } from '../src/run/record.js';
import { runJobs, type RunnerOptions } from '../src/run/runner.js';
import { defaultThreadCount, LaneThreads, LaneThreadError } from '../src/run/threads.js';
import { answerKeyFromCases, startSimulator, type Simulator } from '../src/sim/index.js';
import { loadSuite, type Suite } from '../src/suite/load.js';
import { cli, REPO, tempDir, writeFiles } from './helpers.js';

const KEY = 'sk-test-threads-0123456789';
let sim: Simulator;
let suite: Suite;
const N = 40;

beforeAll(async () => {
  const dir = tempDir();
  const cases = Array.from(
    { length: N },
    (_, i) => `  - { id: c${i}, prompt: "What is ${i} plus ${i}?", expected: "${2 * i}" }`,
  );
  writeFiles(dir, { 's.yaml': `name: s\ngrader: numeric\ncases:\n${cases.join('\n')}\n` });
  suite = await loadSuite(join(dir, 's.yaml'), { cwd: dir, vars: {} });
  sim = await startSimulator({
    port: 0,
    seed: 3,
    apiKey: KEY,
    answers: answerKeyFromCases(suite.cases),
    models: [
      { name: 'closed-sim', accuracy: 0.8, latencyMs: 15 },
      { name: 'open-sim:1b', accuracy: 0.5, latencyMs: 15 },
      { name: 'limited', accuracy: 0.8, latencyMs: 5, rpm: 300 },
      { name: 'slow', accuracy: 0.8, latencyMs: 60_000 },
      { name: 'medium', accuracy: 0.8, latencyMs: 300 },
    ],
  });
});
afterAll(() => sim.close());

function openaiModel(id: string, name: string, over: Partial<ModelConfig> = {}): ModelConfig {
  return {
    id,
    provider: 'openai',
    protocol: 'openai',
    model: name,
    group: 'closed',
    baseURL: sim.openaiBaseURL,
    apiKeyEnv: 'SIM_KEY',
    keyOptional: false,
    concurrency: 3,
    timeoutMs: 5000,
    maxRetries: 3,
    params: {},
    cache: false,
    judgeOnly: false,
    ...over,
  };
}
function ollamaModel(id: string, name: string, over: Partial<ModelConfig> = {}): ModelConfig {
  return {
    id,
    provider: 'ollama',
    protocol: 'ollama',
    model: name,
    group: 'open',
    host: sim.ollamaHost,
    keyOptional: true,
    concurrency: 2,
    timeoutMs: 5000,
    maxRetries: 3,
    params: {},
    cache: false,
    judgeOnly: false,
    ...over,
  };
}

async function run(models: ModelConfig[], over: Partial<RunnerOptions> = {}) {
  const dir = tempDir();
  const journalPath = join(dir, 'records.jsonl');
  const stopped: [string, ProviderError][] = [];
  let lanes: LaneHandle[] = [];
  const result = await runJobs({
    runId: 'r',
    journalPath,
    models,
    suites: [suite],
    repeat: 1,
    cache: new ResponseCache(join(dir, 'cache'), 'off'),
    providerEnv: { env: { SIM_KEY: KEY }, cwd: dir },
    stop: new AbortController().signal,
    abort: new AbortController().signal,
    onLaneStopped: (m, e) => stopped.push([m.id, e]),
    onLanes: (l) => (lanes = l),
    ...over,
  });
  const text = readFileSync(journalPath, 'utf8');
  const records = text
    ? text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as JobRecord)
    : [];
  return { result, records, stopped, lanes };
}

/** What a record says about the answer, without its timing. */
function outcome(r: JobRecord) {
  return [r.job_id, r.status, r.status === 'ok' ? r.output : r.error.kind, r.grade.score, r.attempts];
}

describe('lane threads', () => {
  it("record the same answers and grades as lanes on the main thread, within each lane's concurrency", async () => {
    const models = [openaiModel('closed', 'closed-sim'), ollamaModel('open', 'open-sim:1b')];
    const before = sim.stats().requests;
    const threaded = await run(models, { threads: 1 });
    expect(sim.stats().requests - before).toBe(2 * N);
    const local = await run(models, { threads: 0 });
    expect(threaded.records).toHaveLength(2 * N);
    const sort = (rs: JobRecord[]) => rs.map(outcome).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(sort(threaded.records)).toEqual(sort(local.records));
    expect(threaded.records.filter((r) => r.status !== 'ok')).toEqual([]);
    expect(threaded.records.every((r) => r.latency_ms! >= 10)).toBe(true);
    const max = sim.stats().maxInFlight;
    expect(max['closed-sim']).toBeLessThanOrEqual(3);
    expect(max['open-sim:1b']).toBeLessThanOrEqual(2);
    expect(threaded.lanes.map((l) => [l.model.id, l.counters.done, l.inFlight])).toEqual([
      ['closed', N, 0],
      ['open', N, 0],
    ]);
  });

  it('a lane stopped on its thread by a bad key is reported once, and its other jobs are not sent', async () => {
    const before = sim.stats().requests;
    const { records, stopped, lanes } = await run(
      [openaiModel('closed', 'closed-sim', { concurrency: 1 }), ollamaModel('open', 'open-sim:1b')],
      {
        threads: 2,
        providerEnv: { env: { SIM_KEY: 'sk-wrong-key-0123456789' }, cwd: tempDir() },
      },
    );
    expect(stopped.map(([id, e]) => [id, e.kind])).toEqual([['closed', 'auth']]);
    expect(stopped[0][1].message).not.toContain('sk-wrong-key');
    // One request of the closed lane (answered 401), all of the open lane's.
    expect(sim.stats().requests - before).toBe(1 + N);
    const closed = records.filter((r) => r.model === 'closed');
    expect(closed).toHaveLength(N);
    expect(closed.every((r) => r.status === 'error' && r.error.kind === 'auth')).toBe(true);
    expect(closed.filter((r) => r.status === 'error' && r.error.message.startsWith('not sent:'))).toHaveLength(N - 1);
    expect(records.filter((r) => r.model === 'open' && r.status === 'ok')).toHaveLength(N);
    expect(lanes[0].fatal?.kind).toBe('auth');
  });

  it("a lane thread reports its retries and 429s, and keeps the server's pace", async () => {
    const { records, lanes } = await run([openaiModel('limited', 'limited', { concurrency: 4, maxRetries: 8 })], {
      threads: 1,
      suites: [{ ...suite, cases: suite.cases.slice(0, 12) }],
    });
    expect(records).toHaveLength(12);
    expect(records.every((r) => r.status === 'ok')).toBe(true);
    expect(lanes[0].counters.rateLimited).toBeGreaterThan(0);
    expect(lanes[0].counters.retries).toBeGreaterThanOrEqual(lanes[0].counters.rateLimited);
    expect(records.reduce((a, r) => a + r.attempts, 0)).toBe(12 + lanes[0].counters.retries);
  });

  it('stop and abort reach lanes on threads: no request starts after the stop, and requests in flight end', async () => {
    const stop = new AbortController();
    const abort = new AbortController();
    const before = sim.stats().byModel.slow?.requests ?? 0;
    const started = Date.now();
    setTimeout(() => stop.abort(new Error('interrupted')), 200);
    setTimeout(() => abort.abort(new Error('interrupted')), 400);
    const { result, records } = await run([openaiModel('slow', 'slow', { concurrency: 3 })], {
      threads: 1,
      stop: stop.signal,
      abort: abort.signal,
    });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(records).toHaveLength(0);
    expect(result.unfinished).toBe(N);
    expect((sim.stats().byModel.slow?.requests ?? 0) - before).toBe(3);
    await new Promise((r) => setTimeout(r, 100));
    expect(sim.stats().inFlight).toBe(0);
  });

  it('a lane thread that stops is restarted and its unanswered requests sent again; past two restarts they are given up, unrecorded', async () => {
    const signals = { stop: new AbortController().signal, abort: new AbortController().signal };
    const threads = new LaneThreads(1, signals);
    try {
      const lane = threads.lane(openaiModel('m', 'medium', { concurrency: 3 }), { env: { SIM_KEY: KEY }, cwd: '.' })!;
      const ask = (i: number) => lane.request([{ role: 'user', content: `What is ${i} plus ${i}?` }]);
      const crash = async () => {
        await new Promise((r) => setTimeout(r, 150));
        await threads.workersForTests()[0]!.terminate();
      };
      // Killed while three requests are in flight and three wait: all six still answer.
      const first = Promise.all([0, 1, 2, 3, 4, 5].map(ask));
      await crash();
      const answers = await first;
      expect(answers.map((a) => a.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
      expect(threads.failure).toBeUndefined();
      // Twice more: the third failure is for good.
      const second = Promise.allSettled([6, 7].map(ask));
      await crash();
      await crash();
      const given = await second;
      expect(given.map((g) => g.status)).toEqual(['rejected', 'rejected']);
      const reason = (given[0] as PromiseRejectedResult).reason as Error;
      expect(reason).toBeInstanceOf(LaneThreadError);
      expect(reason.message).toBe("the lane thread of model 'm' stopped (exit code 1)");
      expect(threads.failure).toBe(reason.message);
      await expect(ask(8)).rejects.toBeInstanceOf(LaneThreadError);
    } finally {
      await threads.close();
    }
  });

  it('leaves a core to the main thread, and never gives a run more threads than network lanes', () => {
    expect(defaultThreadCount(1)).toBe(1);
    expect(defaultThreadCount(0)).toBe(0);
    expect(defaultThreadCount(1000)).toBeGreaterThanOrEqual(1);
    const t = new LaneThreads(2, { stop: new AbortController().signal, abort: new AbortController().signal });
    const replay: ModelConfig = { ...openaiModel('r', 'r'), provider: 'replay', protocol: 'replay' };
    expect(t.lane(replay, { env: {}, cwd: '.' })).toBeUndefined();
    return t.close();
  });
});

describe('a run whose lane thread keeps failing', () => {
  it('leaves the unanswered jobs unrecorded, exits 130 naming the model, and a resume runs exactly those', async () => {
    const dir = tempDir();
    // A preload that kills the lane thread at every 5th request it is sent (as a crash would).
    writeFiles(dir, {
      'crash.mjs': `import { Worker, isMainThread } from 'node:worker_threads';
        if (isMainThread) { const post = Worker.prototype.postMessage; let n = 0;
          Worker.prototype.postMessage = function (m, ...rest) { if (m && m.t === 'req' && ++n % 5 === 0) setTimeout(() => this.terminate(), 20); return post.call(this, m, ...rest); }; }`,
      'gapbench.config.yaml': `models:\n  - { id: o, provider: ollama, model: "medium", host: "${sim.ollamaHost}", concurrency: 2 }\n`,
      's.yaml': [
        'name: s',
        'grader: numeric',
        'cases:',
        ...Array.from(
          { length: 30 },
          (_, i) => `  - { id: c${i}, prompt: "What is ${i} plus ${i}?", expected: "${2 * i}" }`,
        ),
      ].join('\n'),
    });
    const run = (args: string[], node: string[] = []) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((res) => {
        const child = spawn(process.execPath, [...node, join(REPO, 'dist/cli.js'), ...args], {
          cwd: dir,
          env: { PATH: process.env.PATH, HOME: process.env.HOME },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (code) => res({ code, stdout, stderr }));
      });
    const r = await run(
      ['run', '--suite', 's.yaml', '--run-id', 'c', '--quiet', '--cache', 'off'],
      ['--import', join(dir, 'crash.mjs')],
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(130);
    expect(r.stdout).toMatch(
      /stopped: the lane thread of model 'o' stopped \(exit code 1\): \d+ job\(s\) not run\. Resume with: gapbench run --resume /,
    );
    const journal = join(dir, 'results', 'c', 'records.jsonl');
    const first = readFileSync(journal, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as JobRecord);
    expect(first.every((x) => x.status === 'ok')).toBe(true);
    expect(first.length).toBeLessThan(30);
    const resumed = await run(['run', '--resume', join('results', 'c'), '--quiet', '--cache', 'off']);
    expect(resumed.code).toBe(0);
    const all = readFileSync(journal, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as JobRecord);
    expect(all).toHaveLength(30);
    expect(new Set(all.map((x) => x.job_id)).size).toBe(30);
  });
});

describe('where threads cannot start', () => {
  it("lanes run on the main thread (here: Node's permission model forbids worker threads)", async () => {
    const dir = tempDir();
    writeFiles(dir, {
      'gapbench.config.yaml': `models:\n  - { id: o, provider: ollama, model: "open-sim:1b", host: "${sim.ollamaHost}", concurrency: 2 }\n`,
      's.yaml': [
        'name: s',
        'grader: numeric',
        'cases:',
        ...Array.from(
          { length: 8 },
          (_, i) => `  - { id: c${i}, prompt: "What is ${i} plus ${i}?", expected: "${2 * i}" }`,
        ),
      ].join('\n'),
    });
    // Not spawnSync: the simulator answers from this process.
    const code = await new Promise<number | null>((res) => {
      const child = spawn(
        process.execPath,
        [
          '--experimental-permission',
          '--allow-fs-read=*',
          '--allow-fs-write=*',
          join(REPO, 'dist/cli.js'),
          'run',
          '--suite',
          's.yaml',
          '--run-id',
          'p',
          '--quiet',
          '--cache',
          'off',
        ],
        {
          cwd: dir,
          env: { PATH: process.env.PATH, HOME: process.env.HOME },
          stdio: 'ignore',
        },
      );
      child.on('close', res);
    });
    expect(code).toBe(0);
    const records = readFileSync(join(dir, 'results', 'p', 'records.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as JobRecord);
    expect(records.filter((x) => x.status !== 'ok')).toEqual([]);
    expect(records).toHaveLength(8);
  });
});

describe('V8 flags set at run time', () => {
  // Child processes: flags are process-wide. Each allocates enough short-lived objects, in slices
  // as a run does, for V8 to grow its young generation to the default 32 MiB if it could.
  const child = (body: string) => {
    const script = `
      import { capYoungGeneration, setProcessV8Flags } from ${JSON.stringify(join(REPO, 'dist/util/v8flags.js'))};
      import { prestartLaneThreads, stopPrestartedThreads } from ${JSON.stringify(join(REPO, 'dist/run/threads.js'))};
      import { getHeapSpaceStatistics } from 'node:v8';
      const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 2 ** 20;
      const churn = async () => { let keep = []; for (let k = 0; k < 60; k++) { for (let i = 0; i < 50000; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 20000) keep = []; } await new Promise((r) => setImmediate(r)); } };
      ${body}
      console.log(JSON.stringify({ newSpace: newSpace() }));
      await stopPrestartedThreads();
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout) as { newSpace: number };
  };

  it('still hold after a lane thread starts (a new thread resets them; threads.ts sets them again)', () => {
    const r = child(`
      setProcessV8Flags('--semi-space-growth-factor=1');
      prestartLaneThreads(1);
      await new Promise((r) => setTimeout(r, 1000));
      await churn();`);
    expect(r.newSpace).toBeLessThanOrEqual(4);
  });

  it("cap the young generation's growth", () => {
    expect(child('capYoungGeneration(4); await churn();').newSpace).toBeLessThan(32);
  });
});

describe('--threads', () => {
  it('is checked like every option, and 0 runs every lane on the main thread', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      'gapbench.config.yaml': `models:\n  - { id: o, provider: ollama, model: "open-sim:1b", host: "${sim.ollamaHost}", concurrency: 2 }\n`,
      's.yaml': `name: s\ngrader: numeric\ncases:\n  - { id: a, prompt: "What is 2 plus 2?", expected: "4" }\n  - { id: b, prompt: "What is 3 plus 3?", expected: "6" }\n`,
    });
    for (const v of ['two', '-1', '1e3', '0x10', '1.5', '']) {
      const bad = await cli(['run', '--suite', 's.yaml', `--threads=${v}`], { cwd: dir });
      expect(bad.code).toBe(2);
      expect(bad.stderr.trim()).toBe(`gapbench run: --threads ${v}: expected a whole number from 0 and up`);
    }
    for (const n of ['0', '1']) {
      const r = await cli(['run', '--suite', 's.yaml', '--threads', n, '--quiet', '--run-id', `t${n}`], { cwd: dir });
      expect(r.code).toBe(0);
      expect(readFileSync(join(dir, 'results', `t${n}`, 'results.csv'), 'utf8').split('\r\n').length).toBe(4);
    }
  });
});
