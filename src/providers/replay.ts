import { closeSync, fstatSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import { FileError, ProviderError, UsageError } from '../errors.js';
import type { ChatRequest, Completion } from '../types.js';
import { jsonItemSpans } from '../util/json-spans.js';
import { openRegularFile } from '../util/readfile.js';
import type { Provider, ProviderDescriptor, ProviderEnv, ProviderFactory, ProviderModel } from './provider.js';

/**
 * Answers from recorded outputs (a JSON array or JSONL), so outputs produced elsewhere (another
 * harness, a paper's release) are graded beside live models. `replay:<file>`; options in config:
 * `replay: {idField: 'id', outputField: 'output.0', idTemplate: 'gsm8k-main-test-#{index}'}`.
 * A case with no recorded item is an error record (kind `missing`), never a silent pass.
 *
 * The file is indexed once (item id -> where the item lies in the file) and each answer is read
 * back when asked for, so memory does not grow with the size of the outputs: recorded
 * chain-of-thought answers run to tens of megabytes.
 */
interface ReplayIndex {
  fd: number;
  /** Item id -> [byte offset, byte length] of the item in the file. */
  spans: Map<string, [number, number]>;
}

/** Indexes by file and field choice, valid while the file's size and modification time stay the same. */
const indexes = new Map<string, { stamp: string; index: ReplayIndex }>();

function options(model: ProviderModel) {
  return {
    idField: model.replay?.idField ?? 'id',
    outputField: model.replay?.outputField ?? 'output',
    idTemplate: model.replay?.idTemplate ?? '{id}',
  };
}

/** Indexes a recorded file (once per file and field choice); throws UsageError naming what is wrong. */
function indexFor(model: ProviderModel, cwd: string): ReplayIndex {
  const file = resolve(cwd, model.model);
  const { idField, outputField } = options(model);
  const key = JSON.stringify([file, idField, outputField]);
  let fd: number;
  try {
    // A FIFO would block the open; a device or directory is no recording: refused before reading.
    fd = openRegularFile(file, model.model);
  } catch (e) {
    const detail = e instanceof FileError && e.detail !== 'file not found' ? e.detail : 'not found';
    throw new UsageError(`model '${model.id}': replay file ${model.model} ${detail}`);
  }
  const st = fstatSync(fd);
  const stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
  const known = indexes.get(key);
  if (known?.stamp === stamp) {
    closeSync(fd);
    return known.index;
  }
  if (known) closeSync(known.index.fd);
  const spans = new Map<string, [number, number]>();
  const parse = (text: string, where: string): unknown => {
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      closeSync(fd);
      throw new UsageError(`${model.model}${where}: invalid JSON (${(e as Error).message})`);
    }
  };
  for (const span of jsonItemSpans(fd, st.size)) {
    if (span.error) {
      closeSync(fd);
      throw new UsageError(`${model.model}${span.line ? `:${span.line}` : ''}: ${span.error}`);
    }
    const item = parse(readText(fd, span.offset, span.bytes), span.line ? `:${span.line}` : '');
    const id = getPath(item, idField);
    const out = getPath(item, outputField);
    if (id === undefined || out === undefined || out === null) continue;
    spans.set(String(id), [span.offset, span.bytes]);
  }
  if (!spans.size) {
    closeSync(fd);
    throw new UsageError(`model '${model.id}': no items with '${idField}' and '${outputField}' in ${model.model}`);
  }
  const index = { fd, spans };
  indexes.set(key, { stamp, index });
  return index;
}

function readText(fd: number, offset: number, bytes: number): string {
  const buf = Buffer.allocUnsafe(bytes);
  let got = 0;
  while (got < bytes) {
    const n = readSync(fd, buf, got, bytes - got, offset + got);
    if (n === 0) break;
    got += n;
  }
  return buf.toString('utf8', 0, got);
}

const replayProvider: ProviderFactory = (model, { cwd }) => {
  const { outputField, idTemplate } = options(model);
  // Indexed at the first request of this run (or taken from the preflight's index of the same file).
  let index: ReplayIndex | undefined;

  async function complete(req: ChatRequest): Promise<Completion> {
    const job = req.job;
    if (!job) throw new ProviderError('bad_request', `model '${model.id}': replay needs the case id`);
    const tokens: Record<string, unknown> = { ...job.vars, id: job.caseId, index: job.caseIndex, repeat: job.repeat };
    const key = idTemplate.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, name: string) =>
      tokens[name] === undefined ? m : String(tokens[name]),
    );
    index ??= indexFor(model, cwd);
    const span = index.spans.get(key);
    if (!span)
      throw new ProviderError('missing', `model '${model.id}': no recorded output for '${key}' in ${model.model}`);
    const out = getPath(JSON.parse(readText(index.fd, span[0], span[1])), outputField);
    const recorded = typeof out === 'string' ? out : JSON.stringify(out);
    const cut = cutAtStop(recorded, req.params.stop);
    return { text: cut ?? recorded, latencyMs: 0, finishReason: cut === undefined ? 'replay' : 'stop' };
  }

  return { model, complete } satisfies Provider;
};

/**
 * The text before the first stop sequence, as a live server returns it (OpenAI's `stop`: the
 * sequence itself is not included); undefined when none occurs. Recorded outputs of base models
 * run on past the answer ("The answer is (D).\n\nQuestion: ..."): the harness that recorded
 * them cut there, and a replay has to cut at the same place to grade the same answer.
 */
function cutAtStop(text: string, stop: readonly string[] | undefined): string | undefined {
  let at = -1;
  for (const s of stop ?? []) {
    if (s === '') continue;
    const i = text.indexOf(s);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  return at < 0 ? undefined : text.slice(0, at);
}

/** `output.0.text` style paths into parsed JSON. */
function getPath(value: unknown, path: string): unknown {
  let cur: unknown = value;
  for (const seg of path.split('.')) {
    if (cur === null || cur === undefined) return undefined;
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (typeof cur === 'object') cur = (cur as Record<string, unknown>)[seg];
    else return undefined;
  }
  return cur;
}

export const replayDescriptor: ProviderDescriptor = {
  protocol: 'replay',
  description: 'recorded outputs from a JSON array or JSONL file, looked up by case id',
  key: 'none',
  defaults: () => ({ concurrency: 8, timeoutMs: 120_000, cache: false }),
  create: replayProvider,
  preflight: (model: ProviderModel, env: ProviderEnv) => void indexFor(model, env.cwd),
};
