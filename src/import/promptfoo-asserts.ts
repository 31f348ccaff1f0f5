/**
 * promptfoo assertions -> gapbench grader specs, with promptfoo's scoring: a test passes when every
 * assertion passes; with a test `threshold`, when the weighted mean of assertion scores reaches it
 * (promptfoo docs, "Assertions and metrics": weight defaults to 1; `not-` inverts any assertion).
 */
import { parse as parseYaml } from 'yaml';
import type { GraderSpec } from '../types.js';
import { isRecord } from '../util/record.js';

export interface PfAssert {
  type?: unknown;
  value?: unknown;
  threshold?: unknown;
  weight?: unknown;
  provider?: unknown;
  transform?: unknown;
  [key: string]: unknown;
}

export interface AssertContext {
  /** "test 3 (description)", for what could not be carried over. */
  where: string;
  /** Where the assertion being converted was written (`promptfooconfig.yaml:12: tests[0].assert[1]`). */
  here?: string;
  /** Judge model for llm-rubric / model-graded-closedqa (a config model id). */
  judge?: string;
  /** Where an inline JavaScript assertion is written: returns the grader path (relative to the suite). */
  writeJs(code: string): string;
  /** A `file://` module (relative to the promptfoo config) as an import specifier from the generated grader. */
  relPath(file: string): string;
  /** Throws a one-line UsageError naming `what` when a function body does not parse. */
  checkJs(body: string, what: string): void;
  /** A transform step around a grader (promptfoo's assertion-level `transform`). */
  transform(code: string, inner: GraderSpec, what: string): GraderSpec;
  unsupported: string[];
}

const ASSERT_KEYS = new Set(['type', 'value', 'threshold', 'weight', 'transform']);

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

type Converter = (a: PfAssert, ctx: AssertContext) => GraderSpec | string;

/** Each returns a spec, or a string saying why it cannot be carried. */
const CONVERTERS: Record<string, Converter> = {
  // promptfoo `equals`: the output is exactly the value; gapbench's exact normalises, so anchor a regex.
  equals: (a) =>
    typeof a.value === 'string'
      ? { type: 'regex', pattern: `^${escapeRe(a.value)}$` }
      : typeof a.value === 'number' || typeof a.value === 'boolean'
        ? { type: 'regex', pattern: `^${escapeRe(String(a.value))}$` }
        : 'equals with an object or list value is not carried over yet',
  contains: (a) => ({ type: 'contains', value: text(a.value) }),
  icontains: (a) => ({ type: 'contains', value: text(a.value), ignore_case: true }),
  'contains-any': (a) => ({ type: 'contains', value: list(a.value), mode: 'any' }),
  'contains-all': (a) => ({ type: 'contains', value: list(a.value), mode: 'all' }),
  'icontains-any': (a) => ({ type: 'contains', value: list(a.value), mode: 'any', ignore_case: true }),
  'icontains-all': (a) => ({ type: 'contains', value: list(a.value), mode: 'all', ignore_case: true }),
  'starts-with': (a) => ({ type: 'regex', pattern: `^${escapeRe(text(a.value))}` }),
  regex: (a) => ({ type: 'regex', pattern: text(a.value) }),
  // promptfoo `is-json`: the whole output parses as JSON (gapbench's json grader also accepts embedded JSON).
  'is-json': (a, ctx) =>
    a.value === undefined
      ? { type: 'custom', path: ctx.writeJs(jsWrapper(IS_JSON, undefined, ctx)) }
      : isSchema(a.value)
        ? {
            type: 'all',
            score: 'min',
            graders: [
              { type: 'custom', path: ctx.writeJs(jsWrapper(IS_JSON, undefined, ctx)) },
              { type: 'json', schema: schemaOf(a.value) },
            ],
          }
        : 'is-json with a schema that is not an inline object is not carried over',
  'contains-json': (a) =>
    a.value === undefined ? { type: 'json' } : 'contains-json with a schema is not carried over yet',
  javascript: (a, ctx) => ({ type: 'custom', path: ctx.writeJs(jsWrapper(text(a.value), a.threshold, ctx)) }),
  'llm-rubric': (a, ctx) =>
    ctx.judge ? { type: 'judge', judge: ctx.judge, rubric: text(a.value) } : 'llm-rubric needs a judge model',
  'model-graded-closedqa': (a, ctx) =>
    ctx.judge
      ? { type: 'judge', judge: ctx.judge, rubric: `The answer meets this criterion: ${text(a.value)}` }
      : 'model-graded-closedqa needs a judge model',
  latency: (a) =>
    typeof a.threshold === 'number' ? { type: 'latency', max_ms: a.threshold } : 'latency needs threshold',
  cost: (a) => (typeof a.threshold === 'number' ? { type: 'cost', max_usd: a.threshold } : 'cost needs threshold'),
  levenshtein: (a) =>
    // promptfoo: passes when the edit distance is at most threshold (default 5); gapbench's is a normalised similarity.
    'levenshtein (an absolute edit distance) has no gapbench equivalent',
  similar: () => 'similar (embedding similarity) has no gapbench equivalent',
};

/**
 * A gapbench custom grader running a promptfoo `javascript` assertion: inline code (an expression,
 * or a function body when it has `return` or several lines) or a `file://path[:function]` module,
 * called with promptfoo's `(output, context)` where `context.vars` holds the test's vars.
 * A boolean is the verdict; a number is the score and passes at `threshold` (else above 0);
 * `{pass, score, reason}` is taken as it is.
 */
function jsWrapper(code: string, threshold: unknown, ctx: AssertContext): string {
  const limit = typeof threshold === 'number' ? threshold : undefined;
  let call: string;
  let head = '';
  if (code.startsWith('file://')) {
    const [file, fn] = code.slice(7).split(':');
    head = `import * as mod from ${JSON.stringify(ctx.relPath(file))};\n`;
    call = `(mod[${JSON.stringify(fn ?? 'default')}] ?? mod.default?.[${JSON.stringify(fn ?? 'default')}] ?? mod.default)(output, context)`;
  } else {
    const body = jsBody(code);
    ctx.checkJs(body, `${ctx.here ?? ctx.where}.value`);
    call = `(async (output, context) => {\n${body}\n})(output, context)`;
  }
  // A transform before this grader may have made the output an object: promptfoo passes that object.
  return `${head}// Generated by gapbench import promptfoo from a \`javascript\` assertion.
export default async function (text, ctx) {
  const output = ctx.value !== undefined ? ctx.value : text;
  const context = { vars: ctx.case.vars, prompt: ctx.case.prompt };
  let r;
  try {
    r = await ${call};
  } catch (e) {
    return { passed: false, score: 0, reason: 'the assertion threw: ' + (e && e.message) };
  }
  if (typeof r === 'boolean') return { passed: r, score: r ? 1 : 0 };
  if (typeof r === 'number') return { passed: r ${limit === undefined ? '> 0' : `>= ${limit}`}, score: Math.max(0, Math.min(1, r)) };
  if (r && typeof r === 'object' && 'pass' in r) return { passed: !!r.pass, score: typeof r.score === 'number' ? Math.max(0, Math.min(1, r.score)) : r.pass ? 1 : 0, reason: r.reason };
  return { passed: false, score: 0, reason: 'the assertion returned ' + JSON.stringify(r) + ', not a boolean, number or {pass}' };
}
`;
}

/**
 * promptfoo's rule for inline JavaScript: several lines are a function body; one line is an
 * expression (after `const x = ...;` statements, the last part is returned).
 */
function jsBody(code: string): string {
  const value = code.trimEnd();
  if (value.includes('\n')) return value;
  const trimmed = value.trim().replace(/;+\s*$/, '');
  if (/^(const|let|var)\s/.test(trimmed)) {
    const last = trimmed.lastIndexOf(';');
    if (last !== -1 && trimmed.slice(last + 1).trim())
      return `${trimmed.slice(0, last + 1)} return ${trimmed.slice(last + 1).trim()}`;
    return trimmed;
  }
  return `return ${trimmed}`;
}

/** An inline JSON Schema: an object, or YAML/JSON text of one (promptfoo accepts both). */
function schemaOf(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return parseYaml(v) as unknown;
  } catch {
    return undefined;
  }
}
const isSchema = (v: unknown) => isRecord(schemaOf(v));

const IS_JSON = 'try {\n  JSON.parse(text);\n  return true;\n} catch {\n  return false;\n}';

function list(v: unknown): string[] {
  return Array.isArray(v) ? v.map(text) : typeof v === 'string' ? v.split(',').map((s) => s.trim()) : [text(v)];
}

/** One assertion; undefined (and a line in `unsupported`) when it cannot be carried. */
function convertAssert(a: PfAssert, ctx: AssertContext): GraderSpec | undefined {
  const raw = typeof a.type === 'string' ? a.type : '';
  const negated = raw.startsWith('not-');
  const type = negated ? raw.slice(4) : raw;
  const conv = CONVERTERS[type];
  const result = conv ? conv(a, ctx) : `assertion type '${raw || String(a.type)}' is not supported`;
  if (typeof result === 'string') {
    ctx.unsupported.push(`${ctx.where}: ${result}`);
    return undefined;
  }
  for (const k of Object.keys(a))
    if (!ASSERT_KEYS.has(k)) ctx.unsupported.push(`${ctx.where}: ${raw}: '${k}' is not carried over`);
  const spec = negated ? { ...result, not: true } : result;
  return typeof a.transform === 'string'
    ? ctx.transform(a.transform, spec, ctx.here ? `${ctx.here}.transform` : `${ctx.where}: ${raw}: transform`)
    : spec;
}

/** A test's grader from its assertions (defaultTest's first), scored as promptfoo scores a test. */
export function testGrader(
  asserts: PfAssert[],
  threshold: unknown,
  ctx: AssertContext,
  places: readonly string[] = [],
): GraderSpec {
  const specs: GraderSpec[] = [];
  const weights: number[] = [];
  for (const [k, a] of asserts.entries()) {
    const spec = convertAssert(a, { ...ctx, here: places[k] });
    if (!spec) continue;
    specs.push(spec);
    weights.push(typeof a.weight === 'number' ? a.weight : 1);
  }
  if (!specs.length) return { type: 'regex', pattern: '^' }; // promptfoo: a test without assertions passes
  if (typeof threshold === 'number') {
    const total = weights.reduce((s, w) => s + w, 0) || 1;
    return {
      type: 'weighted',
      threshold,
      graders: specs.map((s, i) => ({ ...s, weight: weights[i] / total })),
    };
  }
  return specs.length === 1 ? specs[0] : { type: 'all', score: 'min', graders: specs };
}
