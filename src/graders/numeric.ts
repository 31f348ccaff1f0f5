import type { Grade } from '../types.js';
import { grade, GraderOptionError, type GraderDefinition } from './grader.js';
import { extractFinalNumber, parseNumber } from './extract.js';

/** Prints a number without float noise: 0.30000000000000004 -> 0.3. */
function show(n: number): string {
  // Whole numbers of up to 12 digits print as they are (the common case, and toPrecision is slow).
  if (Number.isInteger(n) && Math.abs(n) < 1e12) return String(n);
  return String(Number(n.toPrecision(12)));
}

function nonNegative(options: Record<string, unknown>, name: string): number | undefined {
  const v = options[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new GraderOptionError(`Expected \`${name}\` to be a number >= 0, got ${JSON.stringify(v)}`, name);
  }
  return v;
}

/** Parsed gold answers: every repeat and every model of a case grades against the same one. */
const parsedGold = new Map<string, number | null>();

/** A gold answer as a number: numbers as is, strings parsed like model output ("2,125", "# 18", "3/4"). */
function toExpected(value: unknown): number | null {
  if (typeof value === 'string') {
    let n = parsedGold.get(value);
    if (n === undefined) {
      if (parsedGold.size >= 4096) parsedGold.clear();
      parsedGold.set(value, (n = parseNumber(value)));
    }
    return n;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  return null;
}

/**
 * `numeric`: reads the model's final number (JSON `answer`, `####`, `\boxed{}`, "the answer is",
 * else the last number) and compares it with the expected number.
 *
 * Options: `tolerance` absolute, default 1e-6; `relative_tolerance` (optional) also passes when
 * |value - expected| <= relative_tolerance * |expected|; `expected` overrides the case's.
 */
export const numeric: GraderDefinition & { options: readonly string[] } = {
  type: 'numeric',
  options: ['tolerance', 'relative_tolerance', 'expected'],
  description: 'Final number in the output equals the expected number (within a tolerance).',
  create(options) {
    const tolerance = nonNegative(options, 'tolerance') ?? 1e-6;
    const relative = nonNegative(options, 'relative_tolerance');
    let fixed: number | undefined;
    if (options.expected !== undefined) {
      const parsed = toExpected(options.expected);
      if (parsed === null) {
        throw new GraderOptionError(
          `Expected \`expected\` to be a number, got ${JSON.stringify(options.expected)}`,
          'expected',
        );
      }
      fixed = parsed;
    }
    return (output, ctx): Grade => {
      const expected = fixed ?? toExpected(ctx.case.expected);
      if (expected === null) {
        const given =
          ctx.case.expected === undefined
            ? 'no expected answer'
            : `expected ${JSON.stringify(ctx.case.expected)} is not a number`;
        return grade(0, false, `cannot grade: case ${ctx.case.id} has ${given}`, undefined, { error: true });
      }
      const found = extractFinalNumber(output);
      if (found === null) return grade(0, false, 'no number found', undefined, { details: { expected } });
      const diff = Math.abs(found.value - expected);
      const passed = diff <= tolerance || (relative !== undefined && diff <= relative * Math.abs(expected));
      const read = `read ${show(found.value)} from ${found.how}`;
      const reason = passed
        ? `${read}; expected ${show(expected)}`
        : `${read}; expected ${show(expected)} (off by ${show(diff)})`;
      return grade(passed ? 1 : 0, passed, reason, found.text, {
        details: { value: found.value, expected, how: found.how },
      });
    };
  },
};
