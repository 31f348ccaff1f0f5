/** The Ollama /api/chat wire protocol, as the simulator speaks it. Durations are in nanoseconds. */
import { createHash } from 'node:crypto';
import type { ChatCall, Protocol, ReplyContext, SimCompletion, SimError } from './protocol.js';
import { isRecord } from '../util/record.js';
import { finiteNumber, readMessages, stringList } from './protocol.js';
import { readThinking } from './rules.js';

export const OLLAMA_VERSION = '0.6.0-sim';

function errorJson(message: string): string {
  return JSON.stringify({ error: message });
}

/** Durations of a finished reply, split like Ollama's: a little load, some prompt eval, the rest eval. */
function timings(ctx: ReplyContext): {
  total_duration: number;
  load_duration: number;
  prompt_eval_duration: number;
  eval_duration: number;
} {
  const total = Math.max(1000, Number(process.hrtime.bigint() - ctx.startNs));
  // A cold model's load, as it waited for it; a warm one's few percent of scheduling.
  const load = ctx.loadMs ? Math.min(total, Math.round(ctx.loadMs * 1e6)) : Math.round(total * 0.05);
  const promptEval = Math.round(total * 0.15);
  return {
    total_duration: total,
    load_duration: load,
    prompt_eval_duration: promptEval,
    eval_duration: Math.max(0, total - load - promptEval),
  };
}

function finalLine(call: ChatCall, c: SimCompletion, ctx: ReplyContext, content: string): Record<string, unknown> {
  const t = timings(ctx);
  return {
    model: call.model,
    created_at: new Date().toISOString(),
    message: { role: 'assistant', content, ...(c.reasoning === undefined ? {} : { thinking: c.reasoning }) },
    done_reason: c.finishReason,
    done: true,
    total_duration: t.total_duration,
    load_duration: t.load_duration,
    prompt_eval_count: c.promptTokens,
    prompt_eval_duration: t.prompt_eval_duration,
    eval_count: c.completionTokens,
    eval_duration: t.eval_duration,
  };
}

function pieceLine(call: ChatCall, piece: string, kind: 'reasoning' | 'content' = 'content'): string {
  const message =
    kind === 'reasoning' ? { role: 'assistant', content: '', thinking: piece } : { role: 'assistant', content: piece };
  return JSON.stringify({ model: call.model, created_at: new Date().toISOString(), message, done: false }) + '\n';
}

export const ollamaProtocol: Protocol = {
  parseChat(body: unknown): ChatCall | { error: SimError } {
    if (!isRecord(body))
      return { error: { kind: 'bad_request', message: 'request body must be a JSON object', param: null } };
    if (typeof body.model !== 'string' || body.model === '')
      return { error: { kind: 'bad_request', message: 'model is required', param: 'model' } };
    const { prompt, promptTokens } = readMessages(Array.isArray(body.messages) ? body.messages : []);
    const options = isRecord(body.options) ? body.options : {};
    const numPredict = finiteNumber(options.num_predict);
    return {
      model: body.model,
      prompt,
      promptTokens,
      seed: finiteNumber(options.seed),
      // Ollama: -1 = unlimited, -2 = fill the context.
      maxTokens: numPredict === undefined || numPredict < 0 ? undefined : numPredict,
      stop: stringList(options.stop),
      // Ollama streams unless told not to.
      stream: body.stream !== false,
      includeUsage: false,
      ...(finiteNumber(options.temperature) === undefined ? {} : { temperature: finiteNumber(options.temperature) }),
      thinking: readThinking(body),
    };
  },

  errorBody(e: SimError): string {
    switch (e.kind) {
      case 'bad_json':
        return errorJson(`invalid JSON in request body: ${e.detail}`);
      case 'bad_request':
        return errorJson(e.message);
      case 'unauthorized':
        return errorJson('unauthorized');
      case 'not_found':
        return errorJson(`model "${e.model}" not found, try pulling it first`);
      case 'no_route':
        return errorJson('404 page not found');
      case 'rate_limited':
        return errorJson(
          `rate limit exceeded for model "${e.model}": ${e.limit} requests per minute, retry in ${Math.ceil(e.retryAfterMs)}ms`,
        );
      case 'error500':
        return errorJson('llama runner process has terminated: exit status 2');
      case 'error503':
        return errorJson('server busy, please try again.  maximum pending requests exceeded');
    }
  },

  completionBody(call: ChatCall, c: SimCompletion, ctx: ReplyContext): string {
    return JSON.stringify(finalLine(call, c, ctx, c.text));
  },

  streamContentType: 'application/x-ndjson',

  streamHead(): string {
    return '';
  },

  streamPiece(call: ChatCall, _ctx: ReplyContext, piece: string, kind: 'reasoning' | 'content'): string {
    return pieceLine(call, piece, kind);
  },

  streamGarbage(call: ChatCall): string {
    return `{"model":${JSON.stringify(call.model)},"message":{"role":"assis\n`;
  },

  streamTail(call: ChatCall, c: SimCompletion, ctx: ReplyContext): string {
    // The thinking went out in the pieces: the done line carries none, as Ollama's.
    return JSON.stringify(finalLine(call, { ...c, reasoning: undefined }, ctx, '')) + '\n';
  },

  malformed(call: ChatCall, _ctx: ReplyContext, variant: number): { contentType: string; body: string } {
    const model = JSON.stringify(call.model);
    if (call.stream) {
      // 0: a line that is not JSON; 1: a stream that ends without its done line.
      const body =
        variant === 0
          ? `{"model":${model},"created_at":"2024-01-01T00:00:00Z","message":{"role":"assis\n`
          : pieceLine(call, 'Sim');
      return { contentType: 'application/x-ndjson', body };
    }
    // 0: invalid JSON; 1: a done object without a message.
    const body =
      variant === 0
        ? `{"model":${model},"created_at":"2024-01-01T00:00:00Z","message":{"role":"assis`
        : JSON.stringify({ model: call.model, created_at: new Date().toISOString(), done: true });
    return { contentType: 'application/json', body };
  },
};

/** One /api/tags entry, with plausible details derived from the name (`llama3.1:8b` -> family llama, 8B). */
export function ollamaTagEntry(name: string, modifiedAt: string): Record<string, unknown> {
  const base = name.split(':')[0];
  const family = base.replace(/[\d.\-_]+.*$/, '') || base;
  const size = /(\d+(?:\.\d+)?)b\b/i.exec(name);
  const billions = size ? Number(size[1]) : 7;
  return {
    name,
    model: name,
    modified_at: modifiedAt,
    size: Math.round(billions * 0.6e9),
    digest: createHash('sha256').update(name).digest('hex'),
    details: {
      parent_model: '',
      format: 'gguf',
      family,
      families: [family],
      parameter_size: `${billions}B`,
      quantization_level: 'Q4_K_M',
    },
  };
}
