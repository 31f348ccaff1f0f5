import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/sim/index.js';
import { cli, DATASETS, tempDir, writeFiles } from './helpers.js';

const rows = (file: string) => parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];
const records = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

let sim: Simulator;
beforeAll(async () => {
  // The simulator plays the judge: it says PASS when the answer under judgment names Paris.
  sim = await startSimulator({
    port: 0,
    models: [
      { name: 'judge-sim', accuracy: 1 },
      { name: 'babbler', accuracy: 1 },
    ],
    answers: {
      lookup: (prompt) =>
        prompt.includes('must name the capital of France')
          ? prompt.includes('Paris')
            ? { correct: 'Verdict: {"verdict": "PASS", "score": 1, "reason": "names Paris"}', wrong: 'x' }
            : { correct: '```json\n{"verdict": "FAIL", "score": 0, "reason": "wrong city"}\n```', wrong: 'x' }
          : undefined,
    },
  });
});
afterAll(() => sim.close());

function judgeProject(judgeModel: string, rubric = 'The answer must name the capital of France.'): string {
  const dir = tempDir();
  writeFiles(dir, {
    'gapbench.config.yaml': `models:
  - { id: answers, provider: replay, model: answers.jsonl, group: open }
  - { id: judge, provider: openai, model: ${judgeModel}, baseURL: "${sim.openaiBaseURL}", judgeOnly: true }
`,
    'answers.jsonl': ['{"id":"a","output":"It is Paris."}', '{"id":"b","output":"Lyon, I think."}'].join('\n'),
    'judged.yaml': `name: judged
grader: { type: judge, judge: judge, rubric: "${rubric}" }
cases:
  - { id: a, prompt: "What is the capital of France?" }
  - { id: b, prompt: "What is the capital of France?" }
  - { id: c, prompt: "What is the capital of France?" }
`,
  });
  return dir;
}

describe('judge grader through its model lane', () => {
  it('grades with the judge model, keeps its prompt and raw verdict, and never runs the judge as a benchmarked model', async () => {
    const dir = judgeProject('judge-sim');
    const r = await cli(['run', '--suite', 'judged.yaml', '--run-id', 'j', '--quiet'], { cwd: dir });
    expect(r.code).toBe(0);
    const res = rows(join(dir, 'results', 'j', 'results.csv'));
    expect(res.map((x) => [x.case_id, x.model, x.passed, x.error_kind]).sort()).toEqual([
      ['a', 'answers', 'true', ''],
      ['b', 'answers', 'false', ''],
      ['c', 'answers', 'false', 'missing'],
    ]);
    const rec = records(join(dir, 'results', 'j', 'records.jsonl')).find((x) => x.case_id === 'a');
    expect(JSON.stringify(rec.grade.details.prompt)).toContain('It is Paris.');
    expect(rec.grade.details.raw).toContain('PASS');
    expect(sim.stats().byModel['judge-sim'].requests).toBe(2);
  });

  it('a judge that answers garbage gives an error grade, not a pass', async () => {
    const dir = judgeProject('babbler', 'Any city is fine.');
    const r = await cli(['run', '--suite', 'judged.yaml', '--run-id', 'g', '--quiet'], { cwd: dir });
    expect(r.code).toBe(0);
    const res = rows(join(dir, 'results', 'g', 'results.csv')).filter((x) => x.case_id !== 'c');
    expect(res).toHaveLength(2);
    for (const x of res)
      expect([x.passed, x.error_kind, x.error]).toEqual(['false', 'grader', expect.stringMatching(/judge/i)]);
  });
});

describe('regrade and replay', () => {
  it('regrade with nothing changed gives identical scores, in a new run that names its source', async () => {
    const dir = tempDir();
    const outs = Array.from({ length: 30 }, (_, i) =>
      JSON.stringify({ id: `q${i}`, output: i % 3 ? `Answer: ${i * 2}` : 'no idea' }),
    );
    writeFiles(dir, {
      'out.jsonl': outs.join('\n'),
      's.yaml': [
        'name: s',
        'grader: numeric',
        'cases:',
        ...Array.from({ length: 30 }, (_, i) => `  - { id: q${i}, prompt: "double ${i}", expected: ${i * 2} }`),
      ].join('\n'),
    });
    expect(
      (
        await cli(['run', '--model', 'replay:out.jsonl', '--suite', 's.yaml', '--run-id', 'src', '--quiet'], {
          cwd: dir,
        })
      ).code,
    ).toBe(0);
    const r = await cli(['regrade', join('results', 'src')], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Regraded 30 records from src \(0 changed/);
    const a = rows(join(dir, 'results', 'src', 'results.csv'));
    const b = rows(join(dir, 'results', 'src-regrade', 'results.csv'));
    expect(b.map((x) => [x.case_id, x.score, x.passed, x.extracted])).toEqual(
      a.map((x) => [x.case_id, x.score, x.passed, x.extracted]),
    );
    expect(JSON.parse(readFileSync(join(dir, 'results', 'src-regrade', 'manifest.json'), 'utf8')).derived_from).toBe(
      'src',
    );
    // A changed suite changes verdicts without any model call.
    writeFiles(dir, {
      't.yaml': readFileSync(join(dir, 's.yaml'), 'utf8').replace(
        'grader: numeric',
        'grader: { type: contains, value: "no idea" }',
      ),
    });
    const r2 = await cli(['regrade', join('results', 'src'), '--suite', 't.yaml', '--run-id', 'contains'], {
      cwd: dir,
    });
    expect(r2.code).toBe(0);
    expect(r2.stdout).toMatch(/Regraded 30 records from src \(30 changed/);
  });

  it('replay: a missing item is an error record, never a pass', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      'out.json': JSON.stringify([{ key: 'x1', resp: { text: '4' } }]),
      's.yaml':
        'name: s\ngrader: numeric\ncases:\n  - { id: "1", prompt: "2+2", expected: 4 }\n  - { id: "2", prompt: "3+3", expected: 6 }\n',
      'gapbench.config.yaml':
        'models:\n  - { id: rp, provider: replay, model: out.json, replay: { idField: key, outputField: resp.text, idTemplate: "x{id}" } }\n',
    });
    expect((await cli(['run', '--suite', 's.yaml', '--run-id', 'r', '--quiet'], { cwd: dir })).code).toBe(0);
    const res = rows(join(dir, 'results', 'r', 'results.csv'));
    expect(res.map((x) => [x.case_id, x.passed, x.error_kind]).sort()).toEqual([
      ['1', 'true', ''],
      ['2', 'false', 'missing'],
    ]);
    // Once the missing output is supplied, --resume --retry-errors re-runs only the error job;
    // its newer record replaces the old one in every report.
    writeFiles(dir, {
      'out.json': JSON.stringify([
        { key: 'x1', resp: { text: '4' } },
        { key: 'x2', resp: { text: '6' } },
      ]),
    });
    const again = await cli(['run', '--resume', join('results', 'r'), '--retry-errors', '--quiet'], { cwd: dir });
    expect(again.code).toBe(0);
    expect(
      readFileSync(join(dir, 'results', 'r', 'records.jsonl'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(3);
    expect(rows(join(dir, 'results', 'r', 'results.csv')).map((x) => [x.case_id, x.passed, x.error_kind])).toEqual([
      ['1', 'true', ''],
      ['2', 'true', ''],
    ]);
    const bad = await cli(['run', '--model', 'replay:nope.jsonl', '--suite', 's.yaml'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/replay file nope\.jsonl not found/);
  });
});

const published: Record<string, number> = {
  'gpt-4o-mini-2024-07-18': 94.24,
  'gpt-3.5-turbo-0125': 80.36,
  'Meta-Llama-3.1-8B-Instruct': 84.0,
  'Qwen2-7B-Instruct': 80.06,
};
const zeroeval = join(DATASETS, 'zeroeval-gsm8k');
const gsm = join(DATASETS, 'gsm8k', 'test.jsonl');
describe.skipIf(!existsSync(zeroeval) || !existsSync(gsm))(
  'GSM8K through the whole pipeline (bundled suite + replay + numeric)',
  () => {
    it('lands within 0.2 points of the published accuracy for each of four real models', async () => {
      const dir = tempDir();
      const models = Object.keys(published)
        .map(
          (m) =>
            `  - { id: ${m}, provider: replay, model: "${join(zeroeval, `${m}.json`)}", replay: { outputField: output.0 } }`,
        )
        .join('\n');
      writeFiles(dir, { 'gapbench.config.yaml': `models:\n${models}\n` });
      const r = await cli(['run', '--suite', 'gsm8k', '--set', `GSM8K_TEST_JSONL=${gsm}`, '--run-id', 'z', '--quiet'], {
        cwd: dir,
      });
      expect(r.code).toBe(0);
      const summary = rows(join(dir, 'results', 'z', 'summary.csv'));
      for (const [m, acc] of Object.entries(published)) {
        const s = summary.find((x) => x.model === m)!;
        expect(Number(s.n)).toBe(1319);
        expect(Math.abs(Number(s.score) * 100 - acc)).toBeLessThanOrEqual(0.2);
      }
    });
  },
);
if (!existsSync(zeroeval)) console.log(`skipped the GSM8K pipeline test: ${zeroeval} is absent`);
