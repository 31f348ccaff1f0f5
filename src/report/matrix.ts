import type { Aggregate } from './aggregate.js';
import type { CsvValue } from './csv.js';
import { expectedText } from './results.js';

/** matrix.csv: one row per case, one score column per model (mean over repeats), for pivot tables. */
export function matrixColumns(agg: Aggregate, outputs: boolean): string[] {
  const cols = ['suite', 'case_id', 'category', 'expected', ...agg.models.map((m) => `score_${m.id}`)];
  if (outputs) cols.push(...agg.models.map((m) => `output_${m.id}`));
  return cols;
}

export function* matrixRows(agg: Aggregate, outputs: boolean): Generator<Record<string, CsvValue>> {
  const order = new Map(agg.suites.map((s, i) => [s, i]));
  const rows = [...agg.cases.values()].sort((a, b) => order.get(a.suite)! - order.get(b.suite)! || a.caseIndex - b.caseIndex);
  for (const r of rows) {
    const out: Record<string, CsvValue> = { suite: r.suite, case_id: r.caseId, category: r.category, expected: expectedText(r.expected) };
    for (const m of agg.models) {
      const s = r.byModel.get(m.id);
      out[`score_${m.id}`] = s ? s[0] / s[1] : undefined;
      if (outputs) out[`output_${m.id}`] = r.outputs?.get(m.id);
    }
    yield out;
  }
}
