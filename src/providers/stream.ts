/**
 * What streaming adds to a completion, whatever the protocol: when the first token came (time to
 * first token, what a user of a chat product waits for), when the answer itself began after any
 * thinking, and how fast tokens came between the first and the last. And what a local server
 * reports of its own work (Ollama's durations, llama.cpp's `timings`).
 */
import type { Completion, ServerTimings } from '../types.js';

/** A load longer than this is a cold start (the model was not in memory), not part of answering. */
export const COLD_LOAD_MS = 500;

export class TokenClock {
  private first: number | undefined;
  private firstContent: number | undefined;
  private last: number | undefined;
  private deltas = 0;

  /** `started`: performance.now() when the request was sent. */
  constructor(private readonly started: number) {}

  /** A piece of reasoning or answer arrived now (empty pieces are not tokens). */
  saw(kind: 'reasoning' | 'content', text: unknown): void {
    if (typeof text !== 'string' || text === '') return;
    const now = performance.now();
    this.first ??= now;
    if (kind === 'content') this.firstContent ??= now;
    this.last = now;
    this.deltas++;
  }

  /**
   * The timing fields of the completion. Decode speed needs two pieces apart in time and the
   * server's token count: (tokens - 1) over the time from the first piece to the last.
   */
  fields(outputTokens: number | undefined): Pick<Completion, 'ttftMs' | 'ttftContentMs' | 'decodeTps'> {
    const out: Pick<Completion, 'ttftMs' | 'ttftContentMs' | 'decodeTps'> = {};
    if (this.first === undefined) return out;
    out.ttftMs = round(this.first - this.started);
    if (this.firstContent !== undefined) out.ttftContentMs = round(this.firstContent - this.started);
    const span = (this.last ?? this.first) - this.first;
    if (outputTokens !== undefined && outputTokens > 1 && this.deltas > 1 && span >= MIN_DECODE_SPAN_MS)
      out.decodeTps = round(((outputTokens - 1) * 1000) / span);
    return out;
  }
}

/**
 * Tokens that arrive closer together than this came in one burst (a proxy that buffers, a server
 * that sends the answer at once): they say nothing of decoding speed, so none is recorded.
 */
const MIN_DECODE_SPAN_MS = 5;

const round = (x: number) => Math.round(x * 10) / 10;

const ms = (v: unknown, scale: number): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? round(v * scale) : undefined;

/** Ollama's final object: durations in nanoseconds. */
export function ollamaTimings(res: {
  load_duration?: unknown;
  prompt_eval_duration?: unknown;
  eval_duration?: unknown;
}): ServerTimings | undefined {
  const loadMs = ms(res.load_duration, 1e-6);
  return timings({
    loadMs,
    promptEvalMs: ms(res.prompt_eval_duration, 1e-6),
    evalMs: ms(res.eval_duration, 1e-6),
    coldLoad: loadMs !== undefined && loadMs >= COLD_LOAD_MS ? true : undefined,
  });
}

/** llama.cpp's `timings` object beside an OpenAI-compatible answer (or in its last stream chunk). */
export function llamaCppTimings(t: unknown): ServerTimings | undefined {
  if (!t || typeof t !== 'object') return undefined;
  const o = t as { prompt_ms?: unknown; predicted_ms?: unknown };
  return timings({ promptEvalMs: ms(o.prompt_ms, 1), evalMs: ms(o.predicted_ms, 1) });
}

function timings(t: ServerTimings): ServerTimings | undefined {
  const set = Object.entries(t).filter(([, v]) => v !== undefined);
  return set.length ? (Object.fromEntries(set) as ServerTimings) : undefined;
}
