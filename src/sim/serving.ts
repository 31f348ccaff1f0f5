/**
 * A serving engine's capacity shape (SimModel `slots`): a fixed number of decode slots, requests
 * beyond them waiting in a FIFO queue, and a per-slot token rate that falls as the batch grows:
 *
 *   r(b) = tps * (1 + K) / (b + K),  K = peakTps / tps - 1
 *
 * so one request alone decodes at `tps`, and the aggregate b * r(b) rises with the batch towards
 * `peakTps` (never reached: with every slot busy it is slots * r(slots)). Without `peakTps` every
 * slot decodes at `tps` whatever the batch (K infinite). A request holds its slot from the moment
 * it is admitted to its last byte: first-byte latency, prefill, then decoding paced at the rate of
 * the batch as it is when each piece is sent. docs/simulator.md gives the throughput and latency
 * this implies at each load.
 */
import type { SimModel } from './types.js';

export class ServingSlots {
  readonly slots: number;
  /** Requests holding a slot now (the batch). */
  busy = 0;
  private readonly queue: (() => void)[] = [];
  private readonly tps: number;
  private readonly k: number;
  private readonly prefillMsPer1k: number;

  constructor(model: SimModel & { slots: number; tokensPerSecond: number }) {
    this.slots = model.slots;
    this.tps = model.tokensPerSecond;
    this.k = model.peakTps === undefined ? Infinity : model.peakTps / model.tokensPerSecond - 1;
    this.prefillMsPer1k = model.prefillMsPer1k ?? 0;
  }

  /** Tokens per second of each slot with `batch` requests in the batch. */
  perSlotTps(batch: number): number {
    if (!Number.isFinite(this.k)) return this.tps;
    return (this.tps * (1 + this.k)) / (Math.max(1, batch) + this.k);
  }

  /** Time to read a prompt of this many tokens before the first token. */
  prefillMs(promptTokens: number): number {
    return (this.prefillMsPer1k * promptTokens) / 1000;
  }

  /**
   * Runs `start` when a slot is free (now, or when the requests queued before it have had theirs).
   * Returns the release: frees the slot once started, or leaves the queue if still waiting.
   */
  acquire(start: () => void): () => void {
    let state: 'waiting' | 'running' | 'done' = 'waiting';
    const run = (): void => {
      state = 'running';
      this.busy++;
      start();
    };
    if (this.busy < this.slots) run();
    else this.queue.push(run);
    return () => {
      if (state === 'waiting') {
        const i = this.queue.indexOf(run);
        if (i >= 0) this.queue.splice(i, 1);
      } else if (state === 'running') {
        this.busy--;
        this.queue.shift()?.();
      }
      state = 'done';
    };
  }
}
