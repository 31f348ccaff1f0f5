import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { FileError, UsageError } from '../errors.js';
import { readYamlFile, type YamlFile } from '../util/yamlfile.js';
import { schemaError } from '../util/zodmsg.js';
import { PROTOCOLS } from '../providers/index.js';
import { resolveModel, type ModelConfig } from './model.js';
import { configSchema, modelSchema, type RawConfig, type RawModel } from './schema.js';

export const DEFAULT_CONFIG_FILE = 'gapbench.config.yaml';
export type { ModelConfig } from './model.js';

export interface Config {
  file?: string;
  models: ModelConfig[];
  suites: string[];
  /** Per listed suite: where it is written (`file:line`), and the directory it is resolved from (the config's). */
  suiteSources?: { label: string; dir: string }[];
  out?: string;
  repeat?: number;
  pairs?: { closed: string; open: string }[];
  alpha?: number;
  /** `sequential:` (docs/sequential.md). */
  sequential?: RawConfig['sequential'];
  /** `capacity:` as written, and where (`file:line`), for a message about it. */
  capacity?: { dir: string; label: string };
  /** `gapbench capacity`'s latency target, as written (defaults applied there). */
  slo?: RawConfig['slo'];
}

/** Loads the config file (when given or present) and adds command-line models. */
export function loadConfig(opts: {
  /** The config file; absent: gapbench.config.yaml when present; false: none (the demo's own models only). */
  configPath?: string | false;
  cliModels?: string[];
  /**
   * Models given to the library, in order: `provider:model` strings as --model takes them, or
   * entries written as in the config file (validated like the file's).
   */
  libraryModels?: unknown[];
  cwd: string;
  env: NodeJS.ProcessEnv;
}): Config {
  const path =
    opts.configPath === false
      ? undefined
      : (opts.configPath ?? (existsSync(resolve(opts.cwd, DEFAULT_CONFIG_FILE)) ? DEFAULT_CONFIG_FILE : undefined));
  let raw: RawConfig = {};
  let yaml: YamlFile | undefined;
  if (path) {
    yaml = readYamlFile(resolve(opts.cwd, path), path);
    if (yaml.data != null) {
      const parsed = configSchema.safeParse(yaml.data);
      if (!parsed.success) throw schemaError(yaml, parsed.error);
      raw = parsed.data;
    }
  }
  const models: ModelConfig[] = [];
  (raw.models ?? []).forEach((m, i) => models.push(resolveModel(m, raw.defaults ?? {}, opts.env, yaml, ['models', i])));
  (opts.libraryModels ?? []).forEach((entry, i) => {
    const parsed = modelSchema.safeParse(typeof entry === 'string' ? parseModelSpec(entry) : entry);
    if (!parsed.success) throw schemaError(ENTRIES, parsed.error, ['models', i]);
    models.push(resolveModel(parsed.data, raw.defaults ?? {}, opts.env, ENTRIES, ['models', i]));
  });
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
  const suiteSources = suites.map((ref, i) => ({
    label: `${path}${lineSuffix(yaml?.lineOf(['suites', i]))}: suites[${i}] '${ref}'`,
    dir: configDir,
  }));
  checkPairs(raw.pairs ?? [], models, path, yaml);
  return {
    file: path,
    models,
    suites,
    suiteSources,
    out: raw.out,
    repeat: raw.repeat,
    pairs: raw.pairs,
    alpha: raw.alpha,
    ...(raw.sequential ? { sequential: raw.sequential } : {}),
    ...(raw.capacity
      ? { capacity: { dir: raw.capacity, label: `${path}${lineSuffix(yaml?.lineOf(['capacity']))}: capacity` } }
      : {}),
    ...(raw.slo ? { slo: raw.slo } : {}),
  };
}

/** Each configured pair names a closed and an open model of this config. */
function checkPairs(
  pairs: readonly { closed: string; open: string }[],
  models: readonly ModelConfig[],
  path: string | undefined,
  yaml: YamlFile | undefined,
): void {
  pairs.forEach((pair, i) => {
    for (const side of ['closed', 'open'] as const) {
      const m = models.find((x) => x.id === pair[side]);
      const problem = !m
        ? `'${pair[side]}' is not a model id in the config (ids: ${models.map((x) => x.id).join(', ') || 'none'})`
        : m.group !== side
          ? `'${pair[side]}' is in group ${m.group}, not ${side}`
          : m.judgeOnly
            ? `'${pair[side]}' is judgeOnly (not benchmarked)`
            : undefined;
      if (problem) {
        const line = yaml?.lineOf(['pairs', i, side]) ?? yaml?.lineOf(['pairs', i]);
        throw new FileError(path ?? '(command line)', line, `pairs[${i}].${side}: ${problem}`);
      }
    }
  });
}

/** Where model entries given to the library come from, for messages (they have no lines). */
const ENTRIES: YamlFile = { file: 'evaluate() models', data: undefined, text: '', lineOf: () => undefined };

/** `provider:model`, split at the first colon only (`ollama:llama3.1:8b`). */
export function parseModelSpec(spec: string): RawModel {
  const i = spec.indexOf(':');
  if (i <= 0 || i === spec.length - 1)
    throw new UsageError(`--model '${spec}': expected provider:model, e.g. openai:gpt-4o-mini or ollama:llama3.1:8b`);
  return { id: spec, provider: spec.slice(0, i), model: spec.slice(i + 1) };
}

/**
 * Every model that needs a key has it, checked before any request is sent.
 * Returns one line per missing key, naming the model and the variable.
 */
export function missingKeys(models: readonly ModelConfig[], env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const m of models) {
    if (m.keyOptional || !m.apiKeyEnv) continue;
    const v = env[m.apiKeyEnv];
    if (!v || !v.trim()) {
      out.push(
        `model '${m.id}': environment variable ${m.apiKeyEnv} is ${v === undefined ? 'not set' : 'set but empty'} (set it to the ${m.provider} API key; keys never go in the config file)`,
      );
    }
  }
  return out;
}

/**
 * The models of a run, checked before anything is sent: at least one to benchmark (else `none`),
 * every key set, every protocol's own preflight passed (a replay file that loads).
 */
export function checkRunnable(models: ModelConfig[], env: NodeJS.ProcessEnv, cwd: string, none: string): void {
  if (!models.some((m) => !m.judgeOnly)) throw new UsageError(none);
  const missing = missingKeys(models, env);
  if (missing.length)
    throw new UsageError(missing[0] + (missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''));
  for (const m of models) PROTOCOLS[m.protocol].preflight?.(m, { env, cwd });
}

const lineSuffix = (line: number | undefined) => (line ? `:${line}` : '');
