import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ModelConfig } from '../config/config.js';
import type { ChatMessage, Completion } from '../types.js';
import { readBounded } from '../util/readfile.js';

/** Largest cache entry read back. */
const MAX_ENTRY_BYTES = 256 * 1024 * 1024;

export type CacheMode = 'use' | 'refresh' | 'off';

/** Where answers are cached: GAPBENCH_CACHE_DIR, else $XDG_CACHE_HOME/gapbench, else ~/.cache/gapbench. */
export function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  if (env.GAPBENCH_CACHE_DIR) return env.GAPBENCH_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'gapbench');
}

/**
 * Content-addressed response cache: the key covers provider, endpoint, model, messages, sampling
 * params and the repeat index (so `--repeat 5` keeps five samples). Only successes are stored.
 * One file per answer, written to a temp name and renamed, so a crash never leaves half an entry.
 */
export class ResponseCache {
  private readonly made = new Set<string>();

  constructor(
    readonly dir: string,
    readonly mode: CacheMode,
    /** Entries older than this are ignored (asked again and overwritten); entries without a time count as old. */
    readonly maxAgeMs?: number,
  ) {}

  key(model: ModelConfig, messages: readonly ChatMessage[], repeat: number): string {
    return createHash('sha256')
      .update(JSON.stringify([1, model.protocol, model.endpoint ?? '', model.model, messages, model.params, repeat]))
      .digest('hex');
  }

  enabledFor(model: ModelConfig): boolean {
    return this.mode !== 'off' && model.cache;
  }

  get(key: string): Completion | undefined {
    if (this.mode !== 'use') return undefined;
    try {
      // An entry holds one answer (bounded by maxResponseBytes); a bigger or special file is no entry.
      const v = JSON.parse(readBounded(this.file(key), MAX_ENTRY_BYTES).toString('utf8')) as Completion & {
        cached_at?: number;
      };
      if (typeof v?.text !== 'string') return undefined;
      // A max age of 0 reuses nothing, even an answer stored this very millisecond.
      if (this.maxAgeMs !== undefined && !(Date.now() - (v.cached_at ?? 0) <= this.maxAgeMs && this.maxAgeMs > 0))
        return undefined;
      const { cached_at: _, ...c } = v;
      return c;
    } catch {
      return undefined;
    }
  }

  put(key: string, c: Completion): void {
    const sub = join(this.dir, 'responses', key.slice(0, 2));
    if (!this.made.has(sub)) {
      mkdirSync(sub, { recursive: true });
      this.made.add(sub);
    }
    const target = this.file(key);
    const tmp = `${target}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify({ ...c, cached_at: Date.now() }));
      renameSync(tmp, target);
    } catch {
      /* a cache that cannot be written only costs a future request */
    }
  }

  private file(key: string): string {
    return join(this.dir, 'responses', key.slice(0, 2), `${key}.json`);
  }
}
