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
 * measures both: latency recorded within 2-4% of the server's, against 7% on one thread.
 *
 * Threads: see `defaultThreadCount`; lanes share threads beyond that. `--threads 0` keeps every
 * lane on the main thread.
 */

/** Main thread -> lane thread. */
export type ToThread =
  | { t: 'lane'; key: number; model: ModelConfig; env: ProviderEnv; concurrency: number }
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
    // Only what a lane needs: the CLI's flags (and a test runner's loaders) stay out.
    execArgv: [],
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
    for (const [signal, t] of [[opts.stop, 'stop'], [opts.abort, 'abort']] as const) {
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
    const i = this.assigned++ % this.size;
    const thread = (this.threads[i] ??= new Thread(this.opts));
    return thread.lane(model, env, this.nextKey++);
  }

  async close(): Promise<void> {
    await Promise.all([...this.threads.map((t) => t.close()), stopPrestartedThreads()]);
  }
}

interface Pending {
  resolve: (a: Attempted) => void;
  reject: (e: Error) => void;
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

class Thread {
  private worker?: Worker;
  private readonly lanes = new Map<number, { lane: RemoteLane; env: ProviderEnv }>();
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;
  /** Stop and abort already sent: a restarted thread is told again. */
  private readonly told = new Set<'stop' | 'abort'>();

  constructor(private readonly opts: LaneThreadOptions) {}

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
    if (this.closed) return Promise.reject(new Error('the run has ended'));
    let worker: Worker;
    try {
      worker = this.worker ??= this.start();
    } catch (err) {
      return Promise.reject(new Error(`cannot start a lane thread: ${err instanceof Error ? err.message : String(err)}`));
    }
    const id = this.nextId++;
    return new Promise<Attempted>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ t: 'req', id, key: lane.key, messages, ...(job ? { job } : {}) } satisfies ToThread);
    });
  }

  private start(): Worker {
    const worker = warm.shift() ?? spawn();
    for (const { lane, env } of this.lanes.values()) worker.postMessage(laneMessage(lane, env));
    for (const t of this.told) worker.postMessage({ t });
    worker.on('message', (msg: FromThread) => this.receive(worker, msg));
    const fail = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      const pending = [...this.pending.values()];
      this.pending.clear();
      for (const p of pending) p.reject(new Error(`lane thread stopped (${why})`));
    };
    worker.on('error', (err) => fail(err instanceof Error ? err.message : String(err)));
    worker.on('exit', (code) => fail(`exit code ${code}`));
    return worker;
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

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    for (const p of this.pending.values()) p.reject(new Error('the run has ended'));
    this.pending.clear();
    if (w) await w.terminate();
  }
}

function laneMessage(lane: RemoteLane, env: ProviderEnv): ToThread {
  return { t: 'lane', key: lane.key, model: lane.model, env, concurrency: lane.model.concurrency };
}
