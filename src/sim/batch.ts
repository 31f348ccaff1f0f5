/**
 * OpenAI batches, run on real-time timers that never keep the process alive (unref): a batch is
 * `validating` for the first 10% of `delayMs`, `in_progress` until 80% (its lines finishing
 * evenly, in an order shuffled by seed), `finalizing`, then `completed` at `delayMs`. Each line is
 * answered by `complete()`, the pure answer of the live chat route, so a batch line and the same
 * live request get the same text and token counts; no rate limits, latency or faults apply.
 */
import { complete } from './chat.js';
import type { BatchLineError, FileStore, SimFile } from './files.js';
import type { ModelRuntime } from './model.js';
import { openaiProtocol } from './openai.js';
import { isRecord } from '../util/record.js';
import { uniform } from '../util/rng.js';
import { seedOf } from './text.js';

type BatchStatus =
  'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled';

type Stamp =
  'in_progress_at' | 'finalizing_at' | 'completed_at' | 'failed_at' | 'expired_at' | 'cancelling_at' | 'cancelled_at';

interface BatchTiming {
  delayMs: number;
  failEvery?: number;
  expireAfterMs?: number;
}

/** What a running batch holds; dropped when it ends. */
interface Work {
  input: SimFile;
  /** Indices of the input's request lines, in the order they finish. */
  order: number[];
  next: number;
  out: string[];
  err: string[];
  procStart: number;
  procEnd: number;
}

interface SimBatch {
  id: string;
  createdAt: number;
  inputFileId: string;
  completionWindow: string;
  metadata: Record<string, string> | null;
  model?: string;
  status: BatchStatus;
  stamps: Partial<Record<Stamp, number>>;
  expiresAt: number;
  errors: BatchLineError[] | null;
  outputFileId: string | null;
  errorFileId: string | null;
  counts: { total: number; completed: number; failed: number };
  usage: { input: number; output: number; reasoning: number };
  work?: Work;
}

interface BatchDeps {
  files: FileStore;
  resolve(name: string): ModelRuntime | undefined;
  nextChatId(): string;
  seed: number;
  timing: BatchTiming;
}

const ENDPOINT = '/v1/chat/completions';
const nowS = (): number => Math.floor(Date.now() / 1000);

function shuffled(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  const u = uniform(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

export class BatchEngine {
  private readonly batches = new Map<string, SimBatch>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private seq = 0;
  private reqSeq = 0;
  readonly counts = { created: 0, completed: 0, failed: 0, expired: 0, cancelled: 0 };

  constructor(private readonly deps: BatchDeps) {}

  get(id: string): SimBatch | undefined {
    return this.batches.get(id);
  }

  /** Newest first, after the batch `after` (a cursor) when given; undefined when `after` is unknown. */
  list(limit: number, after?: string): { data: SimBatch[]; hasMore: boolean } | undefined {
    const all = [...this.batches.values()].reverse();
    let from = 0;
    if (after !== undefined) {
      from = all.findIndex((b) => b.id === after) + 1;
      if (from === 0) return undefined;
    }
    return { data: all.slice(from, from + limit), hasMore: from + limit < all.length };
  }

  create(input: SimFile, metadata: Record<string, string> | null): SimBatch {
    const id = `batch_sim${(++this.seq).toString(36).padStart(16, '0')}`;
    const createdAt = nowS();
    const { delayMs, expireAfterMs } = this.deps.timing;
    const b: SimBatch = {
      id,
      createdAt,
      inputFileId: input.id,
      completionWindow: '24h',
      metadata,
      model: input.input?.model,
      status: 'validating',
      stamps: {},
      expiresAt: createdAt + (expireAfterMs === undefined ? 86400 : Math.ceil(expireAfterMs / 1000)),
      errors: null,
      outputFileId: null,
      errorFileId: null,
      counts: { total: 0, completed: 0, failed: 0 },
      usage: { input: 0, output: 0, reasoning: 0 },
    };
    this.batches.set(id, b);
    this.counts.created++;
    const t0 = performance.now();
    this.at(delayMs * 0.1, () => this.validate(b, input, t0));
    if (expireAfterMs !== undefined) this.at(expireAfterMs, () => this.expire(b, input, t0));
    return b;
  }

  /** Cancels a validating or in-progress batch; undefined when it is past that (OpenAI: 409). */
  cancel(b: SimBatch): SimBatch | undefined {
    if (b.status === 'cancelling' || b.status === 'cancelled') return b;
    if (b.status !== 'validating' && b.status !== 'in_progress') return undefined;
    b.status = 'cancelling';
    b.stamps.cancelling_at = nowS();
    this.at(this.deps.timing.delayMs * 0.1, () => this.finish(b, 'cancelled', 'cancelled_at'));
    return b;
  }

  /** Stops every timer (server close); batches stay where they are. */
  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private at(ms: number, fn: () => void): void {
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        fn();
      },
      Math.max(0, ms),
    );
    t.unref();
    this.timers.add(t);
  }

  private validate(b: SimBatch, input: SimFile, t0: number): void {
    if (b.status !== 'validating') return;
    if (this.begin(b, input, t0)) this.tick(b, t0);
  }

  /** Validating -> failed (a bad input file) or in_progress; true when in progress. */
  private begin(b: SimBatch, input: SimFile, t0: number): boolean {
    const v = input.input;
    if (v === undefined || v.errors.length > 0) {
      b.errors = v?.errors ?? [];
      this.finish(b, 'failed', 'failed_at');
      return false;
    }
    const { delayMs } = this.deps.timing;
    b.status = 'in_progress';
    b.stamps.in_progress_at = nowS();
    b.counts.total = v.starts.length;
    const order = shuffled(v.starts.length, seedOf(this.deps.seed, b.id, 'order'));
    b.work = { input, order, next: 0, out: [], err: [], procStart: t0 + delayMs * 0.1, procEnd: t0 + delayMs * 0.8 };
    return true;
  }

  private tick(b: SimBatch, t0: number): void {
    const w = b.work;
    if (b.status !== 'in_progress' || w === undefined) return;
    const now = performance.now();
    this.runDue(b, w, now);
    if (w.next < w.order.length) {
      this.at(Math.min(Math.max(1, (w.procEnd - w.procStart) / 20), w.procEnd - now), () => this.tick(b, t0));
      return;
    }
    b.status = 'finalizing';
    b.stamps.finalizing_at = nowS();
    this.at(t0 + this.deps.timing.delayMs - now, () => this.finish(b, 'completed', 'completed_at'));
  }

  /** Answers the lines due by `now` (all of them once processing time is over). */
  private runDue(b: SimBatch, w: Work, now: number): void {
    const n = w.order.length;
    const span = w.procEnd - w.procStart;
    const due = now >= w.procEnd || span <= 0 ? n : Math.min(n, Math.floor((n * (now - w.procStart)) / span));
    while (w.next < due) this.runLine(b, w, w.order[w.next++]);
  }

  private expire(b: SimBatch, input: SimFile, t0: number): void {
    // Expiring before validation ends still validates: a bad file fails, a good one's lines all expire.
    if (b.status === 'validating' && !this.begin(b, input, t0)) return;
    if (b.status !== 'in_progress') return;
    const w = b.work;
    if (w !== undefined) {
      this.runDue(b, w, performance.now());
      for (; w.next < w.order.length; w.next++) {
        const customId = this.customId(w, w.order[w.next]);
        const error = {
          code: 'batch_expired',
          message: 'This request could not be executed before the completion window expired.',
        };
        w.err.push(JSON.stringify({ id: this.nextReqId(), custom_id: customId, response: null, error }));
        b.counts.failed++;
      }
    }
    this.finish(b, 'expired', 'expired_at');
  }

  /** Ends a batch: its files are written from the lines that finished, its work is dropped. */
  private finish(b: SimBatch, status: 'completed' | 'failed' | 'expired' | 'cancelled', stamp: Stamp): void {
    b.status = status;
    b.stamps[stamp] = nowS();
    this.counts[status]++;
    const w = b.work;
    b.work = undefined;
    if (w === undefined) return;
    const write = (lines: string[], kind: string): string | null =>
      lines.length === 0
        ? null
        : this.deps.files.add(`${b.id}_${kind}.jsonl`, 'batch_output', Buffer.from(lines.join('\n') + '\n')).id;
    b.outputFileId = write(w.out, 'output');
    b.errorFileId = write(w.err, 'error');
  }

  private nextReqId(): string {
    return `batch_req_sim${(++this.reqSeq).toString(36).padStart(16, '0')}`;
  }

  private lineJson(w: Work, i: number): Record<string, unknown> {
    const { content, input } = w.input;
    return JSON.parse(content.subarray(input!.starts[i], input!.ends[i]).toString('utf8')) as Record<string, unknown>;
  }

  private customId(w: Work, i: number): string {
    return this.lineJson(w, i).custom_id as string;
  }

  /** One request line -> one line of the output file (200) or of the error file (400/404/500). */
  private runLine(b: SimBatch, w: Work, i: number): void {
    const line = this.lineJson(w, i);
    const id = this.nextReqId();
    const requestId = `req_sim${this.reqSeq.toString(16).padStart(24, '0')}`;
    const respond = (status: number, body: string): string =>
      `{"id":${JSON.stringify(id)},"custom_id":${JSON.stringify(line.custom_id)},"response":{"status_code":${status},"request_id":"${requestId}","body":${body}},"error":null}`;
    const fail = (status: number, body: string): void => {
      w.err.push(respond(status, body));
      b.counts.failed++;
    };
    const { failEvery } = this.deps.timing;
    if (failEvery !== undefined && (i + 1) % failEvery === 0)
      return fail(500, openaiProtocol.errorBody({ kind: 'error500' }));
    const call = openaiProtocol.parseChat(isRecord(line.body) ? { ...line.body, stream: false } : line.body);
    if ('error' in call) return fail(400, openaiProtocol.errorBody(call.error));
    const rt = this.deps.resolve(call.model);
    if (rt === undefined) return fail(404, openaiProtocol.errorBody({ kind: 'not_found', model: call.model }));
    const c = complete(rt, call);
    const ctx = { id: this.deps.nextChatId(), created: nowS(), model: rt.name, startNs: process.hrtime.bigint() };
    w.out.push(respond(200, openaiProtocol.completionBody(call, c, ctx)));
    b.counts.completed++;
    b.usage.input += c.promptTokens;
    b.usage.output += c.completionTokens;
    b.usage.reasoning += c.reasoningTokens ?? 0;
  }
}

/** The Batch object, as GET /v1/batches/{id} returns it. */
export function batchJson(b: SimBatch): Record<string, unknown> {
  const stamp = (k: Stamp): number | null => b.stamps[k] ?? null;
  return {
    id: b.id,
    object: 'batch',
    endpoint: ENDPOINT,
    model: b.model ?? null,
    errors: b.errors === null ? null : { object: 'list', data: b.errors },
    input_file_id: b.inputFileId,
    completion_window: b.completionWindow,
    status: b.status,
    output_file_id: b.outputFileId,
    error_file_id: b.errorFileId,
    created_at: b.createdAt,
    in_progress_at: stamp('in_progress_at'),
    expires_at: b.expiresAt,
    finalizing_at: stamp('finalizing_at'),
    completed_at: stamp('completed_at'),
    failed_at: stamp('failed_at'),
    expired_at: stamp('expired_at'),
    cancelling_at: stamp('cancelling_at'),
    cancelled_at: stamp('cancelled_at'),
    request_counts: { ...b.counts },
    usage: {
      input_tokens: b.usage.input,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: b.usage.output,
      output_tokens_details: { reasoning_tokens: b.usage.reasoning },
      total_tokens: b.usage.input + b.usage.output,
    },
    metadata: b.metadata,
  };
}
