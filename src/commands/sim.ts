import { UsageError } from '../errors.js';
import { EXIT, type IO } from '../io.js';
import {
  answerKeyFromCases,
  parseSimModelSpec,
  SimSpecError,
  startSimulator,
  type SimBatchOptions,
  type SimModel,
  type Simulator,
} from '../sim/index.js';
import { loadSuite } from '../suite/load.js';
import type { Case } from '../types.js';
import { helpText, keyValues, nonNegativeInt, parse, positiveInt, type CommandSpec } from '../util/args.js';

export const SIM_SPEC = {
  name: 'sim',
  usage: 'sim [options]',
  about:
    'Serves simulated models on 127.0.0.1 over the OpenAI protocol (/v1/chat/completions with JSON and SSE streaming, /v1/models, and the Batch API: /v1/files, /v1/batches) and the Ollama protocol (/api/chat with NDJSON streaming and stream:false, /api/tags, /api/version). Answers are deterministic by seed: each model answers a known prompt correctly with its accuracy. Faults are drawn per request, deterministic by seed; batch lines get the live answers without faults.',
  options: {
    port: { type: 'string', value: 'N', help: 'port; 0: any free port', default: '11435' },
    model: {
      type: 'string',
      multiple: true,
      value: 'SPEC',
      help: "NAME[@key=value,...]; keys: accuracy (0-1), latency (ms), jitter (ms), error500, error503, reset, hang, malformed (fractions of requests), rpm (limit, answered with 429 + retry-after), tps (tokens/s), think (reasoning tokens spent from max_tokens before the answer, streamed first as reasoning_content / thinking), ttft (ms from arrival to the first token; streamed headers go at once), streamonly=1 (refuses stream:false with HTTP 400, as DashScope's thinking-only models), load (ms the first request waits for the model to load; Ollama load_duration), timings=1 (llama.cpp's timings object on OpenAI answers), cut, garbage, stall (fractions: a stream ends early / holds a non-JSON chunk / stops), thinkswitch=1 (honours a thinking switch and budget), fixedtemp=1 (HTTP 400 to temperature other than 1), nomaxtokens=1 (HTTP 400 to max_tokens); e.g. --model 'llama3.1:8b@accuracy=0.7,latency=50,error500=0.05,rpm=600'",
      default: 'gpt-sim@accuracy=0.9 and llama-sim:8b@accuracy=0.75',
    },
    suite: {
      type: 'string',
      multiple: true,
      value: 'FILE|NAME',
      help: 'suites whose expected answers the models know',
      default: 'demo',
    },
    set: { type: 'string', multiple: true, value: 'KEY=VALUE', help: 'value for ${KEY} in suite source paths' },
    seed: { type: 'string', value: 'N', help: 'seed for answers and faults', default: '0' },
    'api-key-env': {
      type: 'string',
      value: 'VAR',
      help: "require 'Authorization: Bearer <value of VAR>' on OpenAI routes",
    },
    'batch-delay': { type: 'string', value: 'MS', help: "a batch's time from creation to completed", default: '200' },
    'batch-fail-every': {
      type: 'string',
      value: 'K',
      help: 'every K-th line of a batch input file gets a 500 error line',
    },
    'batch-expire': {
      type: 'string',
      value: 'MS',
      help: 'batches expire MS after creation: finished lines stay in the output file, the rest get batch_expired',
    },
    'batch-max-requests': {
      type: 'string',
      value: 'N',
      help: 'requests per batch input file, else the batch fails',
      default: "50000, OpenAI's",
    },
    'batch-max-bytes': {
      type: 'string',
      value: 'N',
      help: 'bytes per batch input file, else the batch fails',
      default: "200000000, OpenAI's 200 MB",
    },
  },
  footer:
    'Point gapbench at it with baseURL http://127.0.0.1:PORT/v1 (provider openai, any key) or host http://127.0.0.1:PORT (provider ollama). Stop with Ctrl-C.',
} as const satisfies CommandSpec;

export const DEFAULT_SIM_MODELS: SimModel[] = [
  { name: 'gpt-sim', accuracy: 0.9, latencyMs: 20, jitterMs: 20 },
  { name: 'llama-sim:8b', accuracy: 0.75, latencyMs: 40, jitterMs: 40 },
];

export async function simCommand(argv: string[], io: IO): Promise<number> {
  const { values } = parse(SIM_SPEC, argv);
  if (values.help) {
    io.stdout.write(`${helpText(SIM_SPEC)}\n`);
    return EXIT.ok;
  }
  const port = values.port === undefined ? 11435 : values.port === '0' ? 0 : positiveInt('--port', values.port)!;
  let models: SimModel[];
  try {
    models = values.model?.map(parseSimModelSpec) ?? DEFAULT_SIM_MODELS;
  } catch (e) {
    if (e instanceof SimSpecError) throw new UsageError(`--model: ${e.message}`);
    throw e;
  }
  const seed = values.seed === undefined ? 0 : Number(values.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed ${values.seed}: expected a whole number`);
  let apiKey: string | undefined;
  if (values['api-key-env']) {
    apiKey = io.env[values['api-key-env']];
    if (!apiKey) throw new UsageError(`--api-key-env ${values['api-key-env']}: that variable is not set`);
  }
  const batch = batchOptions(values);
  const vars = { ...io.env, ...keyValues('--set', values.set) };
  const cases: Case[] = [];
  for (const ref of values.suite ?? ['demo']) cases.push(...(await loadSuite(ref, { cwd: io.cwd, vars })).cases);
  let sim;
  try {
    sim = await startSimulator({ port, models, seed, answers: answerKeyFromCases(cases), apiKey, batch });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UsageError(`--port ${port}: already in use (pick another, or --port 0)`);
    if (e instanceof SimSpecError) throw new UsageError(e.message);
    throw e;
  }
  io.stdout.write(simBanner(sim, models, cases.length));
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    io.signals?.on('SIGINT', stop);
    io.signals?.on('SIGTERM', stop);
    if (!io.signals) resolve();
  });
  await sim.close();
  return EXIT.ok;
}

/** The --batch-* flags; only those given (the simulator's defaults stand for the rest). */
function batchOptions(values: Record<string, unknown>): SimBatchOptions {
  const flag = (name: string): string | undefined => values[name] as string | undefined;
  const batch: SimBatchOptions = {
    delayMs: nonNegativeInt('--batch-delay', flag('batch-delay')),
    failEvery: positiveInt('--batch-fail-every', flag('batch-fail-every')),
    expireAfterMs: nonNegativeInt('--batch-expire', flag('batch-expire')),
    maxRequestsPerFile: positiveInt('--batch-max-requests', flag('batch-max-requests')),
    maxFileBytes: positiveInt('--batch-max-bytes', flag('batch-max-bytes')),
  };
  for (const k of Object.keys(batch) as (keyof SimBatchOptions)[]) if (batch[k] === undefined) delete batch[k];
  return batch;
}

function simBanner(sim: Simulator, models: SimModel[], prompts: number): string {
  return (
    `gapbench simulator (SIMULATED models, not real ones) on ${sim.url}\n` +
    `  OpenAI protocol: baseURL ${sim.openaiBaseURL}\n  Ollama protocol: host ${sim.ollamaHost}\n` +
    models
      .map(
        (m) =>
          `  model ${m.name}: accuracy ${m.accuracy ?? 0.8}, latency ${m.latencyMs ?? 0} ms${m.rpm ? `, ${m.rpm} rpm` : ''}`,
      )
      .join('\n') +
    `\n  Batch API: ${sim.openaiBaseURL}/files and /batches\n  answers known for ${prompts} prompts; Ctrl-C to stop\n`
  );
}
