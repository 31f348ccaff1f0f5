import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_CONFIG_FILE, loadConfig, missingKeys } from '../config/config.js';
import { EXIT, type IO } from '../io.js';
import { demoCommand } from './demo.js';
import { runCommand } from './run.js';

const START_HELP = `Usage: gapbench start

What \`npm start\` runs. With a gapbench.config.yaml whose models' API keys are all set, it runs
that config (gapbench run). Otherwise it runs the demo on simulated models and says why.`;

export async function startCommand(argv: string[], io: IO): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    io.stdout.write(`${START_HELP}\n`);
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
