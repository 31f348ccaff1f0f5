/**
 * Score tests and the intervals that invert them, for paired pass/fail data and bounded scores,
 * plus Holm's step-down adjustment. Pure functions, no dependencies.
 */
import { normalCritical, normalTwoSided, type Interval } from './stats.js';

/** A test's two-sided p-value with the interval that inverts the same statistic. */
interface TestedInterval {
  p: number;
  ci: Interval;
}

/**
 * Tango's score statistic (Tango 1998, Stat Med 17:891) for H0: p12 - p21 = d0 on n paired cases
 * of which b passed only on side A and c only on side B. The variance is taken at the restricted
 * maximum-likelihood estimate of p21 under H0, which is what makes the interval cover when the gap
 * is large (mapping an interval of b / (b + c) with the observed (b + c) / n did not). At d0 = 0
 * it is McNemar's statistic (b - c) / sqrt(b + c). Decreasing in d0.
 */
function tangoStatistic(b: number, c: number, n: number, d0: number): number {
  const A = 2 * n;
  const B = -b - c + (2 * n - b + c) * d0;
  const C = -c * d0 * (1 - d0);
  const p21 = Math.max(0, (-B + Math.sqrt(Math.max(0, B * B - 4 * A * C))) / (2 * A));
  const num = b - c - n * d0;
  const v = n * (2 * p21 + d0 * (1 - d0));
  if (!(v > 0)) return num === 0 ? 0 : num > 0 ? Infinity : -Infinity;
  return num / Math.sqrt(v);
}

/**
 * McNemar's score test of "no gap" and Tango's score interval of the difference of paired
 * proportions (b - c) / n: the d0 whose statistic stays within ±z(1 - alpha/2). One statistic
 * gives both, so the interval excludes 0 exactly when p < alpha. With b + c = 0 the interval is
 * ±z²/(n + z²), never a single point.
 */
export function tangoInterval(b: number, c: number, n: number, alpha = 0.05): TestedInterval {
  if (!(n > 0) || b + c > n) throw new RangeError(`tangoInterval: expected b + c <= n and n > 0, got ${b}, ${c}, ${n}`);
  const z = normalCritical(alpha);
  const p = b + c === 0 ? 1 : normalTwoSided((b - c) / Math.sqrt(b + c));
  const low = solveDecreasing((d) => tangoStatistic(b, c, n, d) - z);
  const high = solveDecreasing((d) => tangoStatistic(b, c, n, d) + z);
  return coherent(p, { low, high }, alpha, (b - c) / n);
}

/**
 * Score test and interval for the mean of n values known to lie in [lo, hi] (a bounded mean):
 * rescaled to [0, 1], the variance of a value with mean mu is at most mu (1 - mu), which is
 * Wilson's interval applied to the mean. Conservative for any distribution on [lo, hi], so it
 * covers where a t interval on a few identical or skewed values has no width.
 */
export function boundedMeanInterval(
  mean: number,
  n: number,
  lo: number,
  hi: number,
  alpha = 0.05,
  null0 = NaN,
): TestedInterval {
  if (!(n > 0)) return { p: NaN, ci: { low: NaN, high: NaN } };
  const z = normalCritical(alpha);
  const w = hi - lo;
  const x = Math.min(1, Math.max(0, (mean - lo) / w));
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (x + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((x * (1 - x)) / n + z2 / (4 * n * n));
  const ci = { low: lo + w * Math.max(0, center - half), high: lo + w * Math.min(1, center + half) };
  if (Number.isNaN(null0)) return { p: NaN, ci };
  const u0 = (null0 - lo) / w;
  const p = normalTwoSided(((x - u0) * Math.sqrt(n)) / Math.sqrt(u0 * (1 - u0)));
  return coherent(p, ci, alpha, mean);
}

/**
 * Holm's step-down adjustment: sorted ascending, p(i) is multiplied by (m - i), made monotone and
 * capped at 1. Controls the family-wise error rate at alpha for any dependence between the tests.
 * NaN entries take no part and stay NaN.
 */
export function holm(ps: readonly number[]): number[] {
  const idx = ps.map((p, i) => [p, i] as const).filter(([p]) => Number.isFinite(p));
  idx.sort((a, b) => a[0] - b[0]);
  const m = idx.length;
  const out = ps.map(() => NaN);
  let running = 0;
  idx.forEach(([p, i], k) => {
    running = Math.max(running, Math.min(1, (m - k) * p));
    out[i] = running;
  });
  return out;
}

/** The root in [-1, 1] of a decreasing function (bisection; ±1 when it has none inside). */
function solveDecreasing(f: (d: number) => number): number {
  let lo = -1;
  let hi = 1;
  if (f(lo + 1e-15) <= 0) return -1;
  if (f(hi - 1e-15) >= 0) return 1;
  for (let i = 0; i < 100 && hi - lo > 1e-14; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) > 0) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Rounding may leave a bound a hair on the wrong side of 0 at p = alpha: the test decides. */
function coherent(p: number, ci: Interval, alpha: number, estimate: number): TestedInterval {
  const excludes = ci.low > 0 || ci.high < 0;
  if (p < alpha && !excludes)
    return {
      p,
      ci: estimate > 0 ? { low: Number.MIN_VALUE, high: ci.high } : { low: ci.low, high: -Number.MIN_VALUE },
    };
  if (!(p < alpha) && excludes) return { p, ci: ci.low > 0 ? { low: 0, high: ci.high } : { low: ci.low, high: 0 } };
  return { p, ci };
}
