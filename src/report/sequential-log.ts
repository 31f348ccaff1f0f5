/**
 * A sequential run's commit log (issue 27): cases enter each suite's confidence sequence in the
 * order of the run's pre-drawn permutation, never in the order answers happen to finish. A case
 * arriving early waits (the reorder buffer) until every earlier position of its suite has entered:
 * committing in completion order lets slow wrong answers pile up at the end and biases the
 * sequence. The runner feeds it live (src/run/sequential-gate.ts); the reports replay it from
 * records.jsonl with the same code, so both stop at the same case for the same reason.
 */
import type { SequentialSettings } from '../journal/manifest.js';
import { GapSequence, sequenceAlpha, stopReason, type StopReason, type StopRule } from './sequential.js';

/** Why a suite stopped: the rule's reasons, or `interrupted` (Ctrl-C, a deciding lane stopped) before it fired. */
export type RunStopReason = StopReason | 'interrupted';

/** The models whose per-case difference (closed mean − open mean) drives the stop rule. */
export interface Deciding {
  closed: string[];
  open: string[];
}

/**
 * The deciding comparison: the first pre-declared pair, else the two groups when each has one
 * model (that pair is declared by construction). Undefined when neither: the best pair is chosen
 * from the data, which breaks the sequence's validity.
 */
export function decidingOf(
  models: readonly { id: string; group: string; judgeOnly?: boolean }[],
  pairs: readonly { closed: string; open: string }[] | undefined,
): Deciding | undefined {
  if (pairs?.length) return { closed: [pairs[0].closed], open: [pairs[0].open] };
  const bench = models.filter((m) => !m.judgeOnly);
  const closed = bench.filter((m) => m.group === 'closed').map((m) => m.id);
  const open = bench.filter((m) => m.group === 'open').map((m) => m.id);
  return closed.length === 1 && open.length === 1 ? { closed, open } : undefined;
}

/** The stop rule a suite of a sequential run declared (sequential.ts's StopRule) from the manifest's settings. */
function ruleOf(s: SequentialSettings, alpha: number, nMax: number, suites: number): StopRule {
  return {
    alpha,
    untilDecided: s.until === 'decided',
    ...(s.margin_pp !== undefined ? { marginPp: s.margin_pp } : {}),
    ...(s.until === 'ci' && s.ci_pp !== undefined ? { targetWidthPp: s.ci_pp } : {}),
    minCases: s.min_cases,
    nMax,
    finalTest: s.final_test,
    suites,
  };
}

/** What the log needs of a record: its case's position and its score (undefined: an error left out). */
interface SeqAnswer {
  suite: string;
  caseId: string;
  model: string;
  repeat: number;
  pos: number;
  score: number | undefined;
}

/** One suite's sequence: where its commit point is, what entered, and why it stopped. */
export interface SuiteLog {
  name: string;
  nMax: number;
  seq: GapSequence;
  /** Positions settled (entered, or left out because a deciding answer was an excluded error). */
  settled: number;
  /** Case id -> its index in the sequence (the cases that entered, in commit order). */
  entered: Map<string, number>;
  /** Positions with at least one answer. */
  dispatched: Set<number>;
  reason?: RunStopReason;
  /** The rule it stops by. */
  rule: StopRule;
  /** Answers that arrived early, by position: model -> repeat -> score. */
  waiting: Map<number, { caseId: string; answers: Map<string, Map<number, number | undefined>> }>;
}

interface LogOptions {
  settings: SequentialSettings;
  alpha: number;
  suites: readonly { name: string; nMax: number }[];
  deciding: Deciding;
  /** Models each case waits for before it enters (live: every benchmarked model; replay: the deciding ones). */
  required: readonly string[];
  repeat: number;
}

export class CommitLog {
  readonly suites = new Map<string, SuiteLog>();
  readonly required: Set<string>;
  /** Called when a suite's rule fires (live runs stop dispatching its cases). */
  onStop?: (suite: SuiteLog) => void;

  readonly deciding: Deciding;

  constructor(private readonly opts: LogOptions) {
    this.deciding = opts.deciding;
    this.required = new Set([...opts.required, ...opts.deciding.closed, ...opts.deciding.open]);
    for (const s of opts.suites) {
      const rule = ruleOf(opts.settings, opts.alpha, s.nMax, opts.suites.length);
      const log: SuiteLog = {
        name: s.name,
        nMax: s.nMax,
        rule,
        seq: new GapSequence({ alpha: sequenceAlpha(rule) }),
        settled: 0,
        entered: new Map(),
        dispatched: new Set(),
        waiting: new Map(),
      };
      this.suites.set(s.name, log);
      if (s.nMax === 0) log.reason = 'n_max';
    }
  }

  /** A suite whose rule fired takes no more cases; answers for it are recorded but not committed. */
  add(a: SeqAnswer): void {
    const log = this.suites.get(a.suite);
    if (!log || a.pos < log.settled) return;
    log.dispatched.add(a.pos);
    if (log.reason) return;
    let w = log.waiting.get(a.pos);
    if (!w) log.waiting.set(a.pos, (w = { caseId: a.caseId, answers: new Map() }));
    const byRepeat = w.answers.get(a.model) ?? new Map<number, number | undefined>();
    byRepeat.set(a.repeat, a.score);
    w.answers.set(a.model, byRepeat);
    this.advance(log);
  }

  /** A model that will answer no more (its lane stopped): cases stop waiting for it. */
  drop(model: string): void {
    if (this.opts.deciding.closed.includes(model) || this.opts.deciding.open.includes(model)) return;
    this.required.delete(model);
    for (const log of this.suites.values()) this.advance(log);
  }

  /** Commits the ready cases at the head of the suite's order, checking the rule after each. */
  private advance(log: SuiteLog): void {
    for (;;) {
      if (log.reason) return;
      const w = log.waiting.get(log.settled);
      if (!w || !this.complete(w.answers)) return;
      log.waiting.delete(log.settled);
      log.settled++;
      const d = this.difference(w.answers);
      if (d !== undefined) {
        log.entered.set(w.caseId, log.seq.n);
        log.seq.push(d);
      }
      const reason = stopReason(log.seq, log.rule, log.settled);
      if (reason) {
        log.reason = reason;
        log.waiting.clear();
        this.onStop?.(log);
      }
    }
  }

  private complete(answers: Map<string, Map<number, number | undefined>>): boolean {
    for (const m of this.required) if ((answers.get(m)?.size ?? 0) < this.opts.repeat) return false;
    return true;
  }

  /** Closed mean − open mean of the case (each model's repeats averaged first, as gap.csv does). */
  private difference(answers: Map<string, Map<number, number | undefined>>): number | undefined {
    const side = (models: string[]) => {
      let sum = 0;
      for (const m of models) {
        const scores = [...(answers.get(m)?.values() ?? [])].filter((s): s is number => s !== undefined);
        if (!scores.length) return undefined;
        sum += scores.reduce((a, b) => a + b, 0) / scores.length;
      }
      return sum / models.length;
    };
    const c = side(this.opts.deciding.closed);
    const o = side(this.opts.deciding.open);
    return c === undefined || o === undefined ? undefined : c - o;
  }

  /** Every suite's rule has fired. */
  get done(): boolean {
    return [...this.suites.values()].every((l) => l.reason !== undefined);
  }
}
