import type { Price } from '../types.js';

/** Token counts of one answer, and whether a vendor's Batch API answered it. */
export interface Usage {
  inputTokens?: number;
  outputTokens?: number;
  batched?: boolean;
}

/**
 * What one answer's tokens cost, in USD: the one place a token price is applied, for the `cost`
 * grader and for every report alike. Batch answers cost `price.batch`, else half the live price
 * (what OpenAI and most vendors charge). Undefined when the model has no token price.
 */
export function tokenCost(price: Price | undefined, usage: Usage): number | undefined {
  if (!price || (price.input === undefined && price.output === undefined)) return undefined;
  const p = usage.batched ? batchPrice(price) : price;
  return ((usage.inputTokens ?? 0) * (p.input ?? 0) + (usage.outputTokens ?? 0) * (p.output ?? 0)) / 1e6;
}

/** Token prices through a Batch API: `price.batch` where given, else half the live price. */
function batchPrice(p: Price): { input?: number; output?: number } {
  return {
    input: p.batch?.input ?? (p.input === undefined ? undefined : p.input / 2),
    output: p.batch?.output ?? (p.output === undefined ? undefined : p.output / 2),
  };
}
