/**
 * Hostile Hub mirrors and hostile pins: every name is contained in the cache, every download is
 * bounded in time and size, an endpoint's credentials are never shown, and a file one endpoint
 * served is never trusted for another.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { cachedPath, hubDigest, hubFile, hubFiles, type HubPin } from '../src/suite/hub.js';
import { cli, tempDir, withServer } from './helpers.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const FILE = Buffer.from('{"q":"1+1?","a":"2"}\n');

/** Every file under `dir`, recursively (relative paths). */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

const serveFile =
  (body: Buffer, seen: { url?: string; auth?: string }[] = []) =>
  (req: IncomingMessage, res: ServerResponse) => {
    seen.push({ url: req.url, auth: req.headers.authorization });
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
  };

describe('contained Hub paths', () => {
  it.each([
    [
      'repo',
      'repo: "../.."\n    revision: r1\n    files:\n      x.jsonl: null',
      /source\.hub\.repo: must be owner\/name/,
    ],
    [
      'revision',
      'repo: me/x\n    revision: "../../../../escape"\n    files:\n      x.jsonl: null',
      /source\.hub\.revision: must be/,
    ],
    [
      'file',
      'repo: me/x\n    revision: r1\n    files:\n      "../../../../../escape.jsonl": null',
      /source\.hub\.files.*must be a path inside the repository/,
    ],
    [
      'absolute file',
      'repo: me/x\n    revision: r1\n    files:\n      "/etc/passwd": null',
      /must be a path inside the repository/,
    ],
  ])('`..` in the %s: exit 2 in one line, no request, nothing written', async (_what, hub, message) => {
    const seen: { url?: string }[] = [];
    await withServer(serveFile(FILE, seen), async (port) => {
      const dir = tempDir();
      writeFileSync(
        join(dir, 's.yaml'),
        `name: s\ntemplate: "{{q}}"\nsource:\n  path: \${NOPE}\n  fields: { expected: a }\n  hub:\n    ${hub}\n`,
      );
      const before = tree(dir);
      const r = await cli(['validate', 's.yaml'], { cwd: dir, env: { HF_ENDPOINT: `http://127.0.0.1:${port}` } });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(seen).toHaveLength(0);
      // The suite's parse cache may be written (in the cache directory); no Hub file, no .sha256.
      expect(tree(dir).filter((f) => !f.startsWith('.cache/parsed'))).toEqual(before);
    });
  });

  it('a pin given to the library directly is checked too, before any byte is fetched or written', async () => {
    const cache = join(tempDir(), 'cache');
    for (const pin of [
      { repo: '../..', revision: 'r1', files: { 'x.jsonl': null } },
      { repo: 'me/x', revision: '..', files: { 'x.jsonl': null } },
      { repo: 'me/x', revision: 'r1', files: { 'a/../../../../x.jsonl': null } },
      { repo: 'me/x', revision: 'r1', files: { 'a\\..\\..\\x': null } },
    ] satisfies HubPin[]) {
      await expect(
        hubFiles(pin, { vars: { HF_ENDPOINT: 'http://127.0.0.1:9', GAPBENCH_CACHE_DIR: cache } }),
      ).rejects.toThrow(/^source\.hub\.(repo|revision|files) /);
    }
    expect(existsSync(cache)).toBe(false);
  });
});

describe('bounded Hub downloads', () => {
  const pin: HubPin = { repo: 'me/x', revision: 'r1', files: { 'x.jsonl': null } };

  it('a mirror that trickles one byte every 2 s is cut by the idle timeout; nothing is cached', async () => {
    const timers: NodeJS.Timeout[] = [];
    await withServer(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 1000 });
        res.write('{');
        timers.push(setInterval(() => res.write(' '), 2000));
      },
      async (port) => {
        const cache = tempDir();
        const vars = {
          HF_ENDPOINT: `http://127.0.0.1:${port}`,
          GAPBENCH_CACHE_DIR: cache,
          GAPBENCH_HUB_IDLE_TIMEOUT: '0.3',
        };
        await expect(hubFile(pin, 'x.jsonl', { vars })).rejects.toThrow(
          /^cannot download x\.jsonl from http:\/\/127\.0\.0\.1:\d+\/datasets\/me\/x\/resolve\/r1\/x\.jsonl: stalled: no data for 0\.3 s \(GAPBENCH_HUB_IDLE_TIMEOUT\) \(nothing was cached\)$/,
        );
        expect(tree(cache)).toEqual([]);
      },
    );
    timers.forEach(clearInterval);
  });

  it('a mirror that never sends its headers is cut by the connect/header timeout', async () => {
    await withServer(
      () => undefined,
      async (port) => {
        const vars = {
          HF_ENDPOINT: `http://127.0.0.1:${port}`,
          GAPBENCH_CACHE_DIR: tempDir(),
          GAPBENCH_HUB_TIMEOUT: '0.3',
        };
        await expect(hubFile(pin, 'x.jsonl', { vars })).rejects.toThrow(
          /: no answer within 0\.3 s \(GAPBENCH_HUB_TIMEOUT\)$/,
        );
      },
    );
  });

  it('a gzip bomb is cut at the size bound as it inflates; nothing is cached, no digest recorded', async () => {
    const bomb = gzipSync(Buffer.alloc(64 << 20)); // 64 MiB of zeros in about 64 KB
    expect(bomb.length).toBeLessThan(1 << 17);
    await withServer(
      (_req, res) =>
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-encoding': 'gzip' }).end(bomb),
      async (port) => {
        const cache = tempDir();
        const vars = { HF_ENDPOINT: `http://127.0.0.1:${port}`, GAPBENCH_CACHE_DIR: cache };
        await expect(hubFile(pin, 'x.jsonl', { vars, maxBytes: 4 << 20 })).rejects.toThrow(
          /: over the 4194304 bytes a source file may have \(after decompression\) \(nothing was cached\)$/,
        );
        expect(tree(cache)).toEqual([]);
      },
    );
  });

  it('a declared length over the bound is refused before the body is read', async () => {
    await withServer(
      (_req, res) =>
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 1 << 30 }).write('x'),
      async (port) => {
        const vars = { HF_ENDPOINT: `http://127.0.0.1:${port}`, GAPBENCH_CACHE_DIR: tempDir() };
        await expect(hubFile(pin, 'x.jsonl', { vars, maxBytes: 1 << 20 })).rejects.toThrow(
          /1073741824 bytes, over the 1048576/,
        );
      },
    );
  });

  it('credentials in HF_ENDPOINT are sent as Basic authorization and never printed or cached under', async () => {
    const seen: { url?: string; auth?: string }[] = [];
    await withServer(
      (req, res) => {
        seen.push({ url: req.url, auth: req.headers.authorization });
        res.writeHead(404).end('no');
      },
      async (port) => {
        const dir = tempDir();
        writeFileSync(
          join(dir, 's.yaml'),
          'name: s\ntemplate: "{{q}}"\nsource:\n  path: ${NOPE}\n  fields: { expected: a }\n  hub:\n    repo: me/x\n    revision: r1\n    files:\n      x.jsonl: null\n',
        );
        const r = await cli(['validate', 's.yaml'], {
          cwd: dir,
          env: { HF_ENDPOINT: `http://user:hunter2pw@127.0.0.1:${port}` },
        });
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(
          new RegExp(
            `cannot download x\\.jsonl from http://127\\.0\\.0\\.1:${port}/datasets/me/x/resolve/r1/x\\.jsonl: HTTP 404`,
          ),
        );
        expect(r.stdout + r.stderr).not.toContain('hunter2pw');
        expect(seen[0].auth).toBe(`Basic ${Buffer.from('user:hunter2pw').toString('base64')}`);
        expect(tree(dir).join('\n')).not.toContain('hunter2pw');
      },
    );
  });
});

describe('cache entries keyed by endpoint', () => {
  it('an unpinned file from a hostile mirror is never used for the real Hub: downloaded again and compared', async () => {
    const cache = tempDir();
    const pin: HubPin = { repo: 'me/x', revision: 'r1', files: { 'x.jsonl': null } };
    const evil = Buffer.from('{"q":"1+1?","a":"3"}\n');
    const logs: string[] = [];
    let mirror = '';
    await withServer(serveFile(evil), async (port) => {
      mirror = `http://127.0.0.1:${port}`;
      await hubFiles(pin, { vars: { HF_ENDPOINT: mirror, GAPBENCH_CACHE_DIR: cache }, log: (l) => logs.push(l) });
    });
    // The first download's digest is printed so it can be pinned.
    expect(logs).toEqual([
      `note: me/x/x.jsonl is not pinned; its first download (from ${mirror}) has sha256 ${sha(evil)}: record them in the suite (node scripts/hub-pins.mjs SUITE.yaml) so no other copy is accepted`,
    ]);
    const seen: { url?: string }[] = [];
    await withServer(serveFile(FILE, seen), async (port) => {
      const vars = { HF_ENDPOINT: `http://127.0.0.1:${port}`, GAPBENCH_CACHE_DIR: cache };
      await expect(hubFiles(pin, { vars, log: () => undefined })).rejects.toThrow(
        /^me\/x\/x\.jsonl from http:\/\/127\.0\.0\.1:\d+ \(sha256 [0-9a-f]{12}…\) differs from the copy another endpoint served .*pin the right sha256 in the suite \(nothing was cached\)$/,
      );
      expect(seen).toHaveLength(1); // asked the real endpoint, not served from the mirror's copy
      expect(existsSync(cachedPath(pin, 'x.jsonl', vars))).toBe(false);
      // Pinned to the real digest, the real file is accepted (and the mirror's copy never is).
      const pinned = { ...pin, files: { 'x.jsonl': sha(FILE) } };
      const [got] = await hubFiles(pinned, { vars });
      expect(got.local).toBe(cachedPath(pin, 'x.jsonl', vars));
      // What scripts/hub-pins.mjs records comes from the same endpoint-keyed, bounded download.
      expect(await hubDigest(pin, 'x.jsonl', { vars })).toBe(sha(FILE));
      await expect(hubFiles(pinned, { vars: { HF_ENDPOINT: mirror, GAPBENCH_CACHE_DIR: cache } })).rejects.toThrow(
        /cached x\.jsonl does not match its checksum/,
      );
    });
  });
});
