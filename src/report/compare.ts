import { join } from 'node:path';
import { readLatestRecords } from '../journal/read.js';
import type { Manifest } from '../journal/manifest.js';
import { Aggregator, canonicalize, type Aggregate } from './aggregate.js';
import { ALPHA, pairedComparison, type PairedTest } from './paired.js';
import { runScores, type RunScores } from './history-cases.js';

export interface CompareRow {
  suite: string;
  model: string;
  group: string;
  run_a: string;
  run_b: string;
  score_a: number;
  score_b: number;
  delta_pp: number;
  ci_low_pp: number;
  ci_high_pp: number;
  p_value: number;
  test: PairedTest;
  n_paired: number;
  verdict: 'improved' | 'regressed' | 'no_significant_difference';
}

export const COMPARE_COLUMNS = [
  'suite',
  'model',
  'group',
  'run_a',
  'run_b',
  'score_a',
  'score_b',
  'delta_pp',
  'ci_low_pp',
  'ci_high_pp',
  'p_value',
  'test',
  'n_paired',
  'verdict',
] as const;

export async function aggregateRun(
  runDir: string,
  manifest: Pick<Manifest, 'run_id' | 'models' | 'suites'>,
): Promise<Aggregate> {
  const agg = new Aggregator(manifest.run_id, false);
  for await (const r of readLatestRecords(join(runDir, 'records.jsonl'))) agg.add(r, () => undefined);
  canonicalize(
    agg.agg,
    new Map(manifest.suites.map((s, i) => [s.name, i])),
    new Map(manifest.models.map((m, i) => [m.id, i])),
  );
  return agg.agg;
}

/**
 * Per suite x model present in both runs: B minus A on the cases both answered (mean over
 * repeats per case), with the paired test and the interval that inverts it (so they agree).
 */
export function compareRuns(a: Aggregate, b: Aggregate, alpha = ALPHA): CompareRow[] {
  return compareScores(runScores(a), runScores(b), alpha);
}

/** compareRuns on per-case scores (from run directories or history-cases.jsonl). */
export function compareScores(a: RunScores, b: RunScores, alpha = ALPHA): CompareRow[] {
  const rows: CompareRow[] = [];
  for (const suite of b.suites) {
    if (!a.suites.includes(suite)) continue;
    for (const m of b.models) {
      if (!a.models.some((x) => x.id === m.id)) continue;
      const xs: number[] = [];
      const ys: number[] = [];
      for (const [id, byModel] of b.cases.get(suite) ?? []) {
        const sb = byModel.get(m.id);
        const sa = a.cases.get(suite)?.get(id)?.get(m.id);
        if (sa === undefined || sb === undefined) continue;
        xs.push(sa);
        ys.push(sb);
      }
      // B first: the interval and the test are of B minus A.
      const r = pairedComparison(ys, xs, undefined, alpha);
      if (!r) continue;
      rows.push({
        suite,
        model: m.id,
        group: m.group,
        run_a: a.runId,
        run_b: b.runId,
        score_a: r.meanB,
        score_b: r.meanA,
        delta_pp: (r.meanA - r.meanB) * 100,
        ci_low_pp: r.ci.low * 100,
        ci_high_pp: r.ci.high * 100,
        p_value: r.p,
        test: r.test,
        n_paired: r.n,
        verdict:
          r.p < alpha
            ? r.ci.low > 0
              ? 'improved'
              : r.ci.high < 0
                ? 'regressed'
                : 'no_significant_difference'
            : 'no_significant_difference',
      });
    }
  }
  return rows;
}

/**
 * The rows that fail `--fail-on-regression PP`: a drop of more than PP points that the paired test
 * also finds significant (`verdict: regressed`), or with `strict` any drop of more than PP points.
 */
export function regressions(rows: readonly CompareRow[], pp: number, strict: boolean): CompareRow[] {
  return rows.filter((r) => dropsMoreThan(r.delta_pp, pp) && (strict || r.verdict === 'regressed'));
}

/**
 * Whether a change of `deltaPP` points is a drop of more than `pp`. Scores are means of fractions,
 * so a drop of exactly 3 points computes as 3.0000000000000027: compared to a billionth of a point.
 */
export function dropsMoreThan(deltaPP: number, pp: number): boolean {
  return deltaPP < -pp - 1e-9;
}

/** Models whose answers in any of the runs came mostly (over half) from the response cache. */
export function mostlyCached(...aggs: Aggregate[]): string[] {
  const out: string[] = [];
  for (const agg of aggs)
    for (const c of agg.cells.values())
      if (c.cached * 2 > c.n + c.excluded && !out.includes(`${c.model} in ${agg.runId}`))
        out.push(`${c.model} in ${agg.runId}`);
  return out;
}
