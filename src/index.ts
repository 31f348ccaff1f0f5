/**
 * gapbench as a library: load configs and suites, run them, grade, and write the reports.
 * The CLI (src/cli.ts) is a thin layer over these.
 */
export type * from './types.js';
export { FileError, InterruptedError, ProviderError, UsageError, RETRYABLE, FATAL_FOR_LANE } from './errors.js';
export { loadConfig, missingKeys, parseModelSpec, type Config, type ModelConfig } from './config/config.js';
export { PRESETS, findPreset, type Preset } from './config/presets.js';
export { loadSuite, bundledSuites, type Suite } from './suite/load.js';
export { validateSuite } from './suite/validate.js';
export { buildGrader, registerGrader, listGraders, describeGrader, gradeSafely } from './graders/index.js';
export { GraderOptionError, grade, type GraderDefinition, type GradeFn, type GradeContext } from './graders/grader.js';
export { createProvider, type Provider, type ProviderFactory } from './providers/index.js';
export { Lane, type Attempted } from './run/lane.js';
export { TokenBucket } from './run/limiter.js';
export { backoffDelay } from './run/backoff.js';
export { parseRetryAfter } from './providers/retry-after.js';
export { Journal } from './journal/journal.js';
export { readRecords, readLatestRecords } from './journal/read.js';
export { ResponseCache, type CacheMode } from './run/cache.js';
export { runJobs, type RunnerOptions } from './run/runner.js';
export type { JobRecord, OkRecord, ErrorRecord } from './journal/record.js';
export { writeReports, type Report } from './report/index.js';
export * as stats from './report/stats.js';
export { startSimulator, answerKeyFromCases, parseSimModelSpec, type SimModel, type Simulator } from './sim/index.js';
export { main } from './cli.js';
