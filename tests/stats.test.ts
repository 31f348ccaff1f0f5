import { describe, expect, it } from 'vitest';
import {
  binomialFromUniform,
  normalCritical,
  normalTwoSided,
  pairedT,
  regularizedBeta,
  studentTCritical,
  studentTTwoSided,
  logFactorial,
  mean,
  percentile,
  percentiles,
  quantile,
  wilson,
} from '../src/report/stats.js';
import { pairedComparison, verdictOf } from '../src/report/paired.js';
import { uniform } from '../src/util/rng.js';

describe('mean, quantile, percentile', () => {
  it('interpolates linearly between order statistics like numpy (type 7)', () => {
    // Hand-computed: h = (n - 1) * q, value = x[floor h] + frac(h) * (x[floor h + 1] - x[floor h]).
    expect(quantile([4, 1, 3, 2], 0.25)).toBe(1.75); // h = 0.75
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95)).toBeCloseTo(9.55, 12); // h = 8.55
    expect(quantile([7], 0.3)).toBe(7);
    expect(quantile([], 0.5)).toBeNaN();
    expect(() => quantile([1], 1.5)).toThrow(RangeError);
  });

  it('does not mutate its input and sorts numerically, not as strings', () => {
    const xs = [10, 9, 100, 1];
    expect(quantile(xs, 0)).toBe(1);
    expect(quantile(xs, 1)).toBe(100);
    expect(xs).toEqual([10, 9, 100, 1]);
  });

  it('gives latency p50 / p95 from percent values', () => {
    const latencies = [120, 80, 100, 300, 90];
    expect(percentile(latencies, 50)).toBe(100);
    expect(percentiles(latencies, [50, 95])).toEqual([100, 120 + 0.8 * 180]); // h = 3.8 -> 120 + 0.8 * (300 - 120)
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    expect(mean([])).toBeNaN();
  });
});

describe('wilson', () => {
  it('matches the published Wilson interval for 80/100', () => {
    // Reference: the roots of the score equation |0.8 - p| = z * sqrt(p (1 - p) / 100), found by
    // bisection in Python (independent of the closed form used here): 0.7111708344, 0.8666330667.
    // To 4 d.p. that is [0.7112, 0.8666]; 0.8667 quoted elsewhere is a rounding slip.
    const { low, high } = wilson(80, 100);
    expect(low).toBeCloseTo(0.7111708344, 9);
    expect(high).toBeCloseTo(0.8666330667, 9);
  });

  it('handles 0/n and n/n without leaving [0, 1]', () => {
    // 0/10: upper bound z^2/n / (1 + z^2/n) = 0.38415 / 1.38415 = 0.27753 (closed form at p = 0),
    // confirmed by the same bisection: 0.2775327999; 10/10 mirrors it: 0.7224672001.
    expect(wilson(0, 10)).toEqual({ low: 0, high: expect.closeTo(0.2775327999, 9) });
    expect(wilson(10, 10)).toEqual({ low: expect.closeTo(0.7224672001, 9), high: 1 });
  });

  it('returns NaN bounds for n = 0 and rejects impossible counts', () => {
    expect(wilson(0, 0)).toEqual({ low: NaN, high: NaN });
    expect(() => wilson(11, 10)).toThrow(RangeError);
    expect(() => wilson(1.5, 10)).toThrow(RangeError);
  });
});

describe('exact binomial draws (the simulations of npm run bench -- stats-coverage)', () => {
  it('logFactorial matches summed logarithms on both sides of its table', () => {
    let sum = 0;
    for (let k = 1; k <= 100_000; k++) {
      sum += Math.log(k);
      if ([1, 10, 255, 256, 257, 1000, 99_999, 100_000].includes(k))
        expect(Math.abs(logFactorial(k) - sum)).toBeLessThan(1e-12 * Math.max(1, sum));
    }
    expect(logFactorial(0)).toBe(0);
  });

  it('rejects impossible arguments', () => {
    for (const [n, p, u] of [
      [-3, 0.5, 0.5],
      [2.5, 0.5, 0.5],
      [5, NaN, 0.5],
      [5, 1.5, 0.5],
      [5, 0.5, 1],
      [5, 0.5, -0.1],
    ]) {
      expect(() => binomialFromUniform(n, p, u)).toThrow(RangeError);
    }
  });

  it('draws Binomial(12, 0.3) with the exact probabilities (chi-square)', () => {
    const n = 12;
    const p = 0.3;
    const draws = 200_000;
    const rng = uniform(3);
    const seen = new Array(n + 1).fill(0);
    for (let i = 0; i < draws; i++) seen[binomialFromUniform(n, p, rng())]++;
    let chi2 = 0;
    let c = 1; // C(n, k)
    for (let k = 0; k <= n; k++) {
      if (k > 0) c = (c * (n - k + 1)) / k;
      const expected = draws * c * p ** k * (1 - p) ** (n - k);
      if (expected >= 5) chi2 += (seen[k] - expected) ** 2 / expected;
    }
    // 11 usable cells: the 99.9% point of chi-square with 10 degrees of freedom is 29.6.
    expect(chi2).toBeLessThan(29.6);
  });

  it.each([
    [5_000, 0.5],
    [100_000, 0.7],
    [1_000, 0.002],
    [7, 0.999],
  ])('draws Binomial(%i, %f) with the right mean and variance', (n, p) => {
    const rng = uniform(n);
    const draws = 50_000;
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < draws; i++) {
      const x = binomialFromUniform(n, p, rng());
      expect(x >= 0 && x <= n && Number.isInteger(x)).toBe(true);
      s1 += x;
      s2 += x * x;
    }
    const m = s1 / draws;
    const v = s2 / draws - m * m;
    const sd = Math.sqrt(n * p * (1 - p));
    expect(Math.abs(m - n * p)).toBeLessThan((5 * sd) / Math.sqrt(draws));
    expect(Math.abs(v / (n * p * (1 - p)) - 1)).toBeLessThan(0.05);
  });
});

describe('McNemar score test', () => {
  it('3 of 3 discordant cases one way is not significant (McNemar score test: z = sqrt(3))', () => {
    const r = pairedComparison([1, 1, 1, 0, 1], [0, 0, 0, 0, 1])!;
    expect(r.test).toBe('mcnemar_score');
    // scipy 1.17: 2 * norm.sf(sqrt(3))
    expect(r.p).toBeCloseTo(0.08326451666355042, 12);
    expect(verdictOf(r)).toBe('no_significant_difference');
    expect(r.ci.low).toBeLessThanOrEqual(0);
  });
});

describe('paired t test and the interval that inverts it', () => {
  // Student's sleep data (Cushny and Peebles), the extra sleep of 10 patients under two drugs;
  // R: t.test(extra ~ group, data = sleep, paired = TRUE) on group 2 minus group 1 gives
  // t = 4.0621, df = 9, p-value = 0.002833, 95 percent CI 0.7001142 2.4598858, mean 1.58.
  const drug1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
  const drug2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];

  it("matches R's t.test on Student's sleep data", () => {
    const r = pairedT(drug2, drug1);
    expect(r.mean).toBeCloseTo(1.58, 12);
    expect(r.p).toBeCloseTo(0.002833, 6);
    expect(r.ci.low).toBeCloseTo(0.7001142, 6);
    expect(r.ci.high).toBeCloseTo(2.4598858, 6);
  });

  it('has t and normal quantiles and tails to full precision (values from scipy 1.17)', () => {
    expect(studentTCritical(0.05, 9)).toBeCloseTo(2.262157162798205, 9);
    expect(studentTCritical(0.01, 29)).toBeCloseTo(2.756385903670605, 9);
    expect(studentTTwoSided(2.5, 4)).toBeCloseTo(0.06676654481198814, 12);
    expect(normalCritical(0.01)).toBeCloseTo(2.5758293035489004, 12);
    expect(normalTwoSided(3)).toBeCloseTo(0.0026997960632601866, 14);
    expect(regularizedBeta(0.3, 2.5, 0.5)).toBeCloseTo(0.018927124071945658, 12);
  });

  it('handles no spread and too few cases without a NaN verdict', () => {
    // No spread: the exact sign-flip p, 2^(1 - n), and an interval that agrees with it.
    expect(pairedT([1, 1, 1], [0, 0, 0])).toMatchObject({ p: 0.25, ci: { low: 0, high: 1 } });
    expect(pairedT(Array(6).fill(0.5), Array(6).fill(0))).toMatchObject({ p: 1 / 32, ci: { low: 0.5, high: 0.5 } });
    expect(pairedT([1, 0, 1], [1, 0, 1])).toMatchObject({ p: 1, ci: { low: 0, high: 0 } });
    const one = pairedT([1], [0]);
    expect(one.p).toBe(1);
    expect(Number.isNaN(one.ci.low)).toBe(true);
  });
});
