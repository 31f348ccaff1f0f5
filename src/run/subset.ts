import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import type { Manifest, RunFilter } from '../journal/manifest.js';
import { readLatestRecords } from '../journal/read.js';
import type { Suite } from '../suite/load.js';

/**
 * Subsets of a run's cases (`--case`, `--category`, `--failed-from`). A filtered suite keeps each
 * case's index in the whole suite, so job ids, cache keys, replay lookups and row order are those
 * of the unfiltered run, and its hash, so the config hash is too (a filtered run and a full one
 * of the same config are comparable case by case).
 */
interface SubsetRequest {
  case?: string[];
  category?: string[];
  /** The run directory given to --failed-from, resolved, and as the user wrote it. */
  failedFrom?: { dir: string; given: string };
}

/** `*` any run of characters, `?` one character; everything else literal; the whole id must match. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\*?]/g, (c) => (c === '*' ? '.*' : c === '?' ? '.' : `\\${c}`));
  return new RegExp(`^${body}$`, 's');
}

/** The (suite, case id) pairs that failed or errored in a run: any model, any repeat, its latest record. */
async function failedCases(dir: string, given: string): Promise<Record<string, string[]>> {
  const journal = join(dir, 'records.jsonl');
  if (!existsSync(journal)) throw new UsageError(`--failed-from ${given}: no records.jsonl`);
  const failed = new Map<string, Set<string>>();
  for await (const r of readLatestRecords(journal)) {
    if (r.status === 'ok' && r.grade.passed) continue;
    const set = failed.get(r.suite) ?? new Set<string>();
    set.add(r.case_id);
    failed.set(r.suite, set);
  }
  return Object.fromEntries([...failed].map(([suite, ids]) => [suite, [...ids]]));
}

/** The suites cut down to the request's cases (each case kept where every given criterion holds). */
function applyFilter(suites: readonly Suite[], filter: Omit<RunFilter, 'cases' | 'of'>): Suite[] {
  const globs = filter.case?.map(globToRegExp);
  const categories = filter.category && new Set(filter.category);
  const failed = filter.failed_from?.cases;
  return suites.map((s) => {
    const ids = failed && new Set(failed[s.name] ?? []);
    const keep: number[] = [];
    s.cases.forEach((c, at) => {
      if (globs && !globs.some((g) => g.test(c.id))) return;
      if (categories && !categories.has(c.category)) return;
      if (ids && !ids.has(c.id)) return;
      keep.push(at);
    });
    return { ...s, cases: keep.map((at) => s.cases[at]), caseIndexes: keep.map((at) => s.caseIndexes?.[at] ?? at) };
  });
}

/**
 * The filter a run asks for (flags, or the one a resumed run recorded), applied; undefined when
 * there is none. Refuses a filter that keeps no case, and a --failed-from run of another config.
 */
export async function selectCases(
  req: SubsetRequest,
  suites: Suite[],
  configHash: string,
  change: (m: Manifest) => string[],
  recorded: RunFilter | undefined,
  readRun: (dir: string) => Manifest,
): Promise<{ suites: Suite[]; filter?: RunFilter }> {
  const asked = Boolean(req.case?.length || req.category?.length || req.failedFrom);
  if (asked && recorded) throw new UsageError('--case, --category and --failed-from cannot change on --resume');
  let spec: Omit<RunFilter, 'cases' | 'of'> | undefined = recorded;
  if (asked) {
    spec = {
      ...(req.case?.length ? { case: req.case } : {}),
      ...(req.category?.length ? { category: req.category } : {}),
    };
    if (req.failedFrom) spec.failed_from = await failedRun(req.failedFrom, configHash, change, readRun);
  }
  if (!spec) return { suites };
  const kept = applyFilter(suites, spec);
  const of = suites.reduce((n, s) => n + s.cases.length, 0);
  const filter: RunFilter = { ...spec, cases: kept.reduce((n, s) => n + s.cases.length, 0), of };
  if (!filter.cases) throw new UsageError(nothingLeft(spec, suites));
  // A suite none of whose cases is kept stays, empty: the config hash is the unfiltered run's.
  return { suites: kept, filter };
}

async function failedRun(
  from: NonNullable<SubsetRequest['failedFrom']>,
  configHash: string,
  change: (m: Manifest) => string[],
  readRun: (dir: string) => Manifest,
): Promise<NonNullable<RunFilter['failed_from']>> {
  const m = readRun(from.dir);
  if (m.config_hash !== configHash) {
    const what = change(m);
    throw new UsageError(
      `--failed-from ${from.given}: that run used another config (${what.length ? what.join('; ') : `hash ${m.config_hash} vs ${configHash}`}); re-run its failures with its own config and suites`,
    );
  }
  return { run_id: m.run_id, dir: from.dir, cases: await failedCases(from.dir, from.given) };
}

/** Which filter left nothing, in the user's words. */
function nothingLeft(spec: Omit<RunFilter, 'cases' | 'of'>, suites: readonly Suite[]): string {
  if (spec.failed_from && !Object.keys(spec.failed_from.cases).length)
    return `--failed-from ${spec.failed_from.run_id}: no case failed or errored in that run: nothing to run again`;
  const flags = [
    ...(spec.case ?? []).map((c) => `--case ${c}`),
    ...(spec.category ?? []).map((c) => `--category ${c}`),
    ...(spec.failed_from ? [`--failed-from ${spec.failed_from.run_id}`] : []),
  ];
  const categories = [...new Set(suites.flatMap((s) => s.cases.map((c) => c.category)))];
  const known = spec.category ? ` (its categories: ${categories.slice(0, 20).join(', ')})` : '';
  return `${flags.join(' ')}: no case of ${suites.map((s) => s.name).join(', ')} matches${known}`;
}
