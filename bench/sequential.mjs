// npm run bench -- sequential: the stop rule of `--until-decided` (src/report/sequential.ts)
// simulated on runs whose true gap is known. Each simulated run draws n_max paired cases and walks
// them in order, as a run commits them, with two confidence sequences side by side: one at alpha
// (the rule without the final test) and one at alpha/5 (with the final fixed-n test at 4 alpha/5,
// the default). Prints type-I error under continuous monitoring, time-uniform coverage, wrong
// "within margin" stops, wrong-side verdicts, power against the fixed-n test, the share of cases
// saved, the naive "fixed-n test after every case" for contrast, committing in completion order
// against a pre-drawn order, and the cost of one update. Seeded: the same figures on every
// machine. SEQ_SIMS sets the runs per cell (default 1,000: 2-5 minutes on a shared 2-core machine).
import { pairedComparison, verdictOf } from '../dist/report/paired.js';
import { GapSequence, sequenceAlpha, sequentialVerdict, stopReason } from '../dist/report/sequential.js';
import { normalTwoSided, studentTTwoSided } from '../dist/report/stats.js';
import { tangoInterval } from '../dist/report/score-tests.js';
import { uniform } from '../dist/util/rng.js';
import { betChoice } from './sequential-bets.mjs';

const SIMS = Number(process.env.SEQ_SIMS ?? 1000);
const ALPHA = 0.05;
const MIN_CASES = 30;
const MARGIN_PP = 5;
/** Pass/fail pairs disagree on this share of cases; graded scores share this much of their draw. */
const DISAGREE = 0.3;
const SHARED = 0.7;
const next = uniform(2027);
const pct = (x) => `${(x * 100).toFixed(1)}%`;
const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
  return ok ? 'ok' : 'MISSED';
};

/** One case's scores (closed, open) with true mean gap g: pass/fail with a disagreement rate. */
function binaryCase(g) {
  const v = next();
  if (v < (DISAGREE + g) / 2) return [1, 0];
  if (v < DISAGREE) return [0, 1];
  const both = next() < 0.6 ? 1 : 0;
  return [both, both];
}

/** Five levels 0..1; open uniform over them, closed moves g of the mass from 0 to 1 (mean + g exactly). */
function level(u, g) {
  const probs = [0.2 - g, 0.2, 0.2, 0.2, 0.2 + g];
  for (let k = 0; k < 5; k++) if ((u -= probs[k]) < 0) return k / 4;
  return 1;
}
function gradedCase(g) {
  const u = next();
  return [level(next() < SHARED ? u : next(), g), level(u, 0)];
}

/** The naive peek: the fixed-n test's p-value on the first n cases, from running sums. */
function naiveP(kind, s) {
  if (kind === 'binary')
    return s.onlyA + s.onlyB ? normalTwoSided((s.onlyA - s.onlyB) / Math.sqrt(s.onlyA + s.onlyB)) : 1;
  const mean = s.sum / s.n;
  const sd = Math.sqrt((s.sumSq - s.n * mean * mean) / (s.n - 1));
  return sd > 0 ? studentTTwoSided(mean / (sd / Math.sqrt(s.n)), s.n - 1) : 1;
}

/** One simulated run of n_max cases with true gap g; every rule is read off the same cases. */
function simulateRun(kind, g, nMax) {
  const rule = { alpha: ALPHA, untilDecided: true, minCases: MIN_CASES, nMax, finalTest: true };
  const bare = { ...rule, finalTest: false };
  const margin = { ...rule, marginPp: MARGIN_PP };
  const seqF = new GapSequence({ alpha: sequenceAlpha(rule) });
  const seqA = new GapSequence({ alpha: sequenceAlpha(bare) });
  const closed = new Array(nMax);
  const open = new Array(nMax);
  const s = { n: 0, onlyA: 0, onlyB: 0, sum: 0, sumSq: 0 };
  const out = { covered: true, naive: false, final: undefined, bare: undefined, margin: undefined };
  for (let i = 0; i < nMax; i++) {
    const [a, b] = kind === 'binary' ? binaryCase(g) : gradedCase(g);
    closed[i] = a;
    open[i] = b;
    const d = a - b;
    seqF.push(d);
    seqA.push(d);
    s.n++;
    s.sum += d;
    s.sumSq += d * d;
    if (d > 0) s.onlyA++;
    else if (d < 0) s.onlyB++;
    const iv = seqA.interval();
    if (iv.low_pp > g * 100 || iv.high_pp < g * 100) out.covered = false;
    if (!out.naive && s.n >= MIN_CASES && naiveP(kind, s) < ALPHA) out.naive = true;
    const stops = [
      ['final', seqF, rule],
      ['bare', seqA, bare],
      ['margin', seqF, margin],
    ];
    for (const [key, seq, r] of stops) {
      if (out[key]) continue;
      const reason = stopReason(seq, r);
      if (!reason) continue;
      // Cases fill closed/open up to n_max; the fixed-n test reads them only once all are in.
      const verdict = sequentialVerdict(seq, r, closed, open);
      out[key] = { n: seq.n, reason, verdict };
    }
  }
  const fixed = pairedComparison(closed, open, undefined, ALPHA);
  out.fixed = verdictOf(fixed, ALPHA);
  return out;
}

function cells(report) {
  const validity = [];
  const power = [];
  const margins = [];
  for (const nMax of [1000, 5000])
    for (const kind of ['binary', 'graded'])
      for (const gapPp of [0, 3, 5, 10, 20]) {
        const g = gapPp / 100;
        const c = {
          covered: 0,
          wrongBare: 0,
          naive: 0,
          fixed: 0,
          final: 0,
          bare: 0,
          wrong: 0,
          saved: 0,
          within: 0,
          wrongWithin: 0,
          marginSaved: 0,
        };
        for (let r = 0; r < SIMS; r++) {
          const o = simulateRun(kind, g, nMax);
          const right = g > 0 ? 'closed_better' : 'no_significant_difference';
          if (o.covered) c.covered++;
          if (o.naive) c.naive++;
          if (o.fixed === right) c.fixed++;
          if (o.final.verdict === right) c.final++;
          if (o.bare.verdict === right) c.bare++;
          if (o.final.verdict === 'open_better') c.wrong++;
          if (o.bare.verdict === 'open_better') c.wrongBare++;
          c.saved += 1 - o.final.n / nMax;
          if (o.margin.reason === 'within_margin') {
            c.within++;
            if (gapPp > MARGIN_PP) c.wrongWithin++;
          }
          c.marginSaved += 1 - o.margin.n / nMax;
        }
        const f = (k) => c[k] / SIMS;
        const cell = `${kind} n_max ${nMax} gap ${gapPp} pp`;
        validity.push([
          cell,
          `coverage ${f('covered').toFixed(3)} ${check(f('covered') >= 0.94, `coverage ${cell}: ${f('covered')}`)}` +
            (gapPp === 0
              ? `, type-I: with final test ${pct(1 - f('final'))} ${check(1 - f('final') <= ALPHA + 0.01, `type-I ${cell}`)}` +
                `, sequence alone ${pct(1 - f('bare'))} ${check(1 - f('bare') <= ALPHA + 0.01, `type-I bare ${cell}`)}` +
                `, fixed-n ${pct(1 - f('fixed'))}, naive peeking ${pct(f('naive'))}; cases saved ${pct(f('saved'))}`
              : ''),
        ]);
        if (gapPp > 0)
          power.push([
            cell,
            `right verdict: fixed-n ${pct(f('fixed'))}, with final test ${pct(f('final'))}, sequence alone ${pct(f('bare'))}; ` +
              `wrong side ${pct(f('wrong'))} (alone ${pct(f('wrongBare'))}); cases saved ${pct(f('saved'))}`,
          ]);
        margins.push([
          cell,
          `stopped within +-${MARGIN_PP} pp ${pct(f('within'))} (wrong ${pct(f('wrongWithin'))} ${check(f('wrongWithin') <= ALPHA, `margin ${cell}`)}), cases saved ${pct(f('marginSaved'))}`,
        ]);
        if (kind === 'binary' && nMax === 1000 && gapPp === 20)
          check(
            f('saved') >= 0.8 && f('final') >= 0.95,
            `20 pp binary n_max 1000: saved ${f('saved')}, right ${f('final')}`,
          );
      }
  report(
    `sequential: validity under continuous monitoring, alpha ${ALPHA}, ${SIMS} runs per cell (coverage target >= 0.94, type-I <= ${(ALPHA + 0.01).toFixed(2)})`,
    validity,
  );
  report(
    'sequential: power and savings of --until-decided (final test: sequence at alpha/5, fixed-n at 4 alpha/5 at n_max)',
    power,
  );
  report(
    `sequential: --until-decided --margin ${MARGIN_PP} (a within-margin stop is wrong when the true gap is larger)`,
    margins,
  );
}

/**
 * Order: 1,000 pass/fail cases with no true gap, 32 in flight, where the open model's wrong answers
 * take 4x longer. Committing in completion order lets the fast cases (open right) in first, so an
 * early look sees a false gap; committing in the pre-drawn order (the run's reorder buffer) does not.
 */
function order(report) {
  for (const slots of [32, 128]) orderAt(report, slots);
}

function orderAt(report, slots) {
  const nMax = 1000;
  const rule = { alpha: ALPHA, untilDecided: true, minCases: MIN_CASES, nMax, finalTest: true };
  const wrong = { completion: 0, drawn: 0 };
  for (let r = 0; r < SIMS; r++) {
    const cases = [];
    const free = new Array(slots).fill(0);
    for (let i = 0; i < nMax; i++) {
      const [a, b] = binaryCase(0);
      let s = 0;
      for (let k = 1; k < slots; k++) if (free[k] < free[s]) s = k;
      const done = free[s] + Math.max(-Math.log(1 - next()), -Math.log(1 - next()) * (b ? 1 : 4));
      free[s] = done;
      cases.push({ a, b, done });
    }
    const byCompletion = [...cases].sort((x, y) => x.done - y.done);
    for (const [key, list] of [
      ['completion', byCompletion],
      ['drawn', cases],
    ]) {
      const seq = new GapSequence({ alpha: sequenceAlpha(rule) });
      const closed = [];
      const open = [];
      for (const c of list) {
        seq.push(c.a - c.b);
        closed.push(c.a);
        open.push(c.b);
        if (stopReason(seq, rule)) break;
      }
      if (sequentialVerdict(seq, rule, closed, open) !== 'no_significant_difference') wrong[key]++;
    }
  }
  const f = (k) => wrong[k] / SIMS;
  report(`sequential: commit order, no true gap, open's wrong answers 4x slower, ${slots} in flight, n_max ${nMax}`, [
    ['completion order: false verdicts', `${pct(f('completion'))} (invalid: the early prefix is biased)`],
    [
      'pre-drawn order: false verdicts',
      `${pct(f('drawn'))} ${check(f('drawn') <= ALPHA + 0.01, `order drawn ${f('drawn')}`)}`,
    ],
  ]);
}

/** The cost of one push: with the interval still wide (first 50 cases) and over a whole run. */
function cost(report) {
  const wide = [];
  for (let i = 0; i < 2000; i++) wide.push(binaryCase(0)[0] - binaryCase(0)[1]);
  const time = (runs, cases) => {
    const t = performance.now();
    for (let r = 0; r < runs; r++) {
      const seq = new GapSequence({ alpha: 0.01 });
      for (let i = 0; i < cases; i++) seq.push(wide[(r * 7 + i) % wide.length]);
    }
    return ((performance.now() - t) * 1000) / (runs * cases);
  };
  time(50, 200); // JIT warm-up
  const early = time(2000, 50);
  const whole = time(40, 1000);
  const share = (us) => (us * 1000) / 1e6;
  // The naive peek's p-value is the McNemar score test, which is Tango's test at a gap of 0.
  const same = [
    [12, 5],
    [40, 22],
    [3, 9],
  ].every(([b, c]) => Math.abs(tangoInterval(b, c, 200).p - normalTwoSided((b - c) / Math.sqrt(b + c))) < 1e-9);
  report('sequential: cost of one update (a 2,001-point grid, 0.1 pp)', [
    [
      'first 50 cases (whole grid)',
      `${early.toFixed(2)} us per case, ${pct(share(early))} of a core at 1,000 answers/s ${check(share(early) <= 0.05, `cost ${early} us`)}`,
    ],
    ['a 1,000-case run', `${whole.toFixed(2)} us per case, ${pct(share(whole))} of a core at 1,000 answers/s`],
    ['naive peek p = Tango at 0', check(same, 'naive p differs from Tango')],
  ]);
}

export async function sequential(report) {
  const t = performance.now();
  cost(report);
  betChoice(report, SIMS);
  order(report);
  cells(report);
  report('sequential: summary', [
    ['targets missed', failures.length ? failures.join('; ') : 'none'],
    ['time', `${((performance.now() - t) / 1000).toFixed(1)} s, ${SIMS} simulated runs per cell (SEQ_SIMS)`],
  ]);
}
