import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_CONFIG_FILE, loadConfig, missingKeys } from '../config/config.js';
import { EXIT, type IO } from '../io.js';
import { helpText, type CommandSpec } from '../util/args.js';
import { demoCommand } from './demo.js';
import { runCommand } from './run.js';

export const START_SPEC = {
  name: 'start',
  usage: 'start [options]',
  about:
    "What `npm start` runs. With a gapbench.config.yaml whose models' API keys are all set, it runs that config (gapbench run, with the options given). Otherwise it runs the demo on simulated models (gapbench demo, with the options given) and says why.",
  options: {},
} as const satisfies CommandSpec;

export async function startCommand(argv: string[], io: IO): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    io.stdout.write(`${helpText(START_SPEC)}\n`);
    return EXIT.ok;
  }
  if (!existsSync(resolve(io.cwd, DEFAULT_CONFIG_FILE))) {
    return demoCommand(
      argv,
      io,
      `No ${DEFAULT_CONFIG_FILE} here, so this is the demo (copy gapbench.config.example.yaml to start).`,
    );
  }
  const config = loadConfig({ cwd: io.cwd, env: io.env });
  const missing = missingKeys(config.models, io.env);
  if (missing.length)
    return demoCommand(argv, io, `Not running ${DEFAULT_CONFIG_FILE}: ${missing[0]}. Running the demo instead.`);
  return runCommand(argv, io);
}
