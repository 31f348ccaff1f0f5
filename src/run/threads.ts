import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ModelConfig } from '../config/config.js';
import { ProviderError } from '../errors.js';
import type { ProviderEnv } from '../providers/provider.js';
import type { ChatRequest, ErrorKind } from '../types.js';
import { processV8Flags, reapplyV8Flags } from '../util/v8flags.js';
import type { Attempted, LaneCounters, LaneHandle } from './lane.js';

/**
 * Lane threads. A network lane (a model behind the OpenAI or Ollama protocol) runs in a worker
 * thread: its scheduling, rate budget, retries, timeouts and the SDK and HTTP work of its
 * requests. The main thread plans jobs, grades answers and writes the journal.
 *
 * Why: on one thread, every response waits behind whatever else that thread is doing (grading,
 * journaling, other lanes' SDK work). That wait delays the next request of the lane's slot and is
 * counted in the latency the run records. In its own thread a lane starts its next request as
 * soon as one finishes, and times its requests on a thread that does nothing else. `npm run bench`
 * measures both: 52.0-52.3 ms recorded for a server that answers in 50.0 ms, against 52.7-53.2 ms
 * with every lane on one thread, and a run 1-2% shorter.
 *
 * Threads: see `defaultThreadCount`; lanes share threads beyond that. `--threads 0` keeps every
 * lane on the main thread.
 */

/** Main thread -> lane thread. */
export type ToThread =
  | { t: 'lane'; key: number; model: ModelConfig; env: ProviderEnv }
  | { t: 'req'; id: number; key: number; messages: ChatRequest['messages']; job?: ChatRequest['job'] }
  | { t: 'stop' }
  | { t: 'abort' };

/** The lane's live figures, sent with every answer: retries, 429s, in flight, concurrency now. */
export type LaneStats = [retries: number, rateLimited: number, inFlight: number, concurrency: number];

/** Lane thread -> main thread. */
export type FromThread =
  | { t: 'done'; id: number; key: number; attempted: Attempted; stats: LaneStats }
  /** The request was not answered because the run is stopping (first Ctrl-C) or aborting. */
  | { t: 'dropped'; id: number; key: number; message: string; stats: LaneStats }
  | { t: 'fatal'; key: number; kind: ErrorKind; message: string; status?: number }
  /** The lane's figures between answers (for the progress display). */
  | { t: 'stats'; key: number; stats: LaneStats };

/** Protocols whose lanes make network requests, worth a thread. */
const NETWORK: ReadonlySet<ModelConfig['protocol']> = new Set(['openai', 'ollama']);

/**
 * A lane thread keeps little, but allocates fast (each request builds and parses JSON): 16 MiB of
 * young generation measured faster than 4 or 8 (fewer scavenges) and smaller than 32.
 */
const YOUNG_GENERATION_MB = 16;

/**
 * Lane threads by default: one per network lane, leaving a core to the main thread (which grades
 * and writes the journal), and at least one. On 2 cores that is one thread for all network lanes:
 * `npm run bench` measured it as fast as two, in 15 MiB less memory.
 */
export function defaultThreadCount(lanes = Infinity): number {
  return Math.min(lanes, Math.max(1, availableParallelism() - 1));
}

/** Threads started ahead: most runs compare one or two network models. */
const PRESTART_MAX = 2;

export function runsOnThread(model: ModelConfig): boolean {
  return NETWORK.has(model.protocol);
}

/** Threads started before the config is read (see `prestartLaneThreads`), waiting to be used. */
const warm: Worker[] = [];

/**
 * Starts lane threads while the main thread is still loading its code and reading the config: a
 * thread's own start-up (a Node environment, the SDKs, Node's fetch classes) then overlaps the
 * main thread's instead of delaying the first request. A run takes them over; `stopPrestartedThreads`
 * ends those no run took.
 */
export function prestartLaneThreads(count = Math.min(PRESTART_MAX, defaultThreadCount())): void {
  try {
    while (warm.length < count) warm.push(spawn());
  } catch {
    /* threads unavailable: lanes run on the main thread */
  }
}

export async function stopPrestartedThreads(): Promise<void> {
  await Promise.all(warm.splice(0).map((w) => w.terminate()));
}

function spawn(): Worker {
  const worker = new Worker(workerPath(), {
    // The process's Node flags are inherited (a --require'd proxy bootstrap reaches the SDKs' requests).
    resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    workerData: { v8Flags: processV8Flags() },
  });
  worker.unref();
  // A new thread resets the V8 flags set at run time (see util/v8flags.ts).
  worker.once('online', () => reapplyV8Flags());
  // A thread that dies before a run takes it over is dropped; the run starts a fresh one.
  const drop = () => {
    const i = warm.indexOf(worker);
    if (i >= 0) warm.splice(i, 1);
  };
  worker.on('error', drop);
  worker.on('exit', drop);
  return worker;
}

/** Whether lane threads can start here (their script is built); if not, lanes run on the main thread. */
function threadsAvailable(): boolean {
  try {
    workerPath();
    return true;
  } catch {
    return false;
  }
}

/** The compiled worker script; under the tests (TypeScript sources) the built copy in dist/. */
function workerPath(): string {
  const here = fileURLToPath(new URL('./lane-worker.js', import.meta.url));
  if (existsSync(here)) return here;
  const built = fileURLToPath(new URL('../../dist/run/lane-worker.js', import.meta.url));
  if (existsSync(built)) return built;
  throw new Error(`lane thread script not found (${here}); run \`npm run build\``);
}

export interface LaneThreadOptions {
  /** Stop starting requests (first Ctrl-C): queued jobs end, in-flight ones go on. */
  stop: AbortSignal;
  /** Abort in-flight requests too. */
  abort: AbortSignal;
  onFatal?: (lane: LaneHandle, error: ProviderError) => void;
}

/** The lane threads of one run. */
export class LaneThreads {
  private readonly threads: Thread[] = [];
  private assigned = 0;
  private nextKey = 0;

  constructor(
    readonly size: number,
    private readonly opts: LaneThreadOptions,
  ) {
    // Threads started ahead that this run will not use are stopped now, not at its end.
    if (size === 0) void stopPrestartedThreads();
    for (const [signal, t] of [
      [opts.stop, 'stop'],
      [opts.abort, 'abort'],
    ] as const) {
      const tell = () => {
        for (const th of this.threads) th.send({ t });
      };
      if (signal.aborted) queueMicrotask(tell);
      else signal.addEventListener('abort', tell, { once: true });
    }
  }

  /** The model's lane on a thread, or undefined when it should run on the main thread. */
  lane(model: ModelConfig, env: ProviderEnv): LaneHandle | undefined {
    if (this.size === 0 || !runsOnThread(model) || !threadsAvailable()) return undefined;
    const i = this.assigned % this.size;
    const thread = (this.threads[i] ??= new Thread(this.opts));
    try {
      // Started now, so a thread that cannot start here (a permission model, a resource limit)
      // leaves the lane on the main thread instead of failing its every job.
      thread.ensureStarted();
    } catch {
      return undefined;
    }
    this.assigned++;
    return thread.lane(model, env, this.nextKey++);
  }

  /** For the tests: the threads' workers, to stop one as a crash would. */
  workersForTests(): (Worker | undefined)[] {
    return this.threads.map((t) => t.workerForTests());
  }

  /** Why a lane thread failed for good, when one did (its jobs are left for a resume). */
  get failure(): string | undefined {
    return this.threads.find((t) => t.failure)?.failure;
  }

  async close(): Promise<void> {
    await Promise.all([...this.threads.map((t) => t.close()), stopPrestartedThreads()]);
  }
}

/**
 * A request a lane thread could not answer because the thread itself failed (not the model): the
 * runner leaves its job unrecorded, so a resume runs it.
 */
export class LaneThreadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LaneThreadError';
  }
}

interface Pending {
  resolve: (a: Attempted) => void;
  reject: (e: Error) => void;
  lane: RemoteLane;
  msg: Extract<ToThread, { t: 'req' }>;
}

/** A lane whose work happens on a thread; the runner uses it as it uses a `Lane`. */
class RemoteLane implements LaneHandle {
  readonly counters: LaneCounters = { total: 0, done: 0, skipped: 0, errors: 0, retries: 0, rateLimited: 0, cached: 0 };
  fatal?: ProviderError;
  inFlight = 0;
  concurrency: number;

  constructor(
    readonly model: ModelConfig,
    readonly key: number,
    private readonly thread: Thread,
  ) {
    this.concurrency = model.concurrency;
  }

  get maxConcurrency(): number {
    return this.model.concurrency;
  }

  request(messages: ChatRequest['messages'], job?: ChatRequest['job']): Promise<Attempted> {
    return this.thread.request(this, messages, job);
  }

  update(stats: LaneStats): void {
    [this.counters.retries, this.counters.rateLimited, this.inFlight, this.concurrency] = stats;
  }
}

/** A thread that stops unexpectedly is restarted, and its unanswered requests sent again, this many times. */
const MAX_RESTARTS = 2;

class Thread {
  private worker?: Worker;
  private readonly lanes = new Map<number, { lane: RemoteLane; env: ProviderEnv }>();
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;
  private restarts = 0;
  /** Set when the thread failed more often than it may be restarted. */
  failure?: string;
  /** Stop and abort already sent: a restarted thread is told again. */
  private readonly told = new Set<'stop' | 'abort'>();

  constructor(private readonly opts: LaneThreadOptions) {}

  ensureStarted(): Worker {
    return (this.worker ??= this.start());
  }

  lane(model: ModelConfig, env: ProviderEnv, key: number): RemoteLane {
    const lane = new RemoteLane(model, key, this);
    // A plain copy: process.env itself does not cross threads.
    env = { env: { ...env.env }, cwd: env.cwd };
    this.lanes.set(key, { lane, env });
    this.worker?.postMessage(laneMessage(lane, env));
    return lane;
  }

  send(msg: Extract<ToThread, { t: 'stop' | 'abort' }>): void {
    this.told.add(msg.t);
    this.worker?.postMessage(msg);
  }

  request(lane: RemoteLane, messages: ChatRequest['messages'], job?: ChatRequest['job']): Promise<Attempted> {
    if (this.closed) return Promise.reject(new LaneThreadError(`model '${lane.model.id}': the run has ended`));
    if (this.failure) return Promise.reject(new LaneThreadError(this.failure));
    let worker: Worker;
    try {
      worker = this.ensureStarted();
    } catch (err) {
      return Promise.reject(
        new LaneThreadError(
          `model '${lane.model.id}': cannot start a lane thread (${err instanceof Error ? err.message : String(err)})`,
        ),
      );
    }
    const msg: Pending['msg'] = { t: 'req', id: this.nextId++, key: lane.key, messages, ...(job ? { job } : {}) };
    return new Promise<Attempted>((resolve, reject) => {
      this.pending.set(msg.id, { resolve, reject, lane, msg });
      if (this.pending.size === 1) worker.ref();
      worker.postMessage(msg);
    });
  }

  private start(): Worker {
    const worker = warm.shift() ?? spawn();
    for (const { lane, env } of this.lanes.values()) worker.postMessage(laneMessage(lane, env));
    for (const t of this.told) worker.postMessage({ t });
    worker.on('message', (msg: FromThread) => this.receive(worker, msg));
    worker.on('error', (err) => this.failed(worker, err instanceof Error ? err.message : String(err)));
    worker.on('exit', (code) => this.failed(worker, `exit code ${code}`));
    return worker;
  }

  /**
   * The thread stopped while the run goes on (a crash, or killed): its unanswered requests are sent
   * again on a new thread (a request that reached the server before the crash is sent twice, as
   * after a dropped connection). Past MAX_RESTARTS they are given up, unrecorded, for a resume.
   */
  private failed(worker: Worker, why: string): void {
    if (this.worker !== worker || this.closed) return;
    this.worker = undefined;
    const pending = [...this.pending.values()];
    if (this.restarts < MAX_RESTARTS) {
      this.restarts++;
      try {
        const fresh = this.ensureStarted();
        if (pending.length) fresh.ref();
        for (const p of pending) fresh.postMessage(p.msg);
        return;
      } catch (err) {
        why = `${why}; restarting it failed: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    const models = [...this.lanes.values()].map(({ lane }) => `'${lane.model.id}'`);
    this.failure = `the lane thread of model${models.length > 1 ? 's' : ''} ${models.join(', ')} stopped (${why})`;
    this.pending.clear();
    for (const p of pending) p.reject(new LaneThreadError(this.failure));
  }

  private receive(worker: Worker, msg: FromThread): void {
    const lane = this.lanes.get(msg.key)?.lane;
    if (msg.t === 'fatal') {
      if (lane && !lane.fatal) {
        lane.fatal = new ProviderError(msg.kind, msg.message, { status: msg.status });
        this.opts.onFatal?.(lane, lane.fatal);
      }
      return;
    }
    lane?.update(msg.stats);
    if (msg.t === 'stats') return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (this.pending.size === 0) worker.unref();
    if (msg.t === 'done') p.resolve(msg.attempted);
    else p.reject(new Error(msg.message));
  }

  /** For the tests: the thread's worker, to stop it as a crash would. */
  workerForTests(): Worker | undefined {
    return this.worker;
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    for (const p of this.pending.values())
      p.reject(new LaneThreadError(`model '${p.lane.model.id}': the run has ended`));
    this.pending.clear();
    if (w) await w.terminate();
  }
}

function laneMessage(lane: RemoteLane, env: ProviderEnv): ToThread {
  return { t: 'lane', key: lane.key, model: lane.model, env };
}
