import type { ModelConfig } from '../config/config.js';
import { ProviderError } from '../errors.js';
import { gradeSafely } from '../graders/index.js';
import type { GradeContext } from '../graders/grader.js';
import { createProvider, type ProviderEnv } from '../providers/index.js';
import type { Suite } from '../suite/load.js';
import type { ChatMessage, Completion, Grade } from '../types.js';
import type { ResponseCache } from './cache.js';
import type { Clock } from './clock.js';
import { Journal } from './journal.js';
import { Lane, type Attempted, type LaneHandle } from './lane.js';
import { countJobs, laneJobs, type Job } from './plan.js';
import type { JobRecord } from './record.js';
import { recordedJobs } from './read.js';
import { defaultThreadCount, LaneThreads, LaneThreadError, runsOnThread } from './threads.js';

export interface RunnerOptions {
  runId: string;
  journalPath: string;
  models: ModelConfig[];
  suites: Suite[];
  repeat: number;
  cache: ResponseCache;
  providerEnv: ProviderEnv;
  /** Stop starting jobs (first Ctrl-C, --max-duration). */
  stop: AbortSignal;
  /** Abort in-flight requests (grace over, second Ctrl-C). */
  abort: AbortSignal;
  /** Re-run jobs whose latest record is an error (resume). */
  retryErrors?: boolean;
  clock?: Clock;
  /** Called once per lane that stops early (auth, model not found). */
  onLaneStopped?: (model: ModelConfig, error: ProviderError) => void;
  onLanes?: (lanes: LaneHandle[]) => void;
  /** Threads for network lanes (default: see run/threads.ts; 0: every lane on this thread). */
  threads?: number;
  /** Called with each record as its line reaches the journal (offset and length of the line). */
  onRecord?: (record: JobRecord, offset: number, bytes: number) => void;
}

export interface RunnerResult {
  lanes: LaneHandle[];
  /** Records written by this invocation. */
  written: number;
  /** Jobs already recorded before this invocation (resume). */
  skipped: number;
  /** Jobs planned but not recorded (the run stopped early). */
  unfinished: number;
  droppedBytes: number;
  /** The journal was empty when this invocation opened it: onRecord saw every record it holds. */
  journalWasEmpty: boolean;
  /** Why a lane thread failed for good (its unanswered jobs are among `unfinished`). */
  threadFailure?: string;
}

/** Runs every lane at once; each finished job is graded and appended to the journal before it counts. */
export async function runJobs(opts: RunnerOptions): Promise<RunnerResult> {
  const previous = await recordedJobs(opts.journalPath);
  const { journal, dropped } = Journal.open(opts.journalPath);
  const journalWasEmpty = journal.size === 0;
  const lanes = new Map<string, LaneHandle>();
  const onFatal = (l: LaneHandle, e: ProviderError) => opts.onLaneStopped?.(l.model, e);
  const networkLanes = opts.models.filter(runsOnThread).length;
  // A test's fake clock cannot reach another thread: with one, every lane runs here.
  const threads = new LaneThreads(
    opts.clock ? 0 : Math.min(networkLanes, opts.threads ?? defaultThreadCount(networkLanes)),
    { stop: opts.stop, abort: opts.abort, onFatal },
  );
  const laneFor = (m: ModelConfig): LaneHandle => {
    let lane = lanes.get(m.id);
    if (!lane) {
      lane =
        threads.lane(m, opts.providerEnv) ??
        new Lane(createProvider(m, opts.providerEnv), m.concurrency, {
          stop: opts.stop,
          signal: opts.abort,
          clock: opts.clock,
          onFatal,
        });
      lanes.set(m.id, lane);
    }
    return lane;
  };
  const benchModels = opts.models.filter((m) => !m.judgeOnly);
  for (const m of opts.models) laneFor(m);

  const ask = makeAsk(opts.models, laneFor, opts.cache);

  let written = 0;
  let skipped = 0;
  let unfinished = 0;
  const runLane = async (m: ModelConfig) => {
    const lane = laneFor(m);
    // Jobs started and not yet recorded; the loop waits for a free slot (no Promise.race over all
    // of them: that adds a reaction to every pending job each time, O(concurrency) per job).
    let active = 0;
    let wake: (() => void) | undefined;
    let drained: (() => void) | undefined;
    // A record that cannot be written (disk full) stops the lane; the run reports it.
    let failure: { error: unknown } | undefined;
    const finished = () => {
      active--;
      wake?.();
      wake = undefined;
      if (active === 0) drained?.();
    };
    let started = 0;
    lane.counters.total = countJobs(opts.suites, opts.repeat);
    for (const job of laneJobs(m, opts.suites, opts.repeat)) {
      const prev = previous.get(job.id);
      if (prev === 'ok' || (prev === 'error' && !opts.retryErrors)) {
        skipped++;
        lane.counters.done++;
        lane.counters.skipped++;
        continue;
      }
      if (opts.stop.aborted || failure) {
        unfinished++;
        continue;
      }
      active++;
      void runJob(job, lane)
        .then(
          (rec) => {
            if (!rec) {
              unfinished++;
              return;
            }
            const at = journal.append(rec);
            opts.onRecord?.(rec, at.offset, at.bytes);
            written++;
            lane.counters.done++;
            if (rec.status === 'error') lane.counters.errors++;
            if (rec.cached) lane.counters.cached++;
          },
          () => {
            unfinished++;
          },
        )
        .catch((error: unknown) => (failure ??= { error }))
        .finally(finished);
      // Keep only a little work queued per lane: memory stays flat however many jobs there are.
      if (active >= lane.maxConcurrency * 2) await new Promise<void>((r) => (wake = r));
      // A provider that answers without I/O (replay, cache hits) would otherwise never let timers
      // and signals run: yield to the event loop now and then.
      if (++started % 256 === 0) await new Promise((r) => setImmediate(r));
    }
    if (active > 0) await new Promise<void>((r) => (drained = r));
    if (failure) throw failure.error;
  };

  const runJob = async (job: Job, lane: LaneHandle): Promise<JobRecord | undefined> => {
    const messages: ChatMessage[] = [];
    if (job.case.system) messages.push({ role: 'system', content: job.case.system });
    messages.push({ role: 'user', content: job.case.prompt });
    const startedAt = Date.now();
    const jobInfo = {
      suite: job.suite.name,
      caseId: job.case.id,
      caseIndex: job.caseIndex,
      repeat: job.repeat,
      vars: job.case.vars,
    };
    let r: { attempted: Attempted; cached: boolean };
    try {
      r = await callThroughCache(lane, job.model, messages, job.repeat, jobInfo, opts.cache);
    } catch (err) {
      // Stopped before an answer, or its lane thread failed: not recorded, so a resume runs it.
      if (opts.stop.aborted || opts.abort.aborted || err instanceof LaneThreadError) return undefined;
      const message = err instanceof Error ? err.message : String(err);
      r = { attempted: { status: 'error', error: { kind: 'unknown', message }, attempts: 1 }, cached: false };
    }
    const finishedAt = Date.now();
    const a = r.attempted;
    let grade: Grade;
    if (a.status === 'ok') {
      const ctx: GradeContext = {
        case: job.case,
        completion: {
          latencyMs: a.completion.latencyMs,
          inputTokens: a.completion.inputTokens,
          outputTokens: a.completion.outputTokens,
          costUsd: tokenCost(job.model, a.completion),
        },
        ask,
      };
      grade = await gradeSafely(job.suite.graderOf(job.case), a.completion.text, ctx);
      // A judge cut off by the run's abort, or by a failed lane thread: left for a resume.
      if ((opts.abort.aborted || threads.failure) && grade.error) return undefined;
    } else {
      grade = { score: 0, passed: false, reason: `no answer: ${a.error.kind}` };
    }
    const m = job.model;
    const base = {
      v: 1 as const,
      job_id: job.id,
      run_id: opts.runId,
      suite: job.suite.name,
      case_id: job.case.id,
      case_index: job.caseIndex,
      category: job.case.category,
      model: m.id,
      group: m.group,
      provider: m.provider,
      model_name: m.model,
      repeat: job.repeat,
      prompt: job.case.prompt,
      ...(job.case.system ? { system: job.case.system } : {}),
      ...(job.case.expected === undefined ? {} : { expected: job.case.expected }),
      grader: job.suite.graderName(job.case),
      grade,
      attempts: a.attempts,
      cached: r.cached,
      started_at: new Date(startedAt).toISOString(),
      finished_at: new Date(finishedAt).toISOString(),
      t_start: startedAt,
      t_end: finishedAt,
    };
    if (a.status === 'ok') {
      const c = a.completion;
      return {
        ...base,
        status: 'ok',
        output: c.text,
        latency_ms: Math.round(c.latencyMs * 10) / 10,
        ...(c.inputTokens === undefined ? {} : { input_tokens: c.inputTokens }),
        ...(c.outputTokens === undefined ? {} : { output_tokens: c.outputTokens }),
        ...(c.finishReason === undefined ? {} : { finish_reason: c.finishReason }),
        ...(a.lastErrorKind ? { last_error_kind: a.lastErrorKind } : {}),
      };
    }
    return { ...base, status: 'error', error: a.error };
  };

  opts.onLanes?.(benchModels.map(laneFor));
  try {
    await Promise.all(benchModels.map(runLane));
  } finally {
    journal.close();
    await threads.close();
  }
  const threadFailure = threads.failure;
  return {
    lanes: benchModels.map(laneFor),
    written,
    skipped,
    unfinished,
    droppedBytes: dropped,
    journalWasEmpty,
    ...(threadFailure ? { threadFailure } : {}),
  };
}

/** A grader's way to ask another configured model (a judge), through that model's lane and cache. */
export function makeAsk(models: readonly ModelConfig[], laneFor: (m: ModelConfig) => LaneHandle, cache: ResponseCache) {
  return async (ref: string, messages: ChatMessage[]): Promise<Completion> => {
    const m = models.find((x) => x.id === ref) ?? models.find((x) => `${x.provider}:${x.model}` === ref);
    if (!m)
      throw new ProviderError(
        'not_found',
        `judge '${ref}' is not a model in the config (add it, with judgeOnly: true to keep it out of the results)`,
      );
    const r = await callThroughCache(laneFor(m), m, messages, 0, undefined, cache);
    if (r.attempted.status === 'error') throw new ProviderError(r.attempted.error.kind, r.attempted.error.message);
    return r.attempted.completion;
  };
}

async function callThroughCache(
  lane: LaneHandle,
  m: ModelConfig,
  messages: ChatMessage[],
  repeat: number,
  job: Parameters<LaneHandle['request']>[1],
  cache: ResponseCache,
): Promise<{ attempted: Attempted; cached: boolean }> {
  const key = cache.enabledFor(m) ? cache.key(m, messages, repeat) : undefined;
  const hit = key ? cache.get(key) : undefined;
  if (hit) return { attempted: { status: 'ok', completion: hit, attempts: 0 }, cached: true };
  const attempted = await lane.request(messages, job);
  if (key && attempted.status === 'ok') cache.put(key, attempted.completion);
  return { attempted, cached: false };
}

/** Token-priced cost of one completion (closed models; open models may also set token prices). */
export function tokenCost(m: ModelConfig, c: { inputTokens?: number; outputTokens?: number }): number | undefined {
  if (!m.price || (m.price.input === undefined && m.price.output === undefined)) return undefined;
  return ((c.inputTokens ?? 0) * (m.price.input ?? 0) + (c.outputTokens ?? 0) * (m.price.output ?? 0)) / 1e6;
}
