/**
 * A capacity sweep of one self-hosted model: concurrency 1, 2, 4, ... up to the limit, until the
 * throughput stops rising (less than 5% more than the step before), whether or not the latency
 * target still holds there (the saturation is found either way); then bisection on concurrency between the last step within the target and the first beyond it,
 * until they are adjacent or their throughputs within 5% of each other, so the goodput is found
 * within about 5% (doubling alone leaves a factor of 2). API models are measured at low load only.
 */
import type { ModelConfig } from '../config/config.js';
import type { Provider } from '../providers/index.js';
import { meetsSlo, SATURATED, type CapacityStep, type Slo } from '../report/capacity.js';
import { measureStep, type PromptCycle } from './capacity-step.js';

export interface SweepOptions {
  maxConcurrency: number;
  minSeconds: number;
  minRequests: number;
  maxSeconds: number;
  slo: Slo;
  /** Stops the sweep at once (Ctrl-C): the step under way is dropped, the finished ones kept. */
  signal: AbortSignal;
  /** Each finished step, at once (capacity.csv is appended here); with gapbench's own CPU during it, in cores. */
  onStep(step: CapacityStep, cpuFraction: number): void;
}

/** 1, 2, 4, ... and the limit itself when it is not a power of 2. */
function* ladder(max: number): Generator<number> {
  let c = 1;
  for (; c < max; c *= 2) yield c;
  yield max;
}

type Measure = (concurrency: number) => Promise<CapacityStep | undefined>;

function stepper(
  m: ModelConfig,
  provider: Provider,
  prompts: PromptCycle,
  side: CapacityStep['side'],
  o: SweepOptions,
): Measure {
  let n = 0;
  return async (concurrency) => {
    const { cpuFraction, ...stats } = await measureStep(provider, m.params, prompts, {
      concurrency,
      minSeconds: o.minSeconds,
      minRequests: o.minRequests,
      maxSeconds: o.maxSeconds,
      signal: o.signal,
      timeoutMs: m.timeoutMs,
      first: n === 0,
    });
    // An interrupted step is incomplete: it is not reported.
    if (o.signal.aborted) return undefined;
    const step: CapacityStep = { model: m.id, side, step: ++n, concurrency, stats, meetsSlo: meetsSlo(stats, o.slo) };
    o.onStep(step, cpuFraction);
    return step;
  };
}

const rises = (s: CapacityStep, than: CapacityStep) => s.stats.requestsPerS > (1 + SATURATED) * than.stats.requestsPerS;

/** Every step of a swept model, in the order measured. */
export async function sweepModel(
  m: ModelConfig,
  provider: Provider,
  prompts: PromptCycle,
  o: SweepOptions,
): Promise<CapacityStep[]> {
  const steps: CapacityStep[] = [];
  const measure = stepper(m, provider, prompts, 'open', o);
  const run: Measure = async (c) => {
    const s = await measure(c);
    if (s) steps.push(s);
    return s;
  };
  // The ladder climbs until throughput stops rising, past the point where the target breaks: the
  // saturation is where the server tops out, not where latency first crossed a line.
  let good: CapacityStep | undefined;
  let bad: CapacityStep | undefined;
  let prev: CapacityStep | undefined;
  for (const c of ladder(o.maxConcurrency)) {
    const s = await run(c);
    if (!s) return steps;
    if (s.meetsSlo && !bad) good = s;
    else bad ??= s;
    // A step with no answer at all (a server down) ends the ladder: more load says nothing more.
    const saturated = s.stats.requests === 0 || (prev !== undefined && !rises(s, prev));
    prev = s;
    if (saturated) break;
  }
  // Then the edge of the target, between the last step within it and the first beyond it.
  while (good && bad && bad.concurrency - good.concurrency > 1 && rises(bad, good)) {
    const s = await run(Math.floor((good.concurrency + bad.concurrency) / 2));
    if (!s) return steps;
    if (s.meetsSlo) good = s;
    else bad = s;
  }
  return steps;
}

/** An API model at concurrency 1 and at its configured concurrency, for the latency users would see. */
export async function measureClosed(
  m: ModelConfig,
  provider: Provider,
  prompts: PromptCycle,
  o: SweepOptions,
): Promise<CapacityStep[]> {
  const measure = stepper(m, provider, prompts, 'closed', o);
  const steps: CapacityStep[] = [];
  for (const c of new Set([1, m.concurrency])) {
    const s = await measure(c);
    if (!s) break;
    steps.push(s);
  }
  return steps;
}
