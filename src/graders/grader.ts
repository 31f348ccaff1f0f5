import type { Case, ChatMessage, Completion, Grade } from '../types.js';

/** What a grader may know besides the output. */
export interface GradeContext {
  case: Case;
  /** Measured facts about the completion, for `latency` and `cost` graders. */
  completion?: { latencyMs: number; inputTokens?: number; outputTokens?: number; costUsd?: number };
  /**
   * Asks another model from the config (by id or `provider:model`) through that model's lane
   * (its concurrency, rate budget, retries, cache). Present when the runner can call models.
   */
  ask?: (modelRef: string, messages: ChatMessage[]) => Promise<Completion>;
  /**
   * What a `transform` grader made of the output when it is not text (an object, a number): the
   * graders inside it get its JSON as `output` and the value itself here.
   */
  value?: unknown;
}

export type GradeFn = (output: string, ctx: GradeContext) => Grade | Promise<Grade>;

/** Everything needed to build graders from a spec; passed to `create`. */
export interface GraderEnv {
  /** Directory of the suite file, for resolving relative paths (custom graders, schemas). */
  suiteDir: string;
  /** Builds a nested grader (combinators). */
  build: (spec: unknown, path: string) => Promise<GradeFn>;
}

/**
 * A grader kind. `create` validates the options once, at suite load, and throws
 * `GraderOptionError` naming the bad option; the returned function grades one output.
 */
export interface GraderDefinition {
  type: string;
  description: string;
  create(options: Record<string, unknown>, env: GraderEnv): GradeFn | Promise<GradeFn>;
  /** The configured models a grader with these options asks (a judge names one): checked before a run. */
  models?(options: Record<string, unknown>): string[];
}

/** Bad grader options in a suite. `path` locates the option (e.g. `cases[3].grader.pattern`). */
export class GraderOptionError extends Error {
  constructor(
    message: string,
    readonly path?: string,
  ) {
    super(message);
    this.name = 'GraderOptionError';
  }
}

/** Shorthand for building a Grade. Scores are clamped to [0, 1]. */
export function grade(
  score: number,
  passed: boolean,
  reason: string,
  extracted?: string,
  extra?: Partial<Grade>,
): Grade {
  const s = Number.isFinite(score) ? Math.min(1, Math.max(0, score)) : 0;
  return { score: s, passed, reason, ...(extracted === undefined ? {} : { extracted }), ...extra };
}
