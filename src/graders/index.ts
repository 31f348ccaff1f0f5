/**
 * The grader registry: builds a grading function from a suite's grader spec.
 *
 * Everything every grader needs is done here, once: spec parsing, unknown-type and
 * unknown-option checks with the full option path, `not` negation, and turning a throw into an
 * error grade. A grader file only reads its own options and grades.
 */
import type { Grade } from '../types.js';
import {
  grade,
  GraderOptionError,
  type GradeContext,
  type GradeFn,
  type GraderDefinition,
  type GraderEnv,
} from './grader.js';
import { isRecord } from '../util/record.js';
import { errorGrade, show, type BuiltinGrader } from './builtin.js';
import { exact } from './exact.js';
import { contains } from './contains.js';
import { regex } from './regex.js';
import { numeric } from './numeric.js';
import { choice } from './choice.js';
import { json } from './json.js';
import { similarity } from './similarity.js';
import { length } from './length.js';
import { latency } from './latency.js';
import { cost } from './cost.js';
import { custom } from './custom.js';
import { judge } from './judge.js';
import { all, any, weighted } from './combinators.js';
import { transform } from './transform.js';

export type { BuiltinGrader } from './builtin.js';
export type { CustomGradeContext, CustomGradeFn, CustomGradeResult } from './custom.js';

const builtins = {
  exact,
  contains,
  regex,
  numeric,
  choice,
  json,
  similarity,
  length,
  latency,
  cost,
  custom,
  judge,
  all,
  any,
  weighted,
  transform,
} satisfies Record<string, BuiltinGrader>;

const registry = new Map<string, BuiltinGrader>();
for (const [key, def] of Object.entries(builtins)) {
  // A table key that differs from the definition's own type would make `type: x` build `y`.
  if (key !== def.type) throw new Error(`grader registry: key '${key}' holds grader '${def.type}'`);
  registry.set(key, def);
}

/**
 * Adds a grader kind for library users. A definition may list its allowed `options`;
 * without the list, any option key is passed through to `create`.
 */
export function registerGrader(def: GraderDefinition & { options?: readonly string[] }): void {
  if (typeof def?.type !== 'string' || def.type === '' || typeof def.create !== 'function') {
    throw new Error('registerGrader: a grader needs a non-empty `type` and a `create` function');
  }
  if (registry.has(def.type)) throw new Error(`registerGrader: grader '${def.type}' is already registered`);
  registry.set(def.type, def);
}

/**
 * The models a grader spec asks, as its grader kinds declare them (a judge names its model),
 * nested specs (combinators) included.
 */
export function modelsAsked(spec: unknown): string[] {
  if (Array.isArray(spec)) return spec.flatMap(modelsAsked);
  if (!isRecord(spec)) return [];
  const def = typeof spec.type === 'string' ? registry.get(spec.type) : undefined;
  return [...(def?.models?.(spec) ?? []), ...Object.values(spec).flatMap(modelsAsked)];
}

export function listGraders(): Array<{ type: string; description: string }> {
  return [...registry.values()].map((d) => ({ type: d.type, description: d.description }));
}

interface BuildGraderOptions {
  /** Directory of the suite file: relative paths in options (custom modules, schemas) resolve against it. */
  suiteDir: string;
  /** Where the spec sits in the suite, for error messages, e.g. `cases[3].grader`. */
  path?: string;
}

function joinPath(base: string | undefined, rel: string | undefined): string | undefined {
  if (!base) return rel || undefined;
  if (!rel) return base;
  return rel.startsWith('[') ? `${base}${rel}` : `${base}.${rel}`;
}

/** Errors that already carry their full path (thrown by a nested build), so they are not prefixed twice. */
const located = new WeakSet<Error>();

function optionError(message: string, where: string | undefined): GraderOptionError {
  const err = new GraderOptionError(where ? `${where}: ${message}` : message, where);
  located.add(err);
  return err;
}

interface ParsedSpec {
  type: string;
  options: Record<string, unknown>;
  not: boolean;
}

function parseSpec(spec: unknown, base: string | undefined): ParsedSpec {
  if (typeof spec === 'string' && spec !== '') return { type: spec, options: {}, not: false };
  if (!isRecord(spec) || typeof spec.type !== 'string' || spec.type === '') {
    throw optionError(`a grader must be a name or an object with a \`type\`, got ${show(spec)}`, base);
  }
  const { type, not, ...options } = spec;
  if (not !== undefined && typeof not !== 'boolean')
    throw optionError(`\`not\` must be true or false, got ${show(not)}`, joinPath(base, 'not'));
  return { type, options, not: not === true };
}

/** Flips a verdict. An error grade stays an error: "could not grade" must not turn into a pass. */
function negate(g: Grade): Grade {
  if (g.error) return { ...g, passed: false };
  return { ...g, score: 1 - g.score, passed: !g.passed, reason: `NOT: ${g.reason}` };
}

function isGrade(value: unknown): value is Grade {
  return (
    isRecord(value) &&
    typeof value.score === 'number' &&
    typeof value.passed === 'boolean' &&
    typeof value.reason === 'string'
  );
}

/** Runs a grading function; a throw or a malformed result becomes an error grade instead of a crash. */
export async function gradeSafely(fn: GradeFn, output: string, ctx: GradeContext): Promise<Grade> {
  try {
    const g: unknown = await fn(output, ctx);
    if (!isGrade(g)) return errorGrade(`grader returned ${show(g)}, not a grade`);
    const { score, passed, reason, extracted, ...extra } = g;
    // Re-made through grade() so a third-party grader cannot report a score outside [0, 1].
    return grade(score, g.error ? false : passed, reason, extracted, extra);
  } catch (e) {
    return errorGrade(`grader threw: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Builds a grading function from a spec: a name (`'exact'`) or `{type, ...options, not?}`.
 * Throws GraderOptionError (with the option's path) for anything wrong in the spec. The returned
 * function never throws: failures become error grades.
 */
export async function buildGrader(spec: unknown, { suiteDir, path: base }: BuildGraderOptions): Promise<GradeFn> {
  const { type, options, not } = parseSpec(spec, base);
  const def = registry.get(type);
  if (!def)
    throw optionError(`unknown grader '${type}' (known: ${[...registry.keys()].join(', ')})`, joinPath(base, 'type'));
  if (def.options) {
    for (const key of Object.keys(options)) {
      if (!def.options.includes(key)) {
        const allowed = def.options.length ? def.options.join(', ') : 'none';
        throw optionError(
          `unknown option '${key}' for grader '${type}' (allowed: ${allowed}, not)`,
          joinPath(base, key),
        );
      }
    }
  }
  const env: GraderEnv = {
    suiteDir,
    build: (child, rel) => buildGrader(child, { suiteDir, path: joinPath(base, rel) }),
  };
  let fn: GradeFn;
  try {
    fn = await def.create(options, env);
  } catch (e) {
    if (e instanceof Error && located.has(e)) throw e;
    if (e instanceof GraderOptionError) throw optionError(e.message, joinPath(base, e.path));
    throw optionError(`grader '${type}' could not be created: ${e instanceof Error ? e.message : String(e)}`, base);
  }
  if (!not) return (output, ctx) => gradeSafely(fn, output, ctx);
  return async (output, ctx) => negate(await gradeSafely(fn, output, ctx));
}

function renderValue(value: unknown): string {
  const text =
    typeof value === 'string'
      ? value
      : Array.isArray(value)
        ? `[${value.map(renderValue).join(', ')}]`
        : (JSON.stringify(value) ?? String(value));
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 60 ? `${oneLine.slice(0, 59)}…` : oneLine;
}

/**
 * A short, stable label for a spec, for the `grader` CSV column: `regex(pattern=^\d+$)`,
 * `not contains(value=sorry)`, `weighted(0.7*exact, 0.3*length(max=50, unit=words))`.
 * Options appear sorted by name, so the same spec always gives the same label.
 */
export function describeGrader(spec: unknown): string {
  if (typeof spec === 'string') return spec;
  if (!isRecord(spec) || typeof spec.type !== 'string') return renderValue(spec);
  const { type, not, graders, ...rest } = spec;
  const parts: string[] = [];
  if (Array.isArray(graders)) {
    for (const child of graders) {
      if (isRecord(child) && typeof child.weight === 'number') {
        const { weight, ...inner } = child;
        parts.push(`${weight}*${describeGrader(inner)}`);
      } else parts.push(describeGrader(child));
    }
  } else if (graders !== undefined) rest.graders = graders;
  for (const key of Object.keys(rest).sort()) parts.push(`${key}=${renderValue(rest[key])}`);
  const body = parts.length > 0 ? `${type}(${parts.join(', ')})` : type;
  return not === true ? `not ${body}` : body;
}
