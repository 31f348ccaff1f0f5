import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ERROR_KINDS } from '../errors.js';
import type { ErrorKind } from '../types.js';
import type { Aggregate } from './aggregate.js';
import type { Manifest } from '../journal/manifest.js';
import { appendCaseScores, HISTORY_CASES, type RunScores } from './history-cases.js';
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
  // What the regression gate needs to pick a baseline (see commands/baseline.ts):
  'exit',
  'filtered',
  'stopped',
  'errors',
  'n_cases',
] as const;

/** What a history row records about its run beyond the summary: how the run ended. */
export interface RunOutcome {
  /** The run's exit code: 0, or 1 when a threshold failed. */
  exit: number;
  /** Models whose lane stopped (bad key, unknown model) or that answered nothing. */
  stopped: readonly string[];
}

/**
 * Appends a finished run's summary rows to history.csv (created with a header, and a BOM with
 * --excel; never rewritten), and its per-case scores to history-cases.jsonl beside it.
 */
export async function appendHistory(
  path: string,
  manifest: Manifest,
  rows: readonly SummaryRow[],
  opts: { bom?: boolean; outcome?: RunOutcome; scores?: RunScores } = {},
): Promise<void> {
  const out = historyRecords(manifest, rows, opts.outcome ?? { exit: 0, stopped: [] });
  const fresh = !existsSync(path);
  // A history.csv started by an older version keeps its own columns (rows must line up with its header).
  const columns = fresh ? HISTORY_COLUMNS : existingColumns(path);
  // ...and one without a `filtered` column never gets a subset's row: it would pass for a whole run.
  if (manifest.filtered && !columns.includes('filtered')) return;
  // --excel: the BOM goes at the start of a new history.csv (never mid-file).
  const text = toCsvString(columns, out, { header: fresh, bom: fresh && opts.bom });
  if (opts.scores) await appendCaseScores(join(dirname(path), HISTORY_CASES), opts.scores);
  await appendFile(path, text, 'utf8');
}

/** The history.csv rows of a run (also shown in its own report before they are appended). */
export function historyRecords(
  manifest: Manifest,
  rows: readonly SummaryRow[],
  outcome: RunOutcome,
): Record<string, CsvValue>[] {
  const suiteHash = new Map(manifest.suites.map((s) => [s.name, s.hash]));
  return rows.map((r) => ({
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
    exit: outcome.exit,
    filtered: manifest.filtered ?? '',
    stopped: outcome.stopped.includes(r.model) ? 1 : 0,
    errors: r.errors,
    n_cases: r.n_cases,
  }));
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

/**
 * Models whose lane stopped (an error kind that stops the lane: a bad key, an unknown model) or
 * that answered none of their jobs (e.g. the server was down all night). Such a run is no baseline.
 */
export function stoppedModels(agg: Aggregate): string[] {
  const answered = new Map<string, number>();
  const stopped = new Set<string>();
  for (const c of agg.cells.values()) {
    answered.set(c.model, (answered.get(c.model) ?? 0) + c.answered);
    for (const key of c.errorCounts.keys()) {
      const kind = key.split(':')[0] as ErrorKind;
      if ((ERROR_KINDS as Partial<Record<ErrorKind, { stopsLane: boolean }>>)[kind]?.stopsLane) stopped.add(c.model);
    }
  }
  for (const [m, n] of answered) if (n === 0) stopped.add(m);
  return [...stopped];
}
