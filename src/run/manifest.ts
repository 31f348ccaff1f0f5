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
  invocation: { config?: string; models: string[]; suites: string[]; repeat: number; sets: Record<string, string>; cwd: string };
  models: ModelConfig[];
  suites: { name: string; file: string; hash: string; cases: number; description: string }[];
  repeat: number;
  cache: { mode: string; dir: string };
  counts?: { jobs: number; records: number; ok: number; errors: number; unfinished: number };
  /** The run this one was derived from (regrade). */
  derived_from?: string;
}

export function configHash(models: readonly ModelConfig[], suites: readonly Suite[], repeat: number): string {
  const h = createHash('sha256');
  const modelPart = models
    .filter((m) => !m.judgeOnly)
    .map((m) => [m.id, m.provider, m.protocol, m.model, m.group, m.baseURL ?? m.host ?? '', m.params]);
  h.update(JSON.stringify([modelPart, suites.map((s) => [s.name, s.hash]), repeat]));
  return h.digest('hex').slice(0, 16);
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
