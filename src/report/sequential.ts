import { pairedComparison, verdictOf } from './paired.js';

/*
 * Anytime-valid gap statistics: a confidence sequence for the mean paired difference d in [-1, 1]
 * (closed score - open score), valid at every case count at once, so a run may look after every
 * case and stop whenever the interval is conclusive (Waudby-Smith & Ramdas 2023, "Estimating means
 * of bounded random variables by betting", JRSS B 86(1)).
 *
 * Method. d is mapped to x = (d + 1) / 2 in [0, 1]. For each candidate mean m of x on a grid
 * (0.0005 in x = 0.1 percentage point in d) a gambler starts with capital 1 and bets against
 * "the mean is m": K_t(m) = prod_{i<=t} (1 + lambda_i(m) (x_i - m)). The bet is the paper's
 * approximate GRAPA, lambda_i(m) = (mu_{i-1} - m) / (s2_{i-1} + (mu_{i-1} - m)^2), from the running
 * mean and variance of the earlier cases only (predictable, with one pseudo-case of mean 1/2 and
 * variance 1/4), truncated to [-c / (1 - m), c / m] with c = 1/2 so one case never costs more than
 * half the capital. The bet's sign is free, so one process tests both directions (no hedge halving
 * the wealth). Under "the mean is m" each factor has expectation 1, so K(m) is a nonnegative
 * martingale and by Ville's inequality it ever reaches 1/alpha with probability <= alpha. The
 * confidence sequence is the set of m whose capital has never reached 1/alpha (the running
 * intersection), reported as the hull of the grid points still in it.
 */

/** Grid intervals across x in [0, 1]: 0.0005 in x, 0.1 percentage point in d. */
const STEPS = 2000;
/** The grid point of d = 0 (x = 1/2). */
const ZERO = STEPS / 2;
/** Grid steps per percentage point of d. */
const STEPS_PER_PP = STEPS / 200;
/** The truncation c: a bet risks at most this share of the capital on one case. */
const TRUNCATION = 0.5;
/** The pseudo-case the running estimates start from (the paper's prior). */
const PRIOR_MEAN = 0.5;
const PRIOR_VARIANCE = 0.25;
/** Scores averaged over repeats may land a rounding error outside [-1, 1]. */
const SLACK = 1e-9;

/** Candidate means and their bet limits, shared by every sequence (read-only). */
const GRID = new Float64Array(STEPS + 1);
const BET_MAX = new Float64Array(STEPS + 1);
const BET_MIN = new Float64Array(STEPS + 1);
for (let i = 0; i <= STEPS; i++) {
  const m = i / STEPS;
  GRID[i] = m;
  BET_MAX[i] = m > 0 ? TRUNCATION / m : Infinity;
  BET_MIN[i] = m < 1 ? -TRUNCATION / (1 - m) : -Infinity;
}

/** The approximate-GRAPA bet on "the mean is m" at grid point i, truncated. */
function bet(i: number, mean: number, variance: number): number {
  const diff = mean - GRID[i]!;
  const lambda = diff / (variance + diff * diff);
  return lambda > BET_MAX[i]! ? BET_MAX[i]! : lambda < BET_MIN[i]! ? BET_MIN[i]! : lambda;
}

/**
 * Betting confidence sequence (Waudby-Smith & Ramdas 2023) for the mean of a paired per-case
 * difference d in [-1, 1] (closed score - open score; scores in [0, 1], a case's repeats averaged
 * first). Cases must be pushed in an order fixed before their results are known (the run's
 * permutation), never in completion order: a side whose failures arrive late would bias the prefix.
 */
export class GapSequence {
  readonly alpha: number;
  /** Capital per grid point; Infinity marks a point excluded for good (the running intersection). */
  readonly #capital = new Float64Array(STEPS + 1).fill(1);
  readonly #threshold: number;
  #n = 0;
  /** Hull of the grid points still in the sequence. */
  #lo = 0;
  #hi = STEPS;
  /** Set when every point was excluded (probability <= alpha): the last non-empty hull is kept. */
  #empty = false;
  #sum = 0;
  #sumSquares = 0;
  /** Log capital at d = 0, never frozen, and its running maximum. */
  #logWealth = 0;
  #maxLogWealth = 0;

  constructor(opts: { alpha: number }) {
    if (!(opts.alpha > 0 && opts.alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${opts.alpha}`);
    this.alpha = opts.alpha;
    this.#threshold = 1 / opts.alpha;
  }

  /** Cases pushed so far. */
  get n(): number {
    return this.#n;
  }

  /** Add one committed case, in commit order. O(grid), no allocation. */
  push(d: number): void {
    if (!(d >= -1 - SLACK && d <= 1 + SLACK)) throw new RangeError(`a paired difference must be in [-1, 1], got ${d}`);
    const x = d <= -1 ? 0 : d >= 1 ? 1 : (d + 1) / 2;
    const t = this.#n;
    // Predictable estimates: from the cases before this one and the pseudo-case.
    const mean = (PRIOR_MEAN + this.#sum) / (t + 1);
    const variance = (PRIOR_VARIANCE + this.#sumSquares) / (t + 1);
    const capital = this.#capital;
    const threshold = this.#threshold;
    if (!this.#empty) {
      for (let i = this.#lo; i <= this.#hi; i++) {
        const k = capital[i]!;
        if (k >= threshold || i === ZERO) continue;
        const next = k * (1 + bet(i, mean, variance) * (x - GRID[i]!));
        capital[i] = next >= threshold ? Infinity : next;
      }
    }
    // d = 0 in log space: its e-value keeps growing after exclusion and would overflow a product.
    this.#logWealth += Math.log(1 + bet(ZERO, mean, variance) * (x - 0.5));
    if (this.#logWealth > this.#maxLogWealth) this.#maxLogWealth = this.#logWealth;
    if (this.#maxLogWealth >= Math.log(threshold)) capital[ZERO] = Infinity;
    this.#shrink();
    this.#n = t + 1;
    this.#sum += x;
    const mu = (PRIOR_MEAN + this.#sum) / (t + 2);
    this.#sumSquares += (x - mu) * (x - mu);
  }

  #shrink(): void {
    if (this.#empty) return;
    let lo = this.#lo;
    let hi = this.#hi;
    while (lo <= hi && this.#capital[lo] === Infinity) lo++;
    while (hi >= lo && this.#capital[hi] === Infinity) hi--;
    if (lo > hi) this.#empty = true;
    else {
      this.#lo = lo;
      this.#hi = hi;
    }
  }

  /** The running intersection confidence sequence for the mean difference, in percentage points (-100..100). */
  interval(): { low_pp: number; high_pp: number } {
    return { low_pp: (this.#lo - ZERO) / STEPS_PER_PP, high_pp: (this.#hi - ZERO) / STEPS_PER_PP };
  }

  /** The e-value against H0: mean d = 0 (the current capital of the bet on d = 0). */
  eValue(): number {
    return Math.exp(this.#logWealth);
  }

  /** Anytime-valid p-value for H0: mean d = 0: min(1, 1 / running max of eValue). */
  pValue(): number {
    return Math.min(1, Math.exp(-this.#maxLogWealth));
  }
}

/** Replays a whole sequence (resume, reports): same result as pushing each in order. */
export function gapSequence(ds: Iterable<number>, alpha: number): GapSequence {
  const seq = new GapSequence({ alpha });
  for (const d of ds) seq.push(d);
  return seq;
}

/** Why a run stopped asking new cases (`interrupted` is the runner's, not the rule's). */
export type StopReason = 'decided' | 'within_margin' | 'ci_width' | 'n_max';

/** The stop rule a run declared before its first case. */
export interface StopRule {
  /** Total error rate of the verdict. */
  alpha: number;
  /** Stop when the sequence excludes 0 (`--until-decided`). */
  untilDecided: boolean;
  /** Stop when the sequence lies inside +-marginPp (`--margin`). */
  marginPp?: number;
  /** Stop when the sequence is at most this wide (`--until-ci`). */
  targetWidthPp?: number;
  /** No stop before this many committed cases (`--min-cases`). */
  minCases: number;
  /** The suite size or `--limit`. */
  nMax: number;
  /** At nMax a fixed-n paired test decides (`--final-test`). */
  finalTest: boolean;
  /** Suites that each stop on their own: alpha is split evenly over them (Bonferroni). Default 1. */
  suites?: number;
}

/**
 * The sequence's share of alpha. With the final test the sequence runs at alpha/5 and the fixed-n
 * test at nMax at 4 alpha/5: a wrong verdict needs one of the two to err, so the total stays alpha,
 * while most of the fixed test's power is kept for gaps too small to decide early.
 */
export function sequenceAlpha(rule: StopRule): number {
  return (rule.finalTest ? rule.alpha / 5 : rule.alpha) / Math.max(1, rule.suites ?? 1);
}

/** The fixed-n test's share of alpha (0 without the final test). */
export function finalTestAlpha(rule: StopRule): number {
  return rule.finalTest ? (rule.alpha * 4) / 5 / Math.max(1, rule.suites ?? 1) : 0;
}

/**
 * Why to stop now, or undefined to go on; checked after each committed case. `seq` must run at
 * `sequenceAlpha(rule)`. `settled` counts the positions done with, including cases left out (an
 * excluded error on a deciding side), so a suite ends at nMax even when fewer cases entered.
 */
export function stopReason(seq: GapSequence, rule: StopRule, settled = seq.n): StopReason | undefined {
  const last = settled >= rule.nMax;
  if (seq.n > 0 && (seq.n >= rule.minCases || last)) {
    const { low_pp, high_pp } = seq.interval();
    if (rule.untilDecided && (low_pp > 0 || high_pp < 0)) return 'decided';
    if (rule.marginPp !== undefined && low_pp >= -rule.marginPp && high_pp <= rule.marginPp) return 'within_margin';
    if (rule.targetWidthPp !== undefined && high_pp - low_pp <= rule.targetWidthPp) return 'ci_width';
  }
  return last ? 'n_max' : undefined;
}

/**
 * The verdict when the run stopped: the sequence's side when it excludes 0; otherwise, once the run
 * reached nMax (`settled` as in `stopReason`) with the final test, the fixed-n paired test at
 * 4 alpha/5 on the committed cases (closed[i], open[i]: one case's scores, in commit order).
 */
export function sequentialVerdict(
  seq: GapSequence,
  rule: StopRule,
  closed: readonly number[],
  open: readonly number[],
  settled = seq.n,
): ReturnType<typeof verdictOf> {
  const { low_pp, high_pp } = seq.interval();
  if (low_pp > 0) return 'closed_better';
  if (high_pp < 0) return 'open_better';
  if (!rule.finalTest || settled < rule.nMax) return 'no_significant_difference';
  const alpha = finalTestAlpha(rule);
  const fixed = pairedComparison(closed, open, undefined, alpha);
  return fixed ? verdictOf(fixed, alpha) : 'no_significant_difference';
}
