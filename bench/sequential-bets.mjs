// Part of `npm run bench -- sequential`: why src/report/sequential.ts bets with approximate GRAPA.
// The capital at d = 0 only (what decides), written plainly for three predictable bets of
// Waudby-Smith & Ramdas (2023): approximate GRAPA with a free sign (ours), the same size hedged
// over both directions, and the paper's hedged predictable plug-in. Same cases for all three.
import { uniform } from '../dist/util/rng.js';

const C = 0.5;
const M = 0.5;

/** Cases until the capital at d = 0 reaches 1/alpha (n_max + 1 if never), for each bet on one stream. */
function casesToDecide(xs, alpha, minCases) {
  const out = { agrapa: xs.length + 1, hedged: xs.length + 1, plugin: xs.length + 1 };
  let sum = 0;
  let sq = 0;
  let k = 1;
  let hp = 1;
  let hm = 1;
  let pp = 1;
  let pm = 1;
  for (let t = 1; t <= xs.length; t++) {
    const x = xs[t - 1];
    const mean = (0.5 + sum) / t;
    const variance = (0.25 + sq) / t;
    const grapa = (mean - M) / (variance + (mean - M) ** 2);
    k *= 1 + Math.max(-C / (1 - M), Math.min(C / M, grapa)) * (x - M);
    const size = Math.min(Math.abs(grapa), C / M);
    hp *= 1 + size * (x - M);
    hm *= 1 - size * (x - M);
    const plug = Math.min(C, Math.sqrt((2 * Math.log(2 / alpha)) / (variance * t * Math.log(1 + t))));
    pp *= 1 + plug * (x - M);
    pm *= 1 - plug * (x - M);
    sum += x;
    sq += (x - (0.5 + sum) / (t + 1)) ** 2;
    if (t < minCases) continue;
    if (k >= 1 / alpha) out.agrapa = Math.min(out.agrapa, t);
    if (Math.max(hp, hm) / 2 >= 1 / alpha) out.hedged = Math.min(out.hedged, t);
    if (Math.max(pp, pm) / 2 >= 1 / alpha) out.plugin = Math.min(out.plugin, t);
  }
  return out;
}

/** Pass/fail pairs, 30% disagreeing, n_max 1,000, the sequence at alpha/5 = 0.01 (the default rule). */
export function betChoice(report, sims) {
  const next = uniform(77);
  const rows = [];
  for (const gapPp of [0, 5, 10, 20]) {
    const g = gapPp / 100;
    const total = { agrapa: 0, hedged: 0, plugin: 0 };
    const decided = { agrapa: 0, hedged: 0, plugin: 0 };
    for (let r = 0; r < sims; r++) {
      const xs = Array.from({ length: 1000 }, () => {
        const v = next();
        return v < (0.3 + g) / 2 ? 1 : v < 0.3 ? 0 : 0.5;
      });
      const n = casesToDecide(xs, 0.01, 30);
      for (const key of Object.keys(total)) {
        total[key] += Math.min(n[key], 1000);
        if (n[key] <= 1000) decided[key]++;
      }
    }
    const cell = (key) =>
      `${((decided[key] / sims) * 100).toFixed(1)}% decided, ${(total[key] / sims).toFixed(0)} cases`;
    rows.push([
      `binary n_max 1000 gap ${gapPp} pp`,
      `aGRAPA ${cell('agrapa')}; hedged aGRAPA ${cell('hedged')}; hedged plug-in ${cell('plugin')}`,
    ]);
  }
  report('sequential: the bet (capital at d = 0, alpha 0.01; mean cases until decided, n_max if never)', rows);
}
