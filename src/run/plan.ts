import * as crypto from 'node:crypto';
import type { ModelConfig } from '../config/config.js';
import type { RecordedJobs } from '../journal/read.js';
import type { Suite } from '../suite/load.js';
import type { Case } from '../types.js';

/** One unit of work: a case asked of a model, the n-th time. */
export interface Job {
  id: string;
  suite: Suite;
  case: Case;
  caseIndex: number;
  model: ModelConfig;
  repeat: number;
  /** The shard (1-based) this job belongs to, in a sharded run. */
  shard?: number;
  /** A sequential run: the case's position in its suite's pre-drawn order, and in the whole run's. */
  seqPos?: number;
  runPos?: number;
}

/**
 * The I-th of N slices of a run (`--shard I/N`), 1-based. Cases are dealt round-robin in plan
 * order (suites in order, cases in order): case k of the whole plan (0-based) belongs to shard
 * (k mod N) + 1. The split depends only on the suites and N; a case's models and repeats stay
 * together, and shards differ in size by at most one case.
 */
export interface Shard {
  index: number;
  count: number;
}

/** Whether the k-th case of the plan (0-based, counted across suites) is in the shard. */
function inShard(ordinal: number, shard: Shard | undefined): boolean {
  return !shard || ordinal % shard.count === shard.index - 1;
}

/** Deterministic: the same suite, case, model and repeat always give the same id (resume relies on it). */
export function jobId(suite: string, caseId: string, model: string, repeat: number): string {
  return sha256Hex(`${suite}\u0000${caseId}\u0000${model}\u0000${repeat}`).slice(0, 20);
}

// crypto.hash (Node >= 20.12) is the one-shot form, several times cheaper than createHash per call.
const oneShot = (crypto as { hash?: (algorithm: string, data: string) => string }).hash;
const sha256Hex = oneShot
  ? (s: string) => oneShot('sha256', s)
  : (s: string) => crypto.createHash('sha256').update(s).digest('hex');

/** The plan's cases in suite order (each with its index in its suite); in a sharded run, the shard's only. */
function* planCases(suites: readonly Suite[], shard: Shard | undefined): Generator<[Suite, number]> {
  let ordinal = 0;
  for (const suite of suites)
    for (let i = 0; i < suite.cases.length; i++, ordinal++) if (inShard(ordinal, shard)) yield [suite, i];
}

/** A model's jobs, lazily, in suite order (suites x cases x repeats); in a sharded run, the shard's only. */
export function* laneJobs(model: ModelConfig, suites: readonly Suite[], repeat: number, shard?: Shard): Generator<Job> {
  for (const [suite, i] of planCases(suites, shard)) {
    const c = suite.cases[i];
    for (let r = 0; r < repeat; r++) {
      const id = jobId(suite.name, c.id, model.id, r);
      const caseIndex = suite.caseIndexes?.[i] ?? i;
      yield { id, suite, case: c, caseIndex, model, repeat: r, ...(shard ? { shard: shard.index } : {}) };
    }
  }
}

/** Jobs per model: every case x repeat, or the shard's cases only. */
export function countJobs(suites: readonly Suite[], repeat: number, shard?: Shard): number {
  const cases = suites.reduce((n, s) => n + s.cases.length, 0);
  if (!shard) return cases * repeat;
  // Cases k with k mod N = I-1, for k < cases.
  const mine = Math.floor(cases / shard.count) + (shard.index - 1 < cases % shard.count ? 1 : 0);
  return mine * repeat;
}

/**
 * How many of the plan's jobs an earlier invocation recorded (and `done` says need not run again),
 * counted from the records rather than by walking the plan: a stopped run knows how many jobs it
 * left without visiting them.
 */
export function plannedAlready(
  previous: RecordedJobs,
  models: readonly ModelConfig[],
  suites: readonly Suite[],
  repeat: number,
  done: (status: 'ok' | 'error') => boolean,
  shard?: Shard,
): number {
  const modelIds = new Set(models.map((m) => m.id));
  const caseIds = new Map(suites.map((s) => [s.name, new Set<string>()]));
  for (const [suite, i] of planCases(suites, shard)) caseIds.get(suite.name)!.add(suite.cases[i].id);
  let n = 0;
  for (const [id, r] of previous) {
    if (!done(r.status) || r.repeat >= repeat || !modelIds.has(r.model) || !caseIds.get(r.suite)?.has(r.caseId))
      continue;
    // The id covers all four fields: a record whose fields match but whose id does not is not this plan's.
    if (jobId(r.suite, r.caseId, r.model, r.repeat) === id) n++;
  }
  return n;
}
