/**
 * `contains`: the output contains one (mode `any`) or every (mode `all`) of the given texts.
 * Both sides are NFKC-normalised with whitespace collapsed, so a full-width or line-wrapped
 * answer still counts; case matters unless `ignore_case` is set, since names and codes are cased.
 */
import { grade } from './grader.js';
import { errorGrade, optBool, optEnum, optStringList, referenceTexts, show, type BuiltinGrader } from './builtin.js';
import { normalizeText } from './normalize.js';

export const contains: BuiltinGrader = {
  type: 'contains',
  description: 'Output contains any (or all) of the given texts.',
  options: ['value', 'mode', 'ignore_case'],
  create(options) {
    const own = optStringList(options, 'value');
    const mode = optEnum(options, 'mode', ['any', 'all'] as const, 'any');
    const ignoreCase = optBool(options, 'ignore_case', false);
    const norm = (s: string): string => normalizeText(s, { ignoreCase, stripTrailingPunctuation: false });
    return (output, ctx) => {
      const needles = referenceTexts(own, ctx.case);
      if (typeof needles === 'string') return errorGrade(needles);
      const haystack = norm(output);
      const found = needles.filter((n) => haystack.includes(norm(n)));
      const missing = needles.filter((n) => !found.includes(n));
      const extracted = found.length > 0 ? found.join(', ') : undefined;
      if (mode === 'any') {
        return found.length > 0
          ? grade(1, true, `contains ${show(found[0])}`, extracted)
          : grade(0, false, `contains none of ${needles.map(show).join(', ')}`);
      }
      // Partial credit for `all`, so a report can tell "3 of 4 keywords" from "none".
      const score = found.length / needles.length;
      return missing.length === 0
        ? grade(1, true, `contains all ${needles.length}`, extracted)
        : grade(score, false, `missing ${missing.map(show).join(', ')}`, extracted);
    };
  },
};
