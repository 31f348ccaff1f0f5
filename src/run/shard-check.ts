/**
 * A shard's journal checked against the plan its manifest describes, before `gapbench merge` lets
 * its records into a merged run: a shard directory is outside data (copied between machines, and
 * possibly edited), so a record of a model, suite or job the shard never planned, or a plan job
 * without a record, stops the merge instead of becoming a summary row or a silently short run.
 *
 * The manifest gives the models, the suites with their case counts, the repeat count and the
 * shard (I/N); case k of the plan (0-based, across suites) belongs to shard (k mod N) + 1. The
 * case ids themselves are not in the manifest, so a case is checked by its job id (which covers
 * suite, case, model and repeat) and by how many distinct cases of each suite the shard holds.
 */
import { UsageError } from '../errors.js';
import type { Manifest } from '../journal/manifest.js';
import type { JobRecord } from '../journal/record.js';
import { terminalSafe } from '../util/text.js';
import { jobId } from './plan.js';

type ShardManifest = Manifest & { shard: { index: number; count: number } };

const shown = (text: unknown) => terminalSafe(String(text), 80);

export class ShardCheck {
  private readonly models: Set<string>;
  /** Suite name -> how many of its cases this shard holds. */
  private readonly casesHere = new Map<string, number>();
  private readonly cases = new Map<string, Set<string>>();
  /** `model\0suite` -> records seen. */
  private readonly counts = new Map<string, number>();
  private readonly where: string;

  constructor(
    private readonly m: ShardManifest,
    given: string,
  ) {
    this.where = `${given}: shard ${m.shard.index}/${m.shard.count}`;
    this.models = new Set(m.models.filter((x) => !x.judgeOnly).map((x) => x.id));
    const { index, count } = m.shard;
    let offset = 0;
    for (const s of m.suites) {
      // Ordinals k in [offset, offset + cases) with k mod count = index - 1.
      const first = offset + ((((index - 1 - offset) % count) + count) % count);
      this.casesHere.set(s.name, first < offset + s.cases ? Math.floor((offset + s.cases - 1 - first) / count) + 1 : 0);
      this.cases.set(s.name, new Set());
      offset += s.cases;
    }
  }

  /** Throws a UsageError naming the shard and what is foreign when the record is not of its plan. */
  check(r: JobRecord): void {
    const foreign = (what: string) =>
      new UsageError(`${this.where} holds a record that is not of its plan: ${what}; merge nothing from it`);
    if (!this.models.has(r.model))
      throw foreign(`model '${shown(r.model)}' (job ${shown(r.job_id)}), not one of ${[...this.models].join(', ')}`);
    const seen = this.cases.get(r.suite);
    if (!seen) throw foreign(`suite '${shown(r.suite)}' (job ${shown(r.job_id)}), not one of its suites`);
    if (!Number.isInteger(r.repeat) || r.repeat < 0 || r.repeat >= this.m.repeat)
      throw foreign(`repeat ${shown(r.repeat)} of job ${shown(r.job_id)} (the run repeats ${this.m.repeat} time(s))`);
    if (r.job_id !== jobId(r.suite, r.case_id, r.model, r.repeat))
      throw foreign(`job id ${shown(r.job_id)} does not match its suite, case, model and repeat`);
    if (!seen.has(r.case_id)) {
      seen.add(r.case_id);
      if (seen.size > this.casesHere.get(r.suite)!)
        throw foreign(
          `case '${shown(r.case_id)}' makes ${seen.size} cases of suite '${shown(r.suite)}', where the shard holds ${this.casesHere.get(r.suite)}`,
        );
    }
    const key = `${r.model}\u0000${r.suite}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Throws a UsageError naming what is missing when a planned job has no record. */
  finish(given: string): void {
    const short: string[] = [];
    let missing = 0;
    let planned = 0;
    for (const model of this.models)
      for (const [suite, n] of this.casesHere) {
        const want = n * this.m.repeat;
        const got = this.counts.get(`${model}\u0000${suite}`) ?? 0;
        planned += want;
        if (got < want) {
          missing += want - got;
          short.push(`model ${shown(model)}, suite ${shown(suite)}: ${got} of ${want}`);
        }
      }
    if (missing)
      throw new UsageError(
        `${this.where} is missing ${missing} of its ${planned} planned records (${short.slice(0, 3).join('; ')}${short.length > 3 ? '; ...' : ''}); merge nothing from it: run the missing jobs with gapbench run --resume ${given}`,
      );
  }
}
