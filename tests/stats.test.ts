import { describe, expect, it } from 'vitest';
import {
  binomialFromUniform,
  bootstrapMeanCI,
  casesForGap,
  clopperPearson,
  minDetectable,
  normalCritical,
  normalTwoSided,
  pairedT,
  regularizedBeta,
  studentTCritical,
  studentTTwoSided,
  createRng,
  logFactorial,
  mcnemarExact,
  mean,
  pairedBootstrapDiffCI,
  pairedPermutationTest,
  passedTable,
  percentile,
  percentiles,
  quantile,
  wilson,
} from '../src/report/stats.js';
import { pairedComparison, verdictOf } from '../src/report/paired.js';

describe('createRng', () => {
  it('is deterministic per seed and uniform in [0, 1)', () => {
    const a = createRng(42);
    const b = createRng(42);
    const xs = Array.from({ length: 10000 }, () => a());
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b()));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(mean(xs)).toBeCloseTo(0.5, 1);
    expect(createRng(43)()).not.toBe(createRng(42)());
  });
});

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

describe('mcnemarExact', () => {
  it('matches hand-computed binomial tails', () => {
    // b=10, c=2: n=12, P(X <= 2) = (1 + 12 + 66) / 2^12, two-sided = 158/4096.
    expect(mcnemarExact(10, 2)).toBeCloseTo(158 / 4096, 14);
    expect(mcnemarExact(2, 10)).toBeCloseTo(158 / 4096, 14);
    // b=0, c=5: 2 * (1/2)^5.
    expect(mcnemarExact(0, 5)).toBeCloseTo(0.0625, 14);
    expect(mcnemarExact(7, 7)).toBe(1);
    expect(mcnemarExact(0, 0)).toBe(1);
  });

  it('stays finite and accurate for large n', () => {
    // Exact value from Python integers: 2 * sum(math.comb(10000, i) for i <= 4800) / 2**10000.
    const p = mcnemarExact(5200, 4800);
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1);
    expect(p / 6.593515598672442e-5).toBeCloseTo(1, 8);
    // Normal approximation with continuity correction, erfc(3.99 / sqrt 2) = 6.607e-5: within 1%.
    expect(Math.abs(p / 6.60732952588049e-5 - 1)).toBeLessThan(0.01);
    expect(mcnemarExact(50000, 50000)).toBe(1);
    const tiny = mcnemarExact(60000, 40000);
    expect(Number.isFinite(tiny)).toBe(true);
    expect(tiny).toBeGreaterThanOrEqual(0);
  });
});

describe('passedTable', () => {
  it('counts the 2x2 table that McNemar needs', () => {
    const a = [true, true, false, false, true];
    const b = [true, false, true, false, false];
    expect(passedTable(a, b)).toEqual({ both: 1, onlyA: 2, onlyB: 1, neither: 1 });
    expect(() => passedTable([true], [])).toThrow(RangeError);
  });
});

describe('pairedPermutationTest', () => {
  it('is exact on small samples', () => {
    // d = [1, 2, 3]: of the 8 sign patterns only +6 and -6 reach |sum| >= 6, so p = 2/8.
    expect(pairedPermutationTest([1, 2, 3], [0, 0, 0])).toBe(0.25);
    // d = [5, 1, 2, -3]: |±5 ± 1 ± 2 ± 3| >= 5 in 10 of 16 patterns (5 with +5, 5 with -5).
    expect(pairedPermutationTest([5, 1, 2, -3], [0, 0, 0, 0])).toBe(10 / 16);
    // Same sample in tenths: rounding makes some exact ties look smaller; they must still count.
    expect(pairedPermutationTest([0.5, 0.1, 0.2, -0.3], [0, 0, 0, 0])).toBe(10 / 16);
  });

  it('ignores zero differences and returns 1 when nothing differs', () => {
    expect(pairedPermutationTest([1, 2, 3, 9], [0, 0, 0, 9])).toBe(0.25);
    expect(pairedPermutationTest([1, 2, 3], [1, 2, 3])).toBe(1);
    expect(pairedPermutationTest([], [])).toBe(1);
  });

  it('uses seeded Monte Carlo with the +1 correction on large samples', () => {
    const rng = createRng(7);
    const b = Array.from({ length: 200 }, () => rng());
    const better = b.map((x) => x + 0.2);
    const same = b.map((x) => x + (rng() - 0.5) * 0.01);
    const p = pairedPermutationTest(better, b, { resamples: 999 });
    expect(p).toBe(1 / 1000); // never reached, but the +1 correction keeps p above 0
    const q1 = pairedPermutationTest(same, b, { resamples: 999, seed: 3 });
    expect(q1).toBe(pairedPermutationTest(same, b, { resamples: 999, seed: 3 }));
    expect(q1).toBeGreaterThan(0.01);
  });
});

/** The textbook percentile bootstrap: n indices drawn with replacement per resample, sorted means, type-7 quantiles. */
function textbookBootstrap(xs: readonly number[], seed: number, B: number): { low: number; high: number } {
  const r = createRng(seed);
  const means = Array.from({ length: B }, () => {
    let sum = 0;
    for (let i = 0; i < xs.length; i++) sum += xs[Math.floor(r() * xs.length)];
    return sum / xs.length;
  }).sort((a, b) => a - b);
  return { low: quantile(means, 0.025), high: quantile(means, 0.975) };
}

describe('bootstrapMeanCI', () => {
  const rng = createRng(2024);
  const sample = Array.from({ length: 400 }, () => rng()); // uniform(0, 1): true mean 0.5

  it('is reproducible by seed', () => {
    expect(bootstrapMeanCI(sample, { seed: 5 })).toEqual(bootstrapMeanCI(sample, { seed: 5 }));
    const other = bootstrapMeanCI(sample, { seed: 6 });
    expect(other).not.toEqual(bootstrapMeanCI(sample, { seed: 5 }));
    expect(other.low).toBeCloseTo(bootstrapMeanCI(sample, { seed: 5 }).low, 2);
  });

  it('is the textbook percentile bootstrap driven by createRng(seed)', () => {
    for (const seed of [1, 7, 123456])
      expect(bootstrapMeanCI(sample, { seed, resamples: 500 })).toEqual(textbookBootstrap(sample, seed, 500));
  });

  it('covers the true mean with about the normal-theory width', () => {
    const { low, high } = bootstrapMeanCI(sample);
    expect(low).toBeLessThan(0.5);
    expect(high).toBeGreaterThan(0.5);
    // sd of uniform(0,1) = 1/sqrt(12); 95% half-width ~ 1.96 * 0.2887 / 20 = 0.0283.
    expect((high - low) / 2).toBeGreaterThan(0.024);
    expect((high - low) / 2).toBeLessThan(0.033);
    const wider = bootstrapMeanCI(sample, { level: 0.99 });
    expect(wider.high - wider.low).toBeGreaterThan(high - low);
  });

  it('returns NaN bounds for no data and rejects non-finite values', () => {
    expect(bootstrapMeanCI([])).toEqual({ low: NaN, high: NaN });
    expect(() => bootstrapMeanCI([1, NaN])).toThrow(RangeError);
    expect(() => bootstrapMeanCI([1], { level: 95 })).toThrow(RangeError);
    // Finite scores whose difference is not: rejected, not turned into a NaN bound or p = 0.
    expect(() => pairedBootstrapDiffCI([1e308], [-1e308])).toThrow(/a\[0\] - b\[0\]/);
    expect(() => pairedPermutationTest([1e308, 1], [-1e308, 0])).toThrow(RangeError);
  });
});

describe('pairedBootstrapDiffCI', () => {
  it('collapses to the constant when a = b + 0.1 for every case', () => {
    const rng = createRng(9);
    const b = Array.from({ length: 300 }, () => rng());
    const a = b.map((x) => x + 0.1);
    const { low, high } = pairedBootstrapDiffCI(a, b);
    // Exactly [0.1, 0.1] in real arithmetic; float subtraction leaves noise far below 1e-12.
    expect(low).toBeCloseTo(0.1, 12);
    expect(high).toBeCloseTo(0.1, 12);
  });

  it('keeps pairs together: a shared case effect does not widen the interval', () => {
    const rng = createRng(11);
    const difficulty = Array.from({ length: 500 }, () => rng() * 10);
    const a = difficulty.map((x) => x + 1 + (rng() - 0.5));
    const b = difficulty.map((x) => x + (rng() - 0.5));
    const { low, high } = pairedBootstrapDiffCI(a, b);
    expect(low).toBeLessThan(1);
    expect(high).toBeGreaterThan(1);
    expect(high - low).toBeLessThan(0.1); // unpaired, the spread of difficulty would make it ~0.5
  });

  it('on 10,000 pass/fail pairs, brackets the observed difference with about the normal-theory width', () => {
    // (Its speed is a benchmark matter: npm run bench -- stats.)
    const rng = createRng(1);
    const a = Array.from({ length: 10000 }, () => (rng() < 0.7 ? 1 : 0));
    const b = Array.from({ length: 10000 }, () => (rng() < 0.6 ? 1 : 0));
    const d = a.map((x, i) => x - b[i]);
    const mean = d.reduce((s, x) => s + x, 0) / d.length;
    const sd = Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / (d.length - 1));
    const ci = pairedBootstrapDiffCI(a, b, { resamples: 2000 });
    expect(ci.low).toBeLessThan(mean);
    expect(ci.high).toBeGreaterThan(mean);
    const half = (1.96 * sd) / Math.sqrt(d.length);
    expect((ci.high - ci.low) / 2).toBeGreaterThan(half * 0.9);
    expect((ci.high - ci.low) / 2).toBeLessThan(half * 1.1);
  });
});

describe('exact binomial draws (the resampling of data with few distinct values)', () => {
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
    const rng = createRng(3);
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
    const rng = createRng(n);
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

  it('bootstrap intervals of pass/fail data agree with the case-by-case bootstrap', () => {
    // Same distribution, another stream: the bounds agree within Monte Carlo error.
    const rng = createRng(5);
    const xs = Array.from({ length: 400 }, () => (rng() < 0.62 ? 1 : 0));
    const ref = textbookBootstrap(xs, 99, 40_000);
    const ci = bootstrapMeanCI(xs, { resamples: 40_000 });
    expect(Math.abs(ci.low - ref.low)).toBeLessThanOrEqual(0.005);
    expect(Math.abs(ci.high - ref.high)).toBeLessThanOrEqual(0.005);
    // Three levels of partial credit too.
    const ys = xs.map((x, i) => (i % 3 === 0 ? 0.5 : x));
    const p = pairedBootstrapDiffCI(ys, xs, { resamples: 20_000 });
    const d = ys.map((y, i) => y - xs[i]);
    const md = d.reduce((a, b) => a + b, 0) / d.length;
    const sd = Math.sqrt(d.reduce((a, b) => a + (b - md) ** 2, 0) / (d.length - 1));
    expect(Math.abs((p.low + p.high) / 2 - md)).toBeLessThan(0.003);
    expect(Math.abs((p.high - p.low) / 2 / ((1.96 * sd) / Math.sqrt(d.length)) - 1)).toBeLessThan(0.08);
  });

  it('permutation p-values of few-valued differences agree with sign-by-sign flipping', () => {
    const rng = createRng(8);
    // Per-case means of two models: 0, 0.5 or 1, with a small gap (p about 0.4: far from 0 and 1).
    // About 300 differences of 4 values: enough cases per value for the grouped draws to be used.
    const a = Array.from({ length: 2000 }, () => Math.round(rng() * 2) / 2);
    const b = a.map((x) => {
      const r = rng();
      const step = rng() < 0.3 ? 1 : 0.5;
      return r < 0.1 ? Math.max(0, x - step) : r < 0.19 ? Math.min(1, x + step) : x;
    });
    const d = a.map((x, i) => x - b[i]).filter((x) => x !== 0);
    expect(new Set(d).size).toBe(4);
    expect(d.length).toBeGreaterThan(16 * 4);
    const observed = Math.abs(d.reduce((s, x) => s + x, 0));
    const r = createRng(77);
    let count = 0;
    const B = 40_000;
    for (let k = 0; k < B; k++) {
      let sum = 0;
      for (const x of d) sum += r() < 0.5 ? -x : x;
      if (Math.abs(sum) >= observed - 1e-9) count++;
    }
    const textbook = (count + 1) / (B + 1);
    const p = pairedPermutationTest(a, b, { resamples: B });
    expect(textbook).toBeGreaterThan(0.005);
    expect(textbook).toBeLessThan(0.6);
    expect(Math.abs(p - textbook)).toBeLessThan(4 * Math.sqrt((textbook * (1 - textbook)) / B) * Math.SQRT2);
  });
});

describe('exact McNemar with the Clopper-Pearson interval', () => {
  it('matches scipy: binomtest(8, 20).proportion_ci(0.95, "exact") and its p-value', () => {
    const cp = clopperPearson(8, 20);
    expect(cp.low).toBeCloseTo(0.19119006072557054, 10);
    expect(cp.high).toBeCloseTo(0.6394574126927552, 10);
    expect(clopperPearson(0, 10).low).toBe(0);
    expect(clopperPearson(10, 10).high).toBe(1);
  });

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

  it('gives the sample size for 80% power at the observed disagreement', () => {
    // (1.959964 + 0.841621)^2 * 0.2 / 0.05^2 = 627.9 -> 628 cases; detectable at n = 100: 12.53 pp.
    expect(casesForGap(0.05, 0.2)).toBe(628);
    expect(minDetectable(100, 0.2)).toBeCloseTo(0.12529, 5);
    expect(Number.isNaN(minDetectable(100, 0))).toBe(true);
  });
});
