import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { Manifest } from '../journal/manifest.js';
import { readCapacity } from '../report/capacity-read.js';
import { terminalSafe } from '../util/text.js';
import type { OptionTable } from '../util/args.js';

/** `--capacity DIR` on run, report and regrade. */
export const CAPACITY_OPTION = {
  capacity: {
    value: 'DIR',
    help: "a gapbench capacity run directory: gap.csv's open-side cost and break-even use each open model's goodput there (docs/breakeven.md); recorded in the manifest",
    fallback: "config capacity:, else the run's own",
  },
} as const satisfies OptionTable;

/**
 * The capacity result a run's break-even uses, checked now (a bad one is exit 2 before anything is
 * sent): `--capacity` (named `given`, relative to the working directory), else the config's
 * `capacity:`, else what the manifest recorded, else capacity files in the run directory itself. Open models it has no result for are said in one line.
 */
export function capacityRef(
  sources: {
    flag?: string;
    config?: { dir: string; label: string };
    recorded?: Manifest['capacity'];
    /** A run directory that may hold capacity files itself. */
    own?: string;
  },
  cwd: string,
  models: readonly { id: string; group: string; judgeOnly?: boolean }[],
  warn: (line: string) => void,
): Manifest['capacity'] {
  const openModels = models.filter((m) => m.group === 'open' && !m.judgeOnly).map((m) => m.id);
  const { flag, config, recorded, own } = sources;
  const inside = own !== undefined && existsSync(join(own, 'capacity.csv')) ? own : undefined;
  const dir = flag ?? config?.dir ?? recorded?.dir ?? inside;
  if (dir === undefined) return undefined;
  const label =
    flag !== undefined ? '--capacity' : config ? config.label : recorded ? 'manifest.json capacity' : 'run directory';
  let result;
  try {
    result = readCapacity(resolve(cwd, dir), dir);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    // A resumed or rebuilt run whose capacity result has since moved still runs: said, not fatal.
    if (flag === undefined && !config && recorded) {
      warn(terminalSafe(`warning: ${label}: ${e.message}: the break-even uses this run's own throughput`, 500));
      return recorded;
    }
    throw new UsageError(`${label}: ${e.message}`);
  }
  const swept = [...result.goodput.keys()];
  const missing = openModels.filter((m) => !result.goodput.has(m));
  if (missing.length)
    warn(
      terminalSafe(
        `warning: ${label} ${dir}: no capacity result for ${missing.map((m) => `'${m}'`).join(', ')} (it has ${swept.map((m) => `'${m}'`).join(', ') || 'none'}): their break-even uses this run's own throughput`,
        500,
      ),
    );
  const unmet = openModels.filter((m) => result.goodput.has(m) && !result.goodput.get(m)!.requestsPerS);
  if (unmet.length)
    warn(
      terminalSafe(
        `note: ${label} ${dir}: ${unmet.map((m) => `'${m}'`).join(', ')} met the latency target at no load: their break-even uses this run's own throughput`,
        500,
      ),
    );
  return { dir: result.dir, run_id: result.runId };
}
