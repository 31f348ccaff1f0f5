import { createRequire } from 'node:module';

/**
 * Loads a dependency's CommonJS build. openai, zod and the csv packages ship both builds; Node 20
 * loads the CommonJS graph of these in about two thirds of the time of the ESM graph (hundreds of
 * small files each), and a CLI's startup is mostly that. One build per package is used throughout,
 * so `instanceof` checks against the SDKs' error classes hold.
 */
export const requireCjs = createRequire(import.meta.url);
