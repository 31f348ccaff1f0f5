/** Exponential backoff with full jitter and a cap; a server's retry-after wins when it gave one. */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
  /** Longest retry-after we honour; a longer one is clamped so a run cannot stall for hours. */
  maxRetryAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 30_000, maxRetryAfterMs: 300_000 };

/** Delay before retry number `retry` (1 = first retry). `random` is injectable for tests. */
export function backoffDelay(
  retry: number,
  retryAfterMs: number | undefined,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined && retryAfterMs >= 0) return Math.min(retryAfterMs, policy.maxRetryAfterMs);
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}
