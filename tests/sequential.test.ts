/**
 * The betting confidence sequence behind `--until-decided` (src/report/sequential.ts), checked for
 * validity, not only behaviour: under the null the bettor's capital has expectation exactly 1 at
 * every n (exact enumeration of all sequences), the grid implementation agrees with a plain
 * independent one and with values worked by hand, and a seeded simulation with a known gap covers
 * it at every moment. The long simulations are `npm run bench -- sequential`.
 */
import { describe, expect, it } from 'vitest';
import { pairedComparison } from '../src/report/paired.js';
import {
  finalTestAlpha,
  GapSequence,
  gapSequence,
  sequenceAlpha,
  sequentialVerdict,
  stopReason,
  type StopReason,
  type StopRule,
} from '../src/report/sequential.js';
import { uniform } from '../src/util/rng.js';

/** E[eValue after n cases] by summing over every sequence of n draws from (values, probs). */
function expectedEValue(values: number[], probs: number[], n: number): number {
  let total = 0;
  const seqOf = (code: number): { ds: number[]; p: number } => {
    const ds: number[] = [];
    let p = 1;
    for (let i = 0; i < n; i++) {
      const k = code % values.length;
      code = Math.floor(code / values.length);
      ds.push(values[k]!);
      p *= probs[k]!;
    }
    return { ds, p };
  };
  for (let code = 0; code < values.length ** n; code++) {
    const { ds, p } = seqOf(code);
    total += p * gapSequence(ds, 0.05).eValue();
  }
  return total;
}

describe('the capital process under the null', () => {
  it('has expectation exactly 1 at every n for pass/fail pairs (d in {-1, 0, 1}, mean 0)', () => {
    for (const n of [1, 2, 3, 5, 8]) expect(expectedEValue([-1, 0, 1], [0.2, 0.6, 0.2], n)).toBeCloseTo(1, 9);
  });

  it('has expectation exactly 1 for a graded, skewed difference with mean 0', () => {
    // mean: -0.6*0.25 - 0.25*0.1 + 0*0.4 + 0.5*0.15 + 1*0.1 = 0 (a lopsided law, not a symmetric one)
    const values = [-0.6, -0.25, 0, 0.5, 1];
    const probs = [0.25, 0.1, 0.4, 0.15, 0.1];
    expect(values.reduce((s, v, i) => s + v * probs[i]!, 0)).toBeCloseTo(0, 12);
    for (const n of [1, 2, 4, 6]) expect(expectedEValue(values, probs, n)).toBeCloseTo(1, 9);
  });

  it('grows in expectation when the mean is not 0 (the check above can fail)', () => {
    expect(expectedEValue([-1, 0, 1], [0.1, 0.6, 0.3], 6)).toBeGreaterThan(1.05);
  });
});

/** The paper's formulas written plainly: every estimate recomputed from the prefix, every m alone. */
function plainSequence(ds: number[], alpha: number) {
  const xs = ds.map((d) => (d + 1) / 2);
  const steps = 2000;
  const out: { low_pp: number; high_pp: number; e: number; p: number }[] = [];
  const excluded = new Array<boolean>(steps + 1).fill(false);
  const capital = new Array<number>(steps + 1).fill(1);
  let maxE = 1;
  for (let t = 0; t < xs.length; t++) {
    // Estimates from cases 0..t-1 with a pseudo-case (mean 1/2, variance 1/4).
    let sum = 0.5;
    let sq = 0.25;
    for (let i = 0; i < t; i++) {
      sum += xs[i]!;
      const mu = sum / (i + 2);
      sq += (xs[i]! - mu) ** 2;
    }
    const mean = sum / (t + 1);
    const variance = sq / (t + 1);
    for (let j = 0; j <= steps; j++) {
      const m = j / steps;
      let lambda = (mean - m) / (variance + (mean - m) ** 2);
      lambda = Math.min(lambda, m > 0 ? 0.5 / m : Infinity);
      lambda = Math.max(lambda, m < 1 ? -0.5 / (1 - m) : -Infinity);
      capital[j] = capital[j]! * (1 + lambda * (xs[t]! - m));
      if (capital[j]! >= 1 / alpha) excluded[j] = true;
    }
    maxE = Math.max(maxE, capital[steps / 2]!);
    const inside = excluded.flatMap((x, j) => (x ? [] : [j]));
    out.push({
      low_pp: (inside[0]! - 1000) / 10,
      high_pp: (inside[inside.length - 1]! - 1000) / 10,
      e: capital[steps / 2]!,
      p: Math.min(1, 1 / maxE),
    });
  }
  return out;
}

describe('golden values', () => {
  it('match a plain implementation of the paper at every step of a fixed sequence', () => {
    const ds = [1, 0, 1, 1, -1, 0, 1, 0.5, 1, 0, 1, 1, -0.25, 1, 0, 1, 1, 0, -1, 1, 1, 0.75, 1, 0, 1, 1, 1, 0, 1, 1];
    const plain = plainSequence(ds, 0.05);
    const seq = new GapSequence({ alpha: 0.05 });
    ds.forEach((d, t) => {
      seq.push(d);
      const want = plain[t]!;
      expect(seq.interval()).toEqual({ low_pp: want.low_pp, high_pp: want.high_pp });
      expect(seq.eValue()).toBeCloseTo(want.e, 9);
      expect(seq.pValue()).toBeCloseTo(want.p, 9);
    });
    // The sequence ends decided for the closed side: the data are 2/3 wins.
    expect(seq.interval().low_pp).toBeGreaterThan(0);
    expect(seq.pValue()).toBeLessThan(0.05);
  });

  it('matches values worked by hand', () => {
    // Case 1: the pseudo-case's mean is 1/2, so the bet on d = 0 is 0 and the capital stays 1.
    // Case 2 after d = 1: mean 3/4, variance (1/4 + 1/16)/2 = 5/32, bet (1/4)/(5/32 + 1/16) = 8/7,
    // truncated to 1/2 / (1/2) = 1: a second d = 1 pays 1 + 1/2, a d = -1 loses half.
    expect(gapSequence([1], 0.05).eValue()).toBe(1);
    expect(gapSequence([1, 1], 0.05).eValue()).toBeCloseTo(1.5, 12);
    expect(gapSequence([1, -1], 0.05).eValue()).toBeCloseTo(0.5, 12);
    // All wins keep the bet at its cap: capital 1.5^(n-1); 1.5^7 = 17.1 < 20 <= 1.5^8 = 25.6.
    expect(gapSequence(Array(8).fill(1), 0.05).pValue()).toBeCloseTo(1 / 1.5 ** 7, 12);
    expect(gapSequence(Array(8).fill(1), 0.05).interval().low_pp).toBeLessThanOrEqual(0);
    const nine = gapSequence(Array(9).fill(1), 0.05);
    expect(nine.pValue()).toBeCloseTo(1 / 1.5 ** 8, 12);
    expect(nine.interval().low_pp).toBeGreaterThan(0);
  });
});

describe('edge cases', () => {
  it('n = 0: the whole range, e-value 1, p 1', () => {
    const seq = new GapSequence({ alpha: 0.05 });
    expect(seq.n).toBe(0);
    expect(seq.interval()).toEqual({ low_pp: -100, high_pp: 100 });
    expect([seq.eValue(), seq.pValue()]).toEqual([1, 1]);
  });

  it('all d = 0: never rejects 0, narrows around it symmetrically', () => {
    const seq = gapSequence(Array(500).fill(0), 0.05);
    expect([seq.eValue(), seq.pValue()]).toEqual([1, 1]);
    const { low_pp, high_pp } = seq.interval();
    expect(low_pp).toBe(-high_pp);
    expect(high_pp).toBeGreaterThan(0);
    expect(high_pp).toBeLessThan(5);
  });

  it('all d = 1: the upper end stays 100, the lower end climbs', () => {
    const seq = gapSequence(Array(200).fill(1), 0.05);
    expect(seq.interval().high_pp).toBe(100);
    expect(seq.interval().low_pp).toBeGreaterThan(90);
    expect(gapSequence(Array(200).fill(-1), 0.05).interval().high_pp).toBeLessThan(-90);
  });

  it('keeps the last non-empty interval once every mean is excluded (a miscoverage, probability <= alpha)', () => {
    // At alpha 0.9, three wins then losses: after the fifth loss no candidate mean is left.
    const seq = new GapSequence({ alpha: 0.9 });
    const seen: string[] = [];
    for (const d of [1, 1, 1, -1, -1, -1, -1, -1, -1, -1]) {
      seq.push(d);
      seen.push(JSON.stringify(seq.interval()));
    }
    expect(seen.slice(6)).toEqual(Array(4).fill(JSON.stringify({ low_pp: 36.6, high_pp: 38.8 })));
  });

  it('refuses a difference outside [-1, 1] or not a number, and a bad alpha', () => {
    const seq = new GapSequence({ alpha: 0.05 });
    expect(() => seq.push(1.5)).toThrow(/\[-1, 1\], got 1.5/);
    expect(() => seq.push(NaN)).toThrow(RangeError);
    expect(() => new GapSequence({ alpha: 0 })).toThrow(/alpha/);
    seq.push(1 + 1e-12); // a rounding error from averaging repeats is accepted as 1
    expect(seq.n).toBe(1);
  });
});

/** Pass/fail pairs with disagreement rate psi and true gap g (both fractions). */
function binaryDraw(next: () => number, psi: number, g: number): number {
  const u = next();
  return u < (psi + g) / 2 ? 1 : u < psi ? -1 : 0;
}

describe('seeded simulation with a known gap', () => {
  it('covers the true gap at every moment and narrows', () => {
    const next = uniform(27);
    const runs = 200;
    let missed = 0;
    let width50 = 0;
    let width400 = 0;
    for (let r = 0; r < runs; r++) {
      const seq = new GapSequence({ alpha: 0.05 });
      let ok = true;
      for (let t = 1; t <= 400; t++) {
        seq.push(binaryDraw(next, 0.3, 0.1));
        const { low_pp, high_pp } = seq.interval();
        if (low_pp > 10 || high_pp < 10) ok = false;
        if (t === 50) width50 += high_pp - low_pp;
        if (t === 400) width400 += high_pp - low_pp;
      }
      if (!ok) missed++;
    }
    // Time-uniform miscoverage <= alpha = 5% (binomial sd at 200 runs: 1.5 points).
    expect(missed / runs).toBeLessThanOrEqual(0.09);
    expect(width400 / runs).toBeLessThan((width50 / runs) * 0.6);
    expect(width400 / runs).toBeLessThan(25);
  });
});

describe('graded scores', () => {
  it('cover a known graded gap at every moment', () => {
    // Closed scores uniform on {0, .25, .5, .75, 1} shifted by moving 15% of mass from 0 to 1: a
    // 15 pp gap; open scores uniform, half the time the same draw as closed's.
    const next = uniform(31);
    const level = (u: number, g: number) => {
      const probs = [0.2 - g, 0.2, 0.2, 0.2, 0.2 + g];
      let k = 0;
      while (k < 4 && (u -= probs[k]!) >= 0) k++;
      return k / 4;
    };
    let missed = 0;
    for (let r = 0; r < 150; r++) {
      const seq = new GapSequence({ alpha: 0.05 });
      let ok = true;
      for (let t = 0; t < 300; t++) {
        const u = next();
        seq.push(level(u, 0.15) - level(next() < 0.5 ? u : next(), 0));
        const { low_pp, high_pp } = seq.interval();
        if (low_pp > 15 || high_pp < 15) ok = false;
      }
      if (!ok) missed++;
      expect(seq.interval().low_pp).toBeGreaterThan(0);
    }
    expect(missed / 150).toBeLessThanOrEqual(0.1);
  });
});

describe('the interval and the p-value', () => {
  it('agree at every step: the interval excludes 0 exactly when p <= alpha', () => {
    const next = uniform(9);
    let disagree = 0;
    let decided = 0;
    for (const g of [0, 0.05, 0.1])
      for (let r = 0; r < 60; r++) {
        const seq = new GapSequence({ alpha: 0.05 });
        for (let t = 0; t < 300; t++) {
          // Pass/fail and graded differences mixed, mean 0.3 g + 8.75 pp: many steps decide, many do not.
          seq.push(next() < 0.3 ? binaryDraw(next, 0.3, g) : next() < 0.5 ? 0.5 : -0.25);
          const { low_pp, high_pp } = seq.interval();
          const excludes = low_pp > 0 || high_pp < 0;
          if (excludes !== seq.pValue() <= 0.05) disagree++;
          if (excludes) decided++;
        }
      }
    expect(disagree).toBe(0);
    expect(decided).toBeGreaterThan(1000);
  });
});

describe('the stop rule', () => {
  const rule: StopRule = { alpha: 0.05, untilDecided: true, minCases: 30, nMax: 200, finalTest: true };

  it('runs the sequence at alpha/5 with the final test, alpha without', () => {
    expect([sequenceAlpha(rule), finalTestAlpha(rule)]).toEqual([0.01, 0.04]);
    expect([sequenceAlpha({ ...rule, finalTest: false }), finalTestAlpha({ ...rule, finalTest: false })]).toEqual([
      0.05, 0,
    ]);
  });

  it('waits for min cases, then stops when decided', () => {
    const seq = new GapSequence({ alpha: sequenceAlpha(rule) });
    let stopped: StopReason | undefined;
    while (!stopped) {
      seq.push(1);
      stopped = stopReason(seq, rule);
    }
    expect([stopped, seq.n]).toEqual(['decided', 30]);
    expect(sequentialVerdict(seq, rule, Array(30).fill(1), Array(30).fill(0))).toBe('closed_better');
  });

  it('stops within margin, on width, or at n_max', () => {
    const ties = gapSequence(Array(400).fill(0), 0.01);
    expect(stopReason(ties, { ...rule, nMax: 1000, marginPp: 5 })).toBe('within_margin');
    expect(stopReason(ties, { ...rule, nMax: 1000, marginPp: 0.5 })).toBeUndefined();
    expect(stopReason(ties, { ...rule, nMax: 1000, untilDecided: false, targetWidthPp: 10 })).toBe('ci_width');
    expect(stopReason(ties, { ...rule, nMax: 400 })).toBe('n_max');
    expect(stopReason(gapSequence([1, 1, 1], 0.01), { ...rule, nMax: 3 })).toBe('n_max');
    // Positions settled without entering (excluded errors) still bring the suite to its end.
    expect(stopReason(gapSequence([1, 1], 0.01), { ...rule, nMax: 3 })).toBeUndefined();
    expect(stopReason(gapSequence([1, 1], 0.01), { ...rule, nMax: 3 }, 3)).toBe('n_max');
    expect(stopReason(new GapSequence({ alpha: 0.01 }), { ...rule, nMax: 0, marginPp: 100 })).toBe('n_max');
  });

  it('splits alpha evenly over suites that stop on their own', () => {
    expect(sequenceAlpha({ ...rule, suites: 2 })).toBeCloseTo(0.005, 15);
    expect(finalTestAlpha({ ...rule, suites: 2 })).toBeCloseTo(0.02, 15);
  });

  it('at n_max the fixed-n paired test at 4 alpha/5 decides what the sequence left open', () => {
    // 60 cases, closed wins 14 of 16 disagreements, spread out: McNemar p = 0.003 < 0.04, while
    // the sequence at alpha/5 = 0.01 has not excluded 0.
    const closed = Array.from({ length: 60 }, (_, i) => (i % 4 === 0 && i < 56 ? 1 : 0));
    const open = Array.from({ length: 60 }, (_, i) => (i === 2 || i === 30 ? 1 : 0));
    const r = { ...rule, nMax: 60 };
    const seq = gapSequence(
      closed.map((c, i) => c - open[i]!),
      sequenceAlpha(r),
    );
    expect(stopReason(seq, r)).toBe('n_max');
    expect(seq.interval().low_pp).toBeLessThanOrEqual(0);
    expect(pairedComparison(closed, open, undefined, 0.04)!.p).toBeLessThan(0.04);
    expect(sequentialVerdict(seq, r, closed, open)).toBe('closed_better');
    expect(sequentialVerdict(seq, { ...r, finalTest: false }, closed, open)).toBe('no_significant_difference');
    // Stopped before its end (within a margin, say): the fixed test does not get a say.
    expect(sequentialVerdict(seq, { ...r, nMax: 100 }, closed, open)).toBe('no_significant_difference');
    expect(sequentialVerdict(seq, { ...r, nMax: 100 }, closed, open, 100)).toBe('closed_better');
  });

  it('uses the paired t test for graded scores at n_max', () => {
    // Differences +25, 0, -25, +25 pp repeated: mean 6.25 pp, t test p = 0.009, the sequence at 0.01 open.
    const closed = Array.from({ length: 80 }, (_, i) => [0.75, 0.5, 0.25, 1][i % 4]!);
    const open = Array.from({ length: 80 }, (_, i) => [0.5, 0.5, 0.5, 0.75][i % 4]!);
    const r = { ...rule, nMax: 80 };
    const seq = gapSequence(
      closed.map((c, i) => c - open[i]!),
      sequenceAlpha(r),
    );
    expect(seq.interval().low_pp).toBeLessThan(0);
    expect(pairedComparison(closed, open, undefined, 0.04)!.test).toBe('paired_t');
    expect(sequentialVerdict(seq, r, closed, open)).toBe('closed_better');
  });
});
