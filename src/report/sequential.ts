/**
 * PLACEHOLDER for wt-seqstat's module of the same name (issue 27): the interface agreed between the
 * two branches, with a plain hedged-capital betting confidence sequence behind it, so the run
 * integration can be built and tested. wt-seqstat's version replaces this file when merged.
 */

const GRID = 2001;

export class GapSequence {
  private readonly alpha: number;
  private readonly logPlus = new Float64Array(GRID);
  private readonly logMinus = new Float64Array(GRID);
  private readonly excluded = new Uint8Array(GRID);
  private sum = 0;
  private sumSq = 0;
  private count = 0;
  private maxE = 1;

  constructor(opts: { alpha: number }) {
    this.alpha = opts.alpha;
  }

  get n(): number {
    return this.count;
  }

  push(d: number): void {
    const x = (Math.max(-1, Math.min(1, d)) + 1) / 2;
    const mean = (this.sum + 0.5) / (this.count + 1);
    const variance = (this.sumSq - (this.count * (this.sum / Math.max(1, this.count))) ** 2 + 0.25) / (this.count + 1);
    for (let i = 0; i < GRID; i++) {
      const mu = i / (GRID - 1);
      const diff = mean - mu;
      const raw = Math.abs(diff) / (Math.max(1e-6, variance) + diff * diff);
      const lp = Math.min(raw, 0.5 / Math.max(mu, 1e-9));
      const lm = Math.min(raw, 0.5 / Math.max(1 - mu, 1e-9));
      this.logPlus[i] += Math.log1p(lp * (x - mu));
      this.logMinus[i] += Math.log1p(-lm * (x - mu));
      if (this.wealthAt(i) >= 1 / this.alpha) this.excluded[i] = 1;
    }
    this.sum += x;
    this.sumSq += x * x;
    this.count++;
    this.maxE = Math.max(this.maxE, this.eValue());
  }

  private wealthAt(i: number): number {
    return 0.5 * Math.exp(this.logPlus[i]) + 0.5 * Math.exp(this.logMinus[i]);
  }

  interval(): { low_pp: number; high_pp: number } {
    let lo = 0;
    while (lo < GRID - 1 && this.excluded[lo]) lo++;
    let hi = GRID - 1;
    while (hi > lo && this.excluded[hi]) hi--;
    const pp = (i: number) => ((2 * i) / (GRID - 1) - 1) * 100;
    return { low_pp: pp(lo), high_pp: pp(hi) };
  }

  eValue(): number {
    return this.wealthAt((GRID - 1) / 2);
  }

  pValue(): number {
    return Math.min(1, 1 / this.maxE);
  }
}

export function gapSequence(ds: Iterable<number>, alpha: number): GapSequence {
  const s = new GapSequence({ alpha });
  for (const d of ds) s.push(d);
  return s;
}
