/**
 * The OpenAI Files API's store (in memory), and the validation of a batch input file, done once
 * on upload and reported by every batch made from the file as OpenAI reports it: the batch goes
 * `failed` with `errors.data[] = {code, message, param, line}`.
 */
import { isRecord } from '../util/record.js';

/** One entry of a failed batch's `errors.data`. */
export interface BatchLineError {
  code: string;
  message: string;
  param: string | null;
  /** 1-based line of the input file; null for errors about the whole file. */
  line: number | null;
}

/** What validation learnt about a batch input file. */
interface BatchInput {
  /** Empty when the file is a valid batch (the first MAX_ERRORS problems otherwise). */
  errors: BatchLineError[];
  /** The served model every request names (one model per file, as OpenAI requires). */
  model?: string;
  /** Byte range of each request line, in file order (blank lines are skipped). */
  starts: number[];
  ends: number[];
}

export interface SimFile {
  id: string;
  filename: string;
  purpose: 'batch' | 'batch_output';
  /** Unix seconds. */
  createdAt: number;
  content: Buffer;
  /** Uploaded batch input files only. */
  input?: BatchInput;
}

export interface BatchLimits {
  maxRequestsPerFile: number;
  maxFileBytes: number;
}

/** OpenAI reports a bounded number of problems per file; so do we (and hold no more). */
const MAX_ERRORS = 100;
const CHAT_URL = '/v1/chat/completions';
/** OpenAI keeps batch files 30 days by default. */
const FILE_TTL_S = 30 * 86400;

export class FileStore {
  private readonly files = new Map<string, SimFile>();
  private seq = 0;
  uploaded = 0;

  add(filename: string, purpose: SimFile['purpose'], content: Buffer, input?: BatchInput): SimFile {
    const id = `file-sim${(++this.seq).toString(36).padStart(16, '0')}`;
    const f: SimFile = { id, filename, purpose, createdAt: Math.floor(Date.now() / 1000), content, input };
    this.files.set(id, f);
    return f;
  }

  get(id: string): SimFile | undefined {
    return this.files.get(id);
  }

  delete(id: string): boolean {
    return this.files.delete(id);
  }

  /** Newest first. */
  list(): SimFile[] {
    return [...this.files.values()].reverse();
  }
}

/** The File object, as GET /v1/files/{id} returns it. */
export function fileJson(f: SimFile): Record<string, unknown> {
  return {
    id: f.id,
    object: 'file',
    bytes: f.content.length,
    created_at: f.createdAt,
    expires_at: f.createdAt + FILE_TTL_S,
    filename: f.filename,
    purpose: f.purpose,
    status: 'processed',
    status_details: null,
  };
}

const lineError = (code: string, message: string, param: string | null, line: number | null): BatchLineError => ({
  code,
  message,
  param,
  line,
});

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** A required string field of a line: undefined when fine, else the error. */
function requireString(o: Record<string, unknown>, key: string, param: string, line: number) {
  if (!(key in o))
    return lineError('missing_required_parameter', `Missing required parameter: '${param}'.`, param, line);
  if (typeof o[key] !== 'string') {
    const msg = `Invalid type for '${param}': expected a string, but got ${typeName(o[key])} instead.`;
    return lineError('invalid_type', msg, param, line);
  }
  return undefined;
}

interface LineState {
  ids: Set<string>;
  model?: string;
  resolveModel: (name: string) => string | undefined;
}

/** The first problem of one request line (OpenAI's codes where it documents them), else undefined. */
function checkLine(text: string, line: number, st: LineState): BatchLineError | undefined {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    o = undefined;
  }
  if (!isRecord(o)) return lineError('invalid_json_line', 'This line is not parseable as valid JSON.', null, line);
  const bad = requireString(o, 'custom_id', 'custom_id', line) ?? requireString(o, 'method', 'method', line);
  if (bad) return bad;
  if (o.method !== 'POST') {
    return lineError(
      'invalid_value',
      `Invalid value for 'method': expected 'POST', got '${o.method}'.`,
      'method',
      line,
    );
  }
  const badUrl = requireString(o, 'url', 'url', line);
  if (badUrl) return badUrl;
  if (o.url !== CHAT_URL) {
    const msg = `The URL provided for this request does not match the batch endpoint (${CHAT_URL}).`;
    return lineError('url_mismatch', msg, 'url', line);
  }
  const body = o.body;
  if (!isRecord(body)) {
    if (body === undefined)
      return lineError('missing_required_parameter', "Missing required parameter: 'body'.", 'body', line);
    return lineError(
      'invalid_type',
      `Invalid type for 'body': expected an object, but got ${typeName(body)} instead.`,
      'body',
      line,
    );
  }
  const badModel = requireString(body, 'model', 'body.model', line);
  if (badModel) return badModel;
  const asked = body.model as string;
  const model = st.resolveModel(asked);
  if (model === undefined) {
    return lineError(
      'model_not_found',
      `The provided model '${asked}' is not supported by the Batch API.`,
      'body.model',
      line,
    );
  }
  if (st.model !== undefined && st.model !== model) {
    const msg = `The provided model '${asked}' does not match the model '${st.model}' of the other requests: a batch input file may name only one model.`;
    return lineError('model_mismatch', msg, 'body.model', line);
  }
  st.model = model;
  const id = o.custom_id as string;
  if (st.ids.has(id)) {
    const msg = `The custom_id '${id}' is a duplicate of another request. The custom_id parameter must be unique for each request in a batch.`;
    return lineError('duplicate_custom_id', msg, 'custom_id', line);
  }
  st.ids.add(id);
  return undefined;
}

/** Validates a batch input file against the limits and the served models. */
export function validateBatchInput(
  content: Buffer,
  limits: BatchLimits,
  resolveModel: (name: string) => string | undefined,
): BatchInput {
  const input: BatchInput = { errors: [], starts: [], ends: [] };
  if (content.length > limits.maxFileBytes) {
    const msg = `The input file is ${content.length} bytes; the limit is ${limits.maxFileBytes} bytes per batch input file (maxFileBytes).`;
    input.errors.push(lineError('file_too_large', msg, null, null));
    return input;
  }
  const st: LineState = { ids: new Set(), resolveModel };
  let line = 0;
  for (let start = 0; start < content.length;) {
    const lineStart = start;
    let end = content.indexOf(0x0a, start);
    if (end < 0) end = content.length;
    start = end + 1;
    line++;
    const lineEnd = end > lineStart && content[end - 1] === 0x0d ? end - 1 : end;
    const text = content.subarray(lineStart, lineEnd).toString('utf8');
    if (text.trim() === '') continue;
    input.starts.push(lineStart);
    input.ends.push(lineEnd);
    // Past the request limit only the count matters (the batch fails on it).
    if (input.starts.length > limits.maxRequestsPerFile || input.errors.length >= MAX_ERRORS) continue;
    const err = checkLine(text, line, st);
    if (err) input.errors.push(err);
  }
  if (input.starts.length === 0)
    input.errors.push(lineError('empty_file', 'The batch input file is empty.', null, null));
  if (input.starts.length > limits.maxRequestsPerFile) {
    const msg = `The input file has ${input.starts.length} requests; the limit is ${limits.maxRequestsPerFile} requests per batch (maxRequestsPerFile).`;
    input.errors.unshift(lineError('too_many_tasks', msg, null, null));
  }
  input.model = st.model;
  if (input.errors.length > 0) {
    // A failed batch never reads its lines.
    input.starts = [];
    input.ends = [];
  }
  return input;
}
