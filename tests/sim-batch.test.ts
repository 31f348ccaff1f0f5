/**
 * The simulator's OpenAI Files + Batches API, driven through the real `openai` SDK over loopback:
 * upload a JSONL file, create a batch, poll it, read the output and error files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI, { toFile } from 'openai';
import { SimSpecError, startSimulator, type AnswerKey, type SimOptions, type Simulator } from '../src/sim/index.js';
import { cli, tempDir } from './helpers.js';

const rightWrong: AnswerKey = {
  lookup: (p) => (p.startsWith('q') ? { correct: `RIGHT answer to ${p}`, wrong: `WRONG answer to ${p}` } : undefined),
};

type Batch = OpenAI.Batches.Batch;
interface OutLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: Record<string, any> } | null;
  error: { code: string; message: string } | null;
}

const FINAL = ['completed', 'failed', 'expired', 'cancelled'];
const ORDER = ['validating', 'in_progress', 'finalizing', 'completed'];

function chatLine(customId: string, prompt: string, body: Record<string, unknown> = {}) {
  return {
    custom_id: customId,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: 'gpt-sim', messages: [{ role: 'user', content: prompt }], ...body },
  };
}

const jsonl = (lines: unknown[]): string =>
  lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n';

async function withSim<T>(opts: Partial<SimOptions>, fn: (sim: Simulator, client: OpenAI) => Promise<T>): Promise<T> {
  const sim = await startSimulator({
    models: [{ name: 'gpt-sim', accuracy: 0.5 }],
    seed: 3,
    answers: rightWrong,
    ...opts,
  });
  try {
    return await fn(sim, new OpenAI({ baseURL: sim.openaiBaseURL, apiKey: opts.apiKey ?? 'k', maxRetries: 0 }));
  } finally {
    await sim.close();
  }
}

async function upload(client: OpenAI, lines: unknown[]): Promise<OpenAI.Files.FileObject> {
  return client.files.create({ file: await toFile(Buffer.from(jsonl(lines)), 'in.jsonl'), purpose: 'batch' });
}

async function startBatch(client: OpenAI, lines: unknown[], metadata?: Record<string, string>): Promise<Batch> {
  const file = await upload(client, lines);
  return client.batches.create({
    input_file_id: file.id,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
    metadata,
  });
}

/** Polls until the batch reaches a final status (or `until` says stop); returns it and the statuses seen. */
async function poll(client: OpenAI, id: string, until = (b: Batch) => FINAL.includes(b.status)) {
  const seen: string[] = [];
  const deadline = Date.now() + 10_000;
  for (;;) {
    const b = await client.batches.retrieve(id);
    if (seen.at(-1) !== b.status) seen.push(b.status);
    if (until(b)) return { batch: b, seen };
    if (Date.now() > deadline) throw new Error(`batch ${id} still ${b.status}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function lines(client: OpenAI, fileId: string | null | undefined): Promise<OutLine[]> {
  if (!fileId) return [];
  const text = await (await client.files.content(fileId)).text();
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as OutLine);
}

describe('a batch runs to completed with the live answers', () => {
  const prompts = Array.from({ length: 20 }, (_, i) => `q${i + 1}`);
  const bodies = prompts.map((p, i) => (i % 3 === 0 ? { max_tokens: 2 } : i % 3 === 1 ? { seed: 7 } : {}));
  let sim: Simulator;
  let client: OpenAI;
  let batch: Batch;
  let seen: string[];
  beforeAll(async () => {
    sim = await startSimulator({
      models: [{ name: 'gpt-sim', accuracy: 0.5 }],
      seed: 3,
      answers: rightWrong,
      batch: { delayMs: 80 },
    });
    client = new OpenAI({ baseURL: sim.openaiBaseURL, apiKey: 'k', maxRetries: 0 });
    const created = await startBatch(
      client,
      prompts.map((p, i) => chatLine(`c${i + 1}`, p, bodies[i])),
      { run: 'nightly' },
    );
    expect(created.status).toBe('validating');
    ({ batch, seen } = await poll(client, created.id));
  });
  afterAll(() => sim.close());

  it('goes validating -> in_progress -> finalizing -> completed, with its timestamps and counts', () => {
    expect(batch.status).toBe('completed');
    expect(seen.map((s) => ORDER.indexOf(s))).toEqual([...seen.map((s) => ORDER.indexOf(s))].sort());
    expect(batch).toMatchObject({
      object: 'batch',
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      error_file_id: null,
      errors: null,
      metadata: { run: 'nightly' },
      request_counts: { total: 20, completed: 20, failed: 0 },
    });
    expect(batch.id).toMatch(/^batch_/);
    for (const k of ['in_progress_at', 'finalizing_at', 'completed_at', 'expires_at'] as const) {
      expect(batch[k]).toBeGreaterThanOrEqual(batch.created_at);
    }
    expect(batch.failed_at).toBeNull();
  });

  it("writes OpenAI's output lines, each the same chat.completion a live request gets", async () => {
    const out = await lines(client, batch.output_file_id);
    expect(out).toHaveLength(20);
    // Not in input order (a seeded shuffle), yet every request answered once.
    expect(out.map((l) => l.custom_id)).not.toEqual(prompts.map((_, i) => `c${i + 1}`));
    expect(out.map((l) => l.custom_id).sort()).toEqual(prompts.map((_, i) => `c${i + 1}`).sort());
    let right = 0;
    for (const l of out) {
      expect(l.id).toMatch(/^batch_req_/);
      expect(l.error).toBeNull();
      expect(l.response?.status_code).toBe(200);
      expect(l.response?.request_id).toMatch(/^req_/);
      const i = Number(l.custom_id.slice(1)) - 1;
      const live = await client.chat.completions.create({
        model: 'gpt-sim',
        messages: [{ role: 'user', content: prompts[i] }],
        ...bodies[i],
      });
      const body = l.response!.body;
      expect(body.object).toBe('chat.completion');
      expect(body.model).toBe('gpt-sim');
      expect(body.choices[0].message.content).toBe(live.choices[0].message.content);
      expect(body.choices[0].finish_reason).toBe(live.choices[0].finish_reason);
      expect(body.usage).toEqual(live.usage);
      if (String(body.choices[0].message.content).startsWith('RIGHT')) right++;
    }
    // accuracy 0.5: both kinds of answer occur.
    expect(right).toBeGreaterThan(0);
    expect(right).toBeLessThan(out.length);
  });

  it('counts batches and uploads in stats(), apart from live chat requests', () => {
    const s = sim.stats();
    expect(s.batches).toEqual({ created: 1, completed: 1, failed: 0, expired: 0, cancelled: 0 });
    expect(s.files).toEqual({ uploaded: 1 });
    // Only the live comparison requests above reached the chat route.
    expect(s.byModel['gpt-sim'].requests).toBe(20);
  });

  it('serves the files: metadata, raw content, delete, and 404 for unknown ids', async () => {
    const input = await client.files.retrieve(batch.input_file_id);
    expect(input).toMatchObject({ object: 'file', purpose: 'batch', status: 'processed', filename: 'in.jsonl' });
    const text = await (await client.files.content(input.id)).text();
    expect(text).toBe(jsonl(prompts.map((p, i) => chatLine(`c${i + 1}`, p, bodies[i]))));
    expect(input.bytes).toBe(Buffer.byteLength(text));
    const output = await client.files.retrieve(batch.output_file_id!);
    expect(output.purpose).toBe('batch_output');
    expect(await client.files.delete(output.id)).toEqual({ id: output.id, object: 'file', deleted: true });
    await expect(client.files.retrieve(output.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(client.files.content('file-nope')).rejects.toMatchObject({
      status: 404,
      type: 'invalid_request_error',
    });
    await expect(client.batches.retrieve('batch_nope')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });
});

describe('request-level failures go to the error file', () => {
  it('failEvery: every k-th line gets a 500 line; a bad request body gets a 400 line', async () => {
    await withSim({ batch: { delayMs: 30, failEvery: 3 } }, async (sim, client) => {
      const input = Array.from({ length: 9 }, (_, i) => chatLine(`c${i + 1}`, `q${i + 1}`));
      input.push({
        custom_id: 'c10',
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: 'gpt-sim' },
      } as never);
      const { batch } = await poll(client, (await startBatch(client, input)).id);
      expect(batch.status).toBe('completed');
      expect(batch.request_counts).toEqual({ total: 10, completed: 6, failed: 4 });
      const errs = await lines(client, batch.error_file_id);
      expect(errs.map((l) => l.custom_id).sort()).toEqual(['c10', 'c3', 'c6', 'c9']);
      for (const l of errs) {
        expect(l.error).toBeNull();
        const want = l.custom_id === 'c10' ? 400 : 500;
        expect(l.response?.status_code).toBe(want);
        expect(l.response?.body.error.type).toBe(want === 400 ? 'invalid_request_error' : 'server_error');
      }
      const out = await lines(client, batch.output_file_id);
      expect(out.map((l) => l.custom_id).sort()).toEqual(['c1', 'c2', 'c4', 'c5', 'c7', 'c8']);
      expect(sim.stats().batches.completed).toBe(1);
    });
  });
});

describe('expiry, cancel and list', () => {
  it('an expired batch keeps what finished; the rest are batch_expired, each custom_id once', async () => {
    await withSim({ batch: { delayMs: 600, expireAfterMs: 250 } }, async (sim, client) => {
      const ids = Array.from({ length: 40 }, (_, i) => `c${i + 1}`);
      const { batch } = await poll(
        client,
        (
          await startBatch(
            client,
            ids.map((id) => chatLine(id, id)),
          )
        ).id,
      );
      expect(batch.status).toBe('expired');
      expect(batch.expired_at).not.toBeNull();
      const out = await lines(client, batch.output_file_id);
      const errs = await lines(client, batch.error_file_id);
      expect(out.length).toBeGreaterThan(0);
      expect(errs.length).toBeGreaterThan(0);
      for (const l of errs) {
        expect(l.response).toBeNull();
        expect(l.error?.code).toBe('batch_expired');
      }
      expect([...out, ...errs].map((l) => l.custom_id).sort()).toEqual([...ids].sort());
      expect(batch.request_counts).toEqual({ total: 40, completed: out.length, failed: errs.length });
      expect(sim.stats().batches.expired).toBe(1);
    });
  });

  it('a batch that expires before validation ends has every line batch_expired', async () => {
    await withSim({ batch: { delayMs: 500, expireAfterMs: 0 } }, async (_sim, client) => {
      const { batch } = await poll(client, (await startBatch(client, [chatLine('a', 'q1'), chatLine('b', 'q2')])).id);
      expect(batch).toMatchObject({ status: 'expired', output_file_id: null });
      expect(batch.request_counts).toEqual({ total: 2, completed: 0, failed: 2 });
      const errs = await lines(client, batch.error_file_id);
      expect(errs.map((l) => [l.custom_id, l.error?.code]).sort()).toEqual([
        ['a', 'batch_expired'],
        ['b', 'batch_expired'],
      ]);
    });
  });

  it('cancel: cancelling, then cancelled with the finished lines only; a finished batch cannot be cancelled', async () => {
    await withSim({ batch: { delayMs: 500 } }, async (sim, client) => {
      const ids = Array.from({ length: 30 }, (_, i) => `c${i + 1}`);
      const created = await startBatch(
        client,
        ids.map((id) => chatLine(id, id)),
      );
      await poll(client, created.id, (b) => (b.request_counts?.completed ?? 0) > 0);
      const cancelling = await client.batches.cancel(created.id);
      expect(cancelling.status).toBe('cancelling');
      expect(cancelling.cancelling_at).not.toBeNull();
      const { batch } = await poll(client, created.id);
      expect(batch.status).toBe('cancelled');
      expect(batch.cancelled_at).not.toBeNull();
      const out = await lines(client, batch.output_file_id);
      expect(out.length).toBe(batch.request_counts!.completed);
      expect(out.length).toBeLessThan(30);
      expect(batch.error_file_id).toBeNull();
      expect((await client.batches.cancel(created.id)).status).toBe('cancelled');
      expect(sim.stats().batches.cancelled).toBe(1);
    });
    await withSim({ batch: { delayMs: 0 } }, async (_sim, client) => {
      const { batch } = await poll(client, (await startBatch(client, [chatLine('a', 'q1')])).id);
      expect(batch.status).toBe('completed');
      await expect(client.batches.cancel(batch.id)).rejects.toBeInstanceOf(OpenAI.ConflictError);
    });
  });

  it('lists batches newest first, in pages with has_more / first_id / last_id', async () => {
    await withSim({ batch: { delayMs: 10_000 } }, async (sim, client) => {
      const made: string[] = [];
      for (let i = 0; i < 3; i++) made.push((await startBatch(client, [chatLine('a', `q${i}`)])).id);
      const page = await client.batches.list({ limit: 2 });
      expect(page.data.map((b) => b.id)).toEqual([made[2], made[1]]);
      expect(page.has_more).toBe(true);
      const raw = (await (await fetch(`${sim.openaiBaseURL}/batches?limit=2`)).json()) as Record<string, unknown>;
      expect(raw).toMatchObject({ object: 'list', first_id: made[2], last_id: made[1], has_more: true });
      const all: string[] = [];
      for await (const b of client.batches.list({ limit: 2 })) all.push(b.id);
      expect(all).toEqual([...made].reverse());
      expect(sim.stats().batches.created).toBe(3);
      await expect(client.batches.list({ limit: 101 })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    });
  });
});

describe('validation as OpenAI does it', () => {
  it('a malformed file makes the batch failed with errors.data[] naming code and line', async () => {
    await withSim({ batch: { delayMs: 20 } }, async (sim, client) => {
      const { batch } = await poll(
        client,
        (
          await startBatch(client, [
            chatLine('a', 'q1'),
            '{"custom_id": "b", "method": "POST",',
            chatLine('c', 'q3'),
            chatLine('a', 'q4'),
            chatLine('d', 'q5', { model: 'gpt-nope' }),
            { ...chatLine('e', 'q6'), url: '/v1/embeddings' },
            { ...chatLine('f', 'q7'), method: 'GET' },
            { method: 'POST', url: '/v1/chat/completions', body: {} },
          ])
        ).id,
      );
      expect(batch.status).toBe('failed');
      expect(batch.failed_at).not.toBeNull();
      expect(batch.errors?.object).toBe('list');
      expect(batch.errors?.data?.map((e) => [e.line, e.code])).toEqual([
        [2, 'invalid_json_line'],
        [4, 'duplicate_custom_id'],
        [5, 'model_not_found'],
        [6, 'url_mismatch'],
        [7, 'invalid_value'],
        [8, 'missing_required_parameter'],
      ]);
      expect(batch.output_file_id).toBeNull();
      expect(batch.request_counts).toEqual({ total: 0, completed: 0, failed: 0 });
      expect(sim.stats().batches.failed).toBe(1);
    });
  });

  it('limits: over maxRequestsPerFile or maxFileBytes the batch fails naming the limit; below them it runs', async () => {
    await withSim({ batch: { delayMs: 10, maxRequestsPerFile: 3, maxFileBytes: 1000 } }, async (_sim, client) => {
      const four = ['a', 'b', 'c', 'd'].map((id) => chatLine(id, 'q'));
      const many = (await poll(client, (await startBatch(client, four)).id)).batch;
      expect(many.status).toBe('failed');
      expect(many.errors?.data?.[0]).toMatchObject({ code: 'too_many_tasks', line: null });
      expect(many.errors?.data?.[0].message).toContain('limit is 3 requests');
      const big = (await poll(client, (await startBatch(client, [chatLine('a', 'q'.repeat(1200))])).id)).batch;
      expect(big.status).toBe('failed');
      expect(big.errors?.data?.[0].code).toBe('file_too_large');
      expect(big.errors?.data?.[0].message).toContain('limit is 1000 bytes');
      // Split below both limits, the same requests run.
      const ok = (await poll(client, (await startBatch(client, four.slice(0, 3))).id)).batch;
      expect(ok.status).toBe('completed');
    });
  });

  it('rejects a bad purpose, an unknown file, a bad endpoint or window, and a wrong key with the SDK error', async () => {
    await withSim({ apiKey: 'secret' }, async (_sim, client) => {
      const file = await toFile(Buffer.from(jsonl([chatLine('a', 'q1')])), 'in.jsonl');
      await expect(client.files.create({ file, purpose: 'fine-tune' })).rejects.toMatchObject({
        status: 400,
        param: 'purpose',
      });
      const up = await upload(client, [chatLine('a', 'q1')]);
      const create = (over: Record<string, unknown>) =>
        client.batches.create({
          input_file_id: up.id,
          endpoint: '/v1/chat/completions',
          completion_window: '24h',
          ...over,
        } as never);
      await expect(create({ input_file_id: 'file-nope' })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
      await expect(create({ endpoint: '/v1/embeddings' })).rejects.toMatchObject({ status: 400, param: 'endpoint' });
      await expect(create({ completion_window: '1h' })).rejects.toMatchObject({
        status: 400,
        param: 'completion_window',
      });
      await expect(create({ metadata: { k: 1 } })).rejects.toMatchObject({ status: 400, param: 'metadata' });
      const wrong = new OpenAI({ baseURL: client.baseURL, apiKey: 'wrong', maxRetries: 0 });
      await expect(wrong.batches.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
      await expect(wrong.files.create({ file, purpose: 'batch' })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    });
  });
});

describe('batch options', () => {
  it('startSimulator rejects a bad batch option with one line naming it', async () => {
    const models = [{ name: 'm' }];
    await expect(startSimulator({ models, batch: { failEvery: 0 } })).rejects.toThrow(
      /^startSimulator: batch\.failEvery must be a whole number >= 1, got 0$/,
    );
    await expect(startSimulator({ models, batch: { delay: 5 } as never })).rejects.toBeInstanceOf(SimSpecError);
    await expect(startSimulator({ models, batch: { maxFileBytes: 1.5 } })).rejects.toThrow(/maxFileBytes/);
  });

  it('gapbench sim takes the --batch-* flags and refuses bad values with exit 2', async () => {
    const cwd = tempDir();
    const ok = await cli(
      ['sim', '--port', '0', '--batch-delay', '5', '--batch-fail-every', '2', '--batch-expire', '100'],
      {
        cwd,
      },
    );
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('Batch API');
    const bad = await cli(['sim', '--port', '0', '--batch-max-requests', '0'], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--batch-max-requests 0');
    const help = await cli(['sim', '--help'], { cwd });
    expect(help.stdout).toContain('--batch-max-bytes N');
  });
});
