import type { Out } from '../io.js';
import type { Manifest } from '../journal/manifest.js';
import type { Aggregate } from './aggregate.js';
import type { GapRow } from './gap.js';
import type { SummaryRow } from './summary.js';

/** The output choices of a run (`--excel`, `--xlsx`, `--matrix-outputs`). */
export interface OutputOptions {
  excel: boolean;
  /** Also write results.xlsx. */
  xlsx?: boolean;
  matrixOutputs: boolean;
}

export interface ReportOptions extends OutputOptions {
  /** Append the summary to <out>/history.csv (finished runs only). */
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
}
