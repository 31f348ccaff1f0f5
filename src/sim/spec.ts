/**
 * Simulated models on the command line, and the one validator shared with `startSimulator`:
 * `NAME[@key=value,key=value...]`, e.g. `llama3.1:8b@accuracy=0.7,latency=50,error500=0.05,rpm=600`.
 * NAME may contain ':' (Ollama tags), so only the first '@' separates it from the options.
 */
import { isRecord } from '../util/record.js';
import { FAULT_KINDS, type SimBatchOptions, type SimFaults, type SimModel } from './types.js';

/** A bad simulated-model spec or option. The message is one line and names the key and value. */
export class SimSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimSpecError';
  }
}

type Range = 'fraction' | 'nonNegative' | 'positive' | 'flag' | 'count';

/** Spec key -> SimModel field (fault keys go under `faults`) and the allowed range. */
const SPEC_KEYS: Record<string, { field: string; range: Range }> = {
  accuracy: { field: 'accuracy', range: 'fraction' },
  latency: { field: 'latencyMs', range: 'nonNegative' },
  jitter: { field: 'jitterMs', range: 'nonNegative' },
  wrongslow: { field: 'wrongSlow', range: 'positive' },
  rpm: { field: 'rpm', range: 'positive' },
  tps: { field: 'tokensPerSecond', range: 'positive' },
  think: { field: 'reasoningTokens', range: 'nonNegative' },
  // 1 turns a vendor rule on (sim/rules.ts).
  fixedtemp: { field: 'fixedTemperature', range: 'flag' },
  nomaxtokens: { field: 'refuseMaxTokens', range: 'flag' },
  thinkswitch: { field: 'thinkingSwitch', range: 'flag' },
  ttft: { field: 'ttftMs', range: 'nonNegative' },
  load: { field: 'loadMs', range: 'nonNegative' },
  streamonly: { field: 'streamOnly', range: 'flag' },
  timings: { field: 'llamaTimings', range: 'flag' },
  slots: { field: 'slots', range: 'count' },
  peaktps: { field: 'peakTps', range: 'positive' },
  prefill: { field: 'prefillMsPer1k', range: 'nonNegative' },
  out: { field: 'outputTokens', range: 'count' },
  ...Object.fromEntries(FAULT_KINDS.map((k) => [k, { field: k, range: 'fraction' as const }])),
};

const RANGE_TEXT: Record<Range, string> = {
  fraction: 'a number from 0 to 1',
  nonNegative: 'a number >= 0',
  positive: 'a number > 0',
  flag: '0 or 1',
  count: 'a whole number >= 1',
};

function inRange(v: number, range: Range): boolean {
  if (!Number.isFinite(v)) return false;
  if (range === 'fraction') return v >= 0 && v <= 1;
  if (range === 'flag') return v === 0 || v === 1;
  if (range === 'count') return Number.isSafeInteger(v) && v >= 1;
  return range === 'positive' ? v > 0 : v >= 0;
}

/** Parses `NAME[@key=value,...]` into a SimModel; throws SimSpecError naming the bad part. */
export function parseSimModelSpec(s: string): SimModel {
  const where = `sim model spec "${s}"`;
  const at = s.indexOf('@');
  const name = (at < 0 ? s : s.slice(0, at)).trim();
  if (name === '') throw new SimSpecError(`${where}: the model name before '@' is empty`);
  const model: SimModel = { name };
  if (at < 0) return model;
  const list = s.slice(at + 1);
  if (list.trim() === '') throw new SimSpecError(`${where}: nothing after '@' (expected key=value pairs)`);
  const faults: SimFaults = {};
  const seen = new Set<string>();
  for (const pair of list.split(',')) {
    const eq = pair.indexOf('=');
    const key = (eq < 0 ? pair : pair.slice(0, eq)).trim();
    const raw = eq < 0 ? '' : pair.slice(eq + 1).trim();
    const def = SPEC_KEYS[key];
    if (def === undefined) {
      throw new SimSpecError(`${where}: unknown key "${key}" (expected one of ${Object.keys(SPEC_KEYS).join(', ')})`);
    }
    if (seen.has(key)) throw new SimSpecError(`${where}: key "${key}" is given twice`);
    seen.add(key);
    const value = raw === '' ? NaN : Number(raw);
    if (!inRange(value, def.range)) {
      throw new SimSpecError(`${where}: ${key} must be ${RANGE_TEXT[def.range]}, got "${raw}"`);
    }
    if ((FAULT_KINDS as readonly string[]).includes(key)) faults[key as keyof SimFaults] = value;
    else (model as unknown as Record<string, number | boolean>)[def.field] = def.range === 'flag' ? value === 1 : value;
  }
  if (Object.keys(faults).length > 0) model.faults = faults;
  validateSimModel(model, where);
  return model;
}

/** Checks one model's options (ranges, fault fractions adding up to at most 1). */
export function validateSimModel(m: SimModel, where = `sim model "${String(m?.name)}"`): void {
  if (typeof m !== 'object' || m === null || typeof m.name !== 'string' || m.name.trim() === '') {
    throw new SimSpecError(`${where}: expected an object with a non-empty string \`name\``);
  }
  const check = (label: string, v: number | undefined, range: Range): void => {
    if (v !== undefined && !(typeof v === 'number' && inRange(v, range))) {
      throw new SimSpecError(`${where}: ${label} must be ${RANGE_TEXT[range]}, got ${String(v)}`);
    }
  };
  // Every numeric key of the spec, in its order; the flags are booleans, the faults are summed below.
  for (const { field, range } of Object.values(SPEC_KEYS)) {
    if (range === 'flag' || (FAULT_KINDS as readonly string[]).includes(field)) continue;
    check(field, (m as unknown as Record<string, number | undefined>)[field], range);
  }
  checkServing(m, where);
  for (const k of ['streamOnly', 'llamaTimings'] as const) {
    if (m[k] !== undefined && typeof m[k] !== 'boolean')
      throw new SimSpecError(`${where}: ${k} must be true or false, got ${String(m[k])}`);
  }
  let sum = 0;
  for (const k of FAULT_KINDS) {
    const v = m.faults?.[k];
    check(`faults.${k}`, v, 'fraction');
    sum += v ?? 0;
  }
  if (sum > 1 + 1e-9) {
    throw new SimSpecError(
      `${where}: fault fractions add up to ${Number(sum.toFixed(6))}; they must add up to at most 1`,
    );
  }
}

/** The serving model's keys only make sense together: slots pace by tps, and the peak is above one slot's rate. */
function checkServing(m: SimModel, where: string): void {
  const needSlots = m.peakTps !== undefined || m.prefillMsPer1k !== undefined;
  if (needSlots && m.slots === undefined)
    throw new SimSpecError(`${where}: peakTps (peaktps) and prefillMsPer1k (prefill) need slots`);
  if (m.slots !== undefined && m.tokensPerSecond === undefined)
    throw new SimSpecError(`${where}: slots needs tokensPerSecond (tps), the rate of one request alone`);
  if (m.peakTps !== undefined && m.tokensPerSecond !== undefined && m.peakTps < m.tokensPerSecond)
    throw new SimSpecError(
      `${where}: peakTps (${m.peakTps}) must be at least tokensPerSecond (${m.tokensPerSecond}), one slot's rate`,
    );
}

/** The Batch API's knobs -> the range each must be in (whole numbers where a count is meant). */
const BATCH_KEYS: Record<keyof SimBatchOptions, Range> = {
  delayMs: 'nonNegative',
  failEvery: 'count',
  expireAfterMs: 'nonNegative',
  maxRequestsPerFile: 'count',
  maxFileBytes: 'count',
};

/** Checks `startSimulator`'s `batch` option: known keys only, each in its range. */
export function validateSimBatchOptions(b: unknown, where = 'startSimulator: batch'): void {
  if (b === undefined) return;
  if (!isRecord(b)) {
    throw new SimSpecError(`${where}: expected an object, got ${JSON.stringify(b)}`);
  }
  for (const [key, v] of Object.entries(b)) {
    const range = Object.hasOwn(BATCH_KEYS, key) ? BATCH_KEYS[key as keyof SimBatchOptions] : undefined;
    if (range === undefined) {
      throw new SimSpecError(`${where}: unknown key "${key}" (expected one of ${Object.keys(BATCH_KEYS).join(', ')})`);
    }
    if (v !== undefined && !(typeof v === 'number' && inRange(v, range))) {
      throw new SimSpecError(`${where}.${key} must be ${RANGE_TEXT[range]}, got ${JSON.stringify(v)}`);
    }
  }
}
