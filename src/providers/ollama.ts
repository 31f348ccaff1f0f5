import { splitReasoning } from './reasoning.js';
import type { Ollama } from 'ollama';
import { errorCode, ProviderError } from '../errors.js';
import type { ChatRequest, Completion, SamplingParams } from '../types.js';
import { requireCjs } from '../util/cjs.js';
import { abortedError, cleanMessage, httpError, networkError } from './classify.js';
import { boundedFetch } from './http.js';
import { withBody } from './http-stream.js';
import { checkedLines, readOllamaStream } from './ollama-stream.js';
import { ollamaTimings } from './stream.js';
import { requestAuth, type Provider, type ProviderDescriptor, type ProviderFactory } from './provider.js';

const DEFAULT_OLLAMA_HOST = 'http://127.0.0.1:11434';

/**
 * The official `ollama` SDK against `/api/chat`, streamed (NDJSON) unless the model says
 * `stream: false`. HTTP errors are classified in a fetch wrapper before the SDK sees them, and a
 * streamed body is checked line by line there, so the SDK's console logging never reaches our output.
 */
const ollamaProvider: ProviderFactory = (model, { env }) => {
  // Credentials in the host (a proxy with Basic auth) go in a header; the host is shown without them.
  const { key, url: host, basic, headers, secrets } = requestAuth(model, env, DEFAULT_OLLAMA_HOST);
  const transport = boundedFetch(model.maxResponseBytes);
  // The SDK takes no per-request signal, so each request needs its own fetch. Building a client
  // per request re-parses the host every time; a view of one client with its own `fetch` does not.
  const { Ollama: OllamaClient } = requireCjs('ollama') as typeof import('ollama');
  const base = new OllamaClient({
    host,
    fetch: transport,
    headers: { ...headers, ...(key ? { Authorization: `Bearer ${key}` } : basic ? { Authorization: basic } : {}) },
  });

  const streaming = model.stream !== false;

  async function complete(req: ChatRequest): Promise<Completion> {
    const fetchWithSignal: typeof fetch = async (input, init) => {
      let res: Response;
      try {
        res = await transport(input, { ...init, signal: req.signal });
      } catch (err) {
        if (req.signal.aborted) throw abortedError(req.signal, model.id);
        throw networkError(model.id, host, err, ` (is Ollama running at ${host}? start it with \`ollama serve\`)`);
      }
      if (!res.ok) throw await classifyHttp(res, model.id, model.model, secrets);
      if (!streaming) return res;
      // Read once: a buffered response hands its bytes over on the first read.
      const body = res.body;
      if (!body) return res;
      return withBody(res, checkedLines(body, model.id, secrets));
    };
    const client = Object.create(base, { fetch: { value: fetchWithSignal } }) as Ollama;
    const started = performance.now();
    const request = {
      model: model.model,
      messages: req.messages,
      // The thinking switch is a top-level field, not an option (https://ollama.com/blog/thinking).
      ...(req.params.think === undefined ? {} : { think: req.params.think }),
      options: options(req.params),
    };
    try {
      if (streaming) return await readOllamaStream(await client.chat({ ...request, stream: true }), model.id, started);
      return whole(await client.chat({ ...request, stream: false }), performance.now() - started);
    } catch (err) {
      if (req.signal.aborted) throw abortedError(req.signal, model.id);
      if (err instanceof ProviderError) throw err;
      // The body broke off while it was read (a dropped connection, a body over the bound).
      if (errorCode(err)) throw networkError(model.id, host, err);
      const message = err instanceof Error ? err.message : String(err);
      throw new ProviderError(
        'bad_response',
        `model '${model.id}': unreadable response (${cleanMessage(message, secrets, 300)})`,
      );
    }
  }

  function whole(res: Awaited<ReturnType<Ollama['chat']>>, latencyMs: number): Completion {
    const message = (res as { message?: { content?: unknown; thinking?: unknown } } | null)?.message;
    const content = message?.content;
    if (typeof content !== 'string')
      throw new ProviderError('bad_response', `model '${model.id}': response has no message content`);
    const { text, reasoning } = splitReasoning(content, message?.thinking);
    const serverTimings = ollamaTimings(res);
    return {
      text,
      ...(reasoning ? { reasoning } : {}),
      inputTokens: numberOrUndefined(res.prompt_eval_count),
      outputTokens: numberOrUndefined(res.eval_count),
      finishReason: (res as { done_reason?: string }).done_reason ?? (res.done ? 'stop' : undefined),
      latencyMs,
      ...(serverTimings ? { serverTimings } : {}),
    };
  }
  return { model, complete, secrets } satisfies Provider;
};

/** OpenAI-named sampling knobs in Ollama's `options`. */
function options(p: SamplingParams): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (p.temperature !== undefined) o.temperature = p.temperature;
  if (p.max_tokens !== undefined) o.num_predict = p.max_tokens;
  if (p.top_p !== undefined) o.top_p = p.top_p;
  if (p.seed !== undefined) o.seed = p.seed;
  if (p.stop !== undefined) o.stop = p.stop;
  // Ollama's own options (num_ctx, top_k, repeat_penalty, ...) and anything else the user sends.
  return { ...o, ...p.extra };
}

function numberOrUndefined(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

async function classifyHttp(res: Response, id: string, name: string, secrets: string[]): Promise<ProviderError> {
  const message = cleanMessage(await errorText(res), secrets, 300);
  if (res.status === 404 && /not found|pull/i.test(message)) {
    return new ProviderError('not_found', `model '${id}': Ollama has no model '${name}'; run: ollama pull ${name}`, {
      status: 404,
    });
  }
  return httpError(id, res.status, message, res.headers);
}

/** The `error` of an Ollama error body, else the body, else the status. */
async function errorText(res: Response): Promise<string> {
  let text = '';
  try {
    text = await res.text();
  } catch {
    return `HTTP ${res.status}`;
  }
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === 'string') return body.error;
    const inner = body.error as { message?: unknown } | undefined;
    if (inner && typeof inner.message === 'string') return inner.message;
  } catch {
    /* not JSON: the text itself */
  }
  return text.trim() || `HTTP ${res.status}`;
}

export const ollamaDescriptor: ProviderDescriptor = {
  protocol: 'ollama',
  description: 'the official ollama SDK against /api/chat (streamed)',
  endpoint: { field: 'host', env: 'OLLAMA_HOST', default: DEFAULT_OLLAMA_HOST, bare: { port: 11434 } },
  key: 'none',
  streams: true,
  // Ollama serves one request at a time unless OLLAMA_NUM_PARALLEL is raised. It can swap the
  // weights behind a model name, so its answers are not cached unless asked.
  defaults: () => ({ concurrency: 1, timeoutMs: 300_000, cache: false }),
  create: ollamaProvider,
};
