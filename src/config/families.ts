import type { Group } from '../types.js';

/**
 * Model families by whether their weights are published: the group of a model served by an
 * aggregator or a vendor that also publishes weights follows its name. Checked in order, first
 * match wins: closed API lines of vendors whose other models are open come before the open
 * families that would match them (qwen-max before qwen, glm-4-plus before glm). Sources:
 * shared/vendors.md, column "Open-weight?" of section 1.
 */
const FAMILIES: readonly [RegExp, Group][] = [
  [/qwen[\w.-]*-(?:max|plus|turbo|flash|long)\b|qwen-(?:max|plus|turbo|flash|long|vl-max|vl-plus)/, 'closed'],
  [/\bglm-4-(?:plus|air|airx|flash|flashx|long|0520)\b/, 'closed'],
  [/\bmoonshot-v1/, 'closed'],
  [/\bgpt-oss/, 'open'],
  [
    /\b(?:llama|codellama|qwen|qwq|mistral|mixtral|codestral-mamba|gemma|deepseek|glm|kimi-k\d|yi-|internlm|baichuan|phi-?\d|olmo|falcon|minimax-m|seed-oss|hunyuan-a13b|ernie-4\.5-\d+b|nemotron|granite|smollm|starcoder)/,
    'open',
  ],
  [
    /\b(?:gpt-[345]|chatgpt|o[1-9](?:-|\b)|claude|gemini|ernie|doubao|hunyuan|grok|command-r|command-a|sonar|kimi-latest)/,
    'closed',
  ],
];

/** The group of a model name by its family, or undefined when no family matches. */
export function familyGroup(model: string): Group | undefined {
  const name = model.toLowerCase();
  for (const [re, group] of FAMILIES) if (re.test(name)) return group;
  return undefined;
}
