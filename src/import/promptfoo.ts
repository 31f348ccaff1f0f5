/**
 * A promptfoo config (promptfooconfig.yaml) -> a gapbench config and one suite per prompt, plus the
 * list of everything that could not be carried over. Pure: reads the promptfoo files, writes nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import type * as csvParse from 'csv-parse/sync';
import { parse as parseYaml } from 'yaml';
import { findPreset } from '../config/presets.js';
import { UsageError } from '../errors.js';
import { modelsAsked } from '../graders/index.js';
import { CASE_KEYS } from '../suite/schema.js';
import { requireCjs } from '../util/cjs.js';
import { readYamlFile } from '../util/yamlfile.js';
import { testGrader, type AssertContext, type PfAssert } from './promptfoo-asserts.js';

const { parse: parseCsv } = requireCjs('csv-parse/sync') as typeof csvParse;

export interface ImportResult {
  /** Files to write, relative to the output directory. */
  files: { path: string; text: string; yaml?: unknown }[];
  unsupported: string[];
  counts: { models: number; suites: number; tests: number };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

const TOP_KEYS = new Set(['description', 'prompts', 'providers', 'targets', 'tests', 'defaultTest']);
/** promptfoo provider prefix -> gapbench preset name; used only when that preset exists here. */
const VENDOR_PREFIX: Record<string, string> = {
  deepseek: 'deepseek',
  openrouter: 'openrouter',
  groq: 'groq',
  togetherai: 'together',
  together: 'together',
  anthropic: 'anthropic',
  moonshot: 'moonshot',
  dashscope: 'dashscope',
  alibaba: 'dashscope',
  qwen: 'dashscope',
  zhipu: 'zhipu',
  siliconflow: 'siliconflow',
  google: 'gemini',
  gemini: 'gemini',
  vllm: 'vllm',
  llamacpp: 'llamacpp',
  lmstudio: 'lmstudio',
  hunyuan: 'hunyuan',
  volcengine: 'ark',
};
const PARAMS = ['temperature', 'max_tokens', 'top_p', 'seed', 'stop'];
const CONNECTION = ['apiBaseUrl', 'apiKeyEnvar', 'baseUrl', 'apiHost'];

interface Ctx {
  dir: string;
  unsupported: string[];
  graders: Map<string, string>;
}

export function convertPromptfoo(file: string): ImportResult {
  const yaml = readYamlFile(file);
  const pf = yaml.data;
  if (!isObj(pf) || !('prompts' in pf) || !('providers' in pf || 'targets' in pf))
    throw new UsageError(`${file}: not a promptfoo config (it needs prompts: and providers:)`);
  const ctx: Ctx = { dir: dirname(resolve(file)), unsupported: [], graders: new Map() };
  for (const k of Object.keys(pf)) if (!TOP_KEYS.has(k)) ctx.unsupported.push(`top-level '${k}' is not carried over`);
  const models = asList(pf.providers ?? pf.targets).flatMap((p, i) => convertProvider(p, i, ctx));
  const defaultTest = isObj(pf.defaultTest) ? pf.defaultTest : {};
  const judge = judgeModel(defaultTest, models, ctx);
  const tests = loadTests(pf.tests, ctx);
  const prompts = asList(pf.prompts).flatMap((p, i) => loadPrompts(p, i, ctx));
  const files: ImportResult['files'] = [];
  const names = new Set<string>();
  for (const p of prompts) {
    let name = p.name;
    for (let n = 2; names.has(name); n++) name = `${p.name}-${n}`;
    names.add(name);
    files.push({ path: `suites/${name}.yaml`, text: '', yaml: buildSuite(name, p, tests, defaultTest, judge, ctx) });
  }
  for (const [path, text] of ctx.graders) files.push({ path: `suites/${path}`, text });
  const judged = files.some((f) => modelsAsked(f.yaml).length > 0);
  if (judged && judge && !(isObj(defaultTest.options) && defaultTest.options.provider))
    ctx.unsupported.push(
      `promptfoo's default grading model is not carried over: llm-rubric is graded by '${judge}' (set defaultTest.options.provider to choose)`,
    );
  const config = { models: models.map((m) => m.spec), suites: files.filter((f) => f.yaml).map((f) => f.path) };
  const note = typeof pf.description === 'string' ? `# ${pf.description.replace(/\n/g, ' ')}\n` : '';
  files.unshift({ path: 'gapbench.config.yaml', text: `${note}# Imported from ${basename(file)}.\n`, yaml: config });
  return {
    files,
    unsupported: ctx.unsupported,
    counts: { models: models.length, suites: prompts.length, tests: tests.length },
  };
}

const asList = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function readRef(ref: string, ctx: Ctx, what: string): { path: string; text: string } {
  const path = resolve(ctx.dir, ref.replace(/^file:\/\//, ''));
  if (!existsSync(path)) throw new UsageError(`${what}: ${ref} does not exist (looked for ${path})`);
  return { path, text: readFileSync(path, 'utf8').replace(/^\uFEFF/, '') };
}

// ---- providers

interface Model {
  id: string;
  spec: Obj;
}

function convertProvider(p: unknown, i: number, ctx: Ctx): Model[] {
  const o: Obj = typeof p === 'string' ? { id: p } : isObj(p) ? p : {};
  const id = typeof o.id === 'string' ? o.id : '';
  const where = `providers[${i}] '${id || JSON.stringify(p)}'`;
  const parts = id.split(':');
  const prefix = parts[0];
  const rest = parts.slice(1);
  if (['chat', 'messages'].includes(rest[0])) rest.shift();
  const preset = prefix === 'openai' || prefix === 'ollama' ? prefix : VENDOR_PREFIX[prefix];
  if (!preset || !findPreset(preset) || !rest.length || rest[0] === 'completion' || rest[0] === 'embedding') {
    ctx.unsupported.push(`${where}: provider not supported (skipped)`);
    return [];
  }
  const config = isObj(o.config) ? o.config : {};
  const spec: Obj = {
    id: typeof o.label === 'string' ? o.label : id,
    provider: preset,
    model: rest.join(':'),
  };
  if (typeof config.apiBaseUrl === 'string') spec.baseURL = config.apiBaseUrl;
  if (typeof config.apiHost === 'string') spec.baseURL = `https://${config.apiHost}/v1`;
  if (typeof config.baseUrl === 'string') spec[preset === 'ollama' ? 'host' : 'baseURL'] = config.baseUrl;
  if (typeof config.apiKeyEnvar === 'string') spec.apiKeyEnv = config.apiKeyEnvar;
  const params = Object.fromEntries(PARAMS.filter((k) => config[k] !== undefined).map((k) => [k, config[k]]));
  if (Object.keys(params).length) spec.params = params;
  for (const k of Object.keys(config))
    if (!PARAMS.includes(k) && !CONNECTION.includes(k))
      ctx.unsupported.push(`${where}: config.${k} is not carried over`);
  for (const k of Object.keys(o))
    if (!['id', 'label', 'config'].includes(k)) ctx.unsupported.push(`${where}: '${k}' is not carried over`);
  return [{ id: spec.id as string, spec }];
}

/** defaultTest.options.provider grades llm-rubric; else the first model does (promptfoo defaults to an OpenAI model). */
function judgeModel(defaultTest: Obj, models: Model[], ctx: Ctx): string | undefined {
  const opts = isObj(defaultTest.options) ? defaultTest.options : {};
  const given = typeof opts.provider === 'string' ? opts.provider : isObj(opts.provider) ? opts.provider : undefined;
  if (given) {
    const [m] = convertProvider(given, models.length, ctx);
    if (m) {
      m.spec.judgeOnly = true;
      models.push(m);
      return m.id;
    }
  }
  return models[0]?.id;
}

// ---- prompts

interface Prompt {
  name: string;
  template: string;
  system?: string;
}

function loadPrompts(p: unknown, i: number, ctx: Ctx): Prompt[] {
  const o: Obj = typeof p === 'string' ? { raw: p } : isObj(p) ? p : {};
  const raw = typeof o.raw === 'string' ? o.raw : typeof o.id === 'string' ? o.id : '';
  const label = typeof o.label === 'string' ? o.label : undefined;
  if (!raw.startsWith('file://')) return toPrompt(raw, label ?? `prompt-${i + 1}`, i, ctx);
  const { path, text } = readRef(raw, ctx, `prompts[${i}]`);
  const stem = slug(label ?? basename(path, extname(path)));
  if (/\.(json|ya?ml)$/i.test(path)) return toPrompt(parseYaml(text), stem, i, ctx);
  if (!/\.(txt|md|j2|njk)$/i.test(path)) {
    ctx.unsupported.push(`prompts[${i}]: ${raw}: only text, JSON and YAML prompt files are supported (skipped)`);
    return [];
  }
  const parts = text.split(/^---$/m).map((s) => s.trim());
  return parts.flatMap((t, k) => toPrompt(t, parts.length > 1 ? `${stem}-${k + 1}` : stem, i, ctx));
}

/** A text prompt, or a chat (a JSON/YAML list of messages: an optional system message and one user message). */
function toPrompt(v: unknown, name: string, i: number, ctx: Ctx): Prompt[] {
  let template: unknown = v;
  let system: string | undefined;
  if (typeof v === 'string' && /^\s*\[/.test(v)) {
    try {
      template = JSON.parse(v);
    } catch {
      /* a text prompt that starts with [ */
    }
  }
  if (Array.isArray(template)) {
    const msgs = template.filter(isObj);
    const sys = msgs.filter((m) => m.role === 'system');
    const user = msgs.filter((m) => m.role === 'user');
    if (user.length !== 1 || sys.length > 1 || msgs.length !== template.length || msgs.length > 2) {
      ctx.unsupported.push(
        `prompts[${i}]: a chat prompt must be one user message and at most one system message (skipped)`,
      );
      return [];
    }
    system = sys[0] ? String(sys[0].content) : undefined;
    template = String(user[0].content);
  }
  if (typeof template !== 'string' || !template.trim()) {
    ctx.unsupported.push(`prompts[${i}]: not a text or chat prompt (skipped)`);
    return [];
  }
  for (const t of [template, system ?? ''])
    if (/\{%|\{\{[^}]*\|/.test(t)) {
      ctx.unsupported.push(`prompts[${i}]: Nunjucks filters and {% %} tags are not supported (skipped)`);
      return [];
    }
  return [{ name: slug(name), template, ...(system ? { system } : {}) }];
}

const slug = (s: string) =>
  s
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+|-+$/g, '')
    .slice(0, 60) || 'prompt';

// ---- tests

interface Test {
  where: string;
  description?: string;
  vars: Obj;
  assert: PfAssert[];
  threshold?: unknown;
}

function loadTests(tests: unknown, ctx: Ctx): Test[] {
  let list: unknown[] = [];
  for (const t of asList(tests)) {
    if (typeof t === 'string' && t.startsWith('file://')) list.push(...readTestFile(t, ctx));
    else list.push(t);
  }
  return list.map((t, i) => toTest(isObj(t) ? t : {}, i, ctx));
}

function readTestFile(ref: string, ctx: Ctx): unknown[] {
  const { path, text } = readRef(ref, ctx, 'tests');
  if (/\.csv$/i.test(path)) {
    const rows = parseCsv(text, { columns: true, skip_empty_lines: true, bom: true }) as Record<string, string>[];
    return rows.map((row) => {
      const vars: Obj = {};
      const assert: PfAssert[] = [];
      for (const [k, v] of Object.entries(row)) {
        if (k.startsWith('__expected')) assert.push(csvAssert(v));
        else if (k === '__description') continue;
        else vars[k] = v;
      }
      return { vars, assert, ...(row.__description ? { description: row.__description } : {}) };
    });
  }
  const data = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
  return asList(data);
}

/** A CSV `__expected` cell: `type: value` (promptfoo's short form) or a plain value (equals). */
function csvAssert(cell: string): PfAssert {
  if (cell.startsWith('fn:')) return { type: 'javascript', value: cell.slice(3) };
  const m = /^(not-)?([a-z-]+):\s?([\s\S]*)$/.exec(cell);
  if (m && m[2] !== 'http' && m[2] !== 'https') return { type: `${m[1] ?? ''}${m[2]}`, value: m[3] };
  return { type: 'equals', value: cell };
}

function toTest(t: Obj, i: number, ctx: Ctx): Test {
  const description = typeof t.description === 'string' ? t.description : undefined;
  const where = `tests[${i}]${description ? ` (${description})` : ''}`;
  const vars: Obj = {};
  for (const [k, v] of Object.entries(isObj(t.vars) ? t.vars : {}))
    vars[k] = typeof v === 'string' && v.startsWith('file://') ? readRef(v, ctx, `${where}: vars.${k}`).text : v;
  for (const k of Object.keys(t))
    if (!['description', 'vars', 'assert', 'threshold', 'options', 'metadata'].includes(k))
      ctx.unsupported.push(`${where}: '${k}' is not carried over`);
  return { where, description, vars, assert: asList(t.assert) as PfAssert[], threshold: t.threshold };
}

// ---- suites

function buildSuite(
  name: string,
  p: Prompt,
  tests: Test[],
  defaultTest: Obj,
  judge: string | undefined,
  ctx: Ctx,
): Obj {
  const defaultVars = isObj(defaultTest.vars) ? defaultTest.vars : {};
  const defaults = asList(defaultTest.assert) as PfAssert[];
  const cases = (tests.length ? tests : [{ where: 'defaultTest', vars: {}, assert: [] } as Test]).map((t, i) => {
    const vars = { ...defaultVars, ...t.vars };
    for (const k of Object.keys(vars))
      if (CASE_KEYS.has(k)) ctx.unsupported.push(`${t.where}: a var named '${k}' clashes with a gapbench case key`);
    const asserts = [...defaults, ...t.assert].map((a) => renderAssert(a, vars));
    const grader = testGrader(asserts, t.threshold ?? defaultTest.threshold, assertCtx(t.where, judge, name, ctx));
    return { id: `t${i + 1}`, ...(t.description ? { description: t.description } : {}), ...vars, grader };
  });
  return {
    name,
    description: `Imported from promptfoo: prompt '${name}'.`,
    ...(p.system ? { system: p.system } : {}),
    template: p.template,
    cases,
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

function assertCtx(where: string, judge: string | undefined, suite: string, ctx: Ctx): AssertContext {
  return {
    where: `${suite}: ${where}`,
    judge,
    unsupported: ctx.unsupported,
    writeJs(code) {
      for (const [path, text] of ctx.graders) if (text === code) return path;
      const path = `graders/${suite}-${ctx.graders.size + 1}.mjs`;
      ctx.graders.set(path, code);
      return path;
    },
    relPath(file) {
      // The wrapper lives in OUT/suites/graders/; the module stays where the promptfoo config has it.
      const abs = resolve(ctx.dir, file);
      if (!existsSync(abs))
        throw new UsageError(`${where}: javascript file://${file} does not exist (looked for ${abs})`);
      return `file://${abs}`;
    },
  };
}
