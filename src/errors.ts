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

/** What an error kind means for a run. */
interface ErrorPolicy {
  /** Counts as a wrong answer (the model's service failed a user too); false: left out of scores, still counted in errors. */
  scored: boolean;
  /** Worth another attempt: the server may answer differently next time. */
  retry: boolean;
  /** Will fail the same way for every job of the model: its lane stops at once. */
  stopsLane: boolean;
}

/**
 * The one table of error kinds (the compiler checks it names every kind). Failures of the model's
 * own service (timeouts, 5xx and rate limits after every retry, malformed replies, broken
 * connections, an answer over the size bound) count as wrong answers: a user of that model would
 * have had no answer either. Errors that say nothing about the model are left out of scores and
 * gaps: a grader or judge that failed, an answer cut to nothing by `max_tokens` (a setting), a
 * request refused as malformed (a parameter), a bad key or unknown model (the lane stopped), a
 * replay file without the case, a batch that expired before the request ran.
 */
export const ERROR_KINDS = {
  rate_limit: { scored: true, retry: true, stopsLane: false },
  timeout: { scored: true, retry: true, stopsLane: false },
  network: { scored: true, retry: true, stopsLane: false },
  server: { scored: true, retry: true, stopsLane: false },
  bad_response: { scored: true, retry: true, stopsLane: false },
  // A stream that ended before its final chunk: a dropped connection by another name.
  stream_incomplete: { scored: true, retry: true, stopsLane: false },
  response_too_large: { scored: true, retry: false, stopsLane: false },
  unknown: { scored: true, retry: false, stopsLane: false },
  auth: { scored: false, retry: false, stopsLane: true },
  not_found: { scored: false, retry: false, stopsLane: true },
  bad_request: { scored: false, retry: false, stopsLane: false },
  aborted: { scored: false, retry: false, stopsLane: false },
  missing: { scored: false, retry: false, stopsLane: false },
  skipped: { scored: false, retry: false, stopsLane: false },
  grader: { scored: false, retry: false, stopsLane: false },
  truncated: { scored: false, retry: false, stopsLane: false },
  expired: { scored: false, retry: false, stopsLane: false },
} as const satisfies Record<ErrorKind, ErrorPolicy>;

/**
 * The disk refused a write (full, quota, read-only, I/O error): the run stopped as an interrupt
 * does, its journal intact and resumable. Names the run directory and what failed.
 */
export class StorageError extends Error {
  constructor(
    readonly runDir: string,
    readonly what: string,
  ) {
    super(`cannot write to ${runDir} (${what})`);
    this.name = 'StorageError';
  }
}

/** Errors of the disk, not of gapbench: full, quota, read-only, I/O. */
export function isStorageError(e: unknown): e is NodeJS.ErrnoException {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EROFS' || code === 'EIO' || code === 'EFBIG';
}

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
