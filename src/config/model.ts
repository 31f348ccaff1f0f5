import { FileError, UsageError, withoutCredentials } from '../errors.js';
import type { ManifestModel } from '../journal/manifest.js';
import { descriptorOf, isProtocol, type Protocol } from '../providers/index.js';
import { envRefs, type ProviderModel } from '../providers/provider.js';
import type { Group, Price, SamplingParams } from '../types.js';
import type { YamlFile } from '../util/yamlfile.js';
import { chooseEndpoint, isLocalURL, normalizeEndpoint, validEndpoint } from './endpoint.js';
import { allPresets, findPreset, type Preset } from './presets.js';
import { familyGroup } from './families.js';
import { applyVendorRules } from './vendor-rules.js';
import { parseReasoning, planReasoning, type ReasoningPlan } from './reasoning.js';
import { resolvePrice } from './prices.js';
import type { RawConfig, RawModel } from './schema.js';
import type { BatchSettings } from '../providers/provider.js';
export type { BatchSettings } from '../providers/provider.js';

/** Retries of a failed request when neither the model nor `defaults` says (config, lanes and restored manifests alike). */
const DEFAULT_MAX_RETRIES = 5;

/** A model after defaults and presets are applied. Holds no secret: only the variable's name. */
export interface ModelConfig extends ProviderModel {
  /** The preset named in the config (`openai`, `moonshot`, `ollama`, ...). */
  provider: string;
  protocol: Protocol;
  group: Group;
  /** No key is needed: a local server, or a protocol that takes none, and no apiKeyEnv was written. */
  keyOptional: boolean;
  concurrency: number;
  timeoutMs: number;
  maxRetries: number;
  rpm?: number;
  tpm?: number;
  price?: Price;
  cache: boolean;
  judgeOnly: boolean;
  maxRetryWaitS?: number;
  stopAfterServerErrors?: number;
  /** Extra HTTP headers, as written (values may hold `${VAR}`); only their names reach any output. */
  headers?: Record<string, string>;
  /** Per-vendor parameter rules that changed this model's requests, one line each (vendor-rules.ts). */
  rules?: string[];
  /** The reasoning setting as the outputs show it (`high`, `off`, `budget 2048`, `default (thinks)`; config/reasoning.ts). */
  reasoning?: string;
  /** Whether the model's answers involve thinking (undefined: not known). */
  thinks?: boolean;
  /** Where the price comes from: `config`, the catalogue entry used (with its version and date), or `none: why`. */
  priceSource?: string;
}

/** Status checks of a batch: first after 5 s, then 1.5 times later each time, at most a minute apart. */
const BATCH_POLL = { pollS: 5, maxPollS: 60 };

/** A model's batch settings, checked against its protocol (exit 2, with the line, when it has no Batch API). */
export function batchSettings(
  raw: RawModel['batch'],
  protocol: Protocol,
  judgeOnly: boolean,
  label: string,
  fail: (detail: string) => Error,
  preset?: Preset,
): BatchSettings | undefined {
  if (raw === undefined || raw === false) return undefined;
  if (!descriptorOf(protocol).batch)
    throw fail(
      `model '${label}': the ${protocol} protocol has no Batch API (batch mode works with OpenAI-protocol models)`,
    );
  const vendor = preset?.batch;
  if (vendor?.api === 'none') throw fail(`model '${label}': no batch mode on ${preset!.name}: ${vendor.why}`);
  if (judgeOnly)
    throw fail(`model '${label}': a judge answers while grading, live: batch mode is for benchmarked models`);
  const o = raw === true ? {} : raw;
  const pollS = o.pollS ?? BATCH_POLL.pollS;
  // The vendor's own limits per input file and line endpoint, unless the config sets them.
  const limits =
    vendor?.api === 'openai'
      ? {
          ...(vendor.maxRequests ? { maxRequests: vendor.maxRequests } : {}),
          ...(vendor.maxBytes ? { maxBytes: vendor.maxBytes } : {}),
          ...(vendor.endpoint ? { endpoint: vendor.endpoint } : {}),
        }
      : {};
  return { ...limits, ...o, pollS, maxPollS: Math.max(pollS, o.maxPollS ?? BATCH_POLL.maxPollS) };
}

/**
 * Whether a model's answers stream: yes where its protocol can, unless `stream: false`. Asking a
 * protocol that cannot (replay) to stream is an error on the model's own line; in `defaults` it
 * applies only where it can.
 */
function streamSetting(
  own: boolean | undefined,
  fallback: boolean | undefined,
  protocol: Protocol,
  label: string,
  fail: (detail: string) => Error,
): boolean | undefined {
  if (!descriptorOf(protocol).streams) {
    if (own === true) throw fail(`model '${label}': the ${protocol} protocol cannot stream (remove stream: true)`);
    return undefined;
  }
  return (own ?? fallback) !== false;
}

type Defaults = NonNullable<RawConfig['defaults']>;
type Fail = (field: string) => (detail: string) => FileError;

/** Applies the preset, the protocol's defaults and the config's `defaults` to one model entry. */
export function resolveModel(
  m: RawModel,
  defaults: Defaults,
  env: NodeJS.ProcessEnv,
  yaml: YamlFile | undefined,
  path: (string | number)[],
): ModelConfig {
  const fail: Fail = (field) => (detail) =>
    new FileError(yaml?.file ?? '(command line)', yaml?.lineOf(path, field) ?? yaml?.lineOf(path), detail);
  const label = m.id ?? `${m.provider}:${m.model}`;
  const preset = findPreset(m.provider);
  if (!preset) {
    const known = allPresets()
      .map((p) => p.name)
      .join(', ');
    throw fail('provider')(
      `model '${label}': unknown provider '${m.provider}' (known: ${known}; see \`gapbench models\`)`,
    );
  }
  const group = m.group ?? defaultGroup(preset, m.model);
  if (!group) {
    const why =
      preset.groupBy === 'required'
        ? `${preset.name} serves many vendors' models and '${m.model}' is of no known family`
        : `provider '${m.provider}' has no default group`;
    throw fail('provider')(`model '${label}': ${why}: add group: closed or group: open`);
  }
  const d = descriptorOf(preset.protocol);
  const endpoint = resolveEndpoint(m, preset, env, label, fail);
  const local = endpoint !== undefined && isLocalURL(endpoint);
  const lane = d.defaults(local);
  const priced = resolvePrice(
    m.price,
    {
      name: preset.name,
      local: Boolean(preset.keyOptional) || preset.protocol !== 'openai',
      ...(preset.batch?.api === 'openai' && preset.batch.priceFactor ? { batchFactor: preset.batch.priceFactor } : {}),
    },
    m.model,
  );
  if (typeof priced === 'string') throw fail('price')(`model '${label}': ${priced}`);
  return {
    id: label,
    provider: m.provider,
    protocol: preset.protocol,
    model: m.model,
    group,
    endpoint,
    apiKeyEnv: m.apiKeyEnv ?? (d.key === 'required' ? preset.apiKeyEnv : undefined),
    // A variable written in the config must be set, whatever the server.
    keyOptional: !m.apiKeyEnv && (d.key === 'none' || Boolean(preset.keyOptional) || local),
    concurrency: m.concurrency ?? defaults.concurrency ?? lane.concurrency,
    timeoutMs: m.timeoutMs ?? defaults.timeoutMs ?? lane.timeoutMs,
    maxRetries: m.maxRetries ?? defaults.maxRetries ?? DEFAULT_MAX_RETRIES,
    ...optional('maxRetryWaitS', m.maxRetryWaitS ?? defaults.maxRetryWaitS),
    ...optional('stopAfterServerErrors', m.stopAfterServerErrors ?? defaults.stopAfterServerErrors),
    ...optional('maxResponseBytes', m.maxResponseBytes ?? defaults.maxResponseBytes),
    ...optional('stream', streamSetting(m.stream, defaults.stream, preset.protocol, label, fail('stream'))),
    rpm: m.rpm ?? defaults.rpm,
    tpm: m.tpm ?? defaults.tpm,
    ...paramsAndRules(m, defaults, preset, label, fail, yaml),
    ...(m.headers ? { headers: checkedHeaders(m.headers, env, label, fail) } : {}),
    ...optional('authHint', regionHint(preset, endpoint)),
    ...optional('price', priced.price),
    priceSource: priced.priceSource,
    cache: m.cache ?? defaults.cache ?? lane.cache,
    judgeOnly: m.judgeOnly ?? false,
    replay: m.replay,
    ...optional('batch', batchSettings(m.batch, preset.protocol, m.judgeOnly ?? false, label, fail('batch'), preset)),
  };
}

/** `{ [key]: value }` when the value is set, else nothing (so the manifest shows only what was given). */
function optional<K extends string, V>(key: K, value: V | undefined): { [k in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [k in K]?: V });
}

/** The group a model gets when the config gives none: by its family where the preset says so. */
function defaultGroup(preset: Preset, model: string): Group | undefined {
  if (!preset.groupBy) return preset.group;
  return familyGroup(model) ?? (preset.groupBy === 'required' ? undefined : preset.group);
}

/** For a vendor whose keys are region-bound: where a key of the other region works. */
function regionHint(preset: Preset, endpoint: string | undefined): string | undefined {
  const same = (a: string) => a.replace(/\/$/, '') === endpoint?.replace(/\/$/, '');
  const others = (preset.regions ?? []).filter((r) => !same(r.endpoint));
  if (!others.length || others.length === preset.regions!.length) return undefined;
  const where = others.map((r) => `${r.region} platform works only at ${r.endpoint} (provider ${r.preset})`);
  return `keys are region-bound: a key from the ${where.join('; ')}`;
}

/** The endpoint field the protocol takes, checked as an address now rather than at every request. */
function resolveEndpoint(m: RawModel, preset: Preset, env: NodeJS.ProcessEnv, label: string, fail: Fail) {
  const spec = descriptorOf(preset.protocol).endpoint;
  for (const field of ['baseURL', 'host'] as const) {
    if (m[field] === undefined || spec?.field === field) continue;
    const takes = spec ? `take '${spec.field}', not '${field}'` : `take no '${field}'`;
    throw fail(field)(`model '${label}': ${preset.protocol} models ${takes}`);
  }
  if (!spec) return undefined;
  const choice = chooseEndpoint(spec, m[spec.field], preset, env);
  if (!choice) throw fail(spec.field)(`model '${label}': no ${spec.field} (set ${spec.field} for this model)`);
  if (!validEndpoint(choice.value, spec)) {
    const what = spec.bare ? 'an http(s) address' : 'an http(s) URL';
    throw fail(spec.field)(
      `model '${label}': ${spec.field} '${withoutCredentials(choice.value)}' is not ${what}${choice.from}`,
    );
  }
  return normalizeEndpoint(choice.value, spec);
}

type RawParams = NonNullable<RawModel['params']>;

/**
 * The params sent: temperature 0 unless set; the model's params over the config's defaults
 * (`extra` merged key by key); `null` removes a parameter (one set in defaults or by gapbench);
 * `stop` always a list. Returns the names the user wrote, for the vendor rules.
 */
function resolveParams(
  own: RawParams | undefined,
  defaults: RawParams | undefined,
): { params: SamplingParams; explicit: Set<string> } {
  const out: Record<string, unknown> = { temperature: 0 };
  const explicit = new Set<string>();
  for (const layer of [defaults, own]) {
    for (const [rawKey, value] of Object.entries(layer ?? {})) {
      if (value === undefined) continue;
      const key = rawKey === 'extra_body' ? 'extra' : rawKey;
      explicit.add(key);
      if (value === null) delete out[key];
      else if (key === 'extra')
        out.extra = mergeExtra(out.extra as Record<string, unknown> | undefined, value as object, explicit);
      else out[key] = key === 'stop' && !Array.isArray(value) ? [value] : value;
    }
  }
  if (out.extra && !Object.keys(out.extra).length) delete out.extra;
  return { params: out as SamplingParams, explicit };
}

function mergeExtra(base: Record<string, unknown> | undefined, add: object, explicit: Set<string>) {
  const merged: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(add)) {
    explicit.add(`extra.${k}`);
    if (v === null) delete merged[k];
    else merged[k] = v;
  }
  return merged;
}

/**
 * The model's params after its reasoning setting and the vendor rules, and the notes of what
 * changed them. The reasoning knob's fields go under the user's own (an `extra` key written in
 * the config wins over the mapped one).
 */
function paramsAndRules(m: RawModel, defaults: Defaults, preset: Preset, label: string, fail: Fail, yaml?: YamlFile) {
  const { params, explicit } = resolveParams(m.params, defaults.params);
  const own = resolveParams(m.params, undefined).explicit;
  const plan = reasoningPlan(m, defaults, preset, label, fail, yaml);
  const withReasoning: SamplingParams = {
    ...params,
    ...(plan.patch.reasoning_effort !== undefined && !explicit.has('reasoning_effort')
      ? { reasoning_effort: plan.patch.reasoning_effort }
      : {}),
    ...(plan.patch.think !== undefined ? { think: plan.patch.think } : {}),
    ...(plan.patch.extra ? { extra: { ...plan.patch.extra, ...params.extra } } : {}),
  };
  try {
    const streaming = Boolean(descriptorOf(preset.protocol).streams) && (m.stream ?? defaults.stream) !== false;
    const ctx = { provider: preset.name, model: m.model, explicit, own, thinks: plan.thinks, streaming };
    const r = applyVendorRules(withReasoning, ctx);
    const notes = [...(plan.note ? [plan.note] : []), ...r.notes];
    // A rule that turned thinking off where no setting was asked (DashScope without streaming) decides the label.
    const ruledOff =
      plan.label.startsWith('default') &&
      r.params.extra?.enable_thinking === false &&
      !explicit.has('extra.enable_thinking');
    return {
      params: r.params,
      ...(notes.length ? { rules: notes } : {}),
      reasoning: ruledOff ? 'off (vendor rule)' : plan.label,
      ...(ruledOff ? { thinks: false } : plan.thinks === undefined ? {} : { thinks: plan.thinks }),
    };
  } catch (e) {
    if (typeof e === 'string') throw fail('params')(`model '${label}': ${e}`);
    throw e;
  }
}

/** The model's reasoning setting (its own, else the config's defaults), checked and mapped to its vendor's field. */
function reasoningPlan(
  m: RawModel,
  defaults: Defaults,
  preset: Preset,
  label: string,
  fail: Fail,
  yaml?: YamlFile,
): ReasoningPlan {
  const raw = m.reasoning ?? defaults.reasoning;
  if (raw === undefined) return planReasoning(undefined, preset.name, m.model);
  const parsed = parseReasoning(raw);
  if ('error' in parsed) {
    if (m.reasoning !== undefined) throw fail('reasoning')(`model '${label}': ${parsed.error}`);
    const line = yaml?.lineOf(['defaults', 'reasoning']);
    throw new FileError(yaml?.file ?? '(command line)', line, `defaults: ${parsed.error} (for model '${label}')`);
  }
  return planReasoning(parsed.setting, preset.name, m.model, m.reasoning === undefined);
}

/** Header values may read the environment (`${VAR}`); an unset variable is a config error now, not a 401 later. */
function checkedHeaders(headers: Record<string, string>, env: NodeJS.ProcessEnv, label: string, fail: Fail) {
  for (const [name, value] of Object.entries(headers)) {
    for (const v of envRefs(value)) {
      if (!env[v]) throw fail('headers')(`model '${label}': headers.${name} uses \${${v}}, which is not set`);
    }
  }
  return headers;
}

/**
 * A model as a run's manifest recorded it, ready to call again (regrade's judges): the fields a
 * manifest keeps are used as they are; the lane settings fall back to the protocol's defaults.
 * Manifests written before `endpoint` existed kept it as `baseURL` or `host`.
 */
export function restoreModel(recorded: ManifestModel): ModelConfig {
  const m = recorded as ManifestModel & Partial<Omit<ModelConfig, 'protocol'>>;
  if (!isProtocol(m.protocol))
    throw new UsageError(`model '${m.id}': unknown protocol '${m.protocol}' in the manifest`);
  const endpoint = m.endpoint ?? m.baseURL ?? m.host;
  const lane = descriptorOf(m.protocol).defaults(endpoint !== undefined && isLocalURL(endpoint));
  return {
    ...m,
    protocol: m.protocol,
    endpoint,
    keyOptional: m.keyOptional ?? true,
    concurrency: m.concurrency ?? lane.concurrency,
    timeoutMs: m.timeoutMs ?? lane.timeoutMs,
    maxRetries: m.maxRetries ?? DEFAULT_MAX_RETRIES,
    cache: m.cache ?? lane.cache,
    judgeOnly: m.judgeOnly ?? false,
  };
}
