/** The OpenAI Chat Completions wire protocol, as the simulator speaks it. */
import type { ChatCall, Protocol, ReplyContext, SimCompletion, SimError } from './protocol.js';
import { isRecord } from '../util/record.js';
import { finiteNumber, readMessages, stringList } from './protocol.js';
import { readThinking } from './rules.js';

export function errorJson(message: string, type: string, param: string | null, code: string | null): string {
  return JSON.stringify({ error: { message, type, param, code } });
}

function usage(c: SimCompletion): Record<string, unknown> {
  return {
    prompt_tokens: c.promptTokens,
    completion_tokens: c.completionTokens,
    total_tokens: c.promptTokens + c.completionTokens,
    ...(c.reasoningTokens === undefined ? {} : { completion_tokens_details: { reasoning_tokens: c.reasoningTokens } }),
  };
}

/** llama.cpp server's `timings`: the prompt read in the first fifth of the time so far, the rest generating. */
function llamaTimings(c: SimCompletion, ctx: ReplyContext): Record<string, number> {
  const total = Math.max(0.001, Number(process.hrtime.bigint() - ctx.startNs) / 1e6);
  const prompt = total * 0.2;
  const predicted = total - prompt;
  return {
    prompt_n: c.promptTokens,
    prompt_ms: prompt,
    prompt_per_token_ms: prompt / Math.max(1, c.promptTokens),
    prompt_per_second: (c.promptTokens * 1000) / prompt,
    predicted_n: c.completionTokens,
    predicted_ms: predicted,
    predicted_per_token_ms: predicted / Math.max(1, c.completionTokens),
    predicted_per_second: (c.completionTokens * 1000) / predicted,
  };
}

function chunk(ctx: ReplyContext, call: ChatCall, choices: unknown[], usageValue?: unknown): string {
  const body: Record<string, unknown> = {
    id: ctx.id,
    object: 'chat.completion.chunk',
    created: ctx.created,
    model: ctx.model,
    choices,
  };
  if (call.includeUsage) body.usage = usageValue ?? null;
  return `data: ${JSON.stringify(body)}\n\n`;
}

export const openaiProtocol: Protocol = {
  parseChat(body: unknown): ChatCall | { error: SimError } {
    if (!isRecord(body))
      return { error: { kind: 'bad_request', message: 'The request body must be a JSON object.', param: null } };
    if (typeof body.model !== 'string' || body.model === '') {
      return { error: { kind: 'bad_request', message: 'you must provide a model parameter', param: 'model' } };
    }
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      return { error: { kind: 'bad_request', message: "Missing required parameter: 'messages'.", param: 'messages' } };
    }
    const { prompt, promptTokens } = readMessages(body.messages);
    const stream = body.stream === true;
    return {
      model: body.model,
      prompt,
      promptTokens,
      seed: finiteNumber(body.seed),
      maxTokens: finiteNumber(body.max_completion_tokens) ?? finiteNumber(body.max_tokens),
      stop: stringList(body.stop),
      stream,
      includeUsage: stream && isRecord(body.stream_options) && body.stream_options.include_usage === true,
      ...(finiteNumber(body.temperature) === undefined ? {} : { temperature: finiteNumber(body.temperature) }),
      ...(body.max_tokens !== undefined
        ? { maxTokensField: 'max_tokens' as const }
        : body.max_completion_tokens !== undefined
          ? { maxTokensField: 'max_completion_tokens' as const }
          : {}),
      thinking: readThinking(body),
    };
  },

  errorBody(e: SimError): string {
    switch (e.kind) {
      case 'bad_json':
        return errorJson(
          "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
          'invalid_request_error',
          null,
          null,
        );
      case 'bad_request':
        return errorJson(e.message, 'invalid_request_error', e.param, null);
      case 'unauthorized':
        return errorJson(
          e.missing
            ? "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
            : 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
          'invalid_request_error',
          null,
          'invalid_api_key',
        );
      case 'not_found':
        return errorJson(
          `The model \`${e.model}\` does not exist or you do not have access to it.`,
          'invalid_request_error',
          null,
          'model_not_found',
        );
      case 'no_route':
        return errorJson(`Invalid URL (${e.method} ${e.path})`, 'invalid_request_error', null, null);
      case 'rate_limited':
        return errorJson(
          `Rate limit reached for ${e.model} in organization org-gapbench-sim on requests per min (RPM): Limit ${e.limit}. Please try again in ${Math.ceil(e.retryAfterMs)}ms.`,
          'requests',
          'requests',
          'rate_limit_exceeded',
        );
      case 'error500':
        return errorJson(
          'The server had an error while processing your request. Sorry about that!',
          'server_error',
          null,
          null,
        );
      case 'error503':
        return errorJson('The server is overloaded or not ready yet.', 'server_error', null, null);
    }
  },

  completionBody(call: ChatCall, c: SimCompletion, ctx: ReplyContext): string {
    return JSON.stringify({
      id: ctx.id,
      object: 'chat.completion',
      created: ctx.created,
      model: ctx.model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: c.text,
            // DeepSeek's and DashScope's field for a reasoning model's thinking.
            ...(c.reasoning === undefined ? {} : { reasoning_content: c.reasoning }),
            refusal: null,
          },
          logprobs: null,
          finish_reason: c.finishReason,
        },
      ],
      usage: usage(c),
      ...(ctx.llamaTimings ? { timings: llamaTimings(c, ctx) } : {}),
    });
  },

  streamContentType: 'text/event-stream; charset=utf-8',

  streamHead(call: ChatCall, ctx: ReplyContext): string {
    return chunk(ctx, call, [
      { index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null },
    ]);
  },

  streamPiece(call: ChatCall, ctx: ReplyContext, piece: string, kind: 'reasoning' | 'content'): string {
    // DeepSeek's and DashScope's delta field for thinking.
    const delta = kind === 'reasoning' ? { reasoning_content: piece } : { content: piece };
    return chunk(ctx, call, [{ index: 0, delta, logprobs: null, finish_reason: null }]);
  },

  streamGarbage(): string {
    return 'data: {"choices":[{"delta":{"content":"garbled\n\n';
  },

  streamTail(call: ChatCall, c: SimCompletion, ctx: ReplyContext): string {
    let out = chunk(ctx, call, [{ index: 0, delta: {}, logprobs: null, finish_reason: c.finishReason }]);
    // llama.cpp sends its timings with the last chunk.
    if (ctx.llamaTimings) out = out.replace(/\}\n\n$/, `,"timings":${JSON.stringify(llamaTimings(c, ctx))}}\n\n`);
    if (call.includeUsage) out += chunk(ctx, call, [], usage(c));
    return out + 'data: [DONE]\n\n';
  },

  malformed(call: ChatCall, ctx: ReplyContext, variant: number): { contentType: string; body: string } {
    if (call.stream) {
      const body =
        variant === 0
          ? `data: {"id":"${ctx.id}","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Sim\n\n`
          : chunk(ctx, call, []) + 'data: [DONE]\n\n';
      return { contentType: 'text/event-stream; charset=utf-8', body };
    }
    const body =
      variant === 0
        ? `{"id":"${ctx.id}","object":"chat.completion","created":${ctx.created},"model":${JSON.stringify(ctx.model)},"choices":[{"index":0,"message":{"role":"assist`
        : JSON.stringify({
            id: ctx.id,
            object: 'chat.completion',
            created: ctx.created,
            model: ctx.model,
            choices: [],
            usage: null,
          });
    return { contentType: 'application/json', body };
  },
};

/** GET /v1/models (and the entry for GET /v1/models/{id}). */
export function openaiModelEntry(name: string, created: number): Record<string, unknown> {
  return { id: name, object: 'model', created, owned_by: 'gapbench-sim' };
}
