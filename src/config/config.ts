import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { FileError, UsageError } from '../errors.js';
import type { Group, SamplingParams } from '../types.js';
import { readYamlFile, type YamlFile } from '../util/yamlfile.js';
import { schemaError } from '../util/zodmsg.js';
import { findPreset, isLocalURL, PRESETS } from './presets.js';
import { configSchema, type RawConfig, type RawModel } from './schema.js';

export const DEFAULT_CONFIG_FILE = 'gapbench.config.yaml';
export const DEFAULT_OLLAMA_HOST = 'http://127.0.0.1:11434';

/** A model after defaults and presets are applied. Holds no secret: only the variable's name. */
export interface ModelConfig {
  id: string;
  provider: string;
  protocol: 'openai' | 'ollama' | 'replay';
  model: string;
  group: Group;
  baseURL?: string;
  host?: string;
  apiKeyEnv?: string;
  keyOptional: boolean;
  concurrency: number;
  timeoutMs: number;
  maxRetries: number;
  rpm?: number;
  tpm?: number;
  params: SamplingParams;
  price?: { input?: number; output?: number; perHour?: number };
  cache: boolean;
  judgeOnly: boolean;
  replay?: { idField?: string; outputField?: string; idTemplate?: string };
}

export interface Config {
  file?: string;
  models: ModelConfig[];
  suites: string[];
  /** Per listed suite: where it is written (`file:line`), and the directory it is resolved from (the config's). */
  suiteSources?: { label: string; dir: string }[];
  out?: string;
  repeat?: number;
}

/** Loads the config file (when given or present) and adds command-line models. */
export function loadConfig(opts: {
  configPath?: string;
  cliModels?: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
}): Config {
  const path =
    opts.configPath ?? (existsSync(resolve(opts.cwd, DEFAULT_CONFIG_FILE)) ? DEFAULT_CONFIG_FILE : undefined);
  let raw: RawConfig = {};
  let yaml: YamlFile | undefined;
  if (path) {
    yaml = readYamlFile(resolve(opts.cwd, path), path);
    if (yaml.data == null) raw = {};
    else {
      const parsed = configSchema.safeParse(yaml.data);
      if (!parsed.success) throw schemaError(yaml, parsed.error);
      raw = parsed.data;
    }
  }
  const models: ModelConfig[] = [];
  (raw.models ?? []).forEach((m, i) => models.push(resolveModel(m, raw.defaults ?? {}, opts.env, yaml, ['models', i])));
  for (const spec of opts.cliModels ?? []) {
    const m = parseModelSpec(spec);
    if (models.some((x) => x.id === m.id)) continue;
    models.push(resolveModel(m, raw.defaults ?? {}, opts.env, undefined, []));
  }
  const seen = new Map<string, number>();
  models.forEach((m, i) => {
    if (seen.has(m.id)) {
      const where = yaml ? (yaml.lineOf(['models', i, 'id']) ?? yaml.lineOf(['models', i])) : undefined;
      throw new FileError(
        path ?? '(command line)',
        where,
        `models[${i}].id: duplicate model id '${m.id}' (ids label every output and must be unique)`,
      );
    }
    seen.set(m.id, i);
  });
  const suites = raw.suites ?? [];
  const configDir = path ? dirname(resolve(opts.cwd, path)) : opts.cwd;
  const suiteSources = suites.map((ref, i) => {
    const line = yaml?.lineOf(['suites', i]);
    return { label: `${path}${line ? `:${line}` : ''}: suites[${i}] '${ref}'`, dir: configDir };
  });
  return { file: path, models, suites, suiteSources, out: raw.out, repeat: raw.repeat };
}

/** `provider:model`, split at the first colon only (`ollama:llama3.1:8b`). */
export function parseModelSpec(spec: string): RawModel {
  const i = spec.indexOf(':');
  if (i <= 0 || i === spec.length - 1)
    throw new UsageError(`--model '${spec}': expected provider:model, e.g. openai:gpt-4o-mini or ollama:llama3.1:8b`);
  return { id: spec, provider: spec.slice(0, i), model: spec.slice(i + 1) };
}

function resolveModel(
  m: RawModel,
  defaults: NonNullable<RawConfig['defaults']>,
  env: NodeJS.ProcessEnv,
  yaml: YamlFile | undefined,
  path: (string | number)[],
): ModelConfig {
  const preset = findPreset(m.provider);
  const where = (field: string) => {
    const file = yaml?.file ?? '(command line)';
    return (detail: string) => new FileError(file, yaml?.lineOf(path, field) ?? yaml?.lineOf(path), detail);
  };
  const label = m.id ?? `${m.provider}:${m.model}`;
  if (!preset) {
    throw where('provider')(
      `model '${label}': unknown provider '${m.provider}' (known: ${PRESETS.map((p) => p.name).join(', ')}; see \`gapbench models\`)`,
    );
  }
  if (preset.protocol === 'ollama' && m.baseURL)
    throw where('baseURL')(`model '${label}': ollama models take 'host', not 'baseURL'`);
  if (preset.protocol === 'openai' && m.host)
    throw where('host')(`model '${label}': OpenAI-compatible models take 'baseURL', not 'host'`);
  const baseURL =
    preset.protocol === 'openai'
      ? (m.baseURL ?? (m.provider === 'openai' ? env.OPENAI_BASE_URL : undefined) ?? preset.baseURL)
      : undefined;
  const host = preset.protocol === 'ollama' ? (m.host ?? env.OLLAMA_HOST ?? DEFAULT_OLLAMA_HOST) : undefined;
  // An address that is not a URL fails every request: say so now, naming where it came from.
  if (baseURL !== undefined && !validURL(baseURL, true)) {
    const from = m.baseURL !== undefined ? '' : env.OPENAI_BASE_URL === baseURL ? ' (from OPENAI_BASE_URL)' : '';
    throw where('baseURL')(`model '${label}': baseURL '${baseURL}' is not an http(s) URL${from}`);
  }
  if (host !== undefined && !validURL(host, false)) {
    const from = m.host !== undefined ? '' : env.OLLAMA_HOST === host ? ' (from OLLAMA_HOST)' : '';
    throw where('host')(`model '${label}': host '${host}' is not an http(s) address${from}`);
  }
  const local = (baseURL && isLocalURL(baseURL)) || preset.protocol === 'ollama';
  const stop = m.params?.stop ?? defaults.params?.stop;
  const { stop: _d, ...defaultParams } = defaults.params ?? {};
  const { stop: _m, ...modelParams } = m.params ?? {};
  const params: SamplingParams = {
    temperature: 0,
    ...defaultParams,
    ...modelParams,
    ...(stop === undefined ? {} : { stop: Array.isArray(stop) ? stop : [stop] }),
  };
  return {
    id: label,
    provider: m.provider,
    protocol: preset.protocol,
    model: m.model,
    group: m.group ?? preset.group,
    baseURL,
    host: host ? normalizeHost(host) : undefined,
    apiKeyEnv: preset.protocol === 'openai' ? (m.apiKeyEnv ?? preset.apiKeyEnv) : m.apiKeyEnv,
    keyOptional: Boolean(preset.keyOptional || (baseURL && isLocalURL(baseURL))),
    // Ollama serves one request at a time unless OLLAMA_NUM_PARALLEL is raised.
    concurrency: m.concurrency ?? defaults.concurrency ?? (preset.protocol === 'ollama' ? 1 : local ? 4 : 8),
    timeoutMs: m.timeoutMs ?? defaults.timeoutMs ?? (local ? 300_000 : 120_000),
    maxRetries: m.maxRetries ?? defaults.maxRetries ?? 5,
    rpm: m.rpm ?? defaults.rpm,
    tpm: m.tpm ?? defaults.tpm,
    params,
    price: m.price,
    // Local servers can swap the weights behind a model name, so their answers are not cached unless asked.
    cache: m.cache ?? defaults.cache ?? (!local && preset.protocol !== 'replay'),
    judgeOnly: m.judgeOnly ?? false,
    replay: m.replay,
  };
}

/**
 * An http(s) URL. For `host` the scheme may be left out, as Ollama allows (`10.0.0.5:11434`,
 * `gpu-box`), but then it is a host and port only: `http//gpu-box` is a typo, not a path.
 */
function validURL(value: string, needScheme: boolean): boolean {
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value);
  if (needScheme && !hasScheme) return false;
  if (!hasScheme && value.includes('/')) return false;
  try {
    const u = new URL(hasScheme ? value : `http://${value}`);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** Like Ollama's own clients: `0.0.0.0` or `myhost` without a port means port 11434. */
function normalizeHost(host: string): string {
  const withScheme = /^[a-z]+:\/\//i.test(host) ? host : `http://${host}`;
  try {
    const u = new URL(withScheme);
    if (!u.port && !/:\d+(\/|$)/.test(withScheme.replace(/^[a-z]+:\/\//i, '')) && u.protocol === 'http:')
      u.port = '11434';
    return u.href.replace(/\/+$/, '');
  } catch {
    return withScheme.replace(/\/+$/, '');
  }
}

/**
 * Every model that needs a key has it, checked before any request is sent.
 * Returns one line per missing key, naming the model and the variable.
 */
export function missingKeys(models: readonly ModelConfig[], env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const m of models) {
    if (m.protocol !== 'openai' || m.keyOptional) continue;
    const v = m.apiKeyEnv ? env[m.apiKeyEnv] : undefined;
    if (!v || !v.trim())
      out.push(
        `model '${m.id}': environment variable ${m.apiKeyEnv ?? 'OPENAI_API_KEY'} is not set (set it to the ${m.provider} API key; keys never go in the config file)`,
      );
  }
  return out;
}
