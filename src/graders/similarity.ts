/**
 * `similarity`: how close the output is to a reference text, for free-form answers where
 * exact match is too strict. All metrics work on CJK-aware tokens (see normalize.ts), so a
 * Chinese answer is compared character by character instead of as one giant "word".
 */
import { grade } from './grader.js';
import { errorGrade, optEnum, optNumber, optStringList, referenceTexts, show, type BuiltinGrader } from './builtin.js';
import { characters, normalizeText, tokenize } from './normalize.js';

type SimilarityMetric = 'f1' | 'rouge_l' | 'bleu' | 'levenshtein';
const METRICS = ['f1', 'rouge_l', 'bleu', 'levenshtein'] as const;

function counts(items: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const it of items) m.set(it, (m.get(it) ?? 0) + 1);
  return m;
}

/** Size of the multiset intersection. */
function overlap(a: string[], b: string[]): number {
  const cb = counts(b);
  let n = 0;
  for (const [tok, c] of counts(a)) n += Math.min(c, cb.get(tok) ?? 0);
  return n;
}

function fMeasure(common: number, predicted: number, reference: number): number {
  if (common === 0) return 0;
  const p = common / predicted;
  const r = common / reference;
  return (2 * p * r) / (p + r);
}

const ARTICLES = new Set(['a', 'an', 'the']);

/** SQuAD-style token F1: lower-case, punctuation and English articles dropped, bag of tokens. */
export function tokenF1(output: string, reference: string): number {
  const pred = tokenize(output, { ignoreCase: true }).filter((t) => !ARTICLES.has(t));
  const ref = tokenize(reference, { ignoreCase: true }).filter((t) => !ARTICLES.has(t));
  if (pred.length === 0 || ref.length === 0) return pred.length === ref.length ? 1 : 0;
  return fMeasure(overlap(pred, ref), pred.length, ref.length);
}

function lcsLength(a: string[], b: string[]): number {
  let prev = new Uint32Array(b.length + 1);
  let cur = new Uint32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

/** ROUGE-L F-measure (beta = 1) over lower-cased tokens. */
export function rougeL(output: string, reference: string): number {
  const pred = tokenize(output, { ignoreCase: true });
  const ref = tokenize(reference, { ignoreCase: true });
  if (pred.length === 0 || ref.length === 0) return pred.length === ref.length ? 1 : 0;
  return fMeasure(lcsLength(pred, ref), pred.length, ref.length);
}

function ngrams(tokens: string[], n: number): string[] {
  const out: string[] = [];
  // \u0001 cannot occur inside a token, so joined n-grams never collide.
  for (let i = 0; i + n <= tokens.length; i++) out.push(tokens.slice(i, i + n).join('\u0001'));
  return out;
}

/**
 * Sentence-level BLEU-4 with brevity penalty. Smoothing: add-1 on the numerator and denominator
 * of the 2- to 4-gram precisions (Lin & Och 2004, "BLEU+1"), because a short answer often has no
 * matching 4-gram and unsmoothed BLEU would then be 0 however good it is. Unigram precision is
 * not smoothed: an answer sharing no word with the reference scores 0.
 */
export function bleu(output: string, reference: string): number {
  const cand = tokenize(output, { ignoreCase: true });
  const ref = tokenize(reference, { ignoreCase: true });
  if (cand.length === 0 || ref.length === 0) return cand.length === ref.length ? 1 : 0;
  let logSum = 0;
  for (let n = 1; n <= 4; n++) {
    const c = ngrams(cand, n);
    const matches = overlap(c, ngrams(ref, n));
    if (n === 1 && matches === 0) return 0;
    const p = n === 1 ? matches / c.length : (matches + 1) / (c.length + 1);
    logSum += Math.log(p) / 4;
  }
  const brevity = cand.length >= ref.length ? 1 : Math.exp(1 - ref.length / cand.length);
  return brevity * Math.exp(logSum);
}

/** 1 - edit distance / longer length, on normalised, lower-cased characters (graphemes). */
export function levenshteinSimilarity(output: string, reference: string): number {
  const a = characters(normalizeText(output, { ignoreCase: true }));
  const b = characters(normalizeText(reference, { ignoreCase: true }));
  const longest = Math.max(a.length, b.length);
  if (longest === 0) return 1;
  let prev = Uint32Array.from({ length: b.length + 1 }, (_, j) => j);
  let cur = new Uint32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    [prev, cur] = [cur, prev];
  }
  return 1 - prev[b.length] / longest;
}

const METRIC_FNS: Record<SimilarityMetric, (output: string, reference: string) => number> = {
  f1: tokenF1,
  rouge_l: rougeL,
  bleu,
  levenshtein: levenshteinSimilarity,
};

export const similarity: BuiltinGrader = {
  type: 'similarity',
  description: 'Similarity to a reference (token F1, ROUGE-L, BLEU or Levenshtein), pass at or above a threshold.',
  options: ['metric', 'value', 'threshold'],
  create(options) {
    const metric = optEnum(options, 'metric', METRICS, 'f1');
    const own = optStringList(options, 'value');
    const threshold = optNumber(options, 'threshold', { min: 0, max: 1 }) ?? 0.5;
    const fn = METRIC_FNS[metric];
    return (output, ctx) => {
      const refs = referenceTexts(own, ctx.case);
      if (typeof refs === 'string') return errorGrade(refs);
      // Several references are alternative right answers: the closest one counts.
      let best = -1;
      let bestRef = refs[0];
      for (const ref of refs) {
        const s = fn(output, ref);
        if (s > best) [best, bestRef] = [s, ref];
      }
      const passed = best >= threshold;
      const against = refs.length > 1 ? ` (best of ${refs.length}: ${show(bestRef)})` : '';
      return grade(
        best,
        passed,
        `${metric} ${best.toFixed(3)} ${passed ? '>=' : '<'} ${threshold}${against}`,
        undefined,
        {
          details: { metric, score: best, reference: bestRef },
        },
      );
    };
  },
};
