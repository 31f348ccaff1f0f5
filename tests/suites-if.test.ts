/**
 * The bundled instruction-following and extraction-json suites: well-formed, about half Chinese,
 * and every case's hand-written examples are graded as intended (pass passes, fail fails).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildGrader } from '../src/graders/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const suiteDir = path.resolve(here, '../suites');

interface RawCase {
  id: string;
  category?: string;
  prompt: string;
  expected?: unknown;
  grader?: unknown;
  examples?: { pass?: string[]; fail?: string[] };
  [key: string]: unknown;
}

interface RawSuite {
  name: string;
  description: string;
  grader?: unknown;
  cases: RawCase[];
}

function load(file: string): RawSuite {
  return parse(readFileSync(path.join(suiteDir, file), 'utf8')) as RawSuite;
}

const CJK = /[\u3400-\u4dbf\u4e00-\u9fff]/u;
const CASE_KEYS = new Set(['id', 'category', 'prompt', 'expected', 'grader', 'check', 'examples']);

const suites = [
  {
    file: 'instruction-following.yaml',
    name: 'instruction-following',
    minCases: 45,
    idPattern: /^if-\d{3}$/,
    categories: ['length', 'keywords', 'format', 'language', 'json', 'lists', 'combined'],
  },
  {
    file: 'extraction-json.yaml',
    name: 'extraction-json',
    minCases: 35,
    idPattern: /^ex-\d{3}$/,
    categories: ['orders', 'addresses', 'contracts', 'resumes', 'invoices', 'events'],
  },
] as const;

for (const s of suites) {
  describe(`suites/${s.file}`, () => {
    const suite = load(s.file);

    it('has a name and a description', () => {
      expect(suite.name).toBe(s.name);
      expect(typeof suite.description).toBe('string');
      expect(suite.description.trim().length).toBeGreaterThan(20);
    });

    it(`has at least ${s.minCases} well-formed cases with unique ids`, () => {
      expect(Array.isArray(suite.cases)).toBe(true);
      expect(suite.cases.length).toBeGreaterThanOrEqual(s.minCases);
      const ids = suite.cases.map((c) => c.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const c of suite.cases) {
        expect(c.id, JSON.stringify(c).slice(0, 80)).toMatch(s.idPattern);
        expect(s.categories as readonly string[], `${c.id}: category`).toContain(c.category);
        expect(typeof c.prompt, `${c.id}: prompt`).toBe('string');
        expect(c.prompt.trim().length, `${c.id}: prompt`).toBeGreaterThan(10);
        expect(c.grader ?? suite.grader, `${c.id}: grader`).toBeDefined();
        const extra = Object.keys(c).filter((k) => !CASE_KEYS.has(k));
        expect(extra, `${c.id}: unknown keys`).toEqual([]);
      }
    });

    it('uses every category', () => {
      const used = new Set(suite.cases.map((c) => c.category));
      for (const cat of s.categories) expect(used.has(cat), `category ${cat}`).toBe(true);
    });

    it('is about half Chinese (40-60% of prompts contain CJK characters)', () => {
      const zh = suite.cases.filter((c) => CJK.test(c.prompt)).length;
      const share = zh / suite.cases.length;
      expect(share).toBeGreaterThanOrEqual(0.4);
      expect(share).toBeLessThanOrEqual(0.6);
    });

    it('gives every case a pass and a fail example', () => {
      for (const c of suite.cases) {
        const pass = c.examples?.pass;
        const fail = c.examples?.fail;
        expect(Array.isArray(pass) && pass.length > 0, `${c.id}: examples.pass`).toBe(true);
        expect(Array.isArray(fail) && fail.length > 0, `${c.id}: examples.fail`).toBe(true);
        for (const e of [...(pass ?? []), ...(fail ?? [])]) expect(typeof e, `${c.id}: example type`).toBe('string');
      }
    });

    if (s.name === 'extraction-json') {
      it('gives every case an expected object matching its schema fields', () => {
        for (const c of suite.cases) {
          expect(
            c.expected !== null && typeof c.expected === 'object' && !Array.isArray(c.expected),
            `${c.id}: expected`,
          ).toBe(true);
          const g = c.grader as { type?: string; schema?: { required?: string[] } };
          expect(g?.type, `${c.id}: grader type`).toBe('json');
          expect(g.schema?.required, `${c.id}: schema.required`).toEqual(Object.keys(c.expected as object));
        }
      });
    }

    it('grades every pass example as passed and every fail example as failed', async () => {
      const problems: string[] = [];
      for (const [i, c] of suite.cases.entries()) {
        const spec = c.grader ?? suite.grader;
        let grader;
        try {
          grader = await buildGrader(spec, { suiteDir, path: `cases[${i}].grader` });
        } catch (e) {
          problems.push(`${c.id}: grader could not be built: ${(e as Error).message}`);
          continue;
        }
        const ctx = {
          case: {
            id: c.id,
            prompt: c.prompt,
            expected: c.expected,
            category: c.category ?? 'default',
            grader: (typeof spec === 'string' ? { type: spec } : spec) as { type: string },
            vars: {},
          },
        };
        for (const [kind, want] of [
          ['pass', true],
          ['fail', false],
        ] as const) {
          for (const [j, example] of (c.examples?.[kind] ?? []).entries()) {
            const g = await grader(example, ctx);
            if (g.error) problems.push(`${c.id}: ${kind}[${j}] grader error: ${g.reason}`);
            else if (g.passed !== want)
              problems.push(`${c.id}: ${kind}[${j}] was ${g.passed ? 'passed' : 'failed'}: ${g.reason}`);
          }
        }
      }
      expect(problems).toEqual([]);
    });
  });
}
