import type { Aggregate } from './aggregate.js';
import type { CsvValue } from './csv.js';
import { expectedText } from './results.js';

/** matrix.csv: one row per case, one score column per model (mean over repeats), for pivot tables. */
export function matrixColumns(agg: Aggregate, outputs: boolean): string[] {
  const cols = ['suite', 'case_id', 'category', 'expected', ...agg.models.map((m) => `score_${m.id}`)];
  if (outputs) cols.push(...agg.models.map((m) => `output_${m.id}`));
  return cols;
}

/** Rows in the aggregate's case order: suite, then position in the suite (see canonicalize). */
export function* matrixRows(agg: Aggregate, outputs: boolean): Generator<Record<string, CsvValue>> {
  for (const r of agg.cases) {
    const out: Record<string, CsvValue> = {
      suite: r.suite,
      case_id: r.caseId,
      category: r.category,
      expected: expectedText(r.expected),
    };
    for (const m of agg.models) {
      const s = r.entry(m.id);
      out[`score_${m.id}`] = s ? s[0] / s[1] : undefined;
      const at = outputs ? r.outputs?.get(m.id) : undefined;
      if (outputs) out[`output_${m.id}`] = at && agg.readOutput ? agg.readOutput(at) : undefined;
    }
    yield out;
  }
}
