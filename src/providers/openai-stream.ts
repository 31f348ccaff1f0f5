/**
 * A streamed OpenAI-compatible answer (server-sent events), gathered into one completion with its
 * token timings. An answer is complete when a choice said why it finished and,
 * when the server announced usage (`"usage": null` on its chunks, as `include_usage` asks), the
 * usage chunk came too.
 */
import { ProviderError } from '../errors.js';
import type { Completion, ServerTimings } from '../types.js';
import { cleanMessage } from './classify.js';
import { splitReasoning, tokenCount } from './reasoning.js';
import { llamaCppTimings, TokenClock } from './stream.js';

/** The parts of a chunk gapbench reads; the reasoning fields are DeepSeek's, DashScope's, vLLM's. */
interface Chunk {
  choices?: {
    delta?: { content?: unknown; reasoning_content?: unknown; reasoning?: unknown } | null;
    finish_reason?: string | null;
  }[];
  usage?: {
    prompt_tokens?: unknown;
    completion_tokens?: unknown;
    completion_tokens_details?: { reasoning_tokens?: unknown } | null;
  } | null;
  /** llama.cpp's server timings. */
  timings?: unknown;
}

/**
 * Reads the event stream of a streamed answer. The SDK sent the request and classified its HTTP
 * errors; its own event reader costs an await per event, which at one event per token is most of
 * what a streamed answer costs, so the events are split here, a network chunk at a time.
 */
export async function readOpenAIStream(
  body: ReadableStream<Uint8Array>,
  modelId: string,
  started: number,
  secrets: readonly string[],
): Promise<Completion> {
  const clock = new TokenClock(started);
  let content = '';
  let thinking = '';
  let finish: string | undefined;
  let usage: Chunk['usage'];
  let usageAnnounced = false;
  let server: ServerTimings | undefined;
  let ended = false;
  const onChunk = (chunk: Chunk) => {
    if (!chunk || typeof chunk !== 'object' || !Array.isArray(chunk.choices)) {
      throw new ProviderError('bad_response', `model '${modelId}': a stream chunk has no choices array`);
    }
    const choice = chunk.choices[0];
    const delta = choice?.delta;
    if (delta) {
      const r = delta.reasoning_content ?? delta.reasoning;
      clock.saw('reasoning', r);
      if (typeof r === 'string') thinking += r;
      if (delta.content !== undefined && delta.content !== null && typeof delta.content !== 'string') {
        throw new ProviderError('bad_response', `model '${modelId}': a stream chunk's content is not text`);
      }
      clock.saw('content', delta.content);
      if (typeof delta.content === 'string') content += delta.content;
    }
    if (choice?.finish_reason) finish = choice.finish_reason;
    if ('usage' in chunk) usageAnnounced = true;
    if (chunk.usage) usage = chunk.usage;
    if (chunk.timings) server = llamaCppTimings(chunk.timings) ?? server;
  };
  const onEvent = (event: string) => {
    if (ended) return;
    let data: string | undefined;
    let name = '';
    for (const line of event.split('\n')) {
      if (line.startsWith('data:')) {
        const v = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
        data = data === undefined ? v : `${data}\n${v}`;
      } else if (line.startsWith('event:')) name = line.slice(6).trim();
    }
    if (data === undefined) return; // a comment or keep-alive
    if (data.startsWith('[DONE]')) {
      ended = true;
      return;
    }
    let v: unknown;
    try {
      v = JSON.parse(data);
    } catch {
      throw new ProviderError('bad_response', `model '${modelId}': a stream chunk is not JSON`);
    }
    const error = (v as { error?: { message?: unknown } } | null)?.error;
    if (error !== undefined || name === 'error') {
      const text = typeof error?.message === 'string' ? error.message : JSON.stringify(error ?? v);
      throw new ProviderError(
        'server',
        `model '${modelId}': the server stopped the answer: ${cleanMessage(text, secrets)}`,
      );
    }
    onChunk(v as Chunk);
  };
  const decoder = new TextDecoder();
  let buf = '';
  const take = (piece: string) => {
    buf += piece.includes('\r') ? piece.replace(/\r\n?/g, '\n') : piece;
    for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
      const event = buf.slice(0, i);
      buf = buf.slice(i + 2);
      onEvent(event);
    }
  };
  for await (const bytes of body as unknown as AsyncIterable<Uint8Array>) take(decoder.decode(bytes, { stream: true }));
  take(decoder.decode());
  if (buf.trim() !== '') onEvent(buf);
  if (!finish || (usageAnnounced && !usage)) {
    const missing = finish ? 'its usage chunk' : 'a finish_reason';
    throw new ProviderError(
      'stream_incomplete',
      `model '${modelId}': the stream ended without ${missing} (cut off before [DONE])`,
    );
  }
  const latencyMs = performance.now() - started;
  const { text, reasoning } = splitReasoning(content, thinking);
  const outputTokens = tokenCount(usage?.completion_tokens);
  const reasoningTokens = tokenCount(usage?.completion_tokens_details?.reasoning_tokens);
  return {
    text,
    ...(reasoning ? { reasoning } : {}),
    inputTokens: tokenCount(usage?.prompt_tokens),
    outputTokens,
    ...(reasoningTokens === undefined ? {} : { reasoningTokens }),
    finishReason: finish,
    latencyMs,
    ...clock.fields(outputTokens),
    ...(server ? { serverTimings: server } : {}),
  };
}
