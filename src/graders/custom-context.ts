/**
 * The context a custom grader receives, made strict: reading a property it does not have throws
 * at once, naming where the value really is. A guessed `ctx.expected` otherwise reads
 * `undefined` on every case and yields a confident, wrong score with no warning; thrown here, it
 * becomes an error grade of each case (kind `grader`, left out of scores, counted and printed).
 */
import type { Case } from '../types.js';
import type { GradeContext } from './grader.js';

/** What a custom grading function sees: the usual context plus the grader's remaining options. */
export type CustomGradeContext = GradeContext & { options: Readonly<Record<string, unknown>> };

/** What a custom grading function may return (checked on every call: anything else is an error grade). */
export type CustomGradeResult =
  | boolean
  | number
  | {
      /** `pass` (promptfoo's name) or `passed`. */
      pass?: boolean;
      passed?: boolean;
      /** In [0, 1]; default 1 when passed, else 0. */
      score?: number;
      reason?: string;
      /** What the grader read from the output: shown in results.csv beside the output. */
      extracted?: string | number;
      details?: Record<string, unknown>;
    };

export type CustomGradeFn = (output: string, ctx: CustomGradeContext) => CustomGradeResult | Promise<CustomGradeResult>;

// Every property of each object, optional ones included: the compiler fails here when a type
// gains one, so a new field is never refused as unknown.
const CONTEXT_KEYS: Record<keyof CustomGradeContext, true> = {
  case: true,
  completion: true,
  ask: true,
  value: true,
  options: true,
};
const CASE_KEYS: Record<keyof Case, true> = {
  id: true,
  prompt: true,
  system: true,
  messages: true,
  expected: true,
  category: true,
  description: true,
  grader: true,
  vars: true,
  examples: true,
  check: true,
};
const COMPLETION_KEYS: Record<keyof NonNullable<GradeContext['completion']>, true> = {
  latencyMs: true,
  inputTokens: true,
  outputTokens: true,
  costUsd: true,
};

/** Read by the language and by tools without the code meaning a field: `await`, JSON.stringify, test matchers. */
const PROBES = new Set(['then', 'toJSON', 'asymmetricMatch', '$$typeof', 'nodeType', '@@__IMMUTABLE_ITERABLE__@@']);

/** Thrown by a read of a property the context does not have. */
class UnknownContextProperty extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownContextProperty';
  }
}

function strict<T extends object>(target: T, known: Record<string, true>, explain: (prop: string) => string): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      if (typeof prop === 'string' && !(prop in known) && !(prop in t) && !PROBES.has(prop))
        throw new UnknownContextProperty(explain(prop));
      return Reflect.get(t, prop, receiver) as unknown;
    },
  });
}

const list = (keys: Record<string, true>) => Object.keys(keys).join(', ');

/** The context a custom grader is called with: `ctx`, `ctx.case` and `ctx.completion` are strict. */
export function strictContext(ctx: CustomGradeContext): CustomGradeContext {
  const c = strict(ctx.case, CASE_KEYS, (p) =>
    p in ctx.case.vars
      ? `ctx.case.${p} is not a case property; the case's field '${p}' is ctx.case.vars.${p}`
      : `ctx.case.${p} is not a case property (a case has ${list(CASE_KEYS)}; the suite's own fields are in ctx.case.vars)`,
  );
  const completion = ctx.completion
    ? strict(
        ctx.completion,
        COMPLETION_KEYS,
        (p) => `ctx.completion.${p} is not known (it has ${list(COMPLETION_KEYS)})`,
      )
    : undefined;
  return strict({ ...ctx, case: c, completion }, CONTEXT_KEYS, (p) =>
    p in CASE_KEYS
      ? `ctx.${p} is not in the grader context; the case's ${p} is ctx.case.${p}`
      : `ctx.${p} is not in the grader context (it has ${list(CONTEXT_KEYS)}; the case's fields are in ctx.case.vars, the grader's options in ctx.options)`,
  );
}
