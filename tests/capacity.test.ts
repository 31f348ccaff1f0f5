/**
 * `gapbench capacity` against the simulator's serving model, whose throughput and latency at each
 * concurrency follow from its parameters (docs/simulator.md): the sweep must find them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../src/sim/index.js';
import type { Simulator } from '../src/sim/index.js';
import { cli, csvRows, runManifest, spawnCli, tempDir, writeFiles } from './helpers.js';

// 4 slots, 400 tok/s alone, the batch tending to 800 tok/s (K = 800/400 - 1 = 1), 40-token
// answers, 10 ms before the first token. Per-slot rate r(b) = 800 / (b + 1) tok/s, so at
// concurrency c <= 4 an answer decodes in 40 / r(c) = 50 (c + 1) ms (ITL 50 (c + 1) / 39 ms) and
// a slot turns over every 10 + 50 (c + 1) ms; beyond 4 requests queue, throughput stays at
// concurrency 4's and the wait goes into the time to first token (docs/simulator.md).
const SPEC = { name: 'srv', tokensPerSecond: 400, peakTps: 800, slots: 4, outputTokens: 40, latencyMs: 10 };
const rps = (c: number) => (Math.min(c, 4) * 1000) / (10 + 50 * (Math.min(c, 4) + 1));
const itl = (c: number) => (50 * (c + 1)) / 39;
// TTFT p95: 10 ms up to 4 in flight; at 8, half the requests wait a whole turn (e2e 2 x 260 ms, TTFT 270 ms).
const TTFT_TARGET_S = 0.2;

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({
    models: [
      SPEC,
      { name: 'api', latencyMs: 30, tokensPerSecond: 2000 },
      // Not in memory: its first request loads it for 600 ms and says so (Ollama's load_duration).
      { name: 'cold:1b', latencyMs: 5, tokensPerSecond: 2000, loadMs: 600 },
    ],
  });
});
afterAll(() => sim.close());

function project(extra = ''): string {
  const dir = tempDir('gapbench-cap-');
  writeFiles(dir, {
    'gapbench.config.yaml': [
      'models:',
      `  - { id: srv, provider: openai, model: srv, group: open, baseURL: "${sim.openaiBaseURL}", price: { perHour: 2 } }`,
      `  - { id: api, provider: openai, model: api, group: closed, baseURL: "${sim.openaiBaseURL}", concurrency: 2 }`,
      'suites: [demo]',
      extra,
    ].join('\n'),
  });
  return dir;
}

const FAST = ['--step-seconds', '1', '--step-requests', '15', '--quiet'];

describe('gapbench capacity', () => {
  it('finds the serving model throughput and latency, its knee and its goodput at a TTFT target', async () => {
    const dir = project();
    const r = await cli(['capacity', '--run-id', 'c', '--slo', `ttft_p95_s=${TTFT_TARGET_S}`, ...FAST], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const out = join(dir, 'results', 'c');
    const rows = csvRows(join(out, 'capacity.csv'));
    const open = rows.filter((x) => x.side === 'open');
    // 1, 2, 4 within the target, 8 beyond it with no more throughput than 4: nothing to bisect.
    expect(open.map((x) => [x.concurrency, x.meets_slo])).toEqual([
      ['1', 'true'],
      ['2', 'true'],
      ['4', 'true'],
      ['8', 'false'],
    ]);
    // Against the formula. Below the slots each client's own time between requests (a few ms, more
    // on a busy machine) slows the rate, so only its ceiling is exact; with requests queued (8 > 4
    // slots) the server is never idle and the rate is the truth whatever the client's pace. ITL
    // medians are the server's pacing. TTFT at 8 holds a whole turn of waiting.
    for (const x of open) {
      const c = Number(x.concurrency);
      expect(Number(x.requests_per_s) / rps(c), `c=${c}`).toBeLessThan(1.08);
      expect(Number(x.requests_per_s) / rps(c), `c=${c}`).toBeGreaterThan(c > 4 ? 0.92 : 0.6);
      if (c <= 4) expect(Number(x.itl_p50_ms) / itl(c), `c=${c}`).toBeGreaterThan(0.9);
      if (c <= 4) expect(Number(x.itl_p50_ms) / itl(c), `c=${c}`).toBeLessThan(1.1);
    }
    expect(Number(open[3].ttft_p50_ms)).toBeGreaterThan(TTFT_TARGET_S * 1000);
    const [g] = csvRows(join(out, 'goodput.csv'));
    expect(g.slo).toBe('ttft_p95<=0.2s;itl_p95<=100ms');
    expect(Number(g.goodput_concurrency)).toBe(4);
    expect(Number(g.goodput_requests_per_s) / rps(4)).toBeGreaterThan(0.6);
    expect(Number(g.goodput_requests_per_s) / rps(4)).toBeLessThan(1.08);
    expect(Number(g.saturation_requests_per_s) / rps(8)).toBeGreaterThan(0.92);
    expect(Number(g.saturation_requests_per_s) / rps(8)).toBeLessThan(1.08);
    expect(g.saturation_concurrency).toMatch(/^[48]$/);
    expect(rows.filter((x) => x.side === 'closed').map((x) => x.concurrency)).toEqual(['1', '2']);
    expect(runManifest(out)).toMatchObject({ kind: 'capacity', status: 'finished' });
    expect(r.stdout).toMatch(/^srv\s+\d+\.\d+/m);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('Throughput against time to first token');
    expect(html).toMatch(/srv: goodput [\d.]+ requests\/s at concurrency 4/);
  }, 60_000);

  it('climbs past the load where the target breaks, to find where throughput stops rising', async () => {
    // ITL 2.6 ms at concurrency 1, 3.8 ms at 2: a 3 ms target breaks at 2, long before the 4 slots fill.
    const dir = project();
    const r = await cli(['capacity', '--run-id', 'e', '--slo', 'itl_p95_ms=3,ttft_p95_s=10', ...FAST], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const out = join(dir, 'results', 'e');
    const open = csvRows(join(out, 'capacity.csv')).filter((x) => x.side === 'open');
    expect(open.map((x) => x.concurrency)).toEqual(['1', '2', '4', '8']);
    expect(open.map((x) => x.meets_slo)).toEqual(['true', 'false', 'false', 'false']);
    const [g] = csvRows(join(out, 'goodput.csv'));
    expect(Number(g.goodput_concurrency)).toBe(1);
    // The saturation is the 4 slots' rate, not concurrency 2's (the first step beyond the target).
    expect(Number(g.saturation_requests_per_s) / rps(4)).toBeGreaterThan(0.92);
    expect(Number(g.saturation_requests_per_s) / rps(4)).toBeLessThan(1.08);
  });

  it('counts a model load as a cold start and keeps it out of the figures (Ollama protocol)', async () => {
    const dir = tempDir('gapbench-cap-');
    writeFiles(dir, {
      'gapbench.config.yaml': [
        'models:',
        `  - { id: cold, provider: ollama, model: "cold:1b", host: "${sim.ollamaHost}", price: { perHour: 1 } }`,
        'suites: [demo]',
      ].join('\n'),
    });
    const r = await cli(['capacity', '--run-id', 'o', '--max-concurrency', '1', ...FAST], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const [row] = csvRows(join(dir, 'results', 'o', 'capacity.csv'));
    expect(row).toMatchObject({ model: 'cold', concurrency: '1', cold_starts: '1', errors: '0' });
    expect(Number(row.e2e_p95_ms)).toBeLessThan(600);
  }, 30_000);

  it('a server that answers nothing: rows with the errors, a note, no goodput, exit 1', async () => {
    const dir = tempDir('gapbench-cap-');
    writeFiles(dir, {
      'gapbench.config.yaml': [
        'models:',
        '  - { id: down, provider: openai, model: m, group: open, baseURL: "http://127.0.0.1:1/v1", price: { perHour: 1 } }',
        'suites: [demo]',
      ].join('\n'),
    });
    const r = await cli(['capacity', '--run-id', 'd', ...FAST], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    const [row] = csvRows(join(dir, 'results', 'd', 'capacity.csv'));
    expect(row).toMatchObject({ concurrency: '1', requests: '0', meets_slo: 'false' });
    expect(Number(row.errors)).toBeGreaterThanOrEqual(15);
    expect(row.note).toMatch(/^every request failed: /);
    const [g] = csvRows(join(dir, 'results', 'd', 'goodput.csv'));
    expect(g.goodput_requests_per_s).toBe('');
    expect(g.note).toBe('no step got an answer: no goodput');
    expect(r.stdout).toMatch(/note: down: no step got an answer: no goodput/);
  }, 30_000);

  it('refuses a bad target before anything is sent', async () => {
    const before = sim.stats().byModel.srv.requests;
    const bad = await cli(['capacity', '--slo', 'itl_p95_ms=abc'], { cwd: project() });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('gapbench capacity: --slo itl_p95_ms=abc: expected a number above 0');
    const neg = await cli(['capacity'], { cwd: project('slo: { ttft_p95_s: -1 }') });
    expect(neg.code).toBe(2);
    expect(neg.stderr.trim().split('\n')).toHaveLength(1);
    expect(neg.stderr).toMatch(/slo\.ttft_p95_s/);
    expect(sim.stats().byModel.srv.requests).toBe(before);
  });

  it('Ctrl-C keeps the finished steps and exits 130; a kill keeps them too', async () => {
    const dir = project();
    const run = spawnCli(['capacity', '--run-id', 'k', '--step-seconds', '1', '--step-requests', '5'], { cwd: dir });
    const csv = join(dir, 'results', 'k', 'capacity.csv');
    const steps = () => (existsSync(csv) ? readFileSync(csv, 'utf8').trim().split('\n').length - 1 : 0);
    while (steps() < 2) await new Promise((r) => setTimeout(r, 50));
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stdout).toMatch(/Interrupted: the finished steps are in capacity.csv/);
    const rows = csvRows(csv);
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(rows.slice(0, 2).map((x) => x.concurrency)).toEqual(['1', '2']);
    expect(runManifest(join(dir, 'results', 'k')).status).toBe('interrupted');
    // Killed outright: each finished step is a whole line already on disk.
    const hard = spawnCli(['capacity', '--run-id', 'x', '--step-seconds', '1', '--step-requests', '5'], { cwd: dir });
    const csv2 = join(dir, 'results', 'x', 'capacity.csv');
    while (!existsSync(csv2) || readFileSync(csv2, 'utf8').trim().split('\n').length < 2)
      await new Promise((r) => setTimeout(r, 50));
    hard.child.kill('SIGKILL');
    expect((await hard.done).signal).toBe('SIGKILL');
    expect(csvRows(csv2)[0]).toMatchObject({ model: 'srv', concurrency: '1' });
  }, 60_000);
});
