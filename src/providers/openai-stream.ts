/**
 * A streamed OpenAI-compatible answer (server-sent events through the SDK's own stream), gathered
 * into one completion with its token timings. The SDK ends its iteration quietly when the body
 * ends, with or without `[DONE]`; an answer is complete when a choice said why it finished and,
 * when the server announced usage (`"usage": null` on its chunks, as `include_usage` asks), the
 * usage chunk came too.
 */
import { ProviderError } from '../errors.js';
import type { Completion, ServerTimings } from '../types.js';
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

export async function readOpenAIStream(
  stream: AsyncIterable<unknown>,
  modelId: string,
  started: number,
): Promise<Completion> {
  const clock = new TokenClock(started);
  let content = '';
  let thinking = '';
  let finish: string | undefined;
  let usage: Chunk['usage'];
  let usageAnnounced = false;
  let server: ServerTimings | undefined;
  for await (const raw of stream) {
    const chunk = raw as Chunk;
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
  }
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
