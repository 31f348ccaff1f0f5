import { UsageError } from '../errors.js';
import type { CacheMode } from '../run/cache.js';
import { pointsOf } from '../run/sequential-options.js';
import { duration, nonNegativeInt, numberWhere, positiveInt, SET_OPTION, type CommandSpec } from '../util/args.js';
import { CAPACITY_OPTION } from './capacity-opt.js';
import { REPORT_OPTIONS, THRESHOLD_OPTIONS } from './thresholds.js';

/** Most requests in flight per model that --concurrency accepts. */
const MAX_CONCURRENCY = 10_000;

/** `gapbench run`: its options, declared once (parser, --help and docs/commands.md come from here). */
export const RUN_SPEC = {
  name: 'run',
  usage: 'run [options]',
  about:
    'Runs every suite against every model (each model in its own lane, all at once) and writes results/<run-id>/: records.jsonl, manifest.json, results.csv, summary.csv, gap.csv, matrix.csv, report.html.',
  options: {
    config: { value: 'FILE', help: 'config file', fallback: 'gapbench.config.yaml when present' },
    suite: {
      multiple: true,
      value: 'FILE|NAME',
      help: 'a suite file or the name of a bundled suite, as gapbench suites lists them',
      fallback: "the config's suites",
    },
    model: {
      multiple: true,
      value: 'PROVIDER:MODEL',
      help: 'add a model to those of the config (or run without a config), split at the first colon: openai:gpt-4o-mini, ollama:llama3.1:8b',
    },
    set: SET_OPTION,
    out: { value: 'DIR', help: 'parent directory of run directories', fallback: "the config's out, else results" },
    'run-id': {
      value: 'NAME',
      help: "name of the run directory: letters, digits, '.', '-', '_', at most 128 characters",
      fallback: 'a UTC timestamp',
    },
    repeat: {
      value: 'N',
      help: 'ask each case N times; each repeat is its own job and cache entry',
      parse: positiveInt,
      fallback: "a resumed run's, else the config's repeat, else 1",
    },
    limit: {
      value: 'N',
      help: 'run only the first N cases of each suite (a cheap first run); a resumed run needs the same --limit',
      parse: positiveInt,
    },
    case: {
      multiple: true,
      value: 'GLOB',
      help: 'run only the cases whose id matches GLOB (* any characters, ? one; given several times: any of them); job ids stay those of the whole run',
    },
    category: { multiple: true, value: 'NAME', help: 'run only the cases of category NAME' },
    'failed-from': {
      value: 'DIR',
      help: 'run only the cases that failed or errored (any model) in the run in DIR, which must have the same config and suites; the manifest records the filter',
    },
    concurrency: {
      value: 'N',
      help: `requests in flight per model, overriding every lane (at most ${MAX_CONCURRENCY})`,
      parse: concurrency,
    },
    shard: {
      value: 'I/N',
      help: 'run only the I-th of N slices of the cases (I from 1); auto/N reads I from JOB_COMPLETION_INDEX, CI_NODE_INDEX, CIRCLE_NODE_INDEX or BUILDKITE_PARALLEL_JOB; join the shards with gapbench merge',
    },
    batch: {
      type: 'boolean',
      help: "send each benchmarked model's jobs through its vendor's Batch API where it has one (about half the price, answers within 24 h; see docs/unattended.md); the others run live, each saying why; a resume keeps it",
    },
    resume: { value: 'DIR', help: 'continue an interrupted run: only jobs with no record are run, and appended' },
    'retry-errors': {
      type: 'boolean',
      help: 'with --resume, also re-run jobs whose record is an error (the newer record wins)',
    },
    force: { type: 'boolean', help: 'with --resume, accept changed models, params or suites' },
    cache: {
      value: 'MODE',
      help: 'response cache: use, refresh (ask again and overwrite) or off; which models are cached: docs/unattended.md',
      parse: cacheMode,
      default: 'use',
    },
    'cache-dir': {
      value: 'DIR',
      help: 'response cache location',
      fallback: '$GAPBENCH_CACHE_DIR, else $XDG_CACHE_HOME/gapbench, else ~/.cache/gapbench',
    },
    'cache-max-age': {
      value: 'AGE',
      help: 'ignore cached answers older than AGE (20h, 7d) and ask the models again; 0s: ask every job again (new answers are still cached)',
      parse: (flag, text) => duration(flag, text, true),
    },
    'max-duration': {
      value: 'TIME',
      help: 'stop starting jobs after TIME (90s, 30m, 1h30m), write results, exit 130',
      parse: (flag, text) => duration(flag, text),
    },
    'until-decided': {
      type: 'boolean',
      help: 'stop once the confidence sequence of the declared pair (pairs:, or the one closed and one open model) excludes 0; cases go in a random order (docs/sequential.md)',
    },
    'until-ci': {
      value: 'PP',
      help: 'stop once that confidence sequence is at most PP percentage points wide',
      parse: pointsOf,
    },
    margin: {
      value: 'PP',
      help: 'also stop once that confidence sequence lies inside ±PP points: no gap larger than PP',
      parse: pointsOf,
    },
    'min-cases': {
      value: 'N',
      help: 'a sequential run never stops before N cases have entered the sequence',
      parse: positiveInt,
      fallback: "the config's sequential.min_cases, else 30",
    },
    'final-test': {
      type: 'boolean',
      help: 'at n_max a fixed-n paired test at 4·alpha/5 decides and the sequence runs at alpha/5',
      fallback: 'on with --until-decided',
    },
    'no-final-test': { type: 'boolean', help: 'the sequence alone, at alpha' },
    'order-seed': {
      value: 'N',
      help: 'seed of the random case order of a sequential run (recorded in the manifest; a resume keeps it)',
      parse: nonNegativeInt,
      fallback: 'random',
    },
    'progress-interval': {
      value: 'S',
      help: 'seconds between progress lines when not on a terminal',
      parse: numberWhere('seconds above 0', (n) => n > 0),
      default: 10,
    },
    ...CAPACITY_OPTION,
    ...REPORT_OPTIONS,
    ...THRESHOLD_OPTIONS,
  },
  footer:
    'Exit codes: 0 finished; 1 finished but a threshold failed; 2 bad usage, config or suite (nothing run); 130 interrupted (journal intact; resume with --resume DIR).',
} as const satisfies CommandSpec;

function concurrency(flag: string, text: string): number {
  const n = positiveInt(flag, text);
  if (n > MAX_CONCURRENCY)
    throw new UsageError(`${flag} ${n}: at most ${MAX_CONCURRENCY} requests in flight per model`);
  return n;
}

function cacheMode(flag: string, text: string): CacheMode {
  if (text !== 'use' && text !== 'refresh' && text !== 'off')
    throw new UsageError(`${flag} ${text}: expected use, refresh or off`);
  return text;
}
