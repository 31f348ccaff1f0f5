/**
 * What a custom grader sees (docs/graders.md, "Custom graders"): the full context, and a read of a
 * property it does not have fails loudly instead of grading every case against `undefined`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GradeContext } from '../src/graders/grader.js';
import { buildGrader } from '../src/graders/index.js';
import type { Case } from '../src/types.js';
import { cli, REPO, tempDir, writeFiles } from './helpers.js';

const aCase = (extra: Partial<Case> = {}): Case => ({
  id: 'c1',
  prompt: 'What is the capital of France?',
  category: 'europe',
  grader: { type: 'custom' },
  expected: 'Paris',
  vars: { country: 'France', answer: 'Paris' },
  ...extra,
});

async function gradeWith(body: string, ctx: GradeContext, output = 'It is Paris.') {
  const dir = tempDir('gapbench-ctx-');
  writeFiles(dir, { 'g.mjs': `export default (output, ctx) => { ${body} };` });
  const fn = await buildGrader({ type: 'custom', path: 'g.mjs', word: 'Paris' }, { suiteDir: dir });
  return fn(output, ctx);
}

describe('the context of a custom grader', () => {
  it('holds the case, the completion facts and the options where the docs say', async () => {
    const g = await gradeWith(
      'return { pass: output.includes(ctx.case.expected), extracted: [ctx.case.id, ctx.case.category, ctx.case.vars.country, ctx.options.word, ctx.completion.latencyMs].join(",") };',
      { case: aCase(), completion: { latencyMs: 12 } },
    );
    expect(g).toMatchObject({ passed: true, extracted: 'c1,europe,France,Paris,12' });
  });

  it('ctx.expected fails the case with an error grade naming ctx.case.expected', async () => {
    const g = await gradeWith('return output.includes(ctx.expected);', { case: aCase() });
    expect(g).toMatchObject({ passed: false, error: true });
    expect(g.reason).toContain("ctx.expected is not in the grader context; the case's expected is ctx.case.expected");
  });

  it("a case's own field read as ctx.case.X names ctx.case.vars.X", async () => {
    const g = await gradeWith('return output.includes(ctx.case.answer);', { case: aCase() });
    expect(g).toMatchObject({ error: true });
    expect(g.reason).toContain("the case's field 'answer' is ctx.case.vars.answer");
    const other = await gradeWith('return ctx.case.gold === 1;', { case: aCase() });
    expect(other.reason).toMatch(/ctx\.case\.gold is not a case property \(a case has id, prompt, .*ctx\.case\.vars\)/);
  });

  it('optional properties a case lacks read as undefined, and a missing completion is no error', async () => {
    const g = await gradeWith(
      'return { pass: ctx.case.expected === undefined && ctx.case.system === undefined && ctx.completion === undefined && ctx.ask === undefined };',
      { case: aCase({ expected: undefined }) },
    );
    expect(g).toMatchObject({ passed: true });
  });

  it('ctx.completion.X that is not a measured fact is an error; JSON.stringify and spreading still work', async () => {
    const bad = await gradeWith('return ctx.completion.latency < 1000;', {
      case: aCase(),
      completion: { latencyMs: 5 },
    });
    expect(bad.reason).toContain('ctx.completion.latency is not known (it has latencyMs, inputTokens');
    const ok = await gradeWith('const c = { ...ctx }; return JSON.stringify(c.case).includes("France");', {
      case: aCase(),
    });
    expect(ok).toMatchObject({ passed: true });
  });

  it('gapbench validate reports a grader that reads ctx.expected, on the case examples', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      'g.mjs': 'export default (output, ctx) => output.includes(ctx.expected);',
      'suite.yaml': [
        'name: capitals',
        'grader: { type: custom, path: g.mjs }',
        'cases:',
        '  - { id: fr, prompt: Capital of France?, expected: Paris, examples: { pass: [Paris] } }',
      ].join('\n'),
    });
    const r = await cli(['validate', 'suite.yaml'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ctx.case.expected');
  });
});

describe('the typed custom grader of docs/graders.md', () => {
  const docs = readFileSync(join(REPO, 'docs', 'graders.md'), 'utf8');
  const code = /```ts\n(\/\/ graders\/keyword\.ts\n[\s\S]*?)```/.exec(docs)?.[1];

  it('compiles with tsc --strict against the package types and grades as it says', async () => {
    expect(code).toMatch(/from 'gapbench'/);
    // Inside the package, so `import ... from 'gapbench'` resolves to this package (its exports).
    const dir = join(REPO, '.test-tmp', `grader-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    try {
      writeFileSync(join(dir, 'keyword.mts'), code!);
      const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
      const flags = ['--strict', '--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext'];
      execFileSync(process.execPath, [
        tsc,
        ...flags,
        '--target',
        'es2022',
        '--types',
        'node',
        join(dir, 'keyword.mts'),
      ]);
      const fn = await buildGrader({ type: 'custom', path: 'keyword.mts', word: 'paris' }, { suiteDir: dir });
      const c = aCase();
      expect(await fn('The capital is Paris.', { case: c, completion: { latencyMs: 800 } })).toMatchObject({
        passed: true,
        extracted: 'paris',
      });
      expect(await fn('The capital is Paris.', { case: c, completion: { latencyMs: 20_000 } })).toMatchObject({
        passed: false,
        score: 1,
      });
      expect(await fn('Lyon', { case: c })).toMatchObject({ passed: false, score: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
