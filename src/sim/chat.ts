/**
 * One chat request, from body to last byte, for either protocol:
 * parse -> model -> rate limit -> fault draw -> latency -> reply (whole or streamed).
 * Timers are released when the response closes (finished, client gone, or server closing).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Deadlines } from './deadline.js';
import type { ModelRuntime } from './model.js';
import type { ChatCall, Protocol, ReplyContext, SimCompletion, SimError } from './protocol.js';
import { countTokens, shapeAnswer } from './text.js';
import { sendStream } from './stream.js';
import { readBytes } from './multipart.js';
import { refusal, thinkingTokens } from './rules.js';

const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface ChatDeps {
  resolve(name: string): ModelRuntime | undefined;
  /** Server-wide count of chat requests in flight. */
  global: { inFlight: number };
  /** Releases (timers, in-flight counts) of the chat requests still open, for server close. */
  active: Set<() => void>;
  nextId(): string;
  /** Timers that keep the configured latency on average (see Deadlines). */
  deadlines: Deadlines;
}

export function sendBody(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers?: Record<string, string>,
): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export function sendError(
  res: ServerResponse,
  proto: Protocol,
  status: number,
  e: SimError,
  headers?: Record<string, string>,
): void {
  sendBody(res, status, 'application/json', proto.errorBody(e), headers);
}

/** `1.5s`, `120ms`, `1m0s`: the style of OpenAI's x-ratelimit-reset-* headers. */
function formatResetDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(1, Math.ceil(ms))}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(3))}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${Number(((ms - m * 60_000) / 1000).toFixed(3))}s`;
}

/** OpenAI's request budget headers: on every answer of a model with an rpm, and on its 429s. */
function budgetHeaders(b: { limit: number; remaining: number; resetMs: number }): Record<string, string> {
  return {
    'x-ratelimit-limit-requests': String(b.limit),
    'x-ratelimit-remaining-requests': String(b.remaining),
    'x-ratelimit-reset-requests': formatResetDuration(b.resetMs),
  };
}

function rateLimitHeaders(retryAfterMs: number, resetMs: number, limit: number): Record<string, string> {
  return {
    'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))),
    'retry-after-ms': String(Math.max(1, Math.ceil(retryAfterMs))),
    ...budgetHeaders({ limit, remaining: 0, resetMs }),
  };
}

export async function handleChat(
  req: IncomingMessage,
  res: ServerResponse,
  proto: Protocol,
  deps: ChatDeps,
): Promise<void> {
  const startNs = process.hrtime.bigint();
  // Latency counts from the request's arrival, not from when its body was read and parsed.
  const arrival = performance.now();
  let raw: string;
  try {
    raw = (await readBytes(req, MAX_BODY_BYTES)).toString('utf8');
  } catch {
    res.destroy();
    return;
  }
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (err) {
    sendError(res, proto, 400, { kind: 'bad_json', detail: err instanceof Error ? err.message : String(err) });
    return;
  }
  const call = proto.parseChat(body);
  if ('error' in call) {
    sendError(res, proto, 400, call.error);
    return;
  }
  const rt = deps.resolve(call.model);
  if (rt === undefined) {
    sendError(res, proto, 404, { kind: 'not_found', model: call.model });
    return;
  }
  const refused = refusal(rt.spec, call);
  if (refused) {
    sendError(res, proto, 400, refused);
    return;
  }

  // In flight from here until the response closes, however it closes.
  let timer: NodeJS.Timeout | undefined;
  /** Frees a serving model's slot (or leaves its queue). */
  let leave: (() => void) | undefined;
  rt.counters.requests++;
  rt.inFlight++;
  deps.global.inFlight++;
  if (rt.inFlight > rt.maxInFlight) rt.maxInFlight = rt.inFlight;
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    if (timer !== undefined) clearTimeout(timer);
    leave?.();
    rt.inFlight--;
    deps.global.inFlight--;
    deps.active.delete(release);
  };
  deps.active.add(release);
  res.once('close', release);
  // A request is answered when its last byte is written, not when the server later sees the
  // socket's close: a client may send its next request in between, and counting the answered
  // one too would report one more in flight than the client ever had.
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.end = ((...args: unknown[]) => {
    release();
    return end(...args);
  }) as typeof res.end;
  // The client may have gone while its body was read; 'close' has then already fired.
  if (req.socket.destroyed) {
    release();
    return;
  }
  let first = true;
  // When the reply starts: at arrival, or when a serving model's slot is free.
  let startedAt = arrival;
  const later = (ms: number, fn: () => void): void => {
    // The first delay runs from the start; the pacing of stream pieces from the previous piece.
    const deadline = (first ? startedAt : performance.now()) + ms;
    first = false;
    timer = deps.deadlines.at(deadline, fn);
  };
  const at = (deadline: number, fn: () => void): void => {
    timer = deps.deadlines.at(deadline, fn);
  };

  const rate = rt.admit(performance.now());
  if (!rate.ok) {
    rt.counters.rateLimited++;
    const e: SimError = { kind: 'rate_limited', model: rt.name, limit: rate.limit, retryAfterMs: rate.retryAfterMs };
    sendError(res, proto, 429, e, rateLimitHeaders(rate.retryAfterMs, rate.resetMs, rate.limit));
    return;
  }
  // DashScope's thinking-only models refuse whole answers.
  if (rt.streamOnly && !call.stream) {
    const message =
      '<400> InternalError.Algo.InvalidParameter: The enable thinking can not be support when stream=False';
    sendError(res, proto, 400, { kind: 'bad_request', message, param: null });
    return;
  }
  const fault = rt.drawFault();
  // A cold model loads first; its first token comes that much later.
  const loadMs = rt.takeLoadMs();
  const prefillMs = rt.serving?.prefillMs(call.promptTokens) ?? 0;
  const firstByteMs = (rt.ttftMs ?? rt.firstByteDelayMs()) * rt.slowdown(call.prompt, call.seed) + loadMs + prefillMs;
  if (fault !== undefined) rt.counters.faults[fault]++;
  // A hung request keeps its socket until the client aborts or the server closes.
  if (fault === 'hang') return;
  const reply = (): void =>
    replyTo(res, proto, deps, { rt, call, fault, loadMs, firstByteMs, arrival, rate, startNs, later, at });
  if (!rt.serving) return reply();
  leave = rt.serving.acquire(() => {
    startedAt = performance.now();
    reply();
  });
}

/** One admitted request, as the reply needs it. */
interface Admitted {
  rt: ModelRuntime;
  call: ChatCall;
  fault: Exclude<ReturnType<ModelRuntime['drawFault']>, 'hang'>;
  loadMs: number;
  /** From the start of the reply (arrival, or a serving model's slot) to the first byte or token. */
  firstByteMs: number;
  arrival: number;
  rate: Extract<ReturnType<ModelRuntime['admit']>, { ok: true }>;
  startNs: bigint;
  later(ms: number, fn: () => void): void;
  at(deadline: number, fn: () => void): void;
}

/** The reply to an admitted request: a fault, a whole body or a stream. */
function replyTo(res: ServerResponse, proto: Protocol, deps: ChatDeps, a: Admitted): void {
  const { rt, call, fault, loadMs, firstByteMs, arrival, rate, startNs, later, at } = a;
  const ctx: ReplyContext = {
    id: deps.nextId(),
    created: Math.floor(Date.now() / 1000),
    model: rt.name,
    startNs,
    ...(loadMs ? { loadMs } : {}),
    ...(rt.llamaTimings ? { llamaTimings: true } : {}),
  };
  if (fault === 'reset' || fault === 'malformed' || fault === 'error500' || fault === 'error503') {
    later(firstByteMs, () => {
      if (fault === 'reset') res.socket?.destroy();
      else if (fault === 'malformed') {
        const m = proto.malformed(call, ctx, rt.nextMalformedVariant());
        sendBody(res, 200, m.contentType, m.body);
      } else sendError(res, proto, fault === 'error500' ? 500 : 503, { kind: fault });
    });
    return;
  }

  const c = complete(rt, call);
  const answered = () => {
    rt.counters.ok++;
    rt.counters.latencySumMs += performance.now() - arrival;
  };
  const budget = rate.budget ? budgetHeaders(rate.budget) : undefined;
  if (!call.stream) {
    later(firstByteMs + rt.generationMs(c.completionTokens), () => {
      const body = proto.completionBody(call, c, ctx);
      if (fault === undefined) {
        sendBody(res, 200, 'application/json', body, budget);
        return answered();
      }
      if (fault === 'garbage') return sendBody(res, 200, 'application/json', 'garbage, not JSON');
      // cut and stall: half the body under the full length; cut then drops the connection.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.write(body.slice(0, Math.floor(body.length / 2)));
      if (fault === 'cut') res.socket?.destroy();
    });
    return;
  }
  sendStream(res, proto, call, c, ctx, {
    headersFirst: rt.ttftMs !== undefined,
    firstMs: firstByteMs,
    totalMs: rt.generationMs(c.completionTokens),
    // A serving model decodes at the rate of its batch as it is when each piece goes out.
    ...(rt.serving ? { decodeMs: () => rt.generationMs(c.completionTokens) } : {}),
    ...(fault ? { fault } : {}),
    ...(budget ? { headers: budget } : {}),
    later,
    at,
    done: answered,
  });
}

/**
 * What the model answers this call, after stop strings and the token budget: pure, so a batch line
 * gets the same answer, finish reason and token counts as the same live request.
 */
export function complete(rt: ModelRuntime, call: ChatCall): SimCompletion {
  const think = thinkingTokens(rt.spec, rt.reasoningTokens, call);
  if (think > 0) {
    // A reasoning model spends its budget on thinking first; what is left goes to the answer.
    const spent = call.maxTokens === undefined ? think : Math.min(think, call.maxTokens);
    const reasoning = Array.from({ length: spent }, (_, i) => (i % 8 === 7 ? 'so.' : 'think')).join(' ');
    const budget = call.maxTokens === undefined ? undefined : call.maxTokens - spent;
    const { text, finishReason } =
      budget === 0
        ? { text: '', finishReason: 'length' as const }
        : shapeAnswer(rt.answer(call.prompt, call.seed), call.stop, budget);
    const completionTokens = spent + countTokens(text);
    return { text, reasoning, finishReason, promptTokens: call.promptTokens, completionTokens, reasoningTokens: spent };
  }
  const { text, finishReason } = shapeAnswer(rt.answer(call.prompt, call.seed), call.stop, call.maxTokens);
  return { text, finishReason, promptTokens: call.promptTokens, completionTokens: countTokens(text) };
}
