import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * A small `fetch` over node:http(s) with keep-alive agents, handed to the openai and ollama SDKs.
 * The SDKs stay the real ones; only the transport underneath is lighter than the built-in fetch
 * (no web streams per request), which halves the CPU a request costs at high request rates.
 * Responses are buffered whole: gapbench never streams (it grades complete answers).
 * Failures are thrown as `TypeError('fetch failed', {cause})`, as the built-in fetch does, so the
 * SDKs classify them the same way.
 */
const agents = {
  http: new HttpAgent({ keepAlive: true, maxSockets: Infinity, scheduling: 'lifo' }),
  https: new HttpsAgent({ keepAlive: true, maxSockets: Infinity, scheduling: 'lifo' }),
};

export const nodeFetch: typeof fetch = (input, init = {}) =>
  new Promise<Response>((resolve, reject) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const signal = init.signal ?? undefined;
    if (signal?.aborted) return reject(abortError(signal));
    const headers: Record<string, string> = {};
    const given = init.headers;
    if (given instanceof Headers) given.forEach((v, k) => (headers[k] = v));
    else if (Array.isArray(given)) for (const [k, v] of given) headers[k.toLowerCase()] = v;
    else if (given) for (const [k, v] of Object.entries(given)) headers[k.toLowerCase()] = String(v);
    const body = init.body;
    if (body !== undefined && body !== null && typeof body !== 'string') {
      return reject(new TypeError('gapbench fetch: only string bodies are supported'));
    }
    if (typeof body === 'string') headers['content-length'] = String(Buffer.byteLength(body));
    const isHttps = url.protocol === 'https:';
    const req = (isHttps ? httpsRequest : httpRequest)(url, { method: init.method ?? 'GET', headers, agent: isHttps ? agents.https : agents.http });
    const onAbort = () => req.destroy(abortError(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => signal?.removeEventListener('abort', onAbort);
    req.on('error', (err) => {
      done();
      reject(signal?.aborted ? abortError(signal) : new TypeError('fetch failed', { cause: err }));
    });
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => {
        done();
        reject(signal?.aborted ? abortError(signal) : new TypeError('fetch failed', { cause: err }));
      });
      res.on('end', () => {
        done();
        const h: [string, string][] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) h.push([res.rawHeaders[i], res.rawHeaders[i + 1]]);
        const status = res.statusCode ?? 0;
        const payload = status === 204 || status === 304 ? null : Buffer.concat(chunks);
        resolve(new Response(payload, { status, statusText: res.statusMessage ?? '', headers: h }));
      });
    });
    req.end(body);
  });

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason as Error | undefined;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  const e = new DOMException('This operation was aborted', 'AbortError');
  return e;
}
