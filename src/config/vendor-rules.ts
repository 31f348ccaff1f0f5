/**
 * Per-vendor parameter rules, as data: what each vendor's OpenAI-compatible API really accepts,
 * one rule a line of table, each with the document it comes from (collected in
 * shared/vendors.md). A rule follows the model family wherever it is served (Kimi K2.5 fixes its
 * sampling on Moonshot, Qianfan and TokenHub alike) unless it names the presets whose API it
 * describes. `defaults` never break a model: a value the vendor fixes or refuses is dropped for
 * that model with a one-line notice when it came from `defaults` (or from gapbench), and is a
 * config error naming the model and the rule when it was written on the model itself. Every rule
 * that changed a model's requests is announced once at start and recorded in the manifest (`rules`).
 */
import type { SamplingParams } from '../types.js';

interface RuleContext {
  /** The preset named in the config. */
  provider: string;
  /** The provider's model name. */
  model: string;
  /** Parameter names the user wrote (in the model or in defaults), `extra.<key>` for extra keys. */
  explicit: ReadonlySet<string>;
  /** The names of those written on the model itself (the rest came from `defaults`). */
  own?: ReadonlySet<string>;
  /** Whether the model's answers involve thinking (its reasoning setting or family; undefined: not known). */
  thinks?: boolean;
  /** Its answers are streamed (thinking models that refuse whole answers then keep their default). */
  streaming?: boolean;
}

interface VendorRule {
  /** Presets the rule applies to (any, when absent: the rule follows the model family). */
  presets?: readonly string[];
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

/** A parameter by name: a SamplingParams key, or `extra.<key>`. */
function valueOf(p: SamplingParams, name: string): unknown {
  return name.startsWith('extra.') ? p.extra?.[name.slice(6)] : p[name as keyof SamplingParams];
}

/**
 * Parameters the model fixes or refuses (those of `names` present, and not `accepted`): written on
 * the model, a config error; from defaults or gapbench's own, not sent, with a note saying so.
 */
export function refuse(
  p: SamplingParams,
  names: readonly string[],
  ctx: RuleContext,
  why: string,
  accepted: (name: string, value: unknown) => boolean = () => false,
): { params: SamplingParams; note?: string } {
  const present = names.filter((n) => valueOf(p, n) !== undefined && !accepted(n, valueOf(p, n)));
  const own = present.find((n) => ctx.own?.has(n));
  if (own) throw `${own}: ${JSON.stringify(valueOf(p, own))} is refused: ${why}`;
  if (!present.length) return { params: p };
  const params: SamplingParams = { ...p, ...(p.extra ? { extra: { ...p.extra } } : {}) };
  for (const n of present) {
    if (n.startsWith('extra.')) delete params.extra![n.slice(6)];
    else delete params[n as keyof SamplingParams];
  }
  if (params.extra && !Object.keys(params.extra).length) delete params.extra;
  const from = present
    .map((n) => `${n}${ctx.explicit.has(n) ? ' (from defaults)' : " (gapbench's default)"}`)
    .join(', ');
  return { params, note: `${from} not sent: ${why}` };
}

const DASHSCOPE = ['dashscope', 'dashscope-intl', 'dashscope-us', 'dashscope-hk'];

/** Kimi K2.5 and later, wherever served (moonshot, qianfan, tokenhub, ark's kimi-k2-5-*, openrouter's moonshotai/kimi-k2.5). */
const KIMI_FIXED = /kimi-k(?:2[.-](?:[5-9]|[1-9]\d)(?!\d)|[3-9])/;
/** OpenAI's reasoning models: gpt-5 (not gpt-5-chat) and the o-series. */
const OPENAI_REASONING = /^(?:openai\/)?(?:gpt-5(?!-chat)|o[1-9](?:-|$))/;

const VENDOR_RULES: readonly VendorRule[] = [
  {
    // "temperature, top_p, n, presence_penalty, frequency_penalty ... Fixed: passing any other value
    // returns an error, so do not pass it explicitly" (kimi-k2.5, k2.6, k2.7-code, k3), on Qianfan
    // and TokenHub too ("same fixed parameters there").
    source: 'https://platform.kimi.ai/docs/api/models-overview ; https://cloud.baidu.com/doc/qianfan-docs/s/Wm95lyynv',
    models: KIMI_FIXED,
    apply: (p, ctx) =>
      refuse(
        p,
        ['temperature', 'top_p', 'extra.n', 'extra.presence_penalty', 'extra.frequency_penalty'],
        ctx,
        `${ctx.model} fixes it (platform.kimi.ai models-overview)`,
      ),
  },
  {
    // gpt-5 and o-series: "'temperature' does not support 0.2 with this model. Only the default (1)
    // value is supported"; max_tokens refused ("Use 'max_completion_tokens' instead").
    source:
      'https://getquicker.net/Common/Topics/ViewTopic/35659 (T) ; https://github.com/softwaremill/sttp-ai/issues/490 (T)',
    models: OPENAI_REASONING,
    apply(p, ctx) {
      const r = refuse(
        p,
        ['temperature'],
        ctx,
        `${ctx.model} takes only temperature 1 (OpenAI reasoning model)`,
        (_, v) => v === 1,
      );
      if (r.params.max_tokens === undefined) return r;
      const { max_tokens, ...rest } = r.params;
      const moved = `max_tokens ${max_tokens} sent as max_completion_tokens (${ctx.model} refuses max_tokens)`;
      return {
        params: { ...rest, max_completion_tokens: rest.max_completion_tokens ?? max_tokens },
        note: [r.note, moved].filter(Boolean).join('; '),
      };
    },
  },
  {
    // Claude's extended thinking: budget_tokens must stay below max_tokens, and thinking "isn't
    // compatible with temperature or top_k modifications" (the OpenAI SDK layer passes both on).
    source:
      'https://platform.claude.com/docs/en/build-with-claude/extended-thinking ; https://platform.claude.com/docs/en/api/openai-sdk',
    models: /claude/,
    apply(p, ctx) {
      const budget = (p.extra?.thinking as { budget_tokens?: unknown } | undefined)?.budget_tokens;
      if (typeof budget !== 'number') return { params: p };
      const r = refuse(p, ['temperature'], ctx, `${ctx.model} thinks only at temperature 1`, (_, v) => v === 1);
      const max = r.params.max_tokens ?? r.params.max_completion_tokens;
      if (max !== undefined && max > budget) return r;
      if (max !== undefined && (ctx.own?.has('max_tokens') || ctx.own?.has('max_completion_tokens')))
        throw `max_tokens ${max} must exceed the thinking budget ${budget}`;
      const raised = budget + 4096;
      return {
        params: { ...without(r.params, ['max_completion_tokens']), max_tokens: raised },
        note: [r.note, `max_tokens ${raised} sent (above the thinking budget ${budget})`].filter(Boolean).join('; '),
      };
    },
  },
  {
    // DeepSeek V4 while thinking: "temperature, top_p, presence_penalty, frequency_penalty will not take effect".
    source: 'https://api-docs.deepseek.com/zh-cn/guides/reasoning_model',
    models: /deepseek-(?:v4|reasoner|r1)/,
    apply(p, ctx) {
      const ignored = ['temperature', 'top_p'].filter((k) => p[k as 'temperature'] !== undefined);
      if (ctx.thinks === false || !ignored.length) return { params: p };
      return { params: p, note: `${ignored.join(', ')} sent, but ${ctx.model} ignores it while thinking` };
    },
  },
  {
    // Open-weight Qwen3 / QwQ default to thinking, and "non-streaming calls ... must set
    // enable_thinking to false" (the vendor's example code comment).
    source: 'https://www.alibabacloud.com/help/en/model-studio/qwen-api-via-openai-chat-completions',
    // Thinking-only models (qwq-*, *-thinking-2507) cannot turn it off: they need streaming instead.
    presets: DASHSCOPE,
    models: /^(?!.*(?:thinking|qwq))(qwen3-(?:\d|next)|qwen3\.[5-9])/,
    apply(p, ctx) {
      if (ctx.streaming || ctx.explicit.has('extra.enable_thinking') || p.extra?.enable_thinking !== undefined)
        return { params: p };
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
    presets: ['zhipu', 'zhipu-intl'],
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
      // A thinking model spends its budget on thinking first: 1,024 tokens would cut it mid-thought.
      if (p.max_tokens === undefined && p.max_completion_tokens === undefined && !ctx.explicit.has('max_tokens'))
        add.max_tokens = ctx.thinks ? THINKING_MAX_TOKENS : DEFAULT_MAX_TOKENS;
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
/** The same for a model that thinks (Kimi's benchmark guide: max_tokens of at least 16k for thinking models). */
const THINKING_MAX_TOKENS = 16384;

/** The params a model's requests carry after every matching rule, and the notes of those that changed them. */
export function applyVendorRules(p: SamplingParams, ctx: RuleContext): { params: SamplingParams; notes: string[] } {
  let params = p;
  const notes: string[] = [];
  for (const rule of VENDOR_RULES) {
    if (
      (rule.presets && !rule.presets.includes(ctx.provider)) ||
      (rule.models && !rule.models.test(ctx.model.toLowerCase()))
    )
      continue;
    const r = rule.apply(params, ctx);
    params = r.params;
    if (r.note) notes.push(r.note);
  }
  return { params, notes };
}
