/**
 * A streamed Ollama answer (NDJSON through the SDK's own iterator), gathered into one completion.
 * The SDK skips a line that is not JSON with a console warning (the model's text on our terminal,
 * and a piece of the answer lost), so the body is checked line by line before the SDK reads it:
 * a line that is not JSON, or an `error` line, fails the request with its kind.
 */
import { ProviderError } from '../errors.js';
import type { Completion } from '../types.js';
import { cleanMessage } from './classify.js';
import { splitReasoning } from './reasoning.js';
import { ollamaTimings, TokenClock } from './stream.js';

/** The body of a streamed response, every line checked as JSON (and not an error) as it passes. */
export function checkedLines(body: ReadableStream<Uint8Array>, modelId: string, secrets: string[]) {
  const decoder = new TextDecoder();
  let partial = '';
  const check = (line: string): ProviderError | undefined => {
    if (line.trim() === '') return undefined;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      return new ProviderError('bad_response', `model '${modelId}': a stream line is not JSON`);
    }
    const error = (v as { error?: unknown } | null)?.error;
    if (error === undefined) return undefined;
    const text = cleanMessage(typeof error === 'string' ? error : JSON.stringify(error), secrets, 300);
    return new ProviderError('server', `model '${modelId}': the server stopped the answer: ${text}`);
  };
  // Pulled by its reader: no queue of its own between the socket's stream and the SDK.
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let r: ReadableStreamReadResult<Uint8Array>;
        try {
          r = await reader.read();
        } catch (err) {
          return controller.error(err);
        }
        if (r.done) {
          const bad = check(partial + decoder.decode());
          return bad ? controller.error(bad) : controller.close();
        }
        const lines = (partial + decoder.decode(r.value, { stream: true })).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          const bad = check(line);
          if (bad) {
            reader.cancel().catch(() => undefined);
            return controller.error(bad);
          }
        }
        controller.enqueue(r.value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

interface Part {
  message?: { content?: unknown; thinking?: unknown };
  done?: boolean;
  done_reason?: string;
  prompt_eval_count?: unknown;
  eval_count?: unknown;
  load_duration?: unknown;
  prompt_eval_duration?: unknown;
  eval_duration?: unknown;
}

export async function readOllamaStream(
  parts: AsyncIterable<unknown>,
  modelId: string,
  started: number,
): Promise<Completion> {
  const clock = new TokenClock(started);
  let content = '';
  let thinking = '';
  let last: Part | undefined;
  try {
    for await (const raw of parts) {
      const part = raw as Part;
      const m = part?.message;
      if (m && m.content !== undefined && typeof m.content !== 'string')
        throw new ProviderError('bad_response', `model '${modelId}': a stream line's content is not text`);
      clock.saw('reasoning', m?.thinking);
      if (typeof m?.thinking === 'string') thinking += m.thinking;
      clock.saw('content', m?.content);
      if (typeof m?.content === 'string') content += m.content;
      last = part;
    }
  } catch (err) {
    // The SDK's own words for a body that ended before the done line.
    if (!(err instanceof Error) || !/did not receive done/i.test(err.message)) throw err;
  }
  if (!last?.done) {
    throw new ProviderError('stream_incomplete', `model '${modelId}': the stream ended without its done line`);
  }
  const latencyMs = performance.now() - started;
  const { text, reasoning } = splitReasoning(content, thinking);
  const outputTokens = count(last.eval_count);
  const serverTimings = ollamaTimings(last);
  return {
    text,
    ...(reasoning ? { reasoning } : {}),
    inputTokens: count(last.prompt_eval_count),
    outputTokens,
    finishReason: last.done_reason ?? 'stop',
    latencyMs,
    ...clock.fields(outputTokens),
    ...(serverTimings ? { serverTimings } : {}),
  };
}

function count(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
