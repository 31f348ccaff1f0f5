import type { ModelConfig } from '../config/config.js';
import { StorageError, type ProviderError } from '../errors.js';
import { EXIT, type IO } from '../io.js';
import { describeFilter } from '../journal/manifest.js';
import { countJobs } from '../run/plan.js';
import { Progress } from '../run/progress.js';
import { startManifest } from '../run/rundir.js';
import { jobsProducer } from '../run/runner.js';
import { runSession, type SessionResult } from '../run/session.js';
import { StopControl } from '../run/stop.js';
import { terminalSafe } from '../util/text.js';
import type { PreparedRun } from './prepare.js';
import { label } from './shard.js';
import { applyThresholds } from './thresholds.js';

/**
 * `gapbench run` (and `demo`, `start`, a resume) at the terminal: the run session with progress
 * lines and Ctrl-C handling around it, then the report, the run's notes and the thresholds.
 */
export async function executeRun(p: PreparedRun, io: IO): Promise<number> {
  for (const line of p.banner ?? []) io.stdout.write(`${line}\n`);
  announceModels(p.models, io);
  // report.html's charting library takes a few hundred ms to load: load it while the requests are
  // out, not after the last answer (the reports then find it loaded).
  void import('../report/html.js').catch(() => undefined);
  const stopped: string[] = [];
  const say = (line: string) => io.stderr.write(`${line}\n`);
  const control = new StopControl(say, io.signals, p.maxDurationMs);
  const progress = new Progress({ out: io.stderr, intervalSec: p.progressIntervalSec, quiet: p.quiet });
  let result: SessionResult;
  try {
    result = await runSession(
      {
        runDir: p.runDir,
        resuming: p.resuming,
        manifest: startManifest(p),
        outputs: { excel: p.excel, xlsx: p.xlsx, matrixOutputs: p.matrixOutputs },
        // A shard is part of a run: its history row is written by `gapbench merge`.
        history: !p.shard,
        notice: say,
        opened: () => (p.quiet ? undefined : say(planLine(p))),
      },
      jobsProducer({
        ...p,
        providerEnv: { env: io.env, cwd: io.cwd },
        signals: { stop: control.stop.signal, abort: control.abort.signal },
        onLanes: (lanes) => progress.start(lanes),
        onGate: (gate) => progress.also(() => gate.progressLines()),
        onLaneStopped: (m, e) => {
          stopped.push(laneStoppedLine(m, e));
          say(stopped[stopped.length - 1]);
        },
        batchNotice: (line) => say(terminalSafe(line, 500)),
      }),
    );
  } catch (e) {
    if (!(e instanceof StorageError)) throw e;
    say(
      `gapbench run: ${e.message}: the journal keeps every answer written so far; free space, then resume with: ${resumeCommand(p.runDir, io)}`,
    );
    return EXIT.interrupted;
  } finally {
    progress.stop();
    control.dispose();
  }
  return finished(p, result, stopped, io);
}

/** The report, what stopped, and the exit code. */
function finished(p: PreparedRun, r: SessionResult, stopped: string[], io: IO): Promise<number> | number {
  io.stdout.write(r.report.terminal(io.stdout, io.env));
  for (const l of stopped) io.stdout.write(`! ${l}\n`);
  io.stdout.write(`Results: ${p.runDir}\n`);
  if (p.shard && !r.interrupted)
    io.stdout.write(
      `Shard ${label(p.shard)} of the run: the figures above cover its cases only; join all ${p.shard.count} with: gapbench merge OUT_DIR SHARD_DIR...\n`,
    );
  if (r.interrupted) {
    const { stop, unfinished } = r.produced;
    io.stdout.write(`${stop}: ${unfinished} job(s) not run. Resume with: ${resumeCommand(p.runDir, io)}\n`);
    return EXIT.interrupted;
  }
  return applyThresholds(p.thresholds, r.report, p.runDir, io);
}

/** Each vendor rule that changed a model's requests, said once (recorded in the manifest too). */
function announceModels(models: ModelConfig[], io: IO): void {
  for (const m of models) {
    for (const note of m.rules ?? []) io.stderr.write(`note: model '${terminalSafe(m.id, 80)}': ${note}\n`);
    if (m.batch && !m.judgeOnly && !m.price?.batch && (m.price?.input !== undefined || m.price?.output !== undefined))
      io.stderr.write(
        `note: model '${terminalSafe(m.id, 80)}': batch answers are costed at half the live token price (set price.batch for the vendor's own)\n`,
      );
  }
}

function planLine(p: PreparedRun): string {
  const bench = p.models.filter((m) => !m.judgeOnly);
  const total = countJobs(p.suites, p.repeat, p.shard) * bench.length;
  const cases = p.shard ? `shard ${label(p.shard)}: ${countJobs(p.suites, 1, p.shard)} case(s) of ` : '';
  const filter = p.filter ? `; ${terminalSafe(describeFilter(p.filter), 300)}` : '';
  const seq = p.sequential ? `; sequential, cases in random order (seed ${p.sequential.settings.order_seed})` : '';
  return `Run ${p.runId}: ${total} jobs (${cases}${p.suites.length} suite(s) x ${bench.length} model(s) x ${p.repeat} repeat(s)${filter}${seq}) -> ${p.runDir}`;
}

/** The command that resumes a run; run through npx (a clone, not a global install), it says npx too. */
function resumeCommand(runDir: string, io: IO): string {
  return `${io.env.npm_command === 'exec' ? 'npx gapbench' : 'gapbench'} run --resume ${shellQuote(runDir)}`;
}

function laneStoppedLine(m: ModelConfig, e: ProviderError): string {
  // The provider's message starts by naming the model too: once is enough.
  const prefix = `model '${m.id}': `;
  const why = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
  const article = /^[aeiou]/.test(e.kind) ? 'an' : 'a';
  return terminalSafe(`model '${m.id}' stopped after ${article} ${e.kind} error: ${why}`, 500);
}

/** A path as one shell word (quoted only when it needs to be). */
function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
}
