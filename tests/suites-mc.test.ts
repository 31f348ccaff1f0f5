import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const SUITES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../suites');
const LETTERS = ['A', 'B', 'C', 'D'] as const;

interface McCase {
  id: unknown;
  category: unknown;
  question: unknown;
  A: unknown;
  B: unknown;
  C: unknown;
  D: unknown;
  expected: unknown;
  [key: string]: unknown;
}

interface McSuite {
  name: unknown;
  description: unknown;
  template: unknown;
  grader: unknown;
  cases: McCase[];
}

const SUITES: { file: string; name: string; idPattern: RegExp; categories: string[] }[] = [
  {
    file: 'knowledge-mc.yaml',
    name: 'knowledge-mc',
    idPattern: /^kmc-\d{3}$/,
    categories: [
      'science-physics',
      'science-chemistry',
      'science-biology',
      'history',
      'geography',
      'computing-algorithms',
      'computing-networking',
      'computing-languages',
    ],
  },
  {
    file: 'knowledge-mc-zh.yaml',
    name: 'knowledge-mc-zh',
    idPattern: /^kmcz-\d{3}$/,
    categories: ['history', 'literature', 'geography', 'law', 'everyday'],
  },
];

const ALLOWED_CASE_KEYS = new Set(['id', 'category', 'question', ...LETTERS, 'expected']);

function load(file: string): McSuite {
  return parse(readFileSync(resolve(SUITES_DIR, file), 'utf8')) as McSuite;
}

describe.each(SUITES)('suites/$file', ({ file, name, idPattern, categories }) => {
  const suite = load(file);
  const cases = suite.cases;

  it('has a name, a description, the choice grader and an A-D template', () => {
    expect(suite.name).toBe(name);
    expect(typeof suite.description).toBe('string');
    expect((suite.description as string).trim().length).toBeGreaterThan(20);
    expect(suite.grader).toBe('choice');
    expect(typeof suite.template).toBe('string');
    for (const field of ['question', ...LETTERS]) expect(suite.template as string).toContain(`{{${field}}}`);
  });

  it('has at least 75 cases', () => {
    expect(Array.isArray(cases)).toBe(true);
    expect(cases.length).toBeGreaterThanOrEqual(75);
  });

  it('has unique, well-formed ids', () => {
    const ids = cases.map((c) => c.id);
    for (const id of ids) expect(id).toMatch(idPattern);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('has no duplicate questions', () => {
    const questions = cases.map((c) => String(c.question).trim());
    expect(new Set(questions).size).toBe(questions.length);
  });

  it('gives every case a question, four distinct non-empty options and an expected letter', () => {
    for (const c of cases) {
      const where = `case ${String(c.id)}`;
      expect(
        Object.keys(c).filter((k) => !ALLOWED_CASE_KEYS.has(k)),
        where,
      ).toEqual([]);
      expect(typeof c.question, where).toBe('string');
      expect((c.question as string).trim(), where).not.toBe('');
      const options = LETTERS.map((l) => c[l]);
      for (const o of options) {
        expect(typeof o, where).toBe('string');
        expect((o as string).trim(), where).not.toBe('');
      }
      const normalized = options.map((o) => String(o).trim().toLowerCase());
      expect(new Set(normalized).size, where).toBe(4);
      expect(LETTERS as readonly unknown[], where).toContain(c.expected);
    }
  });

  it('uses only its category vocabulary, and every category', () => {
    const used = new Set(cases.map((c) => c.category));
    for (const c of cases) expect(categories, `case ${String(c.id)}`).toContain(c.category);
    for (const cat of categories) expect(used.has(cat), `category ${cat} unused`).toBe(true);
  });

  it('balances the answer letters (each within 2 of n/4)', () => {
    const counts = Object.fromEntries(LETTERS.map((l) => [l, 0])) as Record<string, number>;
    for (const c of cases) counts[c.expected as string]++;
    const quarter = cases.length / 4;
    for (const l of LETTERS) {
      expect(counts[l], `letter ${l}: ${JSON.stringify(counts)}`).toBeGreaterThanOrEqual(quarter - 2);
      expect(counts[l], `letter ${l}: ${JSON.stringify(counts)}`).toBeLessThanOrEqual(quarter + 2);
    }
  });
});
