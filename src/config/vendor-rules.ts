/**
 * Per-vendor parameter rules, as data: what each vendor's OpenAI-compatible API really accepts,
 * one rule a line of table, each with the document it comes from (collected in
 * shared/vendors.md). A rule changes only what the user did not set explicitly (a parameter
 * written in the model or in `defaults`, `null` included, is the user's), except where the
 * vendor's request schema has no such field at all. Every rule that changed a model's request is
 * announced once at start and recorded in the manifest (`rules`).
 */
import type { SamplingParams } from '../types.js';

interface RuleContext {
  /** The preset named in the config. */
  provider: string;
  /** The provider's model name. */
  model: string;
  /** Parameter names the user wrote (in the model or in defaults), `extra.<key>` for extra keys. */
  explicit: ReadonlySet<string>;
}

interface VendorRule {
  /** Presets the rule applies to. */
  presets: readonly string[];
  /** Model names it applies to (all of the presets' models when absent). */
  models?: RegExp;
  /** The vendor document the rule comes from. */
  source: string;
  /**
   * Returns the params to send and a one-line note when it changed anything; throws a string
   * when the config asks for something the vendor refuses (a config error naming the model).
   */
  apply(p: SamplingParams, ctx: RuleContext): { params: SamplingParams; note?: string };
}

function without(p: SamplingParams, keys: readonly (keyof SamplingParams)[]): SamplingParams {
  const out = { ...p };
  for (const k of keys) delete out[k];
  return out;
}

/** Keys of `p` among `keys` that the user did not write. */
const implicit = (p: SamplingParams, keys: readonly (keyof SamplingParams)[], ctx: RuleContext) =>
  keys.filter((k) => p[k] !== undefined && !ctx.explicit.has(k));

const VENDOR_RULES: readonly VendorRule[] = [
  {
    // "temperature, top_p, n, presence_penalty, frequency_penalty ... Fixed: passing any other value
    // returns an error, so do not pass it explicitly" (kimi-k2.6, kimi-k2.7-code, kimi-k3).
    source: 'https://platform.kimi.ai/docs/api/models-overview',
    presets: ['moonshot', 'moonshot-cn'],
    models: /^kimi-(k2\.(?:[6-9]|\d{2,})|k[3-9])/,
    apply(p, ctx) {
      const fixed = ['temperature', 'top_p'] as const;
      const drop = implicit(p, fixed, ctx);
      const extraDrop = ['n', 'presence_penalty', 'frequency_penalty'].filter(
        (k) => p.extra?.[k] !== undefined && !ctx.explicit.has(`extra.${k}`),
      );
      if (!drop.length && !extraDrop.length) return { params: p };
      const params = without(p, drop);
      if (extraDrop.length && params.extra) {
        params.extra = { ...params.extra };
        for (const k of extraDrop) delete params.extra[k];
      }
      return { params, note: `${ctx.model} fixes ${[...drop, ...extraDrop].join(', ')}: not sent` };
    },
  },
  {
    // Open-weight Qwen3 / QwQ default to thinking, and "non-streaming calls ... must set
    // enable_thinking to false" (the vendor's example code comment).
    source: 'https://www.alibabacloud.com/help/en/model-studio/qwen-api-via-openai-chat-completions',
    presets: ['dashscope', 'dashscope-intl'],
    models: /^(qwen3-(?:\d|next)|qwq-)/,
    apply(p, ctx) {
      if (ctx.explicit.has('extra.enable_thinking') || p.extra?.enable_thinking !== undefined) return { params: p };
      return {
        params: { ...p, extra: { ...p.extra, enable_thinking: false } },
        note: `${ctx.model} is called without streaming: sends enable_thinking: false`,
      };
    },
  },
  {
    // DeepSeek's chat-completions request schema has no `seed` (nor `n`): sending one is ignored
    // (schema fields as mirrored by the ds-api crate; shared/vendors.md, table 2).
    source: 'https://api-docs.deepseek.com/',
    presets: ['deepseek'],
    apply(p, ctx) {
      const hasN = p.extra?.n !== undefined;
      if (p.seed === undefined && !hasN) return { params: p };
      const params = without(p, ['seed']);
      if (hasN) {
        params.extra = { ...params.extra };
        delete params.extra.n;
      }
      return {
        params,
        note: `DeepSeek has no ${p.seed !== undefined ? 'seed' : 'n'} parameter: not sent, so answers are not seeded`,
      };
    },
  },
  {
    // Zhipu: "temperature [0.0, 1.0]" and stop "only supports a single stop word".
    source: 'https://docs.z.ai/api-reference/llm/chat-completion',
    presets: ['zhipu'],
    apply(p) {
      if (p.stop && p.stop.length > 1) throw `zhipu accepts one stop word at most, got ${p.stop.length}`;
      if (p.temperature !== undefined && p.temperature > 1)
        throw `zhipu temperature must be within [0, 1], got ${p.temperature}`;
      return { params: p };
    },
  },
  {
    // Ark: deep-thinking models reject stop/logprobs; max_tokens and max_completion_tokens are
    // mutually exclusive (Volcengine "API参考 > 对话(Chat) API", POST .../api/v3/chat/completions).
    source: 'https://volcengine.com/docs/82379/1302008 (对话(Chat) API reference)',
    presets: ['ark'],
    apply(p, ctx) {
      const notes: string[] = [];
      let params = p;
      if (params.max_tokens !== undefined && params.max_completion_tokens !== undefined) {
        if (ctx.explicit.has('max_tokens') && ctx.explicit.has('max_completion_tokens'))
          throw 'ark takes max_tokens or max_completion_tokens, not both';
        const drop = ctx.explicit.has('max_tokens') ? 'max_completion_tokens' : 'max_tokens';
        params = without(params, [drop]);
        notes.push(`${drop} not sent (ark takes one of max_tokens and max_completion_tokens)`);
      }
      if (/thinking|^doubao-seed|^deepseek-r1/.test(ctx.model) && params.stop !== undefined) {
        params = without(params, ['stop']);
        notes.push(`${ctx.model} is a deep-thinking model: stop not sent`);
      }
      return { params, ...(notes.length ? { note: notes.join('; ') } : {}) };
    },
  },
  {
    // vLLM (--generation-config auto) and Together fill every omitted sampling parameter from the
    // model's generation_config.json, and llama.cpp / LM Studio from their own server defaults:
    // send max_tokens and top_p explicitly so a server's defaults never change a run.
    source:
      'https://docs.vllm.ai/en/stable/configuration/engine_args/ ; https://docs.together.ai/docs/inference/chat/parameters',
    presets: ['vllm', 'llamacpp', 'lmstudio', 'together'],
    apply(p, ctx) {
      const add: Partial<SamplingParams> = {};
      if (p.max_tokens === undefined && p.max_completion_tokens === undefined && !ctx.explicit.has('max_tokens'))
        add.max_tokens = DEFAULT_MAX_TOKENS;
      if (p.top_p === undefined && !ctx.explicit.has('top_p')) add.top_p = 1;
      const keys = Object.keys(add);
      if (!keys.length) return { params: p };
      return {
        params: { ...p, ...add },
        note: `sends ${keys.map((k) => `${k} ${add[k as keyof SamplingParams]}`).join(' and ')} explicitly (the server would fill them from its own defaults)`,
      };
    },
  },
];

/** max_tokens sent to servers that would otherwise pick their own. */
const DEFAULT_MAX_TOKENS = 1024;

/** The params a model's requests carry after every matching rule, and the notes of those that changed them. */
export function applyVendorRules(p: SamplingParams, ctx: RuleContext): { params: SamplingParams; notes: string[] } {
  let params = p;
  const notes: string[] = [];
  for (const rule of VENDOR_RULES) {
    if (!rule.presets.includes(ctx.provider) || (rule.models && !rule.models.test(ctx.model))) continue;
    const r = rule.apply(params, ctx);
    params = r.params;
    if (r.note) notes.push(r.note);
  }
  return { params, notes };
}
