// npm run bench -- stats-coverage: the report's statistics on simulated runs whose truth is known.
// Prints, per cell, the coverage of the 95% gap interval, how often a side is named, and checks the
// targets of issue 23: every gap-interval cell covers >= 0.93; `best` scope with 1 closed vs 4 open
// equal models names a side in <= 2.5% + 1% per side; 8 categories with no gap name one in <= 6%;
// stated power figures within a few points of the simulated power; no zero-width or out-of-range
// interval. Seeded: the figures are the same on every machine.
import { Aggregator } from '../dist/report/aggregate.js';
import { gapRows } from '../dist/report/gap.js';
import { pairedComparison } from '../dist/report/paired.js';
import { binaryPower, gradedPower } from '../dist/report/power.js';
import { tangoInterval } from '../dist/report/score-tests.js';
import { binomialFromUniform } from '../dist/report/stats.js';
import { gradedInterval } from '../dist/report/summary.js';
import { uniform } from '../dist/util/rng.js';

const SIMS = Number(process.env.BENCH_SIMS ?? 2000);
const next = uniform(20231);
const binom = (n, p) => binomialFromUniform(n, p, next());
const pct = (x) => `${(x * 100).toFixed(1)}%`;
const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
  return ok ? 'ok' : 'MISSED';
};
let degenerate = 0;
const sane = (ci) => {
  if (!(ci.high > ci.low) || ci.low < -1 - 1e-12 || ci.high > 1 + 1e-12) degenerate++;
};

/** Pass/fail gaps: Tango interval coverage and how often the test names a side. */
function binaryGrid(report) {
  const rows = [];
  for (const gap of [0, 0.05, 0.1, 0.2])
    for (const psi of [0.1, 0.24, 0.4]) {
      if (gap > psi) continue;
      for (const n of [20, 50, 200, 1000]) {
        let covered = 0;
        let named = 0;
        for (let s = 0; s < SIMS; s++) {
          const m = binom(n, psi);
          const b = binom(m, (1 + gap / psi) / 2);
          const r = tangoInterval(b, m - b, n);
          sane(r.ci);
          if (r.ci.low <= gap && gap <= r.ci.high) covered++;
          if (r.p < 0.05) named++;
        }
        const cov = covered / SIMS;
        rows.push([
          `gap ${gap * 100} pp, disagree ${psi * 100}%, n ${n}`,
          `coverage ${cov.toFixed(3)} ${check(cov >= 0.93, `binary gap ${gap} psi ${psi} n ${n}: ${cov}`)}, names a side ${pct(named / SIMS)}`,
        ]);
      }
    }
  report('stats-coverage: pass/fail gap intervals (Tango score interval, target coverage >= 0.93)', rows);
}

/** A 5-level score (0, .25, .5, .75, 1) drawn from `probs`. */
function level(probs) {
  let u = next();
  for (let k = 0; k < 5; k++) if ((u -= probs[k]) < 0) return k / 4;
  return 1;
}
const meanOf = (probs) => probs.reduce((a, p, k) => a + (p * k) / 4, 0);

/** Graded gaps (paired t, clipped; bounded score when every difference is equal) and per-model intervals. */
function gradedGrid(report) {
  const shapes = [
    ['skewed vs flat', [0.05, 0.05, 0.1, 0.2, 0.6], [0.2, 0.2, 0.2, 0.2, 0.2]],
    ['equal, skewed', [0.02, 0.03, 0.05, 0.1, 0.8], [0.02, 0.03, 0.05, 0.1, 0.8]],
  ];
  const rows = [];
  for (const [name, pa, pb] of shapes)
    for (const n of [5, 10, 20, 50, 200, 500]) {
      const truth = meanOf(pa) - meanOf(pb);
      let covered = 0;
      let named = 0;
      let modelCovered = 0;
      for (let s = 0; s < SIMS; s++) {
        const a = Array.from({ length: n }, () => level(pa));
        const b = Array.from({ length: n }, () => level(pb));
        const r = pairedComparison(a, b, false);
        sane(r.ci);
        if (r.ci.low <= truth && truth <= r.ci.high) covered++;
        if (r.p < 0.05) named++;
        const g = gradedInterval(a).ci;
        if (g.low <= meanOf(pa) && meanOf(pa) <= g.high) modelCovered++;
      }
      const cov = covered / SIMS;
      const mcov = modelCovered / SIMS;
      rows.push([
        `${name}, n ${n} (gap ${(truth * 100).toFixed(1)} pp)`,
        `gap coverage ${cov.toFixed(3)} ${check(cov >= 0.93, `graded ${name} n ${n}: ${cov}`)}, names a side ${pct(named / SIMS)}; per-model coverage ${mcov.toFixed(3)} ${check(mcov >= 0.93, `per-model ${name} n ${n}: ${mcov}`)}`,
      ]);
    }
  report(
    'stats-coverage: graded 5-level scores (gap: paired t; per model: bounded mean below 100 cases, t from 100)',
    rows,
  );
}

/** The stated min_detectable_pp against the power simulated at that gap. */
function powerCheck(report) {
  const rows = [];
  for (const [n, psi] of [
    [30, 0.4],
    [50, 0.3],
    [200, 0.24],
  ]) {
    const md = binaryPower(n, Math.round(n * psi)).minDetectable;
    let rejected = 0;
    for (let s = 0; s < SIMS; s++) {
      const m = binom(n, psi);
      const b = binom(m, (1 + md / psi) / 2);
      if (tangoInterval(b, m - b, n).p < 0.05) rejected++;
    }
    const p = rejected / SIMS;
    rows.push([
      `pass/fail n ${n}, disagree ${psi * 100}%`,
      `stated ${(md * 100).toFixed(1)} pp, simulated power there ${p.toFixed(3)} ${check(Math.abs(p - 0.8) <= 0.04, `power binary n ${n}: ${p}`)}`,
    ]);
  }
  for (const [n, sd] of [
    [10, 0.3],
    [30, 0.25],
  ]) {
    const md = gradedPower(n, sd).minDetectable;
    let rejected = 0;
    for (let s = 0; s < SIMS; s++) {
      // Normal differences with the stated sd (the t test's own model).
      const d = Array.from({ length: n }, () => {
        const u = Math.max(next(), 1e-300);
        return md + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
      });
      if (pairedComparison(d, new Array(n).fill(0), false).p < 0.05) rejected++;
    }
    const p = rejected / SIMS;
    rows.push([
      `graded n ${n}, sd ${sd}`,
      `stated ${(md * 100).toFixed(1)} pp, simulated power there ${p.toFixed(3)} ${check(Math.abs(p - 0.8) <= 0.04, `power graded n ${n}: ${p}`)}`,
    ]);
  }
  report('stats-coverage: power figures (min_detectable_pp) against simulated power (target 0.80 ± 0.04)', rows);
}

/** An aggregate and summary as gapRows reads them, from per-model 0/1 answers per case. */
function runOf(answers, categories) {
  const models = Object.keys(answers).map((id) => ({
    id,
    group: id.startsWith('closed') ? 'closed' : 'open',
    provider: 'sim',
  }));
  const n = answers[models[0].id].length;
  // Through the Aggregator a run uses, one answered record per (model, case).
  const agg = new Aggregator('sim', false);
  for (const m of models)
    for (let i = 0; i < n; i++) {
      const x = answers[m.id][i];
      const grade = { score: x, passed: x === 1, reason: '' };
      const common = { suite: 's', case_id: `c${i}`, case_index: i, category: categories(i), expected: '', repeat: 0 };
      const run = { model: m.id, group: m.group, provider: 'sim', cached: false, t_start: 0, t_end: 0 };
      agg.add({ ...common, ...run, status: 'ok', output: '', latency_ms: 0, grade }, () => undefined);
    }
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
      cost_usd: undefined,
    };
  });
  return [agg.agg, summary];
}

/** `best` with 1 closed vs 4 open equally good models: how often a side is named, and the bias. */
function bestScope(report) {
  const sims = Math.min(SIMS, 1000);
  let open = 0;
  let closed = 0;
  let gapSum = 0;
  for (let s = 0; s < sims; s++) {
    const answers = {};
    for (const id of ['closed', 'openA', 'openB', 'openC', 'openD'])
      answers[id] = Array.from({ length: 100 }, () => (next() < 0.7 ? 1 : 0));
    const best = gapRows(...runOf(answers, () => 'x')).find((r) => r.scope === 'best');
    if (best.verdict === 'open_better') open++;
    if (best.verdict === 'closed_better') closed++;
    gapSum += best.gap_pp;
  }
  report('stats-coverage: best scope, 1 closed vs 4 open, no true gap, 100 cases (target <= 3.5% per side)', [
    ['names open better', `${pct(open / sims)} ${check(open / sims <= 0.035, `best open ${open / sims}`)}`],
    ['names closed better', `${pct(closed / sims)} ${check(closed / sims <= 0.035, `best closed ${closed / sims}`)}`],
    ['mean reported gap', `${(gapSum / sims).toFixed(2)} pp (the old selection reported -4.3 pp)`],
  ]);
}

/** 8 categories of 25 cases, no gap anywhere: how often any category row names a side. */
function categories(report) {
  const sims = Math.min(SIMS, 1000);
  let any = 0;
  for (let s = 0; s < sims; s++) {
    const answers = {
      closed: Array.from({ length: 200 }, () => (next() < 0.6 ? 1 : 0)),
      open: Array.from({ length: 200 }, () => (next() < 0.6 ? 1 : 0)),
    };
    const rows = gapRows(...runOf(answers, (i) => `cat${i % 8}`));
    if (rows.some((r) => r.category !== 'all' && r.verdict !== 'no_significant_difference')) any++;
  }
  report('stats-coverage: 8 categories x 25 cases, no true gap (Holm; target family-wise <= 6%)', [
    ['any category names a side', `${pct(any / sims)} ${check(any / sims <= 0.06, `categories ${any / sims}`)}`],
  ]);
}

export async function statsCoverage(report) {
  const t = performance.now();
  binaryGrid(report);
  gradedGrid(report);
  powerCheck(report);
  bestScope(report);
  categories(report);
  report('stats-coverage: summary', [
    ['zero-width or out-of-range intervals', `${degenerate} ${check(degenerate === 0, `degenerate ${degenerate}`)}`],
    ['targets missed', failures.length ? failures.join('; ') : 'none'],
    ['time', `${((performance.now() - t) / 1000).toFixed(1)} s, ${SIMS} simulated runs per cell`],
  ]);
}
