import { existsSync, mkdirSync, rmSync } from 'node:fs';
import type { ModelConfig } from '../config/config.js';
import { UsageError } from '../errors.js';
import { readManifest, writeManifest, type Manifest } from '../journal/manifest.js';
import type { Suite } from '../suite/load.js';
import { VERSION } from '../version.js';
import type { ResponseCache } from './cache.js';
import { configHash } from './identity.js';

/** What the manifest records of a run. */
export interface RunDescription {
  runId: string;
  models: ModelConfig[];
  suites: Suite[];
  repeat: number;
  invocation: Manifest['invocation'];
  cache?: ResponseCache;
  pairs?: Manifest['pairs'];
  alpha?: number;
}

/** What a run is, before it starts: the manifest written with status `running`. */
export function startManifest(r: RunDescription): Manifest {
  return {
    gapbench: VERSION,
    node: process.version,
    run_id: r.runId,
    status: 'running',
    created_at: new Date().toISOString(),
    started_at: new Date().toISOString(),
    config_hash: configHash(r.models, r.suites, r.repeat),
    invocation: r.invocation,
    // Header values may be secrets: the manifest keeps their names only.
    models: r.models.map(({ headers, ...m }) => ({
      ...m,
      ...(headers ? { header_names: Object.keys(headers) } : {}),
    })),
    suites: r.suites.map((s) => ({
      name: s.name,
      file: s.file,
      hash: s.hash,
      cases: s.cases.length,
      description: s.description,
    })),
    repeat: r.repeat,
    cache: r.cache ? { mode: r.cache.mode, dir: r.cache.dir } : { mode: 'off', dir: '' },
    ...(r.pairs?.length ? { pairs: r.pairs } : {}),
    ...(r.alpha === undefined ? {} : { alpha: r.alpha }),
  };
}

/**
 * Creates (or reopens, for a resume) the run directory and marks its manifest `running`. Returns
 * the status the run had before (a finished run resumed with --retry-errors is not a new history row).
 */
export function openRunDir(
  runDir: string,
  resuming: boolean,
  manifest: Manifest,
): { manifest: Manifest; previousStatus?: Manifest['status'] } {
  const created = !existsSync(runDir);
  const previous = resuming ? readManifest(runDir) : undefined;
  if (previous) manifest.created_at = previous.created_at;
  try {
    mkdirSync(runDir, { recursive: true });
    writeManifest(runDir, manifest);
  } catch (e) {
    if (created) rmSync(runDir, { recursive: true, force: true });
    throw new UsageError(`cannot write to ${runDir}: ${(e as Error).message}`);
  }
  return { manifest, previousStatus: previous?.status };
}

export function finishManifest(
  runDir: string,
  manifest: Manifest,
  report: { records: number; ok: number; errors: number },
  total: number,
  unfinished: number,
  interrupted: boolean,
): void {
  manifest.status = interrupted ? 'interrupted' : 'finished';
  manifest.finished_at = new Date().toISOString();
  manifest.counts = { jobs: total, records: report.records, ok: report.ok, errors: report.errors, unfinished };
  writeManifest(runDir, manifest);
}
