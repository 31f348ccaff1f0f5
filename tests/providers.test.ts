import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../src/config/config.js';
import { ProviderError } from '../src/errors.js';
import { createProvider } from '../src/providers/index.js';
import { answerKeyFromCases, startSimulator, type Simulator } from '../src/sim/index.js';
import type { Case, ChatRequest } from '../src/types.js';

const cases: Case[] = [
  { id: 'a', prompt: 'What is 6 times 7?', expected: '42', category: 'math', grader: { type: 'numeric' }, vars: {} },
];

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    seed: 3,
    answers: answerKeyFromCases(cases),
    models: [
      { name: 'good', accuracy: 1 },
      { name: 'llama3.1:8b', accuracy: 1 },
      { name: 'boom', accuracy: 1, faults: { error500: 1 } },
      { name: 'reset', accuracy: 1, faults: { reset: 1 } },
      { name: 'hang', accuracy: 1, faults: { hang: 1 } },
      // One per protocol: a model's malformed replies alternate between two shapes.
      { name: 'garbage-openai', accuracy: 1, faults: { malformed: 1 } },
      { name: 'garbage-ollama', accuracy: 1, faults: { malformed: 1 } },
      { name: 'limited-openai', accuracy: 1, rpm: 1 },
      { name: 'limited-ollama', accuracy: 1, rpm: 1 },
    ],
  });
});
afterAll(() => sim.close());

function model(over: Partial<ModelConfig>): ModelConfig {
  return {
    id: `${over.provider}:${over.model}`,
    provider: 'openai',
    protocol: 'openai',
    model: 'good',
    group: 'closed',
    keyOptional: true,
    concurrency: 4,
    timeoutMs: 2000,
    maxRetries: 0,
    params: { temperature: 0 },
    cache: false,
    judgeOnly: false,
    ...over,
  };
}

const req = (timeoutMs = 2000): ChatRequest => ({
  messages: [{ role: 'user', content: 'What is 6 times 7?' }],
  params: { temperature: 0 },
  signal: AbortSignal.timeout(timeoutMs),
});

async function kindOf(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ProviderError);
    return e as ProviderError;
  }
  throw new Error('expected a ProviderError');
}

const env = { env: {}, cwd: process.cwd() };

describe.each([
  ['openai', () => ({ protocol: 'openai' as const, provider: 'openai', endpoint: sim.openaiBaseURL })],
  ['ollama', () => ({ protocol: 'ollama' as const, provider: 'ollama', endpoint: sim.ollamaHost })],
])('%s provider through the real SDK', (_, where) => {
  it('returns text, token usage, finish reason and latency', async () => {
    const p = createProvider(model({ ...where(), model: 'llama3.1:8b' }), env);
    const c = await p.complete(req());
    expect(c.text).toMatch(/42/);
    expect(c.inputTokens).toBeGreaterThan(0);
    expect(c.outputTokens).toBeGreaterThan(0);
    expect(c.finishReason).toBe('stop');
    expect(c.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('classifies an unknown model as not_found, naming the model', async () => {
    const e = await kindOf(createProvider(model({ ...where(), model: 'nope:1b' }), env).complete(req()));
    expect(e.kind).toBe('not_found');
    expect(e.message).toContain('nope:1b');
  });

  it.each([
    ['boom', 'server'],
    ['reset', 'network'],
    ['garbage', 'bad_response'],
  ])('classifies %s as %s', async (name, kind) => {
    const m = name === 'garbage' ? `garbage-${where().protocol}` : name;
    const e = await kindOf(createProvider(model({ ...where(), model: m }), env).complete(req()));
    expect(e.kind).toBe(kind);
  });

  it('a request that hangs is aborted by its timeout and classified as timeout', async () => {
    const e = await kindOf(createProvider(model({ ...where(), model: 'hang' }), env).complete(req(300)));
    expect(e.kind).toBe('timeout');
  });

  it('a 429 is rate_limit with the server retry-after', async () => {
    const p = createProvider(model({ ...where(), model: `limited-${where().protocol}` }), env);
    await p.complete(req());
    const e = await kindOf(p.complete(req()));
    expect(e.kind).toBe('rate_limit');
    expect(e.retryAfterMs).toBeGreaterThan(0);
  });
});

describe('provider specifics', () => {
  it('ollama names the missing model and the pull command', async () => {
    const e = await kindOf(
      createProvider(
        model({ protocol: 'ollama', provider: 'ollama', endpoint: sim.ollamaHost, model: 'qwen9:1b' }),
        env,
      ).complete(req()),
    );
    expect(e.message).toMatch(/ollama pull qwen9:1b/);
  });

  it('a refused connection is a network error that says where', async () => {
    const port = await freePort();
    const e = await kindOf(
      createProvider(
        model({ protocol: 'ollama', provider: 'ollama', endpoint: `http://127.0.0.1:${port}`, model: 'x' }),
        env,
      ).complete(req()),
    );
    expect(e.kind).toBe('network');
    expect(e.message).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}.*ECONNREFUSED.*ollama serve`));
    const o = await kindOf(createProvider(model({ endpoint: `http://127.0.0.1:${port}/v1` }), env).complete(req()));
    expect(o.kind).toBe('network');
  });

  it('a wrong key is auth, and the key never appears in the message', async () => {
    const locked = await startSimulator({ port: 0, models: [{ name: 'good' }], apiKey: 'right-key-123' });
    try {
      const m = model({ endpoint: locked.openaiBaseURL, keyOptional: false, apiKeyEnv: 'K' });
      const e = await kindOf(createProvider(m, { env: { K: 'sk-wrong-secret-987654' }, cwd: '.' }).complete(req()));
      expect(e.kind).toBe('auth');
      expect(e.message).not.toContain('sk-wrong-secret-987654');
      expect(e.message).toMatch(/check K/);
      // The status once: "HTTP 401: <server's message>", not "HTTP 401: 401 ...".
      expect(e.message).toMatch(/HTTP 401: (?!401)/);
      const ok = await createProvider(m, { env: { K: 'right-key-123' }, cwd: '.' }).complete(req());
      expect(ok.text.length).toBeGreaterThan(0);
    } finally {
      await locked.close();
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}
