/**
 * An answer key built from suite cases, so simulated models answer in realistic shapes
 * that the case's own grader passes (correct) or fails (wrong). Hand-written
 * `examples.pass[0]` / `examples.fail[0]` win over anything derived here.
 */
import type { Case } from '../types.js';
import { isRecord } from '../util/record.js';
import type { AnswerKey } from './types.js';
import { hashUnit } from './text.js';

type Pair = { correct: string; wrong: string };

const UNSURE = 'I am not sure.';

/** A style index 0..n-1 that varies by case but is stable across runs. */
function styleOf(c: Case, n: number): number {
  return Math.floor(hashUnit(`style\u0000${c.id}`) * n);
}

function firstOf(v: unknown): unknown {
  return Array.isArray(v) ? v[0] : v;
}

function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const t = v.trim().replace(/,/g, '');
  if (t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** The largest numeric option whose name mentions a tolerance, so a wrong answer stays outside it. */
function toleranceOf(c: Case): number {
  let tol = 0;
  for (const [k, v] of Object.entries(c.grader)) {
    if (/tol|eps/i.test(k) && typeof v === 'number' && Number.isFinite(v)) tol = Math.max(tol, Math.abs(v));
  }
  return tol;
}

/** A number that differs from `e` by more than `tol`, absolute and relative. */
function wrongNumber(e: number, tol: number): number {
  const outside = (w: number): boolean => Math.abs(w - e) > tol && Math.abs(w - e) > tol * Math.abs(e) && w !== e;
  const candidates = [e + 1, e * 2, e + Math.max(1, Math.abs(e)) * (tol * 10 + 1), e + (tol + 1) * 100];
  // Rounded to 12 digits, so no float noise (0.30000000000000004) reaches the answer text.
  return Number((candidates.find(outside) ?? e + 1e6).toPrecision(12));
}

function numericAnswer(n: number, style: number): string {
  switch (style) {
    case 0:
      return `Let me work through this step by step.\nFirst I set up the quantities, then I combine them carefully.\nThe answer is ${n}.`;
    case 1:
      return `We compute the result from the given values.\nChecking the arithmetic once more confirms it.\n#### ${n}`;
    case 2:
      return JSON.stringify({
        reasoning: 'Set up the quantities, combined them, and checked the arithmetic.',
        answer: n,
      });
    default:
      return `Combining the given values step by step gives the final result: $\\boxed{${n}}$`;
  }
}

function numericPair(c: Case): Pair | undefined {
  // The grader's own `expected` option overrides the case's.
  const e = asNumber(firstOf(c.grader.expected ?? c.expected));
  if (e === undefined) return undefined;
  const style = styleOf(c, 4);
  return { correct: numericAnswer(e, style), wrong: numericAnswer(wrongNumber(e, toleranceOf(c)), style) };
}

function choiceAnswer(letter: string, style: number): string {
  return [`Answer: ${letter}`, `(${letter})`, `**${letter}**`, `The answer is ${letter}.`][style];
}

/** The case's option texts when the grader names the variable holding them (`options_field`). */
function optionTexts(c: Case, letters: string): string[] | undefined {
  const field = c.grader.options_field;
  const v = typeof field === 'string' ? c.vars?.[field] : undefined;
  if (Array.isArray(v)) return v.map((x) => String(x));
  if (isRecord(v)) return [...letters].map((l) => String(v[l] ?? ''));
  return undefined;
}

function choicePair(c: Case): Pair | undefined {
  const letters =
    typeof c.grader.letters === 'string' && /^[A-Za-z]{2,26}$/.test(c.grader.letters)
      ? c.grader.letters.toUpperCase()
      : 'ABCDEFGHIJ';
  const raw = firstOf(c.expected);
  if (typeof raw !== 'string') return undefined;
  const texts = optionTexts(c, letters);
  const m = /^\s*[([]?\s*([A-Za-z])\s*[)\]]?\s*[.:]?\s*$/.exec(raw);
  const index = m
    ? letters.indexOf(m[1].toUpperCase())
    : (texts?.findIndex((t) => t.trim().toLowerCase() === raw.trim().toLowerCase()) ?? -1);
  if (index < 0) return undefined;
  // Wrong letters come from the real options (or the first four letters), never the right one.
  const pool = letters.slice(0, Math.max(2, Math.min(letters.length, texts?.length ?? 4)));
  const others = [...pool].filter((_, i) => i !== index);
  const wrongLetter = others.length > 0 ? others[styleOf(c, others.length)] : letters[index === 0 ? 1 : 0];
  const style = styleOf(c, 4);
  return { correct: choiceAnswer(letters[index], style), wrong: choiceAnswer(wrongLetter, style) };
}

/** The same JSON value with one field (the first key, or the first element) changed. */
function changeOne(v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? [null] : [changeOne(v[0]), ...v.slice(1)];
  if (typeof v === 'object' && v !== null) {
    const entries = Object.entries(v);
    if (entries.length === 0) return { unexpected: true };
    const [k, first] = entries[0];
    return { ...Object.fromEntries(entries), [k]: changeOne(first) };
  }
  if (typeof v === 'number') return v + 1;
  if (typeof v === 'boolean') return !v;
  if (typeof v === 'string') return v === '' ? 'changed' : `${v} (changed)`;
  return 'changed';
}

function jsonPair(c: Case): Pair | undefined {
  let e = c.expected;
  if (typeof e === 'string') {
    try {
      e = JSON.parse(e);
    } catch {
      return undefined;
    }
  }
  if (typeof e !== 'object' || e === null) return undefined;
  const fence = (v: unknown): string => '```json\n' + JSON.stringify(v, null, 2) + '\n```';
  return { correct: fence(e), wrong: fence(changeOne(e)) };
}

function textOf(v: unknown): string {
  const f = firstOf(v);
  return typeof f === 'string' ? f : (JSON.stringify(f) ?? String(f));
}

const TEXT_GRADERS = new Set(['exact', 'contains', 'similarity']);

/** exact / contains / similarity: the reference text (the grader's `value` wins over `expected`). */
function textPair(c: Case): Pair | undefined {
  const ref = c.grader.value ?? c.expected;
  if (ref === undefined || ref === null) return undefined;
  // contains with mode `all` needs every text in the answer.
  const correct = Array.isArray(ref) && c.grader.mode === 'all' ? ref.map(textOf).join(', ') : textOf(ref);
  return { correct, wrong: UNSURE };
}

/** Correct and wrong answers derived from `expected` and the grader type (no examples). */
function derivedPair(c: Case): Pair | undefined {
  const type = c.grader.type;
  let pair: Pair | undefined;
  if (type === 'numeric') pair = numericPair(c);
  else if (type === 'choice') pair = choicePair(c);
  else if (type === 'json') pair = jsonPair(c);
  else if (TEXT_GRADERS.has(type)) pair = textPair(c);
  if (pair === undefined && c.expected !== undefined) pair = { correct: textOf(c.expected), wrong: UNSURE };
  if (pair === undefined) return undefined;
  // A negated grader passes what the plain one fails.
  return c.grader.not === true ? { correct: pair.wrong, wrong: pair.correct } : pair;
}

/** The answer key for a list of cases, keyed by the exact prompt string (the first case wins). */
export function answerKeyFromCases(cases: readonly Case[]): AnswerKey {
  const table = new Map<string, Pair>();
  for (const c of cases) {
    if (table.has(c.prompt)) continue;
    const pass = c.examples?.pass?.[0];
    const fail = c.examples?.fail?.[0];
    const derived = pass !== undefined && fail !== undefined ? undefined : derivedPair(c);
    const correct = pass ?? derived?.correct;
    if (correct === undefined) continue;
    table.set(c.prompt, { correct, wrong: fail ?? derived?.wrong ?? UNSURE });
  }
  return { lookup: (prompt: string) => table.get(prompt) };
}
