import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { missingKeys, type ModelConfig } from '../config/config.js';
import { UsageError } from '../errors.js';
import { gradeSafely } from '../graders/index.js';
import { EXIT, type IO } from '../io.js';
import { createProvider } from '../providers/index.js';
import { writeReports } from '../report/index.js';
import { defaultCacheDir, ResponseCache } from '../run/cache.js';
import { Journal } from '../run/journal.js';
import { Lane } from '../run/lane.js';
import { configHash, readManifest, writeManifest, type Manifest } from '../run/manifest.js';
import { readLatestRecords } from '../run/read.js';
import type { JobRecord } from '../run/record.js';
import { makeAsk, tokenCost } from '../run/runner.js';
import { loadSuite, type Suite } from '../suite/load.js';
import type { Grade } from '../types.js';
import { keyValues, parse } from '../util/args.js';
import { VERSION } from '../version.js';

export const REGRADE_HELP = `Usage: gapbench regrade <run-dir> [options]

Re-scores a run's stored outputs with the current graders (or a changed suite) and writes a new
run directory that names the one it came from (manifest.json: derived_from). No model is called,
except judge models by judge graders (through their lanes and the response cache).

Options:
  --suite FILE|NAME   suite(s) to grade with (default: the run's own suites, loaded again)
  --set KEY=VALUE     variable for \${KEY} in suite source paths (repeatable)
  --run-id NAME       name of the new run directory (default: <run-id>-regrade[-N])
  --excel             CSVs with a UTF-8 BOM
  -h, --help          show this help`;

export async function regradeCommand(argv: string[], io: IO): Promise<number> {
  const { values, positionals } = parse(
    'regrade',
    argv,
    {
      suite: { type: 'string', multiple: true },
      set: { type: 'string', multiple: true },
      'run-id': { type: 'string' },
      excel: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  );
  if (values.help) {
    io.stdout.write(`${REGRADE_HELP}\n`);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UsageError('expected one run directory: gapbench regrade results/<run-id>');
  const src = resolve(io.cwd, positionals[0]);
  const old = readManifest(src);
  const vars = { ...io.env, ...old.invocation.sets, ...keyValues('--set', values.set) };
  const refs = values.suite ?? old.suites.map((s) => s.file);
  const suites = new Map<string, Suite>();
  for (const ref of refs) {
    const s = await loadSuite(ref, { cwd: values.suite ? io.cwd : old.invocation.cwd, vars });
    suites.set(s.name, s);
  }
  const outDir = resolve(src, '..');
  let runId = values['run-id'] ?? `${old.run_id}-regrade`;
  for (let i = 2; !values['run-id'] && existsSync(join(outDir, runId)); i++) runId = `${old.run_id}-regrade-${i}`;
  if (existsSync(join(outDir, runId))) throw new UsageError(`--run-id ${runId}: ${join(outDir, runId)} already exists`);

  // Judge graders ask models from the run's config; keys are needed only when a judge is called.
  const models: ModelConfig[] = old.models;
  const cache = new ResponseCache(defaultCacheDir(io.env), 'use');
  const lanes = new Map<string, Lane>();
  const laneFor = (m: ModelConfig) => {
    let l = lanes.get(m.id);
    if (!l) {
      const missing = missingKeys([m], io.env);
      if (missing.length) throw new UsageError(missing[0]);
      l = new Lane(createProvider(m, { env: io.env, cwd: io.cwd }), m.concurrency);
      lanes.set(m.id, l);
    }
    return l;
  };
  const ask = makeAsk(models, laneFor, cache);

  const dir = join(outDir, runId);
  mkdirSync(dir, { recursive: true });
  const { journal } = Journal.open(join(dir, 'records.jsonl'));
  let kept = 0;
  let dropped = 0;
  let changed = 0;
  try {
    for await (const r of readLatestRecords(join(src, 'records.jsonl'))) {
      const suite = suites.get(r.suite);
      const idx = suite?.cases.findIndex((c) => c.id === r.case_id) ?? -1;
      if (!suite || idx < 0) {
        dropped++;
        continue;
      }
      const c = suite.cases[idx];
      let grade: Grade = r.grade;
      if (r.status === 'ok') {
        const model = models.find((m) => m.id === r.model);
        const completion = {
          latencyMs: r.latency_ms,
          inputTokens: r.input_tokens,
          outputTokens: r.output_tokens,
          costUsd: model ? tokenCost(model, { inputTokens: r.input_tokens, outputTokens: r.output_tokens }) : undefined,
        };
        grade = await gradeSafely(suite.graderOf(c), r.output, { case: c, completion, ask });
      }
      if (grade.score !== r.grade.score || grade.passed !== r.grade.passed) changed++;
      const next: JobRecord = {
        ...r,
        run_id: runId,
        case_index: idx,
        category: c.category,
        expected: c.expected,
        prompt: c.prompt,
        grader: suite.graderName(c),
        grade,
      };
      journal.append(next);
      kept++;
    }
  } finally {
    journal.close();
  }
  const manifest: Manifest = {
    ...old,
    gapbench: VERSION,
    run_id: runId,
    status: 'finished',
    created_at: new Date().toISOString(),
    finished_at: new Date().toISOString(),
    derived_from: old.run_id,
    suites: [...suites.values()].map((s) => ({
      name: s.name,
      file: s.file,
      hash: s.hash,
      cases: s.cases.length,
      description: s.description,
    })),
    config_hash: configHash(old.models, [...suites.values()], old.repeat),
    invocation: { ...old.invocation, suites: refs, cwd: values.suite ? io.cwd : old.invocation.cwd },
  };
  writeManifest(dir, manifest);
  const report = await writeReports(dir, {
    excel: Boolean(values.excel),
    matrixOutputs: false,
    history: false,
    manifest,
  });
  io.stdout.write(report.terminal(io.stdout, io.env));
  io.stdout.write(
    `Regraded ${kept} records from ${old.run_id} (${changed} changed verdict or score${dropped ? `, ${dropped} dropped: their case is no longer in the suite` : ''})\n`,
  );
  io.stdout.write(`Results: ${dir}\n`);
  return EXIT.ok;
}
