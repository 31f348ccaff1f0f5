/**
 * gapbench as a library. Most callers need one function:
 *
 *   import { evaluate } from 'gapbench';
 *   const { summary, gaps } = await evaluate({ models: ['openai:gpt-4o-mini', 'ollama:llama3.1:8b'], suites: ['knowledge-mc'] });
 *
 * The building blocks the CLI is made of (config and suite loading, graders, providers, lanes,
 * the journal, the reports, the statistics and the simulator) are exported below for callers that
 * need a part of it.
 */
export { evaluate, type EvaluateOptions, type EvaluateProgress, type EvaluateResult } from './evaluate.js';
export type * from './types.js';
export { FileError, InterruptedError, ProviderError, UsageError, ERROR_KINDS, type ErrorPolicy } from './errors.js';

// Config and suites
export { loadConfig, missingKeys, parseModelSpec, type Config, type ModelConfig } from './config/config.js';
export { PRESETS, findPreset, type Preset } from './config/presets.js';
export { loadSuite, bundledSuites, type Suite } from './suite/load.js';
export { validateSuite } from './suite/validate.js';

// Graders
export { buildGrader, registerGrader, listGraders, describeGrader, gradeSafely } from './graders/index.js';
export type { CustomGradeContext, CustomGradeFn } from './graders/index.js';
export {
  GraderOptionError,
  grade,
  type GraderDefinition,
  type GraderEnv,
  type GradeFn,
  type GradeContext,
} from './graders/grader.js';

// Providers (the protocol registry) and the scheduler
export {
  PROTOCOLS,
  createProvider,
  type Protocol,
  type Provider,
  type ProviderDescriptor,
  type ProviderFactory,
  type ProviderModel,
} from './providers/index.js';
export { parseRetryAfter } from './providers/retry-after.js';
export { Lane, type Attempted } from './run/lane.js';
export { TokenBucket } from './run/limiter.js';
export { backoffDelay } from './run/backoff.js';
export { ResponseCache, type CacheMode } from './run/cache.js';
export { runJobs, type RunnerOptions, type RunnerResult, type RunSignals } from './run/runner.js';

// The run directory and the reports
export { Journal } from './journal/journal.js';
export { readRecords, readLatestRecords } from './journal/read.js';
export { readManifest, type Manifest, type ManifestModel } from './journal/manifest.js';
export type { JobRecord, OkRecord, ErrorRecord, RecordSink } from './journal/record.js';
export { writeReports, computeReport, ReportState, type Report } from './report/index.js';
export type { SummaryRow } from './report/summary.js';
export type { GapRow, Verdict } from './report/gap.js';
export { resultRow, type RecordRow } from './report/results.js';
export * as stats from './report/stats.js';

// The simulator (loopback servers speaking the OpenAI and Ollama protocols)
export { startSimulator, answerKeyFromCases, parseSimModelSpec, type SimModel, type Simulator } from './sim/index.js';
export { main } from './cli.js';
