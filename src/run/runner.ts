import type { ModelConfig } from '../config/config.js';
import type { ProviderError } from '../errors.js';
import type { RecordedJobs } from '../journal/read.js';
import type { JobRecord, RecordSink } from '../journal/record.js';
import { createProvider, type ProviderEnv } from '../providers/index.js';
import type { BatchStore } from '../providers/provider.js';
import type { Suite } from '../suite/load.js';
import type { ResponseCache } from './cache.js';
import type { Clock } from './clock.js';
import { makeAsk, runJob, type JobContext } from './job.js';
import { Lane } from './lane.js';
import { countJobs, laneJobs, plannedAlready, type Job, type Shard } from './plan.js';
import { forEachInSlots } from './slots.js';
import { batchRecorder } from './rundir.js';
import { drawOrder, orderedJobs, SequentialGate, type SequentialPlan } from './sequential-gate.js';
import type { Producer } from './session.js';

interface RunSignals {
  /** Stop starting jobs (first Ctrl-C, --max-duration); jobs in flight go on. */
  stop?: AbortSignal;
  /** Abort requests in flight too (grace period over, second Ctrl-C). */
  abort?: AbortSignal;
}

interface RunnerOptions {
  runId: string;
  /** Every model of the config; judge-only ones get a lane but no jobs of their own. */
  models: ModelConfig[];
  suites: Suite[];
  repeat: number;
  /** Run only this slice of the cases (`--shard I/N`). */
  shard?: Shard;
  /** Where each finished job's record goes before it counts (the journal). */
  sink: RecordSink;
  /** Jobs recorded by an earlier invocation (resume): not run again. */
  previous?: RecordedJobs;
  /** Re-run jobs whose latest earlier record is an error. */
  retryErrors?: boolean;
  cache?: ResponseCache;
  providerEnv: ProviderEnv;
  signals?: RunSignals;
  clock?: Clock;
  /** Called once per lane that stops early (bad key, unknown model, unreachable server). */
  onLaneStopped?: (model: ModelConfig, error: ProviderError) => void;
  /** Called once with the benchmarked models' lanes, before the first request. */
  onLanes?: (lanes: Lane[]) => void;
  /** Called with each record once it is in the sink (offset and length of its line there). */
  onRecord?: (record: JobRecord, offset: number, bytes: number) => void;
  /** Batch mode: the run directory's record of batches (input files, batches of earlier invocations). */
  batches?: Omit<BatchStore, 'recorded' | 'stop'>;
  /** Stop when decided (docs/sequential.md): cases sent in a drawn order, through one window. */
  sequential?: SequentialPlan;
  /** Called once with a sequential run's gate, before the first request (progress shows its interval). */
  onGate?: (gate: SequentialGate) => void;
}

interface RunnerResult {
  lanes: Lane[];
  /** Records written by this invocation. */
  written: number;
  /** Jobs recorded by an earlier invocation and not run again. */
  skipped: number;
  /** Jobs planned but not recorded (the run stopped early). */
  unfinished: number;
  /** A sequential run's window and commit log. */
  gate?: SequentialGate;
}

/** Runs every lane at once; each finished job is graded and written to the sink before it counts. */
async function runJobs(opts: RunnerOptions): Promise<RunnerResult> {
  const bench = opts.models.filter((m) => !m.judgeOnly);
  const gate = sequentialGate(opts, bench);
  const lanes = openLanes(opts, gate);
  const laneOf = (m: ModelConfig) => lanes.get(m.id)!;
  const ask = makeAsk(opts.models, laneOf, opts.cache);
  const previous = opts.previous ?? new Map();
  const done = (s: 'ok' | 'error') => s === 'ok' || !opts.retryErrors;
  const skipped = plannedAlready(previous, bench, opts.suites, opts.repeat, done, opts.shard);
  let written = 0;
  const counted = (rec: JobRecord) => {
    gate?.flag(rec);
    const at = opts.sink.append(rec);
    written++;
    opts.onRecord?.(rec, at.offset, at.bytes);
    gate?.add(rec);
  };
  opts.onLanes?.(bench.map(laneOf));
  await Promise.all(
    bench.map((m) => {
      const ctx: JobContext = {
        runId: opts.runId,
        lane: laneOf(m),
        cache: opts.cache,
        ask,
        abort: opts.signals?.abort,
        secrets: laneOf(m).provider.secrets,
        storedAnswer: opts.retryErrors ? (id) => previous.get(id)?.answer : undefined,
      };
      const jobs = gate ? orderedJobs(m, gate.order, opts.repeat) : laneJobs(m, opts.suites, opts.repeat, opts.shard);
      const recorded = (id: string) => {
        const p = previous.get(id);
        return p !== undefined && done(p.status);
      };
      return runLane(ctx, jobs, recorded, counted, opts, gate);
    }),
  );
  const total = countJobs(opts.suites, opts.repeat, opts.shard) * bench.length;
  // Jobs a fired stop rule saved are not unfinished: the run is complete without them.
  const unfinished = gate?.done && !gate.halted ? 0 : total - skipped - written;
  return { lanes: bench.map(laneOf), written, skipped, unfinished, ...(gate ? { gate } : {}) };
}

/** A sequential run's gate, seeded with what an earlier invocation recorded; the window is twice the widest lane. */
function sequentialGate(opts: RunnerOptions, bench: ModelConfig[]): SequentialGate | undefined {
  const plan = opts.sequential;
  if (!plan) return undefined;
  const order = drawOrder(opts.suites, plan.settings.order_seed);
  const window = 2 * Math.max(1, ...bench.map((m) => m.concurrency));
  const gate = new SequentialGate(plan, order, bench, opts.repeat, window, opts.signals?.stop);
  gate.seed(opts.previous);
  opts.onGate?.(gate);
  return gate;
}

/** One lane per model (judges included), each with its provider (batching behind it for a model in batch mode). */
function openLanes(opts: RunnerOptions, gate: SequentialGate | undefined): Map<string, Lane> {
  const lanes = new Map<string, Lane>();
  const batches: BatchStore | undefined = opts.batches && {
    ...opts.batches,
    recorded: (id) => opts.previous?.has(id) ?? false,
    stop: opts.signals?.stop,
  };
  const env: ProviderEnv = { ...opts.providerEnv, batches };
  for (const m of opts.models) {
    if (m.batch && !m.judgeOnly && !batches) throw new Error(`model '${m.id}': batch mode needs a run directory`);
    const lane = new Lane(createProvider(m, env), m, {
      stop: opts.signals?.stop,
      signal: opts.signals?.abort,
      clock: opts.clock,
      onFatal: (l, e) => {
        gate?.laneStopped(l.model.id);
        opts.onLaneStopped?.(l.model, e);
      },
    });
    lanes.set(m.id, lane);
  }
  return lanes;
}

/** A model's jobs in plan order: a few in flight beyond the lane's concurrency, never the whole plan. */
async function runLane(
  ctx: JobContext,
  jobs: Iterable<Job>,
  recorded: (jobId: string) => boolean,
  counted: (rec: JobRecord) => void,
  opts: RunnerOptions,
  gate: SequentialGate | undefined,
): Promise<void> {
  const lane = ctx.lane;
  lane.counters.total = countJobs(opts.suites, opts.repeat, opts.shard);
  function* pending(): Generator<Job> {
    for (const job of jobs) {
      if (!recorded(job.id)) yield job;
      else {
        lane.counters.done++;
        lane.counters.skipped++;
      }
    }
  }
  await forEachInSlots(
    pending(),
    () => lane.maxConcurrency * 2,
    () => lane.stopping || Boolean(gate?.done),
    async (job) => {
      // A sequential run sends a case only inside the window, and never once its suite stopped.
      if (!gate || (await gate.admit(job))) await finish(lane, job, ctx, counted);
    },
  );
}

async function finish(lane: Lane, job: Job, ctx: JobContext, counted: (rec: JobRecord) => void): Promise<void> {
  const rec = await runJob(job, ctx);
  if (!rec) return;
  counted(rec);
  lane.counters.done++;
  if (rec.status === 'error') lane.counters.errors++;
  if (rec.cached) lane.counters.cached++;
}

/** What the lanes need from a command besides the records' destination (see jobsProducer). */
type JobsPlan = Omit<RunnerOptions, 'sink' | 'previous' | 'batches' | 'runId'> & {
  /** Lines about batches (created, collected, left running). */
  batchNotice?: (line: string) => void;
};

/** The lanes as a run session's producer: every job of the plan not yet recorded, answered and graded. */
export function jobsProducer(plan: JobsPlan): Producer {
  return async ({ sink, previous, runDir, manifest }) => {
    const bench = plan.models.filter((m) => !m.judgeOnly);
    const batched = runDir !== undefined && bench.some((m) => m.batch);
    const notice = plan.batchNotice ?? (() => undefined);
    const result = await runJobs({
      ...plan,
      runId: manifest.run_id,
      sink,
      previous,
      ...(batched ? { batches: batchRecorder(runDir, manifest, notice) } : {}),
    });
    const stop = plan.signals?.stop;
    const total = countJobs(plan.suites, plan.repeat, plan.shard) * bench.length;
    return { total, unfinished: result.unfinished, ...(stop?.aborted ? { stop: reasonOf(stop) } : {}) };
  };
}

function reasonOf(signal: AbortSignal): string {
  return signal.reason instanceof Error ? signal.reason.message : 'aborted';
}
