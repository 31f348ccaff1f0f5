import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelConfig } from '../config/config.js';
import { UsageError } from '../errors.js';
import type { Suite } from '../suite/load.js';
import { VERSION } from '../version.js';

/** manifest.json: how a run was produced, so it can be resumed, re-scored or compared. */
export interface Manifest {
  gapbench: string;
  node: string;
  run_id: string;
  status: 'running' | 'finished' | 'interrupted';
  created_at: string;
  started_at: string;
  finished_at?: string;
  /** Hash of what decides the answers (models, endpoints, params, suites, repeat); resume checks it. */
  config_hash: string;
  /** What to load again on `--resume`. */
  invocation: {
    config?: string;
    models: string[];
    suites: string[];
    repeat: number;
    sets: Record<string, string>;
    cwd: string;
    /** --concurrency, reused by --resume. */ concurrency?: number;
  };
  models: ModelConfig[];
  suites: { name: string; file: string; hash: string; cases: number; description: string }[];
  repeat: number;
  cache: { mode: string; dir: string };
  counts?: { jobs: number; records: number; ok: number; errors: number; unfinished: number };
  /** The run this one was derived from (regrade). */
  derived_from?: string;
}

/** What of a model decides its answers (the part of the config hash it contributes). */
const modelIdentity = (m: ModelConfig) => [
  m.id,
  m.provider,
  m.protocol,
  m.model,
  m.group,
  m.baseURL ?? m.host ?? '',
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

export function writeManifest(dir: string, m: Manifest): void {
  const path = join(dir, 'manifest.json');
  writeFileSync(`${path}.tmp`, `${JSON.stringify(m, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

export function readManifest(dir: string): Manifest {
  const path = join(dir, 'manifest.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`${dir}: not a run directory (no manifest.json)`);
  }
  try {
    return JSON.parse(text) as Manifest;
  } catch {
    throw new UsageError(`${path}: invalid JSON`);
  }
}
