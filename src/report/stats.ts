/**
 * Statistics for comparing models on the same cases. Pure functions, no dependencies.
 */

/** A two-sided interval. NaN bounds mean "no data" (they become empty CSV cells). */
export interface Interval {
  low: number;
  high: number;
}

/** z for a two-sided 95% interval: the 0.975 quantile of the standard normal. */
const Z95 = 1.959963984540054;

/** Arithmetic mean; NaN for an empty array. */
export function mean(xs: ArrayLike<number>): number {
  if (xs.length === 0) return NaN;
  let sum = 0;
  for (let i = 0; i < xs.length; i++) sum += xs[i];
  return sum / xs.length;
}

/** Quantile of already ascending-sorted data, linear interpolation (Hyndman-Fan type 7, numpy's default). */
function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`Expected \`q\` to be a number from 0 to 1, got ${q}`);
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const x = sorted[lo];
  // Written as x + f * (y - x) so that equal neighbours give exactly x, with no rounding noise.
  return x + (h - lo) * (sorted[hi] - x);
}

/** Quantile with linear interpolation (type 7, numpy's default); sorts a copy, the input is not mutated. */
export function quantile(xs: ArrayLike<number>, q: number): number {
  return quantileSorted(sortedCopy(xs), q);
}

/** Percentile p in [0, 100] (type 7), e.g. percentile(latencies, 95) for p95. */
export function percentile(xs: ArrayLike<number>, p: number): number {
  return quantile(xs, p / 100);
}

/** Several percentiles (type 7) with a single sort, e.g. percentiles(latencies, [50, 95]). */
export function percentiles(xs: ArrayLike<number>, ps: readonly number[]): number[] {
  const sorted = sortedCopy(xs);
  return ps.map((p) => quantileSorted(sorted, p / 100));
}

/**
 * Wilson score interval for a binomial proportion.
 * For n = 0 it returns {low: NaN, high: NaN}: there is no estimate, and NaN prints as an empty cell.
 */
export function wilson(passed: number, n: number, z: number = Z95): Interval {
  requireCount(n, 'n');
  requireCount(passed, 'passed');
  if (passed > n) throw new RangeError(`Expected \`passed\` (${passed}) to be at most \`n\` (${n})`);
  if (!(z > 0)) throw new RangeError(`Expected \`z\` to be a positive number, got ${z}`);
  if (n === 0) return { low: NaN, high: NaN };
  const p = passed / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At 0/n and n/n the bound is exactly 0 or 1 in exact arithmetic; pin it so float noise does not show.
  return {
    low: passed === 0 ? 0 : Math.max(0, center - half),
    high: passed === n ? 1 : Math.min(1, center + half),
  };
}

const LOG_FACTORIALS = (() => {
  const t = new Float64Array(256);
  for (let k = 2; k < t.length; k++) t[k] = t[k - 1] + Math.log(k);
  return t;
})();

/**
 * ln(k!): a table below 256, Stirling's series above (its truncation error is under 1e-20 there;
 * rounding leaves about one ulp of the result, e.g. 6e-10 at k = 1e6).
 */
export function logFactorial(k: number): number {
  if (k < LOG_FACTORIALS.length) return LOG_FACTORIALS[k];
  const x = k + 1;
  const x2 = x * x;
  return (
    (x - 0.5) * Math.log(x) -
    x +
    0.5 * Math.log(2 * Math.PI) +
    1 / (12 * x) -
    1 / (360 * x * x2) +
    1 / (1260 * x * x2 * x2) -
    1 / (1680 * x * x2 * x2 * x2)
  );
}

/**
 * One draw from Binomial(n, p) given a uniform u in [0, 1), by inversion: u is spent on the
 * probabilities of m, m - 1, m + 1, m - 2, ... outward from the mode m until it runs out. Any fixed
 * order of the outcomes gives the binomial distribution; this one needs about as many steps as the
 * standard deviation, where counting from 0 needs about the mean. The probabilities are exact up
 * to the rounding of the mode's (from ln n! terms): a total variation distance of about 1e-16 for
 * small n, 1e-10 at n = 1e5, 1e-8 at n = 1e7, far below any Monte Carlo error.
 */
export function binomialFromUniform(n: number, p: number, u: number): number {
  if (!(Number.isInteger(n) && n >= 0 && p >= 0 && p <= 1 && u >= 0 && u < 1)) {
    throw new RangeError(
      `binomialFromUniform: expected an integer n >= 0, p in [0, 1] and u in [0, 1), got ${n}, ${p}, ${u}`,
    );
  }
  if (n === 0 || p <= 0) return 0;
  if (p >= 1) return n;
  const q = 1 - p;
  const m = Math.min(n, Math.floor((n + 1) * p));
  const fm = Math.exp(
    logFactorial(n) - logFactorial(m) - logFactorial(n - m) + m * Math.log(p) + (n - m) * Math.log(q),
  );
  u -= fm;
  if (u < 0) return m;
  const odds = p / q;
  let lo = m;
  let hi = m;
  let flo = fm;
  let fhi = fm;
  while ((lo > 0 && flo > 0) || (hi < n && fhi > 0)) {
    if (lo > 0) {
      flo *= lo / ((n - lo + 1) * odds);
      lo--;
      u -= flo;
      if (u < 0) return lo;
    }
    if (hi < n) {
      fhi *= ((n - hi) / (hi + 1)) * odds;
      hi++;
      u -= fhi;
      if (u < 0) return hi;
    }
  }
  return m; // rounding left u a hair above the whole mass (for u within about 1e-9 of 1 at n = 1e6)
}

function pairedDiffs(a: readonly number[], b: readonly number[]): Float64Array {
  requireSameLength(a, b);
  const d = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    requireFinite(a[i], `a[${i}]`);
    requireFinite(b[i], `b[${i}]`);
    d[i] = a[i] - b[i];
    // Two finite scores can still differ by more than a double holds (1e308 - -1e308).
    requireFinite(d[i], `a[${i}] - b[${i}]`);
  }
  return d;
}

function sortedCopy(xs: ArrayLike<number>): Float64Array {
  // A Float64Array sorts numerically; Array.prototype.sort would compare as strings.
  return Float64Array.from(xs).sort();
}

function requireSameLength(a: ArrayLike<unknown>, b: ArrayLike<unknown>): void {
  if (a.length !== b.length) {
    throw new RangeError(`Expected paired arrays of equal length, got ${a.length} and ${b.length}`);
  }
}

function requireFinite(x: number, name: string): void {
  if (typeof x !== 'number' || !Number.isFinite(x)) {
    throw new RangeError(`Expected \`${name}\` to be a finite number, got ${String(x)}`);
  }
}

function requireCount(x: number, name: string): void {
  if (!Number.isInteger(x) || x < 0) {
    throw new RangeError(`Expected \`${name}\` to be an integer from 0 and up, got ${String(x)}`);
  }
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error about 1e-15). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let a = c[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz), valid for x < (a + 1) / (a + b + 2). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return h;
}

/** Regularized incomplete beta function I_x(a, b). */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(a, b, x)) / a : 1 - (front * betaFraction(b, a, 1 - x)) / b;
}

/** Two-sided tail probability P(|T| >= |t|) of Student's t with df degrees of freedom. */
export function studentTTwoSided(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`Expected \`df\` to be positive, got ${df}`);
  if (!Number.isFinite(t)) return Number.isNaN(t) ? NaN : 0;
  return regularizedBeta(df / (df + t * t), df / 2, 0.5);
}

/** The t with P(|T| >= t) = p (two-sided critical value), by bisection to full precision. */
export function studentTCritical(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`Expected \`p\` in (0, 1), got ${p}`);
  let lo = 0;
  let hi = 1;
  while (studentTTwoSided(hi, df) > p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTTwoSided(mid, df) > p) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Result of a paired t test on per-case differences a - b. */
interface PairedT {
  n: number;
  /** Mean of a - b. */
  mean: number;
  /** Standard deviation of the differences (n - 1 in the denominator). */
  sd: number;
  /** Two-sided p-value of mean = 0 (1 when it cannot be tested: fewer than two cases). */
  p: number;
  /** The interval mean ± t(1 - alpha/2, n - 1) · sd / √n: it excludes 0 exactly when p < alpha. */
  ci: Interval;
  /** Mean of the squared differences: the variance of a difference under "no gap" (the disagreement rate for 0/1 scores). */
  meanSquare: number;
}

/**
 * Paired t test of mean(a - b) = 0 with its matching interval (test inversion: both come from the
 * same statistic and critical value, so the interval excludes 0 exactly when p < alpha). Cases
 * are the units: with repeats, pass each case's mean over its repeats (cluster-level analysis).
 */
export function pairedT(a: readonly number[], b: readonly number[], alpha = 0.05): PairedT {
  const d = pairedDiffs(a, b);
  const n = d.length;
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    sum += d[i];
    sq += d[i] * d[i];
  }
  const m = n ? sum / n : NaN;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (d[i] - m) * (d[i] - m);
  const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : NaN;
  const meanSquare = n ? sq / n : NaN;
  if (n < 2) return { n, mean: m, sd, p: 1, ci: { low: NaN, high: NaN }, meanSquare };
  const se = sd / Math.sqrt(n);
  // All differences equal: no spread for t. The exact sign-flip test has p = 2^(1 - n) when they
  // are not 0 (every flip pattern but two gives a smaller mean); the interval follows it.
  if (!(se > 1e-12 * Math.max(1, Math.abs(m)))) {
    if (m === 0) return { n, mean: 0, sd: 0, p: 1, ci: { low: 0, high: 0 }, meanSquare };
    const p = Math.min(1, 2 ** (1 - n));
    const ci = p < alpha ? { low: m, high: m } : { low: Math.min(0, m), high: Math.max(0, m) };
    return { n, mean: m, sd: 0, p, ci, meanSquare };
  }
  const crit = studentTCritical(alpha, n - 1);
  const t = Math.abs(m) / se;
  const significant = t > crit;
  let p = studentTTwoSided(t, n - 1);
  // Bisection leaves crit within 1e-15 of its value; at the boundary let the interval decide.
  if (significant && p >= alpha) p = alpha * (1 - 1e-12);
  if (!significant && p < alpha) p = alpha;
  return { n, mean: m, sd, p, ci: { low: m - crit * se, high: m + crit * se }, meanSquare };
}

/** P(|Z| >= z) for a standard normal Z: erfc(z / √2), by its series below 3 and Laplace's continued fraction above. */
export function normalTwoSided(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  if (x < 3) {
    // erf(x) = 2/√π · Σ (-1)^n x^(2n+1) / (n! (2n+1))
    let term = x;
    let sum = x;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = e^(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated bottom-up.
  let f = x;
  for (let k = 60; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/** Two-sided standard normal critical value: the z with P(|Z| >= z) = alpha (bisection). */
export function normalCritical(alpha: number): number {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`Expected \`alpha\` in (0, 1), got ${alpha}`);
  let lo = 0;
  let hi = 40;
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (normalTwoSided(mid) > alpha) lo = mid;
    else hi = mid;
  }
  return hi;
}
