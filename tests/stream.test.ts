/**
 * Streaming: answers come streamed through the real openai and ollama SDKs over real HTTP (the
 * simulator), with the time to first token, the first answer token after thinking, decode speed
 * and the local servers' own timings in each record; stream faults end as records of their kind.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorRecord, JobRecord, OkRecord } from '../src/journal/record.js';
import { SUMMARY_COLUMNS } from '../src/report/summary.js';
import { parseSimModelSpec, startSimulator, type Simulator } from '../src/sim/index.js';
import { cli, csvRows, numericAnswerKey, runRecords, suiteYaml, tempDir, withServer, writeFiles } from './helpers.js';

const cases = Array.from({ length: 6 }, (_, i) => ({ id: `q${i}`, prompt: `What is ${i} + 2?`, expected: i + 2 }));
const env = { OPENAI_API_KEY: 'k' };
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    seed: 2,
    answers: numericAnswerKey(cases),
    models: [
      // Thinks 40 tokens, first token 30 ms after arrival, 400 tokens/s.
      { name: 'thinker', accuracy: 1, reasoningTokens: 40, ttftMs: 30, tokensPerSecond: 400 },
      // DashScope's thinking-only models: stream=False is refused with HTTP 400.
      { name: 'qwq-sim', accuracy: 1, reasoningTokens: 8, streamOnly: true },
      { name: 'cold:8b', accuracy: 1, loadMs: 600 },
      { name: 'llamacpp', accuracy: 1, llamaTimings: true, tokensPerSecond: 2000 },
      { name: 'cut', accuracy: 1, faults: { cut: 1 } },
      { name: 'garbage', accuracy: 1, faults: { garbage: 1 } },
      { name: 'stall', accuracy: 1, faults: { stall: 1 } },
      { name: 'plain', accuracy: 1 },
    ],
  });
});
afterAll(() => sim.close());

/** Runs the suite against the models (YAML flow entries) and returns the run directory. */
async function run(models: string[], runId: string, extra: string[] = []) {
  const dir = tempDir();
  writeFiles(dir, {
    's.yaml': suiteYaml('s', cases),
    'gapbench.config.yaml': ['models:', ...models.map((m) => `  - ${m}`)].join('\n'),
  });
  const r = await cli(['run', '--suite', 's.yaml', '--run-id', runId, '--quiet', ...extra], { cwd: dir, env });
  return { ...r, dir: join(dir, 'results', runId), cwd: dir };
}

const oa = (id: string, model: string, more = '') =>
  `{ id: ${id}, provider: openai, model: ${model}, baseURL: "${sim.openaiBaseURL}", group: closed${more} }`;
const ol = (id: string, model: string, more = '') =>
  `{ id: ${id}, provider: ollama, model: "${model}", host: "${sim.ollamaHost}"${more} }`;
const byModel = (recs: JobRecord[], id: string) => recs.filter((r) => r.model === id);

describe('streamed answers', () => {
  it('record the time to first token, to the first answer token after thinking, and decode speed, on both protocols', async () => {
    const r = await run([oa('oa', 'thinker'), ol('ol', 'thinker', ', concurrency: 3')], 'think');
    expect(r.code).toBe(0);
    const recs = runRecords(r.dir);
    expect(recs).toHaveLength(12);
    for (const rec of recs) {
      expect(rec.status).toBe('ok');
      const ok = rec as OkRecord;
      // Thinking came first, streamed as reasoning_content / thinking, and is kept beside the answer.
      expect(ok.reasoning).toMatch(/^think think/);
      expect(ok.ttft_ms).toBeGreaterThan(0);
      expect(ok.ttft_content_ms).toBeGreaterThan(ok.ttft_ms!);
      expect(ok.latency_ms).toBeGreaterThanOrEqual(ok.ttft_content_ms!);
      // Absent only when every token arrived in one burst (a client held up by a busy machine).
      if (ok.decode_tps !== undefined) expect(ok.decode_tps).toBeGreaterThan(0);
      expect(ok.grade.passed).toBe(true);
    }
    for (const id of ['oa', 'ol']) expect(byModel(recs, id).some((x) => x.decode_tps! > 0)).toBe(true);
    // Ollama reports its own durations with the done line.
    for (const ok of byModel(recs, 'ol') as OkRecord[]) {
      expect(ok.eval_ms).toBeGreaterThan(0);
      expect(ok.prompt_eval_ms).toBeGreaterThan(0);
      expect(ok.cold_load).toBeUndefined();
    }
    const rows = csvRows(join(r.dir, 'summary.csv'));
    // New columns come after every column summary.csv had before.
    expect(Object.keys(rows[0]).slice(-5)).toEqual([
      'ttft_p50_ms',
      'ttft_p95_ms',
      'ttft_content_p50_ms',
      'decode_tokens_per_s',
      'cold_loads',
    ]);
    expect(Object.keys(rows[0])).toEqual([...SUMMARY_COLUMNS]);
    for (const row of rows) {
      expect(Number(row.ttft_p50_ms)).toBeGreaterThan(0);
      expect(Number(row.ttft_p95_ms)).toBeGreaterThanOrEqual(Number(row.ttft_p50_ms));
      expect(Number(row.ttft_content_p50_ms)).toBeGreaterThan(Number(row.ttft_p50_ms));
      expect(Number(row.decode_tokens_per_s)).toBeGreaterThan(0);
    }
  });

  it('stream: false asks for whole answers (no time to first token); a streaming-only model then says what to do', async () => {
    const r = await run(
      [oa('whole', 'plain', ', stream: false'), oa('qwq', 'qwq-sim'), oa('qwq-whole', 'qwq-sim', ', stream: false')],
      'nostream',
    );
    const recs = runRecords(r.dir);
    for (const rec of byModel(recs, 'whole')) {
      expect(rec.status).toBe('ok');
      expect(rec.ttft_ms).toBeUndefined();
    }
    // Streamed by default, the thinking-only model answers every case.
    expect(byModel(recs, 'qwq').every((x) => x.status === 'ok' && x.grade.passed && x.ttft_ms! > 0)).toBe(true);
    const refused = byModel(recs, 'qwq-whole') as ErrorRecord[];
    expect(refused.every((x) => x.status === 'error' && x.error.kind === 'bad_request')).toBe(true);
    expect(refused[0].error.message).toMatch(/stream=False.*remove stream: false/);
  });

  it('a stream cut before its end, garbage in a stream and a stream that stalls are error records of their kind; the run goes on', async () => {
    const r = await run(
      [
        oa('cut', 'cut', ', maxRetries: 1'),
        ol('cut-ol', 'cut', ', maxRetries: 1, concurrency: 6'),
        oa('garbage', 'garbage', ', maxRetries: 0'),
        ol('garbage-ol', 'garbage', ', maxRetries: 0, concurrency: 6'),
        oa('stall', 'stall', ', maxRetries: 0, timeoutMs: 300'),
        oa('fine', 'plain'),
      ],
      'faults',
    );
    // Exit 1: models that answered nothing fail the run's own check; every job still has its record.
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/FAIL cut answered none of its 6 jobs/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // The SDKs' own logging of unparseable chunks (the model's text) never reaches the terminal.
    expect(r.stdout + r.stderr).not.toMatch(/garbled|Could not parse|invalid json/);
    const recs = runRecords(r.dir);
    expect(recs).toHaveLength(36);
    const kinds = (id: string) => new Set((byModel(recs, id) as ErrorRecord[]).map((x) => x.error?.kind));
    expect(kinds('cut')).toEqual(new Set(['stream_incomplete']));
    expect(kinds('cut-ol')).toEqual(new Set(['stream_incomplete']));
    // Retried like a dropped connection: two attempts each.
    expect(byModel(recs, 'cut').every((x) => x.attempts === 2)).toBe(true);
    expect(kinds('garbage')).toEqual(new Set(['bad_response']));
    expect(kinds('garbage-ol')).toEqual(new Set(['bad_response']));
    expect(kinds('stall')).toEqual(new Set(['timeout']));
    expect(byModel(recs, 'fine').every((x) => x.status === 'ok')).toBe(true);
    // A cut stream counts as a wrong answer (a user got none), unlike a refused request.
    const cut = csvRows(join(r.dir, 'summary.csv')).find((x) => x.model === 'cut')!;
    expect([cut.n, cut.errors, cut.excluded]).toEqual(['6', '6', '0']);
  });

  it("Ollama's cold load is flagged on its answer and left out of latency; llama.cpp's timings are recorded", async () => {
    const r = await run(
      [ol('cold', 'cold:8b'), oa('lcpp', 'llamacpp'), oa('lcpp-whole', 'llamacpp', ', stream: false')],
      'timings',
    );
    expect(r.code).toBe(0);
    const recs = runRecords(r.dir);
    const cold = byModel(recs, 'cold') as OkRecord[];
    const loaded = cold.filter((x) => x.cold_load);
    // Only the first request found the model out of memory.
    expect(loaded).toHaveLength(1);
    expect(loaded[0].load_ms).toBeGreaterThanOrEqual(500);
    expect(cold.filter((x) => !x.cold_load).every((x) => x.load_ms! < 500)).toBe(true);
    const row = csvRows(join(r.dir, 'summary.csv')).find((x) => x.model === 'cold')!;
    expect(row.cold_loads).toBe('1');
    // The load is not in the latency: the slowest answer's latency less its load is the p95 bound.
    expect(Number(row.latency_p95_ms)).toBeLessThan(loaded[0].latency_ms);
    for (const id of ['lcpp', 'lcpp-whole']) {
      for (const x of byModel(recs, id) as OkRecord[]) {
        expect(x.prompt_eval_ms).toBeGreaterThan(0);
        expect(x.eval_ms).toBeGreaterThan(0);
      }
    }
  });

  it('a streamed body over maxResponseBytes is response_too_large; an error event mid-stream is a server error; a server that ignores stream: true still answers', async () => {
    await withServer(
      (req, res) => {
        req.resume();
        req.on('end', () => {
          if (req.url!.startsWith('/json/')) {
            res.writeHead(200, { 'content-type': 'application/json' });
            const answer = {
              index: 0,
              message: { role: 'assistant', content: 'The answer is 2.' },
              finish_reason: 'stop',
            };
            return res.end(JSON.stringify({ id: 'x', object: 'chat.completion', choices: [answer] }));
          }
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          if (req.url!.startsWith('/err/')) {
            res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'The' } }] })}\n\n`);
            return res.end(`data: ${JSON.stringify({ error: { message: 'Overloaded', type: 'server_error' } })}\n\n`);
          }
          const chunk = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'x'.repeat(4000) } }] })}\n\n`;
          const pump = () => {
            while (res.write(chunk));
          };
          res.on('drain', pump);
          pump();
        });
      },
      async (port) => {
        const r = await run(
          [
            `{ id: endless, provider: openai, model: m, baseURL: "http://127.0.0.1:${port}/sse/v1", group: closed, maxRetries: 0, maxResponseBytes: 200000 }`,
            `{ id: json, provider: openai, model: m, baseURL: "http://127.0.0.1:${port}/json/v1", group: closed }`,
            `{ id: midway, provider: openai, model: m, baseURL: "http://127.0.0.1:${port}/err/v1", group: closed, maxRetries: 0 }`,
          ],
          'bounded',
        );
        const recs = runRecords(r.dir);
        const endless = byModel(recs, 'endless') as ErrorRecord[];
        expect(endless.every((x) => x.error.kind === 'response_too_large')).toBe(true);
        expect(endless[0].error.message).toMatch(/response body over 200000 bytes/);
        // An error event in the middle of a stream is the server's failure (retried), with its message.
        const midway = byModel(recs, 'midway') as ErrorRecord[];
        expect(midway.every((x) => x.error.kind === 'server')).toBe(true);
        expect(midway[0].error.message).toMatch(/the server stopped the answer: Overloaded/);
        expect(
          byModel(recs, 'json').every((x) => x.status === 'ok' && (x as OkRecord).output === 'The answer is 2.'),
        ).toBe(true);
      },
    );
  });
});

describe('bad input', () => {
  it('stream: true on a protocol that cannot stream is one line naming the file, line and model; nothing is sent', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      's.yaml': suiteYaml('s', cases),
      'out.jsonl': '',
      'gapbench.config.yaml': `models:\n  - { id: a, provider: openai, model: plain, baseURL: "${sim.openaiBaseURL}" }\n  - { id: r, provider: replay, model: out.jsonl, group: open, stream: true }\n`,
    });
    const before = sim.stats().requests;
    const r = await cli(['run', '--suite', 's.yaml', '--quiet'], { cwd: dir, env });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/gapbench\.config\.yaml:3: .*model 'r': the replay protocol cannot stream/);
    expect(sim.stats().requests).toBe(before);
    // In defaults it applies where it can: replay models are not refused.
    writeFiles(dir, {
      'gapbench.config.yaml': `defaults: { stream: true }\nmodels:\n  - { id: r, provider: replay, model: out.jsonl, group: open }\n`,
    });
    expect((await cli(['validate'], { cwd: dir, env })).stderr).not.toMatch(/cannot stream/);
  });

  it('simulator specs take ttft, load, streamonly, timings and the stream faults, and refuse bad values', () => {
    expect(parseSimModelSpec('m@ttft=200,load=900,streamonly=1,timings=1,cut=0.1,garbage=0.1,stall=0.1')).toEqual({
      name: 'm',
      ttftMs: 200,
      loadMs: 900,
      streamOnly: true,
      llamaTimings: true,
      faults: { cut: 0.1, garbage: 0.1, stall: 0.1 },
    });
    expect(() => parseSimModelSpec('m@streamonly=2')).toThrow(/streamonly must be 0 or 1, got "2"/);
    expect(() => parseSimModelSpec('m@ttft=-1')).toThrow(/ttft must be a number >= 0/);
  });
});
