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

/** A model's jobs, lazily, in suite order (suites x cases x repeats). */
export function* laneJobs(model: ModelConfig, suites: readonly Suite[], repeat: number): Generator<Job> {
  for (const suite of suites) {
    for (let i = 0; i < suite.cases.length; i++) {
      const c = suite.cases[i];
      for (let r = 0; r < repeat; r++)
        yield { id: jobId(suite.name, c.id, model.id, r), suite, case: c, caseIndex: i, model, repeat: r };
    }
  }
}

export function countJobs(suites: readonly Suite[], repeat: number): number {
  return suites.reduce((n, s) => n + s.cases.length, 0) * repeat;
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
): number {
  const modelIds = new Set(models.map((m) => m.id));
  const caseIds = new Map(suites.map((s) => [s.name, new Set(s.cases.map((c) => c.id))]));
  let n = 0;
  for (const [id, r] of previous) {
    if (!done(r.status) || r.repeat >= repeat || !modelIds.has(r.model) || !caseIds.get(r.suite)?.has(r.caseId))
      continue;
    // The id covers all four fields: a record whose fields match but whose id does not is not this plan's.
    if (jobId(r.suite, r.caseId, r.model, r.repeat) === id) n++;
  }
  return n;
}
