/**
 * The live state of one simulated model: its answers, its fault and jitter streams,
 * its rate limiter and its counters. One instance per served model, created at start.
 */
import { FAULT_KINDS, type AnswerKey, type SimFaults, type SimModel } from './types.js';
import { uniform } from '../util/rng.js';
import { hashUnit, padTokens, seedOf } from './text.js';
import { ServingSlots } from './serving.js';

type FaultKind = keyof SimFaults;

type RateDecision =
  | { ok: true; budget?: { limit: number; remaining: number; resetMs: number } }
  | { ok: false; retryAfterMs: number; resetMs: number; limit: number };

/**
 * Token bucket: capacity = one second's worth of requests (rpm / 60, at least 1),
 * refilled continuously at rpm / 60 per second. A client that spaces its requests at
 * 60 / rpm seconds is never limited; a burst above one second's worth is, and the
 * retry-after it gets is short (the time for one token), as with OpenAI, which
 * enforces per-minute limits over sub-minute periods.
 */
class TokenBucket {
  private readonly capacity: number;
  private readonly perMs: number;
  private tokens: number;
  private last: number;

  constructor(
    readonly rpm: number,
    now: number,
  ) {
    this.capacity = Math.max(1, rpm / 60);
    this.perMs = rpm / 60_000;
    this.tokens = this.capacity;
    this.last = now;
  }

  take(now: number): RateDecision {
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.perMs);
    this.last = now;
    if (this.tokens >= 1 - 1e-9) {
      this.tokens -= 1;
      // What OpenAI-style x-ratelimit-* headers say after this request.
      const budget = {
        limit: this.rpm,
        remaining: Math.max(0, Math.floor(this.tokens)),
        resetMs: (this.capacity - this.tokens) / this.perMs,
      };
      return { ok: true, budget };
    }
    return {
      ok: false,
      retryAfterMs: (1 - this.tokens) / this.perMs,
      resetMs: (this.capacity - this.tokens) / this.perMs,
      limit: this.rpm,
    };
  }
}

interface ModelCounters {
  requests: number;
  ok: number;
  faults: Record<FaultKind, number>;
  rateLimited: number;
  /** Arrival to the last byte, summed over the answers counted in `ok`. */
  latencySumMs: number;
}

function zeroFaults(): Record<FaultKind, number> {
  return Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
}

export class ModelRuntime {
  readonly name: string;
  readonly counters: ModelCounters = { requests: 0, ok: 0, faults: zeroFaults(), rateLimited: 0, latencySumMs: 0 };
  inFlight = 0;
  maxInFlight = 0;
  private readonly accuracy: number;
  private readonly latencyMs: number;
  private readonly wrongSlow: number;
  private readonly jitterMs: number;
  private readonly tokensPerSecond: number | undefined;
  readonly reasoningTokens: number;
  /** The model as configured (its API rules: sim/rules.ts). */
  readonly spec: SimModel;
  readonly ttftMs: number | undefined;
  readonly streamOnly: boolean;
  readonly llamaTimings: boolean;
  /** A serving engine's slots and queue, when the model has `slots`. */
  readonly serving: ServingSlots | undefined;
  /** Load time still to pay: the first request takes it (a model not yet in memory). */
  private pendingLoadMs: number;
  private readonly faultEdges: number[];
  private readonly nextFault: () => number;
  private readonly nextJitter: () => number;
  private readonly bucket: TokenBucket | undefined;
  private malformedCount = 0;

  constructor(
    model: SimModel,
    private readonly seed: number,
    private readonly answers: AnswerKey | undefined,
    now: number,
  ) {
    this.name = model.name;
    this.accuracy = model.accuracy ?? 0.8;
    this.latencyMs = model.latencyMs ?? 0;
    this.jitterMs = model.jitterMs ?? 0;
    this.wrongSlow = model.wrongSlow ?? 1;
    this.tokensPerSecond = model.tokensPerSecond;
    this.reasoningTokens = model.reasoningTokens ?? 0;
    this.spec = model;
    this.ttftMs = model.ttftMs;
    this.streamOnly = model.streamOnly ?? false;
    this.llamaTimings = model.llamaTimings ?? false;
    this.pendingLoadMs = model.loadMs ?? 0;
    const { slots, tokensPerSecond } = model;
    this.serving =
      slots === undefined || tokensPerSecond === undefined
        ? undefined
        : new ServingSlots({ ...model, slots, tokensPerSecond });
    let edge = 0;
    this.faultEdges = FAULT_KINDS.map((k) => (edge += model.faults?.[k] ?? 0));
    // Separate streams, so changing the jitter never changes which requests fail.
    this.nextFault = uniform(seedOf(seed, model.name, 'faults'));
    this.nextJitter = uniform(seedOf(seed, model.name, 'jitter'));
    this.bucket = model.rpm === undefined ? undefined : new TokenBucket(model.rpm, now);
  }

  /** Admits one request against the rate limit; a refused request takes no token. */
  admit(now: number): RateDecision {
    return this.bucket === undefined ? { ok: true } : this.bucket.take(now);
  }

  /** The next request's fault, drawn from this model's stream (one draw per admitted request). */
  drawFault(): FaultKind | undefined {
    const u = this.nextFault();
    for (let i = 0; i < FAULT_KINDS.length; i++) if (u < this.faultEdges[i]) return FAULT_KINDS[i];
    return undefined;
  }

  /** Time before the first byte: base latency plus this request's jitter draw. */
  firstByteDelayMs(): number {
    const u = this.nextJitter();
    return this.latencyMs + u * this.jitterMs;
  }

  /** The load this request waits for: the whole load for the first, none after. */
  takeLoadMs(): number {
    const ms = this.pendingLoadMs;
    this.pendingLoadMs = 0;
    return ms;
  }

  /** Generation time for `tokens` at tokensPerSecond, or a serving model's rate for its batch now (0 when unpaced). */
  generationMs(tokens: number): number {
    if (this.serving) return (tokens * 1000) / this.serving.perSlotTps(this.serving.busy);
    return this.tokensPerSecond === undefined ? 0 : (tokens * 1000) / this.tokensPerSecond;
  }

  /** Alternates the two malformed variants (OpenAI: broken JSON, then `choices: []`). */
  nextMalformedVariant(): number {
    return this.malformedCount++ % 2;
  }

  /**
   * The full answer before stop / max-token shaping. Correct when
   * hash(seed, model, request seed, prompt) < accuracy, so a prompt always gets the same answer.
   */
  answer(prompt: string | undefined, requestSeed: number | undefined): string {
    const key = prompt === undefined ? undefined : this.answers?.lookup(prompt);
    if (key === undefined || prompt === undefined)
      return padTokens(`Simulated answer from ${this.name}.`, this.spec.outputTokens);
    return padTokens(this.isRight(prompt, requestSeed) ? key.correct : key.wrong, this.spec.outputTokens);
  }

  /** How many times longer this call's first byte takes: `wrongSlow` when its answer is wrong. */
  slowdown(prompt: string | undefined, requestSeed: number | undefined): number {
    if (this.wrongSlow === 1 || prompt === undefined || this.answers?.lookup(prompt) === undefined) return 1;
    return this.isRight(prompt, requestSeed) ? 1 : this.wrongSlow;
  }

  private isRight(prompt: string, requestSeed: number | undefined): boolean {
    return hashUnit(`${this.seed}\u0000${this.name}\u0000${requestSeed ?? ''}\u0000${prompt}`) < this.accuracy;
  }

  resetCounters(): void {
    this.counters.requests = 0;
    this.counters.ok = 0;
    this.counters.rateLimited = 0;
    this.counters.latencySumMs = 0;
    this.counters.faults = zeroFaults();
    this.maxInFlight = this.inFlight;
  }
}
