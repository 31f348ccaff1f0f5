import { join, resolve } from 'node:path';
import { checkRunnable, loadConfig, type Config } from './config/config.js';
import { UsageError } from './errors.js';
import { readManifest, type Manifest } from './journal/manifest.js';
import type { JobRecord } from './journal/record.js';
import type { GapRow } from './report/gap.js';
import type { SummaryRow } from './report/summary.js';
import { stoppedModels } from './report/history.js';
import { ResponseCache, defaultCacheDir, type CacheMode } from './run/cache.js';
import { checkJudges } from './run/judges.js';
import { countJobs } from './run/plan.js';
import { defaultRunId, freeRunDir, startManifest } from './run/rundir.js';
import { jobsProducer } from './run/runner.js';
import { sequentialPlan, type SequentialInput } from './run/sequential-options.js';
import { runSession } from './run/session.js';
import { loadSuite, type Suite } from './suite/load.js';
import { readCapacity } from './report/capacity-read.js';

export interface EvaluateOptions {
  /** A config file, as `gapbench run --config` reads it (paths in it resolve from its folder). */
  config?: string;
  /**
   * Models to run besides the config's: `'provider:model'` as `--model` takes it
   * (`'ollama:llama3.1:8b'`), or an entry written as in the config file
   * (`{ provider: 'openai', model: 'gpt-4o-mini', baseURL: '...' }`).
   */
  models?: (string | Record<string, unknown>)[];
  /** Bundled suite names, suite files (relative to `cwd`), or suites loaded with `loadSuite`. Default: the config's. */
  suites?: (string | Suite)[];
  /** Ask each case this many times (default: the config's, else 1). */
  repeat?: number;
  /**
   * Parent folder of run directories. When given, the run is written there exactly as
   * `gapbench run --out` writes it (records.jsonl, manifest.json, the CSVs, history.csv);
   * otherwise nothing is written and the records are kept in memory.
   */
  out?: string;
  /** Name of the run directory under `out` (default: a UTC timestamp). An existing one is refused unless `resume`. */
  runId?: string;
  /** Continue the run directory `out/runId` if it exists: only jobs with no record are run. */
  resume?: boolean;
  /**
   * Keep every record in `records` (default true). A run too large for memory gives `out` and
   * `keepRecords: false`, and reads records.jsonl with `readRecords` afterwards.
   */
  keepRecords?: boolean;
  /** Aborting stops new requests and aborts those in flight; the result covers what finished. */
  signal?: AbortSignal;
  /** Called after each finished job, once its record is stored. */
  onProgress?: (progress: EvaluateProgress) => void;
  /** Response cache: off unless asked (`use` reads and writes it, `refresh` only writes). */
  cache?: CacheMode;
  /** Cache location (default: $GAPBENCH_CACHE_DIR, else ~/.cache/gapbench). */
  cacheDir?: string;
  /**
   * A `gapbench capacity` run directory (relative to `cwd`; default: the config's `capacity:`):
   * gap rows' open-side cost and break-even use each open model's goodput there.
   */
  capacity?: string;
  /** Where relative paths resolve (default: process.cwd()). */
  cwd?: string;
  /** Where API keys and endpoint variables are read (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /**
   * Stop when decided (docs/sequential.md), as `gapbench run --until-decided` and its companions;
   * over the config's `sequential:`. A resume keeps the run's own.
   */
  sequential?: SequentialInput;
}

export interface EvaluateProgress {
  /** Jobs finished so far (all models), and all jobs planned. */
  done: number;
  total: number;
  /** The job that just finished. */
  record: JobRecord;
}

export interface EvaluateResult {
  runId: string;
  /** The run directory, when `out` was given. */
  runDir?: string;
  /** One row per suite x model, as in summary.csv. */
  summary: SummaryRow[];
  /** Open vs closed per suite (and category), as in gap.csv. */
  gaps: GapRow[];
  /** Every record of the run, as in records.jsonl (empty with `keepRecords: false`). */
  records: JobRecord[];
  manifest: Manifest;
  /** Jobs not run because `signal` aborted (0 when the run finished). */
  unfinished: number;
  /** The report as the terminal shows it, without colour. */
  text: string;
}

/**
 * Runs suites against models and grades them, as `gapbench run` does: every model in its own
 * lane, all at once; judges through their own lanes; the same statistics. Rejects with a
 * `UsageError` (naming the file, field or model) for bad input, before any request is sent,
 * and for a run directory that exists already, unless `resume` asks to continue it.
 */
export async function evaluate(opts: EvaluateOptions): Promise<EvaluateResult> {
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? process.env;
  const config = loadConfig({ configPath: opts.config, libraryModels: opts.models, cwd, env });
  const models = config.models;
  checkRunnable(models, env, cwd, 'evaluate: no models to run (give `models` or a `config` that lists some)');
  const suites = await resolveSuites(opts.suites, config, cwd, env);
  checkJudges(suites, models);
  const repeat = opts.repeat ?? config.repeat ?? 1;
  if (!Number.isInteger(repeat) || repeat < 1)
    throw new UsageError(`repeat: expected a whole number from 1, got ${repeat}`);
  const outDir = opts.out === undefined ? undefined : resolve(cwd, opts.out);
  if (outDir && opts.runId) checkRunDir(join(outDir, opts.runId), opts.runId, Boolean(opts.resume));
  const batched = models.find((m) => m.batch && !m.judgeOnly);
  if (batched && !outDir)
    throw new UsageError(
      `model '${batched.id}': batch mode keeps its input files and batch ids in a run directory: give evaluate() an \`out\``,
    );
  // The default id is claimed as `gapbench run` claims it: two calls in the same second never share one.
  const runId = opts.runId ?? (outDir ? defaultRunId(outDir) : timestampId());
  const runDir = outDir && join(outDir, runId);
  const resuming = Boolean(opts.resume && runDir && !freeRunDir(runDir));
  const sequential = sequentialPlan(opts.sequential ?? {}, config.sequential, {
    models,
    suites,
    pairs: config.pairs,
    alpha: config.alpha,
    ...(resuming ? { resumed: readManifest(runDir!) } : {}),
    sharded: false,
  });
  const cache =
    opts.cache && opts.cache !== 'off'
      ? new ResponseCache(opts.cacheDir ?? defaultCacheDir(env), opts.cache)
      : undefined;
  const capacity = capacityOf(opts.capacity ?? config.capacity?.dir, cwd);
  const invocation = { config: opts.config, models: [], suites: suites.map((s) => s.file), repeat, sets: {}, cwd };
  const manifest = startManifest({
    runId,
    models,
    suites,
    repeat,
    invocation,
    cache,
    pairs: config.pairs,
    alpha: config.alpha,
    ...(sequential ? { sequential } : {}),
    capacity,
  });
  const records: JobRecord[] = [];
  const keep = opts.keepRecords !== false || !runDir;
  const total = countJobs(suites, repeat) * models.filter((m) => !m.judgeOnly).length;
  let done = 0;
  const result = await runSession(
    {
      ...(runDir ? { runDir } : {}),
      resuming,
      manifest,
      outputs: { excel: false, matrixOutputs: false },
      history: true,
      notice: () => undefined,
    },
    jobsProducer({
      models,
      suites,
      repeat,
      retryErrors: false,
      cache,
      ...(sequential ? { sequential } : {}),
      providerEnv: { env, cwd },
      signals: { stop: opts.signal, abort: opts.signal },
      onRecord: (record) => {
        if (keep) records.push(record);
        opts.onProgress?.({ done: ++done, total, record });
      },
    }),
  );
  const { report } = result;
  // No thresholds here: a finished run's outcome is exit 0 (see Report.recordHistory).
  await report.recordHistory?.({ exit: 0, stopped: stoppedModels(report.aggregate) });
  return {
    runId,
    runDir,
    summary: report.summary,
    gaps: report.gaps,
    records,
    manifest: result.manifest,
    unfinished: result.produced.unfinished,
    text: report.terminal({ write: () => undefined, isTTY: false }, {}),
  };
}

/** A UTC timestamp, the id of a run that writes no directory. */
function timestampId(): string {
  return new Date()
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
}

/** As `gapbench run --run-id` does: a directory in use is refused unless the run is resumed. */
function checkRunDir(runDir: string, runId: string, resume: boolean): void {
  if (!freeRunDir(runDir) && !resume)
    throw new UsageError(`--run-id ${runId}: ${runDir} already exists (choose another id, or --resume it)`);
}

async function resolveSuites(
  given: EvaluateOptions['suites'],
  config: Config,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<Suite[]> {
  const refs = given ?? config.suites;
  if (!refs.length) throw new UsageError('evaluate: no suites to run (give `suites` or a `config` that lists some)');
  const suites: Suite[] = [];
  for (const [i, ref] of refs.entries()) {
    const fromConfig = given === undefined ? config.suiteSources?.[i] : undefined;
    const s =
      typeof ref === 'string'
        ? await loadSuite(ref, { cwd: fromConfig?.dir ?? cwd, vars: env, label: fromConfig?.label })
        : ref;
    if (suites.some((x) => x.name === s.name)) throw new UsageError(`evaluate: two suites are named '${s.name}'`);
    suites.push(s);
  }
  return suites;
}

/** The capacity result named, checked before anything is sent (a bad one is a UsageError). */
function capacityOf(dir: string | undefined, cwd: string): Manifest['capacity'] {
  if (dir === undefined) return undefined;
  try {
    const c = readCapacity(resolve(cwd, dir), dir);
    return { dir: c.dir, run_id: c.runId };
  } catch (e) {
    throw e instanceof UsageError ? new UsageError(`capacity: ${e.message}`) : e;
  }
}
