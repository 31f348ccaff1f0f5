import { PROTOCOLS, type Protocol } from '../providers/index.js';
import type { Group } from '../types.js';
import {
  DASHSCOPE_BATCH,
  KIMI_BATCH,
  LOCAL_BATCH,
  OPENAI_BATCH,
  ZHIPU_BATCH,
  type PresetBatch,
} from './batch-facts.js';

export type { PresetBatch } from './batch-facts.js';

/**
 * One-word providers. Each OpenAI-compatible preset is the `openai` provider with a documented
 * base URL, key variable and default group. The group is a property of the weights, not of
 * where they run: DeepSeek via its API is `open`.
 */
export interface Preset {
  name: string;
  /** The wire protocol: the provider implementation that serves it (providers/index.ts). */
  protocol: Protocol;
  label: string;
  /** The server (base URL or host, as the protocol's endpoint field takes it). */
  endpoint?: string;
  /** Environment variable read for the endpoint before the preset's own (OPENAI_BASE_URL). */
  endpointEnv?: string;
  apiKeyEnv?: string;
  /** Local servers need no key unless started with one; a placeholder is sent when the variable is unset. */
  keyOptional?: boolean;
  /** Absent (a protocol used without a preset, and no `group` in its descriptor): the model must say. */
  group?: Group;
  /**
   * `family`: the group follows the model name (families.ts), else the preset's group; `required`:
   * an aggregator of many vendors' models, where a name of no known family needs `group:`.
   */
  groupBy?: 'family' | 'required';
  /** The vendor's endpoints per region; keys are region-bound (a 401 names the other region). */
  regions?: readonly { region: string; endpoint: string; preset: string }[];
  example: string;
  docs: string;
  /** The vendor's Batch API, as the config side knows it: limits, price factor, endpoint; or why there is none to use. */
  batch?: PresetBatch;
}

// Region pairs of shared/vendors.md, section 1 (sources there): keys work only in their own region.
const MOONSHOT_REGIONS = [
  { region: 'international', endpoint: 'https://api.moonshot.ai/v1', preset: 'moonshot' },
  { region: 'China', endpoint: 'https://api.moonshot.cn/v1', preset: 'moonshot-cn' },
];
const DASHSCOPE_REGIONS = [
  { region: 'China (Beijing)', endpoint: 'https://dashscope.aliyuncs.com/compatible-mode/v1', preset: 'dashscope' },
  {
    region: 'international (Singapore)',
    endpoint: 'https://dashscope-intl.aliyuncs.com/compatible-mode/v1',
    preset: 'dashscope-intl',
  },
  { region: 'US (Virginia)', endpoint: 'https://dashscope-us.aliyuncs.com/compatible-mode/v1', preset: 'dashscope-us' },
  {
    region: 'Hong Kong',
    endpoint: 'https://cn-hongkong.dashscope.aliyuncs.com/compatible-mode/v1',
    preset: 'dashscope-hk',
  },
];
// https://cloud.tencent.com/document/product/1823/132252 ; https://intl.cloud.tencent.com/document/product/1300/80637
const TOKENHUB_REGIONS = [
  { region: 'China', endpoint: 'https://tokenhub.tencentmaas.com/v1', preset: 'tokenhub' },
  { region: 'international', endpoint: 'https://tokenhub-intl.tencentcloudmaas.com/v1', preset: 'tokenhub-intl' },
];
const ZHIPU_REGIONS = [
  { region: 'China (BigModel)', endpoint: 'https://open.bigmodel.cn/api/paas/v4/', preset: 'zhipu' },
  { region: 'international (Z.ai)', endpoint: 'https://api.z.ai/api/paas/v4/', preset: 'zai' },
];

/** What every DashScope host shares (only the region's endpoint and the docs differ). */
const DASHSCOPE = {
  protocol: 'openai',
  apiKeyEnv: 'DASHSCOPE_API_KEY',
  // The vendor's list splits commercial (closed) from open-source Qwen (open): by name.
  group: 'closed',
  groupBy: 'family',
  regions: DASHSCOPE_REGIONS,
  batch: DASHSCOPE_BATCH,
} as const;

/** What both Moonshot platforms share (only the region's endpoint differs). */
const MOONSHOT = {
  protocol: 'openai',
  apiKeyEnv: 'MOONSHOT_API_KEY',
  // kimi-k2 and newer publish weights (moonshotai/Kimi-K2.x on HF): open; moonshot-v1: closed.
  group: 'closed',
  groupBy: 'family',
  regions: MOONSHOT_REGIONS,
  example: 'kimi-k2.6',
  docs: 'https://platform.kimi.com/docs/api/overview',
  batch: KIMI_BATCH,
} as const;

/** What both TokenHub regions share (only the endpoint and the docs differ). */
const TOKENHUB = {
  protocol: 'openai',
  apiKeyEnv: 'TOKENHUB_API_KEY',
  group: 'closed',
  groupBy: 'family',
  regions: TOKENHUB_REGIONS,
  example: 'hy3-preview',
} as const;

const PRESETS: readonly Preset[] = [
  {
    name: 'openai',
    protocol: 'openai',
    label: 'OpenAI',
    endpoint: 'https://api.openai.com/v1',
    endpointEnv: 'OPENAI_BASE_URL',
    apiKeyEnv: 'OPENAI_API_KEY',
    group: 'closed',
    example: 'gpt-4o-mini',
    docs: 'platform.openai.com/docs/api-reference',
    // 50,000 requests and 200 MB per file, half price (shared/vendors.md 5.2).
    batch: OPENAI_BATCH,
  },
  {
    name: 'moonshot',
    ...MOONSHOT,
    label: 'Moonshot AI (Kimi), international platform',
    endpoint: 'https://api.moonshot.ai/v1',
  },
  {
    name: 'moonshot-cn',
    ...MOONSHOT,
    label: 'Moonshot AI (Kimi), China platform (keys from platform.moonshot.cn)',
    endpoint: 'https://api.moonshot.cn/v1',
  },
  {
    name: 'qianfan',
    protocol: 'openai',
    label: 'Baidu Qianfan (ERNIE), key bce-v3/...',
    endpoint: 'https://qianfan.baidubce.com/v2',
    apiKeyEnv: 'QIANFAN_API_KEY',
    group: 'closed',
    example: 'ernie-4.5-turbo-128k',
    docs: 'https://cloud.baidu.com/doc/qianfan/s/Hmh4suq26',
    batch: {
      api: 'none',
      why: "Qianfan's batch inference is a console API (/v2/batchinference), not the OpenAI Files+Batches API",
      source: 'https://cloud.baidu.com/doc/WENXINWORKSHOP/s/Pm4aqg1hv',
    },
  },
  {
    name: 'ark',
    protocol: 'openai',
    label: 'Volcengine Ark (ByteDance Doubao); model id or ep-... endpoint id',
    endpoint: 'https://ark.cn-beijing.volces.com/api/v3',
    apiKeyEnv: 'ARK_API_KEY',
    group: 'closed',
    // Ark also hosts DeepSeek, Kimi and GLM: tagged by the underlying model (vendors.md, Ark row).
    groupBy: 'family',
    regions: [
      { region: 'China (Volcengine)', endpoint: 'https://ark.cn-beijing.volces.com/api/v3', preset: 'ark' },
      {
        region: 'international (BytePlus ModelArk)',
        endpoint: 'https://ark.ap-southeast.bytepluses.com/api/v3',
        preset: 'ark (set baseURL)',
      },
    ],
    // The Seed 2.0 flagship (shared/vendors.md 5.1).
    example: 'doubao-seed-2-0-pro-260215',
    docs: 'https://volcengine.com/docs/82379/1302008',
    batch: {
      api: 'none',
      why: "Ark's batch inference is not the OpenAI Files+Batches API (it posts to /api/v3/batch/chat/completions on an ep-bi-... endpoint, or runs jobs from TOS files)",
      source: 'https://volcengine.com/docs/82379/1449576',
    },
  },
  {
    name: 'hunyuan',
    protocol: 'openai',
    label: 'Tencent Hunyuan',
    endpoint: 'https://api.hunyuan.cloud.tencent.com/v1',
    apiKeyEnv: 'HUNYUAN_API_KEY',
    group: 'closed',
    example: 'hunyuan-turbos-latest',
    docs: 'https://cloud.tencent.com/document/product/1729/111007',
  },
  {
    // Tencent's new models (hy3, hy4) are only here; it also hosts DeepSeek, GLM and Kimi (thinking
    // on by default), tagged by the underlying model.
    name: 'tokenhub',
    ...TOKENHUB,
    label: 'Tencent TokenHub (hy models; hosted DeepSeek, GLM, Kimi), China',
    endpoint: 'https://tokenhub.tencentmaas.com/v1',
    docs: 'https://cloud.tencent.com/document/product/1823/132252',
  },
  {
    name: 'tokenhub-intl',
    ...TOKENHUB,
    label: 'Tencent TokenHub, international',
    endpoint: 'https://tokenhub-intl.tencentcloudmaas.com/v1',
    docs: 'https://intl.cloud.tencent.com/document/product/1300/80637',
  },
  {
    name: 'dashscope',
    ...DASHSCOPE,
    label: 'Alibaba DashScope (Qwen), compatible mode, China (Beijing)',
    endpoint: 'https://dashscope.aliyuncs.com/compatible-mode/v1',
    example: 'qwen-plus',
    docs: 'https://www.alibabacloud.com/help/en/model-studio/compatibility-of-openai-with-dashscope',
  },
  {
    name: 'dashscope-intl',
    ...DASHSCOPE,
    label: 'Alibaba DashScope (Qwen), compatible mode, international (Singapore)',
    endpoint: 'https://dashscope-intl.aliyuncs.com/compatible-mode/v1',
    example: 'qwen-plus',
    docs: 'https://www.alibabacloud.com/help/en/model-studio/qwen-api-via-openai-chat-completions',
  },
  {
    name: 'dashscope-us',
    ...DASHSCOPE,
    label: 'Alibaba DashScope (Qwen), compatible mode, US (Virginia)',
    endpoint: 'https://dashscope-us.aliyuncs.com/compatible-mode/v1',
    example: 'qwen3.6-plus',
    docs: 'https://www.alibabacloud.com/help/en/model-studio/qwen-api-via-openai-chat-completions',
  },
  {
    name: 'dashscope-hk',
    ...DASHSCOPE,
    label: 'Alibaba DashScope (Qwen), compatible mode, Hong Kong',
    endpoint: 'https://cn-hongkong.dashscope.aliyuncs.com/compatible-mode/v1',
    example: 'qwen3.6-plus',
    docs: 'https://www.alibabacloud.com/help/en/model-studio/qwen-api-via-openai-chat-completions',
  },
  {
    name: 'zhipu',
    protocol: 'openai',
    label: 'Zhipu BigModel (GLM), China; global Z.ai: https://api.z.ai/api/paas/v4/',
    endpoint: 'https://open.bigmodel.cn/api/paas/v4/',
    apiKeyEnv: 'ZHIPUAI_API_KEY',
    // GLM-4.5 and later publish weights (zai-org on HF): open; glm-4-plus/air/flash: closed.
    group: 'closed',
    groupBy: 'family',
    regions: ZHIPU_REGIONS,
    example: 'glm-5',
    docs: 'https://docs.bigmodel.cn/cn/guide/develop/openai/introduction',
    batch: ZHIPU_BATCH,
  },
  {
    name: 'zai',
    protocol: 'openai',
    label: 'Z.ai (GLM), international',
    endpoint: 'https://api.z.ai/api/paas/v4/',
    apiKeyEnv: 'ZAI_API_KEY',
    group: 'closed',
    groupBy: 'family',
    regions: ZHIPU_REGIONS,
    example: 'glm-5',
    docs: 'https://docs.z.ai/api-reference/llm/chat-completion',
    batch: ZHIPU_BATCH,
  },
  {
    name: 'deepseek',
    protocol: 'openai',
    label: 'DeepSeek API (open weights)',
    endpoint: 'https://api.deepseek.com',
    apiKeyEnv: 'DEEPSEEK_API_KEY',
    group: 'open',
    groupBy: 'family',
    // deepseek-chat / deepseek-reasoner were retired on 2026-07-24; V4 thinks by default.
    example: 'deepseek-v4-flash',
    docs: 'https://api-docs.deepseek.com/',
    batch: { api: 'none', why: 'DeepSeek documents no Batch API', source: 'https://api-docs.deepseek.com/' },
  },
  {
    name: 'openrouter',
    protocol: 'openai',
    label: 'OpenRouter (group by model family, else set group)',
    endpoint: 'https://openrouter.ai/api/v1',
    apiKeyEnv: 'OPENROUTER_API_KEY',
    groupBy: 'required',
    example: 'openai/gpt-4o',
    docs: 'https://openrouter.ai/docs/quick-start',
  },
  {
    name: 'together',
    protocol: 'openai',
    label: 'Together AI (group by model family, else set group)',
    endpoint: 'https://api.together.ai/v1',
    apiKeyEnv: 'TOGETHER_API_KEY',
    groupBy: 'required',
    example: 'openai/gpt-oss-20b',
    docs: 'https://docs.together.ai/docs/inference/openai-compatibility',
    batch: {
      api: 'openai',
      maxRequests: 50_000,
      maxBytes: 100_000_000,
      source: 'https://docs.together.ai/docs/inference/batch/overview',
    },
  },
  {
    name: 'groq',
    protocol: 'openai',
    label: 'Groq (group by model family, else set group)',
    endpoint: 'https://api.groq.com/openai/v1',
    apiKeyEnv: 'GROQ_API_KEY',
    groupBy: 'required',
    example: 'llama-3.1-8b-instant',
    docs: 'https://console.groq.com/docs/openai',
  },
  {
    // Not in shared/vendors.md (?): base URL and key variable from SiliconFlow's quick start.
    name: 'siliconflow',
    protocol: 'openai',
    label: 'SiliconFlow (hosted open models, China; group by model family, else set group)',
    endpoint: 'https://api.siliconflow.cn/v1',
    apiKeyEnv: 'SILICONFLOW_API_KEY',
    groupBy: 'required',
    example: 'Qwen/Qwen3-8B',
    docs: 'https://docs.siliconflow.cn/cn/userguide/quickstart',
  },
  {
    name: 'gemini',
    protocol: 'openai',
    label: 'Google Gemini, OpenAI compatibility (thinking shares max_tokens)',
    endpoint: 'https://generativelanguage.googleapis.com/v1beta/openai/',
    apiKeyEnv: 'GEMINI_API_KEY',
    group: 'closed',
    example: 'gemini-2.5-flash',
    docs: 'https://ai.google.dev/gemini-api/docs/openai',
  },
  {
    name: 'anthropic',
    protocol: 'openai',
    label: 'Anthropic Claude, OpenAI SDK compatibility (seed ignored; temperature clamped to 1)',
    endpoint: 'https://api.anthropic.com/v1/',
    apiKeyEnv: 'ANTHROPIC_API_KEY',
    group: 'closed',
    example: 'claude-sonnet-4-5',
    docs: 'https://platform.claude.com/docs/en/api/openai-sdk',
  },
  {
    name: 'vllm',
    protocol: 'openai',
    label: 'vLLM server (local)',
    endpoint: 'http://127.0.0.1:8000/v1',
    apiKeyEnv: 'VLLM_API_KEY',
    keyOptional: true,
    group: 'open',
    example: 'Qwen/Qwen2.5-7B-Instruct',
    docs: 'docs.vllm.ai',
    batch: LOCAL_BATCH,
  },
  {
    name: 'llamacpp',
    protocol: 'openai',
    label: 'llama.cpp llama-server (local; newer builds may default to port 9931)',
    endpoint: 'http://127.0.0.1:8080/v1',
    apiKeyEnv: 'LLAMA_API_KEY',
    keyOptional: true,
    group: 'open',
    example: 'local-model',
    docs: 'github.com/ggml-org/llama.cpp',
    batch: LOCAL_BATCH,
  },
  {
    name: 'lmstudio',
    protocol: 'openai',
    label: 'LM Studio server (local)',
    endpoint: 'http://127.0.0.1:1234/v1',
    // LM Studio's API token, when "Require Authentication" is on (https://lmstudio.ai/docs/api/rest-api).
    apiKeyEnv: 'LM_API_TOKEN',
    keyOptional: true,
    group: 'open',
    example: 'qwen2.5-7b-instruct',
    docs: 'https://lmstudio.ai/docs/api/rest-api',
    batch: LOCAL_BATCH,
  },
  {
    name: 'ollama',
    protocol: 'ollama',
    label: 'Ollama (local; host from config, OLLAMA_HOST, or http://127.0.0.1:11434)',
    group: 'open',
    example: 'llama3.1:8b',
    docs: 'github.com/ollama/ollama',
  },
  {
    name: 'replay',
    protocol: 'replay',
    label: 'Recorded outputs from a JSON/JSONL file: replay:<file>',
    group: 'open',
    example: 'outputs.jsonl',
    docs: 'docs/config-and-providers.md: replay',
  },
];

/**
 * Every provider name a model may use: the presets, then each registered protocol that has no
 * preset of its own name, as a bare preset drawn from its descriptor (so a new protocol is usable
 * as `protocol:model` from the line that registers it).
 */
export function allPresets(): readonly Preset[] {
  const bare = (Object.keys(PROTOCOLS) as Protocol[])
    .filter((protocol) => !PRESETS.some((p) => p.name === protocol))
    .map((protocol): Preset => {
      const d = PROTOCOLS[protocol];
      return {
        name: protocol,
        protocol,
        label: d.description,
        endpoint: d.endpoint?.default,
        group: d.group,
        example: 'MODEL',
        docs: 'docs/config-and-providers.md',
      };
    });
  return [...PRESETS, ...bare];
}

export function findPreset(name: string): Preset | undefined {
  return allPresets().find((p) => p.name === name);
}
