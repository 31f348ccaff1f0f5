import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import type { Manifest } from '../journal/manifest.js';
import { toCsvString, type CsvValue } from './csv.js';
import type { SummaryRow } from './summary.js';

const HISTORY_COLUMNS = [
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
  'cached',
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
    cached: r.cached,
  }));
  const fresh = !existsSync(path);
  // A history.csv started by an older version keeps its own columns (rows must line up with its header).
  const columns = fresh ? HISTORY_COLUMNS : existingColumns(path);
  // --excel: the BOM goes at the start of a new history.csv (never mid-file).
  const text = toCsvString(columns, out, { header: fresh, bom: fresh && opts.bom });
  await appendFile(path, text, 'utf8');
}

/** The column names in the first line of an existing history.csv (the known ones, in its order). */
function existingColumns(path: string): readonly string[] {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const first = buf
      .toString('utf8', 0, n)
      .replace(/^\uFEFF/, '')
      .split(/\r?\n/)[0];
    const names = first.split(',').filter((c) => (HISTORY_COLUMNS as readonly string[]).includes(c));
    return names.length ? names : HISTORY_COLUMNS;
  } finally {
    closeSync(fd);
  }
}
