/**
 * `judge`: another model grades the output against a rubric (LLM-as-judge).
 *
 * The judge is asked for JSON, but judges (especially small local ones) also answer in prose,
 * so the parser accepts common prose forms. It never guesses: a reply with no verdict, or with
 * contradicting ones, is an error grade, counted as a failure and visible in the record.
 */
import type { Case, ChatMessage } from '../types.js';
import { grade, GraderOptionError } from './grader.js';
import { isRecord } from '../util/record.js';
import { errorGrade, optNumber, reqString, type BuiltinGrader } from './builtin.js';
import { findJson } from './json.js';

function judgeMessages(rubric: string, testCase: Case, output: string, scaleMax?: number): ChatMessage[] {
  const scale = scaleMax === undefined ? 'a number from 0 to 1' : `a number from 0 to ${scaleMax}`;
  const system = [
    'You are a strict, impartial grader. You judge one response against a rubric.',
    'Judge only what the rubric asks; ignore style unless the rubric mentions it.',
    `Reply with only a JSON object: {"verdict": "PASS" or "FAIL", "score": ${scale}, "reason": "one short sentence"}.`,
  ].join('\n');
  // A conversation: the judge sees the turns before the answer, not only the last question.
  const turns = testCase.messages?.filter((m) => m.role !== 'system');
  const question =
    turns && turns.length > 1
      ? `## Conversation so far\n${turns.map((m) => `[${m.role}]\n${m.content}`).join('\n\n')}`
      : `## Question\n${testCase.prompt}`;
  const parts = [`## Rubric\n${rubric}`, question];
  if (testCase.expected !== undefined && testCase.expected !== null) {
    const exp = typeof testCase.expected === 'string' ? testCase.expected : JSON.stringify(testCase.expected);
    parts.push(`## Reference answer\n${exp}`);
  }
  parts.push(
    `## Response to grade\n<response>\n${output}\n</response>`,
    'Grade the response now. Reply with the JSON object only.',
  );
  return [
    { role: 'system', content: system },
    { role: 'user', content: parts.join('\n\n') },
  ];
}

type Verdict = 'PASS' | 'FAIL';
const NUM = String.raw`(\d+(?:\.\d+)?)`;
type ParsedVerdict = { ok: true; verdict?: Verdict; score?: number; reason?: string } | { ok: false; problem: string };

function verdictWord(word: string): Verdict | undefined {
  const w = word.replace(/[^\p{L}]/gu, '').toLowerCase();
  if (/^(pass|passed|yes|correct|true|通过|合格)$/.test(w)) return 'PASS';
  if (/^(fail|failed|no|incorrect|false|不通过|未通过|不合格)$/.test(w)) return 'FAIL';
  return undefined;
}

/** A score on the judge's scale -> [0, 1]; undefined when it does not fit the scale. */
function scaled(value: number, denominator: number | undefined, scaleMax: number | undefined): number | undefined {
  const max = denominator ?? scaleMax ?? 1;
  const s = value / max;
  return Number.isFinite(s) && s >= 0 && s <= 1 ? s : undefined;
}

function fromJson(obj: Record<string, unknown>, scaleMax: number | undefined): ParsedVerdict | undefined {
  const v = obj.verdict ?? obj.pass ?? obj.passed ?? obj.result;
  const rawScore = obj.score ?? obj.rating;
  if (v === undefined && rawScore === undefined) return undefined;
  let verdict: Verdict | undefined;
  if (typeof v === 'boolean') verdict = v ? 'PASS' : 'FAIL';
  else if (typeof v === 'string') verdict = verdictWord(v);
  if (v !== undefined && verdict === undefined)
    return { ok: false, problem: `unrecognised verdict ${JSON.stringify(v)}` };
  let score: number | undefined;
  if (rawScore !== undefined && rawScore !== null) {
    // Judges sometimes write the score as text: "0.8", "8/10", "8 out of 10".
    const m =
      typeof rawScore === 'string'
        ? new RegExp(`^\\s*${NUM}\\s*(?:(?:/|out of)\\s*${NUM}\\s*)?$`, 'i').exec(rawScore)
        : null;
    if (typeof rawScore === 'number') score = scaled(rawScore, undefined, scaleMax);
    else if (m) score = scaled(Number(m[1]), m[2] === undefined ? undefined : Number(m[2]), scaleMax);
    if (score === undefined)
      return { ok: false, problem: `score ${JSON.stringify(rawScore)} is not on the scale 0..${scaleMax ?? 1}` };
  }
  const reason =
    typeof obj.reason === 'string' ? obj.reason : typeof obj.explanation === 'string' ? obj.explanation : undefined;
  return { ok: true, verdict, score, reason };
}

const LABEL = String.raw`(?:score|rating|grade|分数|得分|评分|打分)`;

function proseScore(text: string, scaleMax: number | undefined): number | undefined | 'bad' {
  // Most specific first: "Score: 8/10", then "Score: 0.7", then a bare "7 out of 10".
  const patterns: Array<[RegExp, boolean]> = [
    [new RegExp(`${LABEL}\\s*(?:is)?\\s*[:：=]?\\s*\\**\\s*${NUM}\\s*(?:/|out of)\\s*${NUM}`, 'i'), true],
    [new RegExp(`${LABEL}\\s*(?:is)?\\s*[:：=]?\\s*\\**\\s*${NUM}`, 'i'), false],
    [new RegExp(`${NUM}\\s*(?:/|out of)\\s*${NUM}`, 'i'), true],
  ];
  for (const [re, hasDenominator] of patterns) {
    const m = re.exec(text);
    if (!m) continue;
    const s = scaled(Number(m[1]), hasDenominator ? Number(m[2]) : undefined, scaleMax);
    return s === undefined ? 'bad' : s;
  }
  return undefined;
}

function proseVerdict(text: string): Verdict | undefined | 'contradictory' {
  const found = new Set<Verdict>();
  const labelled =
    /(?:verdict|decision|判定|结论|结果|评判|判断)\s*[:：]?\s*[*_"'`]*\s*(pass(?:ed)?|fail(?:ed)?|不通过|未通过|通过|不合格|合格)/gi;
  for (const m of text.matchAll(labelled)) found.add(verdictWord(m[1]) as Verdict);
  if (found.size === 0) {
    // A line holding only the verdict, e.g. "**PASS**" or "不通过。".
    for (const line of text.split(/\r?\n/)) {
      const v = verdictWord(line.replace(/[\s*_#"'`.!。！:：]/g, ''));
      if (v && /pass|fail|通过|合格/i.test(line)) found.add(v);
    }
  }
  if (found.size === 0) {
    // Upper case only: "passes the threshold" in a sentence is not a verdict, "PASS" is.
    for (const m of text.matchAll(/\b(PASS|FAIL)(?:ED)?\b/g)) found.add(m[1] as Verdict);
    // 通过 is also the preposition "by means of" (通过分析); only a sentence-final one is a verdict.
    for (const m of text.matchAll(/([不未]?)(?:通过|合格)(?=\s*(?:[。！!.,，;；]|$))/gmu))
      found.add(m[1] ? 'FAIL' : 'PASS');
  }
  if (found.size > 1) return 'contradictory';
  return found.values().next().value;
}

/** Reads a judge's reply. Exported for tests. */
export function parseVerdict(raw: string, scaleMax?: number): ParsedVerdict {
  const js = findJson(raw);
  if (js && isRecord(js.value)) {
    const parsed = fromJson(js.value, scaleMax);
    // When the judge did answer in JSON, its prose reason may mention "FAIL" in passing; ignore the prose.
    if (parsed) return parsed;
  }
  const verdict = proseVerdict(raw);
  if (verdict === 'contradictory') return { ok: false, problem: 'the judge gave both PASS and FAIL' };
  const score = proseScore(raw, scaleMax);
  if (score === 'bad') return { ok: false, problem: `the judge's score does not fit the scale 0..${scaleMax ?? 1}` };
  if (verdict === undefined && score === undefined)
    return { ok: false, problem: 'no verdict or score in the judge reply' };
  return { ok: true, verdict, score };
}

export const judge: BuiltinGrader = {
  type: 'judge',
  description: 'Another model grades the output against a rubric (LLM-as-judge).',
  options: ['judge', 'rubric', 'threshold', 'scale_max'],
  models: (options) => (typeof options.judge === 'string' ? [options.judge] : []),
  create(options) {
    const judgeRef = reqString(options, 'judge');
    const rubric = reqString(options, 'rubric');
    const threshold = optNumber(options, 'threshold', { min: 0, max: 1 }) ?? 0.5;
    const scaleMax = optNumber(options, 'scale_max', { above: 0 });
    if (rubric.trim() === '') throw new GraderOptionError('`rubric` must not be blank', 'rubric');

    return async (output, ctx) => {
      const messages = judgeMessages(rubric, ctx.case, output, scaleMax);
      const details: Record<string, unknown> = { judge: judgeRef, prompt: messages };
      if (!ctx.ask) return errorGrade('judge unavailable: this run cannot call other models', details);
      let raw: string;
      try {
        raw = (await ctx.ask(judgeRef, messages)).text;
      } catch (e) {
        return errorGrade(`judge ${judgeRef} failed: ${e instanceof Error ? e.message : String(e)}`, details);
      }
      details.raw = raw;
      const p = parseVerdict(raw, scaleMax);
      if (!p.ok) return errorGrade(`judge ${judgeRef}: ${p.problem}`, details);
      const score = p.score ?? (p.verdict === 'PASS' ? 1 : 0);
      const byScore = score >= threshold;
      if (p.verdict !== undefined && p.score !== undefined && (p.verdict === 'PASS') !== byScore) {
        // "PASS, score 2/10" could mean either; trusting one half would be a guess.
        return errorGrade(
          `judge ${judgeRef}: verdict ${p.verdict} contradicts score ${score.toFixed(2)} (threshold ${threshold})`,
          details,
        );
      }
      const passed = p.verdict === undefined ? byScore : p.verdict === 'PASS';
      const why = p.reason ? `: ${p.reason}` : '';
      return grade(
        score,
        passed,
        `judge ${p.verdict ?? (passed ? 'PASS' : 'FAIL')} (score ${score.toFixed(2)})${why}`,
        undefined,
        { details },
      );
    };
  },
};
