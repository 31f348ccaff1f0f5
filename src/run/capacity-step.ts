/**
 * One step of a capacity sweep: `concurrency` workers each send the suite's prompts (cycled) one
 * after another through the model's real provider, streamed, until the step has lasted its
 * minimum time and gathered its minimum answers (or its time cap). Each worker's first request is
 * warm-up and is not counted (the batch fills); throughput is summed per worker over the time
 * between its first and its last answer, so a step's start and end never dilute it.
 */
import { ProviderError } from '../errors.js';
import type { Provider } from '../providers/index.js';
import type { StepStats } from '../report/capacity.js';
import { percentiles } from '../report/stats.js';
import type { ChatMessage, Completion, SamplingParams } from '../types.js';

interface StepOptions {
  concurrency: number;
  /** The step ends once it has lasted this long and holds `minRequests` answers... */
  minSeconds: number;
  minRequests: number;
  /** ...or at this time cap, whatever it holds. */
  maxSeconds: number;
  /** Stops the step at once (Ctrl-C): requests in flight are aborted. */
  signal: AbortSignal;
  timeoutMs: number;
  /** The model's first step: a first answer far slower than the rest (5 x the median, 1 s more) is a cold start too. */
  first?: boolean;
}

/** A first answer this many times slower than the step's median was a model loading. */
const COLD_FACTOR = 5;

interface Sample {
  ttftMs: number;
  e2eMs: number;
  outputTokens: number;
  cold: boolean;
}

interface Worker {
  samples: Sample[];
  /** Its warm-up answer: when it came, how long it took, whether the server said it loaded the model. */
  from?: number;
  warmup?: Sample;
  to?: number;
}

/** Cycles through the prompts: each request takes the next. */
export class PromptCycle {
  private i = 0;
  constructor(private readonly prompts: readonly ChatMessage[][]) {
    if (prompts.length === 0) throw new Error('capacity: no prompts to send');
  }
  next(): ChatMessage[] {
    return this.prompts[this.i++ % this.prompts.length];
  }
}

export async function measureStep(
  provider: Provider,
  params: SamplingParams,
  prompts: PromptCycle,
  o: StepOptions,
): Promise<StepStats & { cpuFraction: number }> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const workers: Worker[] = Array.from({ length: o.concurrency }, () => ({ samples: [] }));
  const errors: string[] = [];
  let answered = 0;
  const more = () => {
    const s = (performance.now() - t0) / 1000;
    // A server that answers nothing: the step ends once it has failed as often as it should have answered.
    if (answered === 0 && errors.length >= Math.max(o.minRequests, o.concurrency)) return false;
    return !o.signal.aborted && s < o.maxSeconds && (s < o.minSeconds || answered < o.minRequests);
  };
  await Promise.all(
    workers.map(async (w) => {
      while (more()) {
        const signal = AbortSignal.any([o.signal, AbortSignal.timeout(o.timeoutMs)]);
        const sent = performance.now();
        const r = await ask(provider, { messages: prompts.next(), params, signal });
        const now = performance.now();
        if ('error' in r) {
          if (!o.signal.aborted) errors.push(r.error);
          // A refused connection fails at once: no busy loop against a server that is down.
          await new Promise((res) => setTimeout(res, 50));
          continue;
        }
        if (w.from === undefined) {
          w.from = now;
          w.warmup = sampleOf(r, now - sent);
        } else {
          w.samples.push(sampleOf(r, now - sent));
          w.to = now;
          answered++;
        }
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const wallS = (performance.now() - t0) / 1000;
  return { ...statsOf(workers, errors, wallS, o.first), cpuFraction: (cpu.user + cpu.system) / 1e6 / wallS };
}

async function ask(
  provider: Provider,
  req: Parameters<Provider['complete']>[0],
): Promise<Completion | { error: string }> {
  try {
    return await provider.complete(req);
  } catch (e) {
    return { error: e instanceof ProviderError ? `${e.kind}: ${e.message}` : String((e as Error)?.message ?? e) };
  }
}

function sampleOf(c: Completion, e2eMs: number): Sample {
  const cold = Boolean(c.serverTimings?.coldLoad);
  return { ttftMs: c.ttftMs ?? NaN, e2eMs, outputTokens: c.outputTokens ?? 0, cold };
}

/**
 * The step's figures. ITL per answer = (e2e - ttft) / (output tokens - 1): the time between
 * tokens after the first (answers of one token have none). Cold starts are left out and counted.
 */
function statsOf(workers: Worker[], errors: string[], wallS: number, first?: boolean): StepStats {
  let rps = 0;
  let tps = 0;
  let coldStarts = 0;
  const warm: Sample[] = [];
  for (const w of workers) {
    const keep = w.samples.filter((s) => !s.cold);
    coldStarts += w.samples.length - keep.length;
    warm.push(...keep);
    const span = w.to !== undefined && w.from !== undefined ? (w.to - w.from) / 1000 : 0;
    if (span > 0) {
      rps += w.samples.length / span;
      tps += w.samples.reduce((a, s) => a + s.outputTokens, 0) / span;
    }
  }
  const pct = (xs: number[]) => {
    const [p50, p95] = percentiles(
      xs.filter((x) => Number.isFinite(x)),
      [50, 95],
    );
    return { p50, p95 };
  };
  const e2e = pct(warm.map((s) => s.e2eMs));
  coldStarts += workers.filter((w) => w.warmup?.cold).length;
  const w0 = workers[0]?.warmup;
  // A client's own first-connection cost is under a second; a model loading is more.
  if (first && w0 && !w0.cold && w0.e2eMs > COLD_FACTOR * e2e.p50 && w0.e2eMs - e2e.p50 > 1000) coldStarts++;
  const itl = warm.filter((s) => s.outputTokens > 1).map((s) => (s.e2eMs - s.ttftMs) / (s.outputTokens - 1));
  const note = errors.length && !warm.length ? `every request failed: ${errors[0]}` : undefined;
  return {
    durationS: wallS,
    requests: warm.length,
    requestsPerS: rps,
    outputTokensPerS: tps,
    ttft: pct(warm.map((s) => s.ttftMs)),
    itl: pct(itl),
    e2e,
    errors: errors.length,
    coldStarts,
    ...(note ? { note } : {}),
  };
}
