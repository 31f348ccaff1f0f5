import type { ModelConfig } from '../config/config.js';
import { ProviderError } from '../errors.js';
import type { GradeContext } from '../graders/grader.js';
import { gradeSafely } from '../graders/index.js';
import { tokenCost } from '../journal/cost.js';
import type { AnswerTimings, ErrorRecord, JobRecord } from '../journal/record.js';
import type { ChatMessage, Completion, Grade } from '../types.js';
import type { ResponseCache } from './cache.js';
import type { Attempted, Lane } from './lane.js';
import { findJudge } from './judges.js';
import type { Job } from './plan.js';

/** What a job needs besides itself: its lane, the cache, and a way for judges to reach other lanes. */
export interface JobContext {
  runId: string;
  lane: Lane;
  cache?: ResponseCache;
  ask: NonNullable<GradeContext['ask']>;
  /** The run's abort (grace period over): a judge cut off by it leaves the job for a resume. */
  abort?: AbortSignal;
  /** Secret values this model's requests carry (key, header values, URL credentials): never stored. */
  secrets?: readonly string[];
  /** An answer already stored for a job whose grading failed: graded again, the model is not asked. */
  storedAnswer?: (jobId: string) => ErrorRecord | undefined;
}

/** An answer and where it came from. */
interface Answered {
  attempted: Attempted;
  /** Secret values cut from the answer. */
  redacted?: number;
  cached: boolean;
  startedAt: number;
  finishedAt: number;
}

/**
 * Asks, grades and builds the record of one job. Resolves to undefined when the run stopped
 * before the job had an answer (not recorded, so a resume runs it).
 */
export async function runJob(job: Job, ctx: JobContext): Promise<JobRecord | undefined> {
  const stored = ctx.storedAnswer?.(job.id);
  const answered = stored ? fromRecord(stored) : await ask(job, ctx);
  if (!answered) return undefined;
  redactAnswer(answered, ctx.secrets);
  const a = answered.attempted;
  if (a.status !== 'ok')
    return toRecord(job, answered, { score: 0, passed: false, reason: `no answer: ${a.error.kind}` }, ctx.runId);
  const c = a.completion;
  if (c.text.trim() === '' && c.finishReason === 'length') {
    const spent = c.outputTokens === undefined ? '' : ` after ${c.outputTokens} output tokens`;
    const why = `the answer was cut to nothing by the token limit${spent} (finish_reason length${c.reasoning ? ', all of it spent on reasoning' : ''}): raise params.max_tokens`;
    return toRecord(job, answered, { score: 0, passed: false, reason: why }, ctx.runId, {
      kind: 'truncated',
      message: why,
    });
  }
  const grade = await gradeSafely(job.suite.graderOf(job.case), c.text, gradeContext(job, c, ctx));
  if (!grade.error) return toRecord(job, answered, grade, ctx.runId);
  // A judge cut off by the run's abort leaves the job for a resume.
  if (ctx.abort?.aborted) return undefined;
  // The grading failed, not the model: an error record that keeps the answer (regraded on --retry-errors).
  return toRecord(job, answered, grade, ctx.runId, { kind: 'grader', message: grade.reason });
}

/**
 * A model that echoes what it was sent (a key in a header, a password in the URL) must not put it
 * in records.jsonl or a CSV: known secret values are cut from the answer and counted (`redacted`).
 */
function redactAnswer(answered: Answered, secrets: readonly string[] | undefined): void {
  const a = answered.attempted;
  if (a.status !== 'ok' || !secrets?.length) return;
  let n = 0;
  const clean = (text: string | undefined): string | undefined => {
    if (!text) return text;
    let t: string = text;
    for (const s of secrets) {
      const parts: string[] = t.split(s);
      n += parts.length - 1;
      t = parts.join('[redacted]');
    }
    return t;
  };
  const text = clean(a.completion.text)!;
  const reasoning = clean(a.completion.reasoning);
  if (n) {
    a.completion = { ...a.completion, text, ...(reasoning === undefined ? {} : { reasoning }) };
    answered.redacted = n;
  }
}

/** A stored answer as if just received (no request, no attempt). */
function fromRecord(r: ErrorRecord): Answered {
  const completion: Completion = {
    text: r.output ?? '',
    latencyMs: r.latency_ms ?? 0,
    ...(r.reasoning === undefined ? {} : { reasoning: r.reasoning }),
    ...(r.input_tokens === undefined ? {} : { inputTokens: r.input_tokens }),
    ...(r.output_tokens === undefined ? {} : { outputTokens: r.output_tokens }),
    ...(r.reasoning_tokens === undefined ? {} : { reasoningTokens: r.reasoning_tokens }),
    ...(r.finish_reason === undefined ? {} : { finishReason: r.finish_reason }),
  };
  return {
    attempted: { status: 'ok', completion, attempts: r.attempts },
    cached: r.cached,
    startedAt: r.t_start,
    finishedAt: r.t_end,
  };
}

/** What a case sends: a conversation as written; a single prompt as before (same messages, same cache key). */
export function messagesOf(c: Job['case']): ChatMessage[] {
  const messages: ChatMessage[] = c.messages ? [...c.messages] : [];
  if (!c.messages && c.system) messages.push({ role: 'system', content: c.system });
  if (!c.messages) messages.push({ role: 'user', content: c.prompt });
  return messages;
}

async function ask(job: Job, ctx: JobContext): Promise<Answered | undefined> {
  const messages = messagesOf(job.case);
  const startedAt = Date.now();
  const info = {
    id: job.id,
    suite: job.suite.name,
    caseId: job.case.id,
    caseIndex: job.caseIndex,
    repeat: job.repeat,
    vars: job.case.vars,
  };
  let r: { attempted: Attempted; cached: boolean };
  try {
    r = await callThroughCache(ctx.lane, job.model, messages, job.repeat, info, ctx.cache);
  } catch (err) {
    // The lane rejects only when the run is stopping: not recorded, so a resume runs it.
    if (ctx.lane.stopping) return undefined;
    const message = err instanceof Error ? err.message : String(err);
    r = { attempted: { status: 'error', error: { kind: 'unknown', message }, attempts: 1 }, cached: false };
  }
  return { ...r, startedAt, finishedAt: Date.now() };
}

function gradeContext(job: Job, c: Completion, ctx: JobContext): GradeContext {
  return {
    case: job.case,
    completion: {
      latencyMs: c.latencyMs,
      inputTokens: c.inputTokens,
      outputTokens: c.outputTokens,
      costUsd: tokenCost(job.model.price, { ...c, batched: c.batchId !== undefined }),
    },
    ask: ctx.ask,
  };
}

/**
 * The journal line of a finished job. Built as one object, fields added in the order they are
 * written (no spread copies: this runs once per job and its garbage is the run's garbage).
 */
function toRecord(
  job: Job,
  answered: Answered,
  grade: Grade,
  runId: string,
  failure?: { kind: 'grader' | 'truncated'; message: string },
): JobRecord {
  const m = job.model;
  const { attempted: a, cached, startedAt, finishedAt } = answered;
  const r: Record<string, unknown> = {
    v: 1,
    job_id: job.id,
    run_id: runId,
    suite: job.suite.name,
    case_id: job.case.id,
    case_index: job.caseIndex,
    category: job.case.category,
    model: m.id,
    group: m.group,
    provider: m.provider,
    model_name: m.model,
    repeat: job.repeat,
    prompt: job.case.prompt,
  };
  if (job.case.system) r.system = job.case.system;
  if (job.case.expected !== undefined) r.expected = job.case.expected;
  r.grader = job.suite.graderName(job.case);
  r.grade = grade;
  r.attempts = a.attempts;
  r.cached = cached;
  r.started_at = new Date(startedAt).toISOString();
  r.finished_at = new Date(finishedAt).toISOString();
  r.t_start = startedAt;
  r.t_end = finishedAt;
  if (answered.redacted) r.redacted = answered.redacted;
  if (job.shard) r.shard = job.shard;
  if (job.seqPos !== undefined) r.seq_pos = job.seqPos;
  r.status = a.status === 'ok' && !failure ? 'ok' : 'error';
  if (a.status === 'error') r.error = a.error;
  else {
    if (failure) r.error = failure;
    addAnswer(r, a.completion);
    if (!failure && a.lastErrorKind) r.last_error_kind = a.lastErrorKind;
  }
  return r as unknown as JobRecord;
}

/** What a record keeps of a completion, and the stream's and the server's timings of it. */
function addAnswer(r: Record<string, unknown>, c: Completion): void {
  r.output = c.text;
  r.latency_ms = Math.round(c.latencyMs * 10) / 10;
  if (c.inputTokens !== undefined) r.input_tokens = c.inputTokens;
  if (c.outputTokens !== undefined) r.output_tokens = c.outputTokens;
  if (c.reasoningTokens !== undefined) r.reasoning_tokens = c.reasoningTokens;
  if (c.finishReason !== undefined) r.finish_reason = c.finishReason;
  if (c.reasoning) r.reasoning = c.reasoning;
  if (c.batchId) r.batch_id = c.batchId;
  const t = c.serverTimings;
  const timings: AnswerTimings = {
    ttft_ms: c.ttftMs,
    ttft_content_ms: c.ttftContentMs,
    decode_tps: c.decodeTps,
    load_ms: t?.loadMs,
    prompt_eval_ms: t?.promptEvalMs,
    eval_ms: t?.evalMs,
    cold_load: t?.coldLoad ? true : undefined,
  };
  for (const [k, v] of Object.entries(timings)) if (v !== undefined) r[k] = v;
}

/** A grader's way to ask another configured model (a judge), through that model's lane and cache. */
export function makeAsk(
  models: readonly ModelConfig[],
  laneOf: (m: ModelConfig) => Lane,
  cache: ResponseCache | undefined,
): NonNullable<GradeContext['ask']> {
  return async (ref: string, messages: ChatMessage[]): Promise<Completion> => {
    const m = findJudge(models, ref);
    if (!m) {
      throw new ProviderError(
        'not_found',
        `judge '${ref}' is not a model in the config (add it, with judgeOnly: true to keep it out of the results)`,
      );
    }
    const r = await callThroughCache(laneOf(m), m, messages, 0, undefined, cache);
    if (r.attempted.status === 'error') throw new ProviderError(r.attempted.error.kind, r.attempted.error.message);
    return r.attempted.completion;
  };
}

async function callThroughCache(
  lane: Lane,
  m: ModelConfig,
  messages: ChatMessage[],
  repeat: number,
  job: Parameters<Lane['request']>[1],
  cache: ResponseCache | undefined,
): Promise<{ attempted: Attempted; cached: boolean }> {
  const key = cache?.enabledFor(m) ? cache.key(m, messages, repeat) : undefined;
  const hit = key ? cache!.get(key) : undefined;
  if (hit) return { attempted: { status: 'ok', completion: hit, attempts: 0 }, cached: true };
  const attempted = await lane.request(messages, job);
  if (key && attempted.status === 'ok') cache!.put(key, attempted.completion);
  return { attempted, cached: false };
}
