import type { Clock } from './clock.js';

/**
 * A token bucket: `ratePerMinute` refills continuously; `burst` caps what can be spent at once.
 * A small burst spreads requests evenly, so a server counting per second or per minute sees
 * the same steady rate and answers few 429s. The balance may go negative after a correction
 * (actual usage above the estimate); later takers then wait it out.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly ratePerMinute: number,
    readonly burst: number,
    private readonly clock: Clock,
  ) {
    if (!(ratePerMinute > 0)) throw new Error('Expected `ratePerMinute` to be a number above 0');
    if (!(burst >= 1)) throw new Error('Expected `burst` to be a number from 1 and up');
    this.tokens = burst;
    this.last = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.ratePerMinute) / 60_000);
    this.last = now;
  }

  /** Waits until `n` tokens are available, then spends them. Takers are served in order. */
  take(n: number, signal?: AbortSignal): Promise<void> {
    const amount = Math.min(n, this.burst);
    const run = async () => {
      for (;;) {
        this.refill();
        if (this.tokens >= amount) {
          this.tokens -= amount;
          return;
        }
        const waitMs = ((amount - this.tokens) * 60_000) / this.ratePerMinute;
        await this.clock.sleep(Math.max(1, Math.ceil(waitMs)), signal);
      }
    };
    const p = this.queue.then(run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Corrects the balance once the real cost is known (positive delta = spent more than estimated). */
  adjust(delta: number): void {
    this.refill();
    this.tokens = Math.min(this.burst, this.tokens - delta);
  }

  get available(): number {
    this.refill();
    return this.tokens;
  }
}

/** Rough token count of a text before the server tells us: ~4 characters a token, CJK one each. */
export function estimateTokens(text: string): number {
  let cjk = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if ((c >= 0x3000 && c <= 0x9fff) || (c >= 0xac00 && c <= 0xd7af) || (c >= 0xf900 && c <= 0xfaff)) cjk++;
  }
  return Math.ceil((text.length - cjk) / 4) + cjk;
}

/**
 * The lane's mirror of a server's request budget, from the x-ratelimit-* headers of its answers:
 * each answer says what is left of the per-minute limit; between answers the budget refills at
 * limit / 60 s, and every request this lane starts spends one. A lane whose server
 * sends no such headers never waits here. With a configured `rpm` both apply: the lower wins.
 */
export class ServerBudget {
  private left = Infinity;
  private perMs = 0;
  private limit = Infinity;
  private at = 0;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly clock: Clock) {}

  /** What a response said: `remaining` of `limit` now, full again in `resetMs`. */
  update(b: { limit: number; remaining: number; resetMs: number }, inFlight: number): void {
    this.limit = b.limit;
    // Requests still in flight were sent before this answer was counted and spend from it too.
    this.left = b.remaining - Math.max(0, inFlight - 1);
    // x-ratelimit-limit-requests is a per-minute limit: the budget refills at limit / 60 s.
    this.perMs = b.limit / 60_000;
    this.at = this.clock.now();
  }

  /** Waits until the mirrored budget has a request left, then spends it. */
  take(signal?: AbortSignal): Promise<void> {
    if (this.left === Infinity) return Promise.resolve();
    const run = async () => {
      for (;;) {
        const now = this.clock.now();
        this.left = Math.min(this.limit, this.left + (now - this.at) * this.perMs);
        this.at = now;
        if (this.left >= 1) {
          this.left -= 1;
          return;
        }
        await this.clock.sleep(Math.max(1, Math.ceil((1 - this.left) / this.perMs)), signal);
      }
    };
    const p = this.queue.then(run);
    this.queue = p.catch(() => undefined);
    return p;
  }
}
