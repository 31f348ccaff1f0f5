import type { BatchEntry, ChatMessage, ChatRequest, Completion, ErrorKind, Group, SamplingParams } from '../types.js';

/**
 * What a provider needs to know about the model it serves. The config layer's `ModelConfig`
 * extends this with what only the scheduler and the reports use (lane limits, group, price).
 * Holds no secret: only the name of the variable holding the key.
 */
export interface ProviderModel {
  /** Label in every output (unique per run). */
  id: string;
  /** The provider's model name (may contain colons); for `replay`, the recorded file. */
  model: string;
  /** The server: a base URL (`baseURL` protocols) or a host (`host` protocols); absent for replay. */
  endpoint?: string;
  /** Environment variable holding the API key, when the protocol takes one. */
  apiKeyEnv?: string;
  params: SamplingParams;
  timeoutMs: number;
  /** `false`: ask for whole answers instead of streamed ones (absent: stream where the protocol can). */
  stream?: boolean;
  /** Largest response body (decompressed) a request may hold; default 16 MiB. */
  maxResponseBytes?: number;
  /** Said with an authentication failure (e.g. which region's endpoint a key belongs to). */
  authHint?: string;
  /** Extra HTTP headers; values may hold `${VAR}` (read from the environment when the provider is built). */
  headers?: Record<string, string>;
  /** Options of the replay provider. */
  replay?: { idField?: string; outputField?: string; idTemplate?: string };
  /** Batch mode: jobs go through the vendor's Batch API (files of at most these many requests and bytes). */
  batch?: BatchSettings;
}

/** A model's batch settings. */
export interface BatchSettings {
  maxRequests?: number;
  maxBytes?: number;
  /** The path each line of the input file targets (default /v1/chat/completions; Zhipu: /v4/chat/completions). */
  endpoint?: string;
  /** First wait between status checks, seconds; grows 1.5 times up to maxPollS. */
  pollS: number;
  maxPollS: number;
}

/**
 * Turns a chat request into a completion, or throws a `ProviderError` whose `kind` says
 * what went wrong. Providers never retry: the lane owns retries, so SDK retries are off.
 */
export interface Provider {
  readonly model: ProviderModel;
  complete(req: ChatRequest): Promise<Completion>;
  /** Secret values its requests carry (key, header values, URL credentials): cut from anything stored. */
  readonly secrets?: readonly string[];
  /**
   * Lane limits the provider needs instead of the model's: one that holds requests until a batch
   * returns wants every job in flight, a day per request, and no live rate budget.
   */
  readonly lane?: { concurrency: number; timeoutMs: number; unmetered: boolean };
  /** What its requests wait for, when not an answer (batches at the vendor), for the progress line. */
  status?(): string | undefined;
}

export interface ProviderEnv {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Where a model in batch mode keeps what must survive a crash (a run directory); without it, no batching. */
  batches?: BatchStore;
}

/**
 * The run directory as a batching provider sees it: its input files, the batches that exist
 * (recorded the moment they do, so a resume collects them instead of paying again), and which
 * jobs already have a record.
 */
export interface BatchStore {
  /** The run directory: input files go to its `batches/`, named relative to it in the entries. */
  dir: string;
  runId: string;
  /** Batches made by earlier invocations of the run (every model's). */
  known: readonly BatchEntry[];
  /** Records a new or changed batch before anything depends on it. */
  save(entry: BatchEntry): void;
  /** Whether a job already has a record (with --retry-errors an errored one asks again, in a new batch). */
  recorded(jobId: string): boolean;
  /** A line for the user (a batch created, collected, left running, lines that name no job of it). */
  notice(line: string): void;
  /** The run stops starting requests: nothing more is sent to the vendor. */
  stop?: AbortSignal;
}

/**
 * An endpoint's `user:password@` credentials as a Basic Authorization header, and the endpoint
 * without them (fetch refuses URLs that carry credentials, and no output may show them).
 */
function splitCredentials(endpoint: string): { url: string; basic?: string; password?: string } {
  try {
    const u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `http://${endpoint}`);
    if (!u.username && !u.password) return { url: endpoint };
    const user = decodeURIComponent(u.username);
    const password = decodeURIComponent(u.password);
    u.username = '';
    u.password = '';
    const url = u.href.replace(/\/$/, endpoint.endsWith('/') ? '/' : '');
    return { url, basic: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`, password };
  } catch {
    return { url: endpoint };
  }
}

/** What a model's requests authenticate with, read once from the config and the environment. */
interface RequestAuth {
  /** The API key (empty when none). */
  key: string;
  /** The endpoint without `user:password@`. */
  url: string;
  /** Basic auth from URL credentials, sent only when there is no key (a bearer key wins). */
  basic?: string;
  /** The extra headers, `${VAR}` read. */
  headers: Record<string, string>;
  /** Every secret value among these (key, header values, URL credentials): never shown or stored. */
  secrets: string[];
}

export function requestAuth(model: ProviderModel, env: NodeJS.ProcessEnv, defaultEndpoint = ''): RequestAuth {
  const key = (model.apiKeyEnv && env[model.apiKeyEnv]?.trim()) || '';
  const creds = splitCredentials(model.endpoint ?? defaultEndpoint);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(model.headers ?? {})) headers[name] = expandEnv(value, env);
  const secrets = [key, ...Object.values(headers), creds.password ?? '', creds.basic ?? ''].filter(
    (s) => s.length >= 4,
  );
  return { key, url: creds.url, ...(creds.basic && !key ? { basic: creds.basic } : {}), headers, secrets };
}

/** `${NAME}` references to environment variables in a config value. */
const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** The environment variables a value refers to as `${NAME}`. */
export function envRefs(value: string): string[] {
  return [...value.matchAll(ENV_REF)].map((m) => m[1]);
}

/** A value with its `${NAME}` references read from the environment (unset: empty). */
function expandEnv(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(ENV_REF, (_, v: string) => env[v] ?? '');
}

export type ProviderFactory = (model: ProviderModel, env: ProviderEnv) => Provider;

/** How a protocol names its server in the config. */
export interface EndpointSpec {
  /** The config field: `baseURL` (a URL with its path, OpenAI style) or `host` (Ollama style). */
  field: 'baseURL' | 'host';
  /** Used when neither the model nor its preset gives one. */
  default?: string;
  /** Environment variable read before the default (e.g. OLLAMA_HOST). */
  env?: string;
  /** A host may leave out the scheme and port (`gpu-box` means http://gpu-box:DEFAULT_PORT). */
  bare?: { port: number };
}

/**
 * A wire protocol, as every other layer sees it: config reads the endpoint field and key needs,
 * the scheduler the lane defaults, the runner `create`. Adding a protocol is one file exporting
 * one of these and one line in the registry (providers/index.ts).
 */
export interface ProviderDescriptor {
  readonly protocol: string;
  /** One line for `gapbench models`. */
  readonly description: string;
  /** Absent: the protocol talks to no server (replay). */
  readonly endpoint?: EndpointSpec;
  /**
   * `required`: a key must be set unless the endpoint is a local server; `none`: never sent
   * unless the model names an apiKeyEnv (then it must be set, and is sent as a bearer token).
   */
  readonly key: 'required' | 'none';
  /** The protocol streams answers (and `stream: false` turns it off); absent: `stream: true` is a config error. */
  readonly streams?: boolean;
  /** Default group of a model used as `protocol:model` without a preset; absent: `group` is required. */
  readonly group?: Group;
  /** Lane defaults, given whether the endpoint is on this machine or a private network. */
  defaults(local: boolean): { concurrency: number; timeoutMs: number; cache: boolean };
  readonly create: ProviderFactory;
  /** A cheap check before the run, whose failure is a usage error (replay: the file loads). */
  preflight?(model: ProviderModel, env: ProviderEnv): void;
  /** The protocol's Batch API (files uploaded, answered within a day at a lower price); absent: none. */
  readonly batch?: BatchFactory;
}

type BatchFactory = (model: ProviderModel, env: ProviderEnv) => BatchApi;

/** A batch as the vendor reports it. */
export interface BatchInfo {
  id: string;
  /** validating, in_progress, finalizing, completed, failed, expired, cancelling, cancelled. */
  status: string;
  inputFileId: string;
  outputFileId?: string;
  errorFileId?: string;
  /** Why the batch failed (its own errors, e.g. a file over a limit), one line. */
  errors?: string;
  counts?: { total: number; completed: number; failed: number };
}

/** One line of a batch's output or error file. */
export type BatchAnswer =
  | { customId: string; completion: Completion }
  | { customId: string; error: { kind: ErrorKind; message: string } }
  /** A line that is not a result at all (not JSON, no custom_id): reported, never lost silently. */
  | { unreadable: string };

/**
 * A vendor's Batch API, as the runner uses it: the input file's lines, upload, create, status,
 * and the results. Errors are ProviderErrors, classified as a live request's are.
 */
export interface BatchApi {
  /** Most requests and bytes one input file may hold (the vendor's limits). */
  readonly maxRequests: number;
  readonly maxBytes: number;
  /** One request as a line of the input file (JSON, no newline). */
  line(customId: string, messages: ChatMessage[], params: SamplingParams): string;
  /** Uploads an input file; returns its file id. */
  upload(path: string, signal?: AbortSignal): Promise<string>;
  create(inputFileId: string, metadata: Record<string, string>, signal?: AbortSignal): Promise<BatchInfo>;
  retrieve(batchId: string, signal?: AbortSignal): Promise<BatchInfo>;
  /** The batch created from this input file, if any (a crash between creating it and recording its id). */
  findByInputFile(inputFileId: string, signal?: AbortSignal): Promise<BatchInfo | undefined>;
  /** The lines of an output or error file, one at a time. */
  results(fileId: string, signal?: AbortSignal): AsyncIterable<BatchAnswer>;
}
