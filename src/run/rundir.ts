import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelConfig } from '../config/config.js';
import { UsageError, withoutCredentials } from '../errors.js';
import { readManifest, writeManifest, type BatchEntry, type Manifest } from '../journal/manifest.js';
import type { BatchStore } from '../providers/provider.js';
import type { Suite } from '../suite/load.js';
import { VERSION } from '../version.js';
import type { ResponseCache } from './cache.js';
import { configHash } from './identity.js';
import { acquireLock, LOCK_FILE, lockedByLiveProcess, releaseLock } from './lock.js';

/** What the manifest records of a run. */
interface RunDescription {
  runId: string;
  models: ModelConfig[];
  suites: Suite[];
  repeat: number;
  invocation: Manifest['invocation'];
  cache?: ResponseCache;
  pairs?: Manifest['pairs'];
  alpha?: number;
  shard?: Manifest['shard'];
  /** The subset of the cases asked, when not all. */
  filter?: Manifest['filter'];
  /** The subset of cases chosen on the command line, when there is one (see Manifest.filtered). */
  filtered?: string;
  /** A sequential run's plan: its settings go on record (a resume and `gapbench report` read them). */
  sequential?: { settings: NonNullable<Manifest['sequential']> };
  capacity?: Manifest['capacity'];
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
      ...(m.endpoint ? { endpoint: withoutCredentials(m.endpoint) } : {}),
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
    ...(r.shard ? { shard: { index: r.shard.index, count: r.shard.count } } : {}),
    ...(r.filter ? { filter: r.filter } : {}),
    ...(r.filtered ? { filtered: r.filtered } : {}),
    ...(r.sequential ? { sequential: r.sequential.settings } : {}),
    ...(r.capacity ? { capacity: r.capacity } : {}),
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
): { manifest: Manifest; previousStatus?: Manifest['status']; notice?: string } {
  try {
    mkdirSync(runDir, { recursive: true });
  } catch (e) {
    throw new UsageError(`cannot write to ${runDir}: ${(e as Error).message}`);
  }
  // The lock comes first: whoever loses it touches nothing (see lock.ts).
  let notice: string | undefined;
  try {
    notice = acquireLock(runDir);
  } catch (e) {
    if (!resuming) removeIfEmpty(runDir);
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot write to ${runDir}: ${(e as Error).message}`);
  }
  let previous: Manifest | undefined;
  try {
    // Never two runs' records in one journal: only a resume writes into a directory that holds
    // anything (an empty one is a run id reserved by defaultRunId, or made by a lost race).
    if (!resuming && readdirSync(runDir).some((f) => f !== LOCK_FILE && !f.startsWith(`${LOCK_FILE}.`)))
      throw new UsageError(`${runDir} already exists (choose another run id, or resume it)`);
    previous = resuming ? readManifest(runDir) : undefined;
    if (previous) manifest.created_at = previous.created_at;
    // Batches sent by an earlier invocation: a resume collects them instead of paying again.
    if (previous?.batches?.length) manifest.batches = previous.batches;
    writeManifest(runDir, manifest);
  } catch (e) {
    releaseLock(runDir);
    if (!resuming) removeIfEmpty(runDir);
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot write to ${runDir}: ${(e as Error).message}`);
  }
  return { manifest, previousStatus: previous?.status, ...(notice ? { notice } : {}) };
}

/** A directory this run made and left empty goes; one holding anything (another run's work) stays. */
function removeIfEmpty(path: string): void {
  try {
    rmdirSync(path);
  } catch {
    /* not empty, or not ours to remove */
  }
}

/** Releases this process's lock of a run directory. */
export function unlockRunDir(runDir: string): void {
  releaseLock(runDir);
}

export { lockedByLiveProcess };

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
  unlockRunDir(runDir);
}

/**
 * Batch mode's record of its batches: the ones an earlier invocation made (a resume collects
 * them), and each new or changed one written into manifest.json the moment it exists.
 */
export function batchRecorder(
  runDir: string,
  manifest: Manifest,
  notice: (line: string) => void,
): Omit<BatchStore, 'recorded' | 'stop'> {
  return {
    dir: runDir,
    runId: manifest.run_id,
    known: [...(manifest.batches ?? [])],
    save: (entry: BatchEntry) => {
      const list = (manifest.batches ??= []);
      if (!list.includes(entry)) list.push(entry);
      writeManifest(runDir, manifest);
    },
    notice,
  };
}

/**
 * A new run's default id: a UTC timestamp (`-2`, `-3`, ... when taken), claimed by creating its
 * directory exclusively, so two runs started in the same second never share one.
 */
export function defaultRunId(outDir: string, prefix = '', suffix = ''): string {
  const base = `${prefix}${new Date()
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[:]/g, '-')}${suffix}`;
  mkdirSync(outDir, { recursive: true });
  for (let i = 1; ; i++) {
    const id = i === 1 ? base : `${base}-${i}`;
    try {
      mkdirSync(join(outDir, id));
      return id;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/** A directory a new run may use: none yet, or an empty one (a run id claimed by defaultRunId, or made by hand). */
export function freeRunDir(dir: string): boolean {
  return !existsSync(dir) || (statSync(dir).isDirectory() && readdirSync(dir).length === 0);
}
