import { createHash } from 'node:crypto';
import type { ModelConfig } from '../config/config.js';
import type { Manifest, ManifestModel } from '../journal/manifest.js';
import type { Suite } from '../suite/load.js';

/** What of a model decides its answers (the part of the config hash it contributes). */
const modelIdentity = (m: ManifestModel) => [
  m.id,
  m.provider,
  m.protocol,
  m.model,
  m.group,
  m.endpoint ?? m.baseURL ?? m.host ?? '',
  m.params,
];

export function configHash(models: readonly ModelConfig[], suites: readonly Suite[], repeat: number): string {
  const h = createHash('sha256');
  const modelPart = models.filter((m) => !m.judgeOnly).map(modelIdentity);
  h.update(JSON.stringify([modelPart, suites.map((s) => [s.name, s.hash]), repeat]));
  return h.digest('hex').slice(0, 16);
}

/** What differs between a run's manifest and the models, suites and repeat count given now. */
export function describeChange(
  m: Manifest,
  models: readonly ModelConfig[],
  suites: readonly Suite[],
  repeat: number,
): string[] {
  const out: string[] = [];
  const before = new Map(m.models.filter((x) => !x.judgeOnly).map((x) => [x.id, JSON.stringify(modelIdentity(x))]));
  const now = new Map(models.filter((x) => !x.judgeOnly).map((x) => [x.id, JSON.stringify(modelIdentity(x))]));
  for (const [id, v] of now) {
    if (!before.has(id)) out.push(`model '${id}' added`);
    else if (before.get(id) !== v) out.push(`model '${id}' changed (provider, endpoint, model name, group or params)`);
  }
  for (const id of before.keys()) if (!now.has(id)) out.push(`model '${id}' removed`);
  const oldSuites = new Map(m.suites.map((s) => [s.name, s]));
  for (const s of suites) {
    const o = oldSuites.get(s.name);
    if (!o) out.push(`suite '${s.name}' added`);
    else if (o.hash !== s.hash)
      out.push(
        `suite '${s.name}' changed (${o.cases === s.cases.length ? 'its cases' : `${o.cases} -> ${s.cases.length} cases`})`,
      );
  }
  for (const name of oldSuites.keys()) if (!suites.some((s) => s.name === name)) out.push(`suite '${name}' removed`);
  if (m.repeat !== repeat) out.push(`repeat ${m.repeat} -> ${repeat}`);
  return out;
}
