/**
 * Core types shared by every layer. Wire types of the providers live in their own files;
 * what crosses a layer boundary is defined here.
 */

export type Group = 'closed' | 'open';

/** What a model costs: USD per 1M input / output tokens (APIs), or per hour of the machine (self-hosted). */
export interface Price {
  input?: number;
  output?: number;
  /** USD per 1M tokens for requests sent through a vendor's Batch API (default: half of input/output). */
  batch?: { input?: number; output?: number };
  perHour?: number;
  /** Share of the month the self-hosted machine is busy serving (0-1, default 1), for cost at real usage. */
  utilization?: number;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Sampling knobs passed to every provider (names follow the OpenAI API). */
export interface SamplingParams {
  temperature?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
  top_p?: number;
  seed?: number;
  stop?: string[];
  reasoning_effort?: string;
  /** Ollama's top-level thinking switch (`think`), set by the `reasoning` knob (config/reasoning.ts). */
  think?: boolean | 'low' | 'medium' | 'high';
  /** Sent unchanged in the request body (OpenAI protocol) or in Ollama's `options`. */
  extra?: Record<string, unknown>;
}

/** Why a request failed. Providers classify; the scheduler decides what to retry. */
export type ErrorKind =
  | 'rate_limit'
  | 'timeout'
  | 'network'
  | 'server'
  | 'bad_response'
  | 'auth'
  | 'not_found'
  | 'bad_request'
  | 'aborted'
  | 'missing'
  | 'skipped'
  | 'grader'
  | 'truncated'
  | 'expired'
  | 'response_too_large'
  /** A streamed answer that ended without its final chunk (`[DONE]`, Ollama's done line): retried like a dropped connection. */
  | 'stream_incomplete'
  | 'unknown';

export interface ChatRequest {
  messages: ChatMessage[];
  params: SamplingParams;
  /** Aborts the request (per-request timeout, interrupt). */
  signal: AbortSignal;
  /** Which job asks (absent for a judge's request): replay answers by case id, a batch names its lines by job id. */
  job?: { id: string; suite: string; caseId: string; caseIndex: number; repeat: number; vars: Record<string, unknown> };
}

/** A successful completion. Token counts are what the server reported (undefined when it did not). */
export interface Completion {
  /** The answer, without any reasoning the server returned beside it. */
  text: string;
  /** Reasoning the server returned beside the answer (`reasoning_content`, `reasoning`, Ollama's `thinking`); never graded. */
  reasoning?: string;
  inputTokens?: number;
  outputTokens?: number;
  /** Output tokens spent on reasoning, when the usage reports them. */
  reasoningTokens?: number;
  finishReason?: string;
  latencyMs: number;
  /** What the server said is left of its rate limits (x-ratelimit-* headers), for pacing. */
  budgets?: { requests?: RateBudgetInfo; tokens?: RateBudgetInfo };
  /** The vendor's batch that answered (batch mode): priced at the batch price. */
  batchId?: string;
  /** Streamed answers: ms from sending the request to the first token, reasoning or answer. */
  ttftMs?: number;
  /** Streamed answers: ms to the first token of the answer itself (after any thinking). */
  ttftContentMs?: number;
  /** Streamed answers: output tokens per second from the first token to the last. */
  decodeTps?: number;
  /** What a local server reported of its own work (Ollama's durations, llama.cpp's `timings`). */
  serverTimings?: ServerTimings;
}

/** A local server's own account of one answer, in ms. */
export interface ServerTimings {
  /** Loading the model into memory (Ollama `load_duration`). */
  loadMs?: number;
  /** Reading the prompt (Ollama `prompt_eval_duration`, llama.cpp `prompt_ms`). */
  promptEvalMs?: number;
  /** Generating the output (Ollama `eval_duration`, llama.cpp `predicted_ms`). */
  evalMs?: number;
  /** The model was not in memory: its load is kept out of latency and busy time (see COLD_LOAD_MS). */
  coldLoad?: boolean;
}

/** A rate limit as a response announces it (OpenAI-style x-ratelimit-* headers): the limit, what is left, and ms until it is full again. */
export interface RateBudgetInfo {
  limit: number;
  remaining: number;
  resetMs: number;
}

/**
 * One test case, after loading: the rendered prompt and everything a grader needs.
 * `expected` is whatever the suite gave (usually a string); graders interpret it.
 */
export interface Case {
  id: string;
  /** The user message (in a conversation: its last user message). */
  prompt: string;
  system?: string;
  /**
   * A conversation (suite or case `messages:`), rendered, exactly as sent: system, user and assistant
   * turns. Absent for a single-prompt case, which is sent as `system` + `prompt`.
   */
  messages?: ChatMessage[];
  expected?: unknown;
  category: string;
  /** A human description of what the case tests (promptfoo's test `description`). */
  description?: string;
  grader: GraderSpec;
  /** The raw fields of the case (template variables, source row), for graders and templates. */
  vars: Record<string, unknown>;
  /** Hand-written answers that must pass / fail this case's grader (checked by `gapbench validate`). */
  examples?: { pass?: string[]; fail?: string[] };
  /** A machine-checkable expression whose value must equal `expected` (checked by `gapbench validate`). */
  check?: string;
}

/** A grader reference as written in a suite: `{type: 'numeric', tolerance: 0.01, not: false}`. */
export interface GraderSpec {
  type: string;
  [option: string]: unknown;
}

/** What every grader returns: the score, the verdict, why, and what it read from the output. */
export interface Grade {
  score: number;
  passed: boolean;
  reason: string;
  extracted?: string;
  /** True when the grader could not grade (e.g. a judge answered garbage): counted as a failure. */
  error?: boolean;
  /** Grader-specific evidence kept in the record (e.g. a judge's prompt and raw verdict). */
  details?: Record<string, unknown>;
}

/** One input file sent to a vendor's Batch API. */
export interface BatchEntry {
  model: string;
  /** The local copy of the input file, relative to the run directory (its custom_ids are job ids). */
  file: string;
  requests: number;
  bytes: number;
  input_file_id: string;
  /** Absent when the process stopped between creating the batch and recording it (found again by its input file). */
  batch_id?: string;
  /** The status last seen. */
  status: string;
  created_at: string;
  /** Why the batch failed, when it did (the vendor's words). */
  errors?: string;
  /** SHA-256 of the input file as sent: a local copy that no longer matches says nothing of the batch's jobs. */
  sha256?: string;
}
