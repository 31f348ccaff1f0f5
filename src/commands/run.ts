import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig, missingKeys, type Config, type ModelConfig } from '../config/config.js';
import { ProviderError, UsageError } from '../errors.js';
import { EXIT, type IO } from '../io.js';
import { createProvider, hasPreflight } from '../providers/index.js';
import { ReportState, writeReports } from '../report/index.js';
import { RowSpool, SPOOL_FILE } from '../report/spool.js';
import { terminalSafe } from '../report/text.js';
import { defaultCacheDir, ResponseCache, type CacheMode } from '../run/cache.js';
import { configHash, describeChange, readManifest, writeManifest, type Manifest } from '../run/manifest.js';
import { countJobs } from '../run/plan.js';
import { Progress } from '../run/progress.js';
import { runJobs } from '../run/runner.js';
import { loadSuite, type Suite } from '../suite/load.js';
import { checkProblem } from '../suite/validate.js';
import { parse, duration, keyValues, nonNegativeInt, positiveInt } from '../util/args.js';
import { VERSION } from '../version.js';
import { applyThresholds, thresholdOptions, THRESHOLD_HELP, type ThresholdOptions } from './thresholds.js';

export const RUN_HELP = `Usage: gapbench run [options]

Runs every suite against every model (each model in its own lane, all at once) and writes
results/<run-id>/: records.jsonl, manifest.json, results.csv, summary.csv, gap.csv, matrix.csv.

Options:
  --config FILE          config file (default: gapbench.config.yaml when present)
  --suite FILE|NAME      suite file or bundled suite name (repeatable; default: the config's suites)
  --model PROVIDER:MODEL add a model, e.g. openai:gpt-4o-mini, ollama:llama3.1:8b (repeatable)
  --set KEY=VALUE        variable for \${KEY} in suite source paths (repeatable; overrides the environment)
  --out DIR              parent directory of run directories (default: results)
  --run-id NAME          name of the run directory (default: a UTC timestamp)
  --repeat N             ask each case N times (default 1)
  --concurrency N        requests in flight per model, overriding every lane
  --threads N            threads for the lanes of network models (default: one per such model,
                         up to the number of cores minus one); 0 runs every lane on the main thread
  --resume DIR           continue an interrupted run: only jobs with no record are run
  --retry-errors         with --resume, also re-run jobs whose record is an error
  --force                with --resume, accept a changed config or suite
  --cache MODE           use | refresh | off (default use; see README: which models are cached)
  --cache-dir DIR        response cache location (default: $GAPBENCH_CACHE_DIR or ~/.cache/gapbench)
  --max-duration TIME    stop starting jobs after TIME (e.g. 30m), write results, exit 130
  --progress-interval S  seconds between progress lines when not on a terminal (default 10)
  --excel                write CSVs with a UTF-8 BOM (Excel shows Chinese text correctly)
  --matrix-outputs       add one output column per model to matrix.csv
  --quiet                print only the final summary and the run directory
${THRESHOLD_HELP}
  -h, --help             show this help

Exit codes: 0 finished; 1 finished but a threshold failed; 2 bad usage, config or suite
(nothing run); 130 interrupted (journal intact; resume with --resume DIR).`;

export const RUN_OPTIONS = {
  config: { type: 'string' },
  suite: { type: 'string', multiple: true },
  model: { type: 'string', multiple: true },
  set: { type: 'string', multiple: true },
  out: { type: 'string' },
  'run-id': { type: 'string' },
  repeat: { type: 'string' },
  concurrency: { type: 'string' },
  threads: { type: 'string' },
  resume: { type: 'string' },
  'retry-errors': { type: 'boolean' },
  force: { type: 'boolean' },
  cache: { type: 'string' },
  'cache-dir': { type: 'string' },
  'max-duration': { type: 'string' },
  'progress-interval': { type: 'string' },
  excel: { type: 'boolean' },
  'matrix-outputs': { type: 'boolean' },
  quiet: { type: 'boolean' },
  'fail-under': { type: 'string', multiple: true },
  'fail-on-regression': { type: 'string' },
  baseline: { type: 'string' },
  'max-errors': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Everything a run needs, already validated. `demo` builds one of these around the simulator. */
export interface PreparedRun {
  models: ModelConfig[];
  suites: Suite[];
  repeat: number;
  outDir: string;
  runId: string;
  resumeDir?: string;
  retryErrors: boolean;
  cache: ResponseCache;
  invocation: Manifest['invocation'];
  maxDurationMs?: number;
  progressIntervalSec: number;
  quiet: boolean;
  excel: boolean;
  matrixOutputs: boolean;
  thresholds: ThresholdOptions;
  /** Lane threads (--threads); undefined: the default (run/threads.ts). */
  threads?: number;
  /** Extra lines printed before anything else (the demo says its models are simulated). */
  banner?: string[];
}

/** A path as one shell word (quoted only when it needs to be). */
function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
}

export async function runCommand(argv: string[], io: IO): Promise<number> {
  const { values } = parse('run', argv, RUN_OPTIONS);
  if (values.help) {
    io.stdout.write(`${RUN_HELP}\n`);
    return EXIT.ok;
  }
  const prepared = await prepareRun(values, io);
  return executeRun(prepared, io);
}

type RunValues = ReturnType<typeof parse<typeof RUN_OPTIONS>>['values'];

export async function prepareRun(values: RunValues, io: IO): Promise<PreparedRun> {
  let manifest: Manifest | undefined;
  const resumeDir = values.resume ? resolve(io.cwd, values.resume) : undefined;
  if (resumeDir) manifest = readManifest(resumeDir);
  const inv = manifest?.invocation;
  const sets = { ...(inv?.sets ?? {}), ...keyValues('--set', values.set) };
  const vars = { ...io.env, ...sets };
  const configPath = values.config ?? inv?.config;
  const cliModels = values.model ?? inv?.models ?? [];
  const config: Config = loadConfig({ configPath, cliModels, cwd: io.cwd, env: io.env });
  // A resumed run keeps the --concurrency it was started with unless given another.
  const concurrency = positiveInt('--concurrency', values.concurrency) ?? inv?.concurrency;
  const models = config.models.map((m) => (concurrency ? { ...m, concurrency } : m));
  if (!models.some((m) => !m.judgeOnly)) {
    throw new UsageError(
      'no models to run: pass --model provider:model (e.g. --model openai:gpt-4o-mini) or list models in gapbench.config.yaml',
    );
  }
  const missing = missingKeys(models, io.env);
  if (missing.length)
    throw new UsageError(missing[0] + (missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''));

  // --suite wins; a resumed run keeps its own; else the config's list, resolved from the config's directory.
  const fromConfig = !values.suite && !inv?.suites.length;
  const suiteRefs = values.suite ?? (inv?.suites.length ? inv.suites : config.suites);
  if (!suiteRefs.length)
    throw new UsageError(
      'no suites to run: pass --suite FILE|NAME (see `gapbench suites`) or list suites in the config',
    );
  const suites: Suite[] = [];
  for (const [i, ref] of suiteRefs.entries()) {
    const source = fromConfig ? config.suiteSources?.[i] : undefined;
    const label = source?.label ?? `--suite ${ref}`;
    const cwd = source?.dir ?? (inv?.cwd && !values.suite ? inv.cwd : io.cwd);
    const s = await loadSuite(ref, { cwd, vars, label });
    if (suites.some((x) => x.name === s.name)) throw new UsageError(`${label}: two suites are named '${s.name}'`);
    suites.push(s);
  }
  const repeat = positiveInt('--repeat', values.repeat) ?? inv?.repeat ?? config.repeat ?? 1;
  // A gold answer that disagrees with its own `check` makes every grade of that case suspect: say
  // so before spending anything (the run goes on; `gapbench validate` lists them all).
  for (const s of suites) {
    const bad = s.cases.map(checkProblem).filter((p): p is string => p !== undefined);
    if (bad.length)
      io.stderr.write(
        `warning: ${terminalSafe(s.file, 200)}: ${bad.length} case(s) whose check disagrees with expected (${terminalSafe(bad[0], 200)}); see gapbench validate ${terminalSafe(s.file, 200)}\n`,
      );
  }

  for (const m of models.filter(hasPreflight)) {
    const p = createProvider(m, { env: io.env, cwd: io.cwd });
    await p.preflight?.(AbortSignal.timeout(10_000));
  }

  const cacheMode = (values.cache ?? 'use') as CacheMode;
  if (!['use', 'refresh', 'off'].includes(cacheMode))
    throw new UsageError(`--cache ${values.cache}: expected use, refresh or off`);
  const cache = new ResponseCache(
    values['cache-dir'] ? resolve(io.cwd, values['cache-dir']) : defaultCacheDir(io.env),
    cacheMode,
  );

  if (manifest && !values.force) {
    const now = configHash(models, suites, repeat);
    if (now !== manifest.config_hash) {
      const what = describeChange(manifest, models, suites, repeat);
      throw new UsageError(
        `--resume ${values.resume}: ${what.length ? what.join('; ') : `the models, suites or repeat count changed (hash ${manifest.config_hash} -> ${now})`} since the run started; pass --force to resume anyway`,
      );
    }
  }
  let outDir: string;
  let runId: string;
  if (resumeDir) {
    outDir = resolve(resumeDir, '..');
    runId = manifest!.run_id;
  } else {
    outDir = resolve(io.cwd, values.out ?? config.out ?? 'results');
    runId = values['run-id'] ?? defaultRunId(outDir);
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(runId))
      throw new UsageError(`--run-id ${runId}: use letters, digits, '.', '-' or '_'`);
    if (existsSync(join(outDir, runId)))
      throw new UsageError(
        `--run-id ${runId}: ${join(outDir, runId)} already exists (choose another id, or --resume it)`,
      );
  }
  const interval = values['progress-interval'] === undefined ? 10 : Number(values['progress-interval']);
  if (!(interval > 0))
    throw new UsageError(`--progress-interval ${values['progress-interval']}: expected seconds above 0`);
  return {
    models,
    suites,
    repeat,
    outDir,
    runId,
    resumeDir,
    retryErrors: Boolean(values['retry-errors']),
    cache,
    invocation: {
      config: config.file,
      models: cliModels,
      suites: suiteRefs,
      repeat,
      sets,
      cwd: inv?.cwd ?? io.cwd,
      ...(concurrency ? { concurrency } : {}),
    },
    maxDurationMs: duration('--max-duration', values['max-duration']),
    progressIntervalSec: interval,
    quiet: Boolean(values.quiet),
    excel: Boolean(values.excel),
    matrixOutputs: Boolean(values['matrix-outputs']),
    thresholds: thresholdOptions(values, io.cwd),
    threads: nonNegativeInt('--threads', values.threads),
  };
}

function defaultRunId(outDir: string): string {
  const base = new Date()
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[:]/g, '-');
  let id = base;
  for (let i = 2; existsSync(join(outDir, id)); i++) id = `${base}-${i}`;
  return id;
}

/** Runs a prepared plan: journal, lanes, progress, interrupt handling, reports, thresholds. */
export async function executeRun(p: PreparedRun, io: IO): Promise<number> {
  for (const line of p.banner ?? []) io.stdout.write(`${line}\n`);
  const runDir = join(p.outDir, p.runId);
  const createdDir = !existsSync(runDir);
  mkdirSync(runDir, { recursive: true });
  const previous = p.resumeDir ? readManifest(runDir) : undefined;
  const manifest: Manifest = {
    gapbench: VERSION,
    node: process.version,
    run_id: p.runId,
    status: 'running',
    created_at: previous?.created_at ?? new Date().toISOString(),
    started_at: new Date().toISOString(),
    config_hash: configHash(p.models, p.suites, p.repeat),
    invocation: p.invocation,
    models: p.models,
    suites: p.suites.map((s) => ({
      name: s.name,
      file: s.file,
      hash: s.hash,
      cases: s.cases.length,
      description: s.description,
    })),
    repeat: p.repeat,
    cache: { mode: p.cache.mode, dir: p.cache.dir },
  };
  try {
    writeManifest(runDir, manifest);
  } catch (e) {
    if (createdDir) rmSync(runDir, { recursive: true, force: true });
    throw new UsageError(`cannot write to ${runDir}: ${(e as Error).message}`);
  }

  const stop = new AbortController();
  const abort = new AbortController();
  let interruptedBy: string | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  const onSignal = () => {
    if (!stop.signal.aborted) {
      interruptedBy = 'interrupted';
      io.stderr.write(
        '\nStopping: no new requests; waiting up to 5 s for those in flight (Ctrl-C again to stop at once)...\n',
      );
      stop.abort(new Error('interrupted'));
      graceTimer = setTimeout(() => abort.abort(new Error('interrupted')), 5_000);
      graceTimer.unref();
    } else {
      abort.abort(new Error('interrupted'));
    }
  };
  io.signals?.on('SIGINT', onSignal);
  io.signals?.on('SIGTERM', onSignal);
  let durationTimer: NodeJS.Timeout | undefined;
  if (p.maxDurationMs) {
    durationTimer = setTimeout(() => {
      interruptedBy = 'stopped by --max-duration';
      io.stderr.write(`\n--max-duration reached: no new requests; finishing those in flight...\n`);
      stop.abort(new Error('max-duration'));
      graceTimer = setTimeout(() => abort.abort(new Error('max-duration')), 5_000);
      graceTimer.unref();
    }, p.maxDurationMs);
    durationTimer.unref();
  }

  const total = countJobs(p.suites, p.repeat) * p.models.filter((m) => !m.judgeOnly).length;
  if (!p.quiet)
    io.stderr.write(
      `Run ${p.runId}: ${total} jobs (${p.suites.length} suite(s) x ${p.models.filter((m) => !m.judgeOnly).length} model(s) x ${p.repeat} repeat(s)) -> ${runDir}\n`,
    );
  const progress = new Progress({ out: io.stderr, intervalSec: p.progressIntervalSec, quiet: p.quiet });
  const stoppedLanes: string[] = [];
  // A fresh run formats results.csv rows as records come (see report/spool.ts).
  const spool = p.resumeDir ? undefined : new RowSpool(join(runDir, SPOOL_FILE));
  // A second Ctrl-C exits at once (cli.ts): the scratch file goes with the process.
  const dropSpool = () => spool?.remove();
  if (spool) process.once('exit', dropSpool);
  const live = new ReportState(manifest, p.matrixOutputs, spool);
  let result;
  try {
    result = await runJobs({
      runId: p.runId,
      journalPath: join(runDir, 'records.jsonl'),
      models: p.models,
      suites: p.suites,
      repeat: p.repeat,
      cache: p.cache,
      providerEnv: { env: io.env, cwd: io.cwd },
      stop: stop.signal,
      abort: abort.signal,
      retryErrors: p.retryErrors,
      threads: p.threads,
      onLanes: (lanes) => progress.start(lanes),
      onRecord: (rec, offset, bytes) => live.add(rec, offset, bytes),
      onLaneStopped: (m, e: ProviderError) => {
        // The provider's message starts by naming the model too: once is enough.
        const why = e.message.startsWith(`model '${m.id}': `) ? e.message.slice(`model '${m.id}': `.length) : e.message;
        const line = terminalSafe(
          `model '${m.id}' stopped after ${/^[aeiou]/.test(e.kind) ? 'an' : 'a'} ${e.kind} error: ${why}`,
          500,
        );
        stoppedLanes.push(line);
        io.stderr.write(`${line}\n`);
      },
    });
  } catch (err) {
    spool?.remove();
    process.off('exit', dropSpool);
    throw err;
  } finally {
    progress.stop();
    io.signals?.off('SIGINT', onSignal);
    io.signals?.off('SIGTERM', onSignal);
    if (graceTimer) clearTimeout(graceTimer);
    if (durationTimer) clearTimeout(durationTimer);
  }
  if (result.droppedBytes)
    io.stderr.write(
      `records.jsonl: dropped a torn last line (${result.droppedBytes} bytes) left by a crash; its job runs again\n`,
    );

  // A lane thread that failed for good left its jobs unrecorded: like an interruption, they wait for a resume.
  if (result.threadFailure && result.unfinished > 0 && !interruptedBy) {
    interruptedBy = `stopped: ${terminalSafe(result.threadFailure, 300)}`;
  }
  const interrupted = Boolean(interruptedBy) && result.unfinished > 0;
  // A resume: a scratch file left by the run it continues (killed) is of no use.
  if (!spool) rmSync(join(runDir, SPOOL_FILE), { force: true });
  const report = await writeReports(
    runDir,
    {
      excel: p.excel,
      matrixOutputs: p.matrixOutputs,
      history: !interrupted && previous?.status !== 'finished',
      manifest,
    },
    result.journalWasEmpty ? live : undefined,
  );
  process.off('exit', dropSpool);
  manifest.status = interrupted ? 'interrupted' : 'finished';
  manifest.finished_at = new Date().toISOString();
  manifest.counts = {
    jobs: total,
    records: report.records,
    ok: report.ok,
    errors: report.errors,
    unfinished: result.unfinished,
  };
  writeManifest(runDir, manifest);

  io.stdout.write(report.terminal(io.stdout, io.env));
  if (stoppedLanes.length) for (const l of stoppedLanes) io.stdout.write(`! ${l}\n`);
  io.stdout.write(`Results: ${runDir}\n`);
  if (interrupted) {
    // Run through npx (a clone, not a global install): the hint says npx too.
    const cmd = io.env.npm_command === 'exec' ? 'npx gapbench' : 'gapbench';
    io.stdout.write(
      `${interruptedBy}: ${result.unfinished} job(s) not run. Resume with: ${cmd} run --resume ${shellQuote(runDir)}\n`,
    );
    return EXIT.interrupted;
  }
  return applyThresholds(p.thresholds, report, runDir, io);
}
