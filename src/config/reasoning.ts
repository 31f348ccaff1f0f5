/**
 * One reasoning knob, mapped per vendor: `reasoning: off | low | medium | high | { budget_tokens: N }`
 * becomes the field each API reads, chosen by the server (local servers have one switch for every
 * model) and else by the model family (a family keeps its switch wherever it is served: Kimi's
 * `thinking` on Moonshot and on Qianfan). Data, first match wins; each row cites its source
 * (collected in shared/vendors.md). A row says when a model cannot honour a setting (it always
 * thinks, or cannot think): that is announced once and recorded, never silently sent.
 */
import type { SamplingParams } from '../types.js';
import { isRecord } from '../util/record.js';

type Level = 'low' | 'medium' | 'high';
type ReasoningSetting = 'off' | Level | { budget_tokens: number };

/** The request fields a setting becomes (merged into the model's params; the user's own `extra` wins). */
type ReasoningPatch = Pick<SamplingParams, 'reasoning_effort' | 'extra' | 'think'>;

/** What a model does with its setting: the fields sent, how the outputs label it, and what it cannot honour. */
export interface ReasoningPlan {
  /** As manifest.json, summary.csv and gap.csv show it: `high`, `off`, `budget 2048`, `default (thinks)`, `default`. */
  label: string;
  patch: ReasoningPatch;
  /** Whether the answers involve thinking (undefined: not known). */
  thinks?: boolean;
  /** Said once at start and kept in the manifest: the setting is approximated or not honoured. */
  note?: string;
}

interface Row {
  /** Presets (servers) the row applies to; absent: any. */
  presets?: readonly string[];
  /** Model names (lower case) it applies to; absent: any. */
  family?: RegExp;
  source: string;
  /** What the model does when gapbench sends nothing: `thinks`, `no thinking`, or unknown. */
  byDefault?: 'thinks' | 'no thinking';
  /** The fields for a setting, or a string: why the model cannot honour it (nothing is sent). */
  map(s: ReasoningSetting, model: string): Mapped;
}

/** A setting the model cannot honour: why, whether it thinks anyway, and what is sent instead. */
type Cannot = { cannot: string; thinks?: boolean; patch?: ReasoningPatch };
type Mapped = ReasoningPatch | Cannot;

/** Effort levels as thinking budgets and back (Gemini's published equivalents: low 1024, medium 8192, high 24576). */
const BUDGET: Record<Level, number> = { low: 1024, medium: 8192, high: 24576 };
const levelOf = (budget: number): Level => (budget <= BUDGET.low ? 'low' : budget <= BUDGET.medium ? 'medium' : 'high');
const isLevel = (s: ReasoningSetting): s is Level => s === 'low' || s === 'medium' || s === 'high';

/** `thinking: {type: enabled|disabled}` (Kimi K2.5+, DeepSeek, Zhipu GLM, Ark Doubao Seed, Qianfan's thinking switch). */
const thinkingType = (s: ReasoningSetting): ReasoningPatch => ({
  extra: { thinking: { type: s === 'off' ? 'disabled' : 'enabled' } },
});
/** `chat_template_kwargs.enable_thinking` (vLLM, llama.cpp: the chat template's switch, Qwen3 style). */
const templateSwitch = (s: ReasoningSetting): ReasoningPatch => ({
  extra: { chat_template_kwargs: { enable_thinking: s !== 'off' } },
});
const alwaysThinks = (s: ReasoningSetting): Mapped =>
  s === 'off' ? { cannot: 'it always thinks (no switch to turn thinking off)', thinks: true } : {};
const cannotThink = (s: ReasoningSetting): Mapped =>
  s === 'off' ? {} : { cannot: 'it cannot think (not a reasoning model): answers without thinking', thinks: false };
const effort = (s: ReasoningSetting): string => (s === 'off' ? 'none' : isLevel(s) ? s : levelOf(s.budget_tokens));
/** `reasoning_effort` on a model that always thinks: `off` sends the least effort, `low`, and says so. */
const effortAlwaysThinks = (s: ReasoningSetting): Mapped =>
  s === 'off'
    ? { ...(alwaysThinks(s) as Cannot), patch: { reasoning_effort: 'low' } }
    : { reasoning_effort: effort(s) };

const REASONING_ROWS: readonly Row[] = [
  {
    // The top-level `think` field: true/false, or low/medium/high for gpt-oss; thinking is returned only when sent.
    source: 'https://ollama.com/blog/thinking',
    presets: ['ollama'],
    map: (s, model) => ({ think: s === 'off' ? false : /gpt-oss/.test(model) ? effort(s) : true }) as ReasoningPatch,
  },
  {
    // vLLM passes chat_template_kwargs to the model's chat template (Qwen3's enable_thinking).
    source: 'https://docs.vllm.ai/en/v0.8.4/_sources/serving/openai_compatible_server.md',
    presets: ['vllm'],
    map: templateSwitch,
  },
  {
    // llama-server reads chat_template_kwargs; its thinking budget is the server flag --reasoning-budget.
    source: 'ggml-org/llama.cpp tools/server/README.md',
    presets: ['llamacpp'],
    map: templateSwitch,
  },
  {
    // LM Studio's documented chat payload has no thinking switch (model, top_p, top_k, ..., seed).
    source: 'https://lmstudio.ai/docs/developer/openai-compat/chat-completions',
    presets: ['lmstudio'],
    map: () => ({ cannot: 'LM Studio takes no per-request thinking switch: set it in the app' }),
  },
  {
    // OpenRouter's unified `reasoning`: effort (none ... high) or max_tokens, translated per provider.
    source: 'https://openrouter.ai/docs/use-cases/reasoning-tokens',
    presets: ['openrouter'],
    map: (s) => ({
      extra: { reasoning: typeof s === 'object' ? { max_tokens: s.budget_tokens } : { effort: effort(s) } },
    }),
  },
  {
    // gpt-5 and o-series: `reasoning_effort`; thinking cannot be turned off (gpt-5's least is `minimal`).
    source: 'https://github.com/softwaremill/sttp-ai/issues/490 (T); shared/vendors.md 5.1',
    family: /^(?:openai\/)?(?:gpt-5(?!-chat)|o[1-9](?:-|$))/,
    byDefault: 'thinks',
    map: (s, model) =>
      s === 'off'
        ? {
            cannot: `it always thinks: sends reasoning_effort ${model.includes('gpt-5') ? 'minimal' : 'low'}, the least it takes`,
            thinks: true,
            patch: { reasoning_effort: model.includes('gpt-5') ? 'minimal' : 'low' },
          }
        : { reasoning_effort: effort(s) },
  },
  {
    source: 'https://platform.openai.com/docs/models (gpt-4o, gpt-4.1, gpt-3.5: no reasoning)',
    family: /^(?:openai\/)?(?:gpt-4|gpt-3\.5|chatgpt-4o)/,
    byDefault: 'no thinking',
    map: cannotThink,
  },
  {
    // Kimi K3 uses reasoning_effort and always thinks; K2-thinking always thinks.
    source: 'shared/vendors.md table 2 (Moonshot row)',
    family: /kimi-k[3-9]/,
    byDefault: 'thinks',
    map: effortAlwaysThinks,
  },
  {
    source: 'https://platform.moonshot.ai/docs/guide/use-kimi-k2-thinking-model',
    family: /kimi-k2-thinking/,
    byDefault: 'thinks',
    map: alwaysThinks,
  },
  {
    // K2.5 and later: thinking on by default, `thinking: {type: disabled}` turns it off, on Moonshot,
    // Qianfan and TokenHub alike; no effort levels or budget.
    source:
      'https://platform.moonshot.ai/docs/guide/use-kimi-k2-thinking-model ; https://cloud.baidu.com/doc/qianfan-docs/s/Wm95lyynv',
    family: /kimi-k2[.-](?:[5-9]|[1-9]\d)(?!\d)/,
    byDefault: 'thinks',
    map: thinkingType,
  },
  { source: 'https://platform.kimi.ai/docs/api/models-overview', family: /kimi-k2|moonshot-v1/, map: cannotThink },
  {
    // V4: thinking on by default; `thinking` switch plus reasoning_effort (low/high/max).
    source: 'https://api-docs.deepseek.com/guides/thinking_mode.md',
    family: /deepseek-v4/,
    byDefault: 'thinks',
    map: (s) =>
      s === 'off'
        ? thinkingType(s)
        : { extra: { thinking: { type: 'enabled' } }, reasoning_effort: effort(s) === 'low' ? 'low' : 'high' },
  },
  {
    source: 'https://api-docs.deepseek.com/',
    family: /deepseek-(?:reasoner|r1)/,
    byDefault: 'thinks',
    map: alwaysThinks,
  },
  {
    // Qianfan (and Ark) serve DeepSeek V3.x with the `thinking` switch.
    source: 'https://cloud.baidu.com/doc/qianfan-docs/s/Wm95lyynv',
    family: /deepseek-v3/,
    map: thinkingType,
  },
  {
    // DashScope: qwq-* and *-thinking-2507 only think (and need streaming).
    source: 'https://help.aliyun.com/zh/model-studio/qwq',
    family: /qwq|qwen[\w.-]*thinking/,
    byDefault: 'thinks',
    map: alwaysThinks,
  },
  {
    source: 'https://www.alibabacloud.com/help/en/model-studio/qwen-api-via-openai-chat-completions',
    family: /qwen[\w.-]*-instruct/,
    map: cannotThink,
  },
  {
    // enable_thinking + thinking_budget; qwen3.5 and later think by default, so do open Qwen3.
    source: 'https://www.alibabacloud.com/help/en/model-studio/qwen-api-via-openai-chat-completions',
    family: /qwen(?:3|-plus|-flash|-turbo)/,
    map: (s) => ({
      extra: { enable_thinking: s !== 'off', ...(typeof s === 'object' ? { thinking_budget: s.budget_tokens } : {}) },
    }),
  },
  {
    // GLM-4.5 and later: `thinking.type`, on by default.
    source: 'https://docs.z.ai/guides/capabilities/thinking-mode',
    family: /glm-(?:4\.[5-9]|[5-9])/,
    byDefault: 'thinks',
    map: thinkingType,
  },
  {
    // Ark Doubao Seed: thinking.type, and reasoning_effort minimal/low/medium/high.
    source: 'https://docs.evolink.ai/cn/api-manual/language-series/doubao-seed-2.0/doubao-seed-2.0-reference (T)',
    family: /doubao-seed/,
    byDefault: 'thinks',
    map: (s) => (s === 'off' ? thinkingType(s) : { ...thinkingType(s), reasoning_effort: effort(s) }),
  },
  {
    source: 'https://cloud.baidu.com/doc/qianfan-docs/s/Wm95lyynv',
    family: /ernie-5\.0-thinking/,
    byDefault: 'thinks',
    map: (s) => ({ extra: { enable_thinking: s !== 'off' } }),
  },
  {
    source: 'https://cloud.baidu.com/doc/WENXINWORKSHOP/s/Fm2vrveyu',
    family: /ernie-x1|hunyuan-t1|thinking/,
    byDefault: 'thinks',
    map: alwaysThinks,
  },
  {
    // reasoning_effort maps to a thinking budget; a budget goes in google.thinking_config;
    // 2.5 Pro and 3 Pro cannot turn thinking off.
    source: 'https://ai.google.dev/gemini-api/docs/openai',
    family: /gemini-(?:2\.5|[3-9])/,
    byDefault: 'thinks',
    map: (s, model) =>
      s === 'off'
        ? /pro/.test(model)
          ? alwaysThinks(s)
          : { extra: { google: { thinking_config: { thinking_budget: 0 } } } }
        : typeof s === 'object'
          ? { extra: { google: { thinking_config: { thinking_budget: s.budget_tokens } } } }
          : { reasoning_effort: s },
  },
  {
    // Claude through the OpenAI SDK layer: extended thinking with a token budget (the thinking text is not returned).
    source: 'https://platform.claude.com/docs/en/api/openai-sdk',
    family: /claude/,
    byDefault: 'no thinking',
    map: (s) =>
      s === 'off'
        ? {}
        : {
            extra: {
              thinking: { type: 'enabled', budget_tokens: typeof s === 'object' ? s.budget_tokens : BUDGET[s] },
            },
          },
  },
  {
    source: 'https://console.groq.com/docs/openai',
    family: /gpt-oss/,
    byDefault: 'thinks',
    map: effortAlwaysThinks,
  },
];

/** Checks a `reasoning` value as written; returns the setting or a one-line reason. */
export function parseReasoning(v: unknown): { setting: ReasoningSetting } | { error: string } {
  if (v === 'off' || v === 'low' || v === 'medium' || v === 'high') return { setting: v };
  if (isRecord(v)) {
    const keys = Object.keys(v);
    const b = v.budget_tokens;
    if (keys.length !== 1 || !keys.includes('budget_tokens'))
      return { error: `reasoning takes { budget_tokens: N } and no other key, got { ${keys.join(', ')} }` };
    if (typeof b !== 'number' || !Number.isSafeInteger(b) || b <= 0)
      return { error: `reasoning.budget_tokens must be a positive whole number, got ${JSON.stringify(b)}` };
    return { setting: { budget_tokens: b } };
  }
  return { error: `reasoning ${JSON.stringify(v)} is not one of off, low, medium, high or { budget_tokens: N }` };
}

const reasoningLabel = (s: ReasoningSetting): string => (typeof s === 'object' ? `budget ${s.budget_tokens}` : s);

/**
 * Open model families that think (served by Ollama, vLLM, llama.cpp, LM Studio). Ollama answers HTTP 400 ("does not support
 * thinking") to `think: true` for any other model, so a setting from `defaults` is sent only to these.
 */
const LOCAL_THINKERS =
  /qwen3|qwq|deepseek-r1|deepseek-v3\.[1-9]|gpt-oss|magistral|phi4-reasoning|cogito|thinking|granite3\.[2-9]|exaone-deep|glm-4\.[5-9]|kimi-k2/;

/**
 * The fields a model's requests carry for its reasoning setting, and what the outputs say about
 * it. `fromDefaults`: the setting came from `defaults`, where it must not break a model that cannot take it.
 */
export function planReasoning(
  setting: ReasoningSetting | undefined,
  preset: string,
  model: string,
  fromDefaults = false,
): ReasoningPlan {
  const name = model.toLowerCase();
  const row = REASONING_ROWS.find(
    (r) => (!r.presets || r.presets.includes(preset)) && (!r.family || r.family.test(name)),
  );
  if (setting === undefined) {
    // A local server says nothing of its model: a known thinking family thinks by default.
    const d = row?.byDefault ?? (row?.presets && LOCAL_THINKERS.test(name) ? 'thinks' : undefined);
    return { label: d ? `default (${d})` : 'default', patch: {}, ...(d ? { thinks: d === 'thinks' } : {}) };
  }
  const label = reasoningLabel(setting);
  const thinks = setting !== 'off';
  if (!row)
    return {
      label,
      patch: {},
      note: `reasoning ${label}: no known thinking switch for '${model}' on ${preset}: its own default applies (set params.extra for the vendor's field)`,
    };
  const r: Mapped =
    fromDefaults && thinks && preset === 'ollama' && !LOCAL_THINKERS.test(name)
      ? {
          cannot: `'${model}' is not a known thinking model, and Ollama refuses think for those: not sent from defaults (write reasoning on the model to send it)`,
        }
      : row.map(setting, name);
  if ('cannot' in r) {
    return {
      label: `${label} (not honoured)`,
      patch: r.patch ?? {},
      ...(r.thinks !== undefined ? { thinks: r.thinks } : {}),
      note: `reasoning ${label}: ${r.cannot} (${row.source})`,
    };
  }
  // A level or budget the API has no field for is approximated: say what is sent instead.
  const sent = JSON.stringify(r);
  const approx = thinks && !sent.includes(typeof setting === 'object' ? String(setting.budget_tokens) : `"${setting}"`);
  const what = typeof setting === 'object' ? 'no thinking budget' : `no '${setting}' effort level`;
  return {
    label,
    patch: r,
    thinks,
    ...(approx ? { note: `reasoning ${label}: ${what} on this API: sends ${describe(r)} (${row.source})` } : {}),
  };
}

const describe = ({ extra, ...rest }: ReasoningPatch): string => JSON.stringify({ ...extra, ...rest });
