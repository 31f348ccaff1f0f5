/**
 * The one HTTP transport of every model request, live or batch: Node's own fetch, with a bound on
 * the response body. Node's fetch already decompresses (gzip, deflate, br) as the body arrives, so
 * counting the bytes it hands over bounds the decompressed size: an endless body or a gzip bomb
 * costs at most `maxBytes` of memory, then the connection is dropped.
 * Failures are thrown as fetch throws them, `TypeError('fetch failed', {cause})`, with a cause
 * code the provider layer maps to an error kind (classify.ts): ERESPONSETOOLARGE for a body over
 * the bound, EBADENCODING for a body that does not decompress.
 */

/** Largest response body (after decompression) a request may hold by default: 16 MiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** A transport failure with a code the provider layer maps to an error kind (errorCode reads it). */
function failure(code: string, message: string): TypeError {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) });
}

/** Node's fetch with the body bound; the SDKs take it as their `fetch` option. */
export function boundedFetch(maxBytes = DEFAULT_MAX_RESPONSE_BYTES): typeof fetch {
  return async (input, init) => bounded(await fetch(input, init), maxBytes);
}

function bounded(res: Response, maxBytes: number): Response {
  // 204/304 carry no body (and a Response with a body may not have those statuses).
  if (!res.body || res.status === 204 || res.status === 205 || res.status === 304) return res;
  const encoding = res.headers.get('content-encoding')?.trim().toLowerCase();
  const encoded = !!encoding && encoding !== 'identity';
  const length = Number(res.headers.get('content-length') ?? NaN);
  // A plain body of a known size within the bound needs no counting (the parser holds the server to it).
  if (!encoded && length <= maxBytes) return res;
  const reader = res.body.getReader();
  let size = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        // A decompression error surfaces as "terminated" with the zlib code in its cause.
        const code = (err as { cause?: { code?: unknown } }).cause?.code;
        const bad = encoded && typeof code === 'string' && code.startsWith('Z_');
        const detail = (err as { cause?: { message?: string } }).cause?.message ?? String(err);
        controller.error(bad ? failure('EBADENCODING', `${encoding} body does not decompress: ${detail}`) : err);
        return;
      }
      if (chunk.done) return controller.close();
      size += chunk.value.byteLength;
      if (size <= maxBytes) return controller.enqueue(chunk.value);
      reader.cancel().catch(() => undefined);
      const over = `response body over ${maxBytes} bytes${encoded ? ' once decompressed' : ''}`;
      controller.error(failure('ERESPONSETOOLARGE', over));
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  const out = new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  // Response's constructor leaves url empty; the SDKs name it in some messages.
  Object.defineProperty(out, 'url', { value: res.url });
  return out;
}
