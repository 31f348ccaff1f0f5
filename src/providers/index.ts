/**
 * The provider registry: the one place that knows the wire protocols. Config, presets, the cache
 * and the runner ask it; the `Protocol` type is derived from it. Adding a protocol is one provider
 * file exporting a descriptor and one line here.
 */
import { BatchingProvider } from './batcher.js';
import { ollamaDescriptor } from './ollama.js';
import { openaiDescriptor } from './openai.js';
import type { Provider, ProviderDescriptor, ProviderEnv, ProviderModel } from './provider.js';
import { replayDescriptor } from './replay.js';

export const PROTOCOLS = {
  openai: openaiDescriptor,
  ollama: ollamaDescriptor,
  replay: replayDescriptor,
} as const satisfies Record<string, ProviderDescriptor>;

export type Protocol = keyof typeof PROTOCOLS;

for (const [key, d] of Object.entries(PROTOCOLS)) {
  // A key that differs from the descriptor's own name would make `protocol: x` build `y`.
  if (key !== d.protocol) throw new Error(`provider registry: key '${key}' holds protocol '${d.protocol}'`);
}

export function isProtocol(name: string): name is Protocol {
  return Object.hasOwn(PROTOCOLS, name);
}

export function descriptorOf(protocol: Protocol): ProviderDescriptor {
  return PROTOCOLS[protocol];
}

/**
 * The provider of a model. A model in batch mode, given a run directory to keep its batches in,
 * gets its protocol's Batch API behind the same interface: the lane above cannot tell.
 */
export function createProvider(model: ProviderModel & { protocol: Protocol }, env: ProviderEnv): Provider {
  const d: ProviderDescriptor = PROTOCOLS[model.protocol];
  const live = d.create(model, env);
  if (!model.batch || !env.batches || !d.batch) return live;
  return new BatchingProvider(live, d.batch(model, env), model.batch, env.batches);
}

export type { Provider, ProviderDescriptor, ProviderEnv, ProviderFactory, ProviderModel } from './provider.js';
