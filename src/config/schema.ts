import type * as zod from 'zod/v3';
import { requireCjs } from '../util/cjs.js';

const { z } = requireCjs('zod/v3') as typeof zod;

const positiveInt = z.number().int().positive();

/** Sampling parameters; `null` removes one (set in defaults, or by gapbench: `temperature: null`). */
const paramsSchema = z
  .object({
    temperature: z.number().min(0).max(2).nullable().optional(),
    max_tokens: positiveInt.nullable().optional(),
    max_completion_tokens: positiveInt.nullable().optional(),
    top_p: z.number().min(0).max(1).nullable().optional(),
    seed: z.number().int().nullable().optional(),
    stop: z
      .union([z.string(), z.array(z.string())])
      .nullable()
      .optional(),
    reasoning_effort: z.string().min(1).nullable().optional(),
    /** Sent unchanged in the request body (Ollama: in `options`); `extra_body` is the same. */
    extra: z.record(z.string(), z.unknown()).nullable().optional(),
    extra_body: z.record(z.string(), z.unknown()).nullable().optional(),
  })
  .strict();

/** HTTP header names (RFC 9110 tokens) and values without line breaks; `${VAR}` reads the environment. */
const headersSchema = z.record(
  z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'a header name has no spaces or separators'),
  z.string().regex(/^[^\r\n]*$/, 'a header value has no line breaks'),
);

const priceSchema = z
  .object({
    /** USD per 1M input tokens. */
    input: z.number().min(0).optional(),
    /** USD per 1M output tokens. */
    output: z.number().min(0).optional(),
    /** USD per hour of the machine (open models you host). */
    perHour: z.number().min(0).optional(),
    /** Share of the month the machine is busy (0-1], for cost at real usage and break-even. */
    utilization: z.number().gt(0).max(1).optional(),
    /**
     * Through the vendor's Batch API: USD per 1M tokens `{ input, output }`, or a factor of the live
     * price (0.6). Checked when the model resolves (model.ts), so an error names the model.
     * Default: the preset's factor (vendors' batch discounts), else half.
     */
    batch: z.unknown().optional(),
  })
  .strict();

/** Send the model's jobs through its vendor's Batch API: `true`, or its limits and polling. */
const batchSchema = z.union([
  z.boolean(),
  z
    .object({
      /** Requests per input file (default 50,000, OpenAI's limit); more are split into several batches. */
      maxRequests: positiveInt.optional(),
      /** Bytes per input file (default 200 MB, OpenAI's limit). */
      maxBytes: positiveInt.optional(),
      /** Seconds before the first status check (default 5); then 1.5 times longer each time. */
      pollS: z.number().positive().optional(),
      /** Longest wait between status checks, seconds (default 60). */
      maxPollS: z.number().positive().optional(),
    })
    .strict(),
]);

/** Settings every model may carry; `defaults` in the config applies them to all models. */
const laneFields = {
  concurrency: positiveInt.optional(),
  timeoutMs: positiveInt.optional(),
  maxRetries: z.number().int().min(0).max(50).optional(),
  rpm: z.number().positive().optional(),
  tpm: z.number().positive().optional(),
  params: paramsSchema.optional(),
  /**
   * How much the model thinks: off, low, medium, high or { budget_tokens: N }, mapped to each
   * vendor's own field (config/reasoning.ts). Checked when the model resolves, so an error names it.
   */
  reasoning: z.unknown().optional(),
  cache: z.boolean().optional(),
  /** Longest Retry-After honoured, seconds (default 300); a longer one is cut to this. */
  maxRetryWaitS: z.number().positive().optional(),
  /** Stop the lane after this many requests in a row failed with server errors (default 20; 0: never). */
  stopAfterServerErrors: z.number().int().min(0).optional(),
  /** Largest response body (decompressed) a request may hold, bytes (default 16 MiB). */
  maxResponseBytes: positiveInt.optional(),
  /** Stream answers (default where the protocol can: gives the time to first token); false asks for whole ones. */
  stream: z.boolean().optional(),
};

export const modelSchema = z
  .object({
    // An id labels every output; one starting with a formula character would need the spreadsheet
    // guard (a leading ') in some cells and not in others (matrix headers), so labels would differ.
    id: z
      .string()
      .min(1)
      .regex(/^[^=+\-@\t\r＝＋－＠]/, 'must not start with = + - @ (spreadsheets would read it as a formula)')
      .optional(),
    provider: z.string().min(1),
    model: z.string().min(1),
    group: z.enum(['closed', 'open']).optional(),
    // Checked as an http(s) URL when the model resolves (config.ts), with the model's name.
    baseURL: z.string().min(1).optional(),
    host: z.string().min(1).optional(),
    apiKeyEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name, not a key')
      .optional(),
    price: priceSchema.optional(),
    /** Extra HTTP headers for this model's requests (values may use ${VAR}; never written to any output). */
    headers: headersSchema.optional(),
    /** Used only as a judge by graders, not benchmarked. */
    judgeOnly: z.boolean().optional(),
    batch: batchSchema.optional(),
    /** Options for the replay provider. */
    replay: z
      .object({
        idField: z.string().optional(),
        outputField: z.string().optional(),
        idTemplate: z.string().optional(),
      })
      .strict()
      .optional(),
    ...laneFields,
  })
  .strict();

/** A latency target: p95 time to first token (s), inter-token latency (ms), end-to-end time (s). */
const sloSchema = z
  .object({
    ttft_p95_s: z.number().positive().optional(),
    itl_p95_ms: z.number().positive().optional(),
    e2e_p95_s: z.number().positive().optional(),
  })
  .strict();

export const configSchema = z
  .object({
    models: z.array(modelSchema).optional(),
    suites: z.array(z.string().min(1)).optional(),
    defaults: z.object(laneFields).strict().optional(),
    out: z.string().min(1).optional(),
    repeat: positiveInt.optional(),
    /** Closed/open model pairs to compare besides the best pair and the group means (by model id). */
    pairs: z.array(z.object({ closed: z.string().min(1), open: z.string().min(1) }).strict()).optional(),
    /** Significance level of every test and interval. */
    alpha: z.number().gt(0).lt(0.5).optional(),
    /** Stop when decided (docs/sequential.md); the flags --until-decided, --until-ci, ... override it. */
    sequential: z
      .object({
        until: z.enum(['decided', 'ci']).optional(),
        ci_pp: z.number().gt(0).optional(),
        margin_pp: z.number().nonnegative().optional(),
        min_cases: positiveInt.optional(),
        final_test: z.boolean().optional(),
        order_seed: z.number().int().nonnegative().optional(),
      })
      .strict()
      .optional(),
    /** A capacity result (a `gapbench capacity` run directory, relative to the working directory like `out`): the break-even uses its goodput. */
    capacity: z.string().min(1).optional(),
    /** The latency target of `gapbench capacity` (docs/capacity.md); any subset, the rest default. */
    slo: sloSchema.optional(),
  })
  .strict();

export type RawConfig = zod.infer<typeof configSchema>;
export type RawModel = zod.infer<typeof modelSchema>;
