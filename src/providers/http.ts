import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { brotliDecompressSync, constants as zlibConstants, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { streamedBody, StreamedResponse } from './http-stream.js';

/**
 * The one HTTP transport of every model request, live or batch: a small `fetch` over node:http(s)
 * with keep-alive agents, handed to the openai and ollama SDKs as their `fetch` option. The SDKs
 * stay the real ones; only the transport underneath is lighter than Node's fetch, which costs
 * about twice the CPU per request (measured in `npm run bench` speed and realistic).
 * A small JSON answer of known length is buffered whole (no web stream); a streamed answer (SSE,
 * NDJSON), a body of unknown or large length (batch files) arrives as a stream. Either way the
 * decompressed body is bounded. Failures are thrown as `TypeError('fetch failed', {cause})`, as
 * the built-in fetch does, so the SDKs classify them the same way.
 */
const agents = {
  http: new HttpAgent({ keepAlive: true, maxSockets: Infinity, scheduling: 'lifo' }),
  https: new HttpsAgent({ keepAlive: true, maxSockets: Infinity, scheduling: 'lifo' }),
};

/** Largest response body (after decompression) a request may hold by default: 16 MiB. */
const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** Bodies up to this size, of known length and not a stream, are buffered whole. */
const BUFFER_LIMIT = 1024 * 1024;

/** A transport failure with a code the provider layer maps to an error kind (errorCode reads it). */
export function failure(code: string, message: string): TypeError {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) });
}

/**
 * The fetch with a bound on the response body: a body (decompressed) larger than `maxBytes` is
 * cut off as it arrives (the socket is destroyed), so one endless or inflating response costs at
 * most `maxBytes` of memory; it fails with code ERESPONSETOOLARGE, a body that does not
 * decompress with EBADENCODING.
 */
export function boundedFetch(maxBytes = DEFAULT_MAX_RESPONSE_BYTES): typeof fetch {
  return async (input, given) => {
    const init = given ?? {};
    const body = init.body;
    // A multipart upload or a stream: serialized by the platform's Request, then sent as bytes.
    if (body !== undefined && body !== null && typeof body !== 'string') {
      const blob = await new Request('http://body.invalid/', {
        method: 'POST',
        body,
        headers: init.headers,
        // Needed by the platform when the body is a stream; it is read whole here.
        duplex: 'half',
      } as RequestInit).blob();
      const headers = new Headers(init.headers);
      if (blob.type && !headers.has('content-type')) headers.set('content-type', blob.type);
      return send(input, { ...init, headers, body: null }, maxBytes, blob);
    }
    return send(input, init, maxBytes);
  };
}

const send = (input: Parameters<typeof fetch>[0], init: RequestInit, maxBytes: number, blob?: Blob) =>
  new Promise<Response>((resolve, reject) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const signal = init.signal ?? undefined;
    if (signal?.aborted) return reject(abortError(signal));
    const headers: Record<string, string> = {};
    const given = init.headers;
    if (given instanceof Headers) given.forEach((v, k) => (headers[k] = v));
    else if (Array.isArray(given)) for (const [k, v] of given) headers[k.toLowerCase()] = v;
    else if (given) for (const [k, v] of Object.entries(given)) headers[k.toLowerCase()] = String(v);
    const body = init.body as string | null | undefined;
    if (typeof body === 'string') headers['content-length'] = String(Buffer.byteLength(body));
    if (blob) headers['content-length'] = String(blob.size);
    const isHttps = url.protocol === 'https:';
    const req = (isHttps ? httpsRequest : httpRequest)(url, {
      method: init.method ?? 'GET',
      headers,
      agent: isHttps ? agents.https : agents.http,
    });
    const onAbort = () => req.destroy(abortError(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => signal?.removeEventListener('abort', onAbort);
    req.on('error', (err) => {
      done();
      reject(signal?.aborted ? abortError(signal) : new TypeError('fetch failed', { cause: err }));
    });
    req.on('response', (res: IncomingMessage) => {
      const length = Number(res.headers['content-length'] ?? NaN);
      const type = res.headers['content-type'] ?? '';
      if (!(length <= BUFFER_LIMIT) || /event-stream|ndjson/i.test(type)) {
        // Streamed: the abort listener stays until the body ends (or fails).
        return resolve(streamedResponse(url.href, req, res, maxBytes, signal, done));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= maxBytes) chunks.push(c);
        else {
          done();
          chunks.length = 0;
          req.destroy();
          reject(failure('ERESPONSETOOLARGE', `response body over ${maxBytes} bytes`));
        }
      });
      res.on('error', (err) => {
        done();
        reject(signal?.aborted ? abortError(signal) : new TypeError('fetch failed', { cause: err }));
      });
      res.on('end', () => {
        done();
        const status = res.statusCode ?? 0;
        let payload = status === 204 || status === 304 ? null : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
        // No accept-encoding is sent, but a server may compress anyway: undo it as fetch would.
        const encoding = res.headers['content-encoding']?.trim().toLowerCase();
        if (payload && encoding && encoding !== 'identity') {
          try {
            payload = decode(payload, encoding, maxBytes);
          } catch (err) {
            const tooLarge = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
            return reject(
              tooLarge
                ? failure('ERESPONSETOOLARGE', `response body over ${maxBytes} bytes once decompressed`)
                : failure('EBADENCODING', `${encoding} body does not decompress: ${(err as Error).message}`),
            );
          }
        }
        resolve(
          new BufferedResponse(
            url.href,
            status,
            res.statusMessage ?? '',
            res.rawHeaders,
            payload,
          ) as unknown as Response,
        );
      });
    });
    if (blob) Readable.fromWeb(blob.stream() as import('node:stream/web').ReadableStream).pipe(req);
    else req.end(body);
  });

/** A response whose body arrives as a stream (bounded, decompressed, abortable). */
function streamedResponse(
  url: string,
  req: ClientRequest,
  res: IncomingMessage,
  maxBytes: number,
  signal: AbortSignal | undefined,
  done: () => void,
): Response {
  const status = res.statusCode ?? 0;
  const nullBody = status === 204 || status === 205 || status === 304;
  if (nullBody) res.resume();
  const body = nullBody
    ? null
    : streamedBody(req, res, maxBytes, {
        fail: (e) => (signal?.aborted ? abortError(signal) : e),
        failure,
        done,
      });
  const headers = new BufferedHeaders(res.rawHeaders);
  return new StreamedResponse(url, status, res.statusMessage ?? '', headers, body) as unknown as Response;
}

/**
 * The `Headers` of a buffered response: what the SDKs and gapbench read (get, has, iteration).
 * Repeated fields are joined with ", " as fetch does (set-cookie too; nothing here reads cookies).
 */
class BufferedHeaders {
  private readonly map = new Map<string, string>();

  constructor(raw: readonly string[]) {
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const k = raw[i].toLowerCase();
      const prev = this.map.get(k);
      this.map.set(k, prev === undefined ? raw[i + 1] : `${prev}, ${raw[i + 1]}`);
    }
  }
  get(name: string): string | null {
    return this.map.get(name.toLowerCase()) ?? null;
  }
  has(name: string): boolean {
    return this.map.has(name.toLowerCase());
  }
  getSetCookie(): string[] {
    const v = this.map.get('set-cookie');
    return v === undefined ? [] : [v];
  }
  forEach(fn: (value: string, key: string, parent: BufferedHeaders) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
  *entries(): IterableIterator<[string, string]> {
    // Sorted by name, as fetch's Headers iterate.
    yield* [...this.map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
  *keys(): IterableIterator<string> {
    for (const [k] of this.entries()) yield k;
  }
  *values(): IterableIterator<string> {
    for (const [, v] of this.entries()) yield v;
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

/**
 * A whole, already received response with the part of the fetch `Response` interface the SDKs
 * use (status, ok, headers, text, json, arrayBuffer, body). The built-in Response wraps every body
 * in a web stream, which costs more per request than the rest of this transport.
 */
class BufferedResponse {
  readonly ok: boolean;
  readonly headers: BufferedHeaders;
  readonly redirected = false;
  readonly type = 'basic';
  bodyUsed = false;

  constructor(
    readonly url: string,
    readonly status: number,
    readonly statusText: string,
    rawHeaders: readonly string[],
    private payload: Buffer | null,
  ) {
    this.ok = status >= 200 && status <= 299;
    this.headers = new BufferedHeaders(rawHeaders);
  }

  private take(): Buffer {
    if (this.bodyUsed) throw new TypeError('Body is unusable: Body has already been read');
    this.bodyUsed = true;
    const b = this.payload ?? Buffer.alloc(0);
    this.payload = null;
    return b;
  }
  async text(): Promise<string> {
    const s = this.take().toString('utf8');
    return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
  }
  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = this.take();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }
  async bytes(): Promise<Uint8Array> {
    return new Uint8Array(await this.arrayBuffer());
  }
  private stream: ReadableStream<Uint8Array> | null | undefined;
  /**
   * A stream over the bytes (what the SDKs read when they stream). Looking at `body` reads
   * nothing, as with fetch's Response: the SDKs check it before they decide how to read.
   */
  get body(): ReadableStream<Uint8Array> | null {
    if (this.stream !== undefined) return this.stream;
    if (this.bodyUsed || this.payload === null) return null;
    const take = () => new Uint8Array(this.take());
    // highWaterMark 0: nothing is taken until the stream is read.
    this.stream = new ReadableStream(
      {
        pull(c) {
          c.enqueue(take());
          c.close();
        },
      },
      { highWaterMark: 0 },
    );
    return this.stream;
  }
  clone(): BufferedResponse {
    if (this.bodyUsed) throw new TypeError('Response.clone: Body has already been consumed.');
    const raw: string[] = [];
    for (const [k, v] of this.headers.entries()) raw.push(k, v);
    return new BufferedResponse(this.url, this.status, this.statusText, raw, this.payload && Buffer.from(this.payload));
  }
}

/** Decompresses a body, never past `max` bytes of output (zlib stops and throws ERR_BUFFER_TOO_LARGE). */
function decode(body: Buffer, encoding: string, max: number): Buffer {
  const opts = { maxOutputLength: max };
  if (encoding === 'gzip' || encoding === 'x-gzip')
    return gunzipSync(body, { ...opts, finishFlush: zlibConstants.Z_SYNC_FLUSH });
  if (encoding === 'deflate')
    return body[0] !== undefined && (body[0] & 0x0f) === 8 ? inflateSync(body, opts) : inflateRawSync(body, opts);
  if (encoding === 'br') return brotliDecompressSync(body, opts);
  throw new Error(`unsupported content-encoding '${encoding}'`);
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason as Error | undefined;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  return new DOMException('This operation was aborted', 'AbortError');
}
