import { minDetectable, pairedT } from './stats.js';

export const ALPHA = 0.05;

export interface PairedResult {
  meanA: number;
  meanB: number;
  /** Interval of mean(a - b), as fractions; excludes 0 exactly when p < alpha. */
  ci: { low: number; high: number };
  p: number;
  test: 'paired_t';
  /** Paired cases. */
  n: number;
  /** Smallest gap (fraction) detectable with 80% power at this n and disagreement; NaN when nothing disagrees. */
  minDetectable: number;
  /** Mean squared per-case difference (the disagreement rate for pass/fail scores). */
  meanSquare: number;
}

/**
 * Compares two systems on the same cases, one value per case (a case's mean over its repeats):
 * a paired t test on the per-case differences and the interval that inverts it (mean ± t · se),
 * so interval, p-value and verdict always agree. Cases, not answers, are the units: repeats
 * narrow nothing unless they change the per-case means.
 */
export function pairedComparison(a: readonly number[], b: readonly number[], alpha = ALPHA): PairedResult | undefined {
  const n = a.length;
  if (!n) return undefined;
  const t = pairedT(a, b, alpha);
  let sumA = 0;
  for (const x of a) sumA += x;
  const meanA = sumA / n;
  return {
    meanA,
    meanB: meanA - t.mean,
    ci: t.ci,
    p: t.p,
    test: 'paired_t',
    n,
    minDetectable: minDetectable(n, t.meanSquare, alpha),
    meanSquare: t.meanSquare,
  };
}

/** The verdict of a comparison of closed (a) minus open (b): it names a side exactly when the interval excludes 0. */
export function verdictOf(
  r: PairedResult,
  alpha = ALPHA,
): 'closed_better' | 'open_better' | 'no_significant_difference' {
  if (!(r.p < alpha)) return 'no_significant_difference';
  return r.ci.low > 0 ? 'closed_better' : r.ci.high < 0 ? 'open_better' : 'no_significant_difference';
}
