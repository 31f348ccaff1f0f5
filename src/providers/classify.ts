import { errorCode, ProviderError, redact } from '../errors.js';
import type { ErrorKind } from '../types.js';
import { parseRetryAfter, type HeaderGetter } from './retry-after.js';

/**
 * The one mapping from a failed request to an error kind, shared by every protocol: the lane
 * decides from the kind whether to retry, stop the lane, or record the error.
 */
function kindForStatus(status: number): ErrorKind {
  if (status === 429) return 'rate_limit';
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not_found';
  if (status === 408) return 'timeout';
  if (status >= 500) return 'server';
  return 'bad_request';
}

/** A server's message, made safe to store and print: no secret, one line, bounded. */
export function cleanMessage(text: string, secrets: readonly string[] = [], max = 500): string {
  return redact(text, secrets).replace(/\s+/g, ' ').trim().slice(0, max);
}

/** An HTTP error answer. Rate limits and server errors carry the server's retry-after. */
export function httpError(
  modelId: string,
  status: number,
  message: string,
  headers: HeaderGetter | undefined,
  hint = '',
): ProviderError {
  const kind = kindForStatus(status);
  const retryAfterMs = kind === 'rate_limit' || kind === 'server' ? parseRetryAfter(headers) : undefined;
  return new ProviderError(kind, `model '${modelId}': HTTP ${status}: ${message}${hint}`, { status, retryAfterMs });
}

/** A request ended by its signal: the per-request timeout (retryable) or the run stopping. */
export function abortedError(signal: AbortSignal, modelId: string): ProviderError {
  const kind = (signal.reason as { name?: string } | undefined)?.name === 'TimeoutError' ? 'timeout' : 'aborted';
  const why = kind === 'timeout' ? 'no answer within the timeout' : 'request aborted';
  return new ProviderError(kind, `model '${modelId}': ${why}`);
}

/** The server was not reached, or the connection broke before an answer. */
export function networkError(modelId: string, where: string, err: unknown, hint = ''): ProviderError {
  const code = errorCode(err);
  // The bounded transport's own failures: the server answered, but not with something usable.
  if (code === 'ERESPONSETOOLARGE' || code === 'EBADENCODING') {
    const detail = causeMessage(err);
    const kind = code === 'ERESPONSETOOLARGE' ? 'response_too_large' : 'bad_response';
    const more = kind === 'response_too_large' ? ' (maxResponseBytes sets the limit)' : '';
    return new ProviderError(kind, `model '${modelId}': ${detail}${more}`);
  }
  return new ProviderError(
    'network',
    `model '${modelId}': connection to ${where} failed${code ? ` (${code})` : ''}${hint}`,
  );
}

/** The innermost message of an error's cause chain. */
function causeMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  let msg = e?.message ?? String(err);
  for (let depth = 0; e && depth < 6; depth++) {
    if (typeof e.message === 'string') msg = e.message;
    e = e.cause as typeof e;
  }
  return msg;
}
