/**
 * gapbench as a library: the public API, and nothing else. Most callers need one function:
 *
 *   import { evaluate } from 'gapbench';
 *   const { summary, gaps } = await evaluate({ models: ['openai:gpt-4o-mini', 'ollama:llama3.1:8b'], suites: ['knowledge-mc'] });
 *
 * Besides it: the types of what it returns (records, summary and gap rows, the manifest), the
 * error classes, suite loading (evaluate takes loaded suites too), reading a run's records back,
 * grader registration, and the protocol registry. Everything else is internal and may change.
 */
export { evaluate, type EvaluateOptions, type EvaluateProgress, type EvaluateResult } from './evaluate.js';
export type * from './types.js';
export { FileError, InterruptedError, ProviderError, StorageError, UsageError } from './errors.js';
export { loadSuite, type Suite } from './suite/load.js';
export { registerGrader } from './graders/index.js';
export type { CustomGradeContext, CustomGradeFn } from './graders/index.js';
export type { GraderDefinition, GraderEnv, GradeFn, GradeContext } from './graders/grader.js';
export { PROTOCOLS, type Protocol, type ProviderDescriptor } from './providers/index.js';
export { readRecords } from './journal/read.js';
export type { Manifest, ManifestModel } from './journal/manifest.js';
export type { JobRecord, OkRecord, ErrorRecord } from './journal/record.js';
export type { SummaryRow } from './report/summary.js';
export type { GapRow, Verdict } from './report/gap.js';
export { resultRow, type RecordRow } from './report/results.js';
