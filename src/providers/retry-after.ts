import type { RateBudgetInfo } from '../types.js';

/** Reads how long a server asked us to wait, in ms, from the headers rate-limiting APIs send. */
export interface HeaderGetter {
  get(name: string): string | null | undefined;
}

export function parseRetryAfter(headers: HeaderGetter | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = num(headers.get('retry-after-ms'));
  if (ms !== undefined && ms >= 0) return ms;
  const ra = headers.get('retry-after');
  if (ra) {
    const secs = num(ra);
    if (secs !== undefined && secs >= 0) return secs * 1000;
    const date = Date.parse(ra);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const reqReset = parseDuration(headers.get('x-ratelimit-reset-requests'));
  const tokReset = parseDuration(headers.get('x-ratelimit-reset-tokens'));
  const reqLeft = num(headers.get('x-ratelimit-remaining-requests'));
  const tokLeft = num(headers.get('x-ratelimit-remaining-tokens'));
  if (reqLeft === 0 && reqReset !== undefined) return reqReset;
  if (tokLeft === 0 && tokReset !== undefined) return tokReset;
  const both = [reqReset, tokReset].filter((x): x is number => x !== undefined);
  return both.length ? Math.max(...both) : undefined;
}

function num(v: string | null | undefined): number | undefined {
  if (v == null || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** OpenAI-style durations: `1s`, `6m0s`, `20ms`, `1.5s`, `2h3m`. A bare number is seconds. */
export function parseDuration(v: string | null | undefined): number | undefined {
  if (!v) return undefined;
  const bare = num(v);
  if (bare !== undefined) return bare * 1000;
  let total = 0;
  let matched = false;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    matched = true;
    const n = Number(m[1]);
    total += m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n * 3_600_000;
  }
  return matched ? total : undefined;
}

/** The request and token budgets a response announces, when it does. */
export function parseBudgets(headers: HeaderGetter | undefined): {
  requests?: RateBudgetInfo;
  tokens?: RateBudgetInfo;
} {
  if (!headers) return {};
  const one = (kind: 'requests' | 'tokens'): RateBudgetInfo | undefined => {
    const limit = num(headers.get(`x-ratelimit-limit-${kind}`));
    const remaining = num(headers.get(`x-ratelimit-remaining-${kind}`));
    const resetMs = parseDuration(headers.get(`x-ratelimit-reset-${kind}`));
    if (limit === undefined || remaining === undefined || resetMs === undefined || !(limit > 0)) return undefined;
    return { limit, remaining: Math.max(0, remaining), resetMs: Math.max(0, resetMs) };
  };
  const requests = one('requests');
  const tokens = one('tokens');
  return { ...(requests ? { requests } : {}), ...(tokens ? { tokens } : {}) };
}
