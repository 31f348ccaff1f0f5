/**
 * Batch mode: a model's jobs go to its vendor's Batch API instead of one request each. The lane
 * takes every job's request, writes them as input files (split at the vendor's limits on requests
 * and bytes), uploads them, creates the batches, checks their status with a growing wait (a timer:
 * no CPU while waiting), and answers each job from the output and error files as if it had been
 * answered live. Every batch is in the manifest the moment it exists, so a resume after a crash
 * collects it instead of paying again; a stopped run leaves it running at the vendor.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelConfig } from '../config/config.js';
import { BATCH_POLL } from '../config/model.js';
import { ProviderError, RETRYABLE } from '../errors.js';
import type { BatchEntry } from '../journal/manifest.js';
import type { BatchApi, BatchInfo, Provider } from '../providers/provider.js';
import type { ChatRequest } from '../types.js';
import { writeAllSync } from '../util/write.js';
import { backoffDelay } from './backoff.js';
import { Lane, type Attempted, type LaneOptions } from './lane.js';
import { jobId } from './plan.js';

/** What a batch lane needs from the run. */
export interface BatchContext {
  api: BatchApi;
  /** The run directory: input files are kept in its `batches/` (their custom_ids say which jobs a batch holds). */
  runDir: string;
  runId: string;
  /** This model's batches made by earlier invocations of the run. */
  known: readonly BatchEntry[];
  /** Whether a job already has a record (an earlier invocation collected it): on --retry-errors it is sent again. */
  recorded(jobId: string): boolean;
  /** Records a new or changed batch in the manifest, before anything depends on it. */
  save(entry: BatchEntry): void;
  /** A line for the user (a batch created, left running, or lines that name unknown jobs). */
  notice(line: string): void;
}

/** Statuses after which a batch changes no more. */
const FINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);

interface Waiter {
  messages: ChatRequest['messages'];
  resolve(a: Attempted): void;
  reject(e: unknown): void;
}

/**
 * A batch being followed: its manifest entry, the jobs it holds (undefined: its input file is
 * gone), and those it answers now (a resumed batch: the ones never recorded; the others were
 * recorded from it before, or asked again in a new batch by --retry-errors).
 */
interface Followed {
  entry: BatchEntry;
  members?: Set<string>;
  claimed?: Set<string>;
  /** The status last seen. */
  info?: BatchInfo;
}

/** An input file written, not yet uploaded. */
interface Part {
  file: string;
  ids: string[];
  bytes: number;
}

export class BatchLane extends Lane {
  private readonly waiting = new Map<string, Waiter>();
  private readonly live: Followed[] = [];

  constructor(
    provider: Provider,
    model: ModelConfig,
    opts: LaneOptions,
    private readonly ctx: BatchContext,
  ) {
    super(provider, model, opts);
  }

  /** The batches at the vendor, for the progress line: their statuses and how far they got. */
  override waitingFor(): string | undefined {
    const seen = this.live.map((f) => f.info).filter((i): i is BatchInfo => i !== undefined);
    if (!seen.length) return this.waiting.size ? `${this.waiting.size} job(s) for the Batch API` : undefined;
    const statuses = [...new Set(seen.map((i) => i.status))].join(', ');
    const done = seen.reduce((n, i) => n + (i.counts ? i.counts.completed + i.counts.failed : 0), 0);
    const total = seen.reduce((n, i) => n + (i.counts?.total ?? 0), 0);
    return `${seen.length} batch(es) ${statuses}${total ? `, ${done}/${total} lines done at the vendor` : ''}`;
  }

  /** A job's request waits for its batch; a request that is no job's (a judge's) goes live. */
  override request(messages: ChatRequest['messages'], job?: ChatRequest['job']): Promise<Attempted> {
    if (!job) return super.request(messages, job);
    const id = jobId(job.suite, job.caseId, this.model.id, job.repeat);
    return new Promise((resolve, reject) => this.waiting.set(id, { messages, resolve, reject }));
  }

  /** Every job of the lane has asked (the runner's plan is exhausted): batch them. */
  seal(): Promise<void> {
    return new Promise((done) =>
      setImmediate(() => {
        this.flush()
          .catch((e: unknown) => this.failWaiting(e))
          .finally(done);
      }),
    );
  }

  private async flush(): Promise<void> {
    if (this.stopping) throw this.opts.stop?.reason ?? this.opts.signal?.reason;
    // Batches of an earlier invocation that hold jobs not yet recorded: collected, never sent again.
    const resumed: Followed[] = this.ctx.known
      .map((entry) => {
        const members = this.membersOf(entry);
        const claimed = members && new Set([...members].filter((id) => this.pending(id)));
        return { entry, ...(members ? { members, claimed } : {}) };
      })
      .filter((f) => !f.claimed || f.claimed.size > 0);
    // A batch whose input file is gone may hold any job: it is collected before anything is sent.
    await Promise.all(resumed.filter((f) => !f.members).map((f) => this.follow(f)));
    const claimed = new Set(resumed.flatMap((f) => [...(f.claimed ?? [])]));
    const fresh = [...this.waiting.keys()].filter((id) => !claimed.has(id));
    const following = resumed.filter((f) => f.members).map((f) => this.follow(f));
    try {
      for (const part of this.writeParts(fresh)) following.push(this.follow(await this.send(part)));
    } finally {
      await Promise.allSettled(following);
    }
    await Promise.all(following);
  }

  /** A job that waits here and was never recorded (a recorded one asks again: --retry-errors). */
  private pending(id: string): boolean {
    return this.waiting.has(id) && !this.ctx.recorded(id);
  }

  private membersOf(entry: BatchEntry): Set<string> | undefined {
    const path = join(this.ctx.runDir, entry.file);
    if (!existsSync(path)) return undefined;
    const ids = new Set<string>();
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      try {
        const id = (JSON.parse(line) as { custom_id?: unknown }).custom_id;
        if (typeof id === 'string') ids.add(id);
      } catch {
        // A torn last line (the process died writing it): that file was never uploaded whole.
      }
    }
    return ids;
  }

  /** Input files of at most the vendor's requests and bytes, written to the run directory. */
  private *writeParts(ids: string[]): Generator<Part> {
    if (!ids.length) return;
    const dir = join(this.ctx.runDir, 'batches');
    mkdirSync(dir, { recursive: true });
    const slug = `${this.model.id.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60)}-${createHash('sha256').update(this.model.id).digest('hex').slice(0, 6)}`;
    let n = this.ctx.known.length;
    let part: (Part & { chunks: string[] }) | undefined;
    const { maxRequests, maxBytes } = this.ctx.api;
    for (const id of ids) {
      const line = `${this.ctx.api.line(id, this.waiting.get(id)!.messages, this.model.params)}\n`;
      const bytes = Buffer.byteLength(line);
      if (bytes > maxBytes) {
        this.answer(id, {
          kind: 'bad_request',
          message: `model '${this.model.id}': this request is ${bytes} bytes, over the batch file limit of ${maxBytes}`,
        });
        continue;
      }
      if (part && (part.ids.length >= maxRequests || part.bytes + bytes > maxBytes)) {
        yield writePart(dir, part);
        part = undefined;
      }
      part ??= { file: join('batches', `${slug}-${++n}.jsonl`), ids: [], bytes: 0, chunks: [] };
      part.ids.push(id);
      part.chunks.push(line);
      part.bytes += bytes;
    }
    if (part) yield writePart(dir, part);
  }

  /** Uploads an input file and creates its batch, recording each step in the manifest first. */
  private async send(part: Part): Promise<Followed> {
    const inputFileId = await this.retrying(() =>
      this.ctx.api.upload(join(this.ctx.runDir, part.file), this.waitSignal),
    );
    const entry: BatchEntry = {
      model: this.model.id,
      file: part.file,
      requests: part.ids.length,
      bytes: part.bytes,
      input_file_id: inputFileId,
      status: 'uploaded',
      created_at: new Date().toISOString(),
    };
    // Saved before the batch is created: a crash in between finds the batch again by its input file.
    this.ctx.save(entry);
    const info = await this.retrying(() => this.ctx.api.create(inputFileId, this.metadata(part), this.waitSignal));
    this.update(entry, info);
    this.ctx.notice(
      `model '${this.model.id}': batch ${info.id} created (${part.ids.length} requests, ${part.bytes} bytes, input ${inputFileId}); answers within 24 h`,
    );
    return { entry, members: new Set(part.ids), claimed: new Set(part.ids) };
  }

  private metadata(part: Part): Record<string, string> {
    // OpenAI: at most 16 keys, values of at most 512 characters.
    return {
      gapbench_run: this.ctx.runId.slice(0, 512),
      gapbench_model: this.model.id.slice(0, 512),
      gapbench_file: part.file.slice(0, 512),
    };
  }

  /** Waits for a batch to end (status checks 1.5 times further apart each time), then collects it. */
  private async follow(f: Followed): Promise<void> {
    this.live.push(f);
    const held = f.claimed?.size ?? 0;
    this.inFlight += held;
    try {
      let info = (f.info = await this.located(f.entry));
      if (this.ctx.known.includes(f.entry))
        this.ctx.notice(
          `model '${this.model.id}': collecting batch ${info.id} (${info.status}), sent by an earlier invocation: ${f.claimed?.size ?? 'its'} job(s) not yet recorded`,
        );
      const policy = this.model.batch ?? BATCH_POLL;
      let wait = policy.pollS * 1000;
      while (!FINAL.has(info.status)) {
        await this.clock.sleep(wait, this.waitSignal);
        wait = Math.min(wait * 1.5, policy.maxPollS * 1000);
        info = f.info = await this.retrying(() => this.ctx.api.retrieve(info.id, this.waitSignal));
        this.update(f.entry, info);
      }
      await this.collect(f, info);
      // Still listed when it failed or the run stopped: the notice names the batches left running.
      this.live.splice(this.live.indexOf(f), 1);
    } finally {
      this.inFlight -= held;
    }
  }

  /** The batch of an entry: by its id, or (a crash right after creating it) found by its input file, or created now. */
  private async located(entry: BatchEntry): Promise<BatchInfo> {
    if (entry.batch_id) {
      const id = entry.batch_id;
      const info = await this.retrying(() => this.ctx.api.retrieve(id, this.waitSignal));
      this.update(entry, info);
      return info;
    }
    const found = await this.retrying(() => this.ctx.api.findByInputFile(entry.input_file_id, this.waitSignal));
    const info =
      found ??
      (await this.retrying(() =>
        this.ctx.api.create(
          entry.input_file_id,
          this.metadata({ file: entry.file, ids: [], bytes: 0 }),
          this.waitSignal,
        ),
      ));
    this.update(entry, info);
    return info;
  }

  private update(entry: BatchEntry, info: BatchInfo): void {
    if (entry.batch_id === info.id && entry.status === info.status) return;
    entry.batch_id = info.id;
    entry.status = info.status;
    if (info.errors) entry.errors = info.errors;
    this.ctx.save(entry);
  }

  /** Answers the batch's jobs from its output and error files; its jobs with no line get an error saying why. */
  private async collect(f: Followed, info: BatchInfo): Promise<void> {
    const turnaround = Date.now() - Date.parse(f.entry.created_at);
    const unknown: string[] = [];
    let unreadable = 0;
    for (const fileId of [info.outputFileId, info.errorFileId]) {
      if (!fileId) continue;
      for await (const a of this.ctx.api.results(fileId, this.waitSignal)) {
        if ('unreadable' in a) unreadable++;
        else if (f.members ? !f.members.has(a.customId) : !this.waiting.has(a.customId)) unknown.push(a.customId);
        else if (!(f.claimed ? f.claimed.has(a.customId) : this.pending(a.customId))) continue;
        else if ('completion' in a)
          this.settle(a.customId, {
            status: 'ok',
            completion: { ...a.completion, latencyMs: turnaround, batchId: info.id },
            attempts: 1,
          });
        else this.answer(a.customId, { kind: a.error.kind, message: `${a.error.message} [batch ${info.id}]` });
      }
    }
    for (const id of f.claimed ?? []) if (this.waiting.has(id)) this.answer(id, noLine(this.model.id, info));
    if (unknown.length || unreadable)
      this.ctx.notice(
        `model '${this.model.id}': batch ${info.id}: ignored ${unknown.length} line(s) naming jobs not in it${unknown.length ? ` (e.g. ${JSON.stringify(unknown[0].slice(0, 60))})` : ''} and ${unreadable} unreadable line(s)`,
      );
  }

  /** Answers a waiting job once (a second line for it, or one for a job not waiting, changes nothing). */
  private settle(id: string, attempted: Attempted): void {
    const w = this.waiting.get(id);
    if (!w) return;
    this.waiting.delete(id);
    w.resolve(attempted);
  }

  private answer(id: string, error: { kind: ProviderError['kind']; message: string }): void {
    this.settle(id, { status: 'error', error, attempts: 1 });
  }

  /** A vendor call, again after transient failures (network, 5xx, 429) with backoff. */
  private async retrying<T>(f: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await f();
      } catch (e) {
        const pe = e instanceof ProviderError ? e : new ProviderError('unknown', String(e));
        if (this.stopping || !RETRYABLE.has(pe.kind) || attempt > this.model.maxRetries) throw pe;
        await this.clock.sleep(backoffDelay(attempt, pe.retryAfterMs, this.backoff, this.random), this.waitSignal);
      }
    }
  }

  /**
   * The batches could not be sent or followed. Stopping (Ctrl-C, --max-duration): the jobs stay
   * unrecorded and the batches run on at the vendor (a resume collects them). A vendor error: the
   * jobs still waiting get it as their error, as a live lane's would.
   */
  private failWaiting(e: unknown): void {
    if (this.stopping) {
      for (const f of this.live) {
        const n = f.claimed ? [...f.claimed].filter((id) => this.waiting.has(id)).length : this.waiting.size;
        this.ctx.notice(
          `model '${this.model.id}': batch ${f.entry.batch_id ?? `(input ${f.entry.input_file_id})`} left running at the vendor with ${n} job(s); a resume collects it without paying again`,
        );
      }
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
      return;
    }
    const pe =
      e instanceof ProviderError ? e : new ProviderError('unknown', e instanceof Error ? e.message : String(e));
    this.stopLane(pe, 1);
    for (const id of [...this.waiting.keys()]) this.answer(id, { kind: pe.kind, message: pe.message });
  }
}

function writePart(dir: string, part: Part & { chunks: string[] }): Part {
  const path = join(dir, part.file.slice('batches/'.length));
  const fd = openSync(path, 'w');
  try {
    writeAllSync(fd, Buffer.from(part.chunks.join(''), 'utf8'));
  } finally {
    closeSync(fd);
  }
  return { file: part.file, ids: part.ids, bytes: part.bytes };
}

/** Why a job of a batch has no line in its files. */
function noLine(model: string, info: BatchInfo): { kind: ProviderError['kind']; message: string } {
  const where = `model '${model}': batch ${info.id}`;
  if (info.status === 'failed')
    return { kind: 'bad_request', message: `${where} failed${info.errors ? `: ${info.errors}` : ''}` };
  if (info.status === 'expired' || info.status === 'cancelled')
    return {
      kind: 'expired',
      message: `${where} ${info.status} before this request ran (--resume DIR --retry-errors sends it again)`,
    };
  return { kind: 'bad_response', message: `${where} ${info.status} without a line for this request` };
}
