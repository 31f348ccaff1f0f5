/**
 * Each side's reasoning setting in the outputs: summary rows say what each model ran at, gap rows
 * what each side did, and the terminal warns when a gap compares a thinking side with one that
 * does not think (the gap then measures the setting as much as the models).
 */
import type { ManifestModel } from '../journal/manifest.js';
import type { GapRow } from './gap.js';
import type { SummaryRow } from './summary.js';

type ModelOf = (id: string) => ManifestModel | undefined;

/** A gap side's model ids (a `mean` row joins its group's ids with ` + `). */
const sideIds = (side: string) => side.split(' + ');

export function labelReasoning(summary: SummaryRow[], gaps: GapRow[], modelOf: ModelOf): void {
  for (const r of summary) {
    const m = modelOf(r.model);
    if (m?.reasoning) r.reasoning = m.reasoning;
  }
  const label = (side: string) => {
    const labels = [...new Set(sideIds(side).map((id) => modelOf(id)?.reasoning ?? ''))];
    return labels.every((l) => l === '') ? undefined : labels.join(' / ');
  };
  for (const g of gaps) {
    const c = label(g.closed_model);
    const o = label(g.open_model);
    if (c !== undefined) g.closed_reasoning = c;
    if (o !== undefined) g.open_reasoning = o;
  }
}

/** Whether a side thinks: true or false when all its models agree and it is known, else undefined. */
function sideThinks(side: string, modelOf: ModelOf): boolean | undefined {
  const t = new Set(sideIds(side).map((id) => modelOf(id)?.thinks));
  return t.size === 1 ? [...t][0] : undefined;
}

/** One line when one side of a gap row thinks and the other does not. */
export function reasoningMismatch(g: GapRow, modelOf: ModelOf): string | undefined {
  const c = sideThinks(g.closed_model, modelOf);
  const o = sideThinks(g.open_model, modelOf);
  if (c === undefined || o === undefined || c === o) return undefined;
  return `    warning: the ${c ? 'closed' : 'open'} side thinks and the ${c ? 'open' : 'closed'} side does not (reasoning ${g.closed_reasoning ?? '?'} vs ${g.open_reasoning ?? '?'}): set reasoning: alike on both to compare the models, not the settings`;
}
