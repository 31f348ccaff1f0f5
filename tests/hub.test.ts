/**
 * Public benchmarks by name: a loopback server speaks the Hugging Face Hub's file-resolution API
 * (`/datasets/{repo}/resolve/{revision}/{path}`), standing in for huggingface.co or a mirror.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { parse as parseCsv } from 'csv-parse/sync';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerKeyFromCases, startSimulator, type Simulator } from '../src/sim/index.js';
import { cachedPath, type HubPin } from '../src/suite/hub.js';
import { loadSuite } from '../src/suite/load.js';
import { cli, tempDir } from './helpers.js';

interface Hub {
  url: string;
  requests: { path: string; auth?: string }[];
  /** Path suffix -> how to misbehave. */
  faults: Map<string, 'html' | 'corrupt' | 'missing'>;
  files: Map<string, Buffer>;
  close(): Promise<void>;
}

const LETTERS = ['A', 'B', 'C', 'D'];
const CMMLU: HubPin = { repo: 'haonan-li/cmmlu', revision: '45c7c662012c732d73bbde14c13be2f2f7bb9bc3', files: {} };

function cmmluParquet(subject: string): Buffer {
  const q = [0, 1].map((i) => `${subject} 第${i}题：哪个是对的？`);
  const answers = [LETTERS[subject.length % 4], LETTERS[(subject.length + 1) % 4]];
  const col = (name: string, data: string[]) => ({ name, data, type: 'STRING' as const });
  return Buffer.from(
    parquetWriteBuffer({
      columnData: [col('Question', q), ...LETTERS.map((l) => col(l, [`${l}项`, `${l}项`])), col('Answer', answers)],
    }),
  );
}

async function startHub(): Promise<Hub> {
  const requests: Hub['requests'] = [];
  const faults: Hub['faults'] = new Map();
  const files: Hub['files'] = new Map();
  const server: Server = createServer((req, res) => {
    const m = /^\/datasets\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(req.url ?? '');
    requests.push({ path: req.url ?? '', auth: req.headers.authorization });
    if (!m) return res.writeHead(404).end('not found');
    const file = decodeURIComponent(m[3]);
    const fault = [...faults].find(([suffix]) => file.endsWith(suffix))?.[1];
    if (fault === 'html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end('<!doctype html><title>Mirror home</title>');
    }
    let body = files.get(file) ?? (m[1] === 'haonan-li/cmmlu' ? cmmluParquet(file.split('/')[0]) : undefined);
    if (!body || fault === 'missing')
      return res.writeHead(404, { 'content-type': 'text/plain' }).end('Entry not found');
    if (fault === 'corrupt') body = Buffer.concat([body.subarray(0, body.length - 8), Buffer.alloc(8)]);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    faults,
    files,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

let hub: Hub;
/** An endpoint nothing listens on (a port just released). */
let dead: string;
beforeAll(async () => {
  hub = await startHub();
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  dead = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
  await new Promise((r) => probe.close(r));
});
afterAll(() => hub.close());

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('bundled suites from the Hub', () => {
  it('cmmlu downloads every pinned file with the token, verifies, caches, and loads offline', async () => {
    const cache = tempDir();
    const logs: string[] = [];
    hub.requests.length = 0;
    const vars = { HF_ENDPOINT: `${hub.url}/`, HF_TOKEN: 'hf_secret', GAPBENCH_CACHE_DIR: cache };
    const s = await loadSuite('cmmlu', { cwd: tempDir(), vars, log: (l) => logs.push(l) });
    expect(s.cases).toHaveLength(67 * 2);
    expect(s.cases[0]).toMatchObject({
      id: 'agronomy-0',
      category: 'agronomy',
      expected: LETTERS['agronomy'.length % 4],
    });
    expect(s.cases[0].prompt).toMatch(/agronomy 第0题：哪个是对的？\nA\. A项\nB\. B项/);
    expect(hub.requests).toHaveLength(67);
    expect(hub.requests.every((r) => r.auth === 'Bearer hf_secret')).toBe(true);
    expect(hub.requests[0].path).toBe(
      '/datasets/haonan-li/cmmlu/resolve/45c7c662012c732d73bbde14c13be2f2f7bb9bc3/agronomy/test/0000.parquet',
    );
    const pin: HubPin = { repo: 'haonan-li/cmmlu', revision: '45c7c662012c732d73bbde14c13be2f2f7bb9bc3', files: {} };
    const cached = cachedPath(pin, 'agronomy/test/0000.parquet', vars);
    expect(readFileSync(`${cached}.sha256`, 'utf8').trim()).toBe(sha(cmmluParquet('agronomy')));
    // Small files: no progress lines; the digests are new (the pins are unfilled), printed once to be pinned.
    expect(logs).toEqual([
      expect.stringMatching(
        new RegExp(
          `^note: haonan-li/cmmlu/agronomy/test/0000\\.parquet is not pinned; its first download \\(from ${hub.url}\\) has sha256 ${sha(cmmluParquet('agronomy'))} and 66 more file\\(s\\)`,
        ),
      ),
    ]);

    // Offline, warm cache: no request, same cases.
    hub.requests.length = 0;
    const again = await loadSuite('cmmlu', {
      cwd: tempDir(),
      // The cache is the endpoint's: offline, the same HF_ENDPOINT finds it.
      vars: { HF_ENDPOINT: hub.url, GAPBENCH_CACHE_DIR: cache, GAPBENCH_OFFLINE: '1' },
      limit: 3,
    });
    expect(hub.requests).toHaveLength(0);
    expect(again.cases.map((c) => c.id)).toEqual(['agronomy-0', 'agronomy-1', 'anatomy-0']);

    // A cached file changed since its digest was recorded is refused, naming the file to delete.
    writeFileSync(cached, 'tampered');
    await expect(loadSuite('cmmlu', { cwd: tempDir(), vars })).rejects.toThrow(
      /cached agronomy\/test\/0000\.parquet does not match its checksum .*delete .*0000\.parquet/,
    );
  });

  it('a local CMMLU_DIR wins over the Hub', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'arts.csv'), 'Question,A,B,C,D,Answer\n"Q?",w,x,y,z,C\n');
    hub.requests.length = 0;
    const s = await loadSuite('cmmlu', { cwd: dir, vars: { CMMLU_DIR: dir, HF_ENDPOINT: hub.url } });
    expect(s.cases).toEqual([expect.objectContaining({ id: 'arts-0', expected: 'C', category: 'arts' })]);
    expect(hub.requests).toHaveLength(0);
  });

  it('offline with a cold cache names the file and the URL it needed', async () => {
    const cache = tempDir();
    await expect(
      loadSuite('ceval', {
        cwd: tempDir(),
        vars: { HF_ENDPOINT: hub.url, GAPBENCH_CACHE_DIR: cache, HF_HUB_OFFLINE: '1' },
      }),
    ).rejects.toThrow(
      new RegExp(
        `offline and not cached: ceval/ceval-exam/accountant/ceval-exam-val\\.parquet \\(needs ${hub.url}/datasets/ceval/ceval-exam/resolve/eda26d3203ef3fe851f396c9904567b18cd4a919/accountant/ceval-exam-val\\.parquet`,
      ),
    );
  });

  it('an HTML page, a 404, a corrupt file and an unreachable endpoint each fail in one line and cache nothing', async () => {
    const cache = tempDir();
    const vars = { HF_ENDPOINT: hub.url, GAPBENCH_CACHE_DIR: cache };
    const pin: HubPin = { repo: 'haonan-li/cmmlu', revision: '45c7c662012c732d73bbde14c13be2f2f7bb9bc3', files: {} };
    hub.faults.set('agronomy/test/0000.parquet', 'html');
    await expect(loadSuite('cmmlu', { cwd: tempDir(), vars })).rejects.toThrow(
      /cannot download agronomy\/test\/0000\.parquet from http:\/\/127\.0\.0\.1:\d+\/datasets\/haonan-li\/cmmlu\/resolve\/.*: the server answered with an HTML page, not the file \(is HF_ENDPOINT a Hub mirror\?\)/,
    );
    hub.faults.set('agronomy/test/0000.parquet', 'missing');
    await expect(loadSuite('cmmlu', { cwd: tempDir(), vars })).rejects.toThrow(
      /HTTP 404 \(no such file at this revision/,
    );
    expect(existsSync(cachedPath(pin, 'agronomy/test/0000.parquet', vars))).toBe(false);
    hub.faults.clear();
    await expect(
      loadSuite('cmmlu', { cwd: tempDir(), vars: { HF_ENDPOINT: dead, GAPBENCH_CACHE_DIR: cache } }),
    ).rejects.toThrow(
      /cannot download agronomy\/test\/0000\.parquet from http:\/\/127\.0\.0\.1:\d+\/.*: ECONNREFUSED \(offline or wrong HF_ENDPOINT\?\)$/,
    );

    // A pinned digest: a corrupt body is refused and not cached; the right one is accepted.
    const dir = tempDir();
    const good = Buffer.from('{"q":"1+1?","a":"2"}\n');
    hub.files.set('data/pinned.jsonl', good);
    const suite = (digest: string) =>
      `name: pinned\ntemplate: "{{q}}"\nsource:\n  path: \${PINNED}\n  fields: { expected: a }\n  hub:\n    repo: me/pinned\n    revision: r1\n    files:\n      data/pinned.jsonl: ${digest}\n`;
    writeFileSync(join(dir, 's.yaml'), suite(sha(good)));
    hub.faults.set('pinned.jsonl', 'corrupt');
    await expect(loadSuite('s.yaml', { cwd: dir, vars })).rejects.toThrow(
      /download of data\/pinned\.jsonl from .* failed: checksum mismatch: sha256 [0-9a-f]{12}…, pinned [0-9a-f]{12}… \(nothing was cached\)/,
    );
    hub.faults.clear();
    const s = await loadSuite('s.yaml', { cwd: dir, vars });
    expect(s.cases).toEqual([expect.objectContaining({ id: '0', prompt: '1+1?', expected: '2', category: 'default' })]);
  });

  it('mmlu: a pinned digest that does not match is refused, naming the file', async () => {
    const cache = tempDir();
    const mmlu = (subject: string) =>
      Buffer.from(
        parquetWriteBuffer({
          columnData: [
            { name: 'question', data: [`${subject}?`], type: 'STRING' },
            { name: 'subject', data: [subject], type: 'STRING' },
            { name: 'choices', data: [['w', 'x', 'y', 'z']] },
            { name: 'answer', data: [2n], type: 'INT64' },
          ],
        }),
      );
    const suiteText = readFileSync(join(import.meta.dirname, '..', 'suites', 'mmlu.yaml'), 'utf8');
    const paths = Object.keys(parseYaml(suiteText).source.hub.files);
    expect(paths).toHaveLength(57);
    for (const p of paths) hub.files.set(p, mmlu(p.split('/')[0]));
    await expect(
      loadSuite('mmlu', { cwd: tempDir(), vars: { HF_ENDPOINT: hub.url, GAPBENCH_CACHE_DIR: cache } }),
    ).rejects.toThrow(
      /download of machine_learning\/mmlu-test\.parquet from .*: checksum mismatch: .*pinned b0c4aac920f0…/,
    );
    // The Hub's layout (a list of choices and an answer index) reads as the local CSVs do.
    const dir = tempDir();
    writeFileSync(join(dir, 'm.parquet'), mmlu('abstract_algebra'));
    writeFileSync(
      join(dir, 's.yaml'),
      suiteText.replace('${MMLU_DIR}', 'm.parquet').replace('format: csv', 'format: parquet'),
    );
    const s = await loadSuite('s.yaml', { cwd: dir, vars: {} });
    expect(s.cases).toEqual([expect.objectContaining({ id: 'm-0', expected: 'C' })]);
    expect(s.cases[0].prompt).toMatch(/^abstract_algebra\?\n\nA\. w\nB\. x\nC\. y\nD\. z\n/);
  });

  it('shows progress for a large download', async () => {
    const dir = tempDir();
    const rows = Array.from({ length: 40000 }, (_, i) => JSON.stringify({ q: `${i} + 1 = ?`, a: String(i + 1) }));
    const big = Buffer.from(rows.join('\n') + '\n');
    expect(big.length).toBeGreaterThan(1 << 20);
    hub.files.set('big.jsonl', big);
    writeFileSync(
      join(dir, 's.yaml'),
      `name: big\ntemplate: "{{q}}"\nsource:\n  path: \${BIG}\n  fields: { expected: a }\n  hub:\n    repo: me/big\n    revision: r1\n    files:\n      big.jsonl: ${sha(big)}\n`,
    );
    const logs: string[] = [];
    const s = await loadSuite('s.yaml', {
      cwd: dir,
      vars: { HF_ENDPOINT: hub.url, GAPBENCH_CACHE_DIR: tempDir() },
      log: (l) => logs.push(l),
      limit: 5,
    });
    expect(s.cases).toHaveLength(5);
    expect(logs[0]).toMatch(/^downloading big\.jsonl: 0% of \d\.\d MB$/);
    expect(logs.at(-1)).toMatch(/^downloading big\.jsonl: 100% of/);
  });
});

describe('gapbench run --suite cmmlu from a loopback Hub mirror', () => {
  let sim: Simulator;
  afterAll(() => sim?.close());

  it('downloads, verifies, caches and runs; then runs again offline', async () => {
    const cwd = tempDir();
    const cache = join(cwd, '.cache');
    const suite = await loadSuite('cmmlu', { cwd, vars: { HF_ENDPOINT: hub.url, GAPBENCH_CACHE_DIR: tempDir() } });
    sim = await startSimulator({
      port: 0,
      seed: 1,
      answers: answerKeyFromCases(suite.cases),
      models: [{ name: 'always-right', accuracy: 1, latencyMs: 1 }],
    });
    const args = ['run', '--suite', 'cmmlu', '--model', 'ollama:always-right', '--limit', '10', '--quiet'];
    hub.requests.length = 0;
    const first = await cli([...args, '--run-id', 'a'], {
      cwd,
      env: { OLLAMA_HOST: sim.ollamaHost, HF_ENDPOINT: hub.url },
    });
    expect(first.stderr).toMatch(/^note: haonan-li\/cmmlu\/agronomy\/test\/0000\.parquet is not pinned; [^\n]*\n$/);
    expect(first.code).toBe(0);
    expect(hub.requests).toHaveLength(67);
    expect(
      existsSync(
        dirname(
          dirname(
            dirname(
              cachedPath(CMMLU, 'agronomy/test/0000.parquet', { HF_ENDPOINT: hub.url, GAPBENCH_CACHE_DIR: cache }),
            ),
          ),
        ),
      ),
    ).toBe(true);
    const summary = (run: string) =>
      parseCsv(readFileSync(join(cwd, 'results', run, 'summary.csv'), 'utf8'), { columns: true }) as Record<
        string,
        string
      >[];
    expect(summary('a')).toEqual([expect.objectContaining({ suite: 'cmmlu', score: '1' })]);
    const results = parseCsv(readFileSync(join(cwd, 'results', 'a', 'results.csv'), 'utf8'), { columns: true });
    expect(results).toHaveLength(10);

    hub.requests.length = 0;
    const offline = await cli([...args, '--run-id', 'b'], {
      cwd,
      env: { OLLAMA_HOST: sim.ollamaHost, HF_ENDPOINT: hub.url, GAPBENCH_OFFLINE: '1' },
    });
    expect(offline.code).toBe(0);
    expect(hub.requests).toHaveLength(0);
    expect(summary('b')).toEqual([expect.objectContaining({ suite: 'cmmlu', score: '1' })]);
  });
});
