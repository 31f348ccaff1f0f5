/**
 * What the server needs from a wire protocol: read a chat request, and write replies,
 * stream frames and errors in that protocol's shapes. The server owns everything else
 * (routing, faults, rate limits, latency, stats), so both protocols behave identically.
 */
import { isRecord } from '../util/record.js';
import { countTokens, type FinishReason } from './text.js';

/** A chat request, reduced to what the simulator acts on. */
export interface ChatCall {
  /** The model name as the client wrote it (Ollama echoes it back). */
  model: string;
  /** Text of the last user message; undefined when there is none. */
  prompt: string | undefined;
  promptTokens: number;
  seed: number | undefined;
  maxTokens: number | undefined;
  stop: string[];
  stream: boolean;
  /** OpenAI `stream_options.include_usage`. */
  includeUsage: boolean;
  /** The temperature sent (for models that fix it; sim/rules.ts). */
  temperature?: number;
  /** Which length field the request used (OpenAI's reasoning models refuse `max_tokens`). */
  maxTokensField?: 'max_tokens' | 'max_completion_tokens';
  /** The thinking switch and budget the request sent, in any vendor's field. */
  thinking?: { off: boolean; budget?: number };
}

export interface SimCompletion {
  text: string;
  /** Reasoning returned beside the answer (reasoning models only). */
  reasoning?: string;
  finishReason: FinishReason;
  promptTokens: number;
  /** Every generated token, reasoning included. */
  completionTokens: number;
  reasoningTokens?: number;
}

/** Per-reply facts shared by all frames of one response. */
export interface ReplyContext {
  id: string;
  /** Unix seconds. */
  created: number;
  /** The served model name. */
  model: string;
  /** process.hrtime.bigint() when the request arrived (Ollama reports durations). */
  startNs: bigint;
  /** The model load this request waited for, ms (Ollama's load_duration). */
  loadMs?: number;
  /** Add llama.cpp's `timings` object to OpenAI-protocol answers. */
  llamaTimings?: boolean;
}

export type SimError =
  | { kind: 'bad_json'; detail: string }
  | { kind: 'bad_request'; message: string; param: string | null }
  | { kind: 'unauthorized'; missing: boolean }
  | { kind: 'not_found'; model: string }
  | { kind: 'no_route'; method: string; path: string }
  | { kind: 'rate_limited'; model: string; limit: number; retryAfterMs: number }
  | { kind: 'error500' }
  | { kind: 'error503' };

export interface Protocol {
  parseChat(body: unknown): ChatCall | { error: SimError };
  errorBody(e: SimError): string;
  completionBody(call: ChatCall, c: SimCompletion, ctx: ReplyContext): string;
  readonly streamContentType: string;
  streamHead(call: ChatCall, ctx: ReplyContext): string;
  /** One piece of the answer, or of the thinking before it (`reasoning_content`, Ollama `thinking`). */
  streamPiece(call: ChatCall, ctx: ReplyContext, piece: string, kind: 'reasoning' | 'content'): string;
  /** A frame that is not JSON, in the stream's framing. */
  streamGarbage(call: ChatCall): string;
  streamTail(call: ChatCall, c: SimCompletion, ctx: ReplyContext): string;
  /** An HTTP 200 body the client cannot use; `variant` alternates per model (0, 1, 0, ...). */
  malformed(call: ChatCall, ctx: ReplyContext, variant: number): { contentType: string; body: string };
}

/** Message content as text: a string, or the text parts of an OpenAI content-part array. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let out = '';
  for (const part of content) {
    if (isRecord(part) && typeof part.text === 'string') out += part.text;
  }
  return out;
}

/** The last user message's text, and the prompt token count over all messages. */
export function readMessages(messages: readonly unknown[]): { prompt: string | undefined; promptTokens: number } {
  let prompt: string | undefined;
  let promptTokens = 0;
  for (const m of messages) {
    if (!isRecord(m)) continue;
    const text = contentText(m.content);
    promptTokens += countTokens(text);
    if (m.role === 'user') prompt = text;
  }
  return { prompt, promptTokens };
}

export function stringList(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

export function finiteNumber(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
