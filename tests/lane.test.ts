import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ProviderError } from '../src/errors.js';
import type { Provider } from '../src/providers/provider.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../src/config/config.js';
import { createProvider } from '../src/providers/index.js';
import type { Clock } from '../src/run/clock.js';
import { Lane, type LaneOptions } from '../src/run/lane.js';
import { jobId } from '../src/run/plan.js';
import { TokenBucket } from '../src/run/limiter.js';
import { parseDuration, parseRetryAfter } from '../src/providers/retry-after.js';
import { backoffDelay } from '../src/run/backoff.js';
import { startSimulator, type Simulator } from '../src/sim/index.js';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    seed: 11,
    models: [
      { name: 'slow', latencyMs: 30 },
      { name: 'flaky', faults: { error503: 0.5 } },
      { name: 'bad-request', faults: {} },
      { name: 'limited', rpm: 60 },
      { name: 'sleepy', latencyMs: 120_000 },
    ],
  });
});
afterAll(() => sim.close());

function model(name: string, over: Partial<ModelConfig> = {}): ModelConfig {
  return {
    id: name,
    provider: 'openai',
    protocol: 'openai',
    model: name,
    group: 'closed',
    endpoint: sim.openaiBaseURL,
    keyOptional: true,
    concurrency: 3,
    timeoutMs: 2000,
    maxRetries: 5,
    params: {},
    cache: false,
    judgeOnly: false,
    ...over,
  };
}

/** A lane for the model through its real provider, with `concurrency` requests in flight at most. */
function newLane(m: ModelConfig, concurrency: number, opts: LaneOptions = {}): Lane {
  return new Lane(createProvider(m, { env: {}, cwd: '.' }), { ...m, concurrency }, opts);
}

/** Time that passes only when the scheduler sleeps: retry waits are recorded, never waited. */
function fakeClock(): Clock & { slept: number[] } {
  let t = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => t,
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
    },
  };
}

const ask = (lane: Lane, i: number) => lane.request([{ role: 'user', content: `question ${i}` }]);

describe('lanes', () => {
  it('never has more requests in flight than its concurrency', async () => {
    sim.resetStats();
    const lane = newLane(model('slow'), 3);
    const results = await Promise.all(Array.from({ length: 24 }, (_, i) => ask(lane, i)));
    expect(results.every((r) => r.status === 'ok')).toBe(true);
    expect(sim.stats().maxInFlight.slow).toBe(3);
  });

  it("the run's abort ends the requests in flight of every lane, and no request starts after it", async () => {
    const abort = new AbortController();
    const lanes = ['sleepy', 'sleepy'].map((n, i) =>
      newLane(model(n, { id: `${n}${i}`, timeoutMs: 600_000 }), 4, {
        signal: abort.signal,
      }),
    );
    const pending = lanes.flatMap((lane) => Array.from({ length: 6 }, (_, i) => ask(lane, i)));
    // Wait until the server holds every request a lane may have in flight (4 per lane).
    while (lanes.some((l) => l.inFlight < 4)) await new Promise((r) => setTimeout(r, 5));
    abort.abort(new Error('second Ctrl-C'));
    const settled = await Promise.allSettled(pending);
    // Without the abort these would wait two minutes for the simulator (and the test would time out).
    expect(settled.every((s) => s.status === 'rejected' && (s.reason as Error).message === 'second Ctrl-C')).toBe(true);
    expect(lanes.map((l) => l.inFlight)).toEqual([0, 0]);
    await expect(ask(lanes[0], 99)).rejects.toThrow('second Ctrl-C');
  });

  it('retries retryable failures until they succeed, counting attempts', async () => {
    const clock = fakeClock();
    const lane = newLane(model('flaky', { maxRetries: 20 }), 2, {
      clock,
      random: () => 0.5,
    });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => ask(lane, i)));
    expect(results.every((r) => r.status === 'ok')).toBe(true);
    const retried = results.filter((r) => r.attempts > 1);
    expect(retried.length).toBeGreaterThan(5);
    expect(retried.every((r) => r.status === 'ok' && r.lastErrorKind === 'server')).toBe(true);
    expect(lane.counters.retries).toBe(results.reduce((n, r) => n + r.attempts - 1, 0));
  });

  it('gives up after maxRetries with the last error kind', async () => {
    const lane = newLane(model('flaky', { maxRetries: 0 }), 1, {
      clock: fakeClock(),
    });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => ask(lane, i)));
    const errors = results.filter((r) => r.status === 'error');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((r) => r.status === 'error' && r.error.kind === 'server' && r.attempts === 1)).toBe(true);
  });

  it('never retries a not_found error and stops the lane after the first one', async () => {
    const clock = fakeClock();
    sim.resetStats();
    const lane = newLane(model('no-such-model'), 1, { clock });
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => ask(lane, i)));
    expect(results.every((r) => r.status === 'error' && r.error.kind === 'not_found')).toBe(true);
    expect(results.filter((r) => r.attempts === 1)).toHaveLength(1); // only the first was sent
    expect(lane.fatal?.kind).toBe('not_found');
    expect(clock.slept).toEqual([]);
  });

  it('stops the lane when its server was never reached through every retry (down, or a wrong address)', async () => {
    const clock = fakeClock();
    // A port nothing listens on: connection refused, through the real SDK.
    const closed = await new Promise<number>((res) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const port = (srv.address() as AddressInfo).port;
        srv.close(() => res(port));
      });
    });
    const lane = newLane(model('slow', { endpoint: `http://127.0.0.1:${closed}/v1`, maxRetries: 2 }), 1, { clock });
    const results = await Promise.all(Array.from({ length: 4 }, (_, i) => ask(lane, i)));
    expect(results[0]).toMatchObject({ status: 'error', attempts: 3, error: { kind: 'network' } });
    expect(results[0].status === 'error' && results[0].error.message).toMatch(
      /ECONNREFUSED.*gave up after 3 attempts; no request to this model has succeeded, so its other jobs are not sent\)$/,
    );
    // The others stop at their next try once the first has given up (jobs take turns while one backs off).
    expect(
      results
        .slice(1)
        .every(
          (r) =>
            r.status === 'error' &&
            r.error.kind === 'network' &&
            r.attempts < 3 &&
            r.error.message.startsWith('not sent: '),
        ),
    ).toBe(true);
    expect(lane.fatal?.kind).toBe('network');
  });

  it('keeps going through network errors once its server has answered', async () => {
    let calls = 0;
    const provider: Provider = {
      model: model('m', { maxRetries: 1 }),
      complete: async () => {
        if (calls++ === 0) return { text: 'ok', latencyMs: 1 };
        throw new ProviderError('network', "model 'm': connection failed (ECONNRESET)");
      },
    };
    const lane = new Lane(provider, { ...model('m', { maxRetries: 1 }), concurrency: 1 }, { clock: fakeClock() });
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await ask(lane, i));
    expect(results.map((r) => [r.status, r.attempts])).toEqual([
      ['ok', 1],
      ['error', 2],
      ['error', 2],
    ]);
    expect(lane.fatal).toBeUndefined();
  });

  it('honours the server retry-after before any backoff of its own', async () => {
    const clock = fakeClock();
    const lane = newLane(model('limited', { maxRetries: 3 }), 1, {
      clock,
      random: () => 0,
    });
    expect((await ask(lane, 1)).status).toBe('ok');
    // The simulator's bucket is empty now; a real retry-after (about 1 s at 60 rpm) comes back.
    const second = ask(lane, 2);
    const r = await second;
    expect(lane.counters.rateLimited).toBeGreaterThanOrEqual(1);
    const waits = clock.slept.filter((ms) => ms >= 100);
    expect(waits.length).toBeGreaterThanOrEqual(1);
    expect(waits[0]).toBeGreaterThan(500);
    expect(waits[0]).toBeLessThanOrEqual(1000);
    void r;
  });
});

describe('retry policy pieces', () => {
  it('reads retry-after in every form servers send', () => {
    const h = (o: Record<string, string>) => ({ get: (k: string) => o[k] ?? null });
    expect(parseRetryAfter(h({ 'retry-after-ms': '250' }))).toBe(250);
    expect(parseRetryAfter(h({ 'retry-after': '3' }))).toBe(3000);
    expect(parseRetryAfter(h({ 'retry-after': new Date(10_000).toUTCString() }), 4_000)).toBe(6000);
    expect(
      parseRetryAfter(
        h({
          'x-ratelimit-remaining-requests': '0',
          'x-ratelimit-reset-requests': '1.5s',
          'x-ratelimit-reset-tokens': '6m0s',
        }),
      ),
    ).toBe(1500);
    expect(parseRetryAfter(h({ 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '20ms' }))).toBe(20);
    expect(parseRetryAfter(h({}))).toBeUndefined();
    expect(parseDuration('2h3m')).toBe(7_380_000);
  });

  it('backs off exponentially with full jitter under a cap; retry-after wins', () => {
    const policy = { baseMs: 100, capMs: 1000, maxRetryAfterMs: 60_000 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, undefined, policy, () => 0.999999))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
    expect(backoffDelay(3, undefined, policy, () => 0)).toBe(0);
    expect(backoffDelay(1, 4200, policy)).toBe(4200);
    expect(backoffDelay(1, 999_999, policy)).toBe(60_000);
  });

  it('a token bucket paces takers at its rate', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(600, 1, clock); // 10 per second, no burst
    for (let i = 0; i < 11; i++) await bucket.take(1);
    expect(clock.now()).toBeGreaterThanOrEqual(1000);
    expect(clock.now()).toBeLessThan(1100);
  });
});

describe('job ids', () => {
  it('are stable across versions (resume finds the jobs of runs made by older releases)', () => {
    expect(jobId('s', 'c1', 'm', 2)).toBe('39b25b9da6feb7ff6687');
    expect(jobId('math-word', '中文', 'ollama:llama3.1:8b', 0)).toBe(
      createHash('sha256').update('math-word\u0000中文\u0000ollama:llama3.1:8b\u00000').digest('hex').slice(0, 20),
    );
  });
});
