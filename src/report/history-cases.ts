/**
 * history-cases.jsonl, beside history.csv: each history run's per-case scores (a case's mean over
 * its repeats), one JSON line per run. With it the regression gate runs the paired test against a
 * baseline whose run directory is gone, as in CI where only the history files travel between runs.
 * About (6 bytes x cases x models + case ids) per run.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import type { Aggregate } from './aggregate.js';
import { HISTORY_MAX_BYTES } from './history-read.js';

/** A run's per-case scores: suite -> case id -> model -> score. */
export interface RunScores {
  runId: string;
  suites: string[];
  models: { id: string; group: string }[];
  cases: Map<string, Map<string, Map<string, number>>>;
}

interface Line {
  run_id: string;
  groups: Record<string, string>;
  suites: Record<string, { cases: string[]; scores: Record<string, (number | null)[]> }>;
}

/** The file name beside history.csv. */
export const HISTORY_CASES = 'history-cases.jsonl';

/** A run's per-case scores from its aggregate. */
export function runScores(agg: Aggregate): RunScores {
  const cases = new Map<string, Map<string, Map<string, number>>>();
  for (const row of agg.cases) {
    const bySuite = cases.get(row.suite) ?? new Map<string, Map<string, number>>();
    const m = new Map<string, number>();
    for (const [model, e] of row.entries()) m.set(model, e[0] / e[1]);
    bySuite.set(row.caseId, m);
    cases.set(row.suite, bySuite);
  }
  return { runId: agg.runId, suites: [...agg.suites], models: agg.models.map((m) => ({ ...m })), cases };
}

/** Appends one run's line. */
export async function appendCaseScores(path: string, s: RunScores): Promise<void> {
  const line: Line = { run_id: s.runId, groups: Object.fromEntries(s.models.map((m) => [m.id, m.group])), suites: {} };
  for (const suite of s.suites) {
    const byCase = s.cases.get(suite) ?? new Map<string, Map<string, number>>();
    const ids = [...byCase.keys()];
    const scores: Record<string, (number | null)[]> = {};
    for (const m of s.models)
      scores[m.id] = ids.map((id) => {
        const v = byCase.get(id)?.get(m.id);
        return v === undefined ? null : Number(v.toFixed(6));
      });
    line.suites[suite] = { cases: ids, scores };
  }
  await appendFile(path, `${JSON.stringify(line)}\n`, 'utf8');
}

/** The last line for `runId` that parses, or undefined (a damaged line is passed over). */
export function readCaseScores(path: string, runId: string): RunScores | undefined {
  if (!existsSync(path)) return undefined;
  const fd = openSync(path, 'r');
  let text: string;
  try {
    const buf = Buffer.alloc(Math.min(statSync(path).size, HISTORY_MAX_BYTES));
    text = buf.toString('utf8', 0, readSync(fd, buf, 0, buf.length, 0));
  } finally {
    closeSync(fd);
  }
  let found: Line | undefined;
  for (const raw of text.split(/\r\n|\n|\r/)) {
    if (!raw.includes(runId)) continue;
    try {
      const l = JSON.parse(raw) as Line;
      if (l && l.run_id === runId && typeof l.suites === 'object') found = l;
    } catch {
      /* a line cut short or edited: not this run's scores */
    }
  }
  return found ? fromLine(found) : undefined;
}

function fromLine(l: Line): RunScores {
  const cases = new Map<string, Map<string, Map<string, number>>>();
  const models = new Set<string>();
  for (const [suite, s] of Object.entries(l.suites)) {
    const bySuite = new Map<string, Map<string, number>>();
    for (const [i, id] of (s.cases ?? []).entries()) {
      const m = new Map<string, number>();
      for (const [model, xs] of Object.entries(s.scores ?? {})) {
        models.add(model);
        const v = xs?.[i];
        if (typeof v === 'number' && Number.isFinite(v)) m.set(model, v);
      }
      bySuite.set(String(id), m);
    }
    cases.set(suite, bySuite);
  }
  return {
    runId: l.run_id,
    suites: Object.keys(l.suites),
    models: [...models].map((id) => ({ id, group: String(l.groups?.[id] ?? '') })),
    cases,
  };
}
