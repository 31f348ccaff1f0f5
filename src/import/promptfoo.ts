/**
 * A promptfoo config (promptfooconfig.yaml) -> a gapbench config and one suite per prompt, plus the
 * list of everything that could not be carried over. Pure: reads the promptfoo files, writes nothing.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { findPreset } from '../config/presets.js';
import { UsageError } from '../errors.js';
import { modelsAsked } from '../graders/index.js';
import { placeholders } from '../suite/template.js';
import { containedPath, parseLocated, readBounded, realDir } from './files.js';
import { loadPrompts, type Prompt } from './promptfoo-prompts.js';
import type { Locate } from './files.js';
import { type AssertContext } from './promptfoo-asserts.js';
import { isRecord } from '../util/record.js';
import { asList, buildCase, loadTests, transformStep, type Test, type TestCtx } from './promptfoo-tests.js';

interface ImportOptions {
  /** Directories besides the config's own whose files `file://` references may read (--allow-outside). */
  allowOutside?: string[];
}

export interface ImportResult {
  /** Files to write, relative to the output directory. */
  files: { path: string; text: string; yaml?: unknown }[];
  unsupported: string[];
  /** Each model's endpoint and key variable, flagged when they come from the promptfoo config. */
  endpoints: { model: string; endpoint: string; keyEnv?: string; fromConfig: boolean }[];
  counts: { models: number; suites: number; tests: number };
}

type Obj = Record<string, unknown>;

const TOP_KEYS = new Set([
  'description',
  'prompts',
  'providers',
  'targets',
  'tests',
  'defaultTest',
  'assertionTemplates',
]);

/** promptfoo's local `$ref: '#/path/to/x'` (e.g. to assertionTemplates), resolved in place. */
function resolveRefs(v: unknown, root: Obj, shown: string, depth: number): unknown {
  if (depth > 32) throw new UsageError(`${shown}: $ref nested too deeply (a reference cycle?)`);
  if (Array.isArray(v)) return v.map((x) => resolveRefs(x, root, shown, depth));
  if (!isRecord(v)) return v;
  if (typeof v.$ref === 'string') {
    if (!v.$ref.startsWith('#/'))
      throw new UsageError(`${shown}: $ref '${v.$ref}': only references into this file (#/...) are supported`);
    let target: unknown = root;
    for (const seg of v.$ref.slice(2).split('/')) target = isRecord(target) ? target[seg] : undefined;
    if (target === undefined) throw new UsageError(`${shown}: $ref '${v.$ref}' names nothing in the file`);
    return resolveRefs(target, root, shown, depth + 1);
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveRefs(x, root, shown, depth)]));
}
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

type Ctx = TestCtx;

export function convertPromptfoo(file: string, shown = file, opts: ImportOptions = {}): ImportResult {
  const { data: parsed, locate } = parseLocated(readBounded(file, shown), shown);
  if (!isRecord(parsed) || !('prompts' in parsed) || !('providers' in parsed || 'targets' in parsed))
    throw new UsageError(`${shown}: not a promptfoo config (it needs prompts: and providers:)`);
  const pf = resolveRefs(parsed, parsed, shown, 0) as Obj;
  const roots = {
    dir: realDir(dirname(resolve(file)), shown),
    allowed: (opts.allowOutside ?? []).map((d) => realDir(d, '--allow-outside')),
  };
  const ctx: Ctx = { roots, unsupported: [], graders: new Map() };
  for (const k of Object.keys(pf)) if (!TOP_KEYS.has(k)) ctx.unsupported.push(`top-level '${k}' is not carried over`);
  const models = asList(pf.providers ?? pf.targets).flatMap((p, i) => convertProvider(p, i, ctx));
  const defaultTest = isRecord(pf.defaultTest) ? pf.defaultTest : {};
  const judge = judgeModel(defaultTest, models, ctx);
  const defaultOptions = isRecord(defaultTest.options) ? defaultTest.options : {};
  const tests = loadTests(pf.tests, defaultOptions, locate, ctx);
  for (const k of Object.keys(defaultTest))
    if (!['vars', 'assert', 'options', 'threshold', 'description'].includes(k))
      ctx.unsupported.push(`defaultTest: '${k}' is not carried over`);
  const prompts = asList(pf.prompts).flatMap((p, i) => loadPrompts(p, i, ctx));
  const files: ImportResult['files'] = [];
  const names = new Set<string>();
  for (const p of prompts) {
    let name = p.name;
    for (let n = 2; names.has(name); n++) name = `${p.name}-${n}`;
    names.add(name);
    files.push({
      path: `suites/${name}.yaml`,
      text: '',
      yaml: buildSuite(name, p, tests, defaultTest, judge, ctx, locate),
    });
  }
  for (const [path, text] of ctx.graders) files.push({ path: `suites/${path}`, text });
  const judged = files.some((f) => modelsAsked(f.yaml).length > 0);
  if (judged && judge && !(isRecord(defaultTest.options) && defaultTest.options.provider))
    ctx.unsupported.push(
      `promptfoo's default grading model is not carried over: llm-rubric is graded by '${judge}' (set defaultTest.options.provider to choose)`,
    );
  const config = { models: models.map((m) => m.spec), suites: files.filter((f) => f.yaml).map((f) => f.path) };
  const note = typeof pf.description === 'string' ? `# ${pf.description.replace(/\n/g, ' ')}\n` : '';
  files.unshift({ path: 'gapbench.config.yaml', text: `${note}# Imported from ${basename(file)}.\n`, yaml: config });
  return {
    files,
    unsupported: [...new Set(ctx.unsupported)],
    endpoints: models.map((m) => m.endpoint),
    counts: { models: models.length, suites: prompts.length, tests: tests.length },
  };
}

// ---- providers

interface Model {
  id: string;
  spec: Obj;
  endpoint: ImportResult['endpoints'][number];
}

function convertProvider(p: unknown, i: number, ctx: Ctx): Model[] {
  const o: Obj = typeof p === 'string' ? { id: p } : isRecord(p) ? p : {};
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
  const config = isRecord(o.config) ? o.config : {};
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
  const given = spec.baseURL ?? spec.host;
  const endpoint = {
    model: spec.id as string,
    endpoint: typeof given === 'string' ? given : `${preset}'s own endpoint`,
    // Without apiKeyEnvar the preset's key goes to whatever endpoint the config named.
    ...(typeof spec.apiKeyEnv === 'string'
      ? { keyEnv: spec.apiKeyEnv }
      : findPreset(preset)?.apiKeyEnv
        ? { keyEnv: findPreset(preset)!.apiKeyEnv }
        : {}),
    fromConfig: given !== undefined || spec.apiKeyEnv !== undefined,
  };
  return [{ id: spec.id as string, spec, endpoint }];
}

/** defaultTest.options.provider grades llm-rubric; else the first model does (promptfoo defaults to an OpenAI model). */
function judgeModel(defaultTest: Obj, models: Model[], ctx: Ctx): string | undefined {
  const opts = isRecord(defaultTest.options) ? defaultTest.options : {};
  const given = typeof opts.provider === 'string' ? opts.provider : isRecord(opts.provider) ? opts.provider : undefined;
  if (given) {
    const [m] = convertProvider(given, models.length, ctx);
    // The grading model may be one of the compared models: grade with that one.
    const same = m && models.find((x) => x.id === m.id);
    if (same && JSON.stringify(same.spec) === JSON.stringify(m.spec)) return same.id;
    if (same) m.spec.id = m.id = m.endpoint.model = `${m.id} (judge)`;
    if (m) {
      m.spec.judgeOnly = true;
      models.push(m);
      return m.id;
    }
  }
  return models[0]?.id;
}

// ---- suites

function buildSuite(
  name: string,
  p: Prompt,
  tests: Test[],
  defaultTest: Obj,
  judge: string | undefined,
  ctx: Ctx,
  locate: Locate,
): Obj {
  const defaultVars = isRecord(defaultTest.vars) ? defaultTest.vars : {};
  const defaults = asList(defaultTest.assert) as Test['assert'];
  const list: Test[] = tests.length ? tests : [{ where: 'defaultTest', vars: {}, assert: [], at: locate }];
  // promptfoo renders a var the test does not set (or sets to null) as empty text: so does the import.
  const used = placeholders([p.template ?? '', p.system ?? '', ...(p.messages ?? []).map((m) => m.content)].join('\n'));
  const cases = list.map((t, i) => {
    const vars = { ...t.vars };
    for (const f of used) if ((vars[f] ?? defaultVars[f] ?? null) === null) vars[f] = '';
    const actx = assertCtx(t.where, judge, name, ctx);
    return buildCase({ ...t, vars }, i, defaultVars, defaults, defaultTest.threshold, actx, locate);
  });
  return {
    name,
    description: `Imported from promptfoo: prompt '${name}'.`,
    ...(p.system ? { system: p.system } : {}),
    ...(p.messages ? { messages: p.messages } : { template: p.template }),
    cases,
  };
}

function assertCtx(where: string, judge: string | undefined, suite: string, ctx: Ctx): AssertContext {
  const actx: AssertContext = {
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
      const abs = containedPath(file, ctx.roots, `${where}: javascript file://${file}`);
      if (!existsSync(abs)) throw new UsageError(`${where}: javascript file://${file} does not exist`);
      return `file://${abs}`;
    },
    checkJs(body, what) {
      try {
        // Parsed, never called: the import runs nothing.
        new Function('output', 'context', `return (async () => {\n${body}\n});`);
      } catch (e) {
        throw new UsageError(`${what}: the JavaScript does not parse (${(e as Error).message})`);
      }
    },
    transform: (code, inner, what) => transformStep(code, inner, actx, what),
  };
  return actx;
}
