/**
 * Exact power of the gap tests, for "the smallest gap this test finds" and "cases a 5-point gap
 * needs". Pass/fail: McNemar's score test, power summed exactly over the binomial distributions
 * of the discordant cases. Graded: the paired t test, power from the non-central t distribution
 * (integrated numerically). Normal approximations overstated power badly at small n.
 */
import { logFactorial, logGamma, normalCritical, regularizedBeta, studentTCritical } from './stats.js';

/** The power every "detectable" figure is stated at. */
const POWER = 0.8;
/** The standard normal quantile at POWER. */
const Z_POWER = 0.8416212335729143;

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
 * lands where |2b - m| > z sqrt(m). Terms beyond 9 standard deviations of m are left out (< 1e-18).
 */
export function mcnemarPower(n: number, psi: number, gap: number, alpha = 0.05): number {
  if (!(n > 0 && psi > 0 && psi <= 1 && Math.abs(gap) <= psi + 1e-12)) return NaN;
  const z = normalCritical(alpha);
  const pi = Math.min(1, Math.max(0, (1 + gap / psi) / 2));
  const sd = Math.sqrt(n * psi * (1 - psi));
  const from = Math.max(1, Math.floor(n * psi - 9 * sd - 1));
  const to = Math.min(n, Math.ceil(n * psi + 9 * sd + 1));
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
 * Standard normal CDF from the Chebyshev fit of erfc (Press et al., Numerical Recipes, erfcc):
 * relative error under 1.2e-7 everywhere, plenty for a power figure, and cheap inside an integral.
 */
function fastNormalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const erfc = t * Math.exp(-z * z + poly);
  return x < 0 ? erfc / 2 : 1 - erfc / 2;
}

/** t critical values by alpha and df: power searches ask for the same ones again and again. */
const CRITICAL = new Map<string, number>();

/**
 * Two-sided power of the one-sample (paired) t test: P(|T'| > t(1 - alpha/2, df)) with
 * T' ~ non-central t(df, ncp), as E[Phi(ncp - c S) + Phi(-ncp - c S)] over S = sqrt(chi2(df) / df),
 * by Simpson's rule on S's density.
 */
export function tTestPower(df: number, ncp: number, alpha = 0.05): number {
  if (!(df > 0)) return NaN;
  const key = `${alpha}:${df}`;
  let c = CRITICAL.get(key);
  if (c === undefined) CRITICAL.set(key, (c = studentTCritical(alpha, df)));
  // P(T' < -c) = E[Phi(-ncp - c S)]: the upper tail's integrand with -ncp.
  return nonCentralTUpper(c, df, ncp) + nonCentralTUpper(c, df, -ncp);
}

/** P(T' > t) for T' ~ non-central t(df, ncp) = (Z + ncp) / S: E[Phi(ncp - t S)]. */
export function nonCentralTUpper(t: number, df: number, ncp: number): number {
  const spread = 12 / Math.sqrt(2 * df);
  const lo = df < 8 ? 0 : Math.max(0, 1 - spread);
  const hi = 1 + spread + (df < 8 ? 12 : 0);
  // The integrand is smooth: Simpson's error is far below 1e-9 at these step counts.
  const steps = df < 30 ? 1000 : 400;
  const h = (hi - lo) / steps;
  const logConst = Math.log(2) + (df / 2) * Math.log(df / 2) - logGamma(df / 2);
  let sum = 0;
  for (let i = 0; i <= steps; i++) {
    const s = lo + i * h;
    const dens =
      s > 0 ? Math.exp(logConst + (df - 1) * Math.log(s) - (df * s * s) / 2) : df === 1 ? Math.exp(logConst) : 0;
    const w = i === 0 || i === steps ? 1 : i % 2 ? 4 : 2;
    sum += w * dens * fastNormalCdf(ncp - t * s);
  }
  return Math.min(1, Math.max(0, (sum * h) / 3));
}

/** The smallest x in (0, top] with f(x) >= target for an increasing f; undefined when f(top) falls short. */
function smallestReaching(f: (x: number) => number, top: number, target: number): number | undefined {
  if (!(f(top) >= target)) return undefined;
  let lo = 0;
  let hi = top;
  for (let i = 0; i < 50 && hi - lo > 1e-5; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) >= target) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Above this many cases the exact search gives way to the large-sample formula (they agree there). */
const EXACT_SEARCH_MAX = 400;

/**
 * The smallest n with f(n) true for an increasing f, searched from half the large-sample estimate
 * `guess` up; beyond EXACT_SEARCH_MAX cases the estimate itself is returned.
 */
function smallestN(f: (n: number) => boolean, guess: number): number | undefined {
  if (!Number.isFinite(guess)) return undefined;
  if (guess > EXACT_SEARCH_MAX) return Math.ceil(guess);
  let lo = Math.max(2, Math.floor(guess / 2)) - 1;
  let hi = lo + 1;
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
  const z = normalCritical(alpha);
  // Large n: Connor's formula solved for the gap (the exact sums agree there and cost O(sqrt n) betas each).
  const md =
    n > EXACT_SEARCH_MAX
      ? smallestReaching((g) => (n >= connorCases(psi, g, z) ? 1 : 0), psi, 1)
      : smallestReaching((g) => mcnemarPower(n, psi, g, alpha), psi, POWER);
  const cases =
    psi < 0.05 ? undefined : smallestN((k) => mcnemarPower(k, psi, 0.05, alpha) >= POWER, connorCases(psi, 0.05, z));
  const reason =
    md === undefined
      ? `too few cases to detect any gap (${n} cases, ${discordant} disagree)`
      : cases === undefined
        ? `a 5 pp gap is more than the ${(psi * 100).toFixed(1)}% of cases that disagree`
        : undefined;
  return { minDetectable: md ?? NaN, casesFor5pp: cases ?? NaN, ...(reason ? { reason } : {}) };
}

/** Connor (1987): cases for 80% power, (z(1-a/2) sqrt(psi) + z(power) sqrt(psi - gap^2))^2 / gap^2. */
function connorCases(psi: number, gap: number, z: number): number {
  return ((z * Math.sqrt(psi) + Z_POWER * Math.sqrt(Math.max(0, psi - gap * gap))) / gap) ** 2;
}

/** Power figures of the paired t test with the observed standard deviation of the differences. */
export function gradedPower(n: number, sd: number, alpha = 0.05): PowerFigures {
  if (!(n >= 2))
    return { minDetectable: NaN, casesFor5pp: NaN, reason: 'too few cases to detect any gap (fewer than 2)' };
  if (!(sd > 0))
    return { minDetectable: NaN, casesFor5pp: NaN, reason: 'the differences have no spread: power unknown' };
  const md = smallestReaching((g) => tTestPower(n - 1, (g * Math.sqrt(n)) / sd, alpha), 1, POWER);
  // Guenther (1981): n = ((z(1-a/2) + z(power)) sd / gap)^2 + z(1-a/2)^2 / 2.
  const z = normalCritical(alpha);
  const guenther = (((z + Z_POWER) * sd) / 0.05) ** 2 + (z * z) / 2;
  const cases = smallestN((k) => tTestPower(k - 1, (0.05 * Math.sqrt(k)) / sd, alpha) >= POWER, guenther);
  const reason = md === undefined ? `too few cases to detect any gap (${n} cases)` : undefined;
  return { minDetectable: md ?? NaN, casesFor5pp: cases ?? NaN, ...(reason ? { reason } : {}) };
}
