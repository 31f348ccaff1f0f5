import { PROTOCOLS, type Protocol } from '../providers/index.js';
import type { Group } from '../types.js';

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
  example: string;
  docs: string;
}

export const PRESETS: readonly Preset[] = [
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
  },
  {
    name: 'moonshot',
    protocol: 'openai',
    label: 'Moonshot AI (Kimi); China: https://api.moonshot.cn/v1',
    endpoint: 'https://api.moonshot.ai/v1',
    apiKeyEnv: 'MOONSHOT_API_KEY',
    group: 'closed',
    example: 'kimi-k2.6',
    docs: 'platform.moonshot.ai/docs',
  },
  {
    name: 'qianfan',
    protocol: 'openai',
    label: 'Baidu Qianfan (ERNIE), key bce-v3/...',
    endpoint: 'https://qianfan.baidubce.com/v2',
    apiKeyEnv: 'QIANFAN_API_KEY',
    group: 'closed',
    example: 'ernie-4.5-turbo-128k',
    docs: 'cloud.baidu.com/doc/WENXINWORKSHOP',
  },
  {
    name: 'ark',
    protocol: 'openai',
    label: 'Volcengine Ark (ByteDance Doubao); model id or ep-... endpoint id',
    endpoint: 'https://ark.cn-beijing.volces.com/api/v3',
    apiKeyEnv: 'ARK_API_KEY',
    group: 'closed',
    example: 'doubao-seed-1-6-251015',
    docs: 'volcengine.com/docs/82379',
  },
  {
    name: 'hunyuan',
    protocol: 'openai',
    label: 'Tencent Hunyuan',
    endpoint: 'https://api.hunyuan.cloud.tencent.com/v1',
    apiKeyEnv: 'HUNYUAN_API_KEY',
    group: 'closed',
    example: 'hunyuan-turbos-latest',
    docs: 'cloud.tencent.com/document/product/1729/111007',
  },
  {
    name: 'dashscope',
    protocol: 'openai',
    label: 'Alibaba DashScope (Qwen), compatible mode; intl: https://dashscope-intl.aliyuncs.com/compatible-mode/v1',
    endpoint: 'https://dashscope.aliyuncs.com/compatible-mode/v1',
    apiKeyEnv: 'DASHSCOPE_API_KEY',
    group: 'closed',
    example: 'qwen-plus',
    docs: 'alibabacloud.com/help/en/model-studio',
  },
  {
    name: 'deepseek',
    protocol: 'openai',
    label: 'DeepSeek API (open weights)',
    endpoint: 'https://api.deepseek.com',
    apiKeyEnv: 'DEEPSEEK_API_KEY',
    group: 'open',
    example: 'deepseek-chat',
    docs: 'api-docs.deepseek.com',
  },
  {
    name: 'openrouter',
    protocol: 'openai',
    label: 'OpenRouter (set group per model)',
    endpoint: 'https://openrouter.ai/api/v1',
    apiKeyEnv: 'OPENROUTER_API_KEY',
    group: 'closed',
    example: 'openai/gpt-4o',
    docs: 'openrouter.ai/docs',
  },
  {
    name: 'together',
    protocol: 'openai',
    label: 'Together AI (set group per model)',
    endpoint: 'https://api.together.ai/v1',
    apiKeyEnv: 'TOGETHER_API_KEY',
    group: 'closed',
    example: 'openai/gpt-oss-20b',
    docs: 'docs.together.ai',
  },
  {
    name: 'groq',
    protocol: 'openai',
    label: 'Groq (set group per model)',
    endpoint: 'https://api.groq.com/openai/v1',
    apiKeyEnv: 'GROQ_API_KEY',
    group: 'closed',
    example: 'llama-3.1-8b-instant',
    docs: 'console.groq.com/docs/openai',
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
  },
  {
    name: 'lmstudio',
    protocol: 'openai',
    label: 'LM Studio server (local)',
    endpoint: 'http://127.0.0.1:1234/v1',
    apiKeyEnv: 'LM_API_TOKEN',
    keyOptional: true,
    group: 'open',
    example: 'qwen2.5-7b-instruct',
    docs: 'lmstudio.ai/docs',
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
    docs: 'README: replay provider',
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
        docs: 'README: providers',
      };
    });
  return [...PRESETS, ...bare];
}

export function findPreset(name: string): Preset | undefined {
  return allPresets().find((p) => p.name === name);
}
