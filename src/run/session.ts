/**
 * THE run: from a described run to finished reports, in one place. It opens (or reopens) the run
 * directory and takes its lock, opens the journal, lets a producer write records into it (the
 * lanes, for `run`, `demo`, `start` and `evaluate()`; stored answers graded again, for `regrade`;
 * shards' journals, for `merge`), writes every report from what was recorded, finishes the
 * manifest, and in one `finally` closes the journal and releases the lock. Without a directory
 * (a library run without `out`) the same steps run in memory.
 */
import { join } from 'node:path';
import { isStorageError, StorageError } from '../errors.js';
import { Journal } from '../journal/journal.js';
import { writeManifest, type Manifest } from '../journal/manifest.js';
import { recordedJobs, type RecordedJobs } from '../journal/read.js';
import type { JobRecord, RecordSink } from '../journal/record.js';
import { computeReport, ReportState, writeReports, type OutputOptions, type Report } from '../report/index.js';
import { finishManifest, openRunDir, unlockRunDir } from './rundir.js';

interface SessionSpec {
  /** The run directory; absent: nothing is written and the records stay in memory. */
  runDir?: string;
  /** Reopen an existing run directory (a resume); otherwise it must not exist. */
  resuming: boolean;
  /** Write the journal in blocks (records copied from other files, as merge does): see Journal. */
  buffered?: boolean;
  /** The manifest as the run starts (status `running`). */
  manifest: Manifest;
  outputs: OutputOptions;
  /** Add the run's row to history.csv when it finishes (never for a shard, a regrade, or a run already finished). */
  history: boolean;
  /** Lines for the user (a lock taken over, a torn journal tail repaired). */
  notice(line: string): void;
  /** Called once the run directory is open and locked, before anything is produced. */
  opened?(): void;
}

/** What a producer is given: where records go, and what an earlier invocation recorded. */
interface ProduceContext {
  sink: RecordSink;
  runDir?: string;
  manifest: Manifest;
  /** Jobs recorded by an earlier invocation (a resume). */
  previous?: RecordedJobs;
}

interface Produced {
  /** Jobs planned in all, and those not recorded because the run stopped early. */
  total: number;
  unfinished: number;
  /** Why it stopped early (Ctrl-C, --max-duration), when it did. */
  stop?: string;
}

export type Producer = (ctx: ProduceContext) => Promise<Produced>;

export interface SessionResult {
  report: Report;
  manifest: Manifest;
  produced: Produced;
  /** Stopped before every job was recorded: the journal is intact and resumable. */
  interrupted: boolean;
}

export async function runSession(spec: SessionSpec, produce: Producer): Promise<SessionResult> {
  if (!spec.runDir) return inMemory(spec, produce);
  const runDir = spec.runDir;
  // On record, so that `gapbench report` writes the same files (docs/daily.md).
  const { excel, xlsx, matrixOutputs } = spec.outputs;
  spec.manifest.outputs = { excel, xlsx: Boolean(xlsx), matrix_outputs: matrixOutputs };
  const opened = openRunDir(runDir, spec.resuming, spec.manifest);
  if (opened.notice) spec.notice(opened.notice);
  const manifest = opened.manifest;
  spec.opened?.();
  try {
    const { produced, live } = await produceIntoJournal(runDir, manifest, spec, produce);
    const interrupted = stoppedEarly(produced);
    const history = spec.history && !interrupted && opened.previousStatus !== 'finished';
    const report = await writeReports(runDir, { ...spec.outputs, history, manifest }, live);
    finishManifest(runDir, manifest, report, produced.total, produced.unfinished, interrupted);
    return { report, manifest, produced, interrupted };
  } catch (e) {
    throw stopOnStorage(e, runDir, manifest);
  } finally {
    unlockRunDir(runDir);
  }
}

/** The journal open while the producer writes; a fresh journal feeds the reports as it goes. */
async function produceIntoJournal(
  runDir: string,
  manifest: Manifest,
  spec: SessionSpec,
  produce: Producer,
): Promise<{ produced: Produced; live?: ReportState }> {
  const { journal, dropped } = Journal.open(join(runDir, 'records.jsonl'), { buffered: spec.buffered });
  try {
    if (dropped)
      spec.notice(`records.jsonl: dropped a torn last line (${dropped} bytes) left by a crash; its job runs again`);
    // A fresh journal: every record passes through here, so the reports need no second read of it.
    const live = journal.size === 0 ? new ReportState(manifest, spec.outputs.matrixOutputs) : undefined;
    const stats = { damaged: 0 };
    const previous = journal.size === 0 ? undefined : await recordedJobs(journal.path, stats);
    if (stats.damaged)
      spec.notice(`note: skipped ${stats.damaged} damaged line(s) of ${journal.path}; their jobs run again`);
    const sink = feeding(journal, live);
    const produced = await produce({ sink, runDir, manifest, previous });
    return { produced, live };
  } finally {
    journal.close();
  }
}

/** A sink that also feeds the reports' state. */
function feeding(sink: RecordSink, live: ReportState | undefined): RecordSink {
  if (!live) return sink;
  return {
    append(record: JobRecord) {
      const at = sink.append(record);
      live.add(record, at.offset, at.bytes);
      return at;
    },
  };
}

/** The run stopped (Ctrl-C, --max-duration, an aborted signal) before every job was recorded. */
function stoppedEarly(produced: Produced): boolean {
  return Boolean(produced.stop) && produced.unfinished > 0;
}

/** A library run without a directory: records counted into the reports' state, nothing written. */
async function inMemory(spec: SessionSpec, produce: Producer): Promise<SessionResult> {
  const manifest = spec.manifest;
  const live = new ReportState(manifest, false);
  let n = 0;
  const sink = feeding({ append: () => ({ offset: n++, bytes: 0 }) }, live);
  const produced = await produce({ sink, manifest });
  const interrupted = stoppedEarly(produced);
  const report = computeReport(live);
  Object.assign(manifest, { status: interrupted ? 'interrupted' : 'finished', finished_at: new Date().toISOString() });
  return { report, manifest, produced, interrupted };
}

/**
 * A write that failed for lack of space (or a failing disk), whichever file it hit, stops the run
 * as an interrupt does: every answer already in the journal stays, no CSV is left half-written
 * (they are renamed into place only when complete), and the manifest says why when it still can.
 */
function stopOnStorage(e: unknown, runDir: string, manifest: Manifest): unknown {
  if (!isStorageError(e)) return e;
  const what = `${e.code}${e.path ? ` writing ${e.path}` : ''}`;
  try {
    writeManifest(runDir, { ...manifest, status: 'interrupted', reason: what });
  } catch {
    /* the disk may refuse this too: the journal is what resume reads */
  }
  return new StorageError(runDir, what);
}
