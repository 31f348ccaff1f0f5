import { UsageError } from '../errors.js';
import type { Manifest } from '../journal/manifest.js';
import type { Shard } from '../run/plan.js';

/** Most shards a run may be split into. */
const MAX_SHARDS = 10_000;

/**
 * Where `--shard auto/N` finds its index: the engines that run N copies of one command and tell
 * each which one it is. `base` is the index of the first copy.
 */
const INDEX_VARIABLES: readonly { name: string; total?: string; base: 0 | 1; engine: string }[] = [
  // https://kubernetes.io/docs/concepts/workloads/controllers/job/#completion-mode (Indexed: 0..completions-1)
  { name: 'JOB_COMPLETION_INDEX', base: 0, engine: 'Kubernetes Indexed Job' },
  // https://docs.gitlab.com/ee/ci/yaml/#parallel (CI_NODE_INDEX 1..CI_NODE_TOTAL)
  { name: 'CI_NODE_INDEX', total: 'CI_NODE_TOTAL', base: 1, engine: 'GitLab parallel job' },
  // https://circleci.com/docs/parallelism-faster-jobs/ (CIRCLE_NODE_INDEX 0..CIRCLE_NODE_TOTAL-1)
  { name: 'CIRCLE_NODE_INDEX', total: 'CIRCLE_NODE_TOTAL', base: 0, engine: 'CircleCI parallelism' },
  // https://buildkite.com/docs/pipelines/environment-variables (BUILDKITE_PARALLEL_JOB 0-based)
  { name: 'BUILDKITE_PARALLEL_JOB', total: 'BUILDKITE_PARALLEL_JOB_COUNT', base: 0, engine: 'Buildkite parallelism' },
];

/** `I/N` (1-based) or `auto/N` (I from the environment); undefined without --shard. */
export function parseShard(text: string | undefined, env: NodeJS.ProcessEnv): Shard | undefined {
  if (text === undefined) return undefined;
  const m = /^\s*(auto|\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const form = `--shard ${text}`;
  if (!m) throw new UsageError(`${form}: expected I/N (e.g. --shard 1/4, shards counted from 1) or auto/N`);
  const count = Number(m[2]);
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_SHARDS)
    throw new UsageError(`${form}: N must be a whole number from 1 to ${MAX_SHARDS}`);
  const index = m[1] === 'auto' ? indexFromEnv(form, count, env) : Number(m[1]);
  if (!Number.isSafeInteger(index) || index < 1 || index > count)
    throw new UsageError(`${form}: I must be from 1 to ${count} (shards are counted from 1)`);
  return { index, count };
}

function indexFromEnv(form: string, count: number, env: NodeJS.ProcessEnv): number {
  for (const v of INDEX_VARIABLES) {
    const raw = env[v.name];
    if (raw === undefined || raw.trim() === '') continue;
    if (!/^\d+$/.test(raw.trim()))
      throw new UsageError(`${form}: ${v.name}=${raw.slice(0, 40)} is not a whole number (${v.engine})`);
    const total = v.total === undefined ? undefined : env[v.total];
    if (total !== undefined && total.trim() !== '' && Number(total) !== count)
      throw new UsageError(
        `${form}: ${v.total}=${total.slice(0, 40)} says this job runs in ${total} parts, not ${count}`,
      );
    const index = Number(raw) - v.base + 1;
    if (index < 1 || index > count)
      throw new UsageError(
        `${form}: ${v.name}=${raw} (${v.engine}, counted from ${v.base}) is not one of ${count} shards (${v.base} to ${count - 1 + v.base})`,
      );
    return index;
  }
  const names = INDEX_VARIABLES.map((v) => v.name).join(', ');
  throw new UsageError(
    `${form}: no shard index in the environment (looked for ${names}); give it as --shard I/${count}`,
  );
}

/** A resumed run keeps its shard; another one given with --resume is an error. */
export function resumedShard(given: Shard | undefined, manifest: Manifest | undefined, dir: string): Shard | undefined {
  const had = manifest?.shard;
  if (!given || !manifest) return had ?? given;
  if (!had)
    throw new UsageError(`--shard ${label(given)}: ${dir} is a whole run, not a shard; resume it without --shard`);
  if (had.index !== given.index || had.count !== given.count)
    throw new UsageError(
      `--shard ${label(given)}: ${dir} is shard ${label(had)}; resume it with --shard ${label(had)} or none`,
    );
  return had;
}

export const label = (s: Shard): string => `${s.index}/${s.count}`;
