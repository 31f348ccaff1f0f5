/**
 * `json`: the output is (or contains) JSON, optionally valid against a JSON Schema, and
 * optionally with given values at given paths. Models wrap JSON in prose and ```json fences,
 * so we look for it instead of demanding a bare document.
 */
import path from 'node:path';
import type { ValidateFunction } from 'ajv';
import { grade, GraderOptionError, type GraderEnv } from './grader.js';
import { isRecord } from '../util/record.js';
import { optBool, optString, show, type BuiltinGrader } from './builtin.js';
import { readBounded } from '../util/readfile.js';

/** Largest JSON Schema file a suite may name (a schema is small; a huge one is a mistake or an attack). */
const MAX_SCHEMA_BYTES = 4 * 1024 * 1024;

interface FoundJson {
  value: unknown;
  /** The JSON as compact text. */
  text: string;
}

function tryParse(text: string): FoundJson | undefined {
  if (text === '') return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return { value, text: JSON.stringify(value) };
  } catch {
    return undefined;
  }
}

/** Index of the bracket closing the one at `start`, or -1; brackets inside strings do not count. */
function balancedEnd(text: string, start: number): number {
  const stack: string[] = [];
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') stack.push('}');
    else if (c === '[') stack.push(']');
    else if (c === '}' || c === ']') {
      if (stack.pop() !== c) return -1;
      if (stack.length === 0) return i;
    }
  }
  return -1;
}

/** Bounds the quadratic scan on long outputs full of stray brackets. */
const MAX_CANDIDATES = 200;

/** The JSON in a model's output: the whole text, a fenced block, or the first balanced {...}/[...] that parses. */
export function findJson(text: string): FoundJson | undefined {
  const whole = tryParse(text.trim());
  if (whole) return whole;
  for (const m of text.matchAll(/```[^\S\r\n]*(?:json5?|jsonc)?[^\S\r\n]*\r?\n([\s\S]*?)```/gi)) {
    const found = tryParse(m[1].trim());
    if (found) return found;
  }
  let candidates = 0;
  for (let i = 0; i < text.length && candidates < MAX_CANDIDATES; i++) {
    if (text[i] !== '{' && text[i] !== '[') continue;
    candidates++;
    const end = balancedEnd(text, i);
    const found = end < 0 ? undefined : tryParse(text.slice(i, end + 1));
    if (found) return found;
  }
  return undefined;
}

/** `items.0.name` or `items[0].name` -> ['items', '0', 'name']; '' is the root. */
function splitPath(p: string): string[] {
  return p === ''
    ? []
    : p
        .replace(/\[(\d+)\]/g, '.$1')
        .replace(/^\./, '')
        .split('.');
}

function lookup(value: unknown, p: string): { found: boolean; value?: unknown } {
  let cur = value;
  for (const key of splitPath(p)) {
    if (Array.isArray(cur) && /^\d+$/.test(key) && Number(key) < cur.length) cur = cur[Number(key)];
    else if (isRecord(cur) && Object.prototype.hasOwnProperty.call(cur, key)) cur = cur[key];
    else return { found: false };
  }
  return { found: true, value: cur };
}

function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(v)) return Number(v);
  return undefined;
}

/**
 * Loose equality for model output: numbers within 1e-6 (relative for large values), numeric
 * strings equal to numbers ("12.5" == 12.5), strings NFKC+trim, arrays in order, objects as a
 * subset (every expected key must match; extra keys in the output are allowed).
 */
function jsonEqual(want: unknown, got: unknown, ignoreCase: boolean): boolean {
  if (typeof want === 'number' || typeof got === 'number') {
    const a = asNumber(want);
    const b = asNumber(got);
    return a !== undefined && b !== undefined && Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));
  }
  if (typeof want === 'string' && typeof got === 'string') {
    const norm = (s: string): string =>
      ignoreCase ? s.normalize('NFKC').trim().toLowerCase() : s.normalize('NFKC').trim();
    return norm(want) === norm(got);
  }
  if (Array.isArray(want))
    return Array.isArray(got) && want.length === got.length && want.every((w, i) => jsonEqual(w, got[i], ignoreCase));
  if (isRecord(want))
    return isRecord(got) && Object.entries(want).every(([k, w]) => k in got && jsonEqual(w, got[k], ignoreCase));
  return want === got;
}

/** Leaf paths of an expected object; arrays are compared whole. */
function leaves(value: unknown, prefix = ''): Array<[string, unknown]> {
  if (!isRecord(value) || Object.keys(value).length === 0) return [[prefix, value]];
  return Object.entries(value).flatMap(([k, v]) => leaves(v, prefix === '' ? k : `${prefix}.${k}`));
}

interface Schema {
  validate: ValidateFunction;
  errorsText: () => string;
}

async function loadSchema(options: Record<string, unknown>, env: GraderEnv): Promise<Schema | undefined> {
  const spec = options.schema;
  if (spec === undefined) return undefined;
  let schema: unknown = spec;
  let where = 'inline schema';
  if (typeof spec === 'string') {
    const file = path.resolve(env.suiteDir, spec);
    where = `schema file ${file}`;
    try {
      schema = JSON.parse(readBounded(file, MAX_SCHEMA_BYTES).toString('utf8'));
    } catch (e) {
      throw new GraderOptionError(`cannot read ${where}: ${(e as Error).message}`, 'schema');
    }
  }
  if (!isRecord(schema) && typeof schema !== 'boolean') {
    throw new GraderOptionError(
      `\`schema\` must be a JSON Schema object or a path to a .json file, got ${show(spec)}`,
      'schema',
    );
  }
  if (isRecord(schema) && schema.$async === true)
    throw new GraderOptionError(`${where}: async schemas are not supported`, 'schema');
  const draft2020 = isRecord(schema) && typeof schema.$schema === 'string' && schema.$schema.includes('2020-12');
  try {
    return await compiled(schema, draft2020);
  } catch (e) {
    throw new GraderOptionError(`bad ${where}: ${(e as Error).message}`, 'schema');
  }
}

type AjvInstance = import('ajv').default;
/** One validator per draft, shared by every case: building one costs ~10 ms (its meta-schemas). */
const validators = new Map<boolean, Promise<AjvInstance>>();
/** Compiled schemas by their text: a suite repeats the same schema across cases and repeats. */
const schemas = new Map<string, Schema>();
/** Compiled schemas kept at most: a suite with a schema per case stays cached, a generated flood does not grow memory. */
const MAX_SCHEMAS = 1000;

async function compiled(schema: Record<string, unknown> | boolean, draft2020: boolean): Promise<Schema> {
  const key = `${draft2020 ? 1 : 0}${JSON.stringify(schema)}`;
  const hit = schemas.get(key);
  if (hit) return hit;
  let ajv = validators.get(draft2020);
  if (!ajv) {
    // Strict mode rejects unknown keywords (a misspelt `requierd` would otherwise check nothing).
    // Formats are not validated: that needs ajv-formats, which we do not ship. addUsedSchema off:
    // two suites may give different schemas the same $id without one replacing the other.
    const opts = { allErrors: true, strict: true, validateFormats: false, addUsedSchema: false } as const;
    // Loaded on first use: most runs have no schema, and ajv costs start-up time and memory.
    ajv = draft2020
      ? import('ajv/dist/2020.js').then((m) => new m.Ajv2020(opts) as unknown as AjvInstance)
      : import('ajv').then((m) => new m.Ajv(opts));
    validators.set(draft2020, ajv);
  }
  const instance = await ajv;
  const validate = instance.compile(schema);
  const out = { validate, errorsText: () => instance.errorsText(validate.errors, { dataVar: 'json' }) };
  if (schemas.size >= MAX_SCHEMAS) schemas.delete(schemas.keys().next().value!);
  schemas.set(key, out);
  return out;
}

interface Check {
  path: string;
  want: unknown;
  /** false: only require that the path exists. */
  compare: boolean;
}

function readFields(options: Record<string, unknown>): Check[] {
  const f = options.fields;
  if (f === undefined) return [];
  if (!isRecord(f) || Object.keys(f).length === 0)
    throw new GraderOptionError('`fields` must be a non-empty map of path -> expected value', 'fields');
  return Object.entries(f).map(([p, want]) => ({ path: p, want, compare: true }));
}

export const json: BuiltinGrader = {
  type: 'json',
  description:
    'Output is or contains JSON; optional JSON Schema, values at paths, or match against an expected object.',
  options: ['schema', 'path', 'equals', 'fields', 'ignore_case'],
  async create(options, env) {
    const schema = await loadSchema(options, env);
    const atPath = optString(options, 'path');
    const hasEquals = Object.prototype.hasOwnProperty.call(options, 'equals');
    if (hasEquals && atPath === undefined) throw new GraderOptionError('`equals` needs `path`', 'equals');
    const fields = readFields(options);
    const ignoreCase = optBool(options, 'ignore_case', true);

    return (output, ctx) => {
      const found = findJson(output);
      if (!found) return grade(0, false, 'no JSON found in the output');
      const expected = ctx.case.expected;
      const checks = [...fields];
      if (atPath !== undefined) {
        const want = hasEquals ? options.equals : expected;
        checks.push({ path: atPath, want, compare: want !== undefined });
      } else if (checks.length === 0 && expected !== undefined && expected !== null) {
        // An expected value written as JSON text in a suite is meant as JSON.
        const exp = typeof expected === 'string' ? (tryParse(expected)?.value ?? expected) : expected;
        for (const [p, want] of leaves(exp)) checks.push({ path: p, want, compare: true });
      }

      const problems: string[] = [];
      let matched = 0;
      for (const c of checks) {
        const at = lookup(found.value, c.path);
        const label = c.path === '' ? '(root)' : c.path;
        if (!at.found) problems.push(`${label}: missing`);
        else if (c.compare && !jsonEqual(c.want, at.value, ignoreCase))
          problems.push(`${label}: expected ${show(c.want)}, got ${show(at.value)}`);
        else matched++;
      }
      const schemaOk = schema ? schema.validate(found.value) : true;
      const schemaErrors = schema && !schemaOk ? schema.errorsText() : '';
      const score = !schemaOk ? 0 : checks.length === 0 ? 1 : matched / checks.length;
      const passed = schemaOk && problems.length === 0;
      const reason = passed
        ? `valid JSON${schema ? ', matches schema' : ''}${checks.length ? `, ${matched}/${checks.length} checks match` : ''}`
        : [
            schemaErrors && `schema: ${schemaErrors}`,
            ...problems.slice(0, 3),
            problems.length > 3 ? `(+${problems.length - 3} more)` : '',
          ]
            .filter((s) => s !== '')
            .join('; ');
      return grade(score, passed, reason, found.text, {
        details: { checks: checks.length, matched, schema_valid: schemaOk },
      });
    };
  },
};
