/**
 * Exact power of the gap tests, for "the smallest gap this test finds" and "cases a 5-point gap
 * needs". Pass/fail: McNemar's score test, power summed exactly over the binomial distributions
 * of the discordant cases. Graded: the paired t test, power from the non-central t distribution
 * (integrated numerically). Normal approximations overstated power badly at small n.
 */
import { logFactorial, logGamma, normalCritical, normalTwoSided, regularizedBeta, studentTCritical } from './stats.js';

/** The power every "detectable" figure is stated at. */
export const POWER = 0.8;

/** Standard normal CDF. */
export function normalCdf(x: number): number {
  const tail = normalTwoSided(x) / 2;
  return x < 0 ? tail : 1 - tail;
}

/** P(X >= k) for X ~ Binomial(m, p). */
function binomialUpper(k: number, m: number, p: number): number {
  if (k <= 0) return 1;
  if (k > m) return 0;
  return regularizedBeta(p, k, m - k + 1);
}

/**
 * Power of the two-sided McNemar score test at `alpha` on n paired cases when a share `psi` of
 * cases disagree and the true gap is `gap` (0 <= |gap| <= psi): the sum over m discordant cases
 * (m ~ Binomial(n, psi)) of the chance that b, the cases won by A (b ~ Binomial(m, (1 + gap/psi) / 2)),
 * lands where |2b - m| > z sqrt(m). Terms beyond 12 standard deviations of m are left out (< 1e-30).
 */
export function mcnemarPower(n: number, psi: number, gap: number, alpha = 0.05): number {
  if (!(n > 0 && psi > 0 && psi <= 1 && Math.abs(gap) <= psi + 1e-12)) return NaN;
  const z = normalCritical(alpha);
  const pi = Math.min(1, Math.max(0, (1 + gap / psi) / 2));
  const sd = Math.sqrt(n * psi * (1 - psi));
  const from = Math.max(1, Math.floor(n * psi - 12 * sd - 1));
  const to = Math.min(n, Math.ceil(n * psi + 12 * sd + 1));
  let power = 0;
  for (let m = from; m <= to; m++) {
    const logPm =
      psi >= 1
        ? m === n
          ? 0
          : -Infinity
        : logFactorial(n) - logFactorial(m) - logFactorial(n - m) + m * Math.log(psi) + (n - m) * Math.log(1 - psi);
    if (logPm < -80) continue;
    const r = z * Math.sqrt(m);
    const kUpper = Math.floor((m + r) / 2) + 1; // smallest b with 2b - m > r
    const kLower = Math.ceil((m - r) / 2) - 1; // largest b with m - 2b > r
    const reject = binomialUpper(kUpper, m, pi) + (kLower >= 0 ? 1 - binomialUpper(kLower + 1, m, pi) : 0);
    power += Math.exp(logPm) * reject;
  }
  return Math.min(1, power);
}

/**
 * Two-sided power of the one-sample (paired) t test: P(|T'| > t(1 - alpha/2, df)) with
 * T' ~ non-central t(df, ncp), as E[Phi(ncp - c S) + Phi(-ncp - c S)] over S = sqrt(chi2(df) / df),
 * by Simpson's rule on S's density.
 */
export function tTestPower(df: number, ncp: number, alpha = 0.05): number {
  if (!(df > 0)) return NaN;
  const c = studentTCritical(alpha, df);
  // P(T' < -c) = E[Phi(-ncp - c S)]: the upper tail's integrand with -ncp.
  return nonCentralTUpper(c, df, ncp) + nonCentralTUpper(c, df, -ncp);
}

/** P(T' > t) for T' ~ non-central t(df, ncp) = (Z + ncp) / S: E[Phi(ncp - t S)]. */
export function nonCentralTUpper(t: number, df: number, ncp: number): number {
  const spread = 12 / Math.sqrt(2 * df);
  const lo = df < 8 ? 0 : Math.max(0, 1 - spread);
  const hi = 1 + spread + (df < 8 ? 12 : 0);
  const steps = 4000;
  const h = (hi - lo) / steps;
  const logConst = Math.log(2) + (df / 2) * Math.log(df / 2) - logGamma(df / 2);
  let sum = 0;
  for (let i = 0; i <= steps; i++) {
    const s = lo + i * h;
    const dens =
      s > 0 ? Math.exp(logConst + (df - 1) * Math.log(s) - (df * s * s) / 2) : df === 1 ? Math.exp(logConst) : 0;
    const w = i === 0 || i === steps ? 1 : i % 2 ? 4 : 2;
    sum += w * dens * normalCdf(ncp - t * s);
  }
  return Math.min(1, Math.max(0, (sum * h) / 3));
}

/** The smallest x in (0, top] with f(x) >= target for an increasing f; undefined when f(top) falls short. */
function smallestReaching(f: (x: number) => number, top: number, target: number): number | undefined {
  if (!(f(top) >= target)) return undefined;
  let lo = 0;
  let hi = top;
  for (let i = 0; i < 50 && hi - lo > 1e-7; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) >= target) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The smallest n in [from, 10^7] with f(n) >= target for an increasing f; undefined past that. */
function smallestN(f: (n: number) => boolean, from: number): number | undefined {
  let lo = from - 1;
  let hi = from;
  while (!f(hi)) {
    lo = hi;
    hi *= 2;
    if (hi > 1e7) return undefined;
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (f(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** What the power figures of a gap row say; `reason` says why a figure is left empty. */
export interface PowerFigures {
  /** Smallest gap (fraction) found with 80% power at this n; NaN when none is. */
  minDetectable: number;
  /** Paired cases a 5-point gap needs for 80% power; NaN when no number of cases does. */
  casesFor5pp: number;
  reason?: string;
}

/**
 * Power figures of the McNemar score test at the observed disagreement rate psi = (b + c) / n. The
 * gap can never exceed psi, so when even a gap of psi is found less than 80% of the time there is
 * no detectable gap at this n ("too few cases").
 */
export function binaryPower(n: number, discordant: number, alpha = 0.05): PowerFigures {
  if (!(discordant > 0)) return { minDetectable: NaN, casesFor5pp: NaN, reason: 'no case disagrees: power unknown' };
  const psi = discordant / n;
  const md = smallestReaching((g) => mcnemarPower(n, psi, g, alpha), psi, POWER);
  const cases =
    psi < 0.05
      ? undefined
      : smallestN((k) => mcnemarPower(k, psi, 0.05, alpha) >= POWER, Math.max(2, Math.floor(n / 4)));
  const reason =
    md === undefined
      ? `too few cases to detect any gap (${n} cases, ${discordant} disagree)`
      : cases === undefined
        ? `a 5 pp gap is more than the ${(psi * 100).toFixed(1)}% of cases that disagree`
        : undefined;
  return { minDetectable: md ?? NaN, casesFor5pp: cases ?? NaN, ...(reason ? { reason } : {}) };
}

/** Power figures of the paired t test with the observed standard deviation of the differences. */
export function gradedPower(n: number, sd: number, alpha = 0.05): PowerFigures {
  if (!(n >= 2))
    return { minDetectable: NaN, casesFor5pp: NaN, reason: 'too few cases to detect any gap (fewer than 2)' };
  if (!(sd > 0))
    return { minDetectable: NaN, casesFor5pp: NaN, reason: 'the differences have no spread: power unknown' };
  const md = smallestReaching((g) => tTestPower(n - 1, (g * Math.sqrt(n)) / sd, alpha), 1, POWER);
  const cases = smallestN(
    (k) => tTestPower(k - 1, (0.05 * Math.sqrt(k)) / sd, alpha) >= POWER,
    Math.max(2, Math.floor(n / 4)),
  );
  const reason = md === undefined ? `too few cases to detect any gap (${n} cases)` : undefined;
  return { minDetectable: md ?? NaN, casesFor5pp: cases ?? NaN, ...(reason ? { reason } : {}) };
}
