import { join } from 'node:path';
import type { ModelConfig } from '../config/config.js';
import { UsageError } from '../errors.js';
import { EXIT, type IO } from '../io.js';
import { writeManifest, type Manifest } from '../journal/manifest.js';
import { createProvider } from '../providers/index.js';
import {
  CapacityCsv,
  goodputOf,
  goodputTable,
  resolveSlo,
  sloText,
  writeGoodputCsv,
  type CapacityStep,
  type Goodput,
  type RawSlo,
  type Slo,
} from '../report/capacity.js';
import { PromptCycle } from '../run/capacity-step.js';
import { measureClosed, sweepModel, type SweepOptions } from '../run/capacity-sweep.js';
import { messagesOf } from '../run/job.js';
import { openRunDir, startManifest, unlockRunDir } from '../run/rundir.js';
import { StopControl } from '../run/stop.js';
import { helpText, parse, positiveInt, type CommandSpec, type Values } from '../util/args.js';
import { terminalSafe } from '../util/text.js';
import { prepareRun, type PreparedRun } from './prepare.js';
import { RUN_SPEC } from './run-options.js';

const { config, suite, set, out, 'run-id': runId, limit } = RUN_SPEC.options;

export const CAPACITY_SPEC = {
  name: 'capacity',
  usage: 'capacity [options]',
  about:
    "Sweeps each self-hosted model (price.perHour set, or named with --model) at rising concurrency with the suites' prompts, streamed, and finds its goodput (the highest throughput within the latency target) and saturation; measures the config's closed models at low load for comparison. Writes results/<run-id>/: capacity.csv (a row per step, as it ends), goodput.csv, manifest.json (kind capacity). docs/capacity.md.",
  options: {
    config,
    suite,
    model: {
      ...RUN_SPEC.options.model,
      help: "a model to sweep: the id of one of the config's models, or PROVIDER:MODEL to add one as run does; given, only these are swept",
    },
    set,
    out,
    'run-id': runId,
    limit,
    slo: {
      value: 'KEY=N,...',
      help: "latency target over the config's slo: ttft_p95_s, itl_p95_ms, e2e_p95_s (numbers above 0)",
      parse: parseSlo,
      fallback: 'ttft_p95_s=2,itl_p95_ms=100',
    },
    'max-concurrency': { value: 'N', help: 'highest concurrency tried', parse: positiveInt, default: 256 },
    'step-seconds': {
      value: 'S',
      help: 'each step lasts at least S seconds (and at most 4 x S)',
      parse: positiveInt,
      default: 5,
    },
    'step-requests': { value: 'N', help: 'each step counts at least N answers', parse: positiveInt, default: 40 },
    quiet: { type: 'boolean', help: 'no line per step' },
  },
  footer:
    'Exit codes: 0 finished (a model that met no target has no goodput, with a note); 2 bad usage, config or suite (nothing sent); 1 finished but no swept model got a single answer (a server down: rows with errors, a note); 130 interrupted (finished steps kept).',
} as const satisfies CommandSpec;

/** `ttft_p95_s=2,itl_p95_ms=50`: each key known, each value a number above 0. */
function parseSlo(flag: string, v: string): RawSlo {
  const out: Record<string, number> = {};
  for (const pair of v.split(',')) {
    const [key, raw] = pair.split('=').map((s) => s.trim());
    if (!['ttft_p95_s', 'itl_p95_ms', 'e2e_p95_s'].includes(key))
      throw new UsageError(`${flag} ${v}: unknown key '${key}' (expected ttft_p95_s, itl_p95_ms, e2e_p95_s)`);
    const n = raw === undefined || raw === '' ? NaN : Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} ${key}=${raw ?? ''}: expected a number above 0`);
    out[key] = n;
  }
  return out;
}

interface Plan {
  p: PreparedRun;
  slo: Slo;
  swept: ModelConfig[];
  closed: ModelConfig[];
  sweep: Omit<SweepOptions, 'signal' | 'onStep' | 'slo'>;
}

async function plan(values: Values<typeof CAPACITY_SPEC.options>, io: IO): Promise<Plan> {
  const minSeconds = values['step-seconds'];
  const sweep = {
    maxConcurrency: values['max-concurrency'],
    minSeconds,
    maxSeconds: 4 * minSeconds,
    minRequests: values['step-requests'],
  };
  const named = values.model ?? [];
  // --model ID names a model of the config; PROVIDER:MODEL adds one, as run's does.
  const added = named.filter((n) => n.includes(':'));
  // No cache: every answer must come from the server, now.
  const runValues = { ...parse(RUN_SPEC, []).values, ...values, model: added, cache: 'off' as const, quiet: true };
  const p = await prepareRun(runValues, io, undefined, true);
  const bench = p.models.filter((m) => !m.judgeOnly);
  const unknown = named.find((n) => !bench.some((m) => m.id === n));
  if (unknown !== undefined)
    throw new UsageError(`--model ${unknown}: no model of the config has this id (give PROVIDER:MODEL to add one)`);
  const swept = bench.filter((m) => (named.length ? named.includes(m.id) : m.price?.perHour !== undefined));
  if (!swept.length)
    throw new UsageError(
      'no model to sweep: give a self-hosted model price.perHour in the config, or name one with --model',
    );
  const closed = bench.filter((m) => m.group === 'closed' && !swept.includes(m));
  return { p, slo: resolveSlo(p.slo, values.slo), swept, closed, sweep };
}

export async function capacityCommand(argv: string[], io: IO): Promise<number> {
  const { values } = parse(CAPACITY_SPEC, argv);
  if (values.help) {
    io.stdout.write(`${helpText(CAPACITY_SPEC)}\n`);
    return EXIT.ok;
  }
  const pl = await plan(values, io);
  const say = (line: string) => io.stderr.write(`${line}\n`);
  const manifest: Manifest = { ...startManifest(pl.p), kind: 'capacity', slo: sloText(pl.slo) };
  const opened = openRunDir(pl.p.runDir, false, manifest);
  if (opened.notice) say(opened.notice);
  const control = new StopControl(say, io.signals);
  try {
    const results = await sweepAll(pl, manifest, control.stop.signal, values.quiet ? () => {} : say, io);
    return finish(pl, manifest, results, control.stop.signal.aborted, io);
  } finally {
    control.dispose();
    unlockRunDir(pl.p.runDir);
  }
}

async function sweepAll(
  pl: Plan,
  manifest: Manifest,
  signal: AbortSignal,
  say: (line: string) => void,
  io: IO,
): Promise<Goodput[]> {
  const csv = new CapacityCsv(join(pl.p.runDir, 'capacity.csv'), manifest.run_id);
  const prompts = pl.p.suites.flatMap((s) => s.cases.map(messagesOf));
  const onStep = (s: CapacityStep, cpuFraction: number) => {
    csv.append(s);
    say(stepLine(s, cpuFraction));
  };
  const opts: SweepOptions = { ...pl.sweep, slo: pl.slo, signal, onStep };
  const env = { env: io.env, cwd: io.cwd };
  const results: Goodput[] = [];
  const all: CapacityStep[] = [];
  for (const m of pl.swept) {
    if (signal.aborted) break;
    const steps = await sweepModel(m, createProvider(m, env), new PromptCycle(prompts), opts);
    const notes = m.price?.perHour === undefined ? ['no price.perHour: break-even skipped'] : [];
    if (steps.length) results.push(goodputOf(m.id, steps, pl.slo, notes));
    all.push(...steps);
  }
  for (const m of pl.closed) {
    if (signal.aborted) break;
    all.push(...(await measureClosed(m, createProvider(m, env), new PromptCycle(prompts), opts)));
  }
  writeGoodputCsv(join(pl.p.runDir, 'goodput.csv'), manifest.run_id, results);
  const { writeCapacityHtml } = await import('../report/html-capacity.js');
  writeCapacityHtml({ runDir: pl.p.runDir, runId: manifest.run_id, steps: all, goodput: results, slo: pl.slo });
  return results;
}

/** A step as it ends, with gapbench's own CPU (a load generator near a whole core would be the bottleneck). */
function stepLine(s: CapacityStep, cpuFraction: number): string {
  const t = s.stats;
  const f = (v: number, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : '-');
  const slo = s.meetsSlo ? 'meets the SLO' : 'misses the SLO';
  const errors = t.errors ? `, ${t.errors} error(s)` : '';
  return terminalSafe(
    `${s.model} (${s.side}) concurrency ${s.concurrency}: ${f(t.requestsPerS, 2)} req/s, ${f(t.outputTokensPerS)} tok/s, TTFT p95 ${f(t.ttft.p95)} ms, ITL p95 ${f(t.itl.p95, 1)} ms, e2e p95 ${f(t.e2e.p95)} ms${errors}: ${slo}${t.note ? ` (${t.note})` : ''}; gapbench CPU ${f(cpuFraction, 2)} core`,
    600,
  );
}

function finish(pl: Plan, manifest: Manifest, results: Goodput[], interrupted: boolean, io: IO): number {
  manifest.status = interrupted ? 'interrupted' : 'finished';
  manifest.finished_at = new Date().toISOString();
  writeManifest(pl.p.runDir, manifest);
  io.stdout.write(`SLO ${sloText(pl.slo)}\n`);
  io.stdout.write(goodputTable(results, (s) => terminalSafe(s, 80)));
  for (const g of results) if (g.note) io.stdout.write(`note: ${terminalSafe(`${g.model}: ${g.note}`, 500)}\n`);
  io.stdout.write(`Results: ${pl.p.runDir}\n`);
  if (interrupted) {
    io.stdout.write('Interrupted: the finished steps are in capacity.csv; the step under way was dropped.\n');
    return EXIT.interrupted;
  }
  // A server down: rows with errors and a note, no goodput, and an exit code a script can see.
  return results.length && results.every((g) => !g.plateau) ? EXIT.threshold : EXIT.ok;
}
