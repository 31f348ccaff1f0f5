/**
 * What the built-in graders share: the definition shape with its option list, strict option
 * readers, and the error grade. Internal to src/graders/.
 *
 * Option readers throw `GraderOptionError(message, optionName)`; the registry turns the option
 * name into a full path (`cases[3].grader.pattern`), so graders never need to know where they sit.
 */
import type { Case, Grade } from '../types.js';
import { grade, GraderOptionError, type GraderDefinition } from './grader.js';

/** A built-in grader: it also lists the option names it accepts, so typos fail at suite load. */
export interface BuiltinGrader extends GraderDefinition {
  options?: readonly string[];
}

/** A grade for "could not grade": counted as a failure, never as a pass. */
export function errorGrade(reason: string, details?: Record<string, unknown>): Grade {
  return grade(0, false, reason, undefined, { error: true, ...(details === undefined ? {} : { details }) });
}

function fail(option: string, message: string): never {
  throw new GraderOptionError(message, option);
}

/** Short, single-line rendering of a value for error messages. */
export function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function optString(options: Record<string, unknown>, name: string): string | undefined {
  const v = options[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') fail(name, `\`${name}\` must be a non-empty string, got ${show(v)}`);
  return v;
}

export function reqString(options: Record<string, unknown>, name: string): string {
  const v = optString(options, name);
  if (v === undefined) fail(name, `\`${name}\` is required`);
  return v;
}

export function optBool(options: Record<string, unknown>, name: string, fallback: boolean): boolean {
  const v = options[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') fail(name, `\`${name}\` must be true or false, got ${show(v)}`);
  return v;
}

interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
  /** Exclusive lower bound (for "must be positive"). */
  above?: number;
}

export function optNumber(options: Record<string, unknown>, name: string, rule: NumberRule = {}): number | undefined {
  const v = options[name];
  if (v === undefined) return undefined;
  const bad = (want: string): never => fail(name, `\`${name}\` must be ${want}, got ${show(v)}`);
  if (typeof v !== 'number' || !Number.isFinite(v)) bad('a number');
  const n = v as number;
  if (rule.integer && !Number.isInteger(n)) bad('an integer');
  if (rule.above !== undefined && !(n > rule.above)) bad(`greater than ${rule.above}`);
  if (rule.min !== undefined && n < rule.min) bad(`at least ${rule.min}`);
  if (rule.max !== undefined && n > rule.max) bad(`at most ${rule.max}`);
  return n;
}

export function optEnum<T extends string>(
  options: Record<string, unknown>,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const v = options[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    fail(name, `\`${name}\` must be one of ${allowed.join(', ')}, got ${show(v)}`);
  }
  return v as T;
}

/** A string, or a non-empty list of strings (numbers are accepted and turned into text). */
export function optStringList(options: Record<string, unknown>, name: string): string[] | undefined {
  const v = options[name];
  if (v === undefined) return undefined;
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) fail(name, `\`${name}\` must not be an empty list`);
  return list.map((item) => {
    if (typeof item === 'number' && Number.isFinite(item)) return String(item);
    if (typeof item !== 'string' || item === '')
      fail(name, `\`${name}\` must be a string or a list of strings, got ${show(v)}`);
    return item;
  });
}

/**
 * The reference text(s) for a case: the grader's own value, else `case.expected`.
 * Returns a reason string when there is nothing usable, so the caller can give an error grade.
 */
export function referenceTexts(own: string[] | undefined, testCase: Case): string[] | string {
  if (own !== undefined) return own;
  const e = testCase.expected;
  const list = Array.isArray(e) ? e : [e];
  if (e === undefined || e === null || list.length === 0)
    return `case ${testCase.id} has no expected value and the grader has no \`value\``;
  const out: string[] = [];
  for (const item of list) {
    if (typeof item === 'string') out.push(item);
    else if (typeof item === 'number' || typeof item === 'boolean') out.push(String(item));
    else return `case ${testCase.id}: expected must be text or a list of texts, got ${show(e)}`;
  }
  return out;
}
