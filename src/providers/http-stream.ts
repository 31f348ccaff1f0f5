/**
 * The body of a streamed response (SSE, NDJSON, a batch file) as a web stream read from the
 * socket as it arrives: decompressed when the server compressed it, counted after decompression,
 * and cut off at `maxBytes` (the socket is destroyed), so an endless stream or a gzip bomb costs
 * at most the bound. Back-pressure: the socket is paused while the reader has not asked for more.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate, createInflateRaw } from 'node:zlib';

export function streamedBody(
  req: ClientRequest,
  res: IncomingMessage,
  maxBytes: number,
  on: {
    /** The error the reader sees (an abort of the request wins over what the socket says). */
    fail: (e: Error) => Error;
    failure: (code: string, message: string) => TypeError;
    /** The body ended or failed: the request's abort listener can go. */
    done: () => void;
  },
): ReadableStream<Uint8Array> {
  const encoding = res.headers['content-encoding']?.trim().toLowerCase() ?? 'identity';
  const encoded = encoding !== 'identity';
  const z = encoded ? decoder(encoding) : undefined;
  const src: Readable = z ? res.pipe(z) : res;
  let size = 0;
  let finished = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const end = (e?: Error) => {
        if (finished) return;
        finished = true;
        on.done();
        if (e) controller.error(e);
        else controller.close();
      };
      if (encoded && !z) {
        req.destroy();
        return end(on.failure('EBADENCODING', `unsupported content-encoding '${encoding}'`));
      }
      src.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          req.destroy();
          const over = `response body over ${maxBytes} bytes${encoded ? ' once decompressed' : ''}`;
          return end(on.failure('ERESPONSETOOLARGE', over));
        }
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
        if ((controller.desiredSize ?? 1) <= 0) src.pause();
      });
      src.on('end', () => end());
      const broken = (err: Error) => {
        const code = (err as { code?: unknown }).code;
        const zlib = encoded && typeof code === 'string' && code.startsWith('Z_');
        const e = zlib
          ? on.failure('EBADENCODING', `${encoding} body does not decompress: ${err.message}`)
          : new TypeError('terminated', { cause: err });
        end(on.fail(e));
      };
      src.on('error', broken);
      if (z) res.on('error', broken);
      // The connection closed before the body ended.
      res.on('aborted', () => broken(Object.assign(new Error('connection closed mid-body'), { code: 'ECONNRESET' })));
    },
    pull() {
      if (src.isPaused()) src.resume();
    },
    cancel() {
      finished = true;
      on.done();
      req.destroy();
    },
  });
}

/** A streaming decompressor for the encodings fetch takes. */
function decoder(encoding: string): Transform | undefined {
  if (encoding === 'gzip' || encoding === 'x-gzip') return createGunzip();
  if (encoding === 'br') return createBrotliDecompress();
  if (encoding === 'deflate') return new InflateAuto();
  return undefined;
}

/** `deflate` as servers send it: zlib-wrapped or raw, told apart by the first byte (as fetch does). */
class InflateAuto extends Transform {
  private z: Transform | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (!this.z) {
      this.z = (chunk[0] & 0x0f) === 8 ? createInflate() : createInflateRaw();
      this.z.on('data', (d: Buffer) => this.push(d));
      this.z.on('error', (e) => this.destroy(e));
    }
    this.z.write(chunk, () => cb());
  }

  override _flush(cb: TransformCallback): void {
    if (!this.z) return cb();
    this.z.once('end', () => cb());
    this.z.end();
  }
}

/**
 * A response whose body is a stream, with the part of the fetch `Response` interface the SDKs use.
 * The built-in Response costs more to build (its checks of every header and option) than the rest
 * of a streamed answer's handling.
 */
export class StreamedResponse<H> {
  readonly ok: boolean;
  readonly redirected = false;
  readonly type = 'basic';

  constructor(
    readonly url: string,
    readonly status: number,
    readonly statusText: string,
    readonly headers: H,
    private stream: ReadableStream<Uint8Array> | null,
  ) {
    this.ok = status >= 200 && status <= 299;
  }

  get body(): ReadableStream<Uint8Array> | null {
    return this.stream;
  }
  private used = false;
  get bodyUsed(): boolean {
    return this.used || (this.stream?.locked ?? false);
  }
  async bytes(): Promise<Uint8Array> {
    if (this.bodyUsed) throw new TypeError('Body is unusable: Body has already been read');
    this.used = true;
    if (!this.stream) return new Uint8Array(0);
    const parts: Uint8Array[] = [];
    for await (const part of this.stream as unknown as AsyncIterable<Uint8Array>) parts.push(part);
    return Buffer.concat(parts);
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = await this.bytes();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }
  async text(): Promise<string> {
    const s = Buffer.from(await this.bytes()).toString('utf8');
    return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
  }
  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }
  clone(): StreamedResponse<H> {
    if (!this.stream) return new StreamedResponse(this.url, this.status, this.statusText, this.headers, null);
    const [a, b] = this.stream.tee();
    this.stream = a;
    return new StreamedResponse(this.url, this.status, this.statusText, this.headers, b);
  }
}

/** The same response with another body (a check or transform of the stream), headers and status kept. */
export function withBody(res: Response, body: ReadableStream<Uint8Array>): Response {
  return new StreamedResponse(res.url, res.status, res.statusText, res.headers, body) as unknown as Response;
}
