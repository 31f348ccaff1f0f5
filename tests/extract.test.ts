import { describe, expect, it } from 'vitest';
import { extractChoice, extractFinalNumber, parseNumber } from '../src/graders/extract.js';
import { numeric } from '../src/graders/numeric.js';
import { choice } from '../src/graders/choice.js';
import { GraderOptionError, type GradeContext, type GraderEnv } from '../src/graders/grader.js';
import type { Case } from '../src/types.js';

const fence = (json: string): string => '```json\n' + json + '\n```';

// [output, expected value (null = no answer), how it was found]
const numbers: [string, number | null, string][] = [
  // JSON answer fields, the format the ZeroEval prompts ask for
  ['{"reasoning": "9 eggs at $2", "answer": 18}', 18, 'JSON answer'],
  [fence('{\n    "reasoning": "16 - 3 - 4 = 9 eggs; 9 * 2 = 18",\n    "answer": "18"\n}'), 18, 'JSON answer'],
  [
    fence('{"reasoning": "r", "answer": "$9,500"}') + '\nNote: if he had 12 cows it would be $11,400.',
    9500,
    'JSON answer',
  ],
  [
    'Sure! Here is my answer: {"reasoning": "4 * 4", "answer": "16 hours"} Hope this helps, 3 cheers.',
    16,
    'JSON answer',
  ],
  ['{"reasoning": "r", "answer": "2/3"}', 2 / 3, 'JSON answer'],
  ['{"reasoning": "r", "answer": "-5"}', -5, 'JSON answer'],
  ['{"reasoning": "r", "answer": "18.0"}', 18, 'JSON answer'],
  ['{"reasoning": "r", "answer": "$1,114.62"}', 1114.62, 'JSON answer'],
  ['{"reasoning": "r", "answer": "-$110"}', -110, 'JSON answer'],
  ['{"reasoning": "r", "answer": "60%"}', 60, 'JSON answer'],
  ['{"reasoning": "r", "answer": "Sally has 9 books."}', 9, 'JSON answer'],
  ['{"reasoning": "r", "answer": "$200 + $250 + $300 = $750"}', 750, 'JSON answer'],
  ['{"reasoning": "r", "answer": "\\\\frac{3}{4}"}', 0.75, 'JSON answer'],
  ['{"reasoning": "r", "answer": "\\\\boxed{12}"}', 12, 'JSON answer'],
  ['{"reasoning": "r", "answer": "2:00 pm"}', 2, 'JSON answer'],
  ['{"reasoning": "r", "answer": "1,000,000"}', 1_000_000, 'JSON answer'],
  // The prompt's template echoed first, the real answer after it
  ['{"reasoning": "___", "answer": "___"}\nLet me solve it.\n{"reasoning": "5 + 2", "answer": "7"}', 7, 'JSON answer'],
  // LaTeX braces before the JSON, and raw newlines inside its strings
  [
    'We have \\frac{4500}{3.01} \\approx 1495.\n```json\n{\n "reasoning": "line one\nline two",\n "answer": "32"\n}\n```',
    32,
    'JSON answer',
  ],
  // Malformed JSON: an unescaped inch mark, a missing comma, a doubled key, a Python dict
  [
    '{\n "reasoning": "the girls are 64" tall, so 536 / 12 = 44.67",\n "answer": "44.67"\n}',
    44.67,
    'JSON-like answer field',
  ],
  ['{\n "reasoning": "the difference is $504."\n\n "answer": "504"\n}', 504, 'JSON-like answer field'],
  ['{\n "reasoning": "r",\n "answer": "answer": "7.5"\n}', 7.5, 'JSON-like answer field'],
  ["{'reasoning': 'two dozen', 'answer': 24}", 24, 'JSON-like answer field'],
  // An answer field with no number is the model's answer: no guess from the reasoning
  ['{"reasoning": "We need 12 more facts.", "answer": "Cannot determine"}', null, ''],
  // #### (GSM8K style); a markdown heading #### is not an answer
  ['Janet sells 16 - 3 - 4 = 9 eggs.\nShe makes 9 * 2 = $18.\n#### 18', 18, '#### marker'],
  ['#### 1,250', 1250, '#### marker'],
  ['#### Step 1: add\n5 + 5 = 10', 10, 'last number'],
  // \boxed{}: the last one, nested braces, separators
  ['The final answer is: $\\boxed{36}$', 36, '\\boxed{}'],
  ['First guess \\boxed{12}, corrected: \\boxed{14}.', 14, '\\boxed{}'],
  ['$\\boxed{\\frac{2}{3}}$', 2 / 3, '\\boxed{}'],
  ['\\boxed{1,000}', 1000, '\\boxed{}'],
  ['\\boxed{\\$18.00}', 18, '\\boxed{}'],
  ['\\boxed{1\\frac{1}{2}}', 1.5, '\\boxed{}'],
  ['\\boxed{x = -4}', -4, '\\boxed{}'],
  // Answer phrases beat trailing explanations that hold other numbers
  ['The answer is 18. If she sold 20 eggs she would make $40.', 18, '"answer is"'],
  ['Final answer: 3/4 of the pie. Check: 1/4 + 2/4 = 3/4.', 0.75, '"Final answer:"'],
  ['Answer: 1 1/2 cups', 1.5, '"Answer:"'],
  ['**Answer:** 42\n\nExplanation: 40 + 2 = 42, and 7 is unrelated.', 42, '"Answer:"'],
  ['Therefore, the answer is **$18**.', 18, '"answer is"'],
  ['The answer is −7 degrees.', -7, '"answer is"'],
  ['The answer is 2.5 million.', 2_500_000, '"answer is"'],
  ['## Final Answer\nShe earns $1,200 a week, 40 hours.', 1200, '"Final Answer"'],
  ['The answer is: 3 * 6 = 18 eggs.', 18, '"answer is"'],
  // Chinese markers
  ['每天剩下 9 个鸡蛋，收入 9 × 2 = 18 美元。答案是 18。', 18, '"答案是"'],
  ['答案：1,250元（共 5 天）', 1250, '"答案："'],
  ['所以最终答案是：36', 36, '"最终答案是"'],
  // The last number, with currency, separators, units, signs
  ['So she makes $18 every day.', 18, 'last number'],
  ['It costs \\$45.50.', 45.5, 'last number'],
  ['That is 45%.', 45, 'last number'],
  ['He earned €1,200.', 1200, 'last number'],
  ['The ticket is ¥300', 300, 'last number'],
  ['The temperature is -3 now', -3, 'last number'],
  ['16-7=9', 9, 'last number'],
  ['Count: 1, 2, 3', 3, 'last number'],
  ['It takes 3/4 hour', 0.75, 'last number'],
  ['roughly 1.5e6 cells', 1_500_000, 'last number'],
  ['Total: 1,000,000 dollars.', 1_000_000, 'last number'],
  // Nothing to read
  ['I cannot solve this problem.', null, ''],
  ['', null, ''],
];

describe('extractFinalNumber', () => {
  it.each(numbers)('%j -> %s', (output, value, how) => {
    const got = extractFinalNumber(output);
    if (value === null) {
      expect(got).toBeNull();
      return;
    }
    expect(got).not.toBeNull();
    expect(got?.value).toBeCloseTo(value, 9);
    expect(got?.how).toBe(how);
  });

  it('reports the number as written', () => {
    expect(extractFinalNumber('{"answer": "$9,500"}')?.text).toBe('$9,500');
  });
});

describe('parseNumber (gold answers)', () => {
  it.each([
    ['2,125', 2125],
    ['# 18', 18],
    ['#### -3', -3],
    ['$5.00', 5],
    ['3/4', 0.75],
    ['1,450,000', 1_450_000],
    [' 18 ', 18],
    ['abc', null],
  ] as [string, number | null][])('%j -> %s', (text, value) => {
    expect(parseNumber(text)).toBe(value);
  });
});

const OPTIONS = ['London', 'Paris', 'Rome', 'Berlin'];

// [output, expected letter (null = none)]
const choices: [string, string | null][] = [
  ['Answer: C', 'C'],
  ['The answer is (C)', 'C'],
  ['(C)', 'C'],
  ['C.', 'C'],
  ['C)', 'C'],
  ['**C**', 'C'],
  ['c', 'C'],
  ['答案：C', 'C'],
  ['选C', 'C'],
  ['正确答案是 C', 'C'],
  ['答案是C，因为选项A错误', 'C'],
  ['{"reasoning": "Rome is the capital", "answer": "C"}', 'C'],
  [fence('{"reasoning": "A and B are wrong", "answer": "(D)"}'), 'D'],
  ['C. Rome\nRome has been the capital since 1871.', 'C'],
  ['(B) Paris', 'B'],
  ['\\boxed{C}', 'C'],
  ['$\\boxed{\\text{B}}$', 'B'],
  ['A good choice is B', 'B'],
  ['A. London\nB. Paris\nC. Rome\nD. Berlin\nAnswer: B', 'B'],
  ['The correct option is C because A and B contradict the premise.', 'C'],
  ['Option A is wrong. Option B is wrong. So the answer is D.', 'D'],
  ['The answer is: **(b)**', 'B'],
  ['I choose **D**.', 'D'],
  ['**Answer: A**', 'A'],
  ['B is the correct answer.', 'B'],
  ['Option A is incorrect. C is correct.', 'C'],
  ['选项A错误，B是正确答案', 'B'],
  ['I would say the answer is A, but on reflection the answer is D.', 'D'],
  ['Final Answer: The final answer is C. I hope it is correct.', 'C'],
  ['Not (A): London is in England. So (B).', 'B'],
  ['(A) London (B) Paris (C) Rome (D) Berlin\n\n(B)', 'B'],
  // Option texts instead of letters (case-insensitive, normalised)
  ['Paris', 'B'],
  ['  **paris** ', 'B'],
  ['The answer is Paris.', 'B'],
  ['{"reasoning": "r", "answer": "Berlin"}', 'D'],
  // No choice, or only the options restated: no false positives from "A" the article
  ['A. London B. Paris C. Rome D. Berlin', null],
  ['(A) London (B) Paris (C) Rome (D) Berlin', null],
  ['A cat is not a capital city.', null],
  ['I think the answer is a tricky one.', null],
  ['Answer: E', null],
];

describe('extractChoice', () => {
  it.each(choices)('%j -> %s', (output, letter) => {
    expect(extractChoice(output, 'ABCD', OPTIONS)?.letter ?? null).toBe(letter);
  });

  it('needs the options to read an option text', () => {
    expect(extractChoice('Paris')).toBeNull();
  });

  it('reads letters past D when they are allowed', () => {
    expect(extractChoice('The answer is (G).')?.letter).toBe('G');
    expect(extractChoice('The answer is (G).', 'ABCD')).toBeNull();
  });
});

const env: GraderEnv = {
  suiteDir: '.',
  build: () => Promise.reject(new Error('no nested graders here')),
};
const ctx = (expected: unknown, vars: Record<string, unknown> = {}): GradeContext => {
  const c: Case = { id: 'c1', prompt: 'p', category: 'math', grader: { type: 'x' }, expected, vars };
  return { case: c };
};

describe('numeric grader', () => {
  it('says what it compared', async () => {
    const g = await numeric.create({}, env);
    const pass = await g('{"reasoning": "r", "answer": "18"}', ctx('18'));
    expect(pass).toMatchObject({
      passed: true,
      score: 1,
      extracted: '18',
      reason: 'read 18 from JSON answer; expected 18',
    });
    const fail = await g('The answer is 17.', ctx('# 18'));
    expect(fail).toMatchObject({ passed: false, score: 0, reason: 'read 17 from "answer is"; expected 18 (off by 1)' });
  });

  it('fails with "no number found" and flags an unusable expected value as an error', async () => {
    const g = await numeric.create({}, env);
    expect(await g('no idea', ctx(5))).toMatchObject({ passed: false, score: 0, reason: 'no number found' });
    const broken = await g('5', ctx('five'));
    expect(broken).toMatchObject({ passed: false, error: true });
    expect(broken.reason).toContain('"five" is not a number');
  });

  it('applies absolute and relative tolerances, and an expected option', async () => {
    expect((await (await numeric.create({ tolerance: 0.01 }, env))('3.333', ctx('10/3'))).passed).toBe(true);
    expect((await (await numeric.create({}, env))('3.333', ctx('10/3'))).passed).toBe(false);
    expect((await (await numeric.create({ relative_tolerance: 0.01 }, env))('1,005', ctx(1000))).passed).toBe(true);
    expect((await (await numeric.create({ expected: '$2,125' }, env))('2125', ctx(undefined))).passed).toBe(true);
  });

  it('rejects bad options at create()', () => {
    expect(() => numeric.create({ tolerance: -1 }, env)).toThrow(GraderOptionError);
    expect(() => numeric.create({ relative_tolerance: 'big' }, env)).toThrow(/relative_tolerance/);
    expect(() => numeric.create({ expected: 'eighteen' }, env)).toThrow(GraderOptionError);
  });
});

describe('choice grader', () => {
  it('compares letters case-insensitively, with option texts from a case variable', async () => {
    const g = await choice.create({ letters: 'ABCD', options_field: 'choices' }, env);
    expect(await g('The answer is (c).', ctx('C'))).toMatchObject({ passed: true, extracted: 'C' });
    expect((await g('Answer: C', ctx('(c)'))).passed).toBe(true);
    expect((await g('Rome', ctx('C', { choices: OPTIONS }))).passed).toBe(true);
    expect((await g('Answer: B', ctx('C'))).reason).toBe('read B from "Answer:"; expected C');
  });

  it('flags a case without a usable expected letter as an error', async () => {
    const g = await choice.create({}, env);
    expect(await g('Answer: B', ctx(undefined))).toMatchObject({ passed: false, error: true });
    expect(await g('no letter here', ctx('B'))).toMatchObject({
      passed: false,
      reason: 'no choice among ABCDEFGHIJ found',
    });
  });

  it('rejects bad options at create()', () => {
    expect(() => choice.create({ letters: 'AB1' }, env)).toThrow(GraderOptionError);
    expect(() => choice.create({ letters: 'AAB' }, env)).toThrow(/repeated/);
    expect(() => choice.create({ options_field: 3 }, env)).toThrow(/options_field/);
  });
});
