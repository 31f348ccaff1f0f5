/** `gapbench run`'s sequential flags (docs/sequential.md), read into a plan by run/sequential-options.ts. */
import type { Config, ModelConfig } from '../config/config.js';
import { UsageError } from '../errors.js';
import type { Manifest } from '../journal/manifest.js';
import type { Shard } from '../run/plan.js';
import type { SequentialPlan } from '../run/sequential-gate.js';
import { sequentialPlan, type SequentialInput } from '../run/sequential-options.js';
import type { Suite } from '../suite/load.js';
import type { Values } from '../util/args.js';
import type { RUN_SPEC } from './run-options.js';

type RunValues = Values<typeof RUN_SPEC.options>;

/** --until-decided and its companions, over the config's `sequential:` and a resumed run's own. */
export function sequentialOf(
  values: RunValues,
  config: Config,
  run: { models: ModelConfig[]; suites: Suite[]; resumed?: Manifest; shard?: Shard },
): SequentialPlan | undefined {
  const { models, suites, resumed, shard } = run;
  const pairs = config.pairs ?? resumed?.pairs;
  const alpha = config.alpha ?? resumed?.alpha;
  const ctx = { models, suites, pairs, alpha, resumed, sharded: shard !== undefined };
  return sequentialPlan(sequentialFlags(values), config.sequential, ctx);
}

/** The sequential flags (checked further by sequentialPlan). */
function sequentialFlags(values: RunValues): SequentialInput {
  if (values['final-test'] && values['no-final-test'])
    throw new UsageError('--final-test and --no-final-test: choose one');
  return {
    untilDecided: values['until-decided'],
    untilCi: values['until-ci'],
    margin: values.margin,
    minCases: values['min-cases'],
    finalTest: values['final-test'] ? true : values['no-final-test'] ? false : undefined,
    orderSeed: values['order-seed'],
  };
}
