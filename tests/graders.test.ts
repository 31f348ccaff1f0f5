import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import type { Case, ChatMessage, Grade } from '../src/types.js';
import { GraderOptionError, type GradeContext } from '../src/graders/grader.js';
import { buildGrader, describeGrader, gradeSafely, listGraders, registerGrader } from '../src/graders/index.js';
import { characters, countWords, normalizeText, tokenize } from '../src/graders/normalize.js';
import { bleu, levenshteinSimilarity, rougeL, tokenF1 } from '../src/graders/similarity.js';
import { countUnits } from '../src/graders/length.js';
import { findJson } from '../src/graders/json.js';
import { parseVerdict } from '../src/graders/judge.js';

const suiteDir = process.cwd();

function makeCase(expected?: unknown, prompt = 'What is the capital of France?'): Case {
  return { id: 'c1', prompt, expected, category: 'test', grader: { type: 'exact' }, vars: {} };
}

function ctxFor(expected?: unknown, extra: Partial<GradeContext> = {}): GradeContext {
  return { case: makeCase(expected), ...extra };
}

/** Builds a grader from a spec and grades one output. */
async function run(
  spec: unknown,
  output: string,
  expected?: unknown,
  extra: Partial<GradeContext> = {},
): Promise<Grade> {
  const fn = await buildGrader(spec, { suiteDir, path: 'cases[0].grader' });
  return fn(output, ctxFor(expected, extra));
}

async function optionError(spec: unknown, dir = suiteDir): Promise<GraderOptionError> {
  const err = await buildGrader(spec, { suiteDir: dir, path: 'cases[3].grader' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GraderOptionError);
  return err as GraderOptionError;
}

describe('normalize', () => {
  test('NFKC, whitespace, trailing punctuation incl. Chinese', () => {
    expect(normalizeText('  Paris.  ')).toBe('Paris');
    expect(normalizeText('北京。')).toBe('北京');
    expect(normalizeText('答案是：４２！')).toBe('答案是:42');
    expect(normalizeText('New\n  York', { ignoreCase: true })).toBe('new york');
    expect(normalizeText('Really?!', { stripTrailingPunctuation: false })).toBe('Really?!');
  });

  test('CJK characters are tokens of their own; latin words, decimals and contractions stay whole', () => {
    expect(tokenize('我喜欢Python和TypeScript')).toEqual(['我', '喜', '欢', 'Python', '和', 'TypeScript']);
    expect(tokenize("It's 3.5% of 1,000 well-known cases.")).toEqual([
      "It's",
      '3.5',
      'of',
      '1,000',
      'well-known',
      'cases',
    ]);
    expect(countWords('人工智能 is changing the world')).toBe(8);
    expect(characters('e\u0301👍🏽')).toHaveLength(2);
  });
});

describe('exact', () => {
  test.each([
    ['Paris', 'Paris', true],
    ['  paris.  ', 'Paris', true],
    ['PARIS!', 'Paris', true],
    ['Paris, France', 'Paris', false],
    ['北京。', '北京', true],
    ['北京市', '北京', false],
    ['４２', '42', true],
  ])('%j vs expected %j -> %s', async (output, expected, passed) => {
    const g = await run('exact', output, expected);
    expect(g.passed).toBe(passed);
    expect(g.score).toBe(passed ? 1 : 0);
  });

  test('ignore_case: false makes case matter; extracted is the normalised output', async () => {
    const g = await run({ type: 'exact', ignore_case: false }, ' PARIS. ', 'Paris');
    expect(g.passed).toBe(false);
    expect(g.extracted).toBe('PARIS');
  });

  test('value overrides expected and may list alternatives', async () => {
    expect((await run({ type: 'exact', value: ['NYC', 'New York City'] }, 'new york city', 'ignored')).passed).toBe(
      true,
    );
  });

  test('no expected and no value -> error grade', async () => {
    const g = await run('exact', 'Paris');
    expect(g).toMatchObject({ error: true, passed: false });
  });
});

describe('contains', () => {
  const answer = '中国的首都是北京，它也是全国的政治和文化中心。';
  test.each([
    [{ type: 'contains' }, answer, '北京', true, 1],
    [{ type: 'contains', value: '上海' }, answer, undefined, false, 0],
    [{ type: 'contains', value: ['上海', '北京'] }, answer, undefined, true, 1],
    [{ type: 'contains', value: ['政治', '经济', '文化'], mode: 'all' }, answer, undefined, false, 2 / 3],
    [{ type: 'contains', value: ['政治', '文化'], mode: 'all' }, answer, undefined, true, 1],
    [{ type: 'contains', value: 'paris' }, 'The capital is Paris.', undefined, false, 0],
    [{ type: 'contains', value: 'paris', ignore_case: true }, 'The capital is Paris.', undefined, true, 1],
    [{ type: 'contains', value: 'New York' }, 'It is in New\n   York state', undefined, true, 1],
  ])('%j', async (spec, output, expected, passed, score) => {
    const g = await run(spec, output, expected);
    expect(g.passed).toBe(passed);
    expect(g.score).toBeCloseTo(score, 6);
  });

  test('extracted lists what was found; reason lists what is missing', async () => {
    const g = await run({ type: 'contains', value: ['政治', '经济', '文化'], mode: 'all' }, answer);
    expect(g.extracted).toBe('政治, 文化');
    expect(g.reason).toContain('经济');
  });
});

describe('regex', () => {
  const bullets = 'Here are three tips:\n- Sleep 8 hours\n- Drink water\n- Walk daily\nGood luck!';
  test.each([
    [{ type: 'regex', pattern: '^\\d+$' }, '42', undefined, true],
    [{ type: 'regex', pattern: '^\\d+$' }, 'The answer is 42', undefined, false],
    [{ type: 'regex', pattern: 'answer is (\\d+)', group: 1 }, 'The answer is 42.', '42', true],
    [{ type: 'regex', pattern: 'answer is (\\d+)', group: 1 }, 'The answer is 41.', '42', false],
    [
      { type: 'regex', pattern: '答案[是为：:]+\\s*(?<ans>\\S+?)[。，]', group: 'ans' },
      '经过计算，答案是：北京。',
      '北京',
      true,
    ],
    [{ type: 'regex', pattern: '^- ', flags: 'm', min_count: 3, max_count: 3 }, bullets, undefined, true],
    [{ type: 'regex', pattern: '^- ', flags: 'm', max_count: 2 }, bullets, undefined, false],
    [{ type: 'regex', pattern: 'SORRY', flags: 'i' }, "I'm sorry, I can't help.", undefined, true],
  ])('%j on %j', async (spec, output, expected, passed) => {
    expect((await run(spec, output, expected)).passed).toBe(passed);
  });

  test('extracted is the group, or the match count when counting', async () => {
    expect((await run({ type: 'regex', pattern: 'is (\\d+)', group: 1 }, 'The answer is 42')).extracted).toBe('42');
    expect((await run({ type: 'regex', pattern: '^- ', flags: 'm', min_count: 1 }, bullets)).extracted).toBe('3');
  });

  test.each([
    [{ type: 'regex', pattern: '(unclosed' }, 'pattern', '(unclosed'],
    [{ type: 'regex' }, 'pattern', 'required'],
    [{ type: 'regex', pattern: 'a', flags: 'gx' }, 'flags', 'flags'],
    [{ type: 'regex', pattern: '(a)', group: 2 }, 'group', 'does not exist'],
    [{ type: 'regex', pattern: '(?<x>a)', group: 'y' }, 'group', 'named group'],
    [{ type: 'regex', pattern: 'a', min_count: 3, max_count: 1 }, 'min_count', 'greater'],
  ])('bad options %j', async (spec, option, text) => {
    const e = await optionError(spec);
    expect(e.path).toBe(`cases[3].grader.${option}`);
    expect(e.message).toContain(text);
  });
});

describe('json', () => {
  const fenced =
    '好的，结果如下：\n```json\n{"城市": "北京", "人口": 21893095, "区": ["东城", "西城"]}\n```\n希望有帮助。';
  const embedded =
    'Sure! Here is the record: {"name": "Ada Lovelace", "born": "1815", "tags": ["math", "poetry"], "items": [{"name": "Note G"}]} Let me know.';

  test('finds JSON bare, fenced, or embedded', () => {
    expect(findJson('[1, 2]')?.text).toBe('[1,2]');
    expect(findJson(fenced)?.value).toMatchObject({ 城市: '北京' });
    expect(findJson(embedded)?.value).toMatchObject({ name: 'Ada Lovelace' });
    expect(findJson('Use {braces} like {"a": "}"} here')?.value).toEqual({ a: '}' });
    expect(findJson('no json at all {oops')).toBeUndefined();
  });

  test.each([
    [
      'fenced block with Chinese keys matches expected object',
      'json',
      fenced,
      { 城市: '北京', 人口: 21893095 },
      true,
      1,
    ],
    ['numeric string equals number, subset of keys', 'json', embedded, { born: 1815 }, true, 1],
    ['one of two expected fields wrong', 'json', embedded, { name: 'Ada Lovelace', born: 1816 }, false, 0.5],
    [
      'string compare ignores case and width by default',
      'json',
      '{"city":"ＢＥＩＪＩＮＧ "}',
      { city: 'beijing' },
      true,
      1,
    ],
    ['expected written as JSON text', 'json', '{"ok": true}', '{"ok": true}', true, 1],
    ['no JSON', 'json', 'I cannot answer that.', undefined, false, 0],
    ['any JSON when nothing expected', 'json', embedded, undefined, true, 1],
    [
      'path + equals with array index',
      { type: 'json', path: 'items.0.name', equals: 'note g' },
      embedded,
      undefined,
      true,
      1,
    ],
    ['path without equals uses case.expected', { type: 'json', path: 'tags[1]' }, embedded, 'poetry', true, 1],
    [
      'fields map',
      { type: 'json', fields: { name: 'Ada Lovelace', tags: ['math', 'poetry'], 'items.0.name': 'X' } },
      embedded,
      undefined,
      false,
      2 / 3,
    ],
    ['ignore_case false', { type: 'json', ignore_case: false }, '{"a":"Yes"}', { a: 'yes' }, false, 0],
    ['numbers within 1e-6', 'json', '{"pi": 3.1415926}', { pi: 3.14159260001 }, true, 1],
  ])('%s', async (_name, spec, output, expected, passed, score) => {
    const g = await run(spec, output, expected);
    expect(g.passed).toBe(passed);
    expect(g.score).toBeCloseTo(score, 6);
  });

  const schema = {
    type: 'object',
    required: ['name', 'age'],
    properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0 } },
  };

  test('inline schema: valid and invalid', async () => {
    const ok = await run({ type: 'json', schema }, '```json\n{"name": "张三", "age": 30}\n```');
    expect(ok.passed).toBe(true);
    expect(ok.extracted).toBe('{"name":"张三","age":30}');
    const bad = await run({ type: 'json', schema }, '{"name": "张三", "age": -1}');
    expect(bad).toMatchObject({ passed: false, score: 0 });
    expect(bad.reason).toContain('json/age must be >= 0');
  });

  test('schema from a file relative to the suite; bad schemas fail at build', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'gapbench-json-'));
    await writeFile(path.join(dir, 'person.schema.json'), JSON.stringify(schema));
    const fn = await buildGrader({ type: 'json', schema: 'person.schema.json' }, { suiteDir: dir });
    expect((await fn('{"name":"Ada"}', ctxFor())).reason).toContain("must have required property 'age'");
    expect((await optionError({ type: 'json', schema: 'missing.json' }, dir)).message).toContain('missing.json');
    expect((await optionError({ type: 'json', schema: { type: 'strin' } })).path).toBe('cases[3].grader.schema');
    expect((await optionError({ type: 'json', schema: { requierd: ['a'] } })).message).toContain('requierd');
    expect((await optionError({ type: 'json', equals: 3 })).message).toContain('`equals` needs `path`');
  });
});

describe('similarity metrics (hand-computed)', () => {
  test('token F1: bag of tokens, articles dropped', () => {
    // pred {capital, is, paris}, ref {paris, is, capital, city}: P = 3/3, R = 3/4, F1 = 2PR/(P+R) = 6/7
    expect(tokenF1('The capital is Paris', 'Paris is the capital city')).toBeCloseTo(6 / 7, 10);
    // 首都是北京 (5 chars) vs 北京 (2): common 2, P = 2/5, R = 1, F1 = 0.8/1.4 = 4/7
    expect(tokenF1('首都是北京', '北京')).toBeCloseTo(4 / 7, 10);
    expect(tokenF1('Berlin', 'Paris')).toBe(0);
  });

  test('ROUGE-L: LCS F-measure', () => {
    // LCS "the cat on the mat" = 5 of 6 on both sides
    expect(rougeL('the cat sat on the mat', 'the cat is on the mat')).toBeCloseTo(5 / 6, 10);
    // 我喜欢吃苹果 (6) vs 我爱吃苹果 (5): LCS 我吃苹果 = 4; P = 4/6, R = 4/5, F = 16/22
    expect(rougeL('我喜欢吃苹果', '我爱吃苹果')).toBeCloseTo(16 / 22, 10);
  });

  test('BLEU: add-1 smoothing for n > 1, brevity penalty', () => {
    expect(bleu('the cat sat on the mat', 'the cat sat on the mat')).toBeCloseTo(1, 10);
    // p1 = 5/6, p2 = (3+1)/(5+1), p3 = (1+1)/(4+1), p4 = (0+1)/(3+1), BP = 1 -> (1/18)^(1/4)
    expect(bleu('the cat sat on the mat', 'the cat is on the mat')).toBeCloseTo(Math.pow(1 / 18, 0.25), 10);
    // all precisions 1 (smoothed 0/0 -> 1/1), BP = exp(1 - 6/2)
    expect(bleu('the cat', 'the cat sat on the mat')).toBeCloseTo(Math.exp(-2), 10);
    expect(bleu('dog', 'the cat')).toBe(0);
  });

  test('Levenshtein similarity on characters', () => {
    expect(levenshteinSimilarity('kitten', 'sitting')).toBeCloseTo(1 - 3 / 7, 10);
    expect(levenshteinSimilarity('北京大学', '北京大字')).toBeCloseTo(0.75, 10);
    expect(levenshteinSimilarity('Paris.', 'paris')).toBe(1);
  });
});

describe('similarity grader', () => {
  test.each([
    [{ type: 'similarity' }, 'The capital is Paris', 'Paris is the capital city', true, 6 / 7],
    [{ type: 'similarity', threshold: 0.9 }, 'The capital is Paris', 'Paris is the capital city', false, 6 / 7],
    [{ type: 'similarity', metric: 'rouge_l' }, '我喜欢吃苹果', '我爱吃苹果', true, 16 / 22],
    [{ type: 'similarity', metric: 'levenshtein', value: ['sitting', 'kitten!'] }, 'kitten', undefined, true, 1],
    [
      { type: 'similarity', metric: 'bleu', threshold: 0.5 },
      'the cat sat on the mat',
      'the cat is on the mat',
      false,
      Math.pow(1 / 18, 0.25),
    ],
  ])('%j', async (spec, output, expected, passed, score) => {
    const g = await run(spec, output, expected);
    expect(g.passed).toBe(passed);
    expect(g.score).toBeCloseTo(score, 10);
  });

  test('bad metric and threshold are option errors', async () => {
    expect((await optionError({ type: 'similarity', metric: 'cosine' })).path).toBe('cases[3].grader.metric');
    expect((await optionError({ type: 'similarity', threshold: 2 })).path).toBe('cases[3].grader.threshold');
  });
});

describe('length', () => {
  test('counting rules', () => {
    expect(countUnits('人工智能正在改变世界。', 'chars')).toBe(11);
    expect(countUnits('人工智能正在改变世界。', 'words')).toBe(10);
    expect(countUnits('我喜欢 Python 和 TypeScript', 'words')).toBe(6);
    expect(countUnits('The price rose 3.5 percent. Analysts were surprised! Why? 因为需求强劲。', 'sentences')).toBe(4);
    expect(countUnits('Tips:\n- Sleep\n* Eat\n• Walk\n1. Read\n2) Write\n-5°C is cold', 'bullets')).toBe(5);
    expect(countUnits('One.\n\nTwo.\n\n\nThree.', 'paragraphs')).toBe(3);
    expect(countUnits('Intro\n***\nBody', 'paragraphs')).toBe(2);
    expect(countUnits('a\n\nb\nc\n', 'lines')).toBe(3);
  });

  test.each([
    [{ type: 'length', unit: 'words', max: 5 }, 'Paris is the capital.', true],
    [{ type: 'length', unit: 'words', max: 3 }, 'Paris is the capital.', false],
    [{ type: 'length', unit: 'chars', min: 10 }, '人工智能正在改变世界。', true],
    [{ type: 'length', unit: 'chars', min: 20 }, '人工智能正在改变世界。', false],
    [{ type: 'length', unit: 'bullets', min: 3, max: 3 }, '- a\n- b\n- c', true],
    [{ type: 'length', unit: 'sentences', max: 1 }, 'Yes. Definitely.', false],
  ])('%j', async (spec, output, passed) => {
    expect((await run(spec, output)).passed).toBe(passed);
  });

  test('option errors', async () => {
    expect((await optionError({ type: 'length', unit: 'words' })).message).toContain('min');
    expect((await optionError({ type: 'length', max: 5 })).path).toBe('cases[3].grader.unit');
    expect((await optionError({ type: 'length', unit: 'tokens', max: 5 })).message).toContain('tokens');
    expect((await optionError({ type: 'length', unit: 'words', min: 5, max: 2 })).message).toContain('greater');
  });
});

describe('latency and cost', () => {
  const completion = { latencyMs: 850, inputTokens: 100, outputTokens: 50, costUsd: 0.0004 };
  test.each([
    [{ type: 'latency', max_ms: 1000 }, true],
    [{ type: 'latency', max_ms: 500 }, false],
    [{ type: 'cost', max_usd: 0.001 }, true],
    [{ type: 'cost', max_usd: 0.0001 }, false],
  ])('%j', async (spec, passed) => {
    expect((await run(spec, 'ok', undefined, { completion })).passed).toBe(passed);
  });

  test('missing measurements are error grades, not passes', async () => {
    expect(await run({ type: 'latency', max_ms: 1000 }, 'ok')).toMatchObject({ error: true, passed: false });
    expect(await run({ type: 'cost', max_usd: 1 }, 'ok', undefined, { completion: { latencyMs: 5 } })).toMatchObject({
      error: true,
      passed: false,
    });
    expect((await optionError({ type: 'latency' })).path).toBe('cases[3].grader.max_ms');
  });
});

describe('custom', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'gapbench-custom-'));
    const files: Record<string, string> = {
      'keyword.mjs':
        'export default (output, ctx) => ({ pass: output.includes(ctx.options.word), reason: `looked for ${ctx.options.word} in case ${ctx.case.id}` });',
      'kinds.mjs': [
        'export const yes = () => true;',
        'export const half = () => 0.5;',
        'export const low = async () => ({ passed: false, score: 0.2, extracted: 7 });',
        'export const big = () => 3;',
        'export const garbage = () => "looks good";',
        'export const boom = () => { throw new Error("kaboom"); };',
        'export const notFn = 42;',
      ].join('\n'),
      'broken.mjs': 'export default (output => ;',
      'typed.ts':
        'interface R { pass: boolean; score: number }\nexport function check(output: string): R {\n  return { pass: output.length > 3, score: output.length > 3 ? 0.9 : 0.1 };\n}\nexport default (o: string): boolean => o.includes("北京");\n',
      'typed.mts':
        'export default (o: string, ctx: { options: { min: number } }): number => (o.length >= ctx.options.min ? 1 : 0);\n',
      'broken.ts': 'export default (o: string): boolean => {{ ;\n',
      'grader.txt': 'not code',
    };
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  });

  const build = async (spec: Record<string, unknown>) => buildGrader({ type: 'custom', ...spec }, { suiteDir: dir });

  test('a .mjs default export sees the case and its options', async () => {
    const fn = await build({ path: 'keyword.mjs', word: '北京' });
    const g = await fn('首都是北京', ctxFor());
    expect(g).toMatchObject({ passed: true, score: 1, reason: 'looked for 北京 in case c1' });
  });

  test.each([
    ['yes', { passed: true, score: 1 }],
    ['half', { passed: true, score: 0.5 }],
    ['low', { passed: false, score: 0.2, extracted: '7' }],
    ['big', { passed: false, error: true }],
    ['garbage', { passed: false, error: true }],
    ['boom', { passed: false, error: true }],
  ])('named export %s', async (name, want) => {
    const fn = await build({ path: 'kinds.mjs', export: name });
    expect(await fn('x', ctxFor())).toMatchObject(want);
  });

  test('a thrown error keeps its message', async () => {
    const fn = await build({ path: 'kinds.mjs', export: 'boom' });
    expect((await fn('x', ctxFor())).reason).toContain('kaboom');
  });

  test('TypeScript modules load through tsx (.ts as CommonJS, .mts as ESM)', async () => {
    expect(await (await build({ path: 'typed.ts' }))('答案是北京', ctxFor())).toMatchObject({ passed: true });
    expect(await (await build({ path: 'typed.ts', export: 'check' }))('hi', ctxFor())).toMatchObject({
      passed: false,
      score: 0.1,
    });
    expect(await (await build({ path: 'typed.mts', min: 3 }))('abcd', ctxFor())).toMatchObject({
      passed: true,
      score: 1,
    });
  });

  test.each([
    [{ path: 'nope.mjs' }, 'nope.mjs'],
    [{ path: 'broken.mjs' }, 'broken.mjs'],
    [{ path: 'broken.ts' }, 'broken.ts'],
    [{ path: 'kinds.mjs' }, 'kinds.mjs'],
    [{ path: 'kinds.mjs', export: 'notFn' }, 'kinds.mjs'],
    [{ path: 'grader.txt' }, 'grader.txt'],
  ])('load error %j names the file', async (spec, file) => {
    const e = await optionError({ type: 'custom', ...spec }, dir);
    expect(e.message).toContain(path.join(dir, file));
  });
});

describe('judge', () => {
  function fakeAsk(reply: string | Error) {
    const calls: Array<{ model: string; messages: ChatMessage[] }> = [];
    const ask = async (model: string, messages: ChatMessage[]) => {
      calls.push({ model, messages });
      if (reply instanceof Error) throw reply;
      return { text: reply, latencyMs: 12 };
    };
    return { ask, calls };
  }
  const spec = { type: 'judge', judge: 'openai:gpt-4o-mini', rubric: 'The answer names Paris as the capital.' };

  test('the prompt carries rubric, question, reference and output; details keep the evidence', async () => {
    const { ask, calls } = fakeAsk('{"verdict": "PASS", "score": 1, "reason": "names Paris"}');
    const g = await run(spec, 'It is Paris.', 'Paris', { ask });
    expect(g).toMatchObject({ passed: true, score: 1 });
    expect(calls[0].model).toBe('openai:gpt-4o-mini');
    const user = calls[0].messages[1].content;
    for (const part of [
      'names Paris as the capital',
      'What is the capital of France?',
      'Reference answer\nParis',
      'It is Paris.',
    ])
      expect(user).toContain(part);
    expect(g.details).toMatchObject({
      judge: 'openai:gpt-4o-mini',
      raw: '{"verdict": "PASS", "score": 1, "reason": "names Paris"}',
    });
    expect(g.details?.prompt).toEqual(calls[0].messages);
  });

  test.each([
    ['JSON', '{"verdict": "FAIL", "score": 0.1, "reason": "says Lyon"}', {}, { passed: false, score: 0.1 }],
    [
      'fenced JSON with FAIL in its reason',
      'Here you go:\n```json\n{"verdict":"PASS","score":0.9,"reason":"no FAIL conditions met"}\n```',
      {},
      { passed: true, score: 0.9 },
    ],
    [
      'JSON on a 0-10 scale',
      '{"verdict": "PASS", "score": 8, "reason": "good"}',
      { scale_max: 10 },
      { passed: true, score: 0.8 },
    ],
    [
      'JSON with a text score and a lower-case verdict',
      '{"verdict": "Pass.", "score": "8/10"}',
      {},
      { passed: true, score: 0.8 },
    ],
    ['JSON score only, below threshold', '{"score": 0.4}', {}, { passed: false, score: 0.4 }],
    ['prose verdict line', 'The response correctly identifies Paris.\n\n**PASS**', {}, { passed: true, score: 1 }],
    ['prose "Verdict: FAIL"', 'Verdict: FAIL. It says Lyon.', {}, { passed: false, score: 0 }],
    ['prose "Score: 8/10"', 'Mostly right but verbose. Score: 8/10', {}, { passed: true, score: 0.8 }],
    ['prose "score: 0.7"', 'Reasonable. score: 0.7', {}, { passed: true, score: 0.7 }],
    [
      'prose "7 out of 10" with scale_max',
      'I would rate this 3 out of 10.',
      { scale_max: 10 },
      { passed: false, score: 0.3 },
    ],
    ['prose bare score on 0-10 scale', 'Rating: 9', { scale_max: 10 }, { passed: true, score: 0.9 }],
    ['Chinese 通过', '回答正确地指出了巴黎。\n结论：通过', {}, { passed: true, score: 1 }],
    ['Chinese 不通过', '回答说的是里昂，错误。不通过。', {}, { passed: false, score: 0 }],
    ['threshold moves the line', '{"score": 0.6}', { threshold: 0.7 }, { passed: false, score: 0.6 }],
  ])('%s', async (_name, reply, extra, want) => {
    const { ask } = fakeAsk(reply);
    const g = await run({ ...spec, ...extra }, 'It is Paris.', 'Paris', { ask });
    expect(g).toMatchObject(want);
    expect(g.error).toBeUndefined();
  });

  test.each([
    ['garbage', 'I think the weather is nice today.'],
    ['both verdicts', 'PASS on accuracy, FAIL on format.'],
    ['verdict contradicts score', '{"verdict": "PASS", "score": 0.2}'],
    ['score off the scale', '{"verdict": "PASS", "score": 8}'],
    ['unknown verdict word', '{"verdict": "MAYBE"}'],
    ['通过 as a preposition only', '通过分析可以看出回答提到了巴黎'],
  ])('%s -> error grade, never a pass', async (_name, reply) => {
    const { ask } = fakeAsk(reply);
    const g = await run(spec, 'It is Paris.', 'Paris', { ask });
    expect(g).toMatchObject({ error: true, passed: false, score: 0 });
    expect(g.details?.raw).toBe(reply);
  });

  test('no ask, or a failing ask, gives an error grade', async () => {
    expect((await run(spec, 'Paris')).reason).toContain('judge unavailable');
    const { ask } = fakeAsk(new Error('429 rate limited'));
    const g = await run(spec, 'Paris', 'Paris', { ask });
    expect(g).toMatchObject({ error: true, passed: false });
    expect(g.reason).toContain('429 rate limited');
  });

  test('parseVerdict reads a Chinese labelled score', () => {
    expect(parseVerdict('评分：6/10，基本正确')).toMatchObject({ ok: true, score: 0.6 });
  });

  test('judge and rubric are required', async () => {
    expect((await optionError({ type: 'judge', rubric: 'x' })).path).toBe('cases[3].grader.judge');
    expect((await optionError({ type: 'judge', judge: 'm' })).path).toBe('cases[3].grader.rubric');
  });
});

describe('combinators', () => {
  const jsonShort = { type: 'all', graders: ['json', { type: 'length', unit: 'words', max: 10 }] };
  test.each([
    [jsonShort, '{"city": "北京"}', true, 1],
    [jsonShort, 'The city is Beijing, as everyone in the world knows very well.', false, 0],
    [
      {
        type: 'any',
        graders: [
          { type: 'exact', value: 'Paris' },
          { type: 'contains', value: 'Paris' },
        ],
      },
      'It is Paris.',
      true,
      1,
    ],
    [
      {
        type: 'any',
        graders: [
          { type: 'exact', value: 'Rome' },
          { type: 'similarity', value: 'Paris is the capital city' },
        ],
      },
      'The capital is Paris',
      true,
      6 / 7,
    ],
    [
      {
        type: 'weighted',
        threshold: 0.6,
        graders: [
          { weight: 0.7, type: 'contains', value: 'Paris' },
          { weight: 0.3, type: 'length', unit: 'words', max: 2 },
        ],
      },
      'The capital of France is Paris.',
      true,
      0.7,
    ],
    [
      {
        type: 'weighted',
        graders: [
          { weight: 0.25, type: 'contains', value: 'Paris' },
          { weight: 0.75, type: 'contains', value: 'France' },
        ],
      },
      'Paris',
      false,
      0.25,
    ],
  ])('%j on %j', async (spec, output, passed, score) => {
    const g = await run(spec, output);
    expect(g.passed).toBe(passed);
    expect(g.score).toBeCloseTo(score, 6);
  });

  test('all: mean score, reasons joined, first extracted', async () => {
    const g = await run(
      {
        type: 'all',
        graders: [
          { type: 'contains', value: 'Paris' },
          { type: 'exact', value: 'Paris' },
        ],
      },
      'It is Paris',
    );
    expect(g).toMatchObject({ passed: false, score: 0.5, extracted: 'Paris' });
    expect(g.reason).toMatch(/\[1\] pass: .*; \[2\] fail: /);
  });

  test('a child error makes the parent an error', async () => {
    const g = await run(
      {
        type: 'any',
        graders: [
          { type: 'contains', value: 'Paris' },
          { type: 'latency', max_ms: 10 },
        ],
      },
      'Paris',
    );
    expect(g).toMatchObject({ error: true, passed: false });
  });

  test('weights must sum to 1; child option errors carry the nested path', async () => {
    const e = await optionError({
      type: 'weighted',
      graders: [
        { weight: 0.5, type: 'exact' },
        { weight: 0.6, type: 'exact' },
      ],
    });
    expect(e.message).toContain('sum to 1');
    expect((await optionError({ type: 'all', graders: ['exact', { type: 'regex', pattern: '(' }] })).path).toBe(
      'cases[3].grader.graders[1].pattern',
    );
    expect((await optionError({ type: 'all', graders: [] })).path).toBe('cases[3].grader.graders');
    expect((await optionError({ type: 'weighted', graders: ['exact'] })).path).toBe(
      'cases[3].grader.graders[0].weight',
    );
  });
});

describe('registry', () => {
  test('not: negates any grader; an error stays an error', async () => {
    const refusal = { type: 'contains', value: ['sorry', '抱歉'], ignore_case: true, not: true };
    expect(await run(refusal, '抱歉，我无法回答。')).toMatchObject({ passed: false, score: 0 });
    const g = await run(refusal, 'The answer is 42.');
    expect(g).toMatchObject({ passed: true, score: 1 });
    expect(g.reason).toMatch(/^NOT: /);
    expect(
      await run({ type: 'similarity', value: 'Paris is the capital city', not: true }, 'The capital is Paris'),
    ).toMatchObject({ passed: false });
    expect(
      (await run({ type: 'similarity', value: 'Paris is the capital city', not: true }, 'The capital is Paris')).score,
    ).toBeCloseTo(1 / 7, 10);
    expect(await run({ type: 'latency', max_ms: 10, not: true }, 'x')).toMatchObject({
      error: true,
      passed: false,
      score: 0,
    });
    expect(await run({ type: 'judge', judge: 'm', rubric: 'r', not: true }, 'x')).toMatchObject({
      error: true,
      passed: false,
    });
  });

  test.each([
    [{ type: 'exactt' }, 'cases[3].grader.type', "unknown grader 'exactt' (known: exact, contains"],
    ['nope', 'cases[3].grader.type', "unknown grader 'nope'"],
    [
      { type: 'exact', ignorecase: true },
      'cases[3].grader.ignorecase',
      "unknown option 'ignorecase' for grader 'exact'",
    ],
    [{ type: 'exact', not: 'yes' }, 'cases[3].grader.not', '`not` must be true or false'],
    [{ type: 'exact', ignore_case: 'no' }, 'cases[3].grader.ignore_case', 'true or false'],
    [42, 'cases[3].grader', 'a grader must be a name'],
  ])('spec error %j', async (spec, where, text) => {
    const e = await optionError(spec);
    expect(e.path).toBe(where);
    expect(e.message).toContain(where);
    expect(e.message).toContain(text);
  });

  test('every built-in is listed with a description', () => {
    const types = listGraders().map((g) => g.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'exact',
        'contains',
        'regex',
        'numeric',
        'choice',
        'json',
        'similarity',
        'length',
        'latency',
        'cost',
        'custom',
        'judge',
        'all',
        'any',
        'weighted',
      ]),
    );
    expect(listGraders().every((g) => g.description.length > 10)).toBe(true);
  });

  test('numeric and choice are registered', async () => {
    expect((await run('numeric', 'So the total is #### 42', 42)).passed).toBe(true);
    expect((await run('choice', 'The answer is (B).', 'B')).passed).toBe(true);
  });

  test('registerGrader adds a kind; duplicates are refused; throws become error grades', async () => {
    registerGrader({
      type: 'test_shouty',
      description: 'output is upper case',
      options: ['min'],
      create: () => (output) => ({
        score: output === output.toUpperCase() ? 1 : 0,
        passed: output === output.toUpperCase(),
        reason: 'case checked',
      }),
    });
    expect((await run({ type: 'test_shouty', not: true }, 'HELLO')).passed).toBe(false);
    expect(() =>
      registerGrader({
        type: 'exact',
        description: 'dup',
        create: () => () => ({ score: 1, passed: true, reason: '' }),
      }),
    ).toThrow(/already registered/);
    registerGrader({
      type: 'test_thrower',
      description: 'always throws',
      create: () => () => {
        throw new Error('bug in grader');
      },
    });
    expect(await run('test_thrower', 'x')).toMatchObject({
      error: true,
      passed: false,
      reason: 'grader threw: bug in grader',
    });
  });

  test('gradeSafely turns throws and malformed results into error grades', async () => {
    expect(
      await gradeSafely(
        () => {
          throw new Error('nope');
        },
        'x',
        ctxFor(),
      ),
    ).toMatchObject({ error: true, passed: false });
    expect(await gradeSafely(() => ({ ok: 1 }) as unknown as Grade, 'x', ctxFor())).toMatchObject({ error: true });
    expect(await gradeSafely(() => ({ score: 7, passed: true, reason: 'r' }), 'x', ctxFor())).toMatchObject({
      score: 1,
    });
  });

  test.each([
    ['exact', 'exact'],
    [{ type: 'regex', pattern: '^\\d+$' }, 'regex(pattern=^\\d+$)'],
    [
      { type: 'contains', value: ['sorry', '抱歉'], not: true, ignore_case: true },
      'not contains(ignore_case=true, value=[sorry, 抱歉])',
    ],
    [
      {
        type: 'weighted',
        threshold: 0.6,
        graders: [
          { weight: 0.7, type: 'exact' },
          { weight: 0.3, type: 'length', unit: 'words', max: 50 },
        ],
      },
      'weighted(0.7*exact, 0.3*length(max=50, unit=words), threshold=0.6)',
    ],
    [
      {
        type: 'judge',
        judge: 'openai:gpt-4o-mini',
        rubric: 'The answer must cite at least two primary sources and avoid speculation about motives.',
      },
      'judge(judge=openai:gpt-4o-mini, rubric=The answer must cite at least two primary sources and avoid…)',
    ],
  ])('describeGrader(%j)', (spec, label) => {
    expect(describeGrader(spec)).toBe(label);
  });
});
