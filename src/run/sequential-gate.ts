/**
 * The dispatch window and commit point of a sequential run (issue 27, docs/sequential.md). Every
 * lane sends the cases in one pre-drawn order; a lane may start the case at run position p only
 * while p < commit point + window, the commit point being the first position not yet settled
 * (entered its suite's sequence, left out, or of a suite whose rule fired). So no lane runs more
 * than about twice the lanes' concurrency ahead of what the sequence has seen, and once a suite's
 * rule fires its remaining cases are never sent. Answers in flight when it fires are recorded
 * with `after_stop` and stay out of the sequence.
 */
import type { ModelConfig } from '../config/config.js';
import type { SequentialSettings } from '../journal/manifest.js';
import type { RecordedJobs } from '../journal/read.js';
import { scoreOf, type JobRecord } from '../journal/record.js';
import { CommitLog, type Deciding } from '../report/sequential-log.js';
import type { Suite } from '../suite/load.js';
import { mulberry32 } from '../util/rng.js';
import { terminalSafe } from '../util/text.js';
import { jobId, type Job } from './plan.js';

/** What a run needs to run sequentially. */
export interface SequentialPlan {
  settings: SequentialSettings;
  alpha: number;
  deciding: Deciding;
}

/** A case's place in the order: its suite and index there, its position among its suite's cases. */
interface OrderedCase {
  suite: Suite;
  index: number;
  pos: number;
}

/**
 * The run's cases in a seeded random order (Fisher–Yates over every suite's cases together,
 * mulberry32 from the seed), each numbered within its suite in that order. The same suites and
 * seed give the same order, so a resume sends and commits exactly as the first invocation did.
 */
export function drawOrder(suites: readonly Suite[], seed: number): OrderedCase[] {
  const all: [Suite, number][] = [];
  for (const s of suites) for (let i = 0; i < s.cases.length; i++) all.push([s, i]);
  const next = mulberry32(seed);
  for (let i = all.length - 1; i > 0; i--) {
    const j = next() % (i + 1);
    [all[i], all[j]] = [all[j], all[i]];
  }
  const seen = new Map<Suite, number>();
  return all.map(([suite, index]) => {
    const pos = seen.get(suite) ?? 0;
    seen.set(suite, pos + 1);
    return { suite, index, pos };
  });
}

/** A model's jobs in the drawn order (each case's repeats together). */
export function* orderedJobs(model: ModelConfig, order: readonly OrderedCase[], repeat: number): Generator<Job> {
  for (let runPos = 0; runPos < order.length; runPos++) {
    const { suite, index, pos } = order[runPos];
    const c = suite.cases[index];
    const caseIndex = suite.caseIndexes?.[index] ?? index;
    for (let r = 0; r < repeat; r++)
      yield {
        id: jobId(suite.name, c.id, model.id, r),
        suite,
        case: c,
        caseIndex,
        model,
        repeat: r,
        seqPos: pos,
        runPos,
      };
  }
}

export class SequentialGate {
  readonly log: CommitLog;
  private commit = 0;
  private waiters: { at: number; wake: (go: boolean) => void }[] = [];
  private stopped = false;

  constructor(
    plan: SequentialPlan,
    readonly order: readonly OrderedCase[],
    models: readonly ModelConfig[],
    repeat: number,
    private readonly window: number,
    stop?: AbortSignal,
  ) {
    const counts = new Map<string, number>();
    for (const o of order) counts.set(o.suite.name, (counts.get(o.suite.name) ?? 0) + 1);
    const suites = [...new Set(order.map((o) => o.suite.name))].map((name) => ({ name, nMax: counts.get(name)! }));
    this.log = new CommitLog({ ...plan, suites, required: models.map((m) => m.id), repeat });
    this.log.onStop = () => this.update();
    stop?.addEventListener('abort', () => this.halt(), { once: true });
  }

  /** Answers an earlier invocation recorded (a resume): they enter as if they had just arrived. */
  seed(previous: RecordedJobs | undefined): void {
    for (const [id, r] of previous ?? []) {
      if (!r.seq || jobId(r.suite, r.caseId, r.model, r.repeat) !== id) continue;
      this.log.add({ suite: r.suite, caseId: r.caseId, model: r.model, repeat: r.repeat, ...r.seq });
    }
    this.update();
  }

  /** Waits until the job's case may be sent; false: never (its suite stopped, or the run did). */
  admit(job: Job): Promise<boolean> {
    if (this.closed(job)) return Promise.resolve(false);
    if (job.runPos! < this.commit + this.window) return Promise.resolve(true);
    return new Promise((wake) => this.waiters.push({ at: job.runPos!, wake }));
  }

  /** Marks an answer that came after its suite's rule fired; call before the record is written. */
  flag(rec: JobRecord): void {
    if (rec.seq_pos !== undefined && this.log.suites.get(rec.suite)?.reason) rec.after_stop = true;
  }

  /** A written record enters the log (and may move the commit point). */
  add(rec: JobRecord): void {
    if (rec.seq_pos === undefined) return;
    const a = { suite: rec.suite, caseId: rec.case_id, model: rec.model, repeat: rec.repeat, pos: rec.seq_pos };
    this.log.add({ ...a, score: scoreOf(rec) });
    this.update();
  }

  /** A lane stopped for good: the cases stop waiting for it; a deciding model's lane ends the sequence. */
  laneStopped(model: string): void {
    const { closed, open } = this.log.deciding;
    if (closed.includes(model) || open.includes(model)) {
      for (const s of this.log.suites.values()) s.reason ??= 'interrupted';
      this.halt();
    } else this.log.drop(model);
    this.update();
  }

  /** The progress display's lines: each suite's interval so far and the cases not sent yet. */
  progressLines(): string[] {
    return [...this.log.suites.values()].map((s) => {
      const { low_pp, high_pp } = s.seq.interval();
      const unsent = `${s.nMax - s.dispatched.size} of ${s.nMax} case(s)`;
      const state = s.reason ? `stopped (${s.reason}): ${unsent} saved` : `${unsent} not sent yet`;
      const ci = s.seq.n ? `[${low_pp.toFixed(1)}, ${high_pp.toFixed(1)}] pp` : '-';
      return `sequence ${terminalSafe(s.name, 40)}: ${s.seq.n} case(s) in, gap ${ci}, ${state}`;
    });
  }

  /** Every suite's rule has fired: nothing more will be sent. */
  get done(): boolean {
    return this.log.done;
  }

  /** Stopped from outside the rule (Ctrl-C, --max-duration, a deciding model's lane): the unsent jobs are unfinished. */
  get halted(): boolean {
    return this.stopped;
  }

  private closed(job: Job): boolean {
    return this.stopped || this.log.suites.get(job.suite.name)?.reason !== undefined;
  }

  private halt(): void {
    this.stopped = true;
    this.update();
  }

  private update(): void {
    while (this.commit < this.order.length && this.settled(this.order[this.commit])) this.commit++;
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      const suite = this.order[w.at].suite.name;
      if (this.stopped || this.log.suites.get(suite)?.reason) w.wake(false);
      else if (w.at < this.commit + this.window) w.wake(true);
      else still.push(w);
    }
    this.waiters = still;
  }

  private settled(o: OrderedCase): boolean {
    const s = this.log.suites.get(o.suite.name)!;
    return s.reason !== undefined || o.pos < s.settled;
  }
}
