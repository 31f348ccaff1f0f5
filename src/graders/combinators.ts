/**
 * Combinators: `all`, `any` and `weighted` grade with several child graders at once
 * ("valid JSON *and* under 100 words"). Children are built through env.build, so they get the
 * same checks, `not` handling and error paths as top-level graders.
 *
 * A child that could not grade makes the parent unable to grade too: an `any` that passes only
 * because its broken sibling was ignored would hide the breakage.
 */
import type { Grade } from '../types.js';
import { grade, GraderOptionError, type GradeContext, type GradeFn, type GraderEnv } from './grader.js';
import { isRecord } from '../util/record.js';
import { errorGrade, optNumber, type BuiltinGrader } from './builtin.js';

function readChildren(options: Record<string, unknown>): unknown[] {
  const g = options.graders;
  if (!Array.isArray(g) || g.length === 0)
    throw new GraderOptionError('`graders` must be a non-empty list of graders', 'graders');
  return g;
}

async function buildAll(specs: unknown[], env: GraderEnv): Promise<GradeFn[]> {
  return Promise.all(specs.map((spec, i) => env.build(spec, `graders[${i}]`)));
}

async function runAll(children: GradeFn[], output: string, ctx: GradeContext): Promise<Grade[]> {
  // In parallel: children may be judges, each waiting on a model.
  return Promise.all(children.map(async (child) => child(output, ctx)));
}

function combine(grades: Grade[], score: number, passed: boolean): Grade {
  const reason = grades.map((g, i) => `[${i + 1}] ${g.passed ? 'pass' : 'fail'}: ${g.reason}`).join('; ');
  const extracted = grades.find((g) => g.extracted !== undefined)?.extracted;
  const details = { children: grades };
  if (grades.some((g) => g.error)) return errorGrade(`a child grader could not grade: ${reason}`, details);
  return grade(score, passed, reason, extracted, { details });
}

export const all: BuiltinGrader = {
  type: 'all',
  description:
    'Every child grader must pass; score is the mean of child scores (`score: mean`, the default) or the lowest (`score: min`).',
  options: ['graders', 'score'],
  async create(options, env) {
    const how = options.score ?? 'mean';
    if (how !== 'mean' && how !== 'min')
      throw new GraderOptionError(`\`score\` must be 'mean' or 'min', got ${JSON.stringify(how)}`, 'score');
    const children = await buildAll(readChildren(options), env);
    return async (output, ctx) => {
      const grades = await runAll(children, output, ctx);
      const scores = grades.map((g) => g.score);
      // min: the case scores 0 unless every child passes fully, so the suite's mean score is the pass rate
      // of all-or-nothing tests (promptfoo's view); mean gives partial credit.
      const score = how === 'min' ? Math.min(...scores) : scores.reduce((s, x) => s + x, 0) / scores.length;
      return combine(
        grades,
        score,
        grades.every((g) => g.passed),
      );
    };
  },
};

export const any: BuiltinGrader = {
  type: 'any',
  description: 'At least one child grader must pass; score is the best child score.',
  options: ['graders'],
  async create(options, env) {
    const children = await buildAll(readChildren(options), env);
    return async (output, ctx) => {
      const grades = await runAll(children, output, ctx);
      return combine(
        grades,
        Math.max(...grades.map((g) => g.score)),
        grades.some((g) => g.passed),
      );
    };
  },
};

export const weighted: BuiltinGrader = {
  type: 'weighted',
  description: 'Weighted sum of child scores (weights sum to 1); passes at or above a threshold.',
  options: ['graders', 'threshold'],
  async create(options, env) {
    const specs = readChildren(options);
    const threshold = optNumber(options, 'threshold', { min: 0, max: 1 }) ?? 0.5;
    const weights: number[] = [];
    const childSpecs = specs.map((spec, i) => {
      const w = isRecord(spec) ? spec.weight : undefined;
      if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
        throw new GraderOptionError(
          `\`graders[${i}].weight\` must be a number >= 0, got ${JSON.stringify(w)}`,
          `graders[${i}].weight`,
        );
      }
      weights.push(w);
      const { weight: _w, ...child } = spec as Record<string, unknown>;
      return child;
    });
    const total = weights.reduce((a, b) => a + b, 0);
    if (Math.abs(total - 1) > 1e-6)
      throw new GraderOptionError(`weights must sum to 1, they sum to ${total}`, 'graders');
    const children = await buildAll(childSpecs, env);
    return async (output, ctx) => {
      const grades = await runAll(children, output, ctx);
      const score = grades.reduce((s, g, i) => s + weights[i] * g.score, 0);
      return combine(grades, score, score >= threshold);
    };
  },
};
