/**
 * Statistics for comparing models on the same cases. Pure functions, no dependencies.
 * Every resampling method takes a seed so that a report can be regenerated bit for bit.
 */

import { mulberry32, uniform } from '../util/rng.js';

/** A two-sided interval. NaN bounds mean "no data" (they become empty CSV cells). */
export interface Interval {
  low: number;
  high: number;
}

/** Options shared by the bootstrap intervals; each default is given next to its field. */
interface BootstrapOptions {
  /** Number of bootstrap resamples. Default 2000. */
  resamples?: number;
  /** PRNG seed. Default 1. */
  seed?: number;
  /** Confidence level, in (0, 1). Default 0.95. */
  level?: number;
}

/** Options of the permutation test. */
interface PermutationOptions {
  /** Monte Carlo resamples, used only when there are more than 16 non-zero differences. Default 10000. */
  resamples?: number;
  /** PRNG seed. Default 1. */
  seed?: number;
}

/** Counts of a 2x2 pass/fail table of two systems on the same cases. */
interface PassedTable {
  both: number;
  onlyA: number;
  onlyB: number;
  neither: number;
}

/** z for a two-sided 95% interval: the 0.975 quantile of the standard normal. */
const Z95 = 1.959963984540054;

/** Largest number of non-zero differences for which the permutation test enumerates all 2^n sign patterns. */
const EXACT_PERMUTATION_MAX = 16;

/** Seeded PRNG (mulberry32) returning uniform floats in [0, 1). */
export function createRng(seed: number): () => number {
  requireFinite(seed, 'seed');
  return uniform(seed);
}

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
export function quantile(xs: readonly number[], q: number): number {
  return quantileSorted(sortedCopy(xs), q);
}

/** Percentile p in [0, 100] (type 7), e.g. percentile(latencies, 95) for p95. */
export function percentile(xs: readonly number[], p: number): number {
  return quantile(xs, p / 100);
}

/** Several percentiles (type 7) with a single sort, e.g. percentiles(latencies, [50, 95]). */
export function percentiles(xs: readonly number[], ps: readonly number[]): number[] {
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

/** Percentile bootstrap confidence interval of the mean (for continuous scores). NaN bounds when empty. */
export function bootstrapMeanCI(values: readonly number[], opts: BootstrapOptions = {}): Interval {
  return bootstrapMeans(toFiniteArray(values, 'values'), opts);
}

/**
 * Paired percentile bootstrap of mean(a) - mean(b): resamples case indices so each case keeps its pair.
 * a[i] and b[i] must be the same case.
 */
export function pairedBootstrapDiffCI(
  a: readonly number[],
  b: readonly number[],
  opts: BootstrapOptions = {},
): Interval {
  return bootstrapMeans(pairedDiffs(a, b), opts);
}

/**
 * Exact two-sided McNemar test (binomial test on the discordant pairs):
 * p = min(1, 2 * P(X <= min(b, c))) with X ~ Binomial(b + c, 1/2); 1 when b + c = 0.
 * b and c are the counts of cases only A passed and only B passed.
 */
export function mcnemarExact(b: number, c: number): number {
  requireCount(b, 'b');
  requireCount(c, 'c');
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  // log C(n, k) built term by term: no factorials, so nothing overflows even for n in the millions.
  let logChooseK = 0;
  for (let j = 0; j < k; j++) logChooseK += Math.log((n - j) / (j + 1));
  // Sum C(n, i) / C(n, k) for i = k down to 0; terms only shrink (k <= n/2), so stop once they vanish.
  let ratioSum = 1;
  let term = 1;
  for (let i = k; i > 0; i--) {
    term *= i / (n - i + 1);
    ratioSum += term;
    if (term < ratioSum * 1e-17) break;
  }
  const logTail = logChooseK + Math.log(ratioSum) - n * Math.LN2;
  return Math.min(1, 2 * Math.exp(logTail));
}

/**
 * Two-sided paired sign-flip permutation test on d = a - b, statistic |sum(d)|.
 * Zero differences are dropped (flipping them changes nothing); with at most 16 left, all 2^n sign
 * patterns are enumerated (exact p), otherwise Monte Carlo with p = (count + 1) / (resamples + 1).
 * Returns 1 when every difference is zero or there are no pairs.
 */
export function pairedPermutationTest(
  a: readonly number[],
  b: readonly number[],
  opts: PermutationOptions = {},
): number {
  const resamples = opts.resamples ?? 10000;
  requirePositiveInt(resamples, 'resamples');
  const seed = opts.seed ?? 1;
  requireFinite(seed, 'seed');
  const all = pairedDiffs(a, b);
  const d = all.filter((x) => x !== 0);
  const m = d.length;
  if (m === 0) return 1;
  let observed = 0;
  let scale = 0;
  for (let i = 0; i < m; i++) {
    observed += d[i];
    scale += Math.abs(d[i]);
  }
  // Sign patterns that tie the observed statistic in exact arithmetic may differ from it by rounding;
  // they must count as "at least as extreme", or the p-value comes out too small.
  // Summing m terms can be off by about m * eps * scale, so the slack grows with m.
  const threshold = Math.abs(observed) - scale * Math.max(1e-12, 4 * m * Number.EPSILON);
  if (m <= EXACT_PERMUTATION_MAX) {
    const patterns = 2 ** m;
    let count = 0;
    for (let mask = 0; mask < patterns; mask++) {
      let sum = 0;
      for (let i = 0; i < m; i++) sum += (mask >>> i) & 1 ? -d[i] : d[i];
      if (Math.abs(sum) >= threshold) count++;
    }
    return count / patterns;
  }
  const groups = tally(d, groupLimit(m));
  if (groups) {
    // Few distinct differences (pass/fail or partial-credit scores): the flips among the c cases
    // sharing a difference v change the sum by v * (c - 2 * flips), flips ~ Binomial(c, 1/2). One
    // draw per distinct value instead of one sign per case: the same distribution, m/K times less work.
    const next = uniform(seed);
    const { values: vs, counts: cs } = groups;
    let count = 0;
    for (let r = 0; r < resamples; r++) {
      let sum = 0;
      for (let k = 0; k < vs.length; k++) sum += vs[k] * (cs[k] - 2 * binomialFromUniform(cs[k], 0.5, next()));
      if (Math.abs(sum) >= threshold) count++;
    }
    return (count + 1) / (resamples + 1);
  }
  const next = mulberry32(seed);
  let count = 0;
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    let bits = 0;
    for (let i = 0; i < m; i++) {
      if ((i & 31) === 0) bits = next();
      sum += (bits >>> (i & 31)) & 1 ? -d[i] : d[i];
    }
    if (Math.abs(sum) >= threshold) count++;
  }
  return (count + 1) / (resamples + 1);
}

/** 2x2 pass/fail table of two systems on the same cases (input for mcnemarExact(onlyA, onlyB)). */
export function passedTable(a: readonly boolean[], b: readonly boolean[]): PassedTable {
  requireSameLength(a, b);
  const table: PassedTable = { both: 0, onlyA: 0, onlyB: 0, neither: 0 };
  for (let i = 0; i < a.length; i++) {
    if (a[i] && b[i]) table.both++;
    else if (a[i]) table.onlyA++;
    else if (b[i]) table.onlyB++;
    else table.neither++;
  }
  return table;
}

function bootstrapMeans(values: Float64Array, opts: BootstrapOptions): Interval {
  const resamples = opts.resamples ?? 2000;
  const seed = opts.seed ?? 1;
  const level = opts.level ?? 0.95;
  requirePositiveInt(resamples, 'resamples');
  requireFinite(seed, 'seed');
  if (!(level > 0 && level < 1))
    throw new RangeError(`Expected \`level\` to be a number between 0 and 1, got ${level}`);
  const n = values.length;
  if (n === 0) return { low: NaN, high: NaN };
  const groups = tally(values, groupLimit(n));
  if (groups) return quantilesOf(groupedBootstrapMeans(groups, n, resamples, seed), level);
  // mulberry32 inlined (the same stream as createRng(seed)): this loop draws resamples x n indices,
  // 10 million for 5,000 cases, and a closure call per draw would double its time.
  let state = seed >>> 0;
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      sum += values[Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n)];
    }
    means[r] = sum / n;
  }
  return quantilesOf(means, level);
}

function quantilesOf(means: Float64Array, level: number): Interval {
  means.sort();
  const alpha = 1 - level;
  return { low: quantileSorted(means, alpha / 2), high: quantileSorted(means, 1 - alpha / 2) };
}

/** Above this many distinct values, resampling draws case by case. */
const MAX_GROUPS = 64;

/**
 * How many distinct values the grouped resampling may take for n cases: a binomial draw costs
 * about as much as 16 case-by-case draws, so grouping pays only when n is well above that.
 */
function groupLimit(n: number): number {
  return Math.min(MAX_GROUPS, Math.floor(n / 16));
}

/**
 * Bootstrap means of data with few distinct values: a resample of n cases is a draw of how many
 * times each value comes up, Multinomial(n; counts / n), drawn as one binomial per value given
 * those before it. The same distribution as drawing n indices, in K binomial draws instead of n.
 */
function groupedBootstrapMeans(
  groups: { values: Float64Array; counts: Float64Array },
  n: number,
  resamples: number,
  seed: number,
): Float64Array {
  const next = uniform(seed);
  const { values: vs, counts: cs } = groups;
  const last = vs.length - 1;
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let rest = n; // cases of this resample not yet given a value
    let mass = n; // cases of the data with this value or a later one
    let sum = 0;
    for (let k = 0; k < last && rest > 0; k++) {
      const x = binomialFromUniform(rest, cs[k] / mass, next());
      sum += x * vs[k];
      rest -= x;
      mass -= cs[k];
    }
    sum += rest * vs[last];
    means[r] = sum / n;
  }
  return means;
}

/** The distinct values of `xs` (ascending) and how often each occurs; undefined past `max` of them. */
function tally(xs: ArrayLike<number>, max: number): { values: Float64Array; counts: Float64Array } | undefined {
  const sorted = Float64Array.from(xs).sort();
  const values: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    if (i > 0 && sorted[i] === sorted[i - 1]) counts[counts.length - 1]++;
    else {
      if (values.length === max) return undefined;
      values.push(sorted[i]);
      counts.push(1);
    }
  }
  return { values: Float64Array.from(values), counts: Float64Array.from(counts) };
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

function toFiniteArray(xs: readonly number[], name: string): Float64Array {
  const out = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) {
    requireFinite(xs[i], `${name}[${i}]`);
    out[i] = xs[i];
  }
  return out;
}

function sortedCopy(xs: readonly number[]): Float64Array {
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

function requirePositiveInt(x: number, name: string): void {
  if (!Number.isInteger(x) || x < 1) {
    throw new RangeError(`Expected \`${name}\` to be an integer from 1 and up, got ${String(x)}`);
  }
}

/** z for one-sided 80% power: the 0.8 quantile of the standard normal. */
const Z80 = 0.8416212335729143;

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

/**
 * The smallest true gap (as a fraction) a two-sided test at `alpha` detects with 80% power on n
 * paired cases whose differences have mean square `meanSquare` (normal approximation:
 * (z(1 - alpha/2) + z(0.8)) · √(meanSquare / n)). NaN when nothing disagrees or n = 0.
 */
export function minDetectable(n: number, meanSquare: number, alpha = 0.05): number {
  if (!(n > 0 && meanSquare > 0)) return NaN;
  return (normalCritical(alpha) + Z80) * Math.sqrt(meanSquare / n);
}

/** Paired cases needed to detect a gap of `gap` (fraction) with 80% power; NaN when nothing disagrees. */
export function casesForGap(gap: number, meanSquare: number, alpha = 0.05): number {
  if (!(meanSquare > 0 && gap > 0)) return NaN;
  return Math.ceil(((normalCritical(alpha) + Z80) ** 2 * meanSquare) / (gap * gap));
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

/**
 * Clopper-Pearson ("exact") interval of a binomial proportion k/n: the proportions that neither
 * one-sided exact binomial test at (1 - level) / 2 rejects, by bisection on the regularized beta
 * function (P(X >= k | p) = I_p(k, n - k + 1)). {NaN, NaN} when n = 0.
 */
export function clopperPearson(k: number, n: number, level = 0.95): Interval {
  requireCount(k, 'k');
  requireCount(n, 'n');
  if (k > n) throw new RangeError(`Expected \`k\` (${k}) to be at most \`n\` (${n})`);
  if (n === 0) return { low: NaN, high: NaN };
  const half = (1 - level) / 2;
  const low = k === 0 ? 0 : bisect((p) => regularizedBeta(p, k, n - k + 1) < half);
  const high = k === n ? 1 : bisect((p) => 1 - regularizedBeta(p, k + 1, n - k) > half);
  return { low, high };
}

/** The point in [0, 1] where a monotone predicate turns from true to false. */
function bisect(below: (x: number) => boolean): number {
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (below(mid)) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
