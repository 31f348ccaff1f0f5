import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { EXIT, type IO } from '../io.js';
import {
  aggregateRun,
  compareScores,
  dropsMoreThan,
  mostlyCached,
  regressions,
  type CompareRow,
} from '../report/compare.js';
import { HISTORY_CASES, readCaseScores, runScores, type RunScores } from '../report/history-cases.js';
import { readHistoryFile } from '../report/history-read.js';
import { stoppedModels } from '../report/history.js';
import { chooseBaseline } from './baseline.js';
import { pText } from '../report/terminal.js';
import type { Report } from '../report/index.js';
import { readManifest } from '../journal/manifest.js';
import { ALPHA } from '../report/paired.js';
import { fraction, numberWhere, type OptionTable, type Values } from '../util/args.js';

/** `--fail-on-regression PP` (run, merge and compare). */
export const regressionPoints = numberWhere('percentage points >= 0', (pp) => Number.isFinite(pp) && pp >= 0);

/** `--alpha A` (run, merge and compare). */
export const significanceLevel = numberWhere('a significance level above 0 and below 0.5', (a) => a > 0 && a < 0.5);

/** The gate of a finished run: the options run and merge share (checked by applyThresholds). */
export const THRESHOLD_OPTIONS = {
  'fail-under': {
    multiple: true,
    value: 'SCORE',
    help: 'exit 1 when any model scores below SCORE (0-1) on any suite; MODEL=SCORE sets it for one model',
    parse: failUnder,
  },
  'fail-on-regression': {
    value: 'PP',
    help: "exit 1 when a model's score on a suite fell by more than PP points and the paired test finds the drop significant (--alpha), against --baseline DIR, else against the last comparable, complete, successful run in history.csv (per-case scores from history-cases.jsonl); says inconclusive when its interval cannot rule out a drop of more than PP",
    parse: regressionPoints,
  },
  baseline: { value: 'DIR', help: 'the run to compare against for --fail-on-regression' },
  'max-errors': {
    value: 'FRACTION',
    help: "exit 1 when any model's error rows exceed FRACTION (0-1) of its jobs on any suite; 0: any error fails, which catches a lane stopped by a bad key or an unknown model",
    parse: fraction,
  },
  'fail-if-inconclusive': {
    type: 'boolean',
    help: 'with --fail-on-regression: an inconclusive check fails too (non-inferiority: pass only when a drop of more than PP is ruled out)',
  },
  strict: {
    type: 'boolean',
    help: 'with --fail-on-regression: any drop of more than PP points fails, significant or not',
  },
  alpha: {
    value: 'A',
    help: 'significance level for --fail-on-regression',
    parse: significanceLevel,
    // Not a default value: --alpha given without --fail-on-regression is an error.
    fallback: String(ALPHA),
  },
} as const satisfies OptionTable;

/** How a run's reports are written: the options run and merge share. */
export const REPORT_OPTIONS = {
  excel: {
    type: 'boolean',
    help: 'write CSVs with a UTF-8 BOM (Excel then shows Chinese text correctly)',
  },
  xlsx: { type: 'boolean', help: 'also write results.xlsx (typed cells, one sheet per table)' },
  'matrix-outputs': { type: 'boolean', help: 'add one output column per model to matrix.csv' },
  quiet: { type: 'boolean', help: 'print only the final summary and the run directory' },
} as const satisfies OptionTable;

export interface ThresholdOptions {
  failUnder?: { model?: string; score: number }[];
  failOnRegressionPP?: number;
  /** Fail on the raw drop, without the significance test. */
  strict?: boolean;
  /** Fail when the interval cannot rule out a drop of more than PP (non-inferiority). */
  failIfInconclusive?: boolean;
  alpha?: number;
  baseline?: string;
  maxErrors?: number;
}

export function thresholdOptions(values: Values<typeof THRESHOLD_OPTIONS>, cwd: string): ThresholdOptions {
  const pp = values['fail-on-regression'];
  const baseline = values.baseline ? resolve(cwd, values.baseline) : undefined;
  if (baseline) readManifest(baseline);
  if (baseline && pp === undefined) throw new UsageError('--baseline needs --fail-on-regression PP');
  const needy = values.strict ? '--strict' : values['fail-if-inconclusive'] ? '--fail-if-inconclusive' : '--alpha';
  if ((values.strict || values['fail-if-inconclusive'] || values.alpha !== undefined) && pp === undefined)
    throw new UsageError(`${needy} needs --fail-on-regression PP`);
  return {
    failUnder: values['fail-under'],
    failOnRegressionPP: pp,
    strict: values.strict,
    failIfInconclusive: values['fail-if-inconclusive'],
    alpha: values.alpha,
    baseline,
    maxErrors: values['max-errors'],
  };
}

/** `--fail-under SCORE` or `MODEL=SCORE` (the model id may hold `=`: the last one parts them). */
function failUnder(flag: string, v: string): { model?: string; score: number } {
  const i = v.lastIndexOf('=');
  return i > 0 ? { model: v.slice(0, i), score: fraction(flag, v.slice(i + 1)) } : { score: fraction(flag, v) };
}

/**
 * Checks the thresholds of a finished run; prints each failure; records the run in history.csv
 * with the outcome (so a failed night is never a later baseline); returns the exit code.
 */
export async function applyThresholds(t: ThresholdOptions, report: Report, runDir: string, io: IO): Promise<number> {
  const record = (exit: number) => report.recordHistory?.({ exit, stopped: stoppedModels(report.aggregate) });
  let code: number;
  try {
    code = await checkThresholds(t, report, runDir, io);
  } catch (e) {
    // The run is recorded even when its gate could not be checked (never as a baseline: exit 2).
    await record(2);
    throw e;
  }
  await record(code);
  return code;
}

async function checkThresholds(t: ThresholdOptions, report: Report, runDir: string, io: IO): Promise<number> {
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

/** The regression check against one baseline: its failures, and the rows it could not clear. */
interface GateResult {
  failures: string[];
  inconclusive: string[];
}

/**
 * --fail-on-regression: against --baseline, or else the last comparable, complete, successful run
 * in history.csv (baseline.ts). Its per-case scores come from its directory when it is still
 * beside this one, else from history-cases.jsonl, so the paired test runs in CI too; a baseline
 * known only by its history.csv scores is held to the raw threshold, and the message says so.
 */
async function regressionFailures(t: ThresholdOptions, report: Report, runDir: string, io: IO): Promise<string[]> {
  const pp = t.failOnRegressionPP!;
  if (t.baseline) {
    const base = await aggregateRun(t.baseline, readManifest(t.baseline));
    const gate = pairedGate(t, report, runScores(base), base.runId, io);
    return [...gate.failures, ...(t.failIfInconclusive ? gate.inconclusive : [])];
  }
  const history = readHistoryFile(join(dirname(runDir), 'history.csv'));
  if (history.skipped.length)
    io.stderr.write(
      `warning: history.csv: ${history.skipped.length} row(s) skipped (${history.skipped.slice(0, 3).join('; ')}${history.skipped.length > 3 ? '; ...' : ''})\n`,
    );
  const choice = chooseBaseline(history.rows, readManifest(runDir));
  if (choice.missing.length)
    io.stderr.write(
      `warning: --fail-on-regression: history.csv lacks ${choice.missing.join(', ')} (started by an older gapbench): those baseline checks are skipped\n`,
    );
  const passed = choice.skipped.length ? `; skipped: ${choice.skipped.join(', ')}` : '';
  if (!choice.runId) {
    io.stderr.write(`--fail-on-regression: no comparable earlier run in history.csv; nothing checked${passed}\n`);
    return [];
  }
  const where = `${choice.runId} (the last comparable, complete, successful run${passed})`;
  const dir = join(dirname(runDir), choice.runId);
  const scores = existsSync(join(dir, 'manifest.json'))
    ? runScores(await aggregateRun(dir, readManifest(dir)))
    : readCaseScores(join(dirname(runDir), HISTORY_CASES), choice.runId);
  if (!scores) return rawDrops(report, choice.rows, pp, where);
  const gate = pairedGate(t, report, scores, where, io);
  return [...gate.failures, ...(t.failIfInconclusive ? gate.inconclusive : [])];
}

/** The paired gate: fails on a significant drop of more than PP; inconclusive when one cannot be ruled out. */
function pairedGate(t: ThresholdOptions, report: Report, base: RunScores, where: string, io: IO): GateResult {
  const pp = t.failOnRegressionPP!;
  const strict = Boolean(t.strict);
  const rows = compareScores(base, runScores(report.aggregate), t.alpha);
  for (const m of mostlyCached(report.aggregate))
    io.stderr.write(`warning: --fail-on-regression: most answers of ${m} came from the cache\n`);
  if (!rows.length) return { failures: [`${where}: no suite x model in common with this run`], inconclusive: [] };
  const how = strict ? '--strict' : `significant at alpha ${t.alpha ?? ALPHA}`;
  const failed = regressions(rows, pp, strict);
  const open = strict ? [] : rows.filter((r) => !failed.includes(r) && dropsMoreThan(r.ci_low_pp, pp));
  const change = (r: CompareRow) =>
    `${r.model} on ${r.suite}: ${(r.score_a * 100).toFixed(1)}% -> ${(r.score_b * 100).toFixed(1)}% (${r.delta_pp.toFixed(1)} pp`;
  const inconclusive = open.map(
    (r) =>
      `inconclusive --fail-on-regression ${pp}: ${change(r)} [${r.ci_low_pp.toFixed(1)}, ${r.ci_high_pp.toFixed(1)}]): a drop of up to ${(-r.ci_low_pp).toFixed(1)} pp cannot be ruled out (${r.n_paired} cases) against ${where}`,
  );
  // A gate that cannot clear a drop says so instead of "ok"; a passing gate says what it checked.
  if (!t.failIfInconclusive) for (const line of inconclusive) io.stdout.write(`${line}\n`);
  if (!failed.length && !open.length)
    io.stdout.write(
      `ok --fail-on-regression ${pp}: no drop of more than ${pp} pp${strict ? '' : ` that is ${how}`} in ${rows.length} suite x model against ${where}\n`,
    );
  return {
    failures: failed.map((r) => `${change(r)}, ${pText(r.p_value)}, ${how}) against ${where}`),
    inconclusive,
  };
}

/** A baseline known only by its history.csv scores: the raw drop, no test. */
function rawDrops(report: Report, rows: readonly Record<string, string>[], pp: number, where: string): string[] {
  const failures: string[] = [];
  for (const row of report.summary) {
    const p = rows.find((r) => r.suite === row.suite && r.model === row.model);
    const score = Number(p?.score);
    if (!p || !Number.isFinite(score)) continue;
    const delta = (row.score - score) * 100;
    if (dropsMoreThan(delta, pp))
      failures.push(
        `${row.model} on ${row.suite}: ${(score * 100).toFixed(1)}% -> ${(row.score * 100).toFixed(1)}% (${delta.toFixed(1)} pp) against ${where} (its per-case scores are gone: raw threshold, no test)`,
      );
  }
  return failures;
}
