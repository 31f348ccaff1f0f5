import { join } from 'node:path';
import type { ModelConfig } from '../config/config.js';
import type { ProviderError } from '../errors.js';
import { EXIT, type IO } from '../io.js';
import { Journal } from '../journal/journal.js';
import { describeFilter, writeManifest, type Manifest } from '../journal/manifest.js';
import { recordedJobs } from '../journal/read.js';
import { ReportState, writeReports } from '../report/index.js';
import { countJobs } from '../run/plan.js';
import { Progress } from '../run/progress.js';
import { batchRecorder, finishManifest, openRunDir, startManifest, unlockRunDir } from '../run/rundir.js';
import { runJobs, type RunnerResult } from '../run/runner.js';
import { StopControl } from '../run/stop.js';
import { terminalSafe } from '../util/text.js';
import type { PreparedRun } from './prepare.js';
import { label } from './shard.js';
import { applyThresholds } from './thresholds.js';

/** Runs a prepared plan: journal, lanes, progress, interrupt handling, reports, thresholds. */
export async function executeRun(p: PreparedRun, io: IO): Promise<number> {
  for (const line of p.banner ?? []) io.stdout.write(`${line}\n`);
  // Each vendor rule that changed a model's requests, said once (recorded in the manifest too).
  for (const m of p.models) {
    for (const note of m.rules ?? []) io.stderr.write(`note: model '${terminalSafe(m.id, 80)}': ${note}\n`);
    if (m.batch && !m.judgeOnly && !m.price?.batch && (m.price?.input !== undefined || m.price?.output !== undefined))
      io.stderr.write(
        `note: model '${terminalSafe(m.id, 80)}': batch answers are costed at half the live token price (set price.batch for the vendor's own)\n`,
      );
  }
  const opened = openRunDir(p.runDir, p.resuming, startManifest(p));
  if (opened.notice) io.stderr.write(`${opened.notice}\n`);
  try {
    return await runOpened(p, io, opened.manifest, opened.previousStatus);
  } catch (e) {
    if (!isStorageError(e)) throw e;
    return storageStop(p, opened.manifest, e, io);
  } finally {
    unlockRunDir(p.runDir);
  }
}

/** The command that resumes a run; run through npx (a clone, not a global install), it says npx too. */
function resumeCommand(runDir: string, io: IO): string {
  return `${io.env.npm_command === 'exec' ? 'npx gapbench' : 'gapbench'} run --resume ${shellQuote(runDir)}`;
}

/** Errors of the disk, not of gapbench: full, quota, read-only, I/O. */
function isStorageError(e: unknown): e is NodeJS.ErrnoException {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EROFS' || code === 'EIO' || code === 'EFBIG';
}

/**
 * A write that failed for lack of space (or a failing disk) stops the run as an interrupt does:
 * every answer already in the journal stays, no CSV is left half-written (they are renamed into
 * place only when complete), the manifest says why when it still can, and the message names the
 * path and the resume command.
 */
function storageStop(p: PreparedRun, manifest: Manifest, e: NodeJS.ErrnoException, io: IO): number {
  const what = `${e.code}${e.path ? ` writing ${e.path}` : ''}`;
  try {
    writeManifest(p.runDir, { ...manifest, status: 'interrupted', reason: what });
  } catch {
    /* the disk may refuse this too: the journal is what resume reads */
  }
  io.stderr.write(
    `gapbench run: cannot write to ${p.runDir} (${what}): the journal keeps every answer written so far; free space, then resume with: ${resumeCommand(p.runDir, io)}\n`,
  );
  return EXIT.interrupted;
}

/** The run in its opened (and locked) directory: lanes, reports, manifest, thresholds. */
async function runOpened(
  p: PreparedRun,
  io: IO,
  manifest: Manifest,
  previousStatus: Manifest['status'] | undefined,
): Promise<number> {
  const bench = p.models.filter((m) => !m.judgeOnly);
  const total = countJobs(p.suites, p.repeat, p.shard) * bench.length;
  if (!p.quiet) {
    const cases = p.shard ? `shard ${label(p.shard)}: ${countJobs(p.suites, 1, p.shard)} case(s) of ` : '';
    io.stderr.write(
      `Run ${p.runId}: ${total} jobs (${cases}${p.suites.length} suite(s) x ${bench.length} model(s) x ${p.repeat} repeat(s)${p.filter ? `; ${terminalSafe(describeFilter(p.filter), 300)}` : ''}) -> ${p.runDir}\n`,
    );
  }
  const stopped: string[] = [];
  // report.html's charting library takes a few hundred ms to load: load it while the requests are
  // out, not after the last answer (writeReports then finds it loaded).
  void import('../report/html.js').catch(() => undefined);
  const { result, live, stop } = await runWithJournal(p, manifest, io, (line) => {
    stopped.push(line);
    io.stderr.write(`${line}\n`);
  });
  const interrupted = Boolean(stop) && result.unfinished > 0;
  const report = await writeReports(
    p.runDir,
    {
      excel: p.excel,
      xlsx: p.xlsx,
      matrixOutputs: p.matrixOutputs,
      // A shard is part of a run: its history row is written by `gapbench merge`.
      history: !interrupted && previousStatus !== 'finished' && !p.shard,
      manifest,
    },
    live,
  );
  finishManifest(p.runDir, manifest, report, total, result.unfinished, interrupted);
  io.stdout.write(report.terminal(io.stdout, io.env));
  for (const l of stopped) io.stdout.write(`! ${l}\n`);
  io.stdout.write(`Results: ${p.runDir}\n`);
  if (p.shard && !interrupted)
    io.stdout.write(
      `Shard ${label(p.shard)} of the run: the figures above cover its cases only; join all ${p.shard.count} with: gapbench merge OUT_DIR SHARD_DIR...\n`,
    );
  if (interrupted) {
    io.stdout.write(`${stop}: ${result.unfinished} job(s) not run. Resume with: ${resumeCommand(p.runDir, io)}\n`);
    return EXIT.interrupted;
  }
  return applyThresholds(p.thresholds, report, p.runDir, io);
}

/** The lanes at work, with the journal open, progress shown and Ctrl-C handled. */
async function runWithJournal(
  p: PreparedRun,
  manifest: Manifest,
  io: IO,
  onStopped: (line: string) => void,
): Promise<{ result: RunnerResult; live?: ReportState; stop?: string }> {
  const { journal, dropped } = Journal.open(join(p.runDir, 'records.jsonl'));
  if (dropped)
    io.stderr.write(`records.jsonl: dropped a torn last line (${dropped} bytes) left by a crash; its job runs again\n`);
  // A fresh journal: every record passes through here, so the reports need no second read of it.
  const live = journal.size === 0 ? new ReportState(manifest, p.matrixOutputs) : undefined;
  const stats = { damaged: 0 };
  const previous = journal.size === 0 ? undefined : await recordedJobs(journal.path, stats);
  if (stats.damaged)
    io.stderr.write(`note: skipped ${stats.damaged} damaged line(s) of ${journal.path}; their jobs run again\n`);
  const control = new StopControl((line) => io.stderr.write(`${line}\n`), io.signals, p.maxDurationMs);
  const progress = new Progress({ out: io.stderr, intervalSec: p.progressIntervalSec, quiet: p.quiet });
  try {
    const result = await runJobs({
      runId: p.runId,
      models: p.models,
      suites: p.suites,
      repeat: p.repeat,
      shard: p.shard,
      sink: journal,
      previous,
      retryErrors: p.retryErrors,
      cache: p.cache,
      providerEnv: { env: io.env, cwd: io.cwd },
      signals: { stop: control.stop.signal, abort: control.abort.signal },
      onLanes: (lanes) => progress.start(lanes),
      onRecord: (rec, offset, bytes) => live?.add(rec, offset, bytes),
      onLaneStopped: (m, e) => onStopped(laneStoppedLine(m, e)),
      batch: p.models.some((m) => m.batch && !m.judgeOnly)
        ? batchRecorder(p.runDir, manifest, (line) => io.stderr.write(`${terminalSafe(line, 500)}\n`))
        : undefined,
    });
    return { result, live, stop: control.reason };
  } finally {
    progress.stop();
    control.dispose();
    journal.close();
  }
}

function laneStoppedLine(m: ModelConfig, e: ProviderError): string {
  // The provider's message starts by naming the model too: once is enough.
  const prefix = `model '${m.id}': `;
  const why = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
  const article = /^[aeiou]/.test(e.kind) ? 'an' : 'a';
  return terminalSafe(`model '${m.id}' stopped after ${article} ${e.kind} error: ${why}`, 500);
}

/** A path as one shell word (quoted only when it needs to be). */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
}
