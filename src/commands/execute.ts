import { join } from 'node:path';
import type { ModelConfig } from '../config/config.js';
import type { ProviderError } from '../errors.js';
import { EXIT, type IO } from '../io.js';
import { Journal } from '../journal/journal.js';
import type { Manifest } from '../journal/manifest.js';
import { recordedJobs } from '../journal/read.js';
import { ReportState, writeReports, type Report } from '../report/index.js';
import { countJobs } from '../run/plan.js';
import { Progress } from '../run/progress.js';
import { finishManifest, openRunDir, startManifest } from '../run/rundir.js';
import { runJobs, type RunnerResult } from '../run/runner.js';
import { StopControl } from '../run/stop.js';
import { terminalSafe } from '../util/text.js';
import type { PreparedRun } from './prepare.js';
import { applyThresholds } from './thresholds.js';

/** Runs a prepared plan: journal, lanes, progress, interrupt handling, reports, thresholds. */
export async function executeRun(p: PreparedRun, io: IO): Promise<number> {
  for (const line of p.banner ?? []) io.stdout.write(`${line}\n`);
  const { manifest, previousStatus } = openRunDir(p.runDir, p.resuming, startManifest(p));
  const bench = p.models.filter((m) => !m.judgeOnly);
  const total = countJobs(p.suites, p.repeat) * bench.length;
  if (!p.quiet) {
    io.stderr.write(
      `Run ${p.runId}: ${total} jobs (${p.suites.length} suite(s) x ${bench.length} model(s) x ${p.repeat} repeat(s)) -> ${p.runDir}\n`,
    );
  }
  const stopped: string[] = [];
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
      history: !interrupted && previousStatus !== 'finished',
      manifest,
    },
    live,
  );
  finishManifest(p.runDir, manifest, report, total, result.unfinished, interrupted);
  io.stdout.write(report.terminal(io.stdout, io.env));
  for (const l of stopped) io.stdout.write(`! ${l}\n`);
  io.stdout.write(`Results: ${p.runDir}\n`);
  if (interrupted) {
    // Run through npx (a clone, not a global install): the hint says npx too.
    const cmd = io.env.npm_command === 'exec' ? 'npx gapbench' : 'gapbench';
    io.stdout.write(
      `${stop}: ${result.unfinished} job(s) not run. Resume with: ${cmd} run --resume ${shellQuote(p.runDir)}\n`,
    );
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
  const previous = journal.size === 0 ? undefined : await recordedJobs(journal.path);
  const control = new StopControl((line) => io.stderr.write(`${line}\n`), io.signals, p.maxDurationMs);
  const progress = new Progress({ out: io.stderr, intervalSec: p.progressIntervalSec, quiet: p.quiet });
  try {
    const result = await runJobs({
      runId: p.runId,
      models: p.models,
      suites: p.suites,
      repeat: p.repeat,
      sink: journal,
      previous,
      retryErrors: p.retryErrors,
      cache: p.cache,
      providerEnv: { env: io.env, cwd: io.cwd },
      signals: { stop: control.stop.signal, abort: control.abort.signal },
      onLanes: (lanes) => progress.start(lanes),
      onRecord: (rec, offset, bytes) => live?.add(rec, offset, bytes),
      onLaneStopped: (m, e) => onStopped(laneStoppedLine(m, e)),
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
