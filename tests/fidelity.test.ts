/**
 * Fidelity: our graders against results others published, on the real data in ../shared/datasets.
 * - numeric: ZeroEval's recorded GSM8K outputs of 4 models must score within 0.2 points of the
 *   accuracies ZeroEval published; the same answers rewritten in other styles must grade the same.
 * - choice: MMLU questions answered in many styles, with a seeded mix of right and wrong letters,
 *   must score exactly the accuracy we built in.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { jsonAnswerFields, parseNumber } from '../src/graders/extract.js';
import { numeric } from '../src/graders/numeric.js';
import { choice } from '../src/graders/choice.js';
import type { GradeFn, GraderEnv } from '../src/graders/grader.js';
import type { Case } from '../src/types.js';
import { uniform } from '../src/util/rng.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const datasets = path.resolve(repoRoot, '../shared/datasets');
const available = existsSync(datasets);
if (!available) console.log(`fidelity tests skipped: reference datasets not found at ${datasets}`);
const maybe = available ? it : it.skip;

const env: GraderEnv = { suiteDir: repoRoot, build: () => Promise.reject(new Error('unused')) };
const caseOf = (id: string, expected: unknown, vars: Record<string, unknown> = {}): Case => ({
  id,
  prompt: '',
  category: 'fidelity',
  grader: { type: 'fidelity' },
  expected,
  vars,
});

async function passes(g: GradeFn, output: string, c: Case): Promise<boolean> {
  return (await g(output, { case: c })).passed;
}

interface ZeroEvalItem {
  id: string;
  output: string[];
  answer: string;
}

const PUBLISHED: Record<string, number> = {
  'gpt-4o-mini-2024-07-18': 94.24,
  'gpt-3.5-turbo-0125': 80.36,
  'Meta-Llama-3.1-8B-Instruct': 84.0,
  'Qwen2-7B-Instruct': 80.06,
};

function loadGsm8k(): { golds: number[]; models: Record<string, ZeroEvalItem[]> } {
  const lines = readFileSync(path.join(datasets, 'gsm8k/test.jsonl'), 'utf8').trim().split('\n');
  const golds = lines.map((line, i) => {
    const answer = (JSON.parse(line) as { answer: string }).answer;
    const gold = parseNumber(answer.split('####')[1] ?? '');
    if (gold === null) throw new Error(`gsm8k line ${i}: no gold number in ${answer.slice(-40)}`);
    return gold;
  });
  const models: Record<string, ZeroEvalItem[]> = {};
  for (const model of Object.keys(PUBLISHED)) {
    models[model] = JSON.parse(
      readFileSync(path.join(datasets, 'zeroeval-gsm8k', `${model}.json`), 'utf8'),
    ) as ZeroEvalItem[];
  }
  return { golds, models };
}

const lineOf = (id: string): number => Number(/#(\d+)$/.exec(id)?.[1] ?? NaN);

describe('numeric grader vs ZeroEval GSM8K', () => {
  maybe('scores the 4 recorded models within 0.2 points of the published accuracy', async () => {
    const { golds, models } = loadGsm8k();
    const g = await numeric.create({}, env);
    for (const [model, items] of Object.entries(models)) {
      expect(items).toHaveLength(1319);
      let solved = 0;
      for (const item of items) {
        const n = lineOf(item.id);
        expect(parseNumber(item.answer), item.id).toBe(golds[n]); // the file's own gold agrees
        if (await passes(g, item.output[0], caseOf(item.id, golds[n]))) solved++;
      }
      const accuracy = (solved / items.length) * 100;
      const published = PUBLISHED[model];
      const diff = Number((accuracy - published).toFixed(2)) || 0;
      console.log(`${model}: ${accuracy.toFixed(2)} (published ${published.toFixed(2)}, diff ${diff.toFixed(2)})`);
      expect(Math.abs(accuracy - published)).toBeLessThanOrEqual(0.2);
    }
  });

  // The same answers in other habits must grade the same: the rules are general, not fitted to JSON.
  maybe('grades the same answers the same when written as ####, \\boxed{}, phrases or Chinese', async () => {
    const { golds, models } = loadGsm8k();
    const g = await numeric.create({}, env);
    const styles: [string, (reasoning: string, answer: string) => string][] = [
      ['phrase', (r, a) => `${r}\n\nThe answer is ${a}.`],
      ['hashes', (r, a) => `${r}\n#### ${a}`],
      ['boxed', (r, a) => `${r}\n\nThe final answer is: $\\boxed{${a}}$`],
      ['bold answer, then a note', (r, a) => `${r}\n\n**Answer:** ${a}\n\nNote: with 12 more it would be 345.`],
      ['chinese', (r, a) => `${r}\n所以答案是 ${a}。`],
      ['bare', (r, a) => `${r}\nSo the total is ${a}`],
    ];
    const mismatches: string[] = [];
    let checked = 0;
    for (const [model, items] of Object.entries(models)) {
      for (const item of items) {
        const output = item.output[0];
        const reasoning = /"reasoning"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(output)?.[1];
        const answer = jsonAnswerFields(output).at(-1)?.value;
        // Only single-number answers: "86 glasses and 42 plates" has no one reading in prose.
        if (reasoning === undefined || answer === undefined || !/^\s*-?\$?[\d,]*\.?\d+\s*[a-z%]*\s*$/i.test(answer))
          continue;
        const c = caseOf(item.id, golds[lineOf(item.id)]);
        const original = await passes(g, output, c);
        for (const [style, make] of styles) {
          checked++;
          if ((await passes(g, make(reasoning, answer), c)) !== original)
            mismatches.push(`${model} ${item.id} ${style}: ${answer}`);
        }
      }
    }
    expect(checked).toBeGreaterThan(20_000);
    expect(mismatches).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------

/** Seeded, so the right/wrong mix is the same on every run. */
const seeded = uniform;

const LETTERS = 'ABCD';
type Style = (q: { question: string; options: string[] }, letter: string) => string | null;

/** Answer styles seen from real models. A style returns null where its output would be ambiguous. */
const STYLES: [string, Style][] = [
  ['Answer: X', (_q, l) => `Answer: ${l}`],
  ['(X) text', (q, l) => `(${l}) ${q.options[LETTERS.indexOf(l)]}`],
  ['**X**', (_q, l) => `**${l}**`],
  [
    'correct option because',
    (_q, l) => `The correct option is ${l} because ${otherLetters(l)} do not fit the question.`,
  ],
  [
    'JSON',
    (_q, l) =>
      '```json\n' +
      JSON.stringify({ reasoning: `Options ${otherLetters(l)} are wrong.`, answer: l }, null, 2) +
      '\n```',
  ],
  ['答案：X', (_q, l) => `分析：选项${otherLetters(l, '和')}都不对。\n答案：${l}`],
  [
    'option text only',
    (q, l) => {
      const text = q.options[LETTERS.indexOf(l)].trim();
      // A text that is itself a letter ("A"), or that two options share, names no single option.
      const unique = q.options.filter((o) => o.trim().toLowerCase() === text.toLowerCase()).length === 1;
      return unique && !/^[A-Da-d]\W*$/.test(text) && !text.includes('\n') ? text : null;
    },
  ],
  [
    'explanation, then answer',
    (_q, l) =>
      `Let's check each option. Option ${otherLetters(l, ' and option ')} can be ruled out.\nSo the answer is ${l}.`,
  ],
  [
    'restated options, then answer',
    (q, l) => `${q.options.map((o, i) => `${LETTERS[i]}. ${o}`).join('\n')}\n\nThe answer is (${l}).`,
  ],
  ['\\boxed{X}', (_q, l) => `Therefore the final answer is $\\boxed{${l}}$.`],
  ['X. text, then why', (q, l) => `${l}. ${q.options[LETTERS.indexOf(l)]}\n\nThis follows from the definitions.`],
  ['lowercase (x)', (_q, l) => `i would go with (${l.toLowerCase()})`],
];

function otherLetters(letter: string, joiner = ', '): string {
  return [...LETTERS].filter((x) => x !== letter).join(joiner);
}

describe('choice grader vs MMLU', () => {
  maybe('scores seeded multiple-choice answers in 12 styles at exactly the built-in accuracy', async () => {
    const dir = path.join(datasets, 'mmlu/test');
    const rows = readdirSync(dir)
      .filter((f) => f.endsWith('.csv'))
      .sort()
      .flatMap((f) => parse(readFileSync(path.join(dir, f), 'utf8'), { relax_column_count: false }) as string[][]);
    expect(rows.length).toBeGreaterThan(14_000);
    const g = await choice.create({ letters: LETTERS, options_field: 'options' }, env);
    const random = seeded(20240901);
    let right = 0;
    let passedCount = 0;
    let graded = 0;
    let ambiguous = 0;
    const mismatches: string[] = [];
    for (const [i, row] of rows.entries()) {
      const [question, a, b, c, d, gold] = row;
      const q = { question, options: [a, b, c, d] };
      // Seeded rule: 70% right; a wrong answer is one of the other three letters.
      const wrongShift = 1 + Math.floor(random() * 3);
      const isRight = random() < 0.7;
      const letter = isRight ? gold : LETTERS[(LETTERS.indexOf(gold) + wrongShift) % 4];
      const [style, make] = STYLES[i % STYLES.length];
      const styled = make(q, letter);
      if (styled === null) ambiguous++;
      const output = styled ?? `Answer: ${letter}`;
      const passed = await passes(g, output, caseOf(`mmlu-${i}`, gold, { options: q.options }));
      graded++;
      if (isRight) right++;
      if (passed) passedCount++;
      if (passed !== isRight) mismatches.push(`${style}: ${JSON.stringify(output.slice(0, 120))} gold ${gold}`);
    }
    const truth = (right / graded) * 100;
    const measured = (passedCount / graded) * 100;
    console.log(
      `MMLU choice: ${graded} items, true accuracy ${truth.toFixed(2)}, graded ${measured.toFixed(2)}, wrong verdicts ${mismatches.length}; ${ambiguous} option texts named no single option and were written as letters`,
    );
    expect(mismatches.slice(0, 10)).toEqual([]);
    expect(measured).toBe(truth);
  });
});
