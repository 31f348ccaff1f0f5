/**
 * `custom`: a grading function from the user's own module (.js, .mjs, .cjs, .ts, .mts, .cts).
 * The module is loaded once, at suite load, so a typo in a path or a syntax error stops the run
 * before any model is called. What the function returns is checked on every call: a user bug
 * becomes an error grade for that case, never a crash of the run.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Grade } from '../types.js';
import { grade, GraderOptionError } from './grader.js';
import { isRecord } from '../util/record.js';
import { errorGrade, optString, reqString, show, type BuiltinGrader } from './builtin.js';

import { strictContext, type CustomGradeFn } from './custom-context.js';

export type { CustomGradeContext, CustomGradeFn, CustomGradeResult } from './custom-context.js';

const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts']);
const JS_EXTENSIONS = new Set(['.js', '.mjs', '.cjs']);

/** The user's module at suite load; a missing or broken file is an error on `path`, named as `what` (custom grader, transform). */
export async function importModule(file: string, what: string): Promise<Record<string, unknown>> {
  try {
    await access(file);
  } catch {
    throw new GraderOptionError(`${what} file not found: ${file}`, 'path');
  }
  try {
    const url = pathToFileURL(file).href;
    if (TS_EXTENSIONS.has(path.extname(file))) {
      // Loaded lazily: tsx pulls in esbuild, which suites without TypeScript graders never need.
      const { tsImport } = await import('tsx/esm/api');
      return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
    }
    return (await import(url)) as Record<string, unknown>;
  } catch (e) {
    throw new GraderOptionError(`${what} ${file} failed to load: ${(e as Error).message}`, 'path');
  }
}

/**
 * A .ts file that Node treats as CommonJS (no `"type": "module"` nearby) arrives wrapped:
 * `{ default: { default: fn, named: fn } }`. Look through that wrapper too.
 */
function pickExport(mod: Record<string, unknown>, name: string): unknown {
  const direct = mod[name];
  if (typeof direct === 'function') return direct;
  const inner = mod.default;
  if (isRecord(inner) && typeof inner[name] === 'function') return inner[name];
  return direct;
}

/** Turns whatever the user function returned into a Grade, or says why it cannot. */
function toGrade(value: unknown): Grade {
  if (typeof value === 'boolean')
    return grade(value ? 1 : 0, value, value ? 'custom grader passed' : 'custom grader failed');
  if (typeof value === 'number') {
    if (!(value >= 0 && value <= 1)) return errorGrade(`custom grader returned ${value}; a number must be in [0, 1]`);
    return grade(value, value >= 0.5, `custom score ${value}`);
  }
  if (!isRecord(value))
    return errorGrade(
      `custom grader returned ${show(value)}; expected a boolean, a number in [0, 1], or {pass, score?, reason?}`,
    );
  const passed = value.passed ?? value.pass;
  if (typeof passed !== 'boolean')
    return errorGrade(`custom grader result needs a boolean \`pass\` or \`passed\`, got ${show(value)}`);
  const score = value.score ?? (passed ? 1 : 0);
  if (typeof score !== 'number' || !(score >= 0 && score <= 1))
    return errorGrade(`custom grader score must be a number in [0, 1], got ${show(value.score)}`);
  const reason =
    typeof value.reason === 'string' ? value.reason : passed ? 'custom grader passed' : 'custom grader failed';
  const ex = value.extracted;
  const extracted = typeof ex === 'string' ? ex : typeof ex === 'number' ? String(ex) : undefined;
  return grade(score, passed, reason, extracted, isRecord(value.details) ? { details: value.details } : {});
}

export const custom: BuiltinGrader = {
  type: 'custom',
  description: 'A function from your own .js/.mjs/.ts module; other options are passed to it as ctx.options.',
  // Any other key is an option for the user's function, so no list of allowed options.
  async create(options, env) {
    const rel = reqString(options, 'path');
    const exportName = optString(options, 'export') ?? 'default';
    const file = path.resolve(env.suiteDir, rel);
    const ext = path.extname(file);
    if (!TS_EXTENSIONS.has(ext) && !JS_EXTENSIONS.has(ext)) {
      throw new GraderOptionError(
        `custom grader ${file}: unsupported extension ${show(ext)} (use .js, .mjs, .cjs, .ts, .mts or .cts)`,
        'path',
      );
    }
    const mod = await importModule(file, 'custom grader');
    const fn = pickExport(mod, exportName);
    if (typeof fn !== 'function') {
      const names = Object.keys(mod).join(', ') || 'none';
      throw new GraderOptionError(
        `custom grader ${file} has no function export ${show(exportName)} (exports: ${names})`,
        'export',
      );
    }
    const userFn = fn as CustomGradeFn;
    const { path: _p, export: _e, ...rest } = options;
    // Frozen copy: the user function cannot change what later cases see.
    const userOptions: Readonly<Record<string, unknown>> = Object.freeze({ ...rest });

    return async (output, ctx) => {
      try {
        return toGrade(await userFn(output, strictContext({ ...ctx, options: userOptions })));
      } catch (e) {
        return errorGrade(`custom grader ${path.basename(file)} threw: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
  },
};
