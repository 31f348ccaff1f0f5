import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileError, UsageError } from '../errors.js';
import { readBounded } from '../util/readfile.js';
import { formatPath } from '../util/zodmsg.js';
import { manifestSchema } from './manifest-schema.js';
import type { Group, Price, SamplingParams } from '../types.js';

/** A sequential run's settings, as the manifest records them (`sequential`; docs/sequential.md). */
export interface SequentialSettings {
  /** Stop when the deciding interval excludes 0 (`decided`) or is at most `ci_pp` wide (`ci`). */
  until?: 'decided' | 'ci';
  ci_pp?: number;
  /** Also stop when the interval lies inside ±margin_pp. */
  margin_pp?: number;
  min_cases: number;
  /** At n_max, a fixed-n test at 4·alpha/5 decides; the sequence then runs at alpha/5. */
  final_test: boolean;
  /** Seeds the permutation the cases are sent and committed in; a resume keeps it. */
  order_seed: number;
}

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
  /** Whether its answers were streamed (absent: a protocol that cannot stream, or a manifest from before streaming). */
  stream?: boolean;
}

export type { BatchEntry } from '../types.js';
import type { BatchEntry } from '../types.js';

/** Which optional outputs the run wrote; `gapbench report` writes the same unless told otherwise. */
interface OutputChoices {
  /** CSVs with a UTF-8 BOM (--excel). */
  excel: boolean;
  /** results.xlsx (--xlsx). */
  xlsx: boolean;
  /** One output column per model in matrix.csv (--matrix-outputs). */
  matrix_outputs: boolean;
}

/** The subset of the suites' cases a run asked (--case, --category, --failed-from). */
export interface RunFilter {
  /** --case globs over case ids (a case matching any is kept). */
  case?: string[];
  /** --category names (a case in any is kept). */
  category?: string[];
  /** --failed-from: the run whose failed or errored cases this run asks again, and those cases by suite. */
  failed_from?: { run_id: string; dir: string; cases: Record<string, string[]> };
  /** Cases kept, of how many in the suites. */
  cases: number;
  of: number;
}

/** A filter in one short line (history.csv's `filter` column, messages): empty for no filter. */
export function describeFilter(f: RunFilter | undefined): string {
  if (!f) return '';
  const parts = [
    ...(f.case?.length ? [`case=${f.case.join('|')}`] : []),
    ...(f.category?.length ? [`category=${f.category.join('|')}`] : []),
    ...(f.failed_from ? [`failed_from=${f.failed_from.run_id}`] : []),
  ];
  return `${parts.join(' ')} (${f.cases} of ${f.of} cases)`;
}

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
  /** A sequential run (--until-decided, --until-ci, --margin): its stop rule and case order (docs/sequential.md). */
  sequential?: SequentialSettings;
  /** The slice of the cases this run covers (`--shard I/N`); `gapbench merge` joins the N of them. */
  shard?: { index: number; count: number };
  /** The shard run directories a merged run was joined from, in shard order. */
  merged_from?: { run_id: string; dir: string; shard: string; started_at: string; finished_at?: string }[];
  /** The vendor batches of models in batch mode, recorded as each is made: a resume collects them. */
  batches?: BatchEntry[];
  /**
   * Set when the run covers a subset of its suites' cases chosen on the command line (`--limit N`;
   * case, category or failed-from filters): what the subset was. Such a run is never a regression
   * baseline (history.csv's `filtered` column).
   */
  filtered?: string;
  /** The run this one was derived from (regrade). */
  derived_from?: string;
  /** The output choices the run's reports were written with (absent in manifests written before them). */
  outputs?: OutputChoices;
  /** Present when the run asked only a subset of the cases: never a regression baseline for a full run. */
  filter?: RunFilter;
  /** The capacity result (`--capacity`, config `capacity:`) whose goodput the break-even uses; `report` reads it again. */
  capacity?: { dir: string; run_id: string };
  /** `capacity`: a capacity sweep (capacity.csv, goodput.csv; no records). Absent: an evaluation run. */
  kind?: 'capacity';
  /** A capacity sweep's latency target, as goodput.csv writes it. */
  slo?: string;
}

export function writeManifest(dir: string, m: Manifest): void {
  const path = join(dir, 'manifest.json');
  writeFileSync(`${path}.tmp`, `${JSON.stringify(m, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

/** Largest manifest.json read (its batch list grows with a run; a million batches fit). */
const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;

/** A run directory's manifest, checked: a missing, special, oversized, unparsable or partial one is a UsageError. */
export function readManifest(dir: string): Manifest {
  const path = join(dir, 'manifest.json');
  let text: string;
  try {
    text = readBounded(path, MAX_MANIFEST_BYTES).toString('utf8');
  } catch (e) {
    if (e instanceof FileError && e.detail === 'file not found')
      throw new UsageError(`${dir}: not a run directory (no manifest.json)`);
    throw e;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`${path}: invalid JSON`);
  }
  const checked = manifestSchema.safeParse(value);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const msg = issue.message.charAt(0).toLowerCase() + issue.message.slice(1);
    throw new UsageError(
      `${path}: not a gapbench manifest (${formatPath(issue.path as (string | number)[])}: ${msg}); was the run cut short before it started?`,
    );
  }
  return value as Manifest;
}
