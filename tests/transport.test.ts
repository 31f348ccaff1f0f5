/** The one HTTP transport under both SDKs, live and batch: a bound on the (decompressed) body, streamed or whole. */
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { boundedFetch } from '../src/providers/http.js';
import { withServer } from './helpers.js';

const json = Buffer.from(JSON.stringify({ ok: true, text: '中文 ✓' }));
const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024));

/** The error a read fails with, and its cause's code. */
async function failure(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    return e as Error & { cause?: { code?: string; message?: string } };
  }
  throw new Error('expected a failure');
}

describe('boundedFetch', () => {
  it('reads plain and compressed bodies as fetch does, and stops a body over the bound as it arrives', async () => {
    await withServer(
      (req, res) => {
        const route = req.url!.slice(1);
        const enc = { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync }[route];
        if (enc) {
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': route });
          return res.end(enc(json));
        }
        if (route === 'bomb') {
          res.writeHead(200, { 'content-encoding': 'gzip' });
          return res.end(bomb);
        }
        if (route === 'bad-gzip') {
          res.writeHead(200, { 'content-encoding': 'gzip' });
          return res.end('not gzip at all');
        }
        if (route === 'endless') {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          const chunk = Buffer.alloc(16 * 1024, 32);
          const pump = () => {
            while (res.write(chunk));
          };
          res.on('drain', pump);
          return pump();
        }
        if (route === 'empty') {
          res.writeHead(204);
          return res.end();
        }
        res.writeHead(429, 'Too Many', { 'retry-after': '2', 'content-type': 'application/json' });
        res.end(json);
      },
      async (port) => {
        const f = boundedFetch(100_000);
        const url = (r: string) => `http://127.0.0.1:${port}/${r}`;
        for (const r of ['gzip', 'deflate', 'br'])
          expect(await (await f(url(r))).json()).toEqual(JSON.parse(`${json}`));
        const plain = await f(url('other'));
        expect([plain.status, plain.statusText, plain.headers.get('retry-after')]).toEqual([429, 'Too Many', '2']);
        expect(await plain.json()).toEqual(JSON.parse(`${json}`));
        expect((await f(url('empty'))).status).toBe(204);
        // A gzip bomb stops at the bound once decompressed; a body that does not decompress says so.
        const boom = await failure((await f(url('bomb'))).arrayBuffer());
        expect([boom.cause?.code, boom.cause?.message]).toEqual([
          'ERESPONSETOOLARGE',
          'response body over 100000 bytes once decompressed',
        ]);
        const bad = await failure((await f(url('bad-gzip'))).text());
        expect(bad.cause?.code).toBe('EBADENCODING');
        expect(bad.cause?.message).toMatch(/^gzip body does not decompress: /);
        // An endless stream is cut off at the bound, read piece by piece.
        const reader = (await f(url('endless'))).body!.getReader();
        let got = 0;
        const cut = await failure(
          (async () => {
            for (;;) {
              const { done, value } = await reader.read();
              if (done) return;
              got += value.byteLength;
            }
          })(),
        );
        expect(cut.cause?.code).toBe('ERESPONSETOOLARGE');
        expect(got).toBeLessThanOrEqual(100_000);
        // Aborts and refused connections fail as fetch fails.
        expect((await failure(f(url('gzip'), { signal: AbortSignal.abort() }))).name).toBe('AbortError');
      },
    );
    const refused = await failure(boundedFetch()('http://127.0.0.1:9/x'));
    expect(refused).toBeInstanceOf(TypeError);
  });
});
