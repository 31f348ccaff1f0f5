/**
 * How the `best` scope avoids the winner's curse, and how category rows share one error rate.
 *
 * `best` with more than one model on a side picks the best closed and the best open model on one
 * half of the cases (choosesPair) and tests that pair on the other half. The pick
 * never sees the cases it is tested on, so the test keeps its level and the reported gap is not
 * biased toward the luckiest model; the price is half the cases for that row. A max-over-pairs
 * permutation test would keep every case but fixes only the p-value, not the inflated gap and
 * interval the row prints. With one model per side nothing is chosen and every case is used.
 */
import type { CaseRow } from './aggregate.js';
import { holm } from './score-tests.js';

/**
 * Whether a case belongs to the half `best` chooses its pair on (the other half tests it): a bit of
 * the FNV-1a hash of suite and case id. A hash, not the case's position, so that a suite whose
 * cases alternate in kind (or a model right on every other case) cannot line up with the split;
 * fixed, so a report is rebuilt bit for bit.
 */
export function choosesPair(row: Pick<CaseRow, 'suite' | 'caseId'>): boolean {
  let h = 0x811c9dc5;
  const key = `${row.suite}\u0000${row.caseId}`;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return ((h >>> 0) & 0x100) === 0;
}

/** The model with the highest mean per-case score on the choosing half (first listed wins a tie). */
export function bestOnChoosingHalf(cases: readonly CaseRow[], models: readonly string[]): string {
  let best = models[0];
  let top = -Infinity;
  for (const m of models) {
    let sum = 0;
    let n = 0;
    for (const row of cases) {
      const e = choosesPair(row) ? row.entry(m) : undefined;
      if (e) {
        sum += e[0] / e[1];
        n++;
      }
    }
    const score = n ? sum / n : -1;
    if (score > top) [best, top] = [m, score];
  }
  return best;
}

/** The note a `best` row carries about how its pair was chosen. */
export function bestNote(selected: boolean): string {
  return selected
    ? 'best pair chosen on half the cases, tested on the other half (no winner’s curse)'
    : 'one model per side: nothing chosen';
}

/** The fields of a gap row the adjustment reads and sets (gap.ts's GapRow has them). */
interface CategoryRow {
  suite: string;
  category: string;
  scope: string;
  closed_model: string;
  open_model: string;
  p_value: number;
  p_adjusted: number;
  verdict: 'closed_better' | 'open_better' | 'no_significant_difference';
  note: string;
}

/**
 * Holm's adjustment over the category rows of each suite, scope and pair (one family each):
 * `p_adjusted` and the verdict use it; a suite's `all` row keeps its own p (p_adjusted = p_value).
 */
export function adjustCategories(rows: CategoryRow[], alpha: number): void {
  const families = new Map<string, CategoryRow[]>();
  for (const r of rows) {
    if (r.category === 'all') {
      r.p_adjusted = r.p_value;
      continue;
    }
    const key = `${r.suite}\u0000${r.scope}\u0000${r.closed_model}\u0000${r.open_model}`;
    const list = families.get(key) ?? [];
    list.push(r);
    families.set(key, list);
  }
  for (const list of families.values()) {
    const adjusted = holm(list.map((r) => r.p_value));
    list.forEach((r, i) => {
      r.p_adjusted = adjusted[i];
      if (!(adjusted[i] < alpha)) r.verdict = 'no_significant_difference';
      r.note = [r.note, `exploratory: Holm-adjusted over ${list.length} categories`].filter(Boolean).join('; ');
    });
  }
}

/** Pre-declared pairs lead (they were chosen before the data), then group means, then the best pair. */
export function headlineOrder<R extends { scope: string }>(rows: readonly R[]): R[] {
  const rank = (scope: string) => (scope === 'pair' ? 0 : scope === 'mean' ? 1 : 2);
  return [...rows].sort((a, b) => rank(a.scope) - rank(b.scope));
}

/** How the headline names a scope. */
export const SCOPE_WORDS: Record<string, string> = {
  pair: 'declared pair',
  mean: 'group means',
  best: 'best pair, chosen on half the cases and tested on the other half',
};
