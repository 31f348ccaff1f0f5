import { EXIT, type IO } from '../io.js';
import { helpText, parse } from '../util/args.js';
import { executeRun } from './execute.js';
import { prepareRun } from './prepare.js';
import { RUN_SPEC } from './run-options.js';

export async function runCommand(argv: string[], io: IO): Promise<number> {
  const { values } = parse(RUN_SPEC, argv);
  if (values.help) {
    io.stdout.write(`${helpText(RUN_SPEC)}\n`);
    return EXIT.ok;
  }
  return executeRun(await prepareRun(values, io), io);
}
