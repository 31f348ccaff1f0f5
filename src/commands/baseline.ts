/**
 * Which earlier run the regression gate compares with: the last *comparable, complete, successful*
 * run in history.csv. Comparable: the same config hash (models, endpoints, params, suites and their
 * cases, repeat). Complete: not a subset of the cases (`filtered`: --limit and case filters; shards
 * and interrupted runs never write history rows). Successful: exit 0 and no model whose lane
 * stopped or that answered nothing. A night whose server was down or an ad-hoc `--limit 5` run is
 * skipped, and the message says so, instead of becoming the bar the next night is held to.
 */
import type { Manifest } from '../journal/manifest.js';
import { terminalSafe } from '../util/text.js';

interface BaselineChoice {
  /** The run chosen, when one qualifies. */
  runId?: string;
  /** Its rows of history.csv. */
  rows: Record<string, string>[];
  /** Later runs passed over, with why ("B-outage (exit 1)"). */
  skipped: string[];
  /** Columns a history.csv started by an older gapbench lacks (those checks are not made). */
  missing: string[];
}

const CHECKED = ['config_hash', 'exit', 'filtered', 'stopped'] as const;

/** The latest qualifying run before `manifest`'s (rows of history.csv in file order). */
export function chooseBaseline(rows: readonly Record<string, string>[], manifest: Manifest): BaselineChoice {
  const runs = new Map<string, Record<string, string>[]>();
  for (const r of rows) {
    if (r.run_id === manifest.run_id) continue;
    const list = runs.get(r.run_id) ?? [];
    list.push(r);
    runs.set(r.run_id, list);
  }
  const missing = CHECKED.filter((c) => rows.length > 0 && !(c in rows[0]));
  const skipped: string[] = [];
  for (const [runId, list] of [...runs].reverse()) {
    const why = unsuitable(list, manifest);
    if (!why) return { runId, rows: list, skipped, missing };
    skipped.push(`${terminalSafe(runId, 60)} (${why})`);
  }
  return { rows: [], skipped, missing };
}

/** Why a run cannot be the baseline, or undefined when it can. */
function unsuitable(rows: readonly Record<string, string>[], manifest: Manifest): string | undefined {
  const first = rows[0];
  if (first.filtered) return `a subset of the cases: ${terminalSafe(first.filtered, 40)}`;
  if (first.config_hash !== undefined && first.config_hash !== manifest.config_hash) return 'another config or suites';
  const stopped = rows.filter((r) => r.stopped === '1').map((r) => terminalSafe(r.model, 40));
  if (stopped.length) return `${[...new Set(stopped)].join(', ')} stopped or answered nothing`;
  const exit = rows.find((r) => r.exit !== undefined && r.exit !== '' && r.exit !== '0')?.exit;
  if (exit !== undefined) return `exit ${terminalSafe(exit, 8)}: a threshold failed`;
  return undefined;
}
