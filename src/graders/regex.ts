/**
 * `regex`: the output matches a pattern; optionally a capture group must equal the expected
 * answer, or the number of matches must lie within bounds ("exactly 3 bullet points").
 */
import { grade, GraderOptionError } from './grader.js';
import { optNumber, reqString, show, type BuiltinGrader } from './builtin.js';
import { normalizeText } from './normalize.js';

const FLAGS = 'gimsuy';

function compile(pattern: string, flags: string): RegExp {
  try {
    return new RegExp(pattern, flags);
  } catch (e) {
    throw new GraderOptionError(`invalid regex ${show(pattern)}: ${(e as Error).message}`, 'pattern');
  }
}

function readFlags(options: Record<string, unknown>): string {
  const v = options.flags;
  if (v === undefined) return '';
  const ok = typeof v === 'string' && [...v].every((c, i) => FLAGS.includes(c) && v.indexOf(c) === i);
  if (!ok) throw new GraderOptionError(`\`flags\` must be distinct letters from "${FLAGS}", got ${show(v)}`, 'flags');
  return v;
}

/** Checks the group exists now, rather than failing on every output later. */
function readGroup(options: Record<string, unknown>, re: RegExp): number | string | undefined {
  const g = options.group;
  if (g === undefined) return undefined;
  // Appending `|` makes the pattern match the empty string, so exec reveals its group layout.
  const layout = new RegExp(`${re.source}|`, re.flags.replace('y', '')).exec('');
  const groupCount = layout ? layout.length - 1 : 0;
  if (typeof g === 'number' && Number.isInteger(g) && g >= 0) {
    if (g > groupCount)
      throw new GraderOptionError(`\`group\` ${g} does not exist: the pattern has ${groupCount} group(s)`, 'group');
    return g;
  }
  if (typeof g === 'string' && g !== '') {
    if (!layout?.groups || !(g in layout.groups))
      throw new GraderOptionError(`\`group\` ${show(g)} is not a named group of the pattern`, 'group');
    return g;
  }
  throw new GraderOptionError(`\`group\` must be a group number or name, got ${show(g)}`, 'group');
}

function groupOf(m: RegExpMatchArray, group: number | string | undefined): string | undefined {
  if (group === undefined) return m[0];
  return typeof group === 'number' ? m[group] : m.groups?.[group];
}

export const regex: BuiltinGrader = {
  type: 'regex',
  description:
    'Output matches a regular expression; optionally a group equals expected, or the match count is within bounds.',
  options: ['pattern', 'flags', 'group', 'min_count', 'max_count'],
  create(options) {
    const pattern = reqString(options, 'pattern');
    const flags = readFlags(options);
    const re = compile(pattern, flags);
    const group = readGroup(options, re);
    const minCount = optNumber(options, 'min_count', { integer: true, min: 0 });
    const maxCount = optNumber(options, 'max_count', { integer: true, min: 0 });
    if (minCount !== undefined && maxCount !== undefined && minCount > maxCount) {
      throw new GraderOptionError(
        `\`min_count\` (${minCount}) is greater than \`max_count\` (${maxCount})`,
        'min_count',
      );
    }
    const counting = minCount !== undefined || maxCount !== undefined;
    const globalRe = new RegExp(pattern, flags.includes('g') ? flags : `${flags}g`);
    const matchOnce = new RegExp(pattern, flags.replace('g', ''));

    return (output, ctx) => {
      if (counting) {
        const matches = [...output.matchAll(globalRe)];
        const n = matches.length;
        const bounds = `${minCount ?? 0}..${maxCount ?? '∞'}`;
        const first = matches[0] ? groupOf(matches[0], group) : undefined;
        const ok = (minCount === undefined || n >= minCount) && (maxCount === undefined || n <= maxCount);
        return grade(
          ok ? 1 : 0,
          ok,
          `${n} match(es) of /${pattern}/, want ${bounds}`,
          String(n),
          first === undefined ? undefined : { details: { first } },
        );
      }
      const m = output.match(matchOnce);
      if (!m) return grade(0, false, `no match for /${pattern}/`);
      const got = groupOf(m, group);
      const expected = ctx.case.expected;
      if (group !== undefined && expected !== undefined && expected !== null) {
        if (got === undefined) return grade(0, false, `group ${show(group)} did not take part in the match`);
        const want = typeof expected === 'string' ? expected : (JSON.stringify(expected) ?? String(expected));
        const ok = normalizeText(got, { ignoreCase: true }) === normalizeText(want, { ignoreCase: true });
        return grade(
          ok ? 1 : 0,
          ok,
          ok
            ? `group ${show(group)} equals ${show(want)}`
            : `group ${show(group)} is ${show(got)}, expected ${show(want)}`,
          got,
        );
      }
      return grade(1, true, `matches /${pattern}/`, got);
    };
  },
};
