import { clopperPearson, mcnemarExact, minDetectable, pairedT } from './stats.js';

export const ALPHA = 0.05;

interface PairedResult {
  meanA: number;
  meanB: number;
  /** Interval of mean(a - b), as fractions; excludes 0 exactly when p < alpha. */
  ci: { low: number; high: number };
  p: number;
  test: 'mcnemar_exact' | 'paired_t';
  /** Paired cases. */
  n: number;
  /** Smallest gap (fraction) detectable with 80% power at this n and disagreement; NaN when nothing disagrees. */
  minDetectable: number;
  /** Mean squared per-case difference (the disagreement rate for pass/fail scores). */
  meanSquare: number;
}

/**
 * Compares two systems on the same cases, one value per case (a case's mean over its repeats),
 * with a test and the interval that inverts it, so interval, p-value and verdict always agree.
 * Cases, not answers, are the units: repeats narrow nothing unless they change per-case means.
 * - Every case 0 or 1 on both sides (`binary`): the exact McNemar test (two-sided binomial test
 *   on the b + c discordant cases) and, for the difference (b - c) / n = (b + c) / n x (2 pi - 1),
 *   the Clopper-Pearson interval of pi = b / (b + c): the inversion of the same binomial test,
 *   conditional on the number of discordant cases. Exact at any n.
 * - Otherwise: a paired t test on the differences and its interval mean ± t x sd / sqrt(n).
 */
export function pairedComparison(
  a: readonly number[],
  b: readonly number[],
  binary = a.every((x) => x === 0 || x === 1) && b.every((x) => x === 0 || x === 1),
  alpha = ALPHA,
): PairedResult | undefined {
  const n = a.length;
  if (!n) return undefined;
  const t = pairedT(a, b, alpha);
  let sumA = 0;
  for (const x of a) sumA += x;
  const meanA = sumA / n;
  const common = {
    meanA,
    meanB: meanA - t.mean,
    n,
    minDetectable: minDetectable(n, t.meanSquare, alpha),
    meanSquare: t.meanSquare,
  };
  if (!binary) return { ...common, ci: t.ci, p: t.p, test: 'paired_t' };
  let onlyA = 0;
  let onlyB = 0;
  for (let i = 0; i < n; i++) {
    if (a[i] === 1 && b[i] === 0) onlyA++;
    else if (a[i] === 0 && b[i] === 1) onlyB++;
  }
  return { ...common, ...mcnemar(onlyA, onlyB, n, alpha), test: 'mcnemar_exact' };
}

function mcnemar(b: number, c: number, n: number, alpha: number): { p: number; ci: { low: number; high: number } } {
  const m = b + c;
  if (m === 0) return { p: 1, ci: { low: 0, high: 0 } };
  const p = mcnemarExact(b, c);
  const cp = clopperPearson(b, m, 1 - alpha);
  const share = m / n;
  let ci = { low: share * (2 * cp.low - 1), high: share * (2 * cp.high - 1) };
  // Bisection leaves the bounds within 1e-16 of the exact ones: at the boundary the test decides.
  const excludes = ci.low > 0 || ci.high < 0;
  if (p < alpha && !excludes)
    ci = b > c ? { low: Number.MIN_VALUE, high: ci.high } : { low: ci.low, high: -Number.MIN_VALUE };
  if (!(p < alpha) && excludes) ci = ci.low > 0 ? { low: 0, high: ci.high } : { low: ci.low, high: 0 };
  return { p, ci };
}

/** The verdict of a comparison of closed (a) minus open (b): it names a side exactly when the interval excludes 0. */
export function verdictOf(
  r: PairedResult,
  alpha = ALPHA,
): 'closed_better' | 'open_better' | 'no_significant_difference' {
  if (!(r.p < alpha)) return 'no_significant_difference';
  return r.ci.low > 0 ? 'closed_better' : r.ci.high < 0 ? 'open_better' : 'no_significant_difference';
}
