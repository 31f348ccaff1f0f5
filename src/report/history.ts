import { existsSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import type { Manifest } from '../journal/manifest.js';
import { toCsvString, type CsvValue } from './csv.js';
import type { SummaryRow } from './summary.js';

export const HISTORY_COLUMNS = [
  'run_id',
  'started_at',
  'config_hash',
  'suite',
  'suite_hash',
  'model',
  'group',
  'score',
  'ci_low',
  'ci_high',
  'n',
  'cost_usd',
] as const;

/** Appends a finished run's summary rows to history.csv (created with a header, and a BOM with --excel; never rewritten). */
export async function appendHistory(
  path: string,
  manifest: Manifest,
  rows: readonly SummaryRow[],
  opts: { bom?: boolean } = {},
): Promise<void> {
  const suiteHash = new Map(manifest.suites.map((s) => [s.name, s.hash]));
  const out: Record<string, CsvValue>[] = rows.map((r) => ({
    run_id: r.run_id,
    started_at: manifest.started_at,
    config_hash: manifest.config_hash,
    suite: r.suite,
    suite_hash: suiteHash.get(r.suite) ?? '',
    model: r.model,
    group: r.group,
    score: r.score,
    ci_low: r.ci_low,
    ci_high: r.ci_high,
    n: r.n,
    cost_usd: r.cost_usd,
  }));
  // A new file gets the BOM with --excel, like every other CSV; an existing one keeps its first bytes.
  const fresh = !existsSync(path);
  const text = toCsvString(HISTORY_COLUMNS, out, { header: fresh, bom: fresh && opts.bom });
  await appendFile(path, text, 'utf8');
}
