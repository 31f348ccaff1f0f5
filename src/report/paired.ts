import { mcnemarExact, pairedBootstrapDiffCI, pairedPermutationTest } from './stats.js';

export const ALPHA = 0.05;
export const BOOTSTRAP_RESAMPLES = 2000;

export interface PairedResult {
  meanA: number;
  meanB: number;
  /** Interval of mean(a - b), as fractions. */
  ci: { low: number; high: number };
  p: number;
  test: 'mcnemar_exact' | 'permutation';
  n: number;
}

/**
 * Compares two systems on the same cases. Interval: paired percentile bootstrap of the mean
 * difference (cases resampled with their pairs, 2,000 resamples, seed 1). Test: exact McNemar
 * on the discordant pairs when every score is 0 or 1, else a paired sign-flip permutation test.
 */
export function pairedComparison(
  a: readonly number[],
  b: readonly number[],
  binary: boolean,
): PairedResult | undefined {
  const n = a.length;
  if (!n) return undefined;
  let sumA = 0;
  let sumB = 0;
  let onlyA = 0;
  let onlyB = 0;
  for (let i = 0; i < n; i++) {
    sumA += a[i];
    sumB += b[i];
    if (a[i] === 1 && b[i] === 0) onlyA++;
    else if (a[i] === 0 && b[i] === 1) onlyB++;
  }
  const ci = pairedBootstrapDiffCI(a, b, { resamples: BOOTSTRAP_RESAMPLES, seed: 1 });
  const p = binary ? mcnemarExact(onlyA, onlyB) : pairedPermutationTest(a, b, { seed: 1 });
  return { meanA: sumA / n, meanB: sumB / n, ci, p, test: binary ? 'mcnemar_exact' : 'permutation', n };
}

/** Whether a per-case [sum, count, passed] entry is a single pass/fail answer. */
export function isBinaryEntry(s: readonly [number, number, number]): boolean {
  const v = s[0] / s[1];
  return s[1] === 1 && (v === 0 || v === 1) && (v === 1) === (s[2] === 1);
}
