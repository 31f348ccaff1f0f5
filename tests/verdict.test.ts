/**
 * The verdict against servers that fail the way real ones do: judges that are missing or refuse
 * their key, reasoning models cut by max_tokens, repeats, recorded outputs that run past the answer.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pairedComparison, verdictOf } from '../src/report/paired.js';
import { answerKeyFromCases, startSimulator, type Simulator } from '../src/sim/index.js';
import type { Case } from '../src/types.js';
import { cli, parseCsv, tempDir, writeFiles } from './helpers.js';

const N = 30;
const suiteYaml = ['name: arith', 'grader: numeric', 'cases:'];
const cases: Case[] = [];
for (let i = 0; i < N; i++) {
  const prompt = `What is ${i} + ${i * 3}?`;
  suiteYaml.push(`  - { id: q${i}, prompt: "${prompt}", expected: ${i * 4} }`);
  cases.push({ id: `q${i}`, prompt, expected: String(i * 4), category: 'x', grader: { type: 'numeric' }, vars: {} });
}
const arithKey = answerKeyFromCases(cases);
const RUBRIC = 'The answer must name the capital of France.';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    seed: 3,
    // OpenAI routes need this key: a judge given another one is refused (401), as a vendor would.
    apiKey: 'sk-good',
    answers: {
      lookup: (prompt) => {
        if (prompt.includes(RUBRIC))
          return prompt.includes('Paris')
            ? { correct: '{"verdict": "PASS", "score": 1}', wrong: '{"verdict": "FAIL", "score": 0}' }
            : { correct: '{"verdict": "FAIL", "score": 0}', wrong: '{"verdict": "PASS", "score": 1}' };
        if (prompt.includes('capital of France')) return { correct: 'Paris.', wrong: 'Lyon.' };
        return arithKey.lookup(prompt);
      },
    },
    models: [
      { name: 'judge-sim', accuracy: 1 },
      { name: 'answerer', accuracy: 1 },
      { name: 'right', accuracy: 1 },
      { name: 'half', accuracy: 0.6 },
      { name: 'thinker', accuracy: 1, reasoningTokens: 50 },
    ],
  });
});
afterAll(() => sim.close());

const csv = (file: string) => parseCsv(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];
const jsonl = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

function judgedProject(judgeRef = 'judge'): string {
  const dir = tempDir();
  writeFiles(dir, {
    'gapbench.config.yaml': `models:
  - { id: closed, provider: ollama, model: answerer, host: "${sim.ollamaHost}", group: closed }
  - { id: open, provider: ollama, model: half, host: "${sim.ollamaHost}", group: open }
  - { id: judge, provider: openai, model: judge-sim, baseURL: "${sim.openaiBaseURL}", apiKeyEnv: JUDGE_KEY, judgeOnly: true, maxRetries: 0 }
`,
    'judged.yaml': `name: judged
grader: { type: judge, judge: ${judgeRef}, rubric: "${RUBRIC}" }
cases:
${Array.from({ length: 6 }, (_, i) => `  - { id: c${i}, prompt: "What is the capital of France? (${i})" }`).join('\n')}
`,
  });
  return dir;
}

describe('grading failures are errors, never wrong answers', () => {
  it('a judge that names no model of the config stops the run at load, naming the suite line', async () => {
    const dir = judgedProject('nosuch');
    const before = sim.stats().requests;
    const r = await cli(['run', '--suite', 'judged.yaml', '--run-id', 'x'], {
      cwd: dir,
      env: { JUDGE_KEY: 'sk-good' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(
      /^gapbench run: judged\.yaml:2: grader judge: 'nosuch' is not a model in the config/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(sim.stats().requests).toBe(before);
  });

  it('a judge refusing its key turns every case into a grader error left out of the score; --retry-errors asks only the judge', async () => {
    const dir = judgedProject();
    const bad = { JUDGE_KEY: 'sk-bad' };
    const r = await cli(['run', '--suite', 'judged.yaml', '--run-id', 'j'], { cwd: dir, env: bad });
    expect(r.code).toBe(0);
    const run = join(dir, 'results', 'j');
    const recs = jsonl(join(run, 'records.jsonl'));
    expect(recs).toHaveLength(12);
    for (const rec of recs) {
      expect(rec.status).toBe('error');
      expect(rec.error.kind).toBe('grader');
      expect(rec.error.message).toMatch(/judge judge failed/);
      expect(typeof rec.output).toBe('string');
    }
    const summary = csv(join(run, 'summary.csv'));
    for (const s of summary) expect([s.n, s.errors, s.excluded, s.score]).toEqual(['0', '6', '6', '']);
    expect(summary[0].top_error).toMatch(/^grader: judge judge failed/);
    expect(csv(join(run, 'gap.csv'))).toEqual([]);
    expect(r.stdout).toMatch(/errors: 'closed' 6 \(left out of the score\); most often grader: judge judge failed/);
    expect(r.stdout).not.toMatch(/Gap, best pair/);
    // --max-errors 0 fails and says why.
    const strict = await cli(['run', '--suite', 'judged.yaml', '--run-id', 'k', '--max-errors', '0'], {
      cwd: dir,
      env: bad,
    });
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(
      /FAIL closed had 6 error rows of 6 on judged, over --max-errors 0 \(most often grader: /,
    );
    // The key fixed: the stored answers are graded again, the answering models are not asked again.
    const asked = { ...sim.stats().byModel };
    const retry = await cli(['run', '--resume', run, '--retry-errors'], { cwd: dir, env: { JUDGE_KEY: 'sk-good' } });
    expect(retry.code).toBe(0);
    expect(sim.stats().byModel.answerer.requests).toBe(asked.answerer.requests);
    expect(sim.stats().byModel.half.requests).toBe(asked.half.requests);
    expect(sim.stats().byModel['judge-sim'].ok - asked['judge-sim'].ok).toBe(12);
    const after = csv(join(run, 'summary.csv'));
    expect(after.find((s) => s.model === 'closed')).toMatchObject({ n: '6', errors: '0', score: '1' });
  });
});

function reasoningProject(maxTokens: number): string {
  const dir = tempDir();
  writeFiles(dir, {
    'arith.yaml': suiteYaml.join('\n'),
    'gapbench.config.yaml': `models:
  - { id: thinker, provider: openai, model: thinker, baseURL: "${sim.openaiBaseURL}", apiKeyEnv: KEY, group: closed, params: { max_tokens: ${maxTokens} } }
  - { id: open, provider: ollama, model: half, host: "${sim.ollamaHost}", group: open }
`,
  });
  return dir;
}

describe('truncated answers are visible', () => {
  it('a reasoning model that spends max_tokens on thinking gives truncated errors, not a significant gap', async () => {
    const dir = reasoningProject(40);
    const r = await cli(['run', '--suite', 'arith.yaml', '--run-id', 't'], { cwd: dir, env: { KEY: 'sk-good' } });
    expect(r.code).toBe(0);
    const run = join(dir, 'results', 't');
    const recs = jsonl(join(run, 'records.jsonl')).filter((x) => x.model === 'thinker');
    expect(recs).toHaveLength(N);
    for (const rec of recs) {
      expect(rec).toMatchObject({ status: 'error', output: '', finish_reason: 'length', reasoning_tokens: 40 });
      expect(rec.error).toMatchObject({
        kind: 'truncated',
        message: expect.stringMatching(/raise params\.max_tokens/),
      });
      expect(rec.reasoning).toMatch(/^think/);
    }
    const s = csv(join(run, 'summary.csv')).find((x) => x.model === 'thinker')!;
    expect(s).toMatchObject({ n: '0', errors: String(N), excluded: String(N), truncated: String(N), empty: String(N) });
    expect(csv(join(run, 'gap.csv')).filter((g) => g.verdict !== 'no_significant_difference')).toEqual([]);
    expect(r.stdout).toMatch(
      /warning: 'thinker' 30 answer\(s\) cut by the token limit, 30 of them empty: raise params\.max_tokens/,
    );
  });

  it('with budget left after thinking, the answer is graded and the reasoning kept apart', async () => {
    const dir = reasoningProject(200);
    const r = await cli(['run', '--suite', 'arith.yaml', '--run-id', 'ok'], { cwd: dir, env: { KEY: 'sk-good' } });
    expect(r.code).toBe(0);
    const run = join(dir, 'results', 'ok');
    const recs = jsonl(join(run, 'records.jsonl')).filter((x) => x.model === 'thinker');
    for (const rec of recs) {
      expect(rec).toMatchObject({ status: 'ok', finish_reason: 'stop', reasoning_tokens: 50 });
      expect(rec.output).not.toMatch(/think/);
    }
    expect(csv(join(run, 'summary.csv')).find((x) => x.model === 'thinker')).toMatchObject({
      score: '1',
      truncated: '0',
    });
  });
});

describe('repeats are repeats, not more cases', () => {
  it('a deterministic model gets the same intervals, p-value and verdict at --repeat 1 and --repeat 5', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      'arith.yaml': suiteYaml.join('\n'),
      'gapbench.config.yaml': `defaults: { params: { temperature: 0, seed: 11 } }
models:
  - { id: closed, provider: openai, model: right, baseURL: "${sim.openaiBaseURL}", apiKeyEnv: KEY, group: closed }
  - { id: open, provider: ollama, model: half, host: "${sim.ollamaHost}", group: open }
`,
    });
    const env = { KEY: 'sk-good' };
    expect((await cli(['run', '--suite', 'arith.yaml', '--run-id', 'r1', '--quiet'], { cwd: dir, env })).code).toBe(0);
    const r5 = await cli(['run', '--suite', 'arith.yaml', '--run-id', 'r5', '--repeat', '5'], { cwd: dir, env });
    expect(r5.code).toBe(0);
    const pick = (run: string) => ({
      summary: csv(join(dir, 'results', run, 'summary.csv')).map((s) => [
        s.model,
        s.n_cases,
        s.score,
        s.ci_low,
        s.ci_high,
      ]),
      gap: csv(join(dir, 'results', run, 'gap.csv')).map((g) => [
        g.gap_pp,
        g.ci_low_pp,
        g.ci_high_pp,
        g.p_value,
        g.verdict,
      ]),
    });
    const one = pick('r1');
    expect(pick('r5')).toEqual(one);
    expect(csv(join(dir, 'results', 'r5', 'summary.csv')).map((s) => [s.n, s.consistency])).toEqual([
      [String(5 * N), '1'],
      [String(5 * N), '1'],
    ]);
    expect(r5.stdout).not.toMatch(/differing answers/);
  });
});

describe('one verdict, one story', () => {
  it('interval, p-value and verdict agree on every generated comparison', () => {
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let significant = 0;
    for (let trial = 0; trial < 3000; trial++) {
      const n = 2 + Math.floor(rand() * (trial % 3 === 0 ? 20 : 400));
      const kind = trial % 4;
      const pa = rand();
      const pb = pa + (rand() - 0.5) * 0.4;
      const draw = (p: number) =>
        kind === 0
          ? rand() < p
            ? 1
            : 0
          : kind === 1
            ? Math.round(rand() * 4) / 4
            : Math.min(1, Math.max(0, p + (rand() - 0.5)));
      const a = Array.from({ length: n }, () => draw(pa));
      const b = Array.from({ length: n }, () => draw(pb));
      const r = pairedComparison(a, b)!;
      const v = verdictOf(r);
      const excludesZero = r.ci.low > 0 || r.ci.high < 0;
      expect([r.p < 0.05, v !== 'no_significant_difference']).toEqual([excludesZero, excludesZero]);
      if (v === 'closed_better') expect(r.ci.low).toBeGreaterThan(0);
      if (v === 'open_better') expect(r.ci.high).toBeLessThan(0);
      if (excludesZero) significant++;
    }
    // Both outcomes are exercised.
    expect(significant).toBeGreaterThan(300);
    expect(significant).toBeLessThan(2700);
  });

  it('pairs: adds a labelled gap row per configured pair; a pair of one group is a config error', async () => {
    const dir = tempDir();
    const models = `models:
  - { id: closed, provider: openai, model: right, baseURL: "${sim.openaiBaseURL}", apiKeyEnv: KEY, group: closed }
  - { id: open, provider: ollama, model: half, host: "${sim.ollamaHost}", group: open }
  - { id: open2, provider: ollama, model: answerer, host: "${sim.ollamaHost}", group: open }
`;
    writeFiles(dir, {
      'arith.yaml': suiteYaml.join('\n'),
      'gapbench.config.yaml': `${models}pairs:\n  - { closed: closed, open: open }\n`,
      'bad.yaml': `${models}pairs:\n  - { closed: closed, open: closed }\n`,
    });
    const env = { KEY: 'sk-good' };
    const r = await cli(['run', '--suite', 'arith.yaml', '--run-id', 'p'], { cwd: dir, env });
    expect(r.code).toBe(0);
    const gap = csv(join(dir, 'results', 'p', 'gap.csv')).filter((g) => g.category === 'all');
    expect(gap.map((g) => [g.scope, g.closed_model, g.open_model])).toEqual([
      ['best', 'closed', 'open2'],
      ['mean', 'closed', 'open + open2'],
      ['pair', 'closed', 'open'],
    ]);
    expect(r.stdout).toMatch(/Gap, best pair \(open2 vs closed\)/);
    expect(r.stdout).toMatch(/Gap, group means \(open \+ open2 vs closed\)/);
    expect(r.stdout).toMatch(/Gap, pair \(open vs closed\)/);
    const b = await cli(['run', '--config', 'bad.yaml', '--suite', 'arith.yaml'], { cwd: dir, env });
    expect(b.code).toBe(2);
    expect(b.stderr.trim()).toBe("gapbench run: bad.yaml:6: pairs[0].open: 'closed' is in group closed, not open");
  });
});

describe('replay cuts as a server cuts', () => {
  it("cuts recorded base-model outputs at params.stop, so the continuation's answer is not graded", async () => {
    const dir = tempDir();
    const n = 20;
    const letters = 'ABCD';
    const suite = ['name: mc', 'grader: choice', 'cases:'];
    const outs: string[] = [];
    for (let i = 0; i < n; i++) {
      const right = letters[i % 4];
      const other = letters[(i + 1) % 4];
      suite.push(`  - { id: m${i}, prompt: "Question ${i}", expected: ${right} }`);
      // What a base model prompted few-shot writes: its answer, then the next invented question.
      outs.push(
        JSON.stringify({
          id: `m${i}`,
          output: ` The answer is (${right}).\n\nQuestion: what next?\nThe answer is (${other}).`,
        }),
      );
    }
    writeFiles(dir, {
      'mc.yaml': suite.join('\n'),
      'out.jsonl': outs.join('\n'),
      'cut.yaml':
        'models:\n  - { id: base, provider: replay, model: out.jsonl, group: open, params: { stop: ["\\n\\nQuestion:"] } }\n',
    });
    const r = await cli(['run', '--config', 'cut.yaml', '--suite', 'mc.yaml', '--run-id', 'cut', '--quiet'], {
      cwd: dir,
    });
    expect(r.code).toBe(0);
    const recs = jsonl(join(dir, 'results', 'cut', 'records.jsonl'));
    for (const rec of recs) {
      expect(rec.output).not.toContain('Question:');
      expect(rec.finish_reason).toBe('stop');
    }
    expect(csv(join(dir, 'results', 'cut', 'summary.csv'))[0].score).toBe('1');
  });
});
