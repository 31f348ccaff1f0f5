/**
 * A sequential run's settings from flags, config and a resumed manifest, checked before anything
 * is sent (issue 27's "bad input"). `gapbench run` and `evaluate()` both come through here.
 */
import type { ModelConfig } from '../config/config.js';
import { UsageError } from '../errors.js';
import type { Manifest, SequentialSettings } from '../journal/manifest.js';
import { ALPHA } from '../report/paired.js';
import { decidingOf } from '../report/sequential-log.js';
import type { Suite } from '../suite/load.js';
import type { SequentialPlan } from './sequential-gate.js';

/** The flags (or evaluate() options), each optional: config and a resumed run fill the rest. */
export interface SequentialInput {
  untilDecided?: boolean;
  /** Stop when the interval is at most this many points wide. */
  untilCi?: number;
  margin?: number;
  minCases?: number;
  finalTest?: boolean;
  orderSeed?: number;
}

/** `sequential:` in gapbench.config.yaml (the same names as the manifest's). */
type SequentialConfig = Partial<SequentialSettings>;

interface PlanContext {
  models: readonly ModelConfig[];
  suites: readonly Suite[];
  pairs?: Manifest['pairs'];
  alpha?: number;
  /** The run being resumed, when it is. */
  resumed?: Manifest;
  sharded: boolean;
}

const DEFAULT_MIN_CASES = 30;

/** The run's sequential plan, or undefined for a fixed-n run; throws UsageError for bad input. */
export function sequentialPlan(
  flags: SequentialInput,
  config: SequentialConfig | undefined,
  ctx: PlanContext,
): SequentialPlan | undefined {
  const before = ctx.resumed?.sequential;
  // A resumed run keeps its own rule and order (the config may have changed since): flags may only repeat them.
  const settings = merged(flags, before ? undefined : config, before);
  if (!settings) return undefined;
  if (ctx.resumed && !before)
    throw new UsageError('--resume: the run was not started sequentially; it cannot become one');
  if (before && settings.order_seed !== before.order_seed)
    throw new UsageError(
      `--order-seed ${settings.order_seed}: the resumed run drew its case order with seed ${before.order_seed} (a resume keeps it)`,
    );
  const rule = ['until', 'ci_pp', 'margin_pp', 'min_cases', 'final_test'] as const;
  if (before && rule.some((k) => settings[k] !== before[k]))
    throw new UsageError(
      '--resume: the run keeps the stop rule it was started with (see its manifest.json, `sequential`)',
    );
  if (ctx.sharded)
    throw new UsageError('--shard: a sequential run (--until-decided, --until-ci, --margin) cannot be sharded');
  const batched = ctx.models.find((m) => m.batch && !m.judgeOnly);
  if (batched)
    throw new UsageError(
      `model '${batched.id}': batch mode answers within hours, all at once; a sequential run needs answers as it goes (leave out --batch or the stop rule)`,
    );
  const deciding = decidingOf(ctx.models, ctx.pairs);
  if (!deciding)
    throw new UsageError(
      'a sequential run needs a pre-declared comparison: one closed and one open model, or `pairs:` in the config (the best pair is chosen from the data, which voids the interval)',
    );
  for (const s of ctx.suites)
    if (settings.min_cases > s.cases.length)
      throw new UsageError(
        `--min-cases ${settings.min_cases}: above suite '${s.name}''s ${s.cases.length} case(s) (n_max)`,
      );
  return { settings, alpha: ctx.alpha ?? ALPHA, deciding };
}

/** Flags over config over the resumed run's; undefined when no stop rule is asked for. */
function merged(
  flags: SequentialInput,
  config: SequentialConfig | undefined,
  before: SequentialSettings | undefined,
): SequentialSettings | undefined {
  const base = { ...before, ...config };
  if (flags.untilDecided && flags.untilCi !== undefined)
    throw new UsageError('--until-decided and --until-ci: choose one (add --margin to either)');
  const until = flags.untilDecided ? 'decided' : flags.untilCi !== undefined ? 'ci' : base.until;
  const ciPp = flags.untilCi ?? base.ci_pp;
  const margin = flags.margin ?? base.margin_pp;
  const rest = flags.minCases ?? flags.finalTest ?? flags.orderSeed;
  if (until === undefined && margin === undefined) {
    if (rest !== undefined)
      throw new UsageError('--min-cases, --final-test and --order-seed need --until-decided, --until-ci or --margin');
    return undefined;
  }
  if (until === 'ci' && !(ciPp !== undefined && Number.isFinite(ciPp) && ciPp > 0)) {
    const name = flags.untilCi !== undefined ? '--until-ci' : 'sequential.ci_pp (config)';
    throw new UsageError(`${name} ${ciPp ?? ''}: expected a width in percentage points above 0`.replace('  ', ' '));
  }
  if (margin !== undefined && !(Number.isFinite(margin) && margin >= 0))
    throw new UsageError(`--margin ${margin}: expected percentage points from 0 and up`);
  return {
    ...(until ? { until } : {}),
    ...(until === 'ci' ? { ci_pp: ciPp } : {}),
    ...(margin !== undefined ? { margin_pp: margin } : {}),
    min_cases: flags.minCases ?? base.min_cases ?? DEFAULT_MIN_CASES,
    final_test: flags.finalTest ?? base.final_test ?? until === 'decided',
    order_seed: flags.orderSeed ?? base.order_seed ?? randomSeed(),
  };
}

/** A fresh seed when none is given: recorded in the manifest, so the order can be drawn again. */
function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

/** A number of percentage points from a flag's text. */
export function pointsOf(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new UsageError(`${name} ${v}: expected a number of percentage points`);
  return n;
}
