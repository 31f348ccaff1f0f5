/**
 * What each vendor's Batch API is, for the presets (shared/vendors.md 5.2; sources beside each):
 * the limits per input file, the price as a factor of the live one, the endpoint its lines
 * target, or why there is none that gapbench can use. The batch lane reads them from the model
 * config (`batch`, `price.batch`).
 */
/**
 * `openai`: the OpenAI Files + Batches API at the preset's base URL, with the vendor's own limits
 * per input file, price (a factor of the live token price) and the endpoint its lines target;
 * `none`: `--batch` runs the preset's models live, and `batch:` on one of them is a config error.
 */
export type PresetBatch =
  | { api: 'openai'; maxRequests?: number; maxBytes?: number; priceFactor?: number; endpoint?: string; source: string }
  | { api: 'none'; why: string; source?: string };

export const LOCAL_BATCH: PresetBatch = { api: 'none', why: 'a local server has no Batch API' };
// shared/vendors.md 5.2 (sources there and beside each).
export const KIMI_BATCH: PresetBatch = {
  api: 'openai',
  maxBytes: 100_000_000,
  priceFactor: 0.6,
  source: 'https://platform.kimi.com/docs/guide/use-batch-api',
};
export const DASHSCOPE_BATCH: PresetBatch = {
  api: 'openai',
  priceFactor: 0.5,
  source: 'https://www.alibabacloud.com/help/doc-detail/2842025.html',
};
export const ZHIPU_BATCH: PresetBatch = {
  api: 'openai',
  maxRequests: 50_000,
  maxBytes: 100_000_000,
  priceFactor: 0.5,
  // Zhipu's batch lines target its own chat path, not /v1/chat/completions.
  endpoint: '/v4/chat/completions',
  source: 'https://docs.bigmodel.cn/api-reference/批处理-api/创建批处理任务',
};

export const OPENAI_BATCH: PresetBatch = {
  api: 'openai',
  maxRequests: 50_000,
  maxBytes: 200_000_000,
  priceFactor: 0.5,
  source: 'https://platform.openai.com/docs/guides/batch',
};
