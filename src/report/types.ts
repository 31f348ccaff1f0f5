import type { Out } from '../io.js';
import type { Manifest } from '../journal/manifest.js';
import type { Aggregate } from './aggregate.js';
import type { GapRow } from './gap.js';
import type { RunOutcome } from './history.js';
import type { SummaryRow } from './summary.js';

/** The output choices of a run (`--excel`, `--xlsx`, `--matrix-outputs`). */
export interface OutputOptions {
  excel: boolean;
  /** Also write results.xlsx. */
  xlsx?: boolean;
  matrixOutputs: boolean;
}

export interface ReportOptions extends OutputOptions {
  /**
   * The run belongs in <out>/history.csv (finished runs only). The rows are appended by
   * Report.recordHistory once the run's exit code is known (applyThresholds calls it).
   */
  history: boolean;
  manifest: Manifest;
}

export interface Report {
  records: number;
  ok: number;
  errors: number;
  summary: SummaryRow[];
  gaps: GapRow[];
  aggregate: Aggregate;
  /** Lines of records.jsonl that did not parse and were skipped (rebuilt from the journal only). */
  damaged?: number;
  terminal(out: Out, env: NodeJS.ProcessEnv): string;
  /**
   * Present when the run belongs in history.csv: appends its rows (and per-case scores) with the
   * run's outcome. Whoever decides the exit code calls it once (applyThresholds; evaluate() with 0).
   */
  recordHistory?: (outcome: RunOutcome) => Promise<void>;
}
