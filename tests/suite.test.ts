import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileError, UsageError } from '../src/errors.js';
import { loadSuite } from '../src/suite/load.js';
import { DATASETS, tempDir, writeFiles } from './helpers.js';

async function loadText(yaml: string, files: Record<string, string> = {}, vars: Record<string, string> = {}) {
  const dir = tempDir();
  writeFiles(dir, { 'suite.yaml': yaml, ...files });
  return loadSuite('suite.yaml', { cwd: dir, vars });
}

async function errorOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('suite loading', () => {
  it('loads inline cases with a template, defaults and per-case graders', async () => {
    const s = await loadText(`
name: capitals
description: Capitals of countries.
system: Be brief.
template: "What is the capital of {{country}}?"
grader: { type: contains, ignore_case: true }
cases:
  - { id: fr, country: France, expected: Paris, category: europe }
  - { id: jp, country: Japan, expected: Tokyo }
  - { id: raw, prompt: "Name any ocean.", grader: { type: regex, pattern: "ocean", flags: i } }
`);
    expect(s.name).toBe('capitals');
    expect(s.cases.map((c) => [c.id, c.prompt, c.category, c.system])).toEqual([
      ['fr', 'What is the capital of France?', 'europe', 'Be brief.'],
      ['jp', 'What is the capital of Japan?', 'default', 'Be brief.'],
      ['raw', 'Name any ocean.', 'default', 'Be brief.'],
    ]);
    expect(s.graderName(s.cases[0])).toMatch(/^contains/);
    expect((await s.graderOf(s.cases[0])('It is paris.', { case: s.cases[0] })).passed).toBe(true);
    expect((await s.graderOf(s.cases[2])('The Pacific Ocean', { case: s.cases[2] })).passed).toBe(true);
    expect(s.hash).toMatch(/^[0-9a-f]{16}$/);
  });

  it.each([
    ['name: x\ncases:\n  - id: a\n    prompt: p\n  - id: a\n    prompt: q\n', 5, /duplicate case id 'a'/],
    ['name: x\ncases:\n  - id: a\n    prompt: p\n    expectd: 1\n', 5, /unknown field 'expectd'/],
    ['name: x\ncases: []\n', 2, /no cases/],
    ['name: x\ntemplate: "{{q}} {{r}}"\ncases:\n  - id: a\n    q: hi\n', 4, /template needs 'r'/],
    ['name: x\ngrader: { type: regex }\ncases:\n  - id: a\n    prompt: p\n', 2, /pattern/],
    ['name: x\ncases:\n  - id: a\n    prompt: p\n    grader: nosuch\n', 5, /unknown grader 'nosuch'/],
    ['name: x\nextra: 1\ncases:\n  - id: a\n    prompt: p\n', 2, /unknown field 'extra'/],
    ['name: x\ncases:\n  - id: a\n', 3, /needs a prompt/],
  ])('rejects a bad suite with its line: %#', async (yaml, line, msg) => {
    const e = await errorOf(loadText(yaml));
    expect(e).toBeInstanceOf(FileError);
    expect(e.message).toMatch(msg);
    expect(e.message.startsWith(`suite.yaml:${line}: `)).toBe(true);
  });

  it('loads JSONL with a field mapping and an answer-extracting regex', async () => {
    const s = await loadText(
      `name: gsm
template: "{{question}}"
grader: numeric
source:
  path: data.jsonl
  fields: { expected: answer }
  expected_pattern: "####\\\\s*(.+)$"
  id: "gsm8k-main-test-#{index}"
`,
      { 'data.jsonl': '{"question":"1+1?","answer":"work\\n#### 2"}\n\n{"question":"big?","answer":"#### 2,125"}\n' },
    );
    expect(s.cases.map((c) => [c.id, c.prompt, c.expected])).toEqual([
      ['gsm8k-main-test-#0', '1+1?', '2'],
      ['gsm8k-main-test-#1', 'big?', '2,125'],
    ]);
  });

  it('loads headerless CSV (MMLU style) with quoted commas and newlines, and CSV with a header', async () => {
    const s = await loadText(
      `name: mc
template: "{{question}}\\nA. {{A}}\\nB. {{B}}"
grader: choice
source: { path: "\${DATA}", columns: [question, A, B, answer], fields: { expected: answer } }
`,
      { 'mc.csv': '"Which, of these?","one\ntwo",three,B\nSecond?,x,y,A\n' },
      {},
    ).catch((e) => e as Error);
    expect((s as Error).message).toMatch(/environment variable DATA is not set.*--set DATA=PATH/);

    const dir = tempDir();
    writeFiles(dir, {
      'mc.yaml': `name: mc\ntemplate: "{{question}}|{{A}}|{{B}}"\ngrader: choice\nsource: { path: "\${DATA}", columns: [question, A, B, answer], fields: { expected: answer } }\n`,
      'mc.csv': '"Which, of these?","one\ntwo",three,B\nSecond?,x,y,A\n',
      'h.yaml':
        'name: h\ngrader: exact\nsource: { path: h.csv, fields: { prompt: q, expected: a, id: id, category: cat } }\n',
      'h.csv': 'id,q,a,cat\nk1,"Say ""hi""",hi,greet\n',
    });
    const mc = await loadSuite('mc.yaml', { cwd: dir, vars: { DATA: 'mc.csv' } });
    expect(mc.cases.map((c) => [c.id, c.prompt, c.expected])).toEqual([
      ['0', 'Which, of these?|one\ntwo|three', 'B'],
      ['1', 'Second?|x|y', 'A'],
    ]);
    const h = await loadSuite('h.yaml', { cwd: dir, vars: {} });
    expect(h.cases[0]).toMatchObject({ id: 'k1', prompt: 'Say "hi"', expected: 'hi', category: 'greet' });
  });

  it('a folder named like a bundled suite does not hide it; a folder is never a suite file', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'demo'));
    mkdirSync(join(dir, 'mine'));
    expect((await loadSuite('demo', { cwd: dir, vars: {} })).file).toBe('suites/demo.yaml');
    await expect(loadSuite('mine', { cwd: dir, vars: {} })).rejects.toThrow(
      new UsageError('--suite mine: is a directory, not a file'),
    );
  });

  it('an unknown suite name lists the bundled suites', async () => {
    const e = await errorOf(loadSuite('no-such-suite', { cwd: tempDir(), vars: {} }));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toMatch(/not a bundled suite \(bundled: .*knowledge-mc/);
  });

  const gsm = join(DATASETS, 'gsm8k', 'test.jsonl');
  it.skipIf(!existsSync(gsm))('loads the real GSM8K test set through the bundled gsm8k suite', async () => {
    const s = await loadSuite('gsm8k', { cwd: tempDir(), vars: { GSM8K_TEST_JSONL: gsm } });
    expect(s.cases).toHaveLength(1319);
    expect(s.cases[0].id).toBe('gsm8k-main-test-#0');
    expect(s.cases[0].expected).toBe('18');
    expect(s.cases.filter((c) => String(c.expected).includes(',')).length).toBe(14);
    expect(s.cases.filter((c) => String(c.expected).startsWith('-')).length).toBe(2);
  });
  if (!existsSync(gsm)) console.log(`skipped the GSM8K loading test: ${gsm} is absent`);

  const mmlu = join(DATASETS, 'mmlu', 'test');
  it.skipIf(!existsSync(mmlu))('loads every MMLU subject from a directory, one category per file', async () => {
    const s = await loadSuite('mmlu', { cwd: tempDir(), vars: { MMLU_DIR: mmlu } });
    expect(s.cases.length).toBe(14042);
    expect(new Set(s.cases.map((c) => c.category)).size).toBe(57);
    expect(s.cases.every((c) => ['A', 'B', 'C', 'D'].includes(String(c.expected)))).toBe(true);
  });
});
