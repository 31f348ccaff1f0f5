/**
 * `exact`: the whole output, normalised, equals the expected answer (or one of a list of them).
 * Normalisation forgives what models add without meaning anything: spacing, case, a final period.
 */
import { grade } from './grader.js';
import { errorGrade, optBool, optStringList, referenceTexts, show, type BuiltinGrader } from './builtin.js';
import { normalizeText } from './normalize.js';

export const exact: BuiltinGrader = {
  type: 'exact',
  description:
    'Normalised output equals the expected text (NFKC, whitespace, trailing punctuation; case-insensitive by default).',
  options: ['value', 'ignore_case'],
  create(options) {
    const own = optStringList(options, 'value');
    const ignoreCase = optBool(options, 'ignore_case', true);
    return (output, ctx) => {
      const refs = referenceTexts(own, ctx.case);
      if (typeof refs === 'string') return errorGrade(refs);
      const got = normalizeText(output, { ignoreCase });
      const hit = refs.find((r) => normalizeText(r, { ignoreCase }) === got);
      if (hit !== undefined) return grade(1, true, `equals ${show(hit)}`, got);
      const want = refs.length === 1 ? show(refs[0]) : `one of ${refs.map(show).join(', ')}`;
      return grade(0, false, `expected ${want}, got ${show(got)}`, got);
    };
  },
};
