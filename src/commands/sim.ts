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
import {
  helpText,
  nonNegativeInt,
  numberWhere,
  parse,
  positiveInt,
  SET_OPTION,
  type CommandSpec,
} from '../util/args.js';

export const SIM_SPEC = {
  name: 'sim',
  usage: 'sim [options]',
  about:
    'Serves simulated models on 127.0.0.1 over the OpenAI protocol (/v1/chat/completions with JSON and SSE streaming, /v1/models, and the Batch API: /v1/files, /v1/batches) and the Ollama protocol (/api/chat with NDJSON streaming and stream:false, /api/tags, /api/version). Answers are deterministic by seed: each model answers a known prompt correctly with its accuracy. Faults are drawn per request, deterministic by seed; batch lines get the live answers without faults.',
  options: {
    port: {
      value: 'N',
      help: 'port; 0: any free port',
      parse: (flag, text) => (text === '0' ? 0 : positiveInt(flag, text)),
      default: 11435,
    },
    model: {
      multiple: true,
      value: 'SPEC',
      help: "NAME[@key=value,...]; keys: accuracy (0-1), latency (ms), jitter (ms), error500, error503, reset, hang, malformed (fractions of requests), rpm (limit, answered with 429 + retry-after), tps (tokens/s), think (reasoning tokens spent from max_tokens before the answer, streamed first as reasoning_content / thinking), ttft (ms from arrival to the first token; streamed headers go at once), streamonly=1 (refuses stream:false with HTTP 400, as DashScope's thinking-only models), load (ms the first request waits for the model to load; Ollama load_duration), timings=1 (llama.cpp's timings object on OpenAI answers), cut, garbage, stall (fractions: a stream ends early / holds a non-JSON chunk / stops), thinkswitch=1 (honours a thinking switch and budget), fixedtemp=1 (HTTP 400 to temperature other than 1), nomaxtokens=1 (HTTP 400 to max_tokens); e.g. --model 'llama3.1:8b@accuracy=0.7,latency=50,error500=0.05,rpm=600'",
      parse: simModel,
      fallback: 'gpt-sim@accuracy=0.9 and llama-sim:8b@accuracy=0.75',
    },
    suite: {
      multiple: true,
      value: 'FILE|NAME',
      help: 'suites whose expected answers the models know',
      default: ['demo'],
    },
    set: SET_OPTION,
    seed: {
      value: 'N',
      help: 'seed for answers and faults',
      parse: numberWhere('a whole number', Number.isInteger),
      default: 0,
    },
    'api-key-env': { value: 'VAR', help: "require 'Authorization: Bearer <value of VAR>' on OpenAI routes" },
    'batch-delay': {
      value: 'MS',
      help: "a batch's time from creation to completed",
      parse: nonNegativeInt,
      default: 200,
    },
    'batch-fail-every': {
      value: 'K',
      help: 'every K-th line of a batch input file gets a 500 error line',
      parse: positiveInt,
    },
    'batch-expire': {
      value: 'MS',
      help: 'batches expire MS after creation: finished lines stay in the output file, the rest get batch_expired',
      parse: nonNegativeInt,
    },
    'batch-max-requests': {
      value: 'N',
      help: "requests per batch input file (OpenAI's limit), else the batch fails",
      parse: positiveInt,
      default: 50_000,
    },
    'batch-max-bytes': {
      value: 'N',
      help: "bytes per batch input file (OpenAI's: 200 MB), else the batch fails",
      parse: positiveInt,
      default: 200_000_000,
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
  const { port, seed } = values;
  const models = values.model ?? DEFAULT_SIM_MODELS;
  let apiKey: string | undefined;
  if (values['api-key-env']) {
    apiKey = io.env[values['api-key-env']];
    if (!apiKey) throw new UsageError(`--api-key-env ${values['api-key-env']}: that variable is not set`);
  }
  const batch: SimBatchOptions = {
    delayMs: values['batch-delay'],
    failEvery: values['batch-fail-every'],
    expireAfterMs: values['batch-expire'],
    maxRequestsPerFile: values['batch-max-requests'],
    maxFileBytes: values['batch-max-bytes'],
  };
  const vars = { ...io.env, ...Object.fromEntries(values.set ?? []) };
  const cases: Case[] = [];
  for (const ref of values.suite) cases.push(...(await loadSuite(ref, { cwd: io.cwd, vars })).cases);
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

/** `--model SPEC`, its faults said as a usage error. */
function simModel(flag: string, text: string): SimModel {
  try {
    return parseSimModelSpec(text);
  } catch (e) {
    if (e instanceof SimSpecError) throw new UsageError(`${flag}: ${e.message}`);
    throw e;
  }
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
