import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/sim/index.js';
import { cli, csvRows, numericAnswerKey, runManifest, suiteYaml, tempDir, writeFiles } from './helpers.js';

const cases = Array.from({ length: 6 }, (_, i) => ({ id: `q${i}`, prompt: `What is ${i} + 2?`, expected: i + 2 }));
const env = { OPENAI_API_KEY: 'k' };
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    seed: 3,
    answers: numericAnswerKey(cases),
    models: [
      // A served open model: 2 decode slots at 100 tokens/s each, 20-token answers (0.2 s alone), a queue beyond.
      { name: 'served', accuracy: 1, slots: 2, tokensPerSecond: 100, outputTokens: 20 },
      { name: 'api', accuracy: 1, ttftMs: 40, tokensPerSecond: 1000 },
    ],
  });
});
afterAll(() => sim.close());

describe('gapbench capacity, then gapbench run --capacity', () => {
  it("puts the sweep's goodput into gap.csv's open-side cost and capacity, and names it", async () => {
    const dir = tempDir();
    const url = sim.openaiBaseURL;
    writeFiles(dir, {
      's.yaml': suiteYaml('s', cases),
      'gapbench.config.yaml': [
        'models:',
        `  - { id: api, provider: openai, model: api, baseURL: "${url}", group: closed, price: { input: 1, output: 1 } }`,
        `  - { id: served, provider: openai, model: served, baseURL: "${url}", group: open, price: { perHour: 2, utilization: 0.5 } }`,
      ].join('\n'),
    });
    const argv = ['--suite', 's.yaml', '--step-seconds', '1', '--step-requests', '8', '--max-concurrency', '4'];
    const cap = await cli(['capacity', '--run-id', 'cap', '--quiet', ...argv], { cwd: dir, env });
    expect(cap.code, cap.stderr + cap.stdout).toBe(0);
    const good = csvRows(join(dir, 'results', 'cap', 'goodput.csv')).find((g) => g.model === 'served')!;
    const rps = Number(good.goodput_requests_per_s);
    expect(rps).toBeGreaterThan(0);

    // The same run with and without the capacity result (one request at a time: the run's own throughput is lower).
    const run = (id: string, extra: string[]) =>
      cli(['run', '--suite', 's.yaml', '--run-id', id, '--quiet', '--concurrency', '1', ...extra], { cwd: dir, env });
    const [own, withCap] = [await run('own', []), await run('withcap', ['--capacity', 'results/cap'])];
    expect(own.code, own.stderr).toBe(0);
    expect(withCap.code, withCap.stderr).toBe(0);
    const best = (id: string) => csvRows(join(dir, 'results', id, 'gap.csv')).find((g) => g.scope === 'best')!;
    const a = best('own');
    const b = best('withcap');
    // Requests one at a time: at most 1 in flight (less by the moments between them).
    expect(a.open_capacity_source).toMatch(
      /^this run's throughput at its own concurrency \(on average (1 request|0\.\d+ requests) in flight\)$/,
    );
    expect(b.open_capacity_source).toBe(
      `goodput ${good.slo}: ${Number(rps.toPrecision(3))} requests/s at concurrency ${good.goodput_concurrency} (capacity run cap)`,
    );
    // $2/h at 50% of the goodput's requests an hour, all 6 answers right: cost per 1,000 correct.
    expect(Number(b.open_cost_per_1k_correct_usd)).toBeCloseTo((2 / (0.5 * rps * 3600)) * 1000, 4);
    expect(Number(a.open_cost_per_1k_correct_usd)).not.toBeCloseTo(Number(b.open_cost_per_1k_correct_usd), 4);
    expect(Number(b.open_ttft_p95_ms_at_goodput)).toBeCloseTo(Number(good.goodput_ttft_p95_ms), 0);
    const closedRows = csvRows(join(dir, 'results', 'cap', 'capacity.csv')).filter((r) => r.side === 'closed');
    expect(closedRows.length).toBeGreaterThan(0);
    expect(Number(b.closed_ttft_p95_ms)).toBeCloseTo(Number(closedRows.at(-1)!.ttft_p95_ms), 0);
    expect(runManifest(join(dir, 'results', 'withcap')).capacity).toEqual({
      dir: join(dir, 'results', 'cap'),
      run_id: 'cap',
    });
  }, 120_000);
});
