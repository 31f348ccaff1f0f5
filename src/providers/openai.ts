import type * as OpenAIModule from 'openai';
import { parseBudgets } from './retry-after.js';
import type { ChatRequest, Completion } from '../types.js';
import { boundedFetch } from './http.js';
import { openaiBatch } from './openai-batch.js';
import { classifyOpenAIError, completionOf, openaiClient, requestBody } from './openai-wire.js';
import type { Provider, ProviderDescriptor, ProviderFactory } from './provider.js';

type ChatCompletion = OpenAIModule.OpenAI.Chat.Completions.ChatCompletion;

/** The official `openai` SDK against any OpenAI-compatible chat-completions endpoint. */
const openaiProvider: ProviderFactory = (model, providerEnv) => {
  // Keys, header values and URL credentials are never repeated in a message, even when a server echoes them.
  const { client, secrets } = openaiClient(model, providerEnv, {
    // The lane owns timeouts: the SDK's is only a backstop.
    timeout: model.timeoutMs + 5_000,
    fetch: boundedFetch(model.maxResponseBytes),
  });

  async function complete(req: ChatRequest): Promise<Completion> {
    const started = performance.now();
    let res: ChatCompletion;
    let headers: Headers;
    try {
      ({
        data: res,
        response: { headers },
      } = await client.chat.completions.create(requestBody(model, req), { signal: req.signal }).withResponse());
    } catch (err) {
      throw classifyOpenAIError(err, req.signal, model, secrets);
    }
    const c = completionOf(res, model.id, performance.now() - started);
    const budgets = parseBudgets(headers);
    return budgets.requests || budgets.tokens ? { ...c, budgets } : c;
  }
  return { model, complete, secrets } satisfies Provider;
};

export const openaiDescriptor: ProviderDescriptor = {
  protocol: 'openai',
  description: 'the official openai SDK against any OpenAI-compatible /chat/completions endpoint',
  endpoint: { field: 'baseURL' },
  key: 'required',
  defaults: (local) => ({ concurrency: local ? 4 : 8, timeoutMs: local ? 300_000 : 120_000, cache: !local }),
  create: openaiProvider,
  batch: (model, env) => openaiBatch(model, env),
};
