/** The simulator's public surface. */
export { startSimulator } from './server.js';
export type { AnswerKey, SimBatchOptions, SimFaults, SimModel, SimOptions, SimStats, Simulator } from './types.js';
export { answerKeyFromCases } from './answers.js';
export { parseSimModelSpec, SimSpecError } from './spec.js';
