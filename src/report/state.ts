import type { Price, SamplingParams } from '../types.js';
import type { ModelPair } from './gap.js';
import type { Manifest, ManifestModel } from '../journal/manifest.js';
import type { JobRecord } from '../journal/record.js';
import { Aggregator } from './aggregate.js';
import { loadRecordedCapacity, type CapacityResult } from './capacity-read.js';
import { RowOrder } from './order.js';
import { isLoopbackURL } from '../config/endpoint.js';
import { scoreOf } from '../journal/record.js';
import type { SequentialView } from './gap-sequential.js';
import { ALPHA } from './paired.js';
import { CommitLog, decidingOf } from './sequential-log.js';

/**
 * What the reports need from the journal, gathered one record at a time: per-cell aggregates and,
 * for results.csv, each record's sort key and line position (a few numbers, never the outputs).
 * `gapbench run` fills it as records reach the journal, so the reports need no second pass over a
 * fresh run's journal; `report`, `regrade` and resumed runs fill it from records.jsonl.
 */
export class ReportState {
  readonly aggregator: Aggregator;
  readonly order = new RowOrder();
  readonly priceOf: (id: string) => Price | undefined;
  readonly paramsOf: (id: string) => SamplingParams | undefined;
  /** A model as the manifest records it (its reasoning setting, price source). */
  readonly modelOf: (id: string) => ManifestModel | undefined;
  /** Configured closed/open pairs and the significance level, as the run recorded them. */
  readonly pairs: readonly ModelPair[];
  readonly alpha: number | undefined;
  readonly modelOrder: Map<string, number>;
  readonly suiteOrder: Map<string, number>;
  /** The capacity result the manifest names (see Manifest.capacity), read once. */
  readonly capacity?: CapacityResult;

  /** A sequential run: its commit log replayed from the records, as the run committed them. */
  readonly sequential?: SequentialView;
  private readonly log?: CommitLog;

  /** Models served on each machine's own loopback (see add). */
  private readonly local: Set<string>;

  constructor(manifest: Manifest, matrixOutputs: boolean) {
    this.local = new Set(
      manifest.models.filter((m) => isLoopbackURL(m.endpoint ?? m.baseURL ?? m.host ?? '')).map((m) => m.id),
    );
    const prices = new Map<string, Price | undefined>(manifest.models.map((m) => [m.id, m.price]));
    this.priceOf = (id) => prices.get(id);
    const params = new Map(manifest.models.map((m) => [m.id, m.params]));
    this.paramsOf = (id) => params.get(id);
    const models = new Map(manifest.models.map((m) => [m.id, m]));
    this.modelOf = (id) => models.get(id);
    this.pairs = manifest.pairs ?? [];
    this.alpha = manifest.alpha;
    this.aggregator = new Aggregator(manifest.run_id, matrixOutputs);
    // Config order for models and suites, not the order records happened to finish in.
    this.modelOrder = new Map(manifest.models.map((m, i) => [m.id, i]));
    this.suiteOrder = new Map(manifest.suites.map((s, i) => [s.name, i]));
    const settings = manifest.sequential;
    const deciding = settings && decidingOf(manifest.models, manifest.pairs);
    if (settings && deciding) {
      const alpha = manifest.alpha ?? ALPHA;
      const suites = manifest.suites.map((s) => ({ name: s.name, nMax: s.cases }));
      // The deciding models alone: the same differences, so the rule fires at the same case as it did live.
      this.log = new CommitLog({ settings, alpha, suites, deciding, required: [], repeat: manifest.repeat });
      const declared = Boolean(manifest.pairs?.length);
      const jobsPerCase = manifest.models.filter((m) => !m.judgeOnly).length * manifest.repeat;
      this.sequential = { settings, alpha, deciding, suites: this.log.suites, declared, jobsPerCase };
    }
    if (manifest.capacity) this.capacity = loadRecordedCapacity(manifest.capacity);
  }

  add(record: JobRecord, offset: number, bytes: number): void {
    // A model on loopback ran on each shard's own machine: each shard's server was busy for its own
    // time, and an hourly price is paid per machine. A shared (remote) server is busy once.
    const machine = record.shard !== undefined && this.local.has(record.model) ? record.shard : 0;
    this.aggregator.add(record, this.priceOf, machine, offset, bytes);
    if (this.log && record.seq_pos !== undefined) {
      const { suite, case_id: caseId, model, repeat, seq_pos: pos } = record;
      this.log.add({ suite, caseId, model, repeat, pos, score: scoreOf(record) });
    }
    this.order.push(
      this.suiteOrder.get(record.suite) ?? 65535,
      record.case_index,
      this.modelOrder.get(record.model) ?? 65535,
      record.repeat,
      offset,
      bytes,
    );
  }
}
