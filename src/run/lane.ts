import { setMaxListeners } from 'node:events';
import pLimit, { type LimitFunction } from 'p-limit';
import type { ModelConfig } from '../config/config.js';
import { ERROR_KINDS, ProviderError } from '../errors.js';
import type { Provider } from '../providers/provider.js';
import type { ChatRequest, Completion, ErrorKind } from '../types.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { systemClock, type Clock } from './clock.js';
import { estimateTokens, ServerBudget, TokenBucket } from './limiter.js';

/** A lane whose last this-many requests all failed with server errors stops (stopAfterServerErrors). */
const DEFAULT_STOP_AFTER_SERVER_ERRORS = 20;

export type Attempted =
  | { status: 'ok'; completion: Completion; attempts: number; lastErrorKind?: ErrorKind }
  | { status: 'error'; error: { kind: ErrorKind; message: string }; attempts: number };

/** One attempt's result: done (an answer or an error), or try again after a delay. */
type Outcome = Attempted | { retryIn: number; reason: string };

/** A request's attempts so far, shared by its attempts. */
interface Tries {
  attempts: number;
  lastKind?: ErrorKind;
}

interface LaneCounters {
  total: number;
  done: number;
  /** Of `done`: recorded by an earlier invocation (resume), not run now. */
  skipped: number;
  errors: number;
  retries: number;
  rateLimited: number;
  cached: number;
  /** The longest retry wait under way: when it ends (clock ms) and why (the error kind, and whether the server asked for it). */
  waiting?: { until: number; reason: string };
}

export interface LaneOptions {
  clock?: Clock;
  backoff?: BackoffPolicy;
  random?: () => number;
  /** Stops starting requests (first Ctrl-C): queued jobs and backoff sleeps end, in-flight ones go on. */
  stop?: AbortSignal;
  /** Aborts in-flight requests too (grace period over, or second Ctrl-C). */
  signal?: AbortSignal;
  onFatal?: (lane: Lane, error: ProviderError) => void;
}

/**
 * One model's lane: its own concurrency (p-limit), rate budget, retries and timeout. All lanes
 * run at once, so a slow local model never holds back a fast API.
 */
export class Lane {
  readonly limit: LimitFunction;
  readonly counters: LaneCounters = { total: 0, done: 0, skipped: 0, errors: 0, retries: 0, rateLimited: 0, cached: 0 };
  /** Set when an auth or not-found error makes every further request pointless. */
  fatal?: ProviderError;
  readonly clock: Clock;
  private readonly backoff: BackoffPolicy;
  private readonly random: () => number;
  private readonly requests?: TokenBucket;
  private readonly tokens?: TokenBucket;
  private pausedUntil = 0;
  /** The server's own request budget, as its rate-limit headers announce it. */
  private readonly server: ServerBudget;
  /** Either stop or abort: what ends a wait. */
  private readonly waitSignal?: AbortSignal;
  private successStreak = 0;
  /** Requests in a row that failed with a server error (5xx); any other outcome resets it. */
  private serverErrorStreak = 0;
  /** Some request of this lane has succeeded (a server that was never reached stops the lane). */
  private answered = false;
  inFlight = 0;
  /** One per request in flight: aborted by its timeout or by the run's abort signal. */
  private readonly controllers = new Set<AbortController>();

  readonly maxConcurrency: number;
  private readonly timeoutMs: number;

  constructor(
    readonly provider: Provider,
    readonly model: ModelConfig,
    private readonly opts: LaneOptions = {},
  ) {
    // A provider may need other limits than the model's (a batch holds every job for a day).
    const own = provider.lane;
    const maxConcurrency = (this.maxConcurrency = own?.concurrency ?? model.concurrency);
    this.timeoutMs = own?.timeoutMs ?? model.timeoutMs;
    this.limit = pLimit(maxConcurrency);
    this.clock = opts.clock ?? systemClock;
    this.server = new ServerBudget(this.clock);
    const backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.backoff =
      model.maxRetryWaitS === undefined ? backoff : { ...backoff, maxRetryAfterMs: model.maxRetryWaitS * 1000 };
    this.random = opts.random ?? Math.random;
    const sigs = [opts.stop, opts.signal].filter((x): x is AbortSignal => !!x);
    this.waitSignal = sigs.length > 1 ? AbortSignal.any(sigs) : sigs[0];
    // Every request in flight and every wait listens on these signals: with lanes of 32 that is far
    // past Node's default of 10 listeners, which is not a leak (each listener is removed after use).
    for (const s of [...sigs, this.waitSignal]) if (s) setMaxListeners(0, s);
    // The run's abort reaches every request in flight through one listener, not one per request.
    opts.signal?.addEventListener(
      'abort',
      () => {
        for (const c of this.controllers) c.abort(opts.signal?.reason);
      },
      { once: true },
    );
    if (own?.unmetered) return;
    if (model.rpm) {
      this.requests = new TokenBucket(model.rpm, Math.max(1, Math.min(model.rpm / 60, maxConcurrency)), this.clock);
    }
    if (model.tpm) this.tokens = new TokenBucket(model.tpm, Math.max(1, model.tpm / 60), this.clock);
  }

  /** The run is stopping: no new request starts. */
  get stopping(): boolean {
    return Boolean(this.opts.stop?.aborted || this.opts.signal?.aborted);
  }

  get concurrency(): number {
    return this.limit.concurrency;
  }

  /** What the lane waits for, when not requests in flight (a batching provider: its batches at the vendor). */
  waitingFor(): string | undefined {
    return this.provider.status?.();
  }

  /**
   * Runs one request with retries. Never throws for model failures: they come back as an
   * error outcome. Rejects only when the lane's signal aborts (the run is stopping).
   */
  async request(messages: ChatRequest['messages'], job?: ChatRequest['job']): Promise<Attempted> {
    const tries: Tries = { attempts: 0 };
    for (;;) {
      if (this.fatal) return this.notSent(tries);
      const outcome = await this.limit(() => this.attempt(messages, job, tries));
      if ('status' in outcome) return outcome;
      // Back off outside the concurrency slot so other jobs of the lane can go on meanwhile.
      const until = this.clock.now() + outcome.retryIn;
      if (!this.counters.waiting || this.counters.waiting.until < until)
        this.counters.waiting = { until, reason: outcome.reason };
      await this.clock.sleep(outcome.retryIn, this.waitSignal);
      if (this.counters.waiting?.until === until) this.counters.waiting = undefined;
    }
  }

  /** One attempt, inside a concurrency slot: wait for the rate budget, send, classify. */
  private async attempt(messages: ChatRequest['messages'], job: ChatRequest['job'], tries: Tries): Promise<Outcome> {
    this.throwIfStopping();
    if (this.fatal) return this.notSent(tries);
    const wait = this.pausedUntil - this.clock.now();
    if (wait > 0) await this.clock.sleep(wait, this.waitSignal);
    const estimate = this.tokens ? estimateTokens(messages.map((x) => x.content).join('\n')) : 0;
    await this.requests?.take(1, this.waitSignal);
    await this.server.take(this.waitSignal);
    await this.tokens?.take(estimate, this.waitSignal);
    this.throwIfStopping();
    tries.attempts++;
    // One controller per attempt, fired by the timeout or the run's abort (AbortSignal.any and
    // AbortSignal.timeout cost several times more per request).
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new DOMException('request timed out', 'TimeoutError')),
      this.timeoutMs,
    );
    if (this.opts.signal?.aborted) controller.abort(this.opts.signal.reason);
    this.controllers.add(controller);
    this.inFlight++;
    try {
      const req = { messages, params: this.model.params, signal: controller.signal, job };
      const completion = await this.provider.complete(req);
      this.tokens?.adjust((completion.inputTokens ?? estimate) + (completion.outputTokens ?? 0) - estimate);
      if (completion.budgets?.requests) this.server.update(completion.budgets.requests, this.inFlight);
      this.answered = true;
      this.onSuccess();
      const last = tries.lastKind ? { lastErrorKind: tries.lastKind } : {};
      return { status: 'ok', completion, attempts: tries.attempts, ...last };
    } catch (err) {
      return this.failed(err, tries);
    } finally {
      clearTimeout(timer);
      this.controllers.delete(controller);
      this.inFlight--;
    }
  }

  /** What a failed attempt leads to: a retry after a delay, an error outcome, or a stopped lane. */
  private failed(err: unknown, tries: Tries): Outcome {
    const e =
      err instanceof ProviderError
        ? err
        : new ProviderError('unknown', err instanceof Error ? err.message : String(err));
    if (e.kind === 'aborted' || (this.opts.signal?.aborted && e.kind !== 'timeout'))
      throw this.opts.signal?.reason ?? e;
    const { attempts } = tries;
    tries.lastKind = e.kind;
    if (ERROR_KINDS[e.kind].stopsLane) return this.stopLane(e, attempts);
    this.serverErrorStreak = e.kind === 'server' ? this.serverErrorStreak + 1 : 0;
    const limit = this.model.stopAfterServerErrors ?? DEFAULT_STOP_AFTER_SERVER_ERRORS;
    if (limit > 0 && this.serverErrorStreak >= limit) {
      // A server that answers everything with 5xx would cost every job all its retries.
      const why = `${e.message} (the last ${this.serverErrorStreak} requests all failed with server errors; its other jobs are not sent: finish later with --resume DIR --retry-errors)`;
      return this.stopLane(new ProviderError('server', why), attempts);
    }
    if (e.kind === 'network' && attempts > this.model.maxRetries && !this.answered) {
      // Never reached, through every retry: the server is down or the address is wrong, and
      // every other job would spend the same retries learning it. Stop the lane, as for a bad key.
      const why = `${e.message} (gave up after ${attempts} attempts; no request to this model has succeeded, so its other jobs are not sent)`;
      return this.stopLane(new ProviderError('network', why), attempts);
    }
    if (!ERROR_KINDS[e.kind].retry || attempts > this.model.maxRetries) {
      const tail = ERROR_KINDS[e.kind].retry ? ` (gave up after ${attempts} attempts)` : '';
      return { status: 'error', error: { kind: e.kind, message: e.message + tail }, attempts };
    }
    const delay = backoffDelay(attempts, e.retryAfterMs, this.backoff, this.random);
    if (e.kind === 'rate_limit') this.onRateLimited(delay);
    this.counters.retries++;
    const capped = e.retryAfterMs !== undefined && e.retryAfterMs > this.backoff.maxRetryAfterMs;
    const why =
      e.retryAfterMs !== undefined
        ? `${e.kind}, server's retry-after${capped ? ', capped by maxRetryWaitS' : ''}`
        : `${e.kind}, backoff`;
    return { retryIn: delay, reason: why };
  }

  private notSent(tries: Tries): Attempted {
    const fatal = this.fatal!;
    return {
      status: 'error',
      error: { kind: fatal.kind, message: `not sent: ${fatal.message}` },
      attempts: tries.attempts,
    };
  }

  private throwIfStopping(): void {
    if (this.opts.stop?.aborted) throw this.opts.stop.reason;
    if (this.opts.signal?.aborted) throw this.opts.signal.reason;
  }

  /** Stops the lane (its other jobs are not sent) and answers this job with the error. */
  private stopLane(e: ProviderError, attempts: number): Attempted {
    if (!this.fatal) {
      this.fatal = e;
      this.opts.onFatal?.(this, e);
    }
    return { status: 'error', error: { kind: e.kind, message: e.message }, attempts };
  }

  /** A 429: fewer in flight at once, and nobody starts before the server's retry-after. */
  private onRateLimited(delay: number): void {
    this.counters.rateLimited++;
    this.successStreak = 0;
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + delay);
    this.limit.concurrency = Math.max(1, Math.floor(this.limit.concurrency / 2));
  }

  /** Recovers gradually: one more slot after a full window of successes. */
  private onSuccess(): void {
    this.serverErrorStreak = 0;
    if (this.limit.concurrency >= this.maxConcurrency) return;
    if (++this.successStreak >= this.limit.concurrency) {
      this.successStreak = 0;
      this.limit.concurrency = Math.min(this.maxConcurrency, this.limit.concurrency + 1);
    }
  }
}
