import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ModelConfig } from '../config/config.js';
import { UsageError, withoutCredentials } from '../errors.js';
import { readManifest, writeManifest, type BatchEntry, type Manifest } from '../journal/manifest.js';
import type { BatchStore } from '../providers/provider.js';
import type { Suite } from '../suite/load.js';
import { VERSION } from '../version.js';
import type { ResponseCache } from './cache.js';
import { configHash } from './identity.js';

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
  const created = !existsSync(runDir);
  // Never two runs' records in one journal: only a resume writes into a directory that exists.
  if (!created && !resuming) throw new UsageError(`${runDir} already exists (choose another run id, or resume it)`);
  let notice: string | undefined;
  try {
    mkdirSync(runDir, { recursive: true });
    notice = lockRunDir(runDir);
  } catch (e) {
    if (created) removeQuietly(runDir);
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot write to ${runDir}: ${(e as Error).message}`);
  }
  const previous = resuming ? readManifest(runDir) : undefined;
  if (previous) manifest.created_at = previous.created_at;
  // Batches sent by an earlier invocation: a resume collects them instead of paying again.
  if (previous?.batches?.length) manifest.batches = previous.batches;
  try {
    writeManifest(runDir, manifest);
  } catch (e) {
    unlockRunDir(runDir);
    if (created) removeQuietly(runDir);
    throw new UsageError(`cannot write to ${runDir}: ${(e as Error).message}`);
  }
  return { manifest, previousStatus: previous?.status, ...(notice ? { notice } : {}) };
}

/** Removes what this run created; a path that cannot be removed (not a directory after all) is left. */
function removeQuietly(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {
    /* nothing was created there */
  }
}

const LOCK = '.lock';
const held = new Set<string>();
let releaseOnExit = false;

/**
 * One writer per run directory: a lock file with the holder's pid and host, created exclusively.
 * A lock left by a process that is gone (same host, pid not running) is taken over, with a
 * notice; a live holder, or one on another host, is an error naming it. Released when the run
 * finishes, and when this process exits however it exits (a kill -9 leaves a stale lock).
 */
function lockRunDir(runDir: string): string | undefined {
  const path = join(runDir, LOCK);
  const me = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() });
  let notice: string | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, me, { flag: 'wx' });
      if (!releaseOnExit) {
        releaseOnExit = true;
        process.once('exit', () => held.forEach((p) => rmSync(p, { force: true })));
      }
      held.add(path);
      return notice;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = readHolder(path);
    if (holder && (holder.host !== hostname() || alive(holder.pid)))
      throw new UsageError(
        `${runDir} is in use by gapbench pid ${holder.pid} on ${holder.host} since ${holder.since}: wait for it to end or stop it (a lock of a machine that died: delete ${path})`,
      );
    notice = `note: took over the lock of ${runDir} left by pid ${holder?.pid ?? '?'}, which is no longer running`;
    rmSync(path, { force: true });
  }
  throw new UsageError(`${runDir}: could not take its lock ${path}`);
}

function readHolder(path: string): { pid: number; host: string; since: string } | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as { pid: number; host: string; since: string };
    return typeof v.pid === 'number' && typeof v.host === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a live process holds the run directory (a lock on another host counts as live). */
export function lockedByLiveProcess(runDir: string): boolean {
  const holder = readHolder(join(runDir, LOCK));
  return holder !== undefined && (holder.host !== hostname() || alive(holder.pid));
}

/** Releases this process's lock of a run directory. */
export function unlockRunDir(runDir: string): void {
  const path = join(runDir, LOCK);
  if (held.delete(path)) rmSync(path, { force: true });
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
