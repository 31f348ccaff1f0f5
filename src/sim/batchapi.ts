/**
 * The OpenAI Files and Batches routes: POST/GET /v1/files, GET/DELETE /v1/files/{id},
 * GET /v1/files/{id}/content, POST/GET /v1/batches, GET /v1/batches/{id},
 * POST /v1/batches/{id}/cancel. Errors are OpenAI's `{error: {message, type, param, code}}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { batchJson, type BatchEngine } from './batch.js';
import { sendBody } from './chat.js';
import { fileJson, validateBatchInput, type BatchLimits, type FileStore } from './files.js';
import { multipartBoundary, parseMultipart, readBytes } from './multipart.js';
import { errorJson } from './openai.js';
import { isRecord } from '../util/record.js';

export interface BatchApiDeps {
  files: FileStore;
  batches: BatchEngine;
  limits: BatchLimits;
  /** The served name of a model, undefined when not served. */
  modelName(name: string): string | undefined;
}

/** OpenAI's limit on any uploaded file; a larger upload is cut off. */
const MAX_UPLOAD_BYTES = 512 * 1024 * 1024;
const MAX_JSON_BYTES = 1024 * 1024;

const json = (res: ServerResponse, status: number, body: unknown): void =>
  sendBody(res, status, 'application/json', JSON.stringify(body));

function invalid(res: ServerResponse, status: number, message: string, param: string | null = null): void {
  sendBody(res, status, 'application/json', errorJson(message, 'invalid_request_error', param, null));
}

async function uploadFile(req: IncomingMessage, res: ServerResponse, deps: BatchApiDeps): Promise<void> {
  const boundary = multipartBoundary(req.headers['content-type']);
  if (boundary === undefined) {
    invalid(res, 400, 'The request must be multipart/form-data with the fields `purpose` and `file`.');
    return;
  }
  const parts = parseMultipart(await readBytes(req, MAX_UPLOAD_BYTES), boundary);
  if (parts === undefined) return invalid(res, 400, 'The multipart/form-data body could not be parsed.');
  const purpose = parts.find((p) => p.name === 'purpose')?.data.toString('utf8');
  const file = parts.find((p) => p.name === 'file');
  if (purpose === undefined) return invalid(res, 400, "Missing required parameter: 'purpose'.", 'purpose');
  if (purpose !== 'batch') {
    return invalid(
      res,
      400,
      `Invalid value for 'purpose': '${purpose}'. The simulator accepts only 'batch'.`,
      'purpose',
    );
  }
  if (file === undefined) return invalid(res, 400, "Missing required parameter: 'file'.", 'file');
  // Copied out of the request body, so the rest of the body is not held with it.
  const content = Buffer.from(file.data);
  const input = validateBatchInput(content, deps.limits, deps.modelName);
  const f = deps.files.add(file.filename ?? 'upload.jsonl', 'batch', content, input);
  deps.files.uploaded++;
  json(res, 200, fileJson(f));
}

function checkMetadata(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v)) return "Invalid type for 'metadata': expected an object.";
  const entries = Object.entries(v);
  if (entries.length > 16) return "Invalid 'metadata': at most 16 keys are allowed.";
  for (const [k, val] of entries) {
    if (k.length > 64) return `Invalid 'metadata': key '${k.slice(0, 64)}...' is longer than 64 characters.`;
    if (typeof val !== 'string') return `Invalid type for 'metadata.${k}': expected a string.`;
    if (val.length > 512) return `Invalid 'metadata.${k}': the value is longer than 512 characters.`;
  }
  return undefined;
}

async function createBatch(req: IncomingMessage, res: ServerResponse, deps: BatchApiDeps): Promise<void> {
  let body: unknown;
  try {
    body = JSON.parse((await readBytes(req, MAX_JSON_BYTES)).toString('utf8'));
  } catch {
    return invalid(res, 400, 'We could not parse the JSON body of your request.');
  }
  if (!isRecord(body)) return invalid(res, 400, 'The request body must be a JSON object.');
  for (const key of ['input_file_id', 'endpoint', 'completion_window']) {
    if (typeof body[key] !== 'string') return invalid(res, 400, `Missing required parameter: '${key}'.`, key);
  }
  if (body.endpoint !== '/v1/chat/completions') {
    const msg = `Invalid value for 'endpoint': '${body.endpoint}'. The simulator serves batches for '/v1/chat/completions' only.`;
    return invalid(res, 400, msg, 'endpoint');
  }
  if (body.completion_window !== '24h') {
    const msg = `Invalid value for 'completion_window': '${body.completion_window}'. Supported values are: '24h'.`;
    return invalid(res, 400, msg, 'completion_window');
  }
  const badMeta = checkMetadata(body.metadata);
  if (badMeta !== undefined) return invalid(res, 400, badMeta, 'metadata');
  const file = deps.files.get(body.input_file_id as string);
  if (file === undefined) return invalid(res, 404, `No such File object: ${body.input_file_id}`, 'input_file_id');
  if (file.purpose !== 'batch') {
    return invalid(
      res,
      400,
      `The file ${file.id} has purpose '${file.purpose}'; a batch needs purpose 'batch'.`,
      'input_file_id',
    );
  }
  json(res, 200, batchJson(deps.batches.create(file, (body.metadata as Record<string, string> | undefined) ?? null)));
}

function listBatches(res: ServerResponse, query: URLSearchParams, deps: BatchApiDeps): void {
  const rawLimit = query.get('limit');
  const limit = rawLimit === null ? 20 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    return invalid(res, 400, `Invalid 'limit': expected an integer from 1 to 100, got '${rawLimit}'.`, 'limit');
  }
  const page = deps.batches.list(limit, query.get('after') ?? undefined);
  if (page === undefined) return invalid(res, 404, `No batch found with id '${query.get('after')}'.`, 'after');
  const data = page.data.map(batchJson);
  json(res, 200, {
    object: 'list',
    data,
    first_id: page.data[0]?.id ?? null,
    last_id: page.data.at(-1)?.id ?? null,
    has_more: page.hasMore,
  });
}

/** An id from a URL path: percent-decoded, or as written when it is not valid percent-encoding. */
export function decodeId(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

function fileRoute(res: ServerResponse, method: string, rest: string, deps: BatchApiDeps): boolean {
  const [rawId, sub, ...extra] = rest.split('/');
  const id = decodeId(rawId);
  if (extra.length > 0 || (sub !== undefined && sub !== 'content')) return false;
  if (!((method === 'GET' && sub !== undefined) || ((method === 'GET' || method === 'DELETE') && sub === undefined))) {
    return false;
  }
  const f = deps.files.get(id);
  if (f === undefined) invalid(res, 404, `No such File object: ${id}`, 'id');
  else if (sub === 'content') {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': f.content.length });
    res.end(f.content);
  } else if (method === 'DELETE') {
    deps.files.delete(id);
    json(res, 200, { id, object: 'file', deleted: true });
  } else json(res, 200, fileJson(f));
  return true;
}

function batchRoute(res: ServerResponse, method: string, rest: string, deps: BatchApiDeps): boolean {
  const [rawId, sub, ...extra] = rest.split('/');
  if (extra.length > 0 || !((method === 'GET' && sub === undefined) || (method === 'POST' && sub === 'cancel'))) {
    return false;
  }
  const id = decodeId(rawId);
  const b = deps.batches.get(id);
  if (b === undefined) invalid(res, 404, `No batch found with id '${id}'.`, 'batch_id');
  else if (sub === 'cancel') {
    const c = deps.batches.cancel(b);
    if (c === undefined) invalid(res, 409, `Cannot cancel a batch with status '${b.status}'.`);
    else json(res, 200, batchJson(c));
  } else json(res, 200, batchJson(b));
  return true;
}

/** Serves a Files or Batches request; false when `path` is not one of their routes. */
export function handleBatchApi(
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  path: string,
  query: URLSearchParams,
  deps: BatchApiDeps,
): boolean {
  const fail = (): void => {
    res.destroy();
  };
  if (path === '/v1/files' && method === 'POST') void uploadFile(req, res, deps).catch(fail);
  else if (path === '/v1/files' && method === 'GET') {
    json(res, 200, { object: 'list', data: deps.files.list().map(fileJson), has_more: false });
  } else if (path === '/v1/batches' && method === 'POST') void createBatch(req, res, deps).catch(fail);
  else if (path === '/v1/batches' && method === 'GET') listBatches(res, query, deps);
  else if (path.startsWith('/v1/files/')) return fileRoute(res, method, path.slice('/v1/files/'.length), deps);
  else if (path.startsWith('/v1/batches/')) return batchRoute(res, method, path.slice('/v1/batches/'.length), deps);
  else return false;
  return true;
}
