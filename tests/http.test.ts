import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boundedFetch } from '../src/providers/http.js';

const nodeFetch = boundedFetch();

/** A real HTTP server with one route per behaviour the transport must get right. */
let server: Server;
let base: string;
let lastRequest: { method?: string; headers: Record<string, unknown>; body: string } = { headers: {}, body: '' };
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      lastRequest = { method: req.method, headers: req.headers, body };
      const json = Buffer.from(JSON.stringify({ ok: true, text: '中文 ✓' }));
      switch (req.url) {
        case '/json':
          res.writeHead(200, [
            ['Content-Type', 'application/json'],
            ['X-Multi', 'a'],
            ['x-multi', 'b'],
            ['X-Request-Id', 'req_1'],
          ]);
          return res.end(json);
        case '/bom':
          res.writeHead(200, { 'content-type': 'application/json' });
          return res.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json]));
        case '/gzip':
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
          return res.end(gzipSync(json));
        case '/deflate':
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'deflate' });
          return res.end(deflateSync(json));
        case '/deflate-raw':
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'deflate' });
          return res.end(deflateRawSync(json));
        case '/br':
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'br' });
          return res.end(brotliCompressSync(json));
        case '/bad-gzip':
          res.writeHead(200, { 'content-encoding': 'gzip' });
          return res.end('not gzip at all');
        case '/chunked':
          res.writeHead(429, 'Too Many', { 'retry-after': '2' });
          res.write('{"error":');
          setTimeout(() => res.end('{"message":"slow down"}}'), 5);
          return;
        case '/empty':
          res.writeHead(204);
          return res.end();
        case '/hang':
          return; // never answers
        case '/reset':
          return req.socket.destroy();
        default:
          res.writeHead(404);
          return res.end('no such route');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('nodeFetch (the transport under both SDKs)', () => {
  it('sends method, headers and body; exposes status, headers and the body as fetch does', async () => {
    const res = await nodeFetch(`${base}/json`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer k' },
      body: '{"q":"中"}',
    });
    expect(lastRequest).toMatchObject({ method: 'POST', body: '{"q":"中"}' });
    expect(lastRequest.headers).toMatchObject({
      'content-type': 'application/json',
      authorization: 'Bearer k',
      'content-length': String(Buffer.byteLength('{"q":"中"}')),
    });
    expect(res.ok).toBe(true);
    expect(res.status).toBe(200);
    expect(res.url).toBe(`${base}/json`);
    expect(res.headers.get('CONTENT-TYPE')).toBe('application/json');
    expect(res.headers.get('x-multi')).toBe('a, b');
    expect(res.headers.get('missing')).toBeNull();
    expect(res.headers.has('X-Request-Id')).toBe(true);
    expect([...res.headers.entries()].map(([k]) => k)).toEqual([...res.headers.keys()].sort());
    expect(await res.json()).toEqual({ ok: true, text: '中文 ✓' });
    expect(res.bodyUsed).toBe(true);
    await expect(res.text()).rejects.toThrow(TypeError);
  });

  it('accepts Headers and header arrays, as the SDKs pass them', async () => {
    await nodeFetch(`${base}/json`, { headers: new Headers({ 'X-A': '1' }) });
    expect(lastRequest.headers['x-a']).toBe('1');
    await nodeFetch(`${base}/json`, { headers: [['X-B', '2']] });
    expect(lastRequest.headers['x-b']).toBe('2');
  });

  it.each(['/gzip', '/deflate', '/deflate-raw', '/br'])('decodes a compressed body (%s)', async (route) => {
    expect(await (await nodeFetch(`${base}${route}`)).json()).toEqual({ ok: true, text: '中文 ✓' });
  });

  it('strips a UTF-8 BOM; reads bodies that arrive in several chunks; keeps the status text', async () => {
    expect(await (await nodeFetch(`${base}/bom`)).json()).toEqual({ ok: true, text: '中文 ✓' });
    const r = await nodeFetch(`${base}/chunked`);
    expect([r.ok, r.status, r.statusText, r.headers.get('retry-after')]).toEqual([false, 429, 'Too Many', '2']);
    expect(await r.text()).toBe('{"error":{"message":"slow down"}}');
  });

  it('a 204 has no body; clone and body give the same bytes', async () => {
    const e = await nodeFetch(`${base}/empty`);
    expect([e.status, await e.text()]).toEqual([204, '']);
    const r = await nodeFetch(`${base}/json`);
    const copy = r.clone();
    expect(await new Response(r.body).json()).toEqual({ ok: true, text: '中文 ✓' });
    expect(await copy.json()).toEqual({ ok: true, text: '中文 ✓' });
  });

  it('fails as fetch fails: TypeError with a cause for resets, refusals and broken encodings; AbortError on abort', async () => {
    const failure = async (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => e as Error & { cause?: { code?: string } },
      );
    const reset = await failure(nodeFetch(`${base}/reset`));
    expect(reset).toBeInstanceOf(TypeError);
    expect(reset?.cause?.code).toBe('ECONNRESET');
    const refused = await failure(nodeFetch('http://127.0.0.1:9/x'));
    expect(refused?.cause?.code).toBe('ECONNREFUSED');
    // A streamed body fails as it is read, as fetch's does.
    expect(await failure(nodeFetch(`${base}/bad-gzip`).then((r) => r.text()))).toBeInstanceOf(TypeError);
    const ac = new AbortController();
    const hang = failure(nodeFetch(`${base}/hang`, { signal: ac.signal }));
    setTimeout(() => ac.abort(), 20);
    expect((await hang)?.name).toBe('AbortError');
    expect((await failure(nodeFetch(`${base}/json`, { signal: AbortSignal.abort() })))?.name).toBe('AbortError');
  });
});
