import { tokenCost } from '../journal/cost.js';
import { countsAsFailure, recordUsage, type JobRecord } from '../journal/record.js';
import type { Group, Price } from '../types.js';
import { withRoom } from '../util/typed.js';

/** Everything the reports need about one suite x model, gathered in one pass over the journal. */
export interface Cell {
  suite: string;
  model: string;
  group: Group;
  provider: string;
  n: number;
  passed: number;
  scoreSum: number;
  /** Every error record, scored or not. */
  errors: number;
  /** Records with an answer from the model (ok, or an answer whose grading failed or was cut to nothing). */
  answered: number;
  /** Error records left out of the score (grader failures, truncated answers, stopped lanes): they say nothing about the model. */
  excluded: number;
  /** Answers cut by the token limit (finish_reason length), graded or not. */
  truncated: number;
  /** Empty answers (after removing reasoning), graded or not. */
  empty: number;
  /** Error count per `kind: message` (message cut to 160 characters), for the most frequent error. */
  errorCounts: Map<string, number>;
  cached: number;
  latencies: Samples;
  latencySumMs: number;
  /** Streamed answers' time to first token, to the first answer token, and decode tokens/s. */
  ttfts: Samples;
  ttftContents: Samples;
  decodeTps: Samples;
  /** Answers that waited for the model to load (their load is left out of latency and busy time). */
  coldLoads: number;
  inputTokens: number;
  outputTokens: number;
  /** Reasoning tokens over the answers whose usage reported them, and how many did. */
  reasoningTokens: number;
  reasoningAnswers: number;
  /** Token-priced cost, summed per record. */
  tokenCost: number;
  /**
   * Request intervals [start, end] in unix ms, uncached only (for busy-time cost), per server
   * that answered (0 unless shards each had their own; see ReportState).
   */
  intervals: Map<number, Samples>;
}

/**
 * One case: its metadata, and each model's scored answers to it. The scores are not kept here but
 * in the aggregate's per-model columns (ScoreColumns), five numbers per case and model: a run of
 * many cases would otherwise hold a Map and an array per case and model for its whole length.
 */
export class CaseRow {
  /** With --matrix-outputs: where each model's answer (repeat 0) lies in the journal, read back when written. */
  outputs?: Map<string, OutputRef>;

  constructor(
    readonly suite: string,
    readonly caseId: string,
    readonly caseIndex: number,
    readonly category: string,
    readonly expected: unknown,
    private readonly scores: ScoreColumns,
    /** This case's place in the score columns. */
    readonly slot: number,
  ) {}

  /** A model's scored answers to this case; undefined when it has none. */
  entry(model: string): CaseEntry | undefined {
    return this.scores.get(model, this.slot);
  }

  /** Every model with scored answers to this case, in the order models first appeared in the run. */
  *entries(): Generator<[string, CaseEntry]> {
    for (const model of this.scores.models()) {
      const e = this.scores.get(model, this.slot);
      if (e) yield [model, e];
    }
  }
}

/** [score sum, count, passed count, lowest score, highest score] per (case slot, model), in a growable Float64Array per model. */
class ScoreColumns {
  private readonly cols = new Map<string, Float64Array>();

  models(): IterableIterator<string> {
    return this.cols.keys();
  }

  get(model: string, slot: number): CaseEntry | undefined {
    const c = this.cols.get(model);
    const i = slot * 5;
    if (!c || i >= c.length || c[i + 1] === 0) return undefined;
    return [c[i], c[i + 1], c[i + 2], c[i + 3], c[i + 4]];
  }

  add(model: string, slot: number, score: number, passed: boolean): void {
    const i = slot * 5;
    const had = this.cols.get(model);
    const c = withRoom(had ?? new Float64Array(5 * 1024), i + 5);
    if (c !== had) this.cols.set(model, c);
    if (c[i + 1] === 0) {
      c[i + 3] = score;
      c[i + 4] = score;
    }
    c[i] += score;
    c[i + 1] += 1;
    c[i + 2] += passed ? 1 : 0;
    if (score < c[i + 3]) c[i + 3] = score;
    if (score > c[i + 4]) c[i + 4] = score;
  }
}

/**
 * A record's place in records.jsonl, [byte offset, length]: matrix.csv, results.xlsx and
 * report.html read an answer back when they write it, so no output is held in memory
 * (a thousand 1 MiB answers would be gigabytes of strings).
 */
export type OutputRef = readonly [offset: number, bytes: number];

export interface Aggregate {
  runId: string;
  cells: Map<string, Cell>;
  /** Every case with a scored answer; in suite and case order once canonicalized. */
  cases: CaseRow[];
  suites: string[];
  models: { id: string; group: Group; provider: string }[];
  records: number;
  ok: number;
  errors: number;
  /** Reads an answer back by its OutputRef (set by writeReports while it writes; absent otherwise). */
  readOutput?: (ref: OutputRef) => string;
}

/** One model's scored answers to one case: [score sum, count, passed count, lowest score, highest score]. */
export type CaseEntry = [number, number, number, number, number];

export const cellKey = (suite: string, model: string) => `${suite}\u0000${model}`;

export class Aggregator {
  readonly agg: Aggregate;
  private readonly scores = new ScoreColumns();
  /** suite -> case id -> row: the ids are the rows' own strings, so the index adds no key per case. */
  private readonly index = new Map<string, Map<string, CaseRow>>();

  constructor(
    runId: string,
    private readonly keepOutputs: boolean,
  ) {
    this.agg = { runId, cells: new Map(), cases: [], suites: [], models: [], records: 0, ok: 0, errors: 0 };
  }

  /**
   * `machine`: which server answered (see ReportState); busy time is counted per server.
   * `offset`, `bytes`: where the record lies in records.jsonl (kept with --matrix-outputs).
   */
  add(r: JobRecord, priceOf: (model: string) => Price | undefined, machine = 0, offset = -1, bytes = 0): void {
    const a = this.agg;
    a.records++;
    if (!a.suites.includes(r.suite)) a.suites.push(r.suite);
    if (!a.models.some((m) => m.id === r.model)) a.models.push({ id: r.model, group: r.group, provider: r.provider });
    const key = cellKey(r.suite, r.model);
    let c = a.cells.get(key);
    if (!c) {
      c = {
        suite: r.suite,
        model: r.model,
        group: r.group,
        provider: r.provider,
        n: 0,
        passed: 0,
        scoreSum: 0,
        errors: 0,
        answered: 0,
        excluded: 0,
        truncated: 0,
        empty: 0,
        errorCounts: new Map(),
        cached: 0,
        latencies: new Samples(),
        latencySumMs: 0,
        ttfts: new Samples(),
        ttftContents: new Samples(),
        decodeTps: new Samples(),
        coldLoads: 0,
        inputTokens: 0,
        outputTokens: 0,
        reasoningTokens: 0,
        reasoningAnswers: 0,
        tokenCost: 0,
        intervals: new Map(),
      };
      a.cells.set(key, c);
    }
    if (r.cached) c.cached++;
    if (r.status === 'ok' || r.output !== undefined) c.answered++;
    if (r.status === 'ok' ? r.finish_reason === 'length' : r.error.kind === 'truncated') c.truncated++;
    if (r.status === 'ok' ? r.output.trim() === '' : r.error.kind === 'truncated') c.empty++;
    // A cold load is the server starting up, not answering: left out of busy time and latency.
    const load = r.cold_load ? (r.load_ms ?? 0) : 0;
    if (r.cold_load) c.coldLoads++;
    if (!r.cached && r.t_end >= r.t_start) {
      const start = Math.min(r.t_end, r.t_start + load);
      let list = c.intervals.get(machine);
      if (!list) c.intervals.set(machine, (list = new Samples()));
      list.push(start);
      list.push(r.t_end);
    }
    if (r.status === 'error') {
      a.errors++;
      c.errors++;
      const key = `${r.error.kind}: ${r.error.message.slice(0, 160)}`;
      c.errorCounts.set(key, (c.errorCounts.get(key) ?? 0) + 1);
      if (!countsAsFailure(r.error.kind)) {
        c.excluded++;
        return;
      }
    } else {
      a.ok++;
      const latency = Math.max(0, r.latency_ms - load);
      c.latencies.push(latency);
      c.latencySumMs += latency;
      if (r.ttft_ms !== undefined) c.ttfts.push(Math.max(0, r.ttft_ms - load));
      if (r.ttft_content_ms !== undefined) c.ttftContents.push(Math.max(0, r.ttft_content_ms - load));
      if (r.decode_tps !== undefined) c.decodeTps.push(r.decode_tps);
      c.inputTokens += r.input_tokens ?? 0;
      c.outputTokens += r.output_tokens ?? 0;
      if (r.reasoning_tokens !== undefined) {
        c.reasoningTokens += r.reasoning_tokens;
        c.reasoningAnswers++;
      }
      c.tokenCost += tokenCost(priceOf(r.model), recordUsage(r)) ?? 0;
    }
    const score = r.grade.score;
    c.n++;
    c.scoreSum += score;
    if (r.grade.passed) c.passed++;
    this.addToCase(r, score, offset, bytes);
  }

  private addToCase(r: JobRecord, score: number, offset: number, bytes: number): void {
    let bySuite = this.index.get(r.suite);
    if (!bySuite) this.index.set(r.suite, (bySuite = new Map()));
    let row = bySuite.get(r.case_id);
    if (!row) {
      const slot = this.agg.cases.length;
      row = new CaseRow(r.suite, r.case_id, r.case_index, r.category, r.expected, this.scores, slot);
      if (this.keepOutputs) row.outputs = new Map();
      bySuite.set(r.case_id, row);
      this.agg.cases.push(row);
    }
    this.scores.add(r.model, row.slot, score, r.grade.passed);
    if (row.outputs && r.repeat === 0 && offset >= 0) row.outputs.set(r.model, [offset, bytes]);
  }
}

/**
 * Puts an aggregate in a canonical order: suites and models by the given ranks (config order; by
 * name where absent), cases by suite and then position in the suite.
 * Records reach the journal in the order answers happen to finish; the rows of matrix.csv and the
 * sums behind every statistic follow this order instead, so the same answers give the same files
 * (to the last digit) from one run, resume or merge to the next.
 */
export function canonicalize(
  agg: Aggregate,
  suiteRank?: ReadonlyMap<string, number>,
  modelRank?: ReadonlyMap<string, number>,
): void {
  const byRank = (rank: ReadonlyMap<string, number> | undefined) => (x: string, y: string) =>
    (rank?.get(x) ?? Infinity) - (rank?.get(y) ?? Infinity) || (x < y ? -1 : x > y ? 1 : 0);
  agg.suites.sort(byRank(suiteRank));
  const modelOrder = byRank(modelRank);
  agg.models.sort((x, y) => modelOrder(x.id, y.id));
  const suitePos = new Map(agg.suites.map((s, i) => [s, i]));
  agg.cases.sort(
    (x, y) =>
      suitePos.get(x.suite)! - suitePos.get(y.suite)! ||
      x.caseIndex - y.caseIndex ||
      (x.caseId < y.caseId ? -1 : x.caseId > y.caseId ? 1 : 0),
  );
}

/**
 * Busy time of some cells, in ms: per server, the length of the union of its request intervals;
 * summed over servers. Also the number of requests the intervals stand for.
 */
export function busyTime(cells: Iterable<Cell>): { ms: number; requests: number } {
  const byShard = new Map<number, Samples>();
  let requests = 0;
  for (const c of cells) {
    for (const [shard, list] of c.intervals) {
      requests += list.length / 2;
      let all = byShard.get(shard);
      if (!all) byShard.set(shard, (all = new Samples()));
      for (const x of list.values()) all.push(x);
    }
  }
  let ms = 0;
  for (const list of byShard.values()) ms += unionLength(list.values());
  return { ms, requests };
}

/** Total length of the union of [start, end] intervals (flat array of pairs), in ms. */
function unionLength(flat: ArrayLike<number>): number {
  const n = flat.length / 2;
  if (!n) return 0;
  const idx = Array.from({ length: n }, (_, i) => i).sort((x, y) => flat[2 * x] - flat[2 * y]);
  let total = 0;
  let curStart = flat[2 * idx[0]];
  let curEnd = flat[2 * idx[0] + 1];
  for (let k = 1; k < n; k++) {
    const s = flat[2 * idx[k]];
    const e = flat[2 * idx[k] + 1];
    if (s > curEnd) {
      total += curEnd - curStart;
      curStart = s;
      curEnd = e;
    } else if (e > curEnd) curEnd = e;
  }
  return total + (curEnd - curStart);
}

/**
 * A growing list of numbers in a Float64Array: a cell keeps one number per answer (latency, TTFT,
 * ...) for its percentiles, and a typed array holds them outside the garbage-collected heap, whose
 * size sets how far V8 lets the heap grow before it collects.
 */
class Samples {
  private data = new Float64Array(64);
  length = 0;

  push(x: number): void {
    this.data = withRoom(this.data, this.length + 1);
    this.data[this.length++] = x;
  }

  /** The numbers pushed, as a view (no copy). */
  values(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}
