import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type * as csvParse from 'csv-parse/sync';
import { requireCjs } from '../util/cjs.js';

/** Loaded when history.csv is read: most runs never do. */
const parseCsv: typeof csvParse.parse = ((...args: Parameters<typeof csvParse.parse>) =>
  (requireCjs('csv-parse/sync') as typeof csvParse).parse(...args)) as typeof csvParse.parse;
import { UsageError } from '../errors.js';
import { EXIT, type IO } from '../io.js';
import { aggregateRun, compareRuns, dropsMoreThan, mostlyCached, regressions } from '../report/compare.js';
import { pText } from '../report/terminal.js';
import type { Report } from '../report/index.js';
import { readManifest } from '../journal/manifest.js';
import { fraction } from '../util/args.js';

export const THRESHOLD_HELP = `  --fail-under SCORE     exit 1 when any model scores below SCORE (0-1) on any suite;
                         MODEL=SCORE sets it for one model (repeatable)
  --fail-on-regression PP  exit 1 when a model's score on a suite fell by more than PP points
                         and the paired test finds the drop significant (--alpha), against
                         --baseline DIR, else against the previous run in history.csv
  --strict               with --fail-on-regression: any drop of more than PP points fails
  --alpha A              significance level for --fail-on-regression (default 0.05)
  --baseline DIR         the run to compare against for --fail-on-regression
  --max-errors FRACTION  exit 1 when any model's error rows exceed FRACTION (0-1) of its
                         jobs on any suite (0: any error fails; catches a lane stopped by a
                         bad key or an unknown model)`;

/** The options of THRESHOLD_HELP, for the commands that take them (run, merge). */
export const THRESHOLD_OPTIONS = {
  'fail-under': { type: 'string', multiple: true },
  'fail-on-regression': { type: 'string' },
  baseline: { type: 'string' },
  'max-errors': { type: 'string' },
  strict: { type: 'boolean' },
  alpha: { type: 'string' },
} as const;

/** How a run's reports are written: the options run and merge share. */
export const REPORT_OPTIONS = {
  excel: { type: 'boolean' },
  xlsx: { type: 'boolean' },
  'matrix-outputs': { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const;

export interface ThresholdOptions {
  failUnder?: { model?: string; score: number }[];
  failOnRegressionPP?: number;
  /** Fail on the raw drop, without the significance test. */
  strict?: boolean;
  alpha?: number;
  baseline?: string;
  maxErrors?: number;
}

export function thresholdOptions(
  values: {
    'fail-under'?: string[];
    'fail-on-regression'?: string;
    baseline?: string;
    'max-errors'?: string;
    strict?: boolean;
    alpha?: string;
  },
  cwd: string,
): ThresholdOptions {
  const failUnder = values['fail-under']?.map((v) => {
    const i = v.lastIndexOf('=');
    return i > 0
      ? { model: v.slice(0, i), score: fraction('--fail-under', v.slice(i + 1))! }
      : { score: fraction('--fail-under', v)! };
  });
  const pp = regressionPoints(values['fail-on-regression']);
  const baseline = values.baseline ? resolve(cwd, values.baseline) : undefined;
  if (baseline) readManifest(baseline);
  if (baseline && pp === undefined) throw new UsageError('--baseline needs --fail-on-regression PP');
  if ((values.strict || values.alpha !== undefined) && pp === undefined)
    throw new UsageError(`${values.strict ? '--strict' : '--alpha'} needs --fail-on-regression PP`);
  const alpha = significanceLevel(values.alpha);
  return {
    failUnder,
    failOnRegressionPP: pp,
    strict: Boolean(values.strict),
    alpha,
    baseline,
    maxErrors: fraction('--max-errors', values['max-errors']),
  };
}

/** `--fail-on-regression PP`: percentage points, 0 or more (run and compare). */
export function regressionPoints(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const pp = Number(v);
  if (!Number.isFinite(pp) || pp < 0)
    throw new UsageError(`--fail-on-regression ${v}: expected percentage points >= 0`);
  return pp;
}

/** `--alpha A`: a significance level in (0, 0.5) (run and compare). */
export function significanceLevel(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const alpha = Number(v);
  if (!(alpha > 0 && alpha < 0.5))
    throw new UsageError(`--alpha ${v}: expected a significance level above 0 and below 0.5`);
  return alpha;
}

/** Checks the thresholds of a finished run; prints each failure; returns the exit code. */
export async function applyThresholds(t: ThresholdOptions, report: Report, runDir: string, io: IO): Promise<number> {
  const failures: string[] = [];
  for (const row of report.summary) {
    const rule = t.failUnder?.find((f) => f.model === row.model) ?? t.failUnder?.find((f) => f.model === undefined);
    if (rule && !(row.score >= rule.score))
      failures.push(`${row.model} scored ${row.score.toFixed(4)} on ${row.suite}, under --fail-under ${rule.score}`);
  }
  if (t.maxErrors !== undefined) {
    for (const row of report.summary) {
      const records = row.n + row.excluded;
      if (records > 0 && row.errors / records > t.maxErrors)
        failures.push(
          `${row.model} had ${row.errors} error rows of ${records} on ${row.suite}, over --max-errors ${t.maxErrors} (most often ${row.top_error ?? '?'})`,
        );
    }
  }
  const unknown = t.failUnder?.filter((f) => f.model && !report.summary.some((r) => r.model === f.model)) ?? [];
  for (const f of unknown) failures.push(`--fail-under ${f.model}=${f.score}: no model '${f.model}' in this run`);
  failures.push(...silentModels(report));
  if (t.failOnRegressionPP !== undefined) failures.push(...(await regressionFailures(t, report, runDir, io)));
  for (const f of failures) io.stdout.write(`FAIL ${f}\n`);
  return failures.length ? EXIT.threshold : EXIT.ok;
}

/** A model that answered none of its jobs fails the run, with its most frequent error. */
function silentModels(report: Report): string[] {
  const byModel = new Map<string, { answered: number; records: number; top?: string }>();
  for (const c of report.aggregate.cells.values()) {
    const m = byModel.get(c.model) ?? { answered: 0, records: 0 };
    m.answered += c.answered;
    m.records += c.n + c.excluded;
    const row = report.summary.find((r) => r.model === c.model && r.suite === c.suite);
    m.top ??= row?.top_error;
    byModel.set(c.model, m);
  }
  return [...byModel]
    .filter(([, m]) => m.records > 0 && m.answered === 0)
    .map(([id, m]) => `${id} answered none of its ${m.records} jobs (most often ${m.top ?? 'no answer'})`);
}

/**
 * --fail-on-regression: against --baseline, or else the previous run in history.csv when its
 * directory is still beside this one (per-case answers, so the paired test can run); a previous
 * run known only from history.csv is held to the raw threshold, and the message says so.
 */
async function regressionFailures(t: ThresholdOptions, report: Report, runDir: string, io: IO): Promise<string[]> {
  const pp = t.failOnRegressionPP!;
  const strict = Boolean(t.strict);
  let baseDir = t.baseline;
  let prev: Map<string, { score: number; runId: string }> | undefined;
  if (!baseDir) {
    prev = previousScores(join(dirname(runDir), 'history.csv'), report.summary[0]?.run_id ?? '');
    if (!prev.size) {
      io.stderr.write('--fail-on-regression: no earlier run in history.csv to compare with; nothing checked\n');
      return [];
    }
    const last = [...prev.values()].at(-1)!.runId;
    if (existsSync(join(dirname(runDir), last, 'manifest.json'))) baseDir = join(dirname(runDir), last);
  }
  if (baseDir) {
    const base = await aggregateRun(baseDir, readManifest(baseDir));
    const rows = compareRuns(base, report.aggregate, t.alpha);
    for (const m of mostlyCached(base, report.aggregate))
      io.stderr.write(`warning: --fail-on-regression: most answers of ${m} came from the cache\n`);
    if (!rows.length) return [`--baseline ${baseDir}: no suite x model in common with this run`];
    const how = strict ? '--strict' : `significant at alpha ${t.alpha ?? 0.05}`;
    const failed = regressions(rows, pp, strict);
    // A gate that passes says so, and what it checked (a silent pass looks like a gate that never ran).
    if (!failed.length)
      io.stdout.write(
        `ok --fail-on-regression ${pp}: no drop of more than ${pp} pp${strict ? '' : ` that is ${how}`} in ${rows.length} suite x model against ${rows[0].run_a}\n`,
      );
    return failed.map(
      (r) =>
        `${r.model} on ${r.suite}: ${(r.score_a * 100).toFixed(1)}% -> ${(r.score_b * 100).toFixed(1)}% (${r.delta_pp.toFixed(1)} pp, ${pText(r.p_value)}, ${how}) against ${r.run_a}`,
    );
  }
  const failures: string[] = [];
  for (const row of report.summary) {
    const p = prev!.get(`${row.suite}\u0000${row.model}`);
    if (!p) continue;
    const delta = (row.score - p.score) * 100;
    if (dropsMoreThan(delta, pp))
      failures.push(
        `${row.model} on ${row.suite}: ${(p.score * 100).toFixed(1)}% -> ${(row.score * 100).toFixed(1)}% (${delta.toFixed(1)} pp) against ${p.runId} (its directory is gone: raw threshold, no test)`,
      );
  }
  return failures;
}

/** The latest earlier score of each suite x model in history.csv (rows of `currentRun` skipped). */
function previousScores(path: string, currentRun: string): Map<string, { score: number; runId: string }> {
  const out = new Map<string, { score: number; runId: string }>();
  if (!existsSync(path)) return out;
  const rows = parseCsv(readFileSync(path, 'utf8'), { columns: true, bom: true, skip_empty_lines: true }) as Record<
    string,
    string
  >[];
  for (const r of rows) {
    // A run of a subset of the cases (its filter column set) is no baseline for whole suites.
    if (r.run_id === currentRun || r.filter) continue;
    const score = Number(r.score);
    if (Number.isFinite(score)) out.set(`${r.suite}\u0000${r.model}`, { score, runId: r.run_id });
  }
  return out;
}
