import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkMatches, evaluateCheck, expectedNumber } from '../src/suite/check.js';

interface MathCase {
  id: string;
  category: string;
  prompt: string;
  expected: string | number;
  check: string;
  [key: string]: unknown;
}

interface MathSuite {
  name: string;
  description: string;
  system?: string;
  grader?: unknown;
  cases: MathCase[];
}

const CATEGORIES = new Set([
  'percentages',
  'rates',
  'money',
  'time',
  'ratios',
  'geometry',
  'multi-step',
  'units',
  'fractions',
  'averages',
]);
const CASE_KEYS = new Set(['id', 'category', 'prompt', 'expected', 'check']);

function load(file: string): MathSuite {
  const path = fileURLToPath(new URL(`../suites/${file}`, import.meta.url));
  return parse(readFileSync(path, 'utf8'), { prettyErrors: true }) as MathSuite;
}

const suites = [
  { file: 'math-word.yaml', name: 'math-word', prefix: 'mw-', minCases: 75, han: false },
  { file: 'math-word-zh.yaml', name: 'math-word-zh', prefix: 'mwz-', minCases: 55, han: true },
] as const;

describe.each(suites)('$file', ({ file, name, prefix, minCases, han }) => {
  const suite = load(file);
  const cases = suite.cases ?? [];

  it('has a name, a description, a system message and the numeric grader', () => {
    expect(suite.name).toBe(name);
    expect(typeof suite.description).toBe('string');
    expect(suite.description.trim().length).toBeGreaterThan(20);
    expect(suite.system).toMatch(/Answer: <(number|数字)>/);
    expect(suite.grader).toBe('numeric');
  });

  it(`has at least ${minCases} cases with unique, numbered ids`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(minCases);
    const ids = cases.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    ids.forEach((id, i) => expect(id).toBe(`${prefix}${String(i + 1).padStart(3, '0')}`));
  });

  it('gives every case a prompt, a numeric expected answer, a known category and a check, and nothing else', () => {
    for (const c of cases) {
      const where = `${file} ${c.id}`;
      expect(
        Object.keys(c).filter((k) => !CASE_KEYS.has(k)),
        where,
      ).toEqual([]);
      expect(typeof c.prompt, where).toBe('string');
      expect(c.prompt.trim().length, where).toBeGreaterThan(20);
      if (han) expect(c.prompt, where).toMatch(/\p{Script=Han}/u);
      else expect(c.prompt, where).not.toMatch(/\p{Script=Han}/u);
      expect(typeof c.category, where).toBe('string');
      expect(CATEGORIES.has(c.category), `${where}: category ${c.category}`).toBe(true);
      expect(typeof c.check, where).toBe('string');
      expect(c.check.trim().length, where).toBeGreaterThan(0);
      expect(expectedNumber(c.expected), `${where}: expected ${JSON.stringify(c.expected)}`).not.toBeNull();
    }
  });

  it.each(cases.map((c) => [c.id, c] as const))('%s: check evaluates to expected', (_id, c) => {
    const value = evaluateCheck(c.check);
    expect(checkMatches(value, c.expected), `check ${c.check} = ${value}, expected ${c.expected}`).toBe(true);
  });

  it('expected answers are short: integers or at most 3 decimals', () => {
    for (const c of cases) {
      expect(String(c.expected), c.id).toMatch(/^-?\d+(\.\d{1,3})?$/);
    }
  });

  it('uses several categories, each with at least 4 cases', () => {
    const counts = new Map<string, number>();
    for (const c of cases) counts.set(c.category, (counts.get(c.category) ?? 0) + 1);
    expect(counts.size).toBeGreaterThanOrEqual(8);
    for (const [category, n] of counts) expect(n, category).toBeGreaterThanOrEqual(4);
  });

  it('has no duplicate prompts', () => {
    const prompts = cases.map((c) => c.prompt.replace(/\s+/g, ' ').trim());
    expect(new Set(prompts).size).toBe(prompts.length);
  });
});

describe('math suites together', () => {
  it('use the same category vocabulary in both languages', () => {
    const en = new Set(load('math-word.yaml').cases.map((c) => c.category));
    const zh = new Set(load('math-word-zh.yaml').cases.map((c) => c.category));
    expect([...zh].sort()).toEqual([...en].sort());
  });

  it('a wrong expected value would be caught by its check', () => {
    const c = load('math-word.yaml').cases[0];
    const value = evaluateCheck(c.check);
    expect(checkMatches(value, Number(c.expected) + 1)).toBe(false);
  });
});
