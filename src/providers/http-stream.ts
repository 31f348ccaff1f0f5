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
