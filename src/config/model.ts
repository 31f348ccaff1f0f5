import { FileError, UsageError } from '../errors.js';
import type { ManifestModel } from '../journal/manifest.js';
import { descriptorOf, isProtocol, type Protocol } from '../providers/index.js';
import type { ProviderModel } from '../providers/provider.js';
import type { Group, Price, SamplingParams } from '../types.js';
import type { YamlFile } from '../util/yamlfile.js';
import { chooseEndpoint, isLocalURL, normalizeEndpoint, validEndpoint } from './endpoint.js';
import { allPresets, findPreset, type Preset } from './presets.js';
import type { RawConfig, RawModel } from './schema.js';

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
  const group = m.group ?? preset.group;
  if (!group)
    throw fail('provider')(
      `model '${label}': provider '${m.provider}' has no default group: add group: closed or group: open`,
    );
  const d = descriptorOf(preset.protocol);
  const endpoint = resolveEndpoint(m, preset, env, label, fail);
  const local = endpoint !== undefined && isLocalURL(endpoint);
  const lane = d.defaults(local);
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
    maxRetries: m.maxRetries ?? defaults.maxRetries ?? 5,
    rpm: m.rpm ?? defaults.rpm,
    tpm: m.tpm ?? defaults.tpm,
    params: resolveParams(m.params, defaults.params),
    price: m.price,
    cache: m.cache ?? defaults.cache ?? lane.cache,
    judgeOnly: m.judgeOnly ?? false,
    replay: m.replay,
  };
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
    throw fail(spec.field)(`model '${label}': ${spec.field} '${choice.value}' is not ${what}${choice.from}`);
  }
  return normalizeEndpoint(choice.value, spec);
}

/** temperature 0 unless set; the model's params over the config's defaults; `stop` always a list. */
function resolveParams(own: RawModel['params'], defaults: Defaults['params']): SamplingParams {
  const stop = own?.stop ?? defaults?.stop;
  const { stop: _d, ...defaultParams } = defaults ?? {};
  const { stop: _m, ...modelParams } = own ?? {};
  return {
    temperature: 0,
    ...defaultParams,
    ...modelParams,
    ...(stop === undefined ? {} : { stop: Array.isArray(stop) ? stop : [stop] }),
  };
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
    maxRetries: m.maxRetries ?? 5,
    cache: m.cache ?? lane.cache,
    judgeOnly: m.judgeOnly ?? false,
  };
}
