import type { Case, Grade } from '../types.js';
import { isRecord } from '../util/record.js';
import { grade, GraderOptionError, type GraderDefinition } from './grader.js';
import { extractChoice } from './extract.js';

function lettersOption(value: unknown): string {
  if (value === undefined) return 'ABCDEFGHIJ';
  if (typeof value !== 'string' || !/^[A-Za-z]{2,26}$/.test(value)) {
    throw new GraderOptionError(
      `Expected \`letters\` to be 2 to 26 letters A-Z (e.g. "ABCD"), got ${JSON.stringify(value)}`,
      'letters',
    );
  }
  const upper = value.toUpperCase();
  if (new Set(upper).size !== upper.length) {
    throw new GraderOptionError(
      `Expected \`letters\` to have no repeated letter, got ${JSON.stringify(value)}`,
      'letters',
    );
  }
  return upper;
}

/** Option texts from a case variable: a list `["Paris", ...]` or a map `{A: "Paris", ...}`. */
function optionTexts(c: Case, field: string | undefined, letters: string): string[] | undefined {
  if (field === undefined) return undefined;
  const v = c.vars[field];
  if (Array.isArray(v)) return v.map((x) => String(x));
  if (isRecord(v)) return [...letters].map((l) => String(v[l] ?? v[l.toLowerCase()] ?? ''));
  return undefined;
}

/** The expected letter from 'C', '(C)', 'c', 'C.', or (with option texts) the text of the right option. */
function expectedLetter(expected: unknown, letters: string, options: string[] | undefined): string | null {
  if (typeof expected !== 'string') return null;
  const m = /^\s*[([]?\s*([A-Za-z])\s*[)\]]?\s*[.:]?\s*$/.exec(expected);
  if (m && letters.includes(m[1].toUpperCase())) return m[1].toUpperCase();
  const i = options?.findIndex((o) => o.trim().toLowerCase() === expected.trim().toLowerCase()) ?? -1;
  return i >= 0 && i < letters.length ? letters[i] : null;
}

/**
 * `choice`: the multiple-choice letter the model picked equals the expected letter.
 *
 * Options: `letters`, the valid letters, default "ABCDEFGHIJ"; `options_field`, the case variable
 * holding the option texts, so an output that names the option instead of its letter still counts.
 */
export const choice: GraderDefinition & { options: readonly string[] } = {
  type: 'choice',
  options: ['letters', 'options_field'],
  description: 'Chosen multiple-choice letter equals the expected letter.',
  create(options) {
    const letters = lettersOption(options.letters);
    const field = options.options_field;
    if (field !== undefined && (typeof field !== 'string' || field === '')) {
      throw new GraderOptionError(
        `Expected \`options_field\` to be a case variable name, got ${JSON.stringify(field)}`,
        'options_field',
      );
    }
    return (output, ctx): Grade => {
      const texts = optionTexts(ctx.case, field, letters);
      const expected = expectedLetter(ctx.case.expected, letters, texts);
      if (expected === null) {
        return grade(
          0,
          false,
          `cannot grade: case ${ctx.case.id} expects ${JSON.stringify(ctx.case.expected)}, not one of ${letters}`,
          undefined,
          {
            error: true,
          },
        );
      }
      const found = extractChoice(output, letters, texts);
      if (found === null)
        return grade(0, false, `no choice among ${letters} found`, undefined, { details: { expected } });
      const passed = found.letter === expected;
      return grade(
        passed ? 1 : 0,
        passed,
        `read ${found.letter} from ${found.how}; expected ${expected}`,
        found.letter,
        {
          details: { how: found.how, expected },
        },
      );
    };
  },
};
