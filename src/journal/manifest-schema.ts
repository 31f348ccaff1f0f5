/**
 * The shape a manifest.json must have before any command trusts it: a run directory is outside
 * data (copied between machines, edited, cut short by a full disk), and a field that is missing or
 * of the wrong type would otherwise surface as a crash deep inside a report. Unknown fields pass
 * (a newer gapbench may add some); the fields the commands read are checked.
 */
import type * as zod from 'zod/v3';
import { requireCjs } from '../util/cjs.js';

const { z } = requireCjs('zod/v3') as typeof zod;

const count = z.number().int().nonnegative();

const modelSchema = z
  .object({
    id: z.string().min(1),
    provider: z.string(),
    protocol: z.string(),
    model: z.string(),
    group: z.enum(['closed', 'open']),
    params: z.record(z.string(), z.unknown()),
    judgeOnly: z.boolean().optional(),
  })
  .passthrough();

const suiteSchema = z
  .object({ name: z.string().min(1), file: z.string(), hash: z.string(), cases: count, description: z.string() })
  .passthrough();

/** A file the manifest names inside its run directory: relative, with no `..` segment. */
const insideRunDir = z
  .string()
  .min(1)
  .refine(
    (p) => !/^([\\/]|[A-Za-z]:)/.test(p) && !p.split(/[\\/]/).includes('..'),
    'must be a path inside the run directory',
  );

const shardSchema = z.object({ index: z.number().int().positive(), count: z.number().int().positive() });

export const manifestSchema = z
  .object({
    gapbench: z.string(),
    run_id: z.string().min(1),
    status: z.enum(['running', 'finished', 'interrupted']),
    created_at: z.string(),
    started_at: z.string(),
    finished_at: z.string().optional(),
    config_hash: z.string(),
    invocation: z
      .object({
        models: z.array(z.string()),
        suites: z.array(z.string()),
        repeat: z.number().int().positive(),
        sets: z.record(z.string(), z.string()),
        cwd: z.string(),
      })
      .passthrough(),
    models: z.array(modelSchema),
    suites: z.array(suiteSchema),
    repeat: z.number().int().positive(),
    cache: z.object({ mode: z.string(), dir: z.string() }).passthrough(),
    counts: z
      .object({ jobs: count, records: count, ok: count, errors: count, unfinished: count })
      .passthrough()
      .optional(),
    pairs: z.array(z.object({ closed: z.string(), open: z.string() })).optional(),
    alpha: z.number().gt(0).lt(1).optional(),
    sequential: z
      .object({
        until: z.enum(['decided', 'ci']).optional(),
        ci_pp: z.number().positive().optional(),
        margin_pp: z.number().nonnegative().optional(),
        min_cases: count,
        final_test: z.boolean(),
        order_seed: z.number().int().nonnegative(),
      })
      .passthrough()
      .optional(),
    shard: shardSchema.refine((s) => s.index <= s.count, 'index above count').optional(),
    capacity: z
      .object({ dir: z.string().min(1), run_id: z.string() })
      .passthrough()
      .optional(),
    batches: z.array(z.object({ model: z.string(), file: insideRunDir, requests: count }).passthrough()).optional(),
    kind: z.enum(['capacity']).optional(),
  })
  .passthrough();
