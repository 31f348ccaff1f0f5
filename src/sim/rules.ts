/**
 * Models whose APIs have rules, as the vendors document them (shared/vendors.md): a model that
 * fixes its temperature answers HTTP 400 to any other (Kimi K2.5+: "invalid temperature: only 1
 * is allowed for this model"; OpenAI's reasoning models alike), one that refuses `max_tokens`
 * (OpenAI's reasoning models: "Use 'max_completion_tokens' instead"), and a thinking model that
 * honours a thinking switch and budget (or, without `thinkingSwitch`, thinks anyway).
 */
import type { ChatCall, SimError } from './protocol.js';
import { isRecord } from '../util/record.js';
import { finiteNumber } from './protocol.js';
import type { SimModel } from './types.js';

/** What a request asks of thinking, in whichever vendor's field it came. */
interface ThinkingAsk {
  off: boolean;
  budget?: number;
}

/**
 * Kimi/DeepSeek/GLM/Ark `thinking.type`, DashScope `enable_thinking` + `thinking_budget`, vLLM and
 * llama.cpp `chat_template_kwargs.enable_thinking`, OpenAI `reasoning_effort`, OpenRouter
 * `reasoning`, Claude `thinking.budget_tokens`, Ollama's top-level `think`.
 */
export function readThinking(body: Record<string, unknown>): ThinkingAsk {
  const thinking = isRecord(body.thinking) ? body.thinking : {};
  const kwargs = isRecord(body.chat_template_kwargs) ? body.chat_template_kwargs : {};
  const reasoning = isRecord(body.reasoning) ? body.reasoning : {};
  const off =
    thinking.type === 'disabled' ||
    body.enable_thinking === false ||
    kwargs.enable_thinking === false ||
    body.think === false ||
    body.reasoning_effort === 'none' ||
    body.reasoning_effort === 'minimal' ||
    reasoning.effort === 'none';
  const budget =
    finiteNumber(body.thinking_budget) ?? finiteNumber(thinking.budget_tokens) ?? finiteNumber(reasoning.max_tokens);
  return { off, ...(budget === undefined ? {} : { budget }) };
}

/** The HTTP 400 a model with rules answers to this call, if any. */
export function refusal(m: SimModel, call: ChatCall): SimError | undefined {
  if (m.fixedTemperature && call.temperature !== undefined && call.temperature !== 1)
    return {
      kind: 'bad_request',
      message: 'invalid temperature: only 1 is allowed for this model',
      param: 'temperature',
    };
  if (m.refuseMaxTokens && call.maxTokensField === 'max_tokens')
    return {
      kind: 'bad_request',
      message:
        "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
      param: 'max_tokens',
    };
  return undefined;
}

/** Reasoning tokens this call spends: the model's own amount, unless it honours a switch or budget that says less. */
export function thinkingTokens(m: SimModel, think: number, call: ChatCall): number {
  if (!m.thinkingSwitch || !call.thinking) return think;
  if (call.thinking.off) return 0;
  return call.thinking.budget === undefined ? think : Math.min(think, Math.max(0, call.thinking.budget));
}
