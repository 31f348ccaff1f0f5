import type { ModelConfig } from '../config/config.js';
import type { ChatRequest, Completion } from '../types.js';

/**
 * Turns a chat request into a completion, or throws a `ProviderError` whose `kind` says
 * what went wrong. Providers never retry: the lane owns retries, so SDK retries are off.
 */
export interface Provider {
  readonly model: ModelConfig;
  complete(req: ChatRequest): Promise<Completion>;
  /** Optional cheap check before the run (e.g. is the Ollama model pulled?). Throws ProviderError. */
  preflight?(signal: AbortSignal): Promise<void>;
}

export interface ProviderEnv {
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export type ProviderFactory = (model: ModelConfig, env: ProviderEnv) => Provider;

/** Whether an abort came from the per-request timeout (retryable) or from the run stopping. */
export function abortKind(signal: AbortSignal): 'timeout' | 'aborted' {
  const reason = signal.reason as { name?: string } | undefined;
  return reason?.name === 'TimeoutError' ? 'timeout' : 'aborted';
}
