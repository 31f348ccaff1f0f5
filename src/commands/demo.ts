import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ModelConfig } from '../config/config.js';
import { UsageError } from '../errors.js';
import { EXIT, type IO } from '../io.js';
import { ResponseCache } from '../run/cache.js';
import { answerKeyFromCases, startSimulator, type Simulator } from '../sim/index.js';
import { loadSuite } from '../suite/load.js';
import { helpText, parse, positiveInt, type CommandSpec } from '../util/args.js';
import { RUN_SPEC } from './run-options.js';
import { executeRun } from './execute.js';
import { defaultRunId } from './prepare.js';
import { DEFAULT_SIM_MODELS } from './sim.js';

export const DEMO_SPEC = {
  name: 'demo',
  usage: 'demo [options]',
  about:
    "Starts the built-in simulator in-process and runs suites/demo.yaml on two SIMULATED models: 'gpt-sim' (closed, through the real openai SDK) and 'llama-sim:8b' (open, through the real ollama SDK). Needs no keys and no servers. Writes a normal run directory.",
  options: {
    out: RUN_SPEC.options.out,
    'run-id': RUN_SPEC.options['run-id'],
    repeat: RUN_SPEC.options.repeat,
    excel: RUN_SPEC.options.excel,
    quiet: RUN_SPEC.options.quiet,
  },
} as const satisfies CommandSpec;

export const DEMO_BANNER = [
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
    const models = demoModels(sim);
    const outDir = resolve(io.cwd, values.out ?? 'results');
    const runId = values['run-id'] ?? defaultRunId(outDir, 'demo-');
    if (existsSync(join(outDir, runId)))
      throw new UsageError(`--run-id ${runId}: ${join(outDir, runId)} already exists`);
    const repeat = positiveInt('--repeat', values.repeat) ?? 1;
    return await executeRun(
      {
        models,
        suites: [suite],
        repeat,
        runDir: join(outDir, runId),
        runId,
        resuming: false,
        retryErrors: false,
        cache: new ResponseCache(join(outDir, '.cache'), 'off'),
        invocation: { models: [], suites: ['demo'], repeat, sets: {}, cwd: io.cwd },
        progressIntervalSec: 10,
        quiet: Boolean(values.quiet),
        excel: Boolean(values.excel),
        xlsx: false,
        matrixOutputs: false,
        thresholds: {},
        banner: [...DEMO_BANNER, ...(reason ? [reason] : []), ''],
      },
      io,
    );
  } finally {
    await sim.close();
  }
}

/** The two simulated models: one through the openai SDK, one through the ollama SDK. */
function demoModels(sim: Simulator): ModelConfig[] {
  const base = {
    keyOptional: true,
    maxRetries: 2,
    timeoutMs: 30_000,
    params: { temperature: 0 },
    cache: false,
    judgeOnly: false,
  } as const;
  return [
    {
      ...base,
      id: 'gpt-sim',
      provider: 'openai',
      protocol: 'openai',
      model: 'gpt-sim',
      group: 'closed',
      endpoint: sim.openaiBaseURL,
      concurrency: 8,
      price: { input: 0.15, output: 0.6 },
    },
    {
      ...base,
      id: 'llama-sim:8b',
      provider: 'ollama',
      protocol: 'ollama',
      model: 'llama-sim:8b',
      group: 'open',
      endpoint: sim.ollamaHost,
      concurrency: 2,
      price: { perHour: 0.8 },
    },
  ];
}
