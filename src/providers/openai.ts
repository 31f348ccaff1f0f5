import { parseBudgets } from './retry-after.js';
import { ProviderError } from '../errors.js';
import type { ChatRequest, Completion } from '../types.js';
import { abortedError } from './classify.js';
import { boundedFetch } from './http.js';
import { openaiBatch } from './openai-batch.js';
import { readOpenAIStream } from './openai-stream.js';
import { classifyOpenAIError, completionOf, openaiClient, requestBody, type ChatCompletion } from './openai-wire.js';
import type { Provider, ProviderDescriptor, ProviderFactory } from './provider.js';

/**
 * The official `openai` SDK against any OpenAI-compatible chat-completions endpoint. Answers are
 * streamed unless the model says `stream: false`: streaming gives the time to first token, and
 * some models answer only that way (DashScope's thinking-only models refuse stream=False).
 */
const openaiProvider: ProviderFactory = (model, providerEnv) => {
  // Keys, header values and URL credentials are never repeated in a message, even when a server echoes them.
  const { client, secrets } = openaiClient(model, providerEnv, {
    // The lane owns timeouts: the SDK's is only a backstop.
    timeout: model.timeoutMs + 5_000,
    fetch: boundedFetch(model.maxResponseBytes),
  });
  const streaming = model.stream !== false;

  async function complete(req: ChatRequest): Promise<Completion> {
    const started = performance.now();
    let c: Completion;
    let headers: Headers;
    try {
      ({ c, headers } = streaming ? await streamed(req, started) : await whole(req, started));
    } catch (err) {
      // The SDK ends a stream quietly when its request is aborted: what is missing then is the timeout's doing.
      if (req.signal.aborted) throw abortedError(req.signal, model.id);
      if (err instanceof ProviderError) throw err;
      throw classifyOpenAIError(err, req.signal, model, secrets, streaming);
    }
    if (req.signal.aborted) throw abortedError(req.signal, model.id);
    const budgets = parseBudgets(headers);
    return budgets.requests || budgets.tokens ? { ...c, budgets } : c;
  }

  async function whole(req: ChatRequest, started: number) {
    const { data, response } = await client.chat.completions
      .create(requestBody(model, req), { signal: req.signal })
      .withResponse();
    return { c: completionOf(data, model.id, performance.now() - started), headers: response.headers };
  }

  async function streamed(req: ChatRequest, started: number) {
    const body = { ...requestBody(model, req), stream: true as const, stream_options: { include_usage: true } };
    // The SDK builds, authenticates and sends the request and turns an HTTP error into its error.
    const response = await client.chat.completions.create(body, { signal: req.signal }).asResponse();
    // A server that ignores `stream` answers with one JSON body: read it as such.
    if (/json/i.test(response.headers.get('content-type') ?? '') || !response.body) {
      const res = (await response.json()) as ChatCompletion;
      return { c: completionOf(res, model.id, performance.now() - started), headers: response.headers };
    }
    return { c: await readOpenAIStream(response.body, model.id, started, secrets), headers: response.headers };
  }
  return { model, complete, secrets } satisfies Provider;
};

export const openaiDescriptor: ProviderDescriptor = {
  protocol: 'openai',
  description: 'the official openai SDK against any OpenAI-compatible /chat/completions endpoint (streamed)',
  endpoint: { field: 'baseURL' },
  key: 'required',
  streams: true,
  defaults: (local) => ({ concurrency: local ? 4 : 8, timeoutMs: local ? 300_000 : 120_000, cache: !local }),
  create: openaiProvider,
  batch: (model, env) => openaiBatch(model, env),
};
