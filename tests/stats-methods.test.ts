/**
 * The statistical methods behind gap.csv, summary.csv and the regression gate, checked against
 * published values and independent computations (Python 3, scipy 1.17), and by seeded simulation
 * with a known truth. The long simulation grid is `npm run bench -- stats-coverage`.
 */
import { describe, expect, it } from 'vitest';
import { Aggregator, type Aggregate } from '../src/report/aggregate.js';
import { answeredRecord } from './helpers.js';
import { gapRows } from '../src/report/gap.js';
import { pairedComparison, verdictOf } from '../src/report/paired.js';
import { binaryPower, gradedPower, mcnemarPower, nonCentralTUpper, tTestPower } from '../src/report/power.js';
import { boundedMeanInterval, holm, tangoInterval } from '../src/report/score-tests.js';
import { studentTCritical, wilson } from '../src/report/stats.js';
import { gradedInterval, type SummaryRow } from '../src/report/summary.js';
import { uniform } from '../src/util/rng.js';

describe("Tango's score interval with McNemar's score test (pass/fail gaps)", () => {
  it('matches the published example (Fagerland, Lydersen & Laake 2014: Bentur et al., b = 1, c = 7, n = 21)', () => {
    // Published: -0.2857 (95% CI -0.517 to -0.026); scipy brentq on Tango's statistic: -0.5172322764213774, -0.02600303248093575.
    const r = tangoInterval(1, 7, 21);
    expect(r.ci.low).toBeCloseTo(-0.5172322764213774, 9);
    expect(r.ci.high).toBeCloseTo(-0.02600303248093575, 9);
    // At a gap of 0 the statistic is McNemar's: z = (1 - 7) / sqrt(8).
    expect(r.p).toBeCloseTo(0.03389485352468913, 9);
  });

  it('gives the cases the audit found broken a real interval (scipy values)', () => {
    // 5 of 15 cases won only by closed: the old interval was [-1.5, 33.3], its bound the estimate.
    const five = tangoInterval(5, 0, 15);
    expect(five.ci.low).toBeCloseTo(0.0614889319522014, 9);
    expect(five.ci.high).toBeCloseTo(0.5828645226148019, 9);
    // 0 discordant of 12: was [0, 0]; now ±z²/(n + z²).
    const none = tangoInterval(0, 0, 12);
    const z2 = 1.959963984540054 ** 2;
    expect(none.ci.high).toBeCloseTo(z2 / (12 + z2), 12);
    expect(none.ci.low).toBeCloseTo(-z2 / (12 + z2), 12);
    expect(none.p).toBe(1);
    const big = tangoInterval(80, 40, 200);
    expect(big.ci.low).toBeCloseTo(0.0940703756412781, 9);
    expect(big.ci.high).toBeCloseTo(0.3009960564530608, 9);
  });

  it('covers at a 20 pp gap with 24% disagreement, where the old interval covered 0.70 (seeded simulation)', () => {
    const next = uniform(7);
    for (const n of [20, 50, 200]) {
      let covered = 0;
      const sims = 2000;
      for (let s = 0; s < sims; s++) {
        let b = 0;
        let c = 0;
        for (let i = 0; i < n; i++) {
          const u = next();
          if (u < 0.22) b++;
          else if (u < 0.24) c++;
        }
        const r = tangoInterval(b, c, n);
        if (r.ci.low <= 0.2 && 0.2 <= r.ci.high) covered++;
      }
      expect(covered / sims).toBeGreaterThanOrEqual(0.93);
    }
  });
});

describe('exact power', () => {
  it('of the McNemar score test equals the sum over every 2x2 table (scipy multinomial, brute force)', () => {
    expect(mcnemarPower(12, 0.25, 0.25)).toBeCloseTo(0.35122138261794966, 9);
    expect(mcnemarPower(30, 0.1, 0.1)).toBeCloseTo(0.3525608282081513, 9);
    expect(mcnemarPower(50, 0.24, 0.2)).toBeCloseTo(0.8948284074672923, 9);
    expect(mcnemarPower(20, 0.4, 0.2)).toBeCloseTo(0.2703014971543667, 9);
  });

  it("of the t test matches R's power.t.test and scipy's non-central t", () => {
    // R: power.t.test(n = 20, delta = 1) = 0.8689528 (two samples: df 38, ncp sqrt(10), upper tail).
    expect(nonCentralTUpper(studentTCritical(0.05, 38), 38, Math.sqrt(10))).toBeCloseTo(0.8689528, 6);
    // scipy: nct.sf(c, df, ncp) + nct.cdf(-c, df, ncp) with c = t.ppf(0.975, df).
    expect(tTestPower(4, 2)).toBeCloseTo(0.3359651039111674, 6);
    expect(tTestPower(9, 3)).toBeCloseTo(0.7611566204263244, 6);
    expect(tTestPower(1, 5)).toBeCloseTo(0.3051601027351559, 6);
    expect(tTestPower(29, 2.8)).toBeCloseTo(0.7722536333919405, 6);
  });

  it('says "too few cases" where the normal approximation promised a gap (README demo: 12 cases; 30 cases with 10% disagreeing)', () => {
    const demo = binaryPower(12, 3);
    expect(demo.minDetectable).toBeNaN();
    expect(demo.reason).toMatch(/^too few cases to detect any gap/);
    // The old figure, 16.2 pp, was more than the 10% of cases that disagree allow.
    expect(binaryPower(30, 3).reason).toMatch(/^too few cases/);
  });

  it('states a detectable gap at which the power is 80%, never more than the disagreement', () => {
    for (const [n, d] of [
      [50, 12],
      [100, 53],
      [400, 40],
    ]) {
      const f = binaryPower(n, d);
      expect(f.minDetectable).toBeLessThanOrEqual(d / n);
      expect(mcnemarPower(n, d / n, f.minDetectable)).toBeCloseTo(0.8, 2);
    }
    const g = gradedPower(10, 0.3);
    expect(tTestPower(9, (g.minDetectable * Math.sqrt(10)) / 0.3)).toBeCloseTo(0.8, 3);
    expect(tTestPower(g.casesFor5pp - 1, (0.05 * Math.sqrt(g.casesFor5pp)) / 0.3)).toBeGreaterThanOrEqual(0.8);
    expect(tTestPower(g.casesFor5pp - 2, (0.05 * Math.sqrt(g.casesFor5pp - 1)) / 0.3)).toBeLessThan(0.8);
  });
});

describe('intervals that are never a point and never out of range', () => {
  it('identical graded differences get the bounded score interval, not 25.0 [25.0, 25.0]', () => {
    const r = pairedComparison([0.75, 0.75, 0.75, 0.75, 0.75, 0.75], [0.5, 0.5, 0.5, 0.5, 0.5, 0.5])!;
    expect(r.test).toBe('bounded_score');
    expect(r.ci.low).toBeLessThan(0.25);
    expect(r.ci.high).toBeGreaterThan(0.25);
    expect([r.p < 0.05, r.ci.low > 0 || r.ci.high < 0]).toEqual([r.p < 0.05, r.p < 0.05]);
  });

  it('clips a paired t interval to [-100, 100] pp (a 3-case category printed [-110.1, 176.8])', () => {
    const r = pairedComparison([1, 0, 1], [0, 0.5, 0])!;
    expect(r.test).toBe('paired_t');
    expect(r.ci.low).toBeGreaterThanOrEqual(-1);
    expect(r.ci.high).toBeLessThanOrEqual(1);
    expect(verdictOf(r)).toBe('no_significant_difference');
  });

  it('per-model graded intervals: bounded mean below 100 cases (Wilson for 0/1 data), t from 100', () => {
    // For 0/1 scores the bounded-mean interval is Wilson's: 80 of 100 -> [0.7111708, 0.8666331].
    const w = wilson(80, 100);
    const b = boundedMeanInterval(0.8, 100, 0, 1);
    expect(b.ci.low).toBeCloseTo(w.low, 12);
    expect(b.ci.high).toBeCloseTo(w.high, 12);
    const five = gradedInterval([1, 1, 1, 1, 1]);
    expect(five.method).toBe('bounded');
    expect(five.ci.high).toBe(1);
    expect(five.ci.low).toBeLessThan(1);
    const many = gradedInterval(Array.from({ length: 120 }, (_, i) => (i % 5) / 4));
    expect(many.method).toBe('t');
  });
});

describe("Holm's adjustment", () => {
  it("matches R's p.adjust(c(0.01, 0.04, 0.03, 0.005), 'holm') = 0.03 0.06 0.06 0.02", () => {
    const out = holm([0.01, 0.04, 0.03, 0.005]);
    [0.03, 0.06, 0.06, 0.02].forEach((x, i) => expect(out[i]).toBeCloseTo(x, 12));
    expect(holm([NaN, 0.2])).toEqual([NaN, 0.2]);
  });
});

describe('scopes and categories that do not flatter (seeded simulation through gapRows)', () => {
  /** An aggregate and summary as gapRows reads them, from per-model 0/1 answers per case. */
  function runOf(answers: Record<string, number[]>, category: (i: number) => string): [Aggregate, SummaryRow[]] {
    const models = Object.keys(answers).map((id) => ({
      id,
      group: (id.startsWith('closed') ? 'closed' : 'open') as 'closed' | 'open',
      provider: 'sim',
    }));
    const n = answers[models[0].id].length;
    const agg = new Aggregator('sim', false);
    for (const m of models)
      for (let i = 0; i < n; i++)
        agg.add(
          { ...answeredRecord(m.id, m.group, i, answers[m.id][i] === 1, 0, 0), category: category(i) },
          () => undefined,
        );
    const summary = models.map((m) => {
      const passed = answers[m.id].reduce((a, x) => a + x, 0);
      return {
        model: m.id,
        suite: 's',
        n,
        n_cases: n,
        passed,
        score: passed / n,
        errors: 0,
        excluded: 0,
      } as SummaryRow;
    });
    return [agg.agg, summary];
  }

  it('best of 1 closed vs 4 equal open models names a side at about the test level, with no biased gap', () => {
    const next = uniform(11);
    const sims = 300;
    let named = 0;
    let gapSum = 0;
    for (let s = 0; s < sims; s++) {
      const answers: Record<string, number[]> = {};
      for (const id of ['closed', 'openA', 'openB', 'openC', 'openD'])
        answers[id] = Array.from({ length: 60 }, () => (next() < 0.7 ? 1 : 0));
      const best = gapRows(...runOf(answers, () => 'x')).find((r) => r.scope === 'best')!;
      if (best.verdict !== 'no_significant_difference') named++;
      gapSum += best.gap_pp;
    }
    // The old choice named open better in 6.7% of runs with a mean gap of -4.3 pp.
    expect(named / sims).toBeLessThanOrEqual(0.07);
    expect(Math.abs(gapSum / sims)).toBeLessThan(1.5);
  });

  it('8 categories with no gap: Holm keeps the family-wise rate near 5% (unadjusted: about 34%)', () => {
    const next = uniform(12);
    const sims = 200;
    let any = 0;
    for (let s = 0; s < sims; s++) {
      const answers = {
        closed: Array.from({ length: 200 }, () => (next() < 0.6 ? 1 : 0)),
        open: Array.from({ length: 200 }, () => (next() < 0.6 ? 1 : 0)),
      };
      const rows = gapRows(...runOf(answers, (i) => `cat${i % 8}`));
      expect(rows.filter((r) => r.category !== 'all').every((r) => r.p_adjusted >= r.p_value)).toBe(true);
      if (rows.some((r) => r.category !== 'all' && r.verdict !== 'no_significant_difference')) any++;
    }
    expect(any / sims).toBeLessThanOrEqual(0.08);
  });
});
