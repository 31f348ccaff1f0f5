/**
 * promptfoo tests -> gapbench cases: vars travel under the case's `vars:` (data the template and
 * the graders read, never a case key), array vars expand as promptfoo expands them, and a
 * `transform` (defaultTest, test or assertion) becomes a `transform` grader step before grading.
 */
import { basename } from 'node:path';
import { FileError, UsageError } from '../errors.js';
import type { GraderSpec } from '../types.js';
import { isRecord } from '../util/record.js';
import { containedPath, parseCsvRows, parseLocated, readBounded, type Locate, type ReadRoots } from './files.js';
import { testGrader, type AssertContext, type PfAssert } from './promptfoo-asserts.js';

type Obj = Record<string, unknown>;
export const asList = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export interface TestCtx {
  roots: ReadRoots;
  unsupported: string[];
  /** Generated modules (graders and transforms), by path relative to the suites directory. */
  graders: Map<string, string>;
}

export interface Test {
  where: string;
  description?: string;
  vars: Obj;
  assert: PfAssert[];
  threshold?: unknown;
  transform?: string;
  /** Names one of this test's fields (`tests.csv: tests[2].assert[0]`, `promptfooconfig.yaml:14: tests[1].options.transform`). */
  at: (path: readonly (string | number)[]) => string;
  /** Where the transform was written: this test's options or defaultTest's. */
  transformFrom?: 'test' | 'default';
}

/** Test options that change nothing gapbench grades or sends. */
const HARMLESS_OPTIONS = new Set(['runSerially', 'disableConversationVar']);
const TEST_KEYS = new Set(['description', 'vars', 'assert', 'threshold', 'options']);

/** A `file://` reference, read contained and bounded: its path for messages and its text. */
export function readRef(ref: string, ctx: TestCtx, what: string): { path: string; shown: string; text: string } {
  const path = containedPath(ref, ctx.roots, what);
  const shown = ref.replace(/^file:\/\//, '');
  return { path, shown, text: readBounded(path, shown) };
}

export function loadTests(tests: unknown, defaultOptions: Obj, locate: Locate, ctx: TestCtx): Test[] {
  const list: { t: unknown; where: string; at: Test['at'] }[] = [];
  let n = 0;
  const inline = Array.isArray(tests) ? (i: number) => ['tests', i] : () => ['tests'];
  asList(tests).forEach((t, i) => {
    if (typeof t === 'string' && t.startsWith('file://')) {
      const file = readTestFile(t, ctx);
      file.tests.forEach((x, k) => {
        list.push({ t: x, where: `tests[${n++}]`, at: (p) => file.locate(Array.isArray(file.raw) ? [k, ...p] : p) });
      });
    } else if (typeof t === 'string')
      throw new UsageError(`${locate(inline(i))}: '${t}' is neither a test nor a file:// reference`);
    else list.push({ t, where: `tests[${n++}]`, at: (p) => locate([...inline(i), ...p]) });
  });
  return list.flatMap(({ t, where, at }) => toTests(isRecord(t) ? t : {}, where, at, defaultOptions, ctx));
}

function readTestFile(ref: string, ctx: TestCtx): { tests: unknown[]; raw: unknown; locate: Locate } {
  if (/[*?[{]/.test(ref)) throw new UsageError(`tests: ${ref}: glob patterns are not supported; list the files`);
  const { shown, text } = readRef(ref, ctx, 'tests');
  if (/\.csv$/i.test(shown)) {
    const rows = parseCsvRows(text, shown).map((row) => {
      const vars: Obj = {};
      const assert: PfAssert[] = [];
      for (const [k, v] of Object.entries(row)) {
        if (k.startsWith('__expected')) {
          if (v) assert.push(csvAssert(v));
        } else if (k === '__description') continue;
        else if (k.startsWith('__')) ctx.unsupported.push(`${shown}: column '${k}' is not carried over`);
        else vars[k] = v;
      }
      return { vars, assert, ...(row.__description ? { description: row.__description } : {}) };
    });
    // A CSV row's assertions: the row's line is not known after parsing, the row number is.
    return { tests: rows, raw: rows, locate: (p) => `${shown}: row ${Number(p[0]) + 1}` };
  }
  if (!/\.(ya?ml|json|jsonl)$/i.test(shown))
    throw new UsageError(`tests: ${ref}: only CSV, YAML, JSON and JSONL test files are supported`);
  const { data, locate } = parseLocated(text, shown);
  if (data !== null && typeof data !== 'object') throw new FileError(shown, undefined, 'not a list of tests');
  return { tests: asList(data ?? []), raw: data, locate };
}

/** A CSV `__expected` cell: `type: value` (promptfoo's short form) or a plain value (equals). */
function csvAssert(cell: string): PfAssert {
  if (cell.startsWith('fn:')) return { type: 'javascript', value: cell.slice(3) };
  if (cell.startsWith('grade:')) return { type: 'llm-rubric', value: cell.slice(6).trim() };
  const m = /^(not-)?([a-z-]+):\s?([\s\S]*)$/.exec(cell);
  if (m && m[2] !== 'http' && m[2] !== 'https') return { type: `${m[1] ?? ''}${m[2]}`, value: m[3] };
  return { type: 'equals', value: cell };
}

/** One promptfoo test, expanded over its array vars (promptfoo runs every combination). */
function toTests(t: Obj, name: string, at: Test['at'], defaultOptions: Obj, ctx: TestCtx): Test[] {
  const description = typeof t.description === 'string' ? t.description : undefined;
  const where = `${name}${description ? ` (${description})` : ''}`;
  const vars: Obj = {};
  for (const [k, v] of Object.entries(isRecord(t.vars) ? t.vars : {}))
    vars[k] = typeof v === 'string' && v.startsWith('file://') ? readVar(v, ctx, `${where}: vars.${k}`) : v;
  for (const k of Object.keys(t)) if (!TEST_KEYS.has(k)) ctx.unsupported.push(`${where}: '${k}' is not carried over`);
  const options = { ...defaultOptions, ...(isRecord(t.options) ? t.options : {}) };
  const transform = typeof options.transform === 'string' ? options.transform : options.postprocess;
  for (const k of Object.keys(options))
    if (!['transform', 'postprocess', 'provider', 'disableVarExpansion'].includes(k) && !HARMLESS_OPTIONS.has(k))
      ctx.unsupported.push(`${where}: options.${k} is not carried over`);
  if (isRecord(t.options) && t.options.provider !== undefined)
    ctx.unsupported.push(`${where}: options.provider (this test's grading model) is not carried over`);
  const own = isRecord(t.options) && (t.options.transform ?? t.options.postprocess) !== undefined;
  const base = { where, description, assert: asList(t.assert) as PfAssert[], threshold: t.threshold, at };
  const step =
    typeof transform === 'string' ? { transform, transformFrom: own ? ('test' as const) : ('default' as const) } : {};
  const combos = options.disableVarExpansion ? [vars] : expand(vars);
  return combos.map((v) => ({ ...base, vars: v, ...step }));
}

function readVar(ref: string, ctx: TestCtx, what: string): string {
  const { shown, text } = readRef(ref, ctx, what);
  if (/\.(js|cjs|mjs|ts|py)$/i.test(shown))
    throw new UsageError(`${what}: ${ref}: a var computed by a script is not supported`);
  return text;
}

/** promptfoo's var expansion: a var holding a list of plain values makes one test per value. */
function expand(vars: Obj): Obj[] {
  let out: Obj[] = [{}];
  for (const [k, v] of Object.entries(vars)) {
    const values = Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object') && v.length ? v : [v];
    out = out.flatMap((o) => values.map((x) => ({ ...o, [k]: x })));
  }
  return out;
}

/** A gapbench case from one test for one prompt. */
export function buildCase(
  t: Test,
  i: number,
  defaultVars: Obj,
  defaults: PfAssert[],
  defaultThreshold: unknown,
  actx: AssertContext,
  locate: Locate,
): Obj {
  const vars = { ...defaultVars, ...t.vars };
  const asserts = [...defaults, ...t.assert].map((a) => renderAssert(a, vars));
  // Where each assertion was written, for a message about its JavaScript.
  const places = asserts.map((_, k) =>
    k < defaults.length ? locate(['defaultTest', 'assert', k]) : t.at(['assert', k - defaults.length]),
  );
  let grader: GraderSpec = testGrader(asserts, t.threshold ?? defaultThreshold, actx, places);
  if (t.transform !== undefined) {
    const at =
      t.transformFrom === 'test' ? t.at(['options', 'transform']) : locate(['defaultTest', 'options', 'transform']);
    grader = transformStep(t.transform, grader, actx, at);
  }
  return {
    id: `t${i + 1}`,
    ...(t.description ? { description: t.description } : {}),
    ...(Object.keys(vars).length ? { vars } : {}),
    grader,
  };
}

/** promptfoo renders `{{var}}` in assertion values with the test's vars. */
function renderAssert(a: PfAssert, vars: Obj): PfAssert {
  if (typeof a.value !== 'string' || !a.value.includes('{{')) return a;
  const value = a.value.replace(/\{\{\s*([A-Za-z_][\w.]*)\s*\}\}/g, (m, k: string) =>
    vars[k] === undefined ? m : typeof vars[k] === 'string' ? (vars[k] as string) : JSON.stringify(vars[k]),
  );
  return { ...a, value };
}

/**
 * A `transform` grader around `inner`: promptfoo's transform code (an expression, or a function
 * body when it spans lines) or a `file://module[:function]`, called as promptfoo calls it,
 * `(output, context)` with `context.vars` and `context.prompt`.
 */
export function transformStep(code: string, inner: GraderSpec, actx: AssertContext, what: string): GraderSpec {
  let call: string;
  let head = '';
  if (code.startsWith('file://')) {
    const [file, fn] = code.slice(7).split(':');
    if (!/\.(js|cjs|mjs)$/i.test(file)) {
      actx.unsupported.push(`${what}: ${basename(file)}: only JavaScript transforms are carried over (not graded)`);
      return inner;
    }
    head = `import * as mod from ${JSON.stringify(actx.relPath(file))};\n`;
    const name = JSON.stringify(fn ?? 'default');
    call = `(mod[${name}] ?? mod.default?.[${name}] ?? mod.default)(output, context)`;
  } else {
    const body = code.trimEnd().includes('\n') ? code : `return ${code.trim()}`;
    actx.checkJs(body, what);
    call = `(async (output, context) => {\n${body}\n})(output, context)`;
  }
  const path = actx.writeJs(`${head}// Generated by gapbench import promptfoo from a \`transform\`.
export default async function (output, ctx) {
  const context = { vars: ctx.case.vars, prompt: ctx.case.prompt };
  const r = await ${call};
  if (r === null || r === undefined) throw new Error('the transform returned no value');
  return r;
}
`);
  return { type: 'transform', path, grader: inner };
}
