import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ProviderError, UsageError } from '../errors.js';
import type { ChatRequest, Completion } from '../types.js';
import type { Provider, ProviderFactory } from './provider.js';

/**
 * Answers from recorded outputs (a JSON array or JSONL), so outputs produced elsewhere (another
 * harness, a paper's release) are graded beside live models. `replay:<file>`; options in config:
 * `replay: {idField: 'id', outputField: 'output.0', idTemplate: 'gsm8k-main-test-#{index}'}`.
 * A case with no recorded item is an error record (kind `missing`), never a silent pass.
 */
export const replayProvider: ProviderFactory = (model, { cwd }) => {
  const file = resolve(cwd, model.model);
  const idField = model.replay?.idField ?? 'id';
  const outputField = model.replay?.outputField ?? 'output';
  const idTemplate = model.replay?.idTemplate ?? '{id}';
  let byId: Map<string, string> | undefined;

  function load(): Map<string, string> {
    if (byId) return byId;
    let text: string;
    try {
      text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
    } catch {
      throw new UsageError(`model '${model.id}': replay file ${model.model} not found`);
    }
    const items: unknown[] = [];
    const trimmed = text.trimStart();
    if (trimmed.startsWith('[')) {
      try {
        items.push(...(JSON.parse(text) as unknown[]));
      } catch (e) {
        throw new UsageError(`${model.model}: invalid JSON (${(e as Error).message})`);
      }
    } else {
      text.split('\n').forEach((line, i) => {
        if (!line.trim()) return;
        try {
          items.push(JSON.parse(line));
        } catch {
          throw new UsageError(`${model.model}:${i + 1}: invalid JSON line`);
        }
      });
    }
    const map = new Map<string, string>();
    for (const item of items) {
      const id = getPath(item, idField);
      const out = getPath(item, outputField);
      if (id === undefined || out === undefined || out === null) continue;
      map.set(String(id), typeof out === 'string' ? out : JSON.stringify(out));
    }
    if (!map.size)
      throw new UsageError(`model '${model.id}': no items with '${idField}' and '${outputField}' in ${model.model}`);
    byId = map;
    return map;
  }

  async function complete(req: ChatRequest): Promise<Completion> {
    const job = req.job;
    if (!job) throw new ProviderError('bad_request', `model '${model.id}': replay needs the case id`);
    const tokens: Record<string, unknown> = { ...job.vars, id: job.caseId, index: job.caseIndex, repeat: job.repeat };
    const key = idTemplate.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, name: string) =>
      tokens[name] === undefined ? m : String(tokens[name]),
    );
    const text = load().get(key);
    if (text === undefined)
      throw new ProviderError('missing', `model '${model.id}': no recorded output for '${key}' in ${model.model}`);
    return { text, latencyMs: 0, finishReason: 'replay' };
  }

  return {
    model,
    complete,
    async preflight() {
      load();
    },
  } satisfies Provider;
};

/** `output.0.text` style paths into parsed JSON. */
export function getPath(value: unknown, path: string): unknown {
  let cur: unknown = value;
  for (const seg of path.split('.')) {
    if (cur === null || cur === undefined) return undefined;
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (typeof cur === 'object') cur = (cur as Record<string, unknown>)[seg];
    else return undefined;
  }
  return cur;
}
