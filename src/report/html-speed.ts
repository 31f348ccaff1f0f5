import { escapeHtml } from './html-tables.js';
import type { SummaryRow } from './summary.js';

/** Decode speed and cold loads per model, in words under the latency chart (absent when not measured). */
export function speedNote(summary: readonly SummaryRow[]): string {
  const parts = summary
    .filter((s) => !Number.isNaN(s.decode_tokens_per_s) || s.cold_loads > 0)
    .map((s) => {
      const tps = Number.isNaN(s.decode_tokens_per_s) ? '' : `${s.decode_tokens_per_s.toFixed(1)} tokens/s decoding`;
      const cold = s.cold_loads > 0 ? `${s.cold_loads} cold model load(s), left out of latency` : '';
      return `${escapeHtml(`${s.suite} · ${s.model}`)}: ${[tps, cold].filter(Boolean).join('; ')}`;
    });
  return parts.length ? `<figcaption>${parts.join('<br>')}</figcaption>` : '';
}
