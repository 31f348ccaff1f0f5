import { binaryPower, gradedPower, type PowerFigures } from './power.js';
import { boundedMeanInterval, tangoInterval } from './score-tests.js';
import { pairedT } from './stats.js';

export const ALPHA = 0.05;

/** The test behind a gap or compare row (a public CSV value). */
export type PairedTest = 'mcnemar_score' | 'paired_t' | 'bounded_score';

interface PairedResult {
  meanA: number;
  meanB: number;
  /** Interval of mean(a - b), as fractions, within [-1, 1]; excludes 0 exactly when p < alpha. */
  ci: { low: number; high: number };
  p: number;
  test: PairedTest;
  /** Paired cases. */
  n: number;
  /** Smallest gap (fraction) detectable with 80% power at this n and disagreement; NaN when none is. */
  minDetectable: number;
  /** Paired cases a 5-point gap needs for 80% power; NaN when no number does. */
  casesFor5pp: number;
  /** Why a power figure is empty ("too few cases to detect any gap ..."). */
  powerNote?: string;
  /** Mean squared per-case difference (the disagreement rate for pass/fail scores). */
  meanSquare: number;
}

/**
 * Compares two systems on the same cases, one value per case (a case's mean over its repeats),
 * with a test and the interval that inverts it, so interval, p-value and verdict always agree.
 * Cases, not answers, are the units: repeats narrow nothing unless they change per-case means.
 * - Every case 0 or 1 on both sides (`binary`): McNemar's score test and Tango's score interval
 *   (the same statistic, with the variance under each tested gap), power exact by binomial sums.
 * - Otherwise: a paired t test and its interval mean ± t x sd / sqrt(n), clipped to [-1, 1], power
 *   from the non-central t. When every difference is the same (0 included) the t has no spread:
 *   the bounded score interval (differences lie in [-1, 1]) is used instead, so no interval is a
 *   single point.
 */
export function pairedComparison(
  a: readonly number[],
  b: readonly number[],
  binary = a.every((x) => x === 0 || x === 1) && b.every((x) => x === 0 || x === 1),
  alpha = ALPHA,
  withPower = false,
): PairedResult | undefined {
  const n = a.length;
  if (!n) return undefined;
  const t = pairedT(a, b, alpha);
  let sumA = 0;
  for (const x of a) sumA += x;
  const meanA = sumA / n;
  const common = { meanA, meanB: meanA - t.mean, n, meanSquare: t.meanSquare };
  if (!binary) {
    const power = withPower ? powerFields(gradedPower(n, t.sd, alpha)) : NO_POWER;
    if (n >= 2 && t.sd === 0) {
      const r = boundedMeanInterval(t.mean, n, -1, 1, alpha, 0);
      return { ...common, ...power, ci: r.ci, p: r.p, test: 'bounded_score' };
    }
    const ci = { low: Math.max(-1, t.ci.low), high: Math.min(1, t.ci.high) };
    return { ...common, ...power, ci, p: t.p, test: 'paired_t' };
  }
  let onlyA = 0;
  let onlyB = 0;
  for (let i = 0; i < n; i++) {
    if (a[i] === 1 && b[i] === 0) onlyA++;
    else if (a[i] === 0 && b[i] === 1) onlyB++;
  }
  const power = withPower ? powerFields(binaryPower(n, onlyA + onlyB, alpha)) : NO_POWER;
  return { ...common, ...power, ...tangoInterval(onlyA, onlyB, n, alpha), test: 'mcnemar_score' };
}

/** Power figures not asked for (compare rows have none). */
const NO_POWER = { minDetectable: NaN, casesFor5pp: NaN };

function powerFields(p: PowerFigures): Pick<PairedResult, 'minDetectable' | 'casesFor5pp' | 'powerNote'> {
  return { minDetectable: p.minDetectable, casesFor5pp: p.casesFor5pp, ...(p.reason ? { powerNote: p.reason } : {}) };
}

/** The verdict of a comparison of closed (a) minus open (b): it names a side exactly when the interval excludes 0. */
export function verdictOf(
  r: Pick<PairedResult, 'p' | 'ci'>,
  alpha = ALPHA,
): 'closed_better' | 'open_better' | 'no_significant_difference' {
  if (!(r.p < alpha)) return 'no_significant_difference';
  return r.ci.low > 0 ? 'closed_better' : r.ci.high < 0 ? 'open_better' : 'no_significant_difference';
}
