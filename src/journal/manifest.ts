import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import type { Group, Price, SamplingParams } from '../types.js';

/** A model as the manifest records it (the resolved config; never a key, only its variable's name). */
export interface ManifestModel {
  id: string;
  provider: string;
  protocol: string;
  model: string;
  group: Group;
  /** The base URL or host requests went to. */
  endpoint?: string;
  /** Where manifests written before `endpoint` kept it. */
  baseURL?: string;
  host?: string;
  params: SamplingParams;
  price?: Price;
  judgeOnly?: boolean;
  /** Names of the extra headers sent (their values are never recorded). */
  header_names?: string[];
  /** Per-vendor parameter rules that changed this model's requests. */
  rules?: string[];
  /** The reasoning setting (`high`, `off`, `budget 2048`, `default (thinks)`, ...; config/reasoning.ts). */
  reasoning?: string;
  /** Whether its answers involve thinking (absent: not known). */
  thinks?: boolean;
  /** Where `price` comes from: `config`, the catalogue entry (version, data date), or `none: why`. */
  priceSource?: string;
}

export type { BatchEntry } from '../types.js';
import type { BatchEntry } from '../types.js';

/** manifest.json: how a run was produced, so it can be resumed, re-scored or compared. */
export interface Manifest {
  gapbench: string;
  node: string;
  run_id: string;
  status: 'running' | 'finished' | 'interrupted';
  /** Why an interrupted run stopped, when it was not a signal (e.g. the disk filled up). */
  reason?: string;
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
    /** --batch, reused by --resume (a batch under way is collected, not sent again). */
    batch?: boolean;
  };
  models: ManifestModel[];
  suites: { name: string; file: string; hash: string; cases: number; description: string }[];
  repeat: number;
  cache: { mode: string; dir: string };
  counts?: { jobs: number; records: number; ok: number; errors: number; unfinished: number };
  /** Closed/open model pairs the config asks to compare (`pairs:`), by model id. */
  pairs?: { closed: string; open: string }[];
  /** Significance level of every test and interval (default 0.05). */
  alpha?: number;
  /** The slice of the cases this run covers (`--shard I/N`); `gapbench merge` joins the N of them. */
  shard?: { index: number; count: number };
  /** The shard run directories a merged run was joined from, in shard order. */
  merged_from?: { run_id: string; dir: string; shard: string; started_at: string; finished_at?: string }[];
  /** The vendor batches of models in batch mode, recorded as each is made: a resume collects them. */
  batches?: BatchEntry[];
  /** The run this one was derived from (regrade). */
  derived_from?: string;
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
