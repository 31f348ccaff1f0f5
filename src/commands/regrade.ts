import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { missingKeys, type ModelConfig } from '../config/config.js';
import { restoreModel } from '../config/model.js';
import { UsageError } from '../errors.js';
import { gradeSafely } from '../graders/index.js';
import { EXIT, type IO } from '../io.js';
import { readManifest, type Manifest } from '../journal/manifest.js';
import { readLatestRecords } from '../journal/read.js';
import { recordUsage, type JobRecord, type JobRecordBase, type OkRecord, type RecordSink } from '../journal/record.js';
import { createProvider } from '../providers/index.js';
import { defaultCacheDir, ResponseCache } from '../run/cache.js';
import { configHash } from '../run/identity.js';
import { makeAsk } from '../run/job.js';
import { tokenCost } from '../journal/cost.js';
import { Lane } from '../run/lane.js';
import { runSession } from '../run/session.js';
import { loadSuite, type Suite } from '../suite/load.js';
import type { Case, Grade } from '../types.js';
import { helpText, parse, SET_OPTION, type CommandSpec } from '../util/args.js';
import { REPORT_OPTIONS } from './thresholds.js';
import { CAPACITY_OPTION, capacityRef } from './capacity-opt.js';
import { VERSION } from '../version.js';

export const REGRADE_SPEC = {
  name: 'regrade',
  usage: 'regrade <run-dir> [options]',
  about:
    "Re-scores a run's stored outputs with the current graders (or a changed suite) and writes a new run directory that names the one it came from (manifest.json: derived_from). No model is called, except judge models by judge graders (through their lanes and the response cache).",
  options: {
    suite: {
      multiple: true,
      value: 'FILE|NAME',
      help: 'suite to grade with',
      fallback: "the run's own suites, loaded again",
    },
    set: SET_OPTION,
    'run-id': { value: 'NAME', help: 'name of the new run directory', fallback: '<run-id>-regrade[-N]' },
    excel: REPORT_OPTIONS.excel,
    ...CAPACITY_OPTION,
  },
  positionals: true,
} as const satisfies CommandSpec;

export async function regradeCommand(argv: string[], io: IO): Promise<number> {
  const { values, positionals } = parse(REGRADE_SPEC, argv);
  if (values.help) {
    io.stdout.write(`${helpText(REGRADE_SPEC)}\n`);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UsageError('expected one run directory: gapbench regrade results/<run-id>');
  const say = (line: string) => io.stderr.write(`${line}\n`);
  const src = resolve(io.cwd, positionals[0]);
  const old = readManifest(src);
  const suiteCwd = values.suite ? io.cwd : old.invocation.cwd;
  const refs = values.suite ?? old.suites.map((s) => s.file);
  const vars = { ...io.env, ...old.invocation.sets, ...Object.fromEntries(values.set ?? []) };
  const suites = new Map<string, Suite>();
  for (const ref of refs) {
    const s = await loadSuite(ref, { cwd: suiteCwd, vars });
    suites.set(s.name, s);
  }
  const dir = regradeDir(src, old.run_id, values['run-id']);
  const runId = basename(dir);
  const models = old.models.map(restoreModel);
  const manifest = regradeManifest(old, runId, suites, models, { ...old.invocation, suites: refs, cwd: suiteCwd });
  const capacity = capacityRef({ flag: values.capacity, recorded: old.capacity, own: src }, io.cwd, old.models, say);
  if (capacity) manifest.capacity = capacity;
  const counts = { kept: 0, dropped: 0, changed: 0 };
  const { report } = await runSession(
    {
      runDir: dir,
      resuming: false,
      manifest,
      // The old run's output choices (its files); --excel adds the BOM.
      outputs: { ...regradeOutputs(old), excel: Boolean(values.excel || old.outputs?.excel) },
      history: false,
      notice: say,
    },
    async ({ sink }) => {
      const ctx = { models, ask: judgeAsk(models, io) };
      await regradeRecords(join(src, 'records.jsonl'), sink, runId, suites, ctx, counts);
      return { total: counts.kept, unfinished: 0 };
    },
  );
  io.stdout.write(report.terminal(io.stdout, io.env));
  const dropped = counts.dropped ? `, ${counts.dropped} dropped: their case is no longer in the suite` : '';
  io.stdout.write(
    `Regraded ${counts.kept} records from ${old.run_id} (${counts.changed} changed verdict or score${dropped})\n`,
  );
  io.stdout.write(`Results: ${dir}\n`);
  return EXIT.ok;
}

/** The output choices the regraded run was made with. */
function regradeOutputs(old: Manifest): { excel: boolean; xlsx: boolean; matrixOutputs: boolean } {
  return {
    excel: Boolean(old.outputs?.excel),
    xlsx: Boolean(old.outputs?.xlsx),
    matrixOutputs: Boolean(old.outputs?.matrix_outputs),
  };
}

/** The new run's manifest: the old one's, naming the run it was derived from and the suites graded with. */
function regradeManifest(
  old: Manifest,
  runId: string,
  suites: Map<string, Suite>,
  models: ModelConfig[],
  invocation: Manifest['invocation'],
): Manifest {
  return {
    ...old,
    gapbench: VERSION,
    run_id: runId,
    status: 'running',
    created_at: new Date().toISOString(),
    derived_from: old.run_id,
    suites: [...suites.values()].map((s) => ({
      name: s.name,
      file: s.file,
      hash: s.hash,
      cases: s.cases.length,
      description: s.description,
    })),
    config_hash: configHash(models, [...suites.values()], old.repeat),
    invocation,
  };
}

/** <run-id>-regrade, -regrade-2, ... beside the source run, unless --run-id names it. */
function regradeDir(src: string, oldId: string, given: string | undefined): string {
  const outDir = resolve(src, '..');
  let runId = given ?? `${oldId}-regrade`;
  for (let i = 2; !given && existsSync(join(outDir, runId)); i++) runId = `${oldId}-regrade-${i}`;
  if (existsSync(join(outDir, runId))) throw new UsageError(`--run-id ${runId}: ${join(outDir, runId)} already exists`);
  return join(outDir, runId);
}

/** Judge graders ask models of the run's config; a key is needed only when a judge is called. */
function judgeAsk(models: ModelConfig[], io: IO) {
  const cache = new ResponseCache(defaultCacheDir(io.env), 'use');
  const lanes = new Map<string, Lane>();
  const laneOf = (m: ModelConfig) => {
    let l = lanes.get(m.id);
    if (!l) {
      const missing = missingKeys([m], io.env);
      if (missing.length) throw new UsageError(missing[0]);
      l = new Lane(createProvider(m, { env: io.env, cwd: io.cwd }), m);
      lanes.set(m.id, l);
    }
    return l;
  };
  return makeAsk(models, laneOf, cache);
}

/** Each latest record of the source run, graded again, into the new journal. */
async function regradeRecords(
  from: string,
  journal: RecordSink,
  runId: string,
  suites: Map<string, Suite>,
  ctx: { models: ModelConfig[]; ask: ReturnType<typeof makeAsk> },
  counts: { kept: number; dropped: number; changed: number },
): Promise<void> {
  for await (const r of readLatestRecords(from)) {
    const suite = suites.get(r.suite);
    const idx = suite?.cases.findIndex((c) => c.id === r.case_id) ?? -1;
    if (!suite || idx < 0) {
      counts.dropped++;
      continue;
    }
    const c = suite.cases[idx];
    const answered = r.status === 'ok' || (r.error.kind === 'grader' && r.output !== undefined);
    const grade = answered ? await regradeOne(r, c, suite, ctx) : r.grade;
    if (grade.score !== r.grade.score || grade.passed !== r.grade.passed) counts.changed++;
    const { prompt, category, expected } = c;
    const fields = { run_id: runId, case_index: idx, category, expected, prompt, grader: suite.graderName(c), grade };
    journal.append(answered ? regraded(r, fields) : { ...r, ...fields });
    counts.kept++;
  }
}

/** A record with an answer, given its new grade: a grade that failed makes it a `grader` error, else ok. */
function regraded(r: JobRecord, fields: Partial<JobRecordBase> & { grade: Grade }): JobRecord {
  const { status: _s, error: _e, ...rest } = r as JobRecord & { error?: unknown };
  const base = { ...rest, ...fields } as Omit<OkRecord, 'status'>;
  if (fields.grade.error) return { ...base, status: 'error', error: { kind: 'grader', message: fields.grade.reason } };
  return { ...base, status: 'ok', output: base.output ?? '', latency_ms: base.latency_ms ?? 0 };
}

function regradeOne(
  r: JobRecord & { output?: string; latency_ms?: number; input_tokens?: number; output_tokens?: number },
  c: Case,
  suite: Suite,
  ctx: { models: ModelConfig[]; ask: ReturnType<typeof makeAsk> },
) {
  const model = ctx.models.find((m) => m.id === r.model);
  const usage = recordUsage(r);
  const completion = { latencyMs: r.latency_ms ?? 0, ...usage, costUsd: tokenCost(model?.price, usage) };
  return gradeSafely(suite.graderOf(c), r.output ?? '', { case: c, completion, ask: ctx.ask });
}
