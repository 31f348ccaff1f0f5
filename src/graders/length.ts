/**
 * `length`: IFEval-style size constraints ("at most 50 words", "exactly 3 bullet points",
 * "写不少于200字"). Counting rules are written out below because they decide the verdict.
 */
import { grade, GraderOptionError } from './grader.js';
import { optNumber, reqString, show, type BuiltinGrader } from './builtin.js';
import { characters, countWords } from './normalize.js';

type LengthUnit = 'words' | 'chars' | 'sentences' | 'lines' | 'paragraphs' | 'bullets';
const UNITS = ['words', 'chars', 'sentences', 'lines', 'paragraphs', 'bullets'] as const;

/** A terminator run; a dot between digits (3.5) is a decimal point, not the end of a sentence. */
const SENTENCE_END = /(?:(?<!\d)\.|\.(?!\d)|[!?。！？])+/u;

/** `- x`, `* x`, `+ x`, `• x`, `1. x`, `1) x` (a marker must be followed by a space, so `-5°C` is not one). */
const BULLET = /^\s*(?:[-*+•]|\d+[.)])\s+\S/u;

export function countUnits(text: string, unit: LengthUnit): number {
  const lines = text.split(/\r?\n/);
  switch (unit) {
    case 'words':
      return countWords(text);
    case 'chars':
      return characters(text).filter((c) => !/^\s+$/u.test(c)).length;
    case 'sentences':
      // A fragment counts only if it has a letter or digit, so "..." or a lone emoji is not a sentence.
      return text.split(SENTENCE_END).filter((s) => /[\p{L}\p{N}]/u.test(s)).length;
    case 'lines':
      return lines.filter((l) => l.trim() !== '').length;
    case 'paragraphs':
      // IFEval separates paragraphs with blank lines or a `***` divider.
      return text.split(/\r?\n\s*\r?\n|^\s*\*\*\*\s*$/mu).filter((p) => p.trim() !== '').length;
    case 'bullets':
      return lines.filter((l) => BULLET.test(l)).length;
  }
}

export const length: BuiltinGrader = {
  type: 'length',
  description:
    'Counts words (CJK characters count one each), chars, sentences, lines, paragraphs or bullets against min/max.',
  options: ['unit', 'min', 'max'],
  create(options) {
    // No default unit: "max: 100" is ambiguous between words and characters, and the two differ 5x.
    const unit = reqString(options, 'unit') as LengthUnit;
    if (!UNITS.includes(unit))
      throw new GraderOptionError(`\`unit\` must be one of ${UNITS.join(', ')}, got ${show(unit)}`, 'unit');
    const min = optNumber(options, 'min', { min: 0 });
    const max = optNumber(options, 'max', { min: 0 });
    if (min === undefined && max === undefined) throw new GraderOptionError('give `min`, `max` or both', 'min');
    if (min !== undefined && max !== undefined && min > max)
      throw new GraderOptionError(`\`min\` (${min}) is greater than \`max\` (${max})`, 'min');
    const bounds =
      min === max
        ? `exactly ${min}`
        : [min !== undefined ? `>= ${min}` : '', max !== undefined ? `<= ${max}` : ''].filter(Boolean).join(' and ');
    return (output) => {
      const n = countUnits(output, unit);
      const passed = (min === undefined || n >= min) && (max === undefined || n <= max);
      return grade(passed ? 1 : 0, passed, `${n} ${unit}, want ${bounds}`, String(n));
    };
  },
};
