import type { ModelConfig } from '../config/config.js';
import { ollamaProvider } from './ollama.js';
import { openaiProvider } from './openai.js';
import type { Provider, ProviderEnv, ProviderFactory } from './provider.js';
import { replayProvider } from './replay.js';

/** One line per wire protocol; presets (moonshot, vllm, ...) resolve to one of these in config/presets.ts. */
const factories: Record<ModelConfig['protocol'], ProviderFactory> = {
  openai: openaiProvider,
  ollama: ollamaProvider,
  replay: replayProvider,
};

/** Protocols whose providers check something before the run (replay: the recorded file loads). */
const PREFLIGHT: ReadonlySet<ModelConfig['protocol']> = new Set(['replay']);

export function hasPreflight(model: ModelConfig): boolean {
  return PREFLIGHT.has(model.protocol);
}

export function createProvider(model: ModelConfig, env: ProviderEnv): Provider {
  return factories[model.protocol](model, env);
}

export type { Provider, ProviderEnv, ProviderFactory } from './provider.js';
