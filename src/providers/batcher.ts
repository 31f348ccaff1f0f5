/**
 * Batch mode behind the provider interface: `complete()` of a job's request waits while the
 * batcher files it into an input file (split at the vendor's limits on requests and bytes),
 * uploads it, creates the batch, checks its status on a growing timer (no CPU while waiting), and
 * answers each request from the output and error files as a live request would be answered. The
 * lane above sees one more provider: its retries, errors and records are a live request's. Every
 * batch is in the run directory (BatchStore) the moment it exists, so a resume after a crash
 * collects it instead of paying again; a stopped run leaves it running at the vendor.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_KINDS, ProviderError } from '../errors.js';
import type { BatchEntry, ChatRequest, Completion, ErrorKind } from '../types.js';
import { writeAllSync } from '../util/write.js';
import type { BatchApi, BatchInfo, BatchSettings, BatchStore, Provider, ProviderModel } from './provider.js';

/** Statuses after which a batch changes no more. */
const FINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);

/** How long the batcher waits for more requests before it sends what it holds. */
const GATHER_MS = 300;

/** A day and an hour: the vendor's 24 h window, and time to collect. */
const BATCH_TIMEOUT_MS = 25 * 3600_000;

type Outcome = { completion: Completion } | { error: ProviderError };

interface Waiter {
  resolve(c: Completion): void;
  reject(e: unknown): void;
}

/** A batch being followed: its entry and the jobs it answers (undefined: its input file is gone or changed). */
interface Followed {
  entry: BatchEntry;
  claimed?: Set<string>;
  info?: BatchInfo;
}

/** The input file being filled. */
interface Part {
  ids: string[];
  chunks: string[];
  bytes: number;
}

export class BatchingProvider implements Provider {
  readonly lane = { concurrency: 1_000_000, timeoutMs: BATCH_TIMEOUT_MS, unmetered: true };
  private readonly waiting = new Map<string, Waiter>();
  /** Answers that came back for jobs not (or no longer) waiting: taken by the job when it asks. */
  private readonly early = new Map<string, Outcome>();
  /** Jobs of earlier invocations' batches, not yet recorded: collected from those batches. */
  private readonly claimedBy = new Map<string, Followed>();
  private readonly resumed: Followed[] = [];
  private readonly live: Followed[] = [];
  private part?: Part;
  private gather?: NodeJS.Timeout;
  private lastArrival = 0;
  private sentFiles: number;
  /** Batches whose members are unknown are collected before anything new is sent. */
  private unknownCollected?: Promise<unknown>;

  constructor(
    private readonly inner: Provider,
    private readonly api: BatchApi,
    private readonly settings: BatchSettings,
    private readonly store: BatchStore,
  ) {
    const mine = store.known.filter((e) => e.model === inner.model.id);
    this.sentFiles = mine.length;
    for (const entry of mine) {
      const members = membersOf(store.dir, entry);
      const claimed = members && new Set([...members].filter((id) => !store.recorded(id)));
      if (claimed && !claimed.size) continue;
      const f: Followed = { entry, ...(claimed ? { claimed } : {}) };
      this.resumed.push(f);
      for (const id of claimed ?? []) this.claimedBy.set(id, f);
    }
  }

  get model(): ProviderModel {
    return this.inner.model;
  }

  get secrets(): readonly string[] | undefined {
    return this.inner.secrets;
  }

  /** The batches at the vendor, for the progress line: their statuses and how far they got. */
  status(): string | undefined {
    const seen = this.live.map((f) => f.info).filter((i): i is BatchInfo => i !== undefined);
    if (!seen.length) return this.waiting.size ? `${this.waiting.size} job(s) for the Batch API` : undefined;
    const statuses = [...new Set(seen.map((i) => i.status))].join(', ');
    const done = seen.reduce((n, i) => n + (i.counts ? i.counts.completed + i.counts.failed : 0), 0);
    const total = seen.reduce((n, i) => n + (i.counts?.total ?? 0), 0);
    return `${seen.length} batch(es) ${statuses}${total ? `, ${done}/${total} lines done at the vendor` : ''}`;
  }

  /** A job's request waits for its batch; a request that is no job's (a judge's) goes live. */
  complete(req: ChatRequest): Promise<Completion> {
    if (!req.job) return this.inner.complete(req);
    const id = req.job.id;
    const ready = this.early.get(id);
    if (ready) {
      this.early.delete(id);
      return 'error' in ready ? Promise.reject(ready.error) : Promise.resolve(ready.completion);
    }
    return new Promise<Completion>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      req.signal.addEventListener('abort', () => this.aborted(id), { once: true });
      this.startResumed();
      if (!this.claimedBy.has(id)) this.enqueue(id, req);
    });
  }

  /** Batches of earlier invocations are followed from the first request on (collected, never sent again). */
  private startResumed(): void {
    if (this.unknownCollected) return;
    const unknown = this.resumed.filter((f) => !f.claimed).map((f) => this.follow(f));
    this.unknownCollected = Promise.allSettled(unknown);
    for (const f of this.resumed) if (f.claimed) void this.follow(f);
  }

  private enqueue(id: string, req: ChatRequest): void {
    const line = `${this.api.line(id, req.messages, req.params)}\n`;
    const bytes = Buffer.byteLength(line);
    const { maxRequests, maxBytes } = this.api;
    if (bytes > maxBytes) {
      const why = `model '${this.model.id}': this request is ${bytes} bytes, over the batch file limit of ${maxBytes}`;
      return this.settle(id, { error: new ProviderError('bad_request', why) });
    }
    if (this.part && (this.part.ids.length >= maxRequests || this.part.bytes + bytes > maxBytes)) this.flush();
    this.part ??= { ids: [], chunks: [], bytes: 0 };
    this.part.ids.push(id);
    this.part.chunks.push(line);
    this.part.bytes += bytes;
    this.lastArrival = Date.now();
    this.gather ??= setTimeout(() => this.gathered(), GATHER_MS);
  }

  /** No request for a while: the plan is through (or paused), so what is held is sent. */
  private gathered(): void {
    this.gather = undefined;
    const quiet = Date.now() - this.lastArrival;
    if (quiet < GATHER_MS) this.gather = setTimeout(() => this.gathered(), GATHER_MS - quiet);
    else this.flush();
  }

  private flush(): void {
    const part = this.part;
    this.part = undefined;
    if (!part) return;
    void this.sendAndFollow(part);
  }

  private async sendAndFollow(part: Part): Promise<void> {
    let followed: Followed | undefined;
    try {
      await this.unknownCollected;
      // The run is stopping: nothing more goes to the vendor; the jobs stay unrecorded for a resume.
      if (this.store.stop?.aborted) throw new ProviderError('aborted', 'the run stopped');
      followed = await this.send(stillWaiting(part, this.waiting));
    } catch (e) {
      // Nothing was created (or nothing can be known of it): the lane decides, as for a live failure.
      for (const id of part.ids) this.settle(id, { error: asProviderError(e) });
      return;
    }
    if (followed) await this.follow(followed);
  }

  /** Writes the input file, uploads it and creates its batch, recording each step in the run directory first. */
  private async send(part: Part): Promise<Followed | undefined> {
    if (!part.ids.length) return undefined;
    const file = join('batches', `${slug(this.model.id)}-${++this.sentFiles}.jsonl`);
    const text = Buffer.from(part.chunks.join(''), 'utf8');
    writeFile(join(this.store.dir, file), text);
    const inputFileId = await this.api.upload(join(this.store.dir, file));
    const entry: BatchEntry = {
      model: this.model.id,
      file,
      requests: part.ids.length,
      bytes: part.bytes,
      sha256: createHash('sha256').update(text).digest('hex'),
      input_file_id: inputFileId,
      status: 'uploaded',
      created_at: new Date().toISOString(),
    };
    // Saved before the batch is created: a crash in between finds the batch again by its input file.
    this.store.save(entry);
    const f: Followed = { entry, claimed: new Set(part.ids) };
    // A create whose answer was lost may have made the batch: later tries look for it first.
    let tries = 0;
    const info = (f.info = await this.polling(() => this.located(entry, tries++ === 0)));
    this.store.notice(
      `model '${this.model.id}': batch ${info.id} created (${part.ids.length} requests, ${part.bytes} bytes, input ${inputFileId}); answers within 24 h`,
    );
    return f;
  }

  /** Waits for a batch to end (status checks 1.5 times further apart each time), then collects it. */
  private async follow(f: Followed): Promise<void> {
    this.live.push(f);
    try {
      let info = (f.info = await this.polling(() => this.located(f.entry, false)));
      if (this.resumed.includes(f))
        this.store.notice(
          `model '${this.model.id}': collecting batch ${info.id} (${info.status}), sent by an earlier invocation: ${f.claimed?.size ?? 'its'} job(s) not yet recorded`,
        );
      let wait = this.settings.pollS * 1000;
      while (!FINAL.has(info.status)) {
        await sleep(wait, this.store.stop);
        wait = Math.min(wait * 1.5, this.settings.maxPollS * 1000);
        const id = info.id;
        info = f.info = await this.polling(() => this.api.retrieve(id));
        this.update(f.entry, info);
      }
      await this.polling(() => this.collect(f, info));
      this.live.splice(this.live.indexOf(f), 1);
    } catch (e) {
      // The run stopped (the batch runs on, and a resume collects it) or the vendor refused to say
      // more (a bad key, an unknown batch): the jobs still waiting for it get the error.
      if (this.store.stop?.aborted) {
        const held = f.claimed ? [...f.claimed].filter((id) => this.waiting.has(id)).length : this.waiting.size;
        this.store.notice(
          `model '${this.model.id}': batch ${f.entry.batch_id ?? `(input ${f.entry.input_file_id})`} left running at the vendor with ${held} job(s); a resume collects it without paying again`,
        );
      }
      for (const id of f.claimed ?? []) this.settle(id, { error: asProviderError(e) });
    }
  }

  /**
   * The batch of an entry: by its id, or (a crash right after creating it, or a create whose
   * answer was lost) found by its input file, or created now.
   */
  private async located(entry: BatchEntry, fresh: boolean): Promise<BatchInfo> {
    const id = entry.batch_id;
    const info = id
      ? await this.api.retrieve(id)
      : ((fresh ? undefined : await this.api.findByInputFile(entry.input_file_id)) ??
        (await this.api.create(entry.input_file_id, this.metadata(entry.file))));
    this.update(entry, info);
    return info;
  }

  private metadata(file: string): Record<string, string> {
    // OpenAI: at most 16 keys, values of at most 512 characters.
    return {
      gapbench_run: this.store.runId.slice(0, 512),
      gapbench_model: this.model.id.slice(0, 512),
      gapbench_file: file.slice(0, 512),
    };
  }

  /**
   * A status check, a lookup or a download that failed transiently is made again at the next
   * poll: the batch is paid for already, so its jobs are never sent again for it.
   */
  private async polling<T>(f: () => Promise<T>): Promise<T> {
    for (let wait = this.settings.pollS * 1000; ; wait = Math.min(wait * 1.5, this.settings.maxPollS * 1000)) {
      try {
        return await f();
      } catch (e) {
        const pe = asProviderError(e);
        if (this.store.stop?.aborted || !ERROR_KINDS[pe.kind].retry) throw pe;
        await sleep(wait, this.store.stop);
      }
    }
  }

  private update(entry: BatchEntry, info: BatchInfo): void {
    if (entry.batch_id === info.id && entry.status === info.status) return;
    entry.batch_id = info.id;
    entry.status = info.status;
    if (info.errors) entry.errors = info.errors;
    this.store.save(entry);
  }

  /** Answers the batch's jobs from its output and error files; its jobs with no line get an error saying why. */
  private async collect(f: Followed, info: BatchInfo): Promise<void> {
    const turnaround = Date.now() - Date.parse(f.entry.created_at);
    const unknown: string[] = [];
    const answered = new Set<string>();
    let unreadable = 0;
    // A batch whose input file is gone may hold any job not yet recorded.
    const mine = (id: string) => (f.claimed ? f.claimed.has(id) : !this.store.recorded(id));
    for (const fileId of [info.outputFileId, info.errorFileId]) {
      if (!fileId) continue;
      for await (const a of this.api.results(fileId)) {
        if ('unreadable' in a) unreadable++;
        else if (!mine(a.customId)) unknown.push(a.customId);
        else if (!answered.has(a.customId)) {
          answered.add(a.customId);
          const completion = 'completion' in a && { ...a.completion, latencyMs: turnaround, batchId: info.id };
          const error = 'error' in a && new ProviderError(a.error.kind, `${a.error.message} [batch ${info.id}]`);
          this.settle(a.customId, completion ? { completion } : { error: error as ProviderError });
        }
      }
    }
    for (const id of f.claimed ?? []) if (!answered.has(id)) this.settle(id, { error: noLine(this.model.id, info) });
    if (unknown.length || unreadable)
      this.store.notice(
        `model '${this.model.id}': batch ${info.id}: ignored ${unknown.length} line(s) naming jobs not in it${unknown.length ? ` (e.g. ${JSON.stringify(unknown[0].slice(0, 60))})` : ''} and ${unreadable} unreadable line(s)`,
      );
  }

  /** Answers a job once (a retry of it goes into a new batch); a job not waiting yet takes it when it asks. */
  private settle(id: string, outcome: Outcome): void {
    this.claimedBy.get(id)?.claimed?.delete(id);
    this.claimedBy.delete(id);
    const w = this.waiting.get(id);
    if (!w) {
      this.early.set(id, outcome);
      return;
    }
    this.waiting.delete(id);
    if ('error' in outcome) w.reject(outcome.error);
    else w.resolve(outcome.completion);
  }

  /** The run aborted a job's request (a second Ctrl-C): not recorded, so a resume collects it. */
  private aborted(id: string): void {
    const w = this.waiting.get(id);
    if (!w) return;
    this.waiting.delete(id);
    w.reject(new ProviderError('aborted', `model '${this.model.id}': request aborted`));
  }
}

/** The part without the jobs answered meanwhile (by a batch of an earlier invocation). */
function stillWaiting(part: Part, waiting: ReadonlyMap<string, unknown>): Part {
  if (part.ids.every((id) => waiting.has(id))) return part;
  const keep = part.ids.map((id) => waiting.has(id));
  const chunks = part.chunks.filter((_, i) => keep[i]);
  return {
    ids: part.ids.filter((_, i) => keep[i]),
    chunks,
    bytes: chunks.reduce((n, c) => n + Buffer.byteLength(c), 0),
  };
}

/** The jobs an input file holds, when its local copy is the one sent (else undefined: unknown). */
function membersOf(dir: string, entry: BatchEntry): Set<string> | undefined {
  const path = join(dir, entry.file);
  if (!existsSync(path)) return undefined;
  const bytes = readFileSync(path);
  if (entry.sha256 && createHash('sha256').update(bytes).digest('hex') !== entry.sha256) return undefined;
  const ids = new Set<string>();
  for (const line of bytes.toString('utf8').split('\n')) {
    try {
      const id = (JSON.parse(line) as { custom_id?: unknown }).custom_id;
      if (typeof id === 'string') ids.add(id);
    } catch {
      // A torn line: checked below against the count the entry recorded.
    }
  }
  return ids.size === entry.requests ? ids : undefined;
}

function slug(id: string): string {
  return `${id.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60)}-${createHash('sha256').update(id).digest('hex').slice(0, 6)}`;
}

function writeFile(path: string, bytes: Buffer): void {
  mkdirSync(join(path, '..'), { recursive: true });
  const fd = openSync(path, 'w');
  try {
    writeAllSync(fd, bytes, path);
  } finally {
    closeSync(fd);
  }
}

function asProviderError(e: unknown): ProviderError {
  return e instanceof ProviderError ? e : new ProviderError('unknown', e instanceof Error ? e.message : String(e));
}

/** A timer that a stopping run cuts short (rejecting, so the follower ends). */
function sleep(ms: number, stop?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stop?.aborted) return reject(new ProviderError('aborted', 'the run stopped'));
    const t = setTimeout(() => {
      stop?.removeEventListener('abort', onStop);
      resolve();
    }, ms);
    const onStop = () => {
      clearTimeout(t);
      reject(new ProviderError('aborted', 'the run stopped'));
    };
    stop?.addEventListener('abort', onStop, { once: true });
  });
}

/** Why a job of a batch has no line in its files. */
function noLine(model: string, info: BatchInfo): ProviderError {
  const where = `model '${model}': batch ${info.id}`;
  const kind: ErrorKind = info.status === 'failed' ? 'bad_request' : 'expired';
  if (info.status === 'failed')
    return new ProviderError(kind, `${where} failed${info.errors ? `: ${info.errors}` : ''}`);
  if (info.status === 'expired' || info.status === 'cancelled')
    return new ProviderError(
      kind,
      `${where} ${info.status} before this request ran (--resume DIR --retry-errors sends it again)`,
    );
  return new ProviderError('bad_response', `${where} ${info.status} without a line for this request`);
}
