/** The simulator's public types, in one file every simulator module may import (no cycles). */

/** Fractions of requests (0..1, adding up to at most 1) that fail in each way. */
export interface SimFaults {
  /** HTTP 500 with the protocol's error body. */
  error500?: number;
  /** HTTP 503 with the protocol's error body. */
  error503?: number;
  /** The socket is destroyed without a response. */
  reset?: number;
  /** No response ever; released when the client aborts or the server closes. */
  hang?: number;
  /** HTTP 200 with an unusable body (broken JSON; alternately `choices: []` / no message). */
  malformed?: number;
  /** The answer stops halfway: a stream ends without its final chunk / `[DONE]` (a whole body: the socket closes). */
  cut?: number;
  /** A chunk that is not JSON halfway through a stream (a whole answer: a body that is not JSON). */
  garbage?: number;
  /** The answer stops halfway and the connection stays open, sending nothing more. */
  stall?: number;
}

/** Every fault kind once, in the order their fractions are laid out on [0, 1) for each request's draw. */
export const FAULT_KINDS = [
  'error500',
  'error503',
  'reset',
  'hang',
  'malformed',
  'cut',
  'garbage',
  'stall',
] as const satisfies readonly (keyof SimFaults)[];

/** A fault of SimFaults missing from FAULT_KINDS fails to compile here, naming it. */
type MissingFault = Exclude<keyof SimFaults, (typeof FAULT_KINDS)[number]>;
const FAULT_KINDS_COMPLETE: [MissingFault] extends [never] ? true : MissingFault = true;

export interface SimModel {
  /** Served model name; for Ollama may contain a tag: 'llama3.1:8b'. */
  name: string;
  /** Probability of answering a known prompt correctly. Default 0.8. */
  accuracy?: number;
  /** Base latency before the first byte, ms. Default 0. */
  latencyMs?: number;
  /** Uniform extra latency 0..jitterMs per request (deterministic by seed). Default 0. */
  jitterMs?: number;
  /**
   * A wrong answer's time to first byte, as a multiple of the right one's (latency + jitter). Default 1.
   * Slow failures arrive late: a sequential run's reorder buffer must still commit in its drawn order.
   */
  wrongSlow?: number;
  faults?: SimFaults;
  /** Requests-per-minute limit (token bucket, burst = one second's worth, at least 1); over it -> 429. */
  rpm?: number;
  /** Generation speed: paces stream pieces, and delays whole replies by completion tokens / tps. */
  tokensPerSecond?: number;
  /**
   * A reasoning model: it thinks this many tokens before answering, returned beside the answer
   * (OpenAI-compatible `reasoning_content` and `usage.completion_tokens_details.reasoning_tokens`,
   * Ollama `thinking`). Thinking spends `max_tokens` first: with less budget than this the answer
   * is empty and `finish_reason` is `length`, as real reasoning models do.
   */
  reasoningTokens?: number;
  /** Answers HTTP 400 to any temperature but 1 (Kimi K2.5+, OpenAI's reasoning models). */
  fixedTemperature?: boolean;
  /** Answers HTTP 400 to `max_tokens` (OpenAI's reasoning models want `max_completion_tokens`). */
  refuseMaxTokens?: boolean;
  /** A thinking model that honours a thinking switch and budget; without it, it thinks anyway. */
  thinkingSwitch?: boolean;
  /**
   * Time to first token, ms from the request's arrival: a streamed reply sends its headers at once
   * and its first token (reasoning or answer) then; a whole reply comes this long plus the
   * generation time after arrival. Default: `latencyMs` (+ jitter), headers and first token together.
   */
  ttftMs?: number;
  /** Refuses `stream: false` with HTTP 400, as DashScope's thinking-only models do. */
  streamOnly?: boolean;
  /** A model not yet in memory: its first request waits this long and reports it as Ollama's `load_duration`. */
  loadMs?: number;
  /** OpenAI-protocol answers carry llama.cpp's `timings` object (prompt_ms, predicted_ms, ...). */
  llamaTimings?: boolean;
  /**
   * A serving engine's capacity (sim/serving.ts; needs `tokensPerSecond`): this many decode slots,
   * requests beyond them queued first in, first out, their wait counted in their time to first token.
   */
  slots?: number;
  /** With `slots`: the aggregate decode rate the batch tends to (tokens/s); the per-slot rate falls as the batch grows. Default: none (every slot at `tokensPerSecond`). */
  peakTps?: number;
  /** With `slots`: prefill time, ms per 1,000 prompt tokens, before the first token. Default 0. */
  prefillMsPer1k?: number;
  /** Every answer padded with filler words to this many completion tokens (before max_tokens and stop strings), as load generators fix output length. */
  outputTokens?: number;
}

export interface AnswerKey {
  lookup(prompt: string): { correct: string; wrong: string } | undefined;
}

/**
 * The OpenAI Files + Batches API (POST /v1/files, /v1/batches). A batch runs on timers in real
 * time: `validating` for the first 10% of `delayMs`, `in_progress` until 80% (lines finishing
 * evenly, in a seeded shuffled order), `finalizing`, then `completed` at `delayMs`.
 */
export interface SimBatchOptions {
  /** Time from a batch's creation to `completed`, ms. Default 200. */
  delayMs?: number;
  /** Every k-th line of the input file (k, 2k, ...) gets a 500 error line in the error file. Default: none. */
  failEvery?: number;
  /**
   * The batch expires this long after creation (when still validating or in progress): lines done
   * by then go to the output file, the rest to the error file with code `batch_expired`. Default: never.
   */
  expireAfterMs?: number;
  /** Requests per input file; more -> the batch fails (`too_many_tasks`). Default 50,000 (OpenAI's). */
  maxRequestsPerFile?: number;
  /** Bytes per input file; more -> the batch fails (`file_too_large`). Default 200,000,000 (OpenAI's 200 MB). */
  maxFileBytes?: number;
}

export interface SimOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (default) = a random free port. */
  port?: number;
  models: SimModel[];
  /** Default 0. */
  seed?: number;
  answers?: AnswerKey;
  /** When set, OpenAI routes require `Authorization: Bearer <apiKey>`, else 401. */
  apiKey?: string;
  /** The Batch API's timing, faults and limits (the API is always served). */
  batch?: SimBatchOptions;
}

export interface SimStats {
  /** Every HTTP request, any route. */
  requests: number;
  /**
   * Chat requests per served model: ok = complete replies; faults by kind; rateLimited = 429s;
   * meanLatencyMs = arrival to last byte of the complete replies (NaN before the first).
   */
  byModel: Record<
    string,
    { requests: number; ok: number; faults: Record<string, number>; rateLimited: number; meanLatencyMs: number }
  >;
  /** Chat requests in flight now, all models. */
  inFlight: number;
  /** Highest number of concurrent chat requests seen per model since start / resetStats(). */
  maxInFlight: Record<string, number>;
  /** Batches created, and how many ended in each final status (batch lines are not in byModel). */
  batches: { created: number; completed: number; failed: number; expired: number; cancelled: number };
  /** Files uploaded with POST /v1/files (batch output files not counted). */
  files: { uploaded: number };
}

export interface Simulator {
  url: string;
  port: number;
  /** url + '/v1' */
  openaiBaseURL: string;
  ollamaHost: string;
  stats(): SimStats;
  resetStats(): void;
  close(): Promise<void>;
}
