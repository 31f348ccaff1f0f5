import type { ErrorKind } from './types.js';

/**
 * Bad usage, config or suite: exit 2, nothing run. The message is one line and names
 * the file, line and field (or the model) at fault.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A config or suite problem located in a file. */
export class FileError extends UsageError {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly detail: string,
  ) {
    super(`${file}${line ? `:${line}` : ''}: ${detail}`);
    this.name = 'FileError';
  }
}

/** A failed model request, classified so the scheduler knows whether to retry. */
export class ProviderError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly options: { status?: number; retryAfterMs?: number } = {},
  ) {
    super(message);
    this.name = 'ProviderError';
  }
  get status(): number | undefined {
    return this.options.status;
  }
  get retryAfterMs(): number | undefined {
    return this.options.retryAfterMs;
  }
}

/** Kinds worth another attempt: the server may answer differently next time. */
export const RETRYABLE: ReadonlySet<ErrorKind> = new Set([
  'rate_limit',
  'timeout',
  'network',
  'server',
  'bad_response',
  'stream_incomplete',
]);

/** Kinds that will fail the same way for every job of a model: stop its lane at once. */
export const FATAL_FOR_LANE: ReadonlySet<ErrorKind> = new Set(['auth', 'not_found']);

/** The run was interrupted (SIGINT/SIGTERM, --max-duration): exit 130, journal intact. */
export class InterruptedError extends Error {
  constructor(message = 'interrupted') {
    super(message);
    this.name = 'InterruptedError';
  }
}

/** A URL (or any text holding URLs) with `user:password@` credentials shown as `***@`. */
export function withoutCredentials(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s@'"]*@/gi, '$1***@');
}

/** Removes anything that looks like a credential from a message before it is stored or printed. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = withoutCredentials(text);
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  return out
    .replace(/(authorization|api[-_]?key|x-api-key)(["']?\s*[:=]\s*["']?)(bearer\s+)?[^\s"',}]+/gi, '$1$2$3[redacted]')
    .replace(/\b(sk|bce-v3|ak|key)-[A-Za-z0-9/_\-]{8,}/g, '[redacted]')
    .replace(/Bearer\s+[A-Za-z0-9._\-/+=]{8,}/g, 'Bearer [redacted]');
}

/** The system error code (ECONNREFUSED, ECONNRESET, ...) somewhere in an error's cause chain. */
export function errorCode(err: unknown, depth = 0): string | undefined {
  if (!err || typeof err !== 'object' || depth > 5) return undefined;
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown[] };
  if (typeof e.code === 'string' && /^E[A-Z]+$|^UND_ERR/.test(e.code)) return e.code;
  for (const inner of e.errors ?? []) {
    const c = errorCode(inner, depth + 1);
    if (c) return c;
  }
  return errorCode(e.cause, depth + 1);
}
