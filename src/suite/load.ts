import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileError, UsageError } from '../errors.js';
import { buildGrader, describeGrader, modelsAsked } from '../graders/index.js';
import type { GradeFn } from '../graders/grader.js';
import { GraderOptionError } from '../graders/grader.js';
import type { Case, GraderSpec } from '../types.js';
import { isRecord } from '../util/record.js';
import { readYamlFile, type YamlFile } from '../util/yamlfile.js';
import { formatPath, schemaError } from '../util/zodmsg.js';
import { CASE_KEYS, suiteSchema, withoutExtensions, type RawSuite } from './schema.js';
import { caseData, checkMessages, fillConversation, messageFields } from './conversation.js';
import { loadSourceCases } from './source-cases.js';
import { cacheDir } from './hub.js';
import { placeholders, render } from './template.js';

export interface Suite {
  name: string;
  description: string;
  /** The file as the user named it (for messages) and its absolute path. */
  file: string;
  path: string;
  hash: string;
  cases: Case[];
  /** The grader function for a case (built once per distinct spec). */
  graderOf(c: Case): GradeFn;
  /** A short stable description of a case's grader for the CSVs. */
  graderName(c: Case): string;
  /** In a subset of the suite (--case, --category, --failed-from): each case's index in the whole suite. */
  caseIndexes?: number[];
  /** Every model a `judge` grader of this suite names, with the line of the grader that names it first. */
  judges: { ref: string; line?: number }[];
}

interface LoadOptions {
  cwd: string;
  /** Variables for `${VAR}` in source paths: the environment plus `--set` overrides. */
  vars: Record<string, string | undefined>;
  /** Where the reference came from, for errors (default `--suite REF`; a config names its file and line). */
  label?: string;
  /** Keep only the first N cases (`--limit N`). */
  limit?: number;
  /** Progress lines for long downloads (default: standard error). */
  log?: (line: string) => void;
  /**
   * false: leave the graders unbuilt (a listing that only names them; building compiles every JSON
   * Schema). Such a suite's graderOf throws.
   */
  buildGraders?: boolean;
}

const BUNDLED_SUITES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../suites');

export function bundledSuites(): string[] {
  if (!existsSync(BUNDLED_SUITES_DIR)) return [];
  return readdirSync(BUNDLED_SUITES_DIR)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => basename(f, extname(f)))
    .sort();
}

/** A path to a suite file, or the name of a bundled suite. */
function resolveSuiteRef(ref: string, cwd: string, label = `--suite ${ref}`): { shown: string; path: string } {
  const direct = resolve(cwd, ref);
  // A folder of the same name (a dataset download, say) never hides a bundled suite.
  const folder = existsSync(direct) && statSync(direct).isDirectory();
  if (existsSync(direct) && !folder) return { shown: ref, path: direct };
  for (const ext of ['.yaml', '.yml']) {
    const bundled = join(BUNDLED_SUITES_DIR, `${ref}${ext}`);
    if (!/[\\/]/.test(ref) && existsSync(bundled)) return { shown: `suites/${ref}${ext}`, path: bundled };
  }
  if (folder) throw new UsageError(`${label}: is a directory, not a file`);
  const names = bundledSuites();
  throw new UsageError(`${label}: no such file, and not a bundled suite (bundled: ${names.join(', ') || 'none'})`);
}

export async function loadSuite(ref: string, opts: LoadOptions): Promise<Suite> {
  const { shown, path } = resolveSuiteRef(ref, opts.cwd, opts.label);
  const yaml = readYamlFile(path, shown, cacheDir(opts.vars));
  if (!isRecord(yaml.data))
    throw new FileError(shown, 1, 'a suite must be a YAML mapping with name and cases (or source)');
  const parsed = suiteSchema.safeParse(withoutExtensions(yaml.data));
  if (!parsed.success) throw schemaError(yaml, parsed.error);
  const raw = parsed.data;
  const dir = dirname(path);
  const cases: Case[] = [];
  const defaultGrader = normalizeSpec(raw.grader ?? 'exact');
  /** Where each distinct grader spec first appears, so an option error can name its line. */
  const specWhere = new Map<string, (string | number)[]>([[JSON.stringify(defaultGrader), ['grader']]]);
  if (raw.cases) loadInlineCases(raw, yaml, defaultGrader, cases, specWhere);
  if (raw.source) await loadSourceCases(raw, yaml, dir, opts, defaultGrader, cases);
  if (!cases.length)
    throw new FileError(shown, yaml.lineOf(['cases']) ?? 1, 'the suite has no cases (add cases: or source:)');
  if (raw.grader_all) addGraderAll(cases, raw.grader_all.map(normalizeSpec), specWhere);
  if (opts.limit !== undefined) cases.splice(opts.limit);

  const built = new Map<string, { fn: GradeFn; name: string }>();
  for (const c of opts.buildGraders === false ? [] : cases) {
    const key = JSON.stringify(c.grader);
    if (built.has(key)) continue;
    const where = specWhere.get(key) ?? ['grader'];
    try {
      const fn = await buildGrader(c.grader, { suiteDir: dir, path: where.join('.') });
      built.set(key, { fn, name: describeGrader(c.grader) });
    } catch (e) {
      if (e instanceof GraderOptionError || e instanceof Error)
        throw new FileError(shown, yaml.lineOf(where), `${formatPath(where)}: ${e.message}`);
      throw e;
    }
  }
  const judges: Suite['judges'] = [];
  for (const [key, where] of specWhere) {
    for (const ref of modelsAsked(JSON.parse(key)))
      if (!judges.some((j) => j.ref === ref)) judges.push({ ref, line: yaml.lineOf(where) });
  }
  for (const c of cases) {
    for (const ref of modelsAsked(c.grader)) if (!judges.some((j) => j.ref === ref)) judges.push({ ref });
  }
  const hash = hashSuite(raw.name, cases);
  return {
    judges,
    name: raw.name,
    description: raw.description ?? '',
    file: shown,
    path,
    hash,
    cases,
    graderOf: (c) => {
      const b = built.get(JSON.stringify(c.grader));
      if (!b) throw new Error(`suite ${raw.name} was loaded without its graders`);
      return b.fn;
    },
    graderName: (c) => built.get(JSON.stringify(c.grader))?.name ?? describeGrader(c.grader),
  };
}

/**
 * `grader_all`: each case must pass its own grader and every listed one. They are combined with
 * `all` scored by the minimum, so a case scores 1 only when everything passes (as promptfoo counts a test).
 */
function addGraderAll(cases: Case[], extra: GraderSpec[], specWhere: Map<string, (string | number)[]>): void {
  for (const c of cases) {
    const where = specWhere.get(JSON.stringify(c.grader)) ?? ['grader'];
    c.grader = { type: 'all', score: 'min', graders: [c.grader, ...extra] };
    if (!specWhere.has(JSON.stringify(c.grader))) specWhere.set(JSON.stringify(c.grader), where);
  }
}

function normalizeSpec(spec: unknown): GraderSpec {
  return typeof spec === 'string' ? { type: spec } : (spec as GraderSpec);
}

function loadInlineCases(
  raw: RawSuite,
  yaml: YamlFile,
  defaultGrader: GraderSpec,
  out: Case[],
  specWhere: Map<string, (string | number)[]>,
): void {
  const convo = raw.messages ? checkMessages(raw.messages, yaml, ['messages']) : undefined;
  if (convo && raw.template)
    throw new FileError(yaml.file, yaml.lineOf(['messages']), 'messages: give either template or messages, not both');
  const fields = raw.template ? placeholders(raw.template) : convo ? messageFields(convo) : [];
  const ids = new Set<string>();
  raw.cases!.forEach((c, i) => {
    const at = (key?: string) => yaml.lineOf(['cases', i], key);
    const fail = (key: string | undefined, msg: string) =>
      new FileError(yaml.file, at(key), `cases[${i}]${key ? `.${key}` : ''}: ${msg}`);
    const own = c.messages === undefined ? undefined : checkMessages(c.messages, yaml, ['cases', i, 'messages']);
    const allowed = own ? [...fields, ...messageFields(own)] : fields;
    for (const key of Object.keys(c)) {
      if (!CASE_KEYS.has(key) && !allowed.includes(key)) {
        throw fail(
          key,
          `unknown field '${key}'${raw.template || convo ? ` (the template uses: ${fields.join(', ') || 'none'}; data for graders goes under vars:)` : ' (no template uses it; data for graders goes under vars:)'}`,
        );
      }
    }
    const data = caseData(c, yaml, i, CASE_KEYS);
    const values = data ? { ...c, ...data } : c;
    const id = c.id;
    if (id === undefined || id === null || id === '') throw fail(undefined, 'missing id');
    if (typeof id !== 'string' && typeof id !== 'number') throw fail('id', 'must be a string');
    const sid = String(id);
    if (ids.has(sid)) throw fail('id', `duplicate case id '${sid}'`);
    ids.add(sid);
    if (c.system !== undefined && typeof c.system !== 'string') throw fail('system', 'must be a string');
    let prompt: string;
    let sent: { messages: Case['messages']; system?: string } | undefined;
    if (own && c.prompt !== undefined) throw fail('messages', 'give either prompt or messages, not both');
    if (own && c.system !== undefined && own.some((m) => m.role === 'system'))
      throw fail('system', 'the case has a system message in messages too; keep one');
    if (c.prompt !== undefined) {
      if (typeof c.prompt !== 'string' || !c.prompt.trim()) throw fail('prompt', 'must be a non-empty string');
      prompt = c.prompt;
    } else if (raw.template) {
      const r = render(raw.template, values);
      if (r.missing.length) throw fail(undefined, `the template needs '${r.missing[0]}', which this case does not set`);
      prompt = r.text;
    } else if (own ?? convo) {
      const r = fillConversation((own ?? convo)!, values, (c.system as string | undefined) ?? raw.system);
      if (r.missing)
        throw fail(own ? 'messages' : undefined, `a message needs '${r.missing}', which this case does not set`);
      prompt = r.prompt;
      sent = { messages: r.messages, system: r.system };
    } else throw fail(undefined, 'needs a prompt (or the suite needs a template)');
    if (c.category !== undefined && typeof c.category !== 'string') throw fail('category', 'must be a string');
    if (c.description !== undefined && typeof c.description !== 'string') throw fail('description', 'must be a string');
    if (c.check !== undefined && typeof c.check !== 'string' && typeof c.check !== 'number')
      throw fail('check', 'must be an expression string');
    const grader = c.grader === undefined ? defaultGrader : normalizeSpec(c.grader);
    if (!grader || typeof grader !== 'object' || typeof grader.type !== 'string')
      throw fail('grader', 'must be a grader name or {type: ...}');
    if (!specWhere.has(JSON.stringify(grader))) specWhere.set(JSON.stringify(grader), ['cases', i, 'grader']);
    const examples = c.examples as Case['examples'] | undefined;
    if (
      examples !== undefined &&
      (typeof examples !== 'object' ||
        examples === null ||
        Object.keys(examples).some((k) => k !== 'pass' && k !== 'fail'))
    )
      throw fail('examples', 'must be {pass: [...], fail: [...]}');
    const vars: Record<string, unknown> = { ...values };
    delete vars.vars;
    const made: Case = {
      id: sid,
      prompt,
      system: sent ? sent.system : ((c.system as string | undefined) ?? raw.system),
      ...(sent ? { messages: sent.messages } : {}),
      expected: c.expected,
      category: (c.category as string | undefined) ?? 'default',
      ...(c.description !== undefined ? { description: c.description as string } : {}),
      grader,
      vars,
      ...(examples ? { examples } : {}),
      ...(c.check !== undefined ? { check: String(c.check) } : {}),
    };
    if (data) withData.add(made);
    out.push(made);
  });
}

/** Cases with a `vars:` map: their data joins the suite hash (grading may read it). */
const withData = new WeakSet<Case>();

function hashSuite(name: string, cases: readonly Case[]): string {
  const h = createHash('sha256');
  h.update(name);
  // A single-prompt case without vars: hashes as before conversations existed, so runs stay resumable.
  for (const c of cases) {
    const more = [...(c.messages ? [c.messages] : []), ...(withData.has(c) ? [c.vars] : [])];
    h.update(JSON.stringify([c.id, c.system ?? null, c.prompt, c.expected ?? null, c.category, c.grader, ...more]));
  }
  return h.digest('hex').slice(0, 16);
}
