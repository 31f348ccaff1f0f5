import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { checkRunnable, loadConfig, type Config, type ModelConfig } from '../config/config.js';
import { batchSettings } from '../config/model.js';
import { findPreset } from '../config/presets.js';
import { UsageError } from '../errors.js';
import type { IO } from '../io.js';
import { describeFilter, readManifest, type Manifest, type RunFilter } from '../journal/manifest.js';
import { PROTOCOLS } from '../providers/index.js';
import { defaultCacheDir, ResponseCache } from '../run/cache.js';
import { configHash, describeChange } from '../run/identity.js';
import { checkJudges } from '../run/judges.js';
import { loadSuite, type Suite } from '../suite/load.js';
import { checkProblem } from '../suite/validate.js';
import type { Values } from '../util/args.js';
import type { SequentialPlan } from '../run/sequential-gate.js';
import { sequentialOf } from './sequential-flags.js';
import { terminalSafe } from '../util/text.js';
import { thresholdOptions, type ThresholdOptions } from './thresholds.js';
import { capacityRef } from './capacity-opt.js';
import type { RUN_SPEC } from './run-options.js';
import { label, parseShard, resumedShard } from './shard.js';
import type { Shard } from '../run/plan.js';
import { selectCases } from '../run/subset.js';
import { defaultRunId, freeRunDir } from '../run/rundir.js';

/** Everything a run needs, already validated. `demo` builds one of these around the simulator. */
export interface PreparedRun {
  models: ModelConfig[];
  suites: Suite[];
  repeat: number;
  /** The run directory: a new one, or the one given to --resume (wherever it now lies). */
  runDir: string;
  runId: string;
  resuming: boolean;
  retryErrors: boolean;
  cache: ResponseCache;
  invocation: Manifest['invocation'];
  maxDurationMs?: number;
  progressIntervalSec: number;
  quiet: boolean;
  excel: boolean;
  xlsx: boolean;
  matrixOutputs: boolean;
  thresholds: ThresholdOptions;
  pairs?: Manifest['pairs'];
  alpha?: number;
  /** This machine's slice of the cases (`--shard I/N`). */
  shard?: Shard;
  /** The subset of the cases asked (--case, --category, --failed-from): recorded in the manifest. */
  filter?: RunFilter;
  /** The subset of cases chosen on the command line (`--limit N`): never a regression baseline. */
  filtered?: string;
  /** Stop when decided (--until-decided, --until-ci, --margin; docs/sequential.md). */
  sequential?: SequentialPlan;
  /** Extra lines printed before anything else (the demo says its models are simulated). */
  banner?: string[];
  /** The capacity result the break-even uses (see capacityRef). */
  capacity?: Manifest['capacity'];
  /** The config's latency target (`gapbench capacity`). */
  slo?: Config['slo'];
}

type RunValues = Values<typeof RUN_SPEC.options>;

/** Where a run's models come from besides the command line: `demo` gives its own, and no config file. */
interface ModelSource {
  configPath: false;
  models: Record<string, unknown>[];
}

/**
 * Reads the config, suites and options of `gapbench run`; throws UsageError before anything is sent.
 * `gapbench capacity` prepares its sweep here too (`sweep`): it writes a capacity result, so it reads none
 * (a config's `capacity:` may name the directory it is about to write).
 */
export async function prepareRun(values: RunValues, io: IO, source?: ModelSource, sweep = false): Promise<PreparedRun> {
  const resumeDir = values.resume ? resolve(io.cwd, values.resume) : undefined;
  const manifest = resumeDir ? resumedManifest(resumeDir, values.resume!) : undefined;
  const inv = manifest?.invocation;
  const sets = { ...(inv?.sets ?? {}), ...Object.fromEntries(values.set ?? []) };
  const cliModels = values.model ?? inv?.models ?? [];
  const config = loadConfig({
    configPath: source?.configPath ?? values.config ?? inv?.config,
    libraryModels: source?.models,
    cliModels,
    cwd: io.cwd,
    env: io.env,
  });
  // A resumed run keeps the concurrency it was started with unless given another.
  const concurrency = values.concurrency ?? inv?.concurrency;
  const batch = Boolean(values.batch || inv?.batch);
  const models = checkedModels(config, concurrency, io, batch);
  const suiteRefs = values.suite ?? (inv?.suites.length ? inv.suites : config.suites);
  const suites = await loadSuites(suiteRefs, config, values, inv, { ...io.env, ...sets }, io);
  const repeat = values.repeat ?? inv?.repeat ?? config.repeat ?? 1;
  checkJudges(suites, models);
  if (manifest && !values.force) checkUnchanged(manifest, models, suites, repeat, values.resume!);
  const subset = await subsetOf(values, models, suites, repeat, manifest, io);
  const shard = resumedShard(parseShard(values.shard, io.env), manifest, values.resume!);
  // Every option is checked before a new run claims its directory: an exit 2 leaves nothing behind.
  const options = checkedOptions(values, io);
  const sequential = sequentialOf(values, config, { models, suites: subset.suites, resumed: manifest, shard });
  const capacity = sweep ? undefined : capacityOf(values, config, manifest, models, io);
  const runDir = resumeDir ?? newRunDir(values, config, io.cwd, shard);
  return {
    models,
    suites: subset.suites,
    repeat,
    runDir,
    runId: manifest?.run_id ?? runDir.split(/[\\/]/).pop()!,
    resuming: Boolean(resumeDir),
    retryErrors: values['retry-errors'],
    invocation: {
      config: config.file,
      models: cliModels,
      suites: suiteRefs,
      repeat,
      sets,
      cwd: inv?.cwd ?? io.cwd,
      ...(concurrency ? { concurrency } : {}),
      ...(batch ? { batch } : {}),
    },
    ...options,
    quiet: values.quiet,
    ...outputChoices(values, manifest),
    pairs: config.pairs ?? manifest?.pairs,
    alpha: config.alpha ?? manifest?.alpha,
    ...(shard ? { shard } : {}),
    ...(sequential ? { sequential } : {}),
    ...(subset.filter ? { filter: subset.filter } : {}),
    ...filteredOf(values.limit, subset.filter, manifest),
    capacity,
    slo: config.slo,
  };
}

/** A resumed run keeps the outputs it was started with; flags add to them. */
function outputChoices(values: RunValues, manifest: Manifest | undefined) {
  return {
    excel: Boolean(values.excel || manifest?.outputs?.excel),
    xlsx: Boolean(values.xlsx || manifest?.outputs?.xlsx),
    matrixOutputs: Boolean(values['matrix-outputs'] || manifest?.outputs?.matrix_outputs),
  };
}

/** The manifest of the run to resume: an evaluation run's (a capacity sweep's directory is final). */
function resumedManifest(dir: string, given: string): Manifest {
  const manifest = readManifest(dir);
  if (manifest.kind === 'capacity')
    throw new UsageError(
      `--resume ${given}: a capacity run (gapbench capacity), not an evaluation run: sweep again instead`,
    );
  return manifest;
}

/** The capacity result the break-even uses: --capacity, the config's, the resumed run's (see capacityRef). */
function capacityOf(values: RunValues, config: Config, manifest: Manifest | undefined, models: ModelConfig[], io: IO) {
  const own = values.resume ? resolve(io.cwd, values.resume) : undefined;
  const sources = { flag: values.capacity, config: config.capacity, recorded: manifest?.capacity, own };
  return capacityRef(sources, io.cwd, models, (line) => io.stderr.write(`${line}\n`));
}

function checkedOptions(values: RunValues, io: IO) {
  return {
    cache: responseCache(values, io),
    maxDurationMs: values['max-duration'],
    progressIntervalSec: values['progress-interval'],
    thresholds: thresholdOptions(values, io.cwd),
  };
}

/** --case, --category, --failed-from (or the filter a resumed run recorded): the suites cut down. */
async function subsetOf(
  values: RunValues,
  models: ModelConfig[],
  suites: Suite[],
  repeat: number,
  manifest: Manifest | undefined,
  io: IO,
): Promise<{ suites: Suite[]; filter?: RunFilter }> {
  const from = values['failed-from'];
  const subset = await selectCases(
    {
      case: values.case,
      category: values.category,
      failedFrom: from === undefined ? undefined : { dir: resolve(io.cwd, from), given: from },
    },
    suites,
    configHash(models, suites, repeat),
    (m) => describeChange(m, models, suites, repeat),
    manifest?.filter,
    readManifest,
  );
  // history.csv holds one score per suite x model and run: a subset's is not comparable with a full run's.
  if (subset.filter && values['fail-on-regression'] !== undefined && values.baseline === undefined)
    throw new UsageError(
      '--fail-on-regression on a subset of the cases needs --baseline DIR (a run of the same cases): history.csv compares whole suites',
    );
  return subset;
}

/**
 * What part of the suites' cases the run covers when not all (--limit, a subset; kept on resume),
 * in words: such a run is never a regression baseline.
 */
function filteredOf(limit: number | undefined, filter: RunFilter | undefined, manifest: Manifest | undefined) {
  const parts = [
    ...(limit !== undefined ? [`first ${limit} cases of each suite (--limit ${limit})`] : []),
    ...(filter ? [describeFilter(filter)] : []),
  ];
  if (parts.length) return { filtered: parts.join('; ') };
  return manifest?.filtered ? { filtered: manifest.filtered } : {};
}

function checkedModels(config: Config, concurrency: number | undefined, io: IO, batch: boolean): ModelConfig[] {
  const models = config.models.map((m) => (concurrency ? { ...m, concurrency } : m)).map((m) => withBatch(m, batch));
  checkRunnable(
    models,
    io.env,
    io.cwd,
    'no models to run: pass --model provider:model (e.g. --model openai:gpt-4o-mini) or list models in gapbench.config.yaml',
  );
  if (batch && !models.some((m) => m.batch && !m.judgeOnly))
    throw new UsageError('--batch: no model here has a Batch API (each would run live; drop --batch)');
  return models;
}

/**
 * --batch: each benchmarked model whose vendor offers the OpenAI Batch API goes through it; the
 * others run live, each saying why (a note announced at start and kept in the manifest).
 */
function withBatch(m: ModelConfig, batch: boolean): ModelConfig {
  if (!batch || m.judgeOnly || m.batch) return m;
  const vendor = findPreset(m.provider)?.batch;
  const why = !PROTOCOLS[m.protocol].batch
    ? `the ${m.protocol} protocol has no Batch API`
    : vendor?.api === 'none'
      ? vendor.why
      : undefined;
  if (why) return { ...m, rules: [...(m.rules ?? []), `--batch: runs live (${why})`] };
  return {
    ...m,
    batch: batchSettings(true, m.protocol, false, m.id, (d) => new UsageError(d), findPreset(m.provider)),
  };
}

/** --suite wins; a resumed run keeps its own; else the config's list, resolved from the config's directory. */
async function loadSuites(
  refs: string[],
  config: Config,
  values: RunValues,
  inv: Manifest['invocation'] | undefined,
  vars: Record<string, string | undefined>,
  io: IO,
): Promise<Suite[]> {
  if (!refs.length) {
    throw new UsageError(
      'no suites to run: pass --suite FILE|NAME (see `gapbench suites`) or list suites in the config',
    );
  }
  const { limit } = values;
  const fromConfig = !values.suite && !inv?.suites.length;
  const suites: Suite[] = [];
  for (const [i, ref] of refs.entries()) {
    const source = fromConfig ? config.suiteSources?.[i] : undefined;
    const label = source?.label ?? `--suite ${ref}`;
    const cwd = source?.dir ?? (inv?.cwd && !values.suite ? inv.cwd : io.cwd);
    const s = await loadSuite(ref, { cwd, vars, label, limit, log: (line) => io.stderr.write(`${line}\n`) });
    if (suites.some((x) => x.name === s.name)) throw new UsageError(`${label}: two suites are named '${s.name}'`);
    suites.push(s);
    warnOnBadChecks(s, io);
  }
  return suites;
}

/**
 * A gold answer that disagrees with its own `check` makes every grade of that case suspect: say
 * so before spending anything (the run goes on; `gapbench validate` lists them all).
 */
function warnOnBadChecks(s: Suite, io: IO): void {
  const bad = s.cases.map(checkProblem).filter((p): p is string => p !== undefined);
  if (!bad.length) return;
  const file = terminalSafe(s.file, 200);
  io.stderr.write(
    `warning: ${file}: ${bad.length} case(s) whose check disagrees with expected (${terminalSafe(bad[0], 200)}); see gapbench validate ${file}\n`,
  );
}

function checkUnchanged(manifest: Manifest, models: ModelConfig[], suites: Suite[], repeat: number, dir: string): void {
  const now = configHash(models, suites, repeat);
  if (now === manifest.config_hash) return;
  const what = describeChange(manifest, models, suites, repeat);
  const change = what.length
    ? what.join('; ')
    : `the models, suites or repeat count changed (hash ${manifest.config_hash} -> ${now})`;
  throw new UsageError(`--resume ${dir}: ${change} since the run started; pass --force to resume anyway`);
}

/** Longest run id: a directory name, with room for the files made beside and inside it. */
const MAX_RUN_ID = 128;

function newRunDir(values: RunValues, config: Config, cwd: string, shard: Shard | undefined): string {
  if (values.out !== undefined && values.out.trim() === '')
    throw new UsageError('--out: expected a directory, got an empty string');
  const outDir = resolve(cwd, values.out ?? config.out ?? 'results');
  checkWritableDir(outDir, values.out !== undefined ? '--out' : 'out');
  // A shard's default name says which it is (shards of one run often share an output directory).
  if (values['run-id'] === undefined)
    return join(outDir, defaultRunId(outDir, '', shard ? `-shard${label(shard).replace('/', 'of')}` : ''));
  const runId = values['run-id'];
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(runId)) {
    throw new UsageError(`--run-id ${runId}: use letters, digits, '.', '-' or '_'`);
  }
  if (runId.length > MAX_RUN_ID)
    throw new UsageError(`--run-id ${runId.slice(0, 20)}...: ${runId.length} characters, at most ${MAX_RUN_ID}`);
  const dir = join(outDir, runId);
  if (!freeRunDir(dir))
    throw new UsageError(`--run-id ${runId}: ${dir} already exists (choose another id, or --resume it)`);
  return dir;
}

/** The output directory is a directory (or can become one) that this user may write. */
function checkWritableDir(dir: string, flag: string): void {
  let at = dir;
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  if (!statSync(at).isDirectory())
    throw new UsageError(`${flag} ${dir}: ${at === dir ? 'is a file' : `${at} is a file`}, not a directory`);
  try {
    accessSync(at, constants.W_OK);
  } catch {
    throw new UsageError(`${flag} ${dir}: ${at} is not writable`);
  }
}

/** --cache, --cache-dir, --cache-max-age. */
function responseCache(values: RunValues, io: IO): ResponseCache {
  const dir = values['cache-dir'] ? resolve(io.cwd, values['cache-dir']) : defaultCacheDir(io.env);
  // --cache-max-age 0s: no cached answer is young enough, every job asks (answers are still stored).
  return new ResponseCache(dir, values.cache, values['cache-max-age']);
}
