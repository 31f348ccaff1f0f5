/**
 * The simulator, exercised the way the harness uses it: through the real `openai` and
 * `ollama` SDKs over real HTTP on loopback. No mocks.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import OpenAI from 'openai';
import { Ollama } from 'ollama';
import { startSimulator, type AnswerKey, type SimModel, type Simulator } from '../src/sim/server.js';
import { answerKeyFromCases } from '../src/sim/answers.js';
import { parseSimModelSpec, SimSpecError } from '../src/sim/spec.js';
import type { Case } from '../src/types.js';

/** Every prompt `q...` has the correct answer RIGHT and the wrong answer WRONG. */
const rightWrong: AnswerKey = {
  lookup: (p) => (p.startsWith('q') ? { correct: `RIGHT ${p}`, wrong: `WRONG ${p}` } : undefined),
};

const user = (content: string) => [{ role: 'user' as const, content }];

function openai(sim: Simulator, extra: { apiKey?: string; timeout?: number } = {}): OpenAI {
  return new OpenAI({
    baseURL: sim.openaiBaseURL,
    apiKey: extra.apiKey ?? 'test',
    maxRetries: 0,
    timeout: extra.timeout,
  });
}

/** Runs `fn` over `items` with at most `limit` calls at a time; results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return out;
}

async function withSim<T>(models: SimModel[], seed: number, fn: (sim: Simulator) => Promise<T>): Promise<T> {
  const sim = await startSimulator({ models, seed, answers: rightWrong });
  try {
    return await fn(sim);
  } finally {
    await sim.close();
  }
}

describe('OpenAI protocol through the openai SDK', () => {
  let sim: Simulator;
  let client: OpenAI;
  beforeAll(async () => {
    sim = await startSimulator({
      seed: 1,
      answers: rightWrong,
      models: [
        { name: 'gpt-sim', accuracy: 1 },
        { name: 'limited', rpm: 60 },
        { name: 'broken', faults: { error500: 1 } },
        { name: 'busy', faults: { error503: 1 } },
        { name: 'resetting', faults: { reset: 1 } },
        { name: 'hanging', faults: { hang: 1 } },
        { name: 'garbled', faults: { malformed: 1 } },
      ],
    });
    client = openai(sim);
  });
  afterAll(() => sim.close());

  it('lists the served models', async () => {
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toEqual([
      'gpt-sim',
      'limited',
      'broken',
      'busy',
      'resetting',
      'hanging',
      'garbled',
    ]);
    expect(page.data[0]).toMatchObject({ object: 'model', owned_by: 'gapbench-sim' });
  });

  it('answers a chat completion in the exact OpenAI shape', async () => {
    const r = await client.chat.completions.create({
      model: 'gpt-sim',
      messages: [{ role: 'system', content: 'Be brief.' }, ...user('q1')],
    });
    expect(r.id).toMatch(/^chatcmpl-/);
    expect(r).toMatchObject({ object: 'chat.completion', model: 'gpt-sim' });
    expect(r.choices).toEqual([
      {
        index: 0,
        message: { role: 'assistant', content: 'RIGHT q1', refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ]);
    // ceil(chars / 4) per message: 'Be brief.' = 3, 'q1' = 1; 'RIGHT q1' = 2.
    expect(r.usage).toEqual({ prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 });
  });

  it('streams SSE deltas: role first, content pieces, finish_reason, then a usage chunk', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-sim',
      messages: user('a longer question about streams'),
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('Simulated answer from gpt-sim.');
    expect(chunks.filter((c) => (c.choices[0]?.delta.content ?? '') !== '').length).toBeGreaterThan(1);
    expect(chunks.at(-2)?.choices[0].finish_reason).toBe('stop');
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage).toEqual({ prompt_tokens: 8, completion_tokens: 8, total_tokens: 16 });
  });

  it('honours max_tokens (finish_reason length) and stop strings (finish_reason stop)', async () => {
    const short = await client.chat.completions.create({ model: 'gpt-sim', messages: user('hello'), max_tokens: 3 });
    expect(short.choices[0]).toMatchObject({ message: { content: 'Simulated an' }, finish_reason: 'length' });
    expect(short.usage?.completion_tokens).toBe(3);
    const cut = await client.chat.completions.create({
      model: 'gpt-sim',
      messages: user('hello'),
      stop: [' from', 'answer'],
    });
    expect(cut.choices[0]).toMatchObject({ message: { content: 'Simulated ' }, finish_reason: 'stop' });
  });

  it('counts CJK characters as one token each', async () => {
    const r = await client.chat.completions.create({ model: 'gpt-sim', messages: user('你好世界') });
    expect(r.usage?.prompt_tokens).toBe(4);
  });

  it('rejects an unknown model with NotFoundError (model_not_found)', async () => {
    const err = await client.chat.completions.create({ model: 'nope', messages: user('q1') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err).toMatchObject({
      status: 404,
      code: 'model_not_found',
      message: '404 The model `nope` does not exist or you do not have access to it.',
    });
  });

  it('over rpm: RateLimitError with retry-after and x-ratelimit headers', async () => {
    await client.chat.completions.create({ model: 'limited', messages: user('q1') });
    const err = await client.chat.completions
      .create({ model: 'limited', messages: user('q1') })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const headers = (err as InstanceType<typeof OpenAI.RateLimitError>).headers;
    expect(Number(headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(headers.get('retry-after-ms'))).toBeGreaterThan(0);
    expect(headers.get('x-ratelimit-limit-requests')).toBe('60');
    expect(headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+(\.\d+)?m?s$/);
    expect(sim.stats().byModel.limited).toMatchObject({ requests: 2, ok: 1, rateLimited: 1 });
  });

  it('500 and 503 faults are InternalServerErrors with an OpenAI error body', async () => {
    const e500 = await client.chat.completions
      .create({ model: 'broken', messages: user('q1') })
      .catch((e: unknown) => e);
    expect(e500).toBeInstanceOf(OpenAI.InternalServerError);
    expect(e500).toMatchObject({ status: 500, type: 'server_error' });
    const e503 = await client.chat.completions.create({ model: 'busy', messages: user('q1') }).catch((e: unknown) => e);
    expect(e503).toMatchObject({ status: 503 });
  });

  it('a reset fault is an APIConnectionError', async () => {
    const err = await client.chat.completions
      .create({ model: 'resetting', messages: user('q1') })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(sim.stats().byModel.resetting.faults.reset).toBe(1);
  });

  it('a hang fault never answers: released by an AbortSignal or the client timeout', async () => {
    const aborted = await client.chat.completions
      .create({ model: 'hanging', messages: user('q1') }, { signal: AbortSignal.timeout(100) })
      .catch((e: unknown) => e);
    expect(aborted).toBeInstanceOf(OpenAI.APIUserAbortError);
    const timedOut = await openai(sim, { timeout: 100 })
      .chat.completions.create({ model: 'hanging', messages: user('q1') })
      .catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    // The server lets go of the request once the client has gone.
    await vi.waitFor(() => expect(sim.stats().inFlight).toBe(0));
    expect(sim.stats().maxInFlight.hanging).toBe(1);
  });

  it('malformed replies alternate: invalid JSON, then a body with choices: []', async () => {
    await expect(client.chat.completions.create({ model: 'garbled', messages: user('q1') })).rejects.toThrow();
    const empty = await client.chat.completions.create({ model: 'garbled', messages: user('q1') });
    expect(empty.choices).toEqual([]);
  });

  it('answers invalid JSON with a 400 in the OpenAI error shape', async () => {
    const res = await fetch(`${sim.openaiBaseURL}/chat/completions`, {
      method: 'POST',
      body: '{"model":',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error', param: null, code: null } });
  });
});

describe('rate limit and shutdown', () => {
  it('rpm is a token bucket with one second of burst: wait retry-after-ms and the retry succeeds', async () => {
    await withSim([{ name: 'api', rpm: 600 }], 0, async (sim) => {
      const client = openai(sim);
      const call = () => client.chat.completions.create({ model: 'api', messages: user('q1') });
      await Promise.all(Array.from({ length: 10 }, call));
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
      const waitMs = Number((err as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after-ms'));
      expect(waitMs).toBeGreaterThan(0);
      expect(waitMs).toBeLessThanOrEqual(100);
      await new Promise((r) => setTimeout(r, waitMs));
      await expect(call()).resolves.toMatchObject({ object: 'chat.completion' });
      expect(sim.stats().byModel.api).toMatchObject({ requests: 12, ok: 11, rateLimited: 1 });
    });
  });

  it('close() ends hung requests instead of waiting for them', async () => {
    const sim = await startSimulator({ models: [{ name: 'hanging', faults: { hang: 1 } }] });
    const pending = openai(sim)
      .chat.completions.create({ model: 'hanging', messages: user('q1') })
      .catch((e: unknown) => e);
    await vi.waitFor(() => expect(sim.stats().inFlight).toBe(1));
    await sim.close();
    expect(await pending).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(sim.stats().inFlight).toBe(0);
  });
});

describe('OpenAI API key', () => {
  it('requires Authorization: Bearer <apiKey> and never echoes the key', async () => {
    const sim = await startSimulator({ models: [{ name: 'gpt-sim' }], apiKey: 'sk-secret-123' });
    try {
      const err = await openai(sim, { apiKey: 'sk-wrong-456' })
        .models.list()
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(err).toMatchObject({ status: 401, code: 'invalid_api_key' });
      expect(String((err as Error).message)).not.toMatch(/sk-(secret|wrong)/);
      const ok = await openai(sim, { apiKey: 'sk-secret-123' }).chat.completions.create({
        model: 'gpt-sim',
        messages: user('hi'),
      });
      expect(ok.choices[0].message.content).toBe('Simulated answer from gpt-sim.');
    } finally {
      await sim.close();
    }
  });
});

describe('Ollama protocol through the ollama SDK', () => {
  let sim: Simulator;
  let ollama: Ollama;
  beforeAll(async () => {
    sim = await startSimulator({
      seed: 1,
      answers: rightWrong,
      models: [{ name: 'llama3.1:8b', accuracy: 0 }, { name: 'qwen3' }],
    });
    ollama = new Ollama({ host: sim.ollamaHost });
  });
  afterAll(() => sim.close());

  it('lists the same models as /v1/models, with details', async () => {
    const { models } = await ollama.list();
    expect(models.map((m) => m.name)).toEqual(['llama3.1:8b', 'qwen3']);
    expect(models[0].details).toMatchObject({ family: 'llama', parameter_size: '8B', format: 'gguf' });
    expect(await ollama.version()).toEqual({ version: '0.6.0-sim' });
    expect(await (await fetch(sim.url)).text()).toBe('Ollama is running');
  });

  it('chat with stream: false returns one done object with counts and ns durations', async () => {
    const r = await ollama.chat({ model: 'llama3.1:8b', messages: user('q7'), stream: false });
    expect(r).toMatchObject({
      model: 'llama3.1:8b',
      message: { role: 'assistant', content: 'WRONG q7' },
      done: true,
      done_reason: 'stop',
    });
    expect(r).toMatchObject({ prompt_eval_count: 1, eval_count: 2 });
    expect(r.total_duration).toBeGreaterThan(0);
    expect(r.load_duration + r.prompt_eval_duration + r.eval_duration).toBe(r.total_duration);
  });

  it('chat streaming yields partial messages, then a done line with the counts', async () => {
    const parts = [];
    for await (const part of await ollama.chat({ model: 'qwen3', messages: user('tell me'), stream: true }))
      parts.push(part);
    expect(parts.map((p) => p.message.content).join('')).toBe('Simulated answer from qwen3.');
    expect(parts.slice(0, -1).every((p) => !p.done)).toBe(true);
    expect(parts.at(-1)).toMatchObject({ done: true, done_reason: 'stop', eval_count: 7, prompt_eval_count: 2 });
  });

  it('streams by default when the request omits `stream` (as Ollama does)', async () => {
    const res = await fetch(`${sim.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({ model: 'qwen3', messages: user('x') }),
    });
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { done: boolean });
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.at(-1)?.done).toBe(true);
  });

  it('honours options.num_predict and options.stop; `qwen3:latest` is `qwen3`', async () => {
    const short = await ollama.chat({
      model: 'qwen3:latest',
      messages: user('x'),
      stream: false,
      options: { num_predict: 2 },
    });
    expect(short).toMatchObject({
      model: 'qwen3:latest',
      message: { content: 'Simulate' },
      done_reason: 'length',
      eval_count: 2,
    });
    const cut = await ollama.chat({
      model: 'qwen3',
      messages: user('x'),
      stream: false,
      options: { stop: ['answer'] },
    });
    expect(cut).toMatchObject({ message: { content: 'Simulated ' }, done_reason: 'stop' });
  });

  it('rejects an unknown model with ResponseError 404 "not found"', async () => {
    const err = await ollama
      .chat({ model: 'mistral:7b', messages: user('q1'), stream: false })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ResponseError', status_code: 404 });
    expect((err as Error).message).toContain('model "mistral:7b" not found');
  });
});

describe('deterministic correctness', () => {
  const prompts = Array.from({ length: 1000 }, (_, i) => `q${i}: what is ${i} squared?`);
  const model: SimModel = { name: 'open-7b', accuracy: 0.7 };

  async function answers(seed: number, n = prompts.length): Promise<boolean[]> {
    return withSim([model], seed, async (sim) => {
      const client = openai(sim);
      return mapLimit(prompts.slice(0, n), 32, async (p) => {
        const r = await client.chat.completions.create({ model: 'open-7b', messages: user(p) });
        return r.choices[0].message.content === `RIGHT ${p}`;
      });
    });
  }

  it('accuracy 0.7 over 1,000 prompts: about 70% correct, the same prompts every run', async () => {
    const first = await answers(42);
    const correct = first.filter(Boolean).length;
    expect(correct / prompts.length).toBeGreaterThan(0.65);
    expect(correct / prompts.length).toBeLessThan(0.75);
    expect(await answers(42)).toEqual(first);
    expect(await answers(43, 100)).not.toEqual(first.slice(0, 100));
  });

  it('the same prompt twice gets the same answer; a request seed is mixed in', async () => {
    await withSim([model], 7, async (sim) => {
      const client = openai(sim);
      const ask = async (p: string, seed?: number) =>
        (await client.chat.completions.create({ model: 'open-7b', messages: user(p), seed })).choices[0].message
          .content;
      expect(await ask('q-same')).toBe(await ask('q-same'));
      const seeded = await Promise.all(prompts.slice(0, 40).map((p) => ask(p, 1)));
      expect(await Promise.all(prompts.slice(0, 40).map((p) => ask(p, 1)))).toEqual(seeded);
      expect(await Promise.all(prompts.slice(0, 40).map((p) => ask(p, 2)))).not.toEqual(seeded);
    });
  });
});

describe('faults', () => {
  const flaky: SimModel = { name: 'flaky', faults: { error500: 0.1, error503: 0.05, reset: 0.05, malformed: 0.1 } };

  /** Sends requests one at a time, so the outcome sequence is the model's fault stream. */
  async function outcomes(seed: number, n: number): Promise<{ seq: string[]; stats: Record<string, number> }> {
    return withSim([flaky], seed, async (sim) => {
      const client = openai(sim);
      const seq: string[] = [];
      for (let i = 0; i < n; i++) {
        try {
          const r = await client.chat.completions.create({ model: 'flaky', messages: user('q-the-same-prompt') });
          seq.push(r.choices.length === 0 ? 'malformed' : 'ok');
        } catch (e) {
          if (e instanceof OpenAI.APIConnectionError) seq.push('reset');
          else if (e instanceof OpenAI.APIError) seq.push(String(e.status));
          else seq.push('malformed');
        }
      }
      const s = sim.stats().byModel.flaky;
      return { seq, stats: { ok: s.ok, ...s.faults } };
    });
  }

  it('fault fractions are honoured over 2,000 requests, and a seed fixes the sequence', async () => {
    const a = await outcomes(5, 2000);
    const frac = (label: string) => a.seq.filter((x) => x === label).length / a.seq.length;
    expect(frac('500')).toBeCloseTo(0.1, 1);
    expect(frac('503')).toBeCloseTo(0.05, 1);
    expect(frac('reset')).toBeCloseTo(0.05, 1);
    expect(frac('malformed')).toBeCloseTo(0.1, 1);
    expect(frac('ok')).toBeCloseTo(0.7, 1);
    expect(a.stats).toEqual({
      ok: a.seq.filter((x) => x === 'ok').length,
      error500: a.seq.filter((x) => x === '500').length,
      error503: a.seq.filter((x) => x === '503').length,
      reset: a.seq.filter((x) => x === 'reset').length,
      hang: 0,
      malformed: a.seq.filter((x) => x === 'malformed').length,
      cut: 0,
      garbage: 0,
      stall: 0,
    });
    const b = await outcomes(5, 400);
    expect(b.seq).toEqual(a.seq.slice(0, 400));
  });

  it('faults are drawn per request, not per prompt, so a retry of the same prompt can succeed', async () => {
    const { seq } = await outcomes(9, 40);
    expect(new Set(seq).has('ok')).toBe(true);
    expect(seq.some((x) => x !== 'ok')).toBe(true);
  });
});

describe('in-flight tracking', () => {
  it('records the highest number of concurrent requests per model', async () => {
    await withSim([{ name: 'slow', latencyMs: 50 }, { name: 'idle' }], 0, async (sim) => {
      const client = openai(sim);
      const call = () => client.chat.completions.create({ model: 'slow', messages: user('q1') });
      await Promise.all(Array.from({ length: 8 }, call));
      expect(sim.stats().maxInFlight).toEqual({ slow: 8, idle: 0 });
      sim.resetStats();
      await mapLimit(
        Array.from({ length: 12 }, (_, i) => i),
        3,
        call,
      );
      const s = sim.stats();
      expect(s.maxInFlight.slow).toBe(3);
      expect(s.inFlight).toBe(0);
      expect(s.byModel.slow).toMatchObject({ requests: 12, ok: 12 });
    });
  });

  it('reports the mean latency of each model from arrival to answer, not systematically early', async () => {
    await withSim([{ name: 'l20', latencyMs: 20 }], 0, async (sim) => {
      expect(sim.stats().byModel.l20.meanLatencyMs).toBeNaN();
      const client = openai(sim);
      await mapLimit(
        Array.from({ length: 64 }, (_, i) => i),
        8,
        () => client.chat.completions.create({ model: 'l20', messages: user('q1') }),
      );
      const mean = sim.stats().byModel.l20.meanLatencyMs;
      // Timers are set early by their measured lateness, so the mean sits on the configured value
      // (an upper bound would only measure this machine's load).
      expect(mean).toBeGreaterThan(19);
    });
  });

  it('paces streams at tokensPerSecond without changing their content', async () => {
    await withSim([{ name: 'paced', tokensPerSecond: 400 }], 0, async (sim) => {
      const stream = await openai(sim).chat.completions.create({
        model: 'paced',
        messages: user('hello there'),
        stream: true,
      });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      expect(text).toBe('Simulated answer from paced.');
    });
  });
});

describe('answerKeyFromCases', () => {
  const base = { category: 'test', vars: {} };
  const cases: Case[] = [
    { ...base, id: 'n1', prompt: 'How many?', expected: 42, grader: { type: 'numeric' } },
    { ...base, id: 'c1', prompt: 'Pick one', expected: 'C', grader: { type: 'choice' } },
    { ...base, id: 'e1', prompt: 'Capital of France?', expected: ['Paris', 'paris'], grader: { type: 'contains' } },
    { ...base, id: 'j1', prompt: 'As JSON', expected: { name: 'Ada', age: 36 }, grader: { type: 'json' } },
    {
      ...base,
      id: 'x1',
      prompt: 'Hand-written',
      expected: 1,
      grader: { type: 'numeric' },
      examples: { pass: ['one'], fail: ['two'] },
    },
    { ...base, id: 'not', prompt: 'Avoid the word', expected: 'banana', grader: { type: 'contains', not: true } },
    {
      ...base,
      id: 'all',
      prompt: 'Name both',
      expected: ['Paris', 'France'],
      grader: { type: 'contains', mode: 'all' },
    },
    { ...base, id: 'val', prompt: 'Sky colour?', grader: { type: 'exact', value: 'blue' } },
  ];
  const key = answerKeyFromCases(cases);

  it('derives realistic answers from expected and the grader type', () => {
    const n = key.lookup('How many?');
    expect(n?.correct).toMatch(/(The answer is 42\.|#### 42|"answer":42|\\boxed\{42\})/);
    expect(n?.wrong).not.toMatch(/\b42\b/);
    expect(key.lookup('Pick one')?.correct).toMatch(/^(Answer: C|\(C\)|\*\*C\*\*|The answer is C\.)$/);
    expect(key.lookup('Pick one')?.wrong).not.toContain('C');
    expect(key.lookup('Capital of France?')).toEqual({ correct: 'Paris', wrong: 'I am not sure.' });
    expect(key.lookup('Name both')?.correct).toBe('Paris, France');
    expect(key.lookup('Sky colour?')?.correct).toBe('blue');
    const j = key.lookup('As JSON');
    expect(JSON.parse(j!.correct.replace(/^```json\n|\n```$/g, ''))).toEqual({ name: 'Ada', age: 36 });
    expect(JSON.parse(j!.wrong.replace(/^```json\n|\n```$/g, ''))).not.toEqual({ name: 'Ada', age: 36 });
  });

  it('prefers hand-written examples, swaps for negated graders, and skips unknown prompts', () => {
    expect(key.lookup('Hand-written')).toEqual({ correct: 'one', wrong: 'two' });
    expect(key.lookup('Avoid the word')).toEqual({ correct: 'I am not sure.', wrong: 'banana' });
    expect(key.lookup('Not a case')).toBeUndefined();
  });

  it('drives the simulator: accuracy 1 answers correctly, accuracy 0 wrongly', async () => {
    const sim = await startSimulator({
      models: [
        { name: 'good', accuracy: 1 },
        { name: 'bad', accuracy: 0 },
      ],
      answers: key,
    });
    try {
      const ask = async (model: string) =>
        (await openai(sim).chat.completions.create({ model, messages: user('Capital of France?') })).choices[0].message
          .content;
      expect(await ask('good')).toBe('Paris');
      expect(await ask('bad')).toBe('I am not sure.');
    } finally {
      await sim.close();
    }
  });
});

describe('parseSimModelSpec', () => {
  it('reads NAME[@key=value,...]; the name may hold a tag', () => {
    expect(
      parseSimModelSpec('llama3.1:8b@accuracy=0.7,latency=50,jitter=10,error500=0.05,hang=0.01,rpm=600,tps=40'),
    ).toEqual({
      name: 'llama3.1:8b',
      accuracy: 0.7,
      latencyMs: 50,
      jitterMs: 10,
      rpm: 600,
      tokensPerSecond: 40,
      faults: { error500: 0.05, hang: 0.01 },
    });
    expect(parseSimModelSpec('gpt-4o-mini')).toEqual({ name: 'gpt-4o-mini' });
  });

  it.each([
    ['m@speed=3', /unknown key "speed"/],
    ['m@accuracy=1.5', /accuracy must be a number from 0 to 1, got "1.5"/],
    ['m@latency=-1', /latency must be a number >= 0, got "-1"/],
    ['m@rpm=abc', /rpm must be a number > 0, got "abc"/],
    ['m@rpm', /rpm must be a number > 0, got ""/],
    ['@accuracy=1', /model name/],
    ['m@', /nothing after '@'/],
    ['m@error500=0.6,reset=0.6', /fault fractions add up to 1.2/],
  ])('rejects %s', (spec, message) => {
    expect(() => parseSimModelSpec(spec)).toThrow(SimSpecError);
    expect(() => parseSimModelSpec(spec)).toThrow(message);
  });

  it('startSimulator validates models the same way', async () => {
    await expect(startSimulator({ models: [{ name: 'm', accuracy: 2 }] })).rejects.toThrow(
      /accuracy must be a number from 0 to 1, got 2/,
    );
    await expect(startSimulator({ models: [{ name: 'm' }, { name: 'm' }] })).rejects.toThrow(/listed twice/);
  });
});
