import type { ModelConfig } from '../config/config.js';
import type { ProviderError } from '../errors.js';
import type { RecordedJobs } from '../journal/read.js';
import type { JobRecord, RecordSink } from '../journal/record.js';
import { createProvider, type ProviderEnv } from '../providers/index.js';
import type { Suite } from '../suite/load.js';
import type { ResponseCache } from './cache.js';
import type { Clock } from './clock.js';
import { makeAsk, runJob, type JobContext } from './job.js';
import { BatchLane, type BatchContext } from './batch.js';
import { Lane } from './lane.js';
import { descriptorOf } from '../providers/index.js';
import { countJobs, laneJobs, plannedAlready, type Job, type Shard } from './plan.js';
import { forEachInSlots } from './slots.js';

export interface RunSignals {
  /** Stop starting jobs (first Ctrl-C, --max-duration); jobs in flight go on. */
  stop?: AbortSignal;
  /** Abort requests in flight too (grace period over, second Ctrl-C). */
  abort?: AbortSignal;
}

export interface RunnerOptions {
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
  /** Batch mode: where input files go, the batches of earlier invocations, and how new ones are recorded. */
  batch?: Pick<BatchContext, 'runDir' | 'known' | 'save' | 'notice'>;
}

export interface RunnerResult {
  lanes: Lane[];
  /** Records written by this invocation. */
  written: number;
  /** Jobs recorded by an earlier invocation and not run again. */
  skipped: number;
  /** Jobs planned but not recorded (the run stopped early). */
  unfinished: number;
}

/** Runs every lane at once; each finished job is graded and written to the sink before it counts. */
export async function runJobs(opts: RunnerOptions): Promise<RunnerResult> {
  const lanes = openLanes(opts);
  const laneOf = (m: ModelConfig) => lanes.get(m.id)!;
  const ask = makeAsk(opts.models, laneOf, opts.cache);
  const bench = opts.models.filter((m) => !m.judgeOnly);
  const previous = opts.previous ?? new Map();
  const done = (s: 'ok' | 'error') => s === 'ok' || !opts.retryErrors;
  const skipped = plannedAlready(previous, bench, opts.suites, opts.repeat, done, opts.shard);
  let written = 0;
  const counted = (rec: JobRecord) => {
    const at = opts.sink.append(rec);
    written++;
    opts.onRecord?.(rec, at.offset, at.bytes);
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
      const jobs = laneJobs(m, opts.suites, opts.repeat, opts.shard);
      const recorded = (id: string) => {
        const p = previous.get(id);
        return p !== undefined && done(p.status);
      };
      return runLane(ctx, jobs, recorded, counted, opts);
    }),
  );
  const total = countJobs(opts.suites, opts.repeat, opts.shard) * bench.length;
  return { lanes: bench.map(laneOf), written, skipped, unfinished: total - skipped - written };
}

/** One lane per model (judges included), each with its provider; a batch lane for a model in batch mode. */
function openLanes(opts: RunnerOptions): Map<string, Lane> {
  const lanes = new Map<string, Lane>();
  for (const m of opts.models) {
    const laneOpts = {
      stop: opts.signals?.stop,
      signal: opts.signals?.abort,
      clock: opts.clock,
      onFatal: (l: Lane, e: ProviderError) => opts.onLaneStopped?.(l.model, e),
    };
    const provider = createProvider(m, opts.providerEnv);
    const batchApi = m.batch && !m.judgeOnly ? descriptorOf(m.protocol).batch?.(m, opts.providerEnv) : undefined;
    if (batchApi && !opts.batch) throw new Error(`model '${m.id}': batch mode needs a run directory`);
    const lane =
      batchApi && opts.batch
        ? new BatchLane(provider, m, laneOpts, {
            api: batchApi,
            runDir: opts.batch.runDir,
            runId: opts.runId,
            known: opts.batch.known.filter((b) => b.model === m.id),
            recorded: (id) => opts.previous?.has(id) ?? false,
            save: opts.batch.save,
            notice: opts.batch.notice,
          })
        : new Lane(provider, m, laneOpts);
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
  if (lane instanceof BatchLane) return runBatchLane(lane, ctx, pending(), counted);
  await forEachInSlots(
    pending(),
    () => lane.maxConcurrency * 2,
    () => lane.stopping,
    (job) => finish(lane, job, ctx, counted),
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

/**
 * A batch lane's jobs all start at once (their requests wait in the lane, a job holds no more
 * than its case and messages); once the plan is through, the lane sends them as batches.
 */
async function runBatchLane(
  lane: BatchLane,
  ctx: JobContext,
  jobs: Iterable<Job>,
  counted: (rec: JobRecord) => void,
): Promise<void> {
  const started: Promise<void>[] = [];
  for (const job of jobs) {
    if (lane.stopping) break;
    started.push(finish(lane, job, ctx, counted));
  }
  await lane.seal();
  await Promise.all(started);
}
