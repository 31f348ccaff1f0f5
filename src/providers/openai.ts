import type * as OpenAIModule from 'openai';
import { requireCjs } from '../util/cjs.js';
import { errorCode, ProviderError, redact } from '../errors.js';
import { parseRetryAfter } from '../run/retry-after.js';
import type { ChatRequest, Completion, ErrorKind } from '../types.js';
import { nodeFetch } from './http.js';
import { abortKind, type Provider, type ProviderFactory } from './provider.js';

/**
 * The SDK is loaded on first use: a run whose network lanes are on provider threads never needs
 * it on the main thread (about 50 ms of start-up there).
 */
let sdk: typeof OpenAIModule.OpenAI | undefined;
function OpenAISdk(): typeof OpenAIModule.OpenAI {
  return (sdk ??= (requireCjs('openai') as typeof OpenAIModule).OpenAI);
}

/** Placeholder for local servers started without a key (the SDK refuses an empty one). */
const NO_KEY = 'sk-no-key-required';

/** The official `openai` SDK against any OpenAI-compatible chat-completions endpoint. */
export const openaiProvider: ProviderFactory = (model, { env }) => {
  const key = (model.apiKeyEnv && env[model.apiKeyEnv]?.trim()) || (model.keyOptional ? NO_KEY : '');
  const OpenAI = OpenAISdk();
  const client = new OpenAI({
    apiKey: key || NO_KEY,
    baseURL: model.baseURL,
    // The lane owns retries and timeouts; the SDK must not retry behind its back.
    maxRetries: 0,
    timeout: model.timeoutMs + 5_000,
    fetch: nodeFetch,
  });
  const secrets = key ? [key] : [];

  async function complete(req: ChatRequest): Promise<Completion> {
    const started = performance.now();
    const p = req.params;
    let res: OpenAIModule.OpenAI.Chat.Completions.ChatCompletion;
    try {
      res = await client.chat.completions.create(
        {
          model: model.model,
          messages: req.messages,
          ...(p.temperature === undefined ? {} : { temperature: p.temperature }),
          ...(p.max_tokens === undefined ? {} : { max_tokens: p.max_tokens }),
          ...(p.top_p === undefined ? {} : { top_p: p.top_p }),
          ...(p.seed === undefined ? {} : { seed: p.seed }),
          ...(p.stop === undefined ? {} : { stop: p.stop }),
        },
        { signal: req.signal },
      );
    } catch (err) {
      throw classifyOpenAIError(err, req.signal, model.id, model.apiKeyEnv, secrets);
    }
    const latencyMs = performance.now() - started;
    if (!res || typeof res !== 'object' || !Array.isArray(res.choices))
      throw new ProviderError('bad_response', `model '${model.id}': response has no choices array`);
    const choice = res.choices[0];
    if (!choice) throw new ProviderError('bad_response', `model '${model.id}': response has empty choices`);
    const content = choice.message?.content;
    if (content !== null && content !== undefined && typeof content !== 'string')
      throw new ProviderError('bad_response', `model '${model.id}': message content is not text`);
    return {
      text: content ?? '',
      inputTokens: res.usage?.prompt_tokens,
      outputTokens: res.usage?.completion_tokens,
      finishReason: choice.finish_reason ?? undefined,
      latencyMs,
    };
  }
  return { model, complete } satisfies Provider;
};

export function classifyOpenAIError(
  err: unknown,
  signal: AbortSignal,
  modelId: string,
  keyEnv: string | undefined,
  secrets: string[],
): ProviderError {
  const OpenAI = OpenAISdk();
  const clean = (s: string) => redact(s, secrets).replace(/\s+/g, ' ').slice(0, 500);
  if (err instanceof OpenAI.APIUserAbortError || (signal.aborted && !(err instanceof OpenAI.APIError && err.status))) {
    const kind = abortKind(signal);
    return new ProviderError(
      kind,
      kind === 'timeout' ? `model '${modelId}': no answer within the timeout` : `model '${modelId}': request aborted`,
    );
  }
  if (err instanceof OpenAI.APIConnectionTimeoutError)
    return new ProviderError('timeout', `model '${modelId}': request timed out`);
  if (err instanceof OpenAI.APIConnectionError) {
    const code = errorCode(err);
    return new ProviderError('network', `model '${modelId}': connection failed${code ? ` (${code})` : ''}`);
  }
  if (err instanceof OpenAI.APIError && typeof err.status === 'number') {
    const status = err.status;
    // The SDK's message starts with the status ("401 bad key"); ours says "HTTP 401:" already.
    const msg = clean((err.message || '').replace(new RegExp(`^${status}\\s+`), '') || `HTTP ${status}`);
    const kind: ErrorKind =
      status === 429
        ? 'rate_limit'
        : status === 401 || status === 403
          ? 'auth'
          : status === 404
            ? 'not_found'
            : status === 408
              ? 'timeout'
              : status >= 500
                ? 'server'
                : 'bad_request';
    const hint =
      kind === 'auth'
        ? ` (check ${keyEnv ?? 'the API key variable'})`
        : kind === 'not_found'
          ? ' (is the model name right for this provider?)'
          : '';
    return new ProviderError(kind, `model '${modelId}': HTTP ${status}: ${msg}${hint}`, {
      status,
      retryAfterMs:
        kind === 'rate_limit' || kind === 'server' ? parseRetryAfter(err.headers as Headers | undefined) : undefined,
    });
  }
  // A 200 whose body is not JSON, or a body the SDK could not read.
  const message = err instanceof Error ? err.message : String(err);
  return new ProviderError('bad_response', `model '${modelId}': unreadable response (${clean(message)})`);
}
