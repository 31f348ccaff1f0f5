/**
 * `transform`: a JavaScript step before grading (promptfoo's `options.transform`). A function from
 * the user's module turns the output into what the inner `grader` grades: text is graded as it is,
 * any other value as its JSON (and the value itself is `ctx.value`, for custom graders).
 * The function gets `(value, ctx)`, where value is the previous transform's value or the output.
 * A function that throws fails the case with the reason (promptfoo fails such a test too).
 */
import path from 'node:path';
import { grade, GraderOptionError } from './grader.js';
import { optString, reqString, show, type BuiltinGrader } from './builtin.js';
import { importModule } from './custom.js';

type TransformFn = (value: unknown, ctx: unknown) => unknown;

export const transform: BuiltinGrader = {
  type: 'transform',
  description:
    'Runs a function from your module (`path`, `export`) on the output, then grades its result with `grader`.',
  options: ['path', 'export', 'grader'],
  async create(options, env) {
    const file = path.resolve(env.suiteDir, reqString(options, 'path'));
    const exportName = optString(options, 'export') ?? 'default';
    if (options.grader === undefined)
      throw new GraderOptionError('`grader` is required (what grades the result)', 'grader');
    const mod = await importModule(file, 'transform');
    const fn = mod[exportName];
    if (typeof fn !== 'function')
      throw new GraderOptionError(`transform ${file} has no function export ${show(exportName)}`, 'export');
    const inner = await env.build(options.grader, 'grader');
    return async (output, ctx) => {
      let value: unknown;
      try {
        value = await (fn as TransformFn)(ctx.value !== undefined ? ctx.value : output, ctx);
      } catch (e) {
        return grade(0, false, `the transform threw: ${e instanceof Error ? e.message : String(e)}`);
      }
      const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
      return inner(text, { ...ctx, value: typeof value === 'string' ? undefined : value });
    };
  },
};
