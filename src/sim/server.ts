/**
 * A loopback simulator that speaks the real OpenAI and Ollama wire protocols, so the
 * harness, its tests, the demo and users' CI run against real SDKs over real HTTP.
 *
 * Everything it does is deterministic given `seed`: which prompts are answered correctly
 * (per prompt), and which requests fail (per request, from a PRNG stream per model, so a
 * retried request can succeed). The same model list is served on both protocols.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BatchEngine } from './batch.js';
import { decodeId, handleBatchApi, type BatchApiDeps } from './batchapi.js';
import { Deadlines } from './deadline.js';
import { FileStore } from './files.js';
import { handleChat, sendBody, sendError, type ChatDeps } from './chat.js';
import { ModelRuntime } from './model.js';
import { OLLAMA_VERSION, ollamaProtocol, ollamaTagEntry } from './ollama.js';
import { openaiModelEntry, openaiProtocol } from './openai.js';
import { SimSpecError, validateSimBatchOptions, validateSimModel } from './spec.js';
import type { SimOptions, SimStats, Simulator } from './types.js';

function checkOptions(opts: SimOptions): void {
  if (!Array.isArray(opts?.models) || opts.models.length === 0) {
    throw new SimSpecError('startSimulator: expected `models` to be a non-empty array');
  }
  const names = new Set<string>();
  for (const m of opts.models) {
    validateSimModel(m);
    if (names.has(m.name)) throw new SimSpecError(`startSimulator: model "${m.name}" is listed twice`);
    names.add(m.name);
  }
  if (opts.seed !== undefined && !Number.isFinite(opts.seed)) {
    throw new SimSpecError(`startSimulator: expected \`seed\` to be a finite number, got ${String(opts.seed)}`);
  }
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SimSpecError(
      `startSimulator: expected \`port\` to be an integer from 0 to 65535, got ${String(opts.port)}`,
    );
  }
  if (opts.answers !== undefined && typeof opts.answers.lookup !== 'function') {
    throw new SimSpecError('startSimulator: expected `answers` to have a lookup(prompt) function');
  }
  validateSimBatchOptions(opts.batch);
}

/** The host part of a URL that reaches `host` (wildcards become loopback; IPv6 gets brackets). */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startSimulator(opts: SimOptions): Promise<Simulator> {
  checkOptions(opts);
  const seed = opts.seed ?? 0;
  const host = opts.host ?? '127.0.0.1';
  const startedAt = new Date();
  const runtimes = new Map<string, ModelRuntime>();
  for (const m of opts.models) runtimes.set(m.name, new ModelRuntime(m, seed, opts.answers, performance.now()));

  // Ollama treats `x` and `x:latest` as the same model; so do we, on both protocols.
  const resolve = (name: string): ModelRuntime | undefined =>
    runtimes.get(name) ?? (name.endsWith(':latest') ? runtimes.get(name.slice(0, -7)) : runtimes.get(`${name}:latest`));

  const created = Math.floor(startedAt.getTime() / 1000);
  const modelsBody = JSON.stringify({
    object: 'list',
    data: [...runtimes.keys()].map((n) => openaiModelEntry(n, created)),
  });
  const tagsBody = JSON.stringify({
    models: [...runtimes.keys()].map((n) => ollamaTagEntry(n, startedAt.toISOString())),
  });
  const versionBody = JSON.stringify({ version: OLLAMA_VERSION });
  const bearer = opts.apiKey === undefined ? undefined : `Bearer ${opts.apiKey}`;

  let requests = 0;
  let seq = 0;
  const deps: ChatDeps = {
    resolve,
    global: { inFlight: 0 },
    active: new Set(),
    nextId: () => `chatcmpl-sim${(++seq).toString(36).padStart(10, '0')}`,
    deadlines: new Deadlines(),
  };

  const files = new FileStore();
  const batches = new BatchEngine({
    files,
    resolve,
    nextChatId: deps.nextId,
    seed,
    timing: {
      delayMs: opts.batch?.delayMs ?? 200,
      failEvery: opts.batch?.failEvery,
      expireAfterMs: opts.batch?.expireAfterMs,
    },
  });
  const batchDeps: BatchApiDeps = {
    files,
    batches,
    // OpenAI's limits: 50,000 requests and 200 MB per batch input file.
    limits: {
      maxRequestsPerFile: opts.batch?.maxRequestsPerFile ?? 50_000,
      maxFileBytes: opts.batch?.maxFileBytes ?? 200_000_000,
    },
    modelName: (name) => resolve(name)?.name,
  };

  const routeOpenAI = (req: IncomingMessage, res: ServerResponse, method: string, url: string): void => {
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (bearer !== undefined && req.headers.authorization !== bearer) {
      sendError(res, openaiProtocol, 401, { kind: 'unauthorized', missing: req.headers.authorization === undefined });
    } else if (handleBatchApi(req, res, method, path, new URLSearchParams(q < 0 ? '' : url.slice(q + 1)), batchDeps)) {
      // Served by the Files / Batches API.
    } else if (method === 'POST' && path === '/v1/chat/completions') {
      void handleChat(req, res, openaiProtocol, deps).catch(() => res.destroy());
    } else if (method === 'GET' && path === '/v1/models') {
      sendBody(res, 200, 'application/json', modelsBody);
    } else if (method === 'GET' && path.startsWith('/v1/models/')) {
      const id = decodeId(path.slice('/v1/models/'.length));
      const rt = resolve(id);
      if (rt === undefined) sendError(res, openaiProtocol, 404, { kind: 'not_found', model: id });
      else sendBody(res, 200, 'application/json', JSON.stringify(openaiModelEntry(rt.name, created)));
    } else {
      sendError(res, openaiProtocol, 404, { kind: 'no_route', method, path });
    }
  };

  const server = createServer((req, res) => {
    requests++;
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path.startsWith('/v1/')) routeOpenAI(req, res, method, url);
    else if (method === 'POST' && path === '/api/chat')
      void handleChat(req, res, ollamaProtocol, deps).catch(() => res.destroy());
    else if (method === 'GET' && path === '/api/tags') sendBody(res, 200, 'application/json', tagsBody);
    else if (method === 'GET' && path === '/api/version') sendBody(res, 200, 'application/json', versionBody);
    else if ((method === 'GET' || method === 'HEAD') && path === '/')
      sendBody(res, 200, 'text/plain; charset=utf-8', 'Ollama is running');
    else sendError(res, ollamaProtocol, 404, { kind: 'no_route', method, path });
  });
  // Longer than clients' idle keep-alive, so the server never closes a socket a client is reusing.
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${urlHost(host)}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    openaiBaseURL: `${url}/v1`,
    ollamaHost: url,
    stats(): SimStats {
      const byModel: SimStats['byModel'] = {};
      const maxInFlight: Record<string, number> = {};
      for (const rt of runtimes.values()) {
        const c = rt.counters;
        byModel[rt.name] = {
          requests: c.requests,
          ok: c.ok,
          faults: { ...c.faults },
          rateLimited: c.rateLimited,
          meanLatencyMs: c.ok ? c.latencySumMs / c.ok : NaN,
        };
        maxInFlight[rt.name] = rt.maxInFlight;
      }
      return {
        requests,
        byModel,
        inFlight: deps.global.inFlight,
        maxInFlight,
        batches: { ...batches.counts },
        files: { uploaded: files.uploaded },
      };
    },
    resetStats(): void {
      requests = 0;
      for (const rt of runtimes.values()) rt.resetCounters();
      for (const k of Object.keys(batches.counts) as (keyof typeof batches.counts)[]) batches.counts[k] = 0;
      files.uploaded = 0;
    },
    close(): Promise<void> {
      closing ??= new Promise<void>((done, fail) => {
        batches.close();
        server.close((err) => (err ? fail(err) : done()));
        // Hung and keep-alive sockets would otherwise hold close() open.
        server.closeAllConnections();
        // Responses hear of their sockets closing only later; settle their timers and counts now.
        for (const release of [...deps.active]) release();
      });
      return closing;
    },
  };
}
