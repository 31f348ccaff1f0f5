/**
 * Token prices without typing them: the catalogue bundled with `@pydantic/genai-prices` (its own
 * data, never fetched at run time), matched by the preset's vendor and the model name. The price
 * follows the preset, not the URL: a gateway or proxy in front of the same vendor (an overridden
 * baseURL) is priced as the vendor. `price:` in the config always wins.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Price } from '../types.js';
import { requireCjs } from '../util/cjs.js';
import { isRecord } from '../util/record.js';

type GenaiPrices = typeof import('@pydantic/genai-prices');

/**
 * gapbench preset -> the catalogue's provider id. Absent: the catalogue has no such vendor
 * (DashScope, Qianfan, Ark, Hunyuan, TokenHub, SiliconFlow), or the preset is a local server.
 */
const CATALOGUE_PROVIDER: Readonly<Record<string, string>> = {
  openai: 'openai',
  moonshot: 'moonshotai',
  // The China platform bills in CNY; the catalogue's USD list price stands in for it.
  'moonshot-cn': 'moonshotai',
  deepseek: 'deepseek',
  zhipu: 'zhipuai',
  zai: 'zai',
  anthropic: 'anthropic',
  gemini: 'google',
  groq: 'groq',
  together: 'together',
  openrouter: 'openrouter',
};

const CATALOGUE = '@pydantic/genai-prices';
/** The version pinned in package.json and its release date (`npm view @pydantic/genai-prices time`): update both together. */
const PINNED = { version: '0.1.8', released: '2026-09-23' };

type CataloguePrice = { price: Price; source: string } | { why: string };

/** The list price of `model` on `preset` from the bundled catalogue, or why there is none. */
function cataloguePrice(preset: string, model: string, at: Date = new Date()): CataloguePrice {
  const providerId = CATALOGUE_PROVIDER[preset];
  if (!providerId) return { why: `the price catalogue (${CATALOGUE}) has no prices for ${preset}` };
  const lib = requireCjs(CATALOGUE) as GenaiPrices;
  // Usage of one token each way only selects the model's price; the per-million figures are read from it.
  let calc: ReturnType<GenaiPrices['calcPrice']> = null;
  try {
    calc = lib.calcPrice({ input_tokens: 1, output_tokens: 1 }, model, { providerId, timestamp: at });
  } catch {
    calc = null;
  }
  if (!calc) return { why: `the price catalogue (${CATALOGUE}) does not know ${preset}:${model}` };
  const input = perMillion(calc.model_price.input_mtok);
  const output = perMillion(calc.model_price.output_mtok);
  if (input === undefined && output === undefined)
    return { why: `the price catalogue (${CATALOGUE}) has no token price for ${preset}:${model}` };
  const timed =
    Array.isArray(calc.model.prices) && calc.model.prices.some((p) => p.constraint?.type === 'time_of_date');
  return {
    price: { ...(input === undefined ? {} : { input }), ...(output === undefined ? {} : { output }) },
    source:
      `${CATALOGUE} ${catalogueVersion()}: ${calc.provider.id}/${calc.model.id}` +
      (timed ? ` (price by time of day: as at ${at.toISOString().slice(0, 16)}Z)` : ''),
  };
}

/** USD per 1M tokens: a flat price, or the base of a tiered one (the tiers start at long prompts). */
function perMillion(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  const base = (v as { base?: unknown } | undefined)?.base;
  return typeof base === 'number' && Number.isFinite(base) ? base : undefined;
}

let version: string | undefined;
/** The installed catalogue's version (its package.json is not exported: read beside its entry file). */
function catalogueVersion(): string {
  if (version === undefined) version = installedVersion();
  return version === PINNED.version ? `${version} (data of ${PINNED.released})` : version;
}

function installedVersion(): string {
  try {
    const entry = requireCjs.resolve(CATALOGUE);
    const pkg = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? PINNED.version;
  } catch {
    return PINNED.version;
  }
}

/** A model's price: the config's `price:` (its `batch` a factor or per-token prices), else the catalogue's for hosted presets. */
export function resolvePrice(
  raw: (Omit<Price, 'batch'> & { batch?: unknown }) | undefined,
  preset: { name: string; local: boolean; batchFactor?: number },
  model: string,
): { price?: Price; priceSource: string } | string {
  const batch = raw?.batch;
  const factor = typeof batch === 'number' ? batch : undefined;
  if (batch !== undefined && factor === undefined && !isBatchPrices(batch))
    return `price.batch must be a factor of the live price (e.g. 0.6) or { input, output } in USD per 1M tokens, got ${JSON.stringify(batch)}`;
  if (factor !== undefined && !(factor > 0 && factor <= 1))
    return `price.batch as a factor must be above 0 and at most 1, got ${factor}`;
  const written = raw && Object.keys(raw).some((k) => k !== 'batch');
  const found = written || preset.local ? undefined : cataloguePrice(preset.name, model);
  const base: Price | undefined = written
    ? (({ batch: _, ...rest }) => rest)(raw)
    : found && 'price' in found
      ? found.price
      : undefined;
  const priceSource = written ? 'config' : found ? ('price' in found ? found.source : `none: ${found.why}`) : 'none';
  if (!base) return { priceSource };
  const f = factor ?? preset.batchFactor;
  const batchPrice = isBatchPrices(batch)
    ? batch
    : f !== undefined && (base.input !== undefined || base.output !== undefined)
      ? {
          ...(base.input === undefined ? {} : { input: base.input * f }),
          ...(base.output === undefined ? {} : { output: base.output * f }),
        }
      : undefined;
  return { price: { ...base, ...(batchPrice ? { batch: batchPrice } : {}) }, priceSource };
}

function isBatchPrices(v: unknown): v is { input?: number; output?: number } {
  return (
    isRecord(v) &&
    Object.keys(v).every((k) => k === 'input' || k === 'output') &&
    Object.values(v).every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0)
  );
}
