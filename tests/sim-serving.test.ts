/**
 * The simulator's serving model (docs/simulator.md): its keys, its FIFO queue beyond the slots,
 * prefill growing with the prompt, and answers padded to a fixed length; through the openai SDK.
 */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { parseSimModelSpec, startSimulator } from '../src/sim/index.js';

describe('sim serving model', () => {
  it('checks its keys together, one line naming the key', () => {
    expect(parseSimModelSpec('m@slots=4,tps=50,peaktps=300,prefill=20,out=64')).toMatchObject({
      slots: 4,
      tokensPerSecond: 50,
      peakTps: 300,
      prefillMsPer1k: 20,
      outputTokens: 64,
    });
    expect(() => parseSimModelSpec('m@slots=2')).toThrow(/slots needs tokensPerSecond \(tps\)/);
    expect(() => parseSimModelSpec('m@slots=1.5,tps=10')).toThrow(/slots must be a whole number >= 1, got "1.5"/);
    expect(() => parseSimModelSpec('m@slots=2,tps=100,peaktps=50')).toThrow(/peakTps \(50\) must be at least/);
    expect(() => parseSimModelSpec('m@tps=100,prefill=5')).toThrow(/need slots/);
  });

  it('queues requests beyond its slots first in, first out, and pads answers to `out` tokens', async () => {
    const sim = await startSimulator({
      models: [{ name: 'one', slots: 1, tokensPerSecond: 2000, outputTokens: 30, latencyMs: 5 }],
    });
    try {
      const client = new OpenAI({ baseURL: sim.openaiBaseURL, apiKey: 'k', maxRetries: 0 });
      const done: number[] = [];
      await Promise.all(
        [0, 1, 2, 3].map(async (i) => {
          // Sent in order: each waits for the one slot.
          await new Promise((r) => setTimeout(r, i * 2));
          const s = await client.chat.completions.create({
            model: 'one',
            messages: [{ role: 'user', content: `q${i}` }],
            stream: true,
            stream_options: { include_usage: true },
          });
          let tokens = 0;
          for await (const c of s) tokens = c.usage?.completion_tokens ?? tokens;
          expect(tokens).toBe(30);
          done.push(i);
        }),
      );
      expect(done).toEqual([0, 1, 2, 3]);
      expect(sim.stats().maxInFlight.one).toBe(4);
    } finally {
      await sim.close();
    }
  });

  it('reads a longer prompt longer before the first token (prefill)', async () => {
    const sim = await startSimulator({
      models: [{ name: 'p', slots: 4, tokensPerSecond: 1000, prefillMsPer1k: 400 }],
    });
    try {
      const client = new OpenAI({ baseURL: sim.openaiBaseURL, apiKey: 'k', maxRetries: 0 });
      const ttft = async (content: string) => {
        const t0 = performance.now();
        const s = await client.chat.completions.create({
          model: 'p',
          messages: [{ role: 'user', content }],
          stream: true,
        });
        let first = NaN;
        for await (const c of s)
          if (Number.isNaN(first) && c.choices[0]?.delta?.content) first = performance.now() - t0;
        return first;
      };
      // About 1,000 tokens more: 400 ms more prefill, far beyond any timer's error.
      const short = await ttft('hi');
      const long = await ttft('word '.repeat(800));
      expect(long - short).toBeGreaterThan(200);
    } finally {
      await sim.close();
    }
  });
});
