import { gradeSafely, modelsAsked } from '../graders/index.js';
import type { Case } from '../types.js';
import { CheckError, checkMatches, evaluateCheck } from './check.js';
import type { Suite } from './load.js';

interface ValidationResult {
  problems: string[];
  checks: number;
  examples: number;
}

const LETTERS = 'ABCDEFGHIJ';

/**
 * What `gapbench validate` checks beyond loading: each `check` evaluates to `expected`; each
 * example answer passes (or fails) its case's grader; a multiple-choice `expected` names an
 * option the case has. No model is called (a judge grader's examples are skipped).
 */
export async function validateSuite(suite: Suite): Promise<ValidationResult> {
  const problems: string[] = [];
  let checks = 0;
  let examples = 0;
  for (const c of suite.cases) {
    if (c.check !== undefined) {
      checks++;
      const p = checkProblem(c);
      if (p) problems.push(p);
    }
    if (c.grader.type === 'choice') {
      const p = choiceProblem(c);
      if (p) problems.push(`case ${c.id}: ${p}`);
    }
    if (c.examples && !modelsAsked(c.grader).length) {
      const fn = suite.graderOf(c);
      for (const [want, list] of [
        ['pass', c.examples.pass],
        ['fail', c.examples.fail],
      ] as const) {
        for (const text of list ?? []) {
          examples++;
          const g = await gradeSafely(fn, text, { case: c });
          if (g.error || g.passed !== (want === 'pass')) {
            problems.push(
              `case ${c.id}: the ${want} example ${g.passed ? 'passed' : 'failed'} (${g.reason.slice(0, 160)})`,
            );
          }
        }
      }
    }
  }
  return { problems, checks, examples };
}

/** A case whose `check` does not evaluate to its expected answer (undefined when it does, or has none). */
export function checkProblem(c: Case): string | undefined {
  if (c.check === undefined) return undefined;
  try {
    const v = evaluateCheck(c.check);
    return checkMatches(v, c.expected)
      ? undefined
      : `case ${c.id}: check '${c.check}' = ${v}, but expected is ${JSON.stringify(c.expected)}`;
  } catch (e) {
    return `case ${c.id}: check '${c.check}': ${e instanceof CheckError ? e.message : String(e)}`;
  }
}

function choiceProblem(c: Case): string | undefined {
  const e =
    typeof c.expected === 'string'
      ? c.expected
          .trim()
          .replace(/^\(?([A-Ja-j])[).]?$/, '$1')
          .toUpperCase()
      : '';
  if (!e || e.length !== 1 || !LETTERS.includes(e))
    return `expected ${JSON.stringify(c.expected)} is not an option letter A-J`;
  let optionKeys = Object.keys(c.vars).filter((k) => /^[A-J]$/.test(k));
  // A literal prompt lists its options itself: "A. ...", "(B) ...", "C) ...".
  if (!optionKeys.length) optionKeys = [...c.prompt.matchAll(/^\s*\(?([A-J])[.)）．]\s/gm)].map((m) => m[1]);
  if (optionKeys.length && !optionKeys.includes(e))
    return `expected ${e} is not one of the case's options (${optionKeys.sort().join(', ')})`;
  return undefined;
}
