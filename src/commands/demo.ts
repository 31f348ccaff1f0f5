import { existsSync, rmdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EXIT, type IO } from '../io.js';
import { answerKeyFromCases, startSimulator, type Simulator } from '../sim/index.js';
import { loadSuite } from '../suite/load.js';
import { helpText, parse, type CommandSpec } from '../util/args.js';
import { RUN_SPEC } from './run-options.js';
import { executeRun } from './execute.js';
import { defaultRunId } from '../run/rundir.js';
import { prepareRun } from './prepare.js';
import { DEFAULT_SIM_MODELS } from './sim.js';

export const DEMO_SPEC = {
  name: 'demo',
  usage: 'demo [options]',
  about:
    "Starts the built-in simulator in-process and runs suites/demo.yaml on two SIMULATED models: 'gpt-sim' (closed, through the real openai SDK) and 'llama-sim:8b' (open, through the real ollama SDK). Needs no keys and no servers. Writes a normal run directory.",
  options: {
    // Not a default value: prepareRun names --out in its messages only when given.
    out: { ...RUN_SPEC.options.out, fallback: 'results' },
    'run-id': RUN_SPEC.options['run-id'],
    repeat: { ...RUN_SPEC.options.repeat, default: 1 },
    excel: RUN_SPEC.options.excel,
    quiet: RUN_SPEC.options.quiet,
  },
} as const satisfies CommandSpec;

const DEMO_BANNER = [
  'SIMULATED MODELS: this demo runs gapbench against its built-in simulator, not real models.',
  'The scores show how gapbench works, not how any real model performs. To compare real models,',
  'see README.md (npx gapbench run --model openai:gpt-4o-mini --model ollama:llama3.1:8b --suite knowledge-mc).',
];

export async function demoCommand(argv: string[], io: IO, reason?: string): Promise<number> {
  const { values } = parse(DEMO_SPEC, argv);
  if (values.help) {
    io.stdout.write(`${helpText(DEMO_SPEC)}\n`);
    return EXIT.ok;
  }
  const suite = await loadSuite('demo', { cwd: io.cwd, vars: {} });
  const sim = await startSimulator({
    port: 0,
    models: DEFAULT_SIM_MODELS,
    seed: 7,
    answers: answerKeyFromCases(suite.cases),
  });
  try {
    const outDir = resolve(io.cwd, values.out ?? 'results');
    const hadOut = existsSync(outDir);
    const claimed = values['run-id'] === undefined ? defaultRunId(outDir, 'demo-') : undefined;
    // The options demo was given, run's defaults for the rest; the demo suite, no cache.
    const runValues = { ...parse(RUN_SPEC, []).values, ...values, suite: ['demo'], cache: 'off' as const };
    runValues['run-id'] ??= claimed;
    const source = { configPath: false as const, models: demoModels(sim) };
    const prepared = await prepareRun(runValues, io, source).catch((e: unknown) => {
      // The directory defaultRunId claimed goes with a bad option (it is still empty).
      if (claimed) for (const d of [join(outDir, claimed), ...(hadOut ? [] : [outDir])]) removeEmpty(d);
      throw e;
    });
    return await executeRun({ ...prepared, banner: [...DEMO_BANNER, ...(reason ? [reason] : []), ''] }, io);
  } finally {
    await sim.close();
  }
}

/**
 * The two simulated models, written as a user writes models in a config file (and resolved the
 * same way): one through the openai SDK, one through the ollama SDK.
 */
function demoModels(sim: Simulator): Record<string, unknown>[] {
  const base = { maxRetries: 2, timeoutMs: 30_000, params: { temperature: 0 }, cache: false };
  return [
    {
      ...base,
      id: 'gpt-sim',
      provider: 'openai',
      model: 'gpt-sim',
      group: 'closed',
      baseURL: sim.openaiBaseURL,
      concurrency: 8,
      price: { input: 0.15, output: 0.6 },
    },
    {
      ...base,
      id: 'llama-sim:8b',
      provider: 'ollama',
      model: 'llama-sim:8b',
      group: 'open',
      host: sim.ollamaHost,
      concurrency: 2,
      price: { perHour: 0.8 },
    },
  ];
}

/** Removes a directory if it is empty; one holding anything (another run's work) stays. */
function removeEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    /* not empty, or gone */
  }
}
