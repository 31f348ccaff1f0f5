/** The OpenAI wire format shared by live requests and the Batch API: the SDK, request bodies, answers, errors. */
import type * as OpenAIModule from 'openai';
import { errorCode, ProviderError, withoutCredentials } from '../errors.js';
import type { ChatRequest, Completion } from '../types.js';
import { requireCjs } from '../util/cjs.js';
import { abortedError, cleanMessage, httpError, networkError } from './classify.js';
import { requestAuth, type ProviderEnv, type ProviderModel } from './provider.js';
import { splitReasoning, tokenCount } from './reasoning.js';
import { llamaCppTimings } from './stream.js';

export type ChatCompletion = OpenAIModule.OpenAI.Chat.Completions.ChatCompletion;

/**
 * An SDK client for a model's endpoint and credentials, with retries off (the lane, or the batch
 * lane, owns them). Returns the secret values its requests carry, never to be shown or stored.
 */
export function openaiClient(
  model: ProviderModel,
  { env }: ProviderEnv,
  transport: { timeout: number; fetch?: typeof fetch },
): { client: OpenAIModule.OpenAI; secrets: string[] } {
  const OpenAI = OpenAISdk();
  const { key, url, basic, headers, secrets } = requestAuth(model, env);
  const client = new OpenAI({
    // URL credentials become Basic auth when there is no key (a bearer key wins).
    defaultHeaders: { ...(basic ? { Authorization: basic } : {}), ...headers },
    apiKey: key || NO_KEY,
    baseURL: url || undefined,
    maxRetries: 0,
    // The SDK logs a stream chunk it cannot parse: that is the model's text, never printed.
    logLevel: 'off',
    timeout: transport.timeout,
    ...(transport.fetch ? { fetch: transport.fetch } : {}),
  });
  return { client, secrets };
}

/** Loaded on first use: commands that never call a model (report, validate) do not pay for it. */
let sdk: typeof OpenAIModule.OpenAI | undefined;
function OpenAISdk(): typeof OpenAIModule.OpenAI {
  return (sdk ??= (requireCjs('openai') as typeof OpenAIModule).OpenAI);
}

/** Placeholder for local servers started without a key (the SDK refuses an empty one). */
const NO_KEY = 'sk-no-key-required';

/** The chat request's body, as sent live and as a line of a batch input file. */
export function requestBody(model: ProviderModel, req: Pick<ChatRequest, 'messages' | 'params'>) {
  const p = req.params;
  return {
    model: model.model,
    messages: req.messages,
    ...(p.temperature === undefined ? {} : { temperature: p.temperature }),
    ...(p.max_tokens === undefined ? {} : { max_tokens: p.max_tokens }),
    ...(p.max_completion_tokens === undefined ? {} : { max_completion_tokens: p.max_completion_tokens }),
    ...(p.top_p === undefined ? {} : { top_p: p.top_p }),
    ...(p.seed === undefined ? {} : { seed: p.seed }),
    ...(p.stop === undefined ? {} : { stop: p.stop }),
    ...(p.reasoning_effort === undefined ? {} : { reasoning_effort: p.reasoning_effort }),
    // Vendor fields (enable_thinking, thinking, top_k, chat_template_kwargs, ...) go in unchanged.
    ...p.extra,
  } as OpenAIModule.OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming;
}

export function completionOf(res: ChatCompletion, modelId: string, latencyMs: number): Completion {
  if (!res || typeof res !== 'object' || !Array.isArray(res.choices)) {
    throw new ProviderError('bad_response', `model '${modelId}': response has no choices array`);
  }
  const choice = res.choices[0];
  if (!choice) throw new ProviderError('bad_response', `model '${modelId}': response has empty choices`);
  const content = choice.message?.content;
  if (content !== null && content !== undefined && typeof content !== 'string') {
    throw new ProviderError('bad_response', `model '${modelId}': message content is not text`);
  }
  // Not in the SDK's types: the reasoning fields of DeepSeek, DashScope, OpenRouter and vLLM.
  const message = choice.message as { reasoning_content?: unknown; reasoning?: unknown } | undefined;
  const { text, reasoning } = splitReasoning(content ?? '', message?.reasoning_content ?? message?.reasoning);
  const details = res.usage?.completion_tokens_details as { reasoning_tokens?: unknown } | undefined;
  const reasoningTokens = tokenCount(details?.reasoning_tokens);
  // llama.cpp's server adds its own timings beside the answer.
  const serverTimings = llamaCppTimings((res as { timings?: unknown }).timings);
  return {
    text,
    ...(reasoning ? { reasoning } : {}),
    inputTokens: res.usage?.prompt_tokens,
    outputTokens: res.usage?.completion_tokens,
    ...(reasoningTokens === undefined ? {} : { reasoningTokens }),
    finishReason: choice.finish_reason ?? undefined,
    latencyMs,
    ...(serverTimings ? { serverTimings } : {}),
  };
}

export function classifyOpenAIError(
  err: unknown,
  signal: AbortSignal,
  model: ProviderModel,
  secrets: string[],
  streaming = false,
): ProviderError {
  const OpenAI = OpenAISdk();
  if (err instanceof OpenAI.APIUserAbortError || (signal.aborted && !(err instanceof OpenAI.APIError && err.status))) {
    return abortedError(signal, model.id);
  }
  if (err instanceof OpenAI.APIConnectionTimeoutError) {
    return new ProviderError('timeout', `model '${model.id}': request timed out`);
  }
  if (err instanceof OpenAI.APIConnectionError)
    return networkError(model.id, withoutCredentials(model.endpoint ?? 'the server'), err);
  if (err instanceof OpenAI.APIError && typeof err.status === 'number') {
    const status = err.status;
    // The SDK's message starts with the status ("401 bad key"); ours says "HTTP 401:" already.
    const text = (err.message || '').replace(new RegExp(`^${status}\\s+`), '') || `HTTP ${status}`;
    const hint =
      status === 401 || status === 403
        ? ` (check ${model.apiKeyEnv ?? 'the API key variable'}${model.authHint ? `; ${model.authHint}` : ''})`
        : status === 404
          ? ' (is the model name right for this provider?)'
          : status === 400 && /stream/i.test(text)
            ? streaming
              ? ' (if this server cannot stream, set stream: false for this model)'
              : ' (this model may answer only streamed: remove stream: false)'
            : '';
    return httpError(model.id, status, cleanMessage(text, secrets), err.headers as Headers | undefined, hint);
  }
  // An `error` event inside a stream (the server gave up mid-answer, e.g. overloaded): worth a retry.
  if (err instanceof OpenAI.APIError && streaming) {
    const text = cleanMessage(err.message || 'error event in the stream', secrets);
    return new ProviderError('server', `model '${model.id}': the server stopped the answer: ${text}`);
  }
  // The body broke off while it was read (a stream, or a body over the bound).
  if (errorCode(err)) return networkError(model.id, withoutCredentials(model.endpoint ?? 'the server'), err);
  // A 200 whose body is not JSON, or a body the SDK could not read.
  const message = err instanceof Error ? err.message : String(err);
  return new ProviderError(
    'bad_response',
    `model '${model.id}': unreadable response (${cleanMessage(message, secrets)})`,
  );
}
