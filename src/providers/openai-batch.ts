/**
 * The OpenAI Batch API (Files + Batches) through the official SDK: an input file of JSONL requests
 * is uploaded with purpose `batch`, a batch is created on /v1/chat/completions with a 24 h
 * window, and its output and error files are read back line by line. Vendors with an
 * OpenAI-compatible Batch API (DashScope, Together, ...) take the same calls at their base URL.
 * https://platform.openai.com/docs/guides/batch ; https://platform.openai.com/docs/api-reference/batch
 */
import { createReadStream } from 'node:fs';
import type * as OpenAIModule from 'openai';
import { ProviderError } from '../errors.js';
import type { ChatMessage, SamplingParams } from '../types.js';
import { cleanMessage, httpError } from './classify.js';
import { boundedFetch } from './http.js';
import { classifyOpenAIError, completionOf, openaiClient, requestBody } from './openai-wire.js';
import { type BatchAnswer, type BatchApi, type BatchInfo, type ProviderEnv, type ProviderModel } from './provider.js';

/** OpenAI's limits per input file: 50,000 requests and 200 MB (https://platform.openai.com/docs/guides/batch#rate-limits). */
const OPENAI_BATCH_LIMITS = { maxRequests: 50_000, maxBytes: 200_000_000 };

/** The endpoint every line targets, and the batch's completion window (the only one OpenAI offers). */
const ENDPOINT = '/v1/chat/completions';
const WINDOW = '24h';

type OpenAIClient = OpenAIModule.OpenAI;
type RawBatch = OpenAIModule.OpenAI.Batches.Batch;

export function openaiBatch(
  model: ProviderModel & { batch?: { maxRequests?: number; maxBytes?: number; endpoint?: string } },
  providerEnv: ProviderEnv,
): BatchApi {
  const { client, secrets } = openaiClient(model, providerEnv, {
    // An upload of up to 200 MB, or an output file as large, takes longer than a chat answer.
    timeout: Math.max(model.timeoutMs, 600_000),
    // The transport of live requests; output files arrive as streams, bounded per line below,
    // not as a whole (a file may hold as many answers as the vendor allows).
    fetch: boundedFetch(Number.MAX_SAFE_INTEGER),
  });
  const fail = (what: string) => (err: unknown, signal?: AbortSignal) => {
    const e = classifyOpenAIError(err, signal ?? new AbortController().signal, model, secrets);
    const hint =
      e.kind === 'not_found' && what === 'upload'
        ? ' (does this server offer the Batch API? set batch: false to ask it live)'
        : '';
    const message = e.message.replace(/ \(is the model name right[^)]*\)$/, '');
    return new ProviderError(e.kind, `${message} [batch ${what}]${hint}`, e.options);
  };
  const call = async <T>(what: string, signal: AbortSignal | undefined, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (err) {
      throw fail(what)(err, signal);
    }
  };
  // The vendor's own line endpoint where it differs (Zhipu: /v4/chat/completions; config/presets.ts).
  const endpoint = (model.batch?.endpoint ?? ENDPOINT) as typeof ENDPOINT;
  return {
    maxRequests: model.batch?.maxRequests ?? OPENAI_BATCH_LIMITS.maxRequests,
    maxBytes: model.batch?.maxBytes ?? OPENAI_BATCH_LIMITS.maxBytes,
    line: (customId: string, messages: ChatMessage[], params: SamplingParams) =>
      JSON.stringify({
        custom_id: customId,
        method: 'POST',
        url: endpoint,
        body: requestBody(model, { messages, params }),
      }),
    upload: (path, signal) =>
      call(
        'upload',
        signal,
        async () => (await client.files.create({ file: createReadStream(path), purpose: 'batch' }, { signal })).id,
      ),
    create: (inputFileId, metadata, signal) =>
      call('create', signal, async () =>
        infoOf(
          await client.batches.create(
            { input_file_id: inputFileId, endpoint, completion_window: WINDOW, metadata },
            { signal },
          ),
        ),
      ),
    retrieve: (id, signal) => call('status', signal, async () => infoOf(await client.batches.retrieve(id, { signal }))),
    findByInputFile: (inputFileId, signal) =>
      call('list', signal, async () => {
        let seen = 0;
        // Newest first: the batch looked for was created moments before the crash that lost its id.
        for await (const b of client.batches.list({ limit: 100 }, { signal })) {
          if (b.input_file_id === inputFileId) return infoOf(b);
          if (++seen >= 1000) break;
        }
        return undefined;
      }),
    results: (fileId, signal) => resultLines(client, fileId, model, secrets, signal, fail('download')),
  };
}

function infoOf(b: RawBatch): BatchInfo {
  const errors = b.errors?.data
    ?.map((e) =>
      [e.code, e.message, e.line === undefined || e.line === null ? '' : `(line ${e.line})`].filter(Boolean).join(' '),
    )
    .join('; ');
  return {
    id: b.id,
    status: b.status,
    inputFileId: b.input_file_id,
    ...(b.output_file_id ? { outputFileId: b.output_file_id } : {}),
    ...(b.error_file_id ? { errorFileId: b.error_file_id } : {}),
    ...(errors ? { errors: cleanMessage(errors) } : {}),
    ...(b.request_counts ? { counts: { ...b.request_counts } } : {}),
  };
}

/** The same bound on one answer as a live response's (maxResponseBytes, default 16 MiB). */
const DEFAULT_LINE_BYTES = 16 * 1024 * 1024;

/** A download that sends nothing for this long (or the model's timeoutMs, if shorter) is cut, and tried again at the next status check. */
const IDLE_MS = 120_000;

/**
 * An output or error file, streamed line by line (an output file can be hundreds of megabytes):
 * each byte is scanned once, a line longer than the bound is skipped to its end and answered as
 * `response_too_large` for the job it names, and a download that stalls is cut.
 */
async function* resultLines(
  client: OpenAIClient,
  fileId: string,
  model: ProviderModel,
  secrets: string[],
  outer: AbortSignal | undefined,
  fail: (err: unknown, signal?: AbortSignal) => ProviderError,
): AsyncGenerator<BatchAnswer> {
  const idle = new AbortController();
  const signal = outer ? AbortSignal.any([outer, idle.signal]) : idle.signal;
  const idleMs = Math.min(IDLE_MS, model.timeoutMs);
  let timer = setTimeout(() => idle.abort(new DOMException('download stalled', 'TimeoutError')), idleMs);
  const maxLine = model.maxResponseBytes ?? DEFAULT_LINE_BYTES;
  const lines = new LineSplitter(maxLine);
  try {
    const body = (await client.files.content(fileId, { signal })).body;
    for await (const chunk of (body ?? []) as AsyncIterable<Uint8Array>) {
      clearTimeout(timer);
      timer = setTimeout(() => idle.abort(new DOMException('download stalled', 'TimeoutError')), idleMs);
      for (const line of lines.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)))
        yield lineAnswer(line, model, secrets, maxLine);
    }
    const last = lines.end();
    if (last) yield lineAnswer(last, model, secrets, maxLine);
  } catch (err) {
    throw fail(err, signal);
  } finally {
    clearTimeout(timer);
  }
}

/** A whole line, or the head of one that went past the bound (the rest was skipped). */
type SplitLine = { text: string } | { tooLong: string; bytes: number };

/** Splits a byte stream into lines, scanning each byte once and never holding more than one bounded line. */
class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private skipping?: { head: string; bytes: number };

  constructor(private readonly max: number) {}

  *push(chunk: Buffer): Generator<SplitLine> {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      const line = this.take(chunk.subarray(start, nl));
      if (line) yield line;
      start = nl + 1;
    }
    this.add(chunk.subarray(start));
  }

  end(): SplitLine | undefined {
    return this.take(Buffer.alloc(0));
  }

  private add(piece: Buffer): void {
    if (this.skipping) {
      this.skipping.bytes += piece.length;
      return;
    }
    this.parts.push(Buffer.from(piece));
    this.size += piece.length;
    if (this.size > this.max) {
      const head = Buffer.concat(this.parts).subarray(0, 4096).toString('utf8');
      this.skipping = { head, bytes: this.size };
      this.parts = [];
      this.size = 0;
    }
  }

  private take(tail: Buffer): SplitLine | undefined {
    this.add(tail);
    const skipped = this.skipping;
    this.skipping = undefined;
    if (skipped) return { tooLong: skipped.head, bytes: skipped.bytes };
    const text = Buffer.concat(this.parts).toString('utf8');
    this.parts = [];
    this.size = 0;
    return text.trim() ? { text } : undefined;
  }
}

function lineAnswer(line: SplitLine, model: ProviderModel, secrets: readonly string[], max: number): BatchAnswer {
  if ('text' in line) return answerOf(line.text, model, secrets);
  // The job is named near the start of a line (OpenAI writes id, then custom_id).
  const id = /"custom_id"\s*:\s*"((?:[^"\\]|\\.){1,512})"/.exec(line.tooLong)?.[1];
  if (id === undefined) return { unreadable: `a line of ${line.bytes} bytes, over the ${max}-byte bound` };
  return {
    customId: JSON.parse(`"${id}"`) as string,
    error: {
      kind: 'response_too_large',
      message: `model '${model.id}': the batch's answer is over ${max} bytes (maxResponseBytes sets the limit)`,
    },
  };
}

interface OutputLine {
  custom_id?: unknown;
  response?: { status_code?: unknown; body?: unknown } | null;
  error?: { code?: unknown; message?: unknown } | null;
}

/** One line of an output or error file as an answer or an error of the job it names. */
function answerOf(line: string, model: ProviderModel, secrets: readonly string[] = []): BatchAnswer {
  let v: OutputLine;
  try {
    v = JSON.parse(line) as OutputLine;
  } catch {
    return { unreadable: cleanMessage(line, secrets, 200) };
  }
  if (!v || typeof v !== 'object' || typeof v.custom_id !== 'string')
    return { unreadable: cleanMessage(line, secrets, 200) };
  const customId = v.custom_id;
  const res = v.response;
  if (res && typeof res === 'object' && res.status_code === 200) {
    try {
      // Latency: not known per line (the batch's turnaround is set by the runner).
      return { customId, completion: completionOf(res.body as Parameters<typeof completionOf>[0], model.id, 0) };
    } catch (e) {
      const pe = e instanceof ProviderError ? e : new ProviderError('bad_response', String(e));
      return { customId, error: { kind: pe.kind, message: pe.message } };
    }
  }
  if (res && typeof res === 'object' && typeof res.status_code === 'number') {
    const body = res.body as { error?: { message?: unknown } } | undefined;
    const text = typeof body?.error?.message === 'string' ? body.error.message : `HTTP ${res.status_code}`;
    const e = httpError(model.id, res.status_code, cleanMessage(text, secrets), undefined);
    return {
      customId,
      error: {
        kind: e.kind,
        message: `${e.message} (a line of the batch; --resume DIR --retry-errors sends it again)`,
      },
    };
  }
  const code = typeof v.error?.code === 'string' ? v.error.code : 'unknown';
  const message = cleanMessage(typeof v.error?.message === 'string' ? v.error.message : 'no response', secrets);
  // Never run: the batch expired or was cancelled first. Not the model's answer; sent again by --retry-errors.
  if (code === 'batch_expired' || code === 'batch_cancelled')
    return { customId, error: { kind: 'expired', message: `model '${model.id}': ${code}: ${message}` } };
  return {
    customId,
    error: { kind: 'bad_response', message: `model '${model.id}': batch line error ${code}: ${message}` },
  };
}
