import { EXIT, type IO } from '../io.js';
import { parse } from '../util/args.js';
import { executeRun } from './execute.js';
import { prepareRun, RUN_OPTIONS } from './prepare.js';
import { THRESHOLD_HELP } from './thresholds.js';

export const RUN_HELP = `Usage: gapbench run [options]

Runs every suite against every model (each model in its own lane, all at once) and writes
results/<run-id>/: records.jsonl, manifest.json, results.csv, summary.csv, gap.csv, matrix.csv.

Options:
  --config FILE          config file (default: gapbench.config.yaml when present)
  --suite FILE|NAME      suite file or bundled suite name (repeatable; default: the config's suites)
  --model PROVIDER:MODEL add a model, e.g. openai:gpt-4o-mini, ollama:llama3.1:8b (repeatable)
  --set KEY=VALUE        variable for \${KEY} in suite source paths (repeatable; overrides the environment)
  --out DIR              parent directory of run directories (default: results)
  --run-id NAME          name of the run directory (default: a UTC timestamp)
  --repeat N             ask each case N times (default 1)
  --limit N              run only the first N cases of each suite (a cheap first run)
  --case GLOB            run only the cases whose id matches GLOB (* any characters, ? one;
                         repeatable: any of them); job ids stay those of the whole run
  --category NAME        run only the cases of category NAME (repeatable)
  --failed-from DIR      run only the cases that failed or errored (any model) in the run in DIR,
                         which must have the same config and suites; the manifest records the filter
  --concurrency N        requests in flight per model, overriding every lane
  --shard I/N            run only the I-th of N slices of the cases (I from 1; auto/N reads the
                         index from JOB_COMPLETION_INDEX, CI_NODE_INDEX, ...); join with gapbench merge
  --batch                send every model's jobs through its vendor's Batch API (OpenAI protocol;
                         about half the price, answers within 24 h; see README: Batch mode)
  --resume DIR           continue an interrupted run: only jobs with no record are run
  --retry-errors         with --resume, also re-run jobs whose record is an error
  --force                with --resume, accept a changed config or suite
  --cache MODE           use | refresh | off (default use; see README: which models are cached)
  --cache-dir DIR        response cache location (default: $GAPBENCH_CACHE_DIR or ~/.cache/gapbench)
  --cache-max-age AGE    ignore cached answers older than AGE (e.g. 20h, 7d) and ask again;
                         0s: ask every job again (new answers are still cached)
  --max-duration TIME    stop starting jobs after TIME (e.g. 30m), write results, exit 130
  --progress-interval S  seconds between progress lines when not on a terminal (default 10)
  --excel                write CSVs with a UTF-8 BOM (Excel shows Chinese text correctly)
  --xlsx                 also write results.xlsx (typed cells, one sheet per table)
  --matrix-outputs       add one output column per model to matrix.csv
  --quiet                print only the final summary and the run directory
${THRESHOLD_HELP}
  -h, --help             show this help

Exit codes: 0 finished; 1 finished but a threshold failed; 2 bad usage, config or suite
(nothing run); 130 interrupted (journal intact; resume with --resume DIR).`;

export async function runCommand(argv: string[], io: IO): Promise<number> {
  const { values } = parse('run', argv, RUN_OPTIONS);
  if (values.help) {
    io.stdout.write(`${RUN_HELP}\n`);
    return EXIT.ok;
  }
  return executeRun(await prepareRun(values, io), io);
}
