import type { Ollama } from 'ollama';
import { requireCjs } from '../util/cjs.js';
import { errorCode, ProviderError, redact } from '../errors.js';
import { parseRetryAfter } from '../run/retry-after.js';
import type { ChatRequest, Completion, ErrorKind } from '../types.js';
import { nodeFetch } from './http.js';
import { abortKind, type Provider, type ProviderFactory } from './provider.js';

/**
 * The official `ollama` SDK against `/api/chat` (stream: false). HTTP errors are classified in a
 * fetch wrapper before the SDK sees them, so its console logging never reaches our output.
 */
export const ollamaProvider: ProviderFactory = (model) => {
  const host = model.host!;
  // The SDK takes no per-request signal, so each request needs its own fetch. Building a client
  // per request re-parses the host every time; a view of one client with its own `fetch` does not.
  // Loaded on first use, like the openai SDK (see openai.ts).
  const { Ollama: OllamaClient } = requireCjs('ollama') as typeof import('ollama');
  const base = new OllamaClient({ host, fetch: nodeFetch });

  async function complete(req: ChatRequest): Promise<Completion> {
    const fetchWithSignal: typeof fetch = async (input, init) => {
      let res: Response;
      try {
        res = await nodeFetch(input, { ...init, signal: req.signal });
      } catch (err) {
        throw classifyFetchFailure(err, req.signal, model.id, host);
      }
      if (!res.ok) throw await classifyHttp(res, model.id, model.model);
      return res;
    };
    const client = Object.create(base, { fetch: { value: fetchWithSignal } }) as Ollama;
    const p = req.params;
    const options: Record<string, unknown> = {};
    if (p.temperature !== undefined) options.temperature = p.temperature;
    if (p.max_tokens !== undefined) options.num_predict = p.max_tokens;
    if (p.top_p !== undefined) options.top_p = p.top_p;
    if (p.seed !== undefined) options.seed = p.seed;
    if (p.stop !== undefined) options.stop = p.stop;
    const started = performance.now();
    let res: Awaited<ReturnType<Ollama['chat']>>;
    try {
      res = await client.chat({ model: model.model, messages: req.messages, stream: false, options });
    } catch (err) {
      if (err instanceof ProviderError) throw err;
      if (req.signal.aborted) {
        const kind = abortKind(req.signal);
        throw new ProviderError(
          kind,
          kind === 'timeout'
            ? `model '${model.id}': no answer within the timeout`
            : `model '${model.id}': request aborted`,
        );
      }
      throw new ProviderError(
        'bad_response',
        `model '${model.id}': unreadable response (${redact(err instanceof Error ? err.message : String(err)).slice(0, 300)})`,
      );
    }
    const latencyMs = performance.now() - started;
    const content = (res as { message?: { content?: unknown } } | null)?.message?.content;
    if (typeof content !== 'string')
      throw new ProviderError('bad_response', `model '${model.id}': response has no message content`);
    return {
      text: content,
      inputTokens: numberOrUndefined(res.prompt_eval_count),
      outputTokens: numberOrUndefined(res.eval_count),
      finishReason: (res as { done_reason?: string }).done_reason ?? (res.done ? 'stop' : undefined),
      latencyMs,
    };
  }
  return { model, complete } satisfies Provider;
};

function numberOrUndefined(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function classifyFetchFailure(err: unknown, signal: AbortSignal, id: string, host: string): ProviderError {
  if (signal.aborted) {
    const kind = abortKind(signal);
    return new ProviderError(
      kind,
      kind === 'timeout' ? `model '${id}': no answer within the timeout` : `model '${id}': request aborted`,
    );
  }
  const code = errorCode(err) ?? ((err as { cause?: { message?: string } }).cause?.message || undefined);
  const hint = code === 'ECONNREFUSED' ? ` (is Ollama running at ${host}? start it with \`ollama serve\`)` : '';
  return new ProviderError('network', `model '${id}': connection to ${host} failed${code ? ` (${code})` : ''}${hint}`);
}

async function classifyHttp(res: Response, id: string, name: string): Promise<ProviderError> {
  let message = `HTTP ${res.status}`;
  try {
    const text = await res.text();
    try {
      const body = JSON.parse(text) as { error?: unknown };
      if (typeof body.error === 'string') message = body.error;
      else if (
        body.error &&
        typeof body.error === 'object' &&
        typeof (body.error as { message?: unknown }).message === 'string'
      )
        message = (body.error as { message: string }).message;
      else if (text) message = text;
    } catch {
      if (text.trim()) message = text.trim();
    }
  } catch {
    /* the body is gone; the status says enough */
  }
  message = redact(message).replace(/\s+/g, ' ').slice(0, 300);
  const s = res.status;
  if (s === 404 && /not found|pull/i.test(message)) {
    return new ProviderError('not_found', `model '${id}': Ollama has no model '${name}'; run: ollama pull ${name}`, {
      status: s,
    });
  }
  const kind: ErrorKind =
    s === 429
      ? 'rate_limit'
      : s === 401 || s === 403
        ? 'auth'
        : s === 404
          ? 'not_found'
          : s === 408
            ? 'timeout'
            : s >= 500
              ? 'server'
              : 'bad_request';
  return new ProviderError(kind, `model '${id}': HTTP ${s}: ${message}`, {
    status: s,
    retryAfterMs: kind === 'rate_limit' || kind === 'server' ? parseRetryAfter(res.headers) : undefined,
  });
}
