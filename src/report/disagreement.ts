import type { Group } from '../types.js';
import type { JobRecord } from '../journal/record.js';
import type { Aggregate, CaseRow } from './aggregate.js';

/** One model's answer to a disagreement case, as report.html shows it. */
interface ShownAnswer {
  model: string;
  group: Group;
  /** Mean score over the case's repeats. */
  score: number;
  /** The first repeat's output, or `[error: kind] message` when it had none. */
  output: string;
}

/** A case where the closed models' mean score and the open models' differ, with what was asked and answered. */
export interface Disagreement {
  suite: string;
  category: string;
  caseId: string;
  /** The case in the aggregate: its place in its suite and each model's scores. */
  row: CaseRow;
  closed: number;
  open: number;
  /** |closed - open|, 0..1. */
  spread: number;
  prompt?: string;
  system?: string;
  expected?: unknown;
  answers: ShownAnswer[];
}

/**
 * The cases to show, most disagreement first, spread over suites and categories: each (suite,
 * category) gives its most disputed case before any gives its second, so one suite with many
 * 0-vs-1 cases does not fill the table. Ties keep suite, then case order.
 */
export function pickDisagreements(agg: Aggregate, limit = 20): Disagreement[] {
  const group = new Map(agg.models.map((m) => [m.id, m.group]));
  const scored: Disagreement[] = [];
  for (const c of agg.cases) {
    const closed = groupMean(c, group, 'closed');
    const open = groupMean(c, group, 'open');
    if (closed === undefined || open === undefined || closed === open) continue;
    const d = { suite: c.suite, category: c.category, caseId: c.caseId, row: c, closed, open, answers: [] };
    scored.push({ ...d, spread: Math.abs(closed - open) });
  }
  // agg.cases is in suite and case order (canonicalize): a stable sort keeps it among equals.
  scored.sort((a, b) => b.spread - a.spread);
  const rank = new Map<Disagreement, number>();
  const seen = new Map<string, number>();
  for (const d of scored) {
    const key = `${d.suite}\u0000${d.category}`;
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    rank.set(d, n);
  }
  const picked = [...scored].sort((a, b) => rank.get(a)! - rank.get(b)!).slice(0, limit);
  return picked.sort((a, b) => b.spread - a.spread || scored.indexOf(a) - scored.indexOf(b));
}

function groupMean(c: CaseRow, group: Map<string, Group>, g: Group): number | undefined {
  let sum = 0;
  let n = 0;
  for (const [model, [s, count]] of c.entries()) {
    if (group.get(model) !== g || !count) continue;
    sum += s / count;
    n++;
  }
  return n ? sum / n : undefined;
}

/**
 * Fills in the prompt, expected answer and each model's first answer from the records of the
 * picked cases (`records`: those records, in any order). Only these few cases' records are read:
 * the outputs of a whole run never sit in memory.
 */
export function fillAnswers(picked: Disagreement[], records: Iterable<JobRecord>, agg: Aggregate): void {
  const byCase = new Map(picked.map((d) => [`${d.suite}\u0000${d.caseId}`, d]));
  const first = new Map<string, JobRecord>();
  for (const r of records) {
    const key = `${r.suite}\u0000${r.case_id}\u0000${r.model}`;
    const have = first.get(key);
    if (byCase.has(`${r.suite}\u0000${r.case_id}`) && (!have || r.repeat < have.repeat)) first.set(key, r);
  }
  for (const d of picked) {
    for (const m of agg.models) {
      const r = first.get(`${d.suite}\u0000${d.caseId}\u0000${m.id}`);
      const entry = d.row.entry(m.id);
      if (!r || !entry || !entry[1]) continue;
      d.prompt ??= r.prompt;
      d.system ??= r.system;
      if (d.expected === undefined && r.expected !== undefined) d.expected = r.expected;
      const output = r.status === 'ok' ? r.output : `[error: ${r.error.kind}] ${r.output ?? r.error.message}`;
      d.answers.push({ model: m.id, group: m.group, score: entry[0] / entry[1], output });
    }
  }
}
