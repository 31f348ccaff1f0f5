import { existsSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { EXIT, type IO } from '../io.js';
import { describeFilter, readManifest, type Manifest } from '../journal/manifest.js';
import { readRecordLines } from '../journal/read.js';
import type { RecordSink } from '../journal/record.js';
import type { Report } from '../report/index.js';
import { lockedByLiveProcess } from '../run/rundir.js';
import { runSession } from '../run/session.js';
import { ShardCheck } from '../run/shard-check.js';
import { helpText, parse, type CommandSpec } from '../util/args.js';
import { isInside } from '../util/readfile.js';
import { terminalSafe } from '../util/text.js';
import { label } from './shard.js';
import { applyThresholds, REPORT_OPTIONS, THRESHOLD_OPTIONS, thresholdOptions } from './thresholds.js';

export const MERGE_SPEC = {
  name: 'merge',
  usage: 'merge OUT_DIR SHARD_DIR... [options]',
  about:
    "Joins the run directories of `gapbench run --shard I/N` (one per shard, all N of them) into OUT_DIR, one run directory as one machine would have written it: records.jsonl, manifest.json, every CSV and report.html, and the run's row in history.csv beside OUT_DIR (in its parent). Checks that the shards come from the same config, suites and N, that each finished, and that none is missing or given twice. Calls no model.",
  options: { ...REPORT_OPTIONS, ...THRESHOLD_OPTIONS },
  positionals: true,
  footer:
    'Exit codes: 0 merged; 1 merged but a threshold failed; 2 a shard is missing, unfinished, given twice, from another run, or its records do not match its plan (a planned job without a record, a record of a model, suite or job it never planned): OUT_DIR not written.',
} as const satisfies CommandSpec;

interface ShardRun {
  dir: string;
  /** The directory as the user gave it, for messages. */
  given: string;
  manifest: Manifest & { shard: { index: number; count: number } };
}

export async function mergeCommand(argv: string[], io: IO): Promise<number> {
  const { values, positionals } = parse(MERGE_SPEC, argv);
  if (values.help) {
    io.stdout.write(`${helpText(MERGE_SPEC)}\n`);
    return EXIT.ok;
  }
  if (positionals.length < 2)
    throw new UsageError('expected an output directory and the shard directories: gapbench merge OUT_DIR SHARD_DIR...');
  const [outArg, ...shardArgs] = positionals;
  const out = resolve(io.cwd, outArg);
  const thresholds = thresholdOptions(values, io.cwd);
  if (existsSync(out)) throw new UsageError(`${outArg}: already exists (merge writes a new run directory)`);
  const shards = checkShards(shardArgs.map((a) => readShard(a, io.cwd)));
  const manifest = mergedManifest(shards, basename(out));
  // report.html's charting library loads while the journals are joined (as in a run).
  void import('../report/html.js').catch(() => undefined);
  const count = (pick: (c: NonNullable<Manifest['counts']>) => number) =>
    shards.reduce((n, s) => n + (s.manifest.counts ? pick(s.manifest.counts) : 0), 0);
  let written = 0;
  let report: Report;
  try {
    ({ report } = await runSession(
      {
        runDir: out,
        resuming: false,
        buffered: true,
        manifest,
        outputs: {
          excel: values.excel,
          xlsx: values.xlsx,
          matrixOutputs: values['matrix-outputs'],
        },
        history: true,
        notice: (line) => io.stderr.write(`${line}\n`),
      },
      async ({ sink }) => {
        written = await joinJournals(shards, sink, manifest.run_id);
        return { total: count((c) => c.jobs), unfinished: count((c) => c.unfinished) };
      },
    ));
  } catch (e) {
    // Nothing half-merged is left behind: OUT_DIR did not exist before.
    rmSync(out, { recursive: true, force: true });
    throw e;
  }
  io.stdout.write(report.terminal(io.stdout, io.env));
  io.stdout.write(`Merged ${shards.length} shard(s), ${written} records: ${out}\n`);
  return applyThresholds(thresholds, report, out, io);
}

function readShard(given: string, cwd: string): ShardRun {
  const dir = resolve(cwd, given);
  const manifest = readManifest(dir);
  const where = terminalSafe(given, 200);
  if (!manifest.shard) throw new UsageError(`${where}: not a shard (a run started without --shard I/N)`);
  if (manifest.status !== 'finished') {
    const why =
      manifest.status === 'running' && lockedByLiveProcess(dir)
        ? `is still running (a process holds ${join(where, '.lock')}; if that machine died, delete the lock)`
        : `did not finish (${manifest.counts?.unfinished ?? 'some'} job(s) not run)`;
    throw new UsageError(
      `${where}: shard ${label(manifest.shard)} ${why}; finish it first: gapbench run --resume ${where}`,
    );
  }
  if (!existsSync(join(dir, 'records.jsonl'))) throw new UsageError(`${where}: no records.jsonl`);
  // A shard's files are its own: one that links elsewhere (another run, a secret) is not read.
  for (const f of ['manifest.json', 'records.jsonl'])
    if (!isInside(join(dir, f), dir)) throw new UsageError(`${where}: ${f} links outside the shard directory`);
  return { dir, given: where, manifest: manifest as ShardRun['manifest'] };
}

/** Same config, suites and N; every shard once. Returns them in shard order. */
function checkShards(shards: ShardRun[]): ShardRun[] {
  const first = shards[0];
  const n = first.manifest.shard.count;
  const byIndex = new Map<number, ShardRun>();
  for (const s of shards) {
    const m = s.manifest;
    if (m.shard.count !== n)
      throw new UsageError(
        `${s.given}: shard ${label(m.shard)} of a run in ${m.shard.count} parts, but ${first.given} is one of ${n}`,
      );
    if (m.config_hash !== first.manifest.config_hash)
      throw new UsageError(
        `${s.given}: shard ${label(m.shard)} comes from another config or suites (config_hash ${m.config_hash}; ${first.given} has ${first.manifest.config_hash})`,
      );
    // Shards of one run asked the same subset of the cases (--case, --category, --failed-from).
    if (describeFilter(m.filter) !== describeFilter(first.manifest.filter))
      throw new UsageError(
        `${s.given}: shard ${label(m.shard)} ran another subset of the cases (${describeFilter(m.filter) || 'all of them'}; ${first.given}: ${describeFilter(first.manifest.filter) || 'all of them'})`,
      );
    const twin = byIndex.get(m.shard.index);
    if (twin) throw new UsageError(`${s.given}: shard ${label(m.shard)} is given twice (also ${twin.given})`);
    byIndex.set(m.shard.index, s);
  }
  const missing = Array.from({ length: n }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length)
    throw new UsageError(
      `shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${n}`).join(', ')} missing: merge needs all ${n} (given: ${[...byIndex.keys()].sort((a, b) => a - b).join(', ')})`,
    );
  return [...byIndex.values()].sort((a, b) => a.manifest.shard.index - b.manifest.shard.index);
}

/** The manifest one machine would have written: the shards' shared description, their span of time, where they came from. */
function mergedManifest(shards: ShardRun[], runId: string): Manifest {
  const { shard: _shard, counts: _counts, finished_at: _f, reason: _r, ...base } = shards[0].manifest;
  const times = (pick: (m: Manifest) => string | undefined) =>
    shards
      .map((s) => pick(s.manifest))
      .filter((t): t is string => t !== undefined)
      .sort();
  const batches = shards.flatMap((s) => s.manifest.batches ?? []);
  return {
    ...base,
    run_id: runId,
    status: 'running',
    ...(batches.length ? { batches } : {}),
    created_at: times((m) => m.created_at)[0],
    started_at: times((m) => m.started_at)[0],
    merged_from: shards.map((s) => ({
      run_id: s.manifest.run_id,
      dir: s.dir,
      shard: label(s.manifest.shard),
      started_at: s.manifest.started_at,
      ...(s.manifest.finished_at ? { finished_at: s.manifest.finished_at } : {}),
    })),
  };
}

/**
 * Copies every shard's records into OUT_DIR/records.jsonl under the merged run's id (each keeps
 * its `shard`), feeding the reports as it goes. A job's latest record only: one that a resume
 * with --retry-errors replaced stays in its shard's journal. A job recorded by two shards, or a
 * record of a shard that is not the one its manifest names, means the shards overlap: an error.
 */
async function joinJournals(shards: ShardRun[], journal: RecordSink, runId: string): Promise<number> {
  const owner = new Map<string, number>();
  let written = 0;
  for (const s of shards) {
    const index = s.manifest.shard.index;
    const damage = { damaged: 0 };
    const plan = new ShardCheck(s.manifest, s.given);
    for await (const { record } of readRecordLines(join(s.dir, 'records.jsonl'), true, damage)) {
      plan.check(record);
      const other = owner.get(record.job_id);
      if ((other !== undefined && other !== index) || (record.shard !== undefined && record.shard !== index))
        throw new UsageError(
          `${s.given}: job ${record.job_id} (${terminalSafe(record.suite, 80)}/${terminalSafe(record.case_id, 80)}, ${terminalSafe(record.model, 80)}) belongs to shard ${other ?? record.shard}/${s.manifest.shard.count}, not ${label(s.manifest.shard)}`,
        );
      owner.set(record.job_id, index);
      journal.append({ ...record, run_id: runId, shard: index });
      written++;
    }
    if (damage.damaged)
      throw new UsageError(
        `${s.given}: ${damage.damaged} damaged line(s) in records.jsonl; run gapbench run --resume ${s.given} to repair it first`,
      );
    plan.finish(s.given);
  }
  return written;
}
