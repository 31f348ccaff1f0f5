/** Batch mode: jobs through the Files + Batches API of the simulator, with the real openai SDK. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator, type SimBatchOptions } from '../src/sim/index.js';
import type { Manifest } from '../src/journal/manifest.js';
import type { JobRecord } from '../src/journal/record.js';
import {
  cli,
  csvRows,
  numericAnswerKey,
  runManifest,
  runRecords,
  spawnCli,
  suiteYaml,
  tempDir,
  withServer,
  writeFiles,
} from './helpers.js';

const CASES = Array.from({ length: 20 }, (_, i) => ({ id: `q${i}`, prompt: `What is ${i} plus 7?`, expected: i + 7 }));
const env = { OPENAI_API_KEY: 'sk-batch' };

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function project(batch: SimBatchOptions, modelBatch = '{ pollS: 0.02, maxPollS: 0.1 }', extra = '') {
  sim = await startSimulator({
    port: 0,
    apiKey: env.OPENAI_API_KEY,
    seed: 3,
    models: [{ name: 'gpt-sim', accuracy: 0.8 }],
    answers: numericAnswerKey(CASES),
    batch,
  });
  const dir = tempDir();
  writeFiles(dir, {
    's.yaml': suiteYaml('s', CASES),
    'gapbench.config.yaml': [
      'suites: [s.yaml]',
      'models:',
      `  - { id: closed, provider: openai, model: gpt-sim, baseURL: "${sim.openaiBaseURL}", group: closed, price: { input: 2, output: 8 }, batch: ${modelBatch} }`,
      extra,
    ].join('\n'),
  });
  return dir;
}

/** A file's content that a proxy never finishes sending: its first bytes, then silence. */
const STALL = '\u0000stall';

/**
 * Runs `body` with the project's model pointed at a proxy in front of the simulator that may
 * rewrite the content of files (output and error files) on the way; STALL sends a partial line
 * and then nothing more, holding the connection open.
 */
async function throughProxy(dir: string, rewrite: (file: string) => string, body: () => Promise<void>) {
  const target = sim!.url;
  await withServer(
    (req, res) => {
      void (async () => {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const skip = ['host', 'connection', 'transfer-encoding', 'content-length'];
        const up = await fetch(`${target}${req.url}`, {
          method: req.method,
          headers: Object.fromEntries(Object.entries(req.headers).filter(([k]) => !skip.includes(k))) as Record<
            string,
            string
          >,
          ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
        });
        let text = Buffer.from(await up.arrayBuffer()).toString('utf8');
        if (/\/files\/[^/]+\/content$/.test(req.url ?? '')) text = rewrite(text);
        res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' });
        if (text === STALL) res.write('{"id":"batch_req_1","custom_id":"q');
        else res.end(text);
      })().catch((e: unknown) => {
        res.writeHead(502);
        res.end(String(e));
      });
    },
    async (port) => {
      const cfg = join(dir, 'gapbench.config.yaml');
      writeFileSync(cfg, readFileSync(cfg, 'utf8').replace(sim!.openaiBaseURL, `http://127.0.0.1:${port}/v1`));
      await body();
    },
  );
}

/** Each job once, and no job of the plan missing. */
function expectEachJobOnce(rs: JobRecord[], jobs = CASES.length) {
  expect(new Set(rs.map((r) => r.job_id)).size).toBe(rs.length);
  expect(rs).toHaveLength(jobs);
}

describe('batch mode', () => {
  it('answers every job through one batch, as a live run would; a failed line with no retries left is an error record', async () => {
    const dir = await project({ delayMs: 150, failEvery: 7 }, '{ pollS: 0.02, maxPollS: 0.1 }, maxRetries: 0');
    const live = await cli(['run', '--run-id', 'b', '--cache', 'off'], { cwd: dir, env });
    expect(live.code, live.stderr).toBe(0);
    expect(sim!.stats().batches.created).toBe(1);
    expect(sim!.stats().byModel['gpt-sim'].requests).toBe(0);
    const rs = runRecords(join(dir, 'results', 'b'));
    expectEachJobOnce(rs);
    const batchId = runManifest(join(dir, 'results', 'b')).batches![0].batch_id;
    expect(batchId).toMatch(/^batch_/);
    const errors = rs.filter((r) => r.status === 'error');
    // Lines 7 and 14 of the input file failed with a 500: error records naming the batch, counted as failures.
    expect(errors).toHaveLength(2);
    for (const e of errors) expect(e.status === 'error' && e.error.kind).toBe('server');
    expect(rs.filter((r) => r.status === 'ok').every((r) => r.status === 'ok' && r.batch_id === batchId)).toBe(true);
    expect(live.stderr).toMatch(/batch batch_\w+ created \(20 requests/);
    // OpenAI's batch price is half the live one (its preset says so): 2 and 8 USD per 1M tokens become 1 and 4.
    expect(runManifest(join(dir, 'results', 'b')).models[0].price?.batch).toEqual({ input: 1, output: 4 });
    const ok = rs.filter((r): r is Extract<JobRecord, { status: 'ok' }> => r.status === 'ok');
    const tokens = ok.reduce((a, r) => [a[0] + (r.input_tokens ?? 0), a[1] + (r.output_tokens ?? 0)], [0, 0]);
    const row = csvRows(join(dir, 'results', 'b', 'summary.csv'))[0];
    expect(Number(row.cost_usd)).toBeCloseTo((tokens[0] * 1 + tokens[1] * 4) / 1e6, 9);
    expect(Number(row.cached)).toBe(0);
  });

  it('price.batch wins over half price; files split at maxRequests', async () => {
    const dir = await project({ delayMs: 50 }, '{ pollS: 0.02, maxRequests: 6 }');
    const cfg = join(dir, 'gapbench.config.yaml');
    writeFileSync(
      cfg,
      readFileSync(cfg, 'utf8').replace('output: 8 }', 'output: 8, batch: { input: 0.5, output: 3 } }'),
    );
    const r = await cli(['run', '--run-id', 'b', '--cache', 'off', '--quiet'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/half the live token price/);
    expect(sim!.stats().batches.created).toBe(4); // 6 + 6 + 6 + 2
    const m = runManifest(join(dir, 'results', 'b'));
    expect(m.batches!.map((b) => b.requests)).toEqual([6, 6, 6, 2]);
    const rs = runRecords(join(dir, 'results', 'b'));
    expectEachJobOnce(rs);
    const ok = rs.filter((x): x is Extract<JobRecord, { status: 'ok' }> => x.status === 'ok');
    const cost = ok.reduce((a, x) => a + ((x.input_tokens ?? 0) * 0.5 + (x.output_tokens ?? 0) * 3) / 1e6, 0);
    expect(Number(csvRows(join(dir, 'results', 'b', 'summary.csv'))[0].cost_usd)).toBeCloseTo(cost, 9);
  });

  it('an expired batch: lines done are answers, the rest "expired" (left out of scores); --retry-errors sends only those again', async () => {
    const dir = await project({ delayMs: 400, expireAfterMs: 200 });
    const r = await cli(['run', '--run-id', 'b', '--cache', 'off', '--quiet'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    const rs = runRecords(join(dir, 'results', 'b'));
    expectEachJobOnce(rs);
    const expired = rs.filter((x) => x.status === 'error' && x.error.kind === 'expired');
    expect(expired.length).toBeGreaterThan(0);
    expect(expired.length).toBeLessThan(CASES.length);
    const row = csvRows(join(dir, 'results', 'b', 'summary.csv'))[0];
    expect(Number(row.excluded)).toBe(expired.length);
    expect(Number(row.n)).toBe(CASES.length - expired.length);
    const again = await cli(['run', '--resume', join(dir, 'results', 'b'), '--retry-errors', '--quiet'], {
      cwd: dir,
      env,
    });
    expect(again.code, again.stderr).toBe(0);
    const m = runManifest(join(dir, 'results', 'b'));
    expect(m.batches).toHaveLength(2);
    expect(m.batches![1].requests).toBe(expired.length);
  });

  it('survives kill -9 while the batch runs: the resume collects the same batch, pays nothing again', async () => {
    const dir = await project({ delayMs: 2500 }, '{ pollS: 0.05, maxPollS: 0.2 }');
    const run = spawnCli(['run', '--run-id', 'b', '--cache', 'off'], { cwd: dir, env });
    const mpath = join(dir, 'results', 'b', 'manifest.json');
    await until(() => {
      try {
        return Boolean((JSON.parse(readFileSync(mpath, 'utf8')) as Manifest).batches?.[0]?.batch_id);
      } catch {
        return false;
      }
    });
    run.child.kill('SIGKILL');
    await run.done;
    expect(sim!.stats().batches.created).toBe(1);
    const resumed = await cli(['run', '--resume', 'results/b', '--quiet'], { cwd: dir, env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(sim!.stats().batches.created).toBe(1);
    expect(sim!.stats().files.uploaded).toBe(1);
    expectEachJobOnce(runRecords(join(dir, 'results', 'b')));
  }, 30_000);

  it('a torn local copy of an input file (killed while polling, file cut in half): the resume still pays nothing twice', async () => {
    const dir = await project({ delayMs: 2500 }, '{ pollS: 0.05, maxPollS: 0.2 }');
    const run = spawnCli(['run', '--run-id', 'b', '--cache', 'off'], { cwd: dir, env });
    const d = join(dir, 'results', 'b');
    await until(() => {
      try {
        return Boolean(runManifest(d).batches?.[0]?.batch_id);
      } catch {
        return false;
      }
    });
    run.child.kill('SIGKILL');
    await run.done;
    const input = join(d, runManifest(d).batches![0].file);
    const text = readFileSync(input);
    writeFileSync(input, text.subarray(0, text.length >> 1));
    const resumed = await cli(['run', '--resume', 'results/b', '--quiet'], { cwd: dir, env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(sim!.stats().batches.created).toBe(1);
    expect(sim!.stats().files.uploaded).toBe(1);
    expectEachJobOnce(runRecords(d));
  }, 30_000);

  it('the cost grader judges a batch answer at the batch price, the price summary.csv reports', async () => {
    const dir = await project({ delayMs: 50 });
    const suite = join(dir, 's.yaml');
    writeFileSync(suite, readFileSync(suite, 'utf8').replace(/grader:.*\n/, 'grader: { type: cost, max_usd: 1 }\n'));
    const r = await cli(['run', '--run-id', 'b', '--cache', 'off', '--quiet'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    const rs = runRecords(join(dir, 'results', 'b'));
    let sum = 0;
    for (const x of rs) {
      if (x.status !== 'ok') continue;
      // Half of 2 and 8 USD per 1M tokens: the grader saw the cost summary.csv adds up.
      const usd = ((x.input_tokens ?? 0) * 1 + (x.output_tokens ?? 0) * 4) / 1e6;
      expect(Number(x.grade.extracted)).toBeCloseTo(usd, 12);
      sum += usd;
    }
    expect(Number(csvRows(join(dir, 'results', 'b', 'summary.csv'))[0].cost_usd)).toBeCloseTo(sum, 9);
  });

  it('a failed line is retried as a live request would be: in a new batch, holding only the failed jobs', async () => {
    const dir = await project({ delayMs: 60, failEvery: 7 });
    const r = await cli(['run', '--run-id', 'b', '--cache', 'off', '--quiet'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    const d = join(dir, 'results', 'b');
    // The two failed jobs are asked again after their own backoff: in one new batch, or one each.
    const [first, ...retries] = runManifest(d).batches!.map((b) => b.requests);
    expect(first).toBe(20);
    expect(retries.reduce((a, b) => a + b, 0)).toBe(2);
    const rs = runRecords(d);
    expectEachJobOnce(rs);
    expect(rs.every((x) => x.status === 'ok')).toBe(true);
    expect(sim!.stats().byModel['gpt-sim'].requests).toBe(0);
  });

  it('a crash while answers were being recorded, resumed with --retry-errors: the rest collected from the old batch, only the errors sent again', async () => {
    const dir = await project({ delayMs: 60, failEvery: 7 }, '{ pollS: 0.02, maxPollS: 0.1 }, maxRetries: 0');
    expect((await cli(['run', '--run-id', 'b', '--cache', 'off', '--quiet'], { cwd: dir, env })).code).toBe(0);
    const d = join(dir, 'results', 'b');
    const all = runRecords(d);
    const errors = all.filter((r) => r.status === 'error').map((r) => r.job_id);
    expect(errors).toHaveLength(2);
    // The process died after recording the two errors and five answers.
    const kept = [...all.filter((r) => r.status === 'error'), ...all.filter((r) => r.status === 'ok').slice(0, 5)];
    writeFileSync(join(d, 'records.jsonl'), kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
    const r = await cli(['run', '--resume', 'results/b', '--retry-errors', '--quiet'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    const m = runManifest(d);
    // One new batch, holding only the two errored jobs; the 13 unrecorded answers came from the first.
    expect(m.batches!.map((b) => b.requests)).toEqual([20, 2]);
    const latest = new Map(runRecords(d).map((x) => [x.job_id, x]));
    expect(latest.size).toBe(CASES.length);
    expect(runRecords(d)).toHaveLength(CASES.length + 2);
    for (const id of errors) expect((latest.get(id) as { batch_id?: string }).batch_id).toBe(m.batches![1].batch_id);
    const fromFirst = [...latest.values()].filter((x) => !errors.includes(x.job_id));
    for (const x of fromFirst) expect((x as { batch_id?: string }).batch_id).toBe(m.batches![0].batch_id);
  });

  it('a crash between creating the batch and recording its id: the resume finds it by its input file', async () => {
    const dir = await project({ delayMs: 100 });
    expect((await cli(['run', '--run-id', 'b', '--cache', 'off', '--quiet'], { cwd: dir, env })).code).toBe(0);
    // As the manifest was after the upload, before the batch's id came back; and no answer recorded.
    const d = join(dir, 'results', 'b');
    const m = runManifest(d);
    delete m.batches![0].batch_id;
    m.batches![0].status = 'uploaded';
    m.status = 'running';
    writeFileSync(join(d, 'manifest.json'), JSON.stringify(m));
    writeFileSync(join(d, 'records.jsonl'), '');
    const resumed = await cli(['run', '--resume', 'results/b', '--quiet'], { cwd: dir, env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(sim!.stats().batches.created).toBe(1);
    expectEachJobOnce(runRecords(d));
    expect(runManifest(d).batches![0].batch_id).toMatch(/^batch_/);
  });

  it('Ctrl-C leaves the batch running and says how to resume', async () => {
    const dir = await project({ delayMs: 3000 }, '{ pollS: 0.05 }');
    const run = spawnCli(['run', '--run-id', 'b', '--cache', 'off', '--progress-interval', '0.1'], { cwd: dir, env });
    await until(() => /1 batch\(es\) in_progress, \d+\/20 lines done at the vendor/.test(run.output().stderr));
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(
      /batch batch_\w+ left running at the vendor with 20 job\(s\); a resume collects it without paying again/,
    );
    expect(r.stdout).toMatch(/Resume with: gapbench run --resume/);
    expect(runRecords(join(dir, 'results', 'b'))).toHaveLength(0);
    const resumed = await cli(['run', '--resume', 'results/b', '--quiet'], { cwd: dir, env });
    expect(resumed.code).toBe(0);
    expect(sim!.stats().batches.created).toBe(1);
    expectEachJobOnce(runRecords(join(dir, 'results', 'b')));
  }, 30_000);

  it('output lines naming unknown jobs are reported and ignored, nothing lost', async () => {
    const dir = await project({ delayMs: 50 });
    // A vendor whose output file holds lines of jobs that are not in the batch.
    const extra = `${JSON.stringify({ id: 'x', custom_id: 'not-a-job', response: { status_code: 200, body: {} } })}\nnot json\n`;
    await throughProxy(
      dir,
      (body) => (body.includes('"status_code":200') ? body + extra : body),
      async () => {
        const r = await cli(['run', '--run-id', 'b', '--cache', 'off', '--quiet'], { cwd: dir, env });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toMatch(
          /ignored 1 line\(s\) naming jobs not in it \(e\.g\. "not-a-job"\) and 1 unreadable line\(s\)/,
        );
        expectEachJobOnce(runRecords(join(dir, 'results', 'b')));
      },
    );
  });

  it('an output line over maxResponseBytes is response_too_large for its job; the others are answered', async () => {
    const dir = await project({ delayMs: 50 }, '{ pollS: 0.02, maxPollS: 0.1 }, maxResponseBytes: 1048576');
    // One answer of 24 MiB, as one line that the reader skips to its end without holding it.
    const huge = (body: string) =>
      body.replace(/"content":"[^"]*"/, () => `"content":"${'x'.repeat(24 * 1024 * 1024)}"`);
    await throughProxy(
      dir,
      (body) => (body.includes('"status_code":200') ? huge(body) : body),
      async () => {
        const r = await cli(['run', '--run-id', 'b', '--cache', 'off', '--quiet'], { cwd: dir, env });
        expect(r.code, r.stderr).toBe(0);
        const rs = runRecords(join(dir, 'results', 'b'));
        expectEachJobOnce(rs);
        const big = rs.filter((x) => x.status === 'error');
        expect(big).toHaveLength(1);
        expect(big[0].status === 'error' && big[0].error.kind).toBe('response_too_large');
        expect(sim!.stats().batches.created).toBe(1);
      },
    );
  });

  it('a download that stalls is cut after timeoutMs and fetched again; nothing is sent twice', async () => {
    const dir = await project({ delayMs: 50 }, '{ pollS: 0.02, maxPollS: 0.1 }, timeoutMs: 1000');
    let stalls = 0;
    const stall = (body: string) => (body.includes('"status_code":200') && stalls++ === 0 ? STALL : body);
    await throughProxy(dir, stall, async () => {
      const r = await cli(['run', '--run-id', 'b', '--cache', 'off', '--quiet'], { cwd: dir, env });
      expect(r.code, r.stderr).toBe(0);
      expect(stalls).toBe(2);
      expectEachJobOnce(runRecords(join(dir, 'results', 'b')));
      expect(sim!.stats().batches.created).toBe(1);
    });
  }, 30_000);

  it('files split at maxBytes; a server without the Batch API stops the lane with a clear error', async () => {
    const dir = await project({ delayMs: 30 }, '{ pollS: 0.02, maxBytes: 1500 }');
    const r = await cli(['run', '--run-id', 'b', '--cache', 'off', '--quiet'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    const m = runManifest(join(dir, 'results', 'b'));
    expect(m.batches!.length).toBeGreaterThan(1);
    for (const b of m.batches!) {
      expect(b.bytes).toBeLessThanOrEqual(1500);
      expect(readFileSync(join(dir, 'results', 'b', b.file)).length).toBe(b.bytes);
    }
    expect(m.batches!.reduce((n, b) => n + b.requests, 0)).toBe(CASES.length);
    expectEachJobOnce(runRecords(join(dir, 'results', 'b')));
    // A server with chat completions but no /files: every job says why, the run goes on.
    await withServer(
      (_req, res) => {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'Not Found', type: 'invalid_request_error' } }));
      },
      async (port) => {
        const cfg = join(dir, 'gapbench.config.yaml');
        writeFileSync(cfg, readFileSync(cfg, 'utf8').replace(sim!.openaiBaseURL, `http://127.0.0.1:${port}/v1`));
        const no = await cli(['run', '--run-id', 'c', '--cache', 'off', '--quiet'], { cwd: dir, env });
        expect(no.code).toBe(1); // the model answered nothing
        expect(no.stdout).toMatch(
          /model 'closed' stopped after a not_found error: HTTP 404: Not Found \[batch upload\] \(does this server offer the Batch API\? set batch: false to ask it live\)/,
        );
        const rs = runRecords(join(dir, 'results', 'c'));
        expectEachJobOnce(rs);
        expect(rs.every((x) => x.status === 'error' && x.error.kind === 'not_found')).toBe(true);
      },
    );
  });

  it('a batch model on a protocol without a Batch API: one line, exit 2, nothing sent; --batch runs it live', async () => {
    const dir = await project({});
    const cfg = join(dir, 'gapbench.config.yaml');
    const ollama = `  - { id: open, provider: ollama, model: gpt-sim, host: "${sim!.url}", group: open, batch: true }\n`;
    writeFileSync(join(dir, 'o.yaml'), `suites: [s.yaml]\nmodels:\n${ollama}`);
    const bad = await cli(['run', '--config', 'o.yaml', '--run-id', 'x'], { cwd: dir, env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/o\.yaml:3: .*model 'open': the ollama protocol has no Batch API/);
    writeFileSync(
      cfg,
      readFileSync(cfg, 'utf8').replace(/, batch: \{[^}]*\}/, '') + ollama.replace(', batch: true', ''),
    );
    expect(sim!.stats().requests).toBe(0);
    // --batch on a mixed config: what can be batched is, the rest runs live, each saying why.
    const flag = await cli(['run', '--batch', '--run-id', 'y', '--quiet'], { cwd: dir, env });
    expect(flag.code, flag.stderr).toBe(0);
    expect(flag.stderr).toMatch(/note: model 'open': --batch: runs live \(the ollama protocol has no Batch API\)/);
    expect(sim!.stats().batches.created).toBe(1);
    expect(sim!.stats().byModel['gpt-sim'].requests).toBe(20);
  });
});

async function until(ok: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
