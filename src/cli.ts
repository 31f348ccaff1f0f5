#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InterruptedError, isStorageError, redact, UsageError } from './errors.js';
import { EXIT, processIO, type IO } from './io.js';
import { terminalSafe } from './util/text.js';
import { VERSION } from './version.js';

type Run = (argv: string[], io: IO) => Promise<number>;
/** Each command's module is loaded only when it runs, so a run does not pay for the simulator's code. */
type Command = { load: () => Promise<Run>; summary: string };

const COMMANDS: Record<string, Command> = {
  run: {
    load: async () => (await import('./commands/run.js')).runCommand,
    summary: 'run suites against models and write results/<run-id>/',
  },
  demo: {
    load: async () => (await import('./commands/demo.js')).demoCommand,
    summary: 'run the demo suite on two simulated models (no keys needed)',
  },
  start: {
    load: async () => (await import('./commands/start.js')).startCommand,
    summary: 'what `npm start` runs: your config if its keys are set, else the demo',
  },
  report: {
    load: async () => (await import('./commands/report.js')).reportCommand,
    summary: 'rebuild every CSV and the terminal report from records.jsonl',
  },
  merge: {
    load: async () => (await import('./commands/merge.js')).mergeCommand,
    summary: 'join the shards of a run (run --shard I/N) into one run directory',
  },
  compare: {
    load: async () => (await import('./commands/compare.js')).compareCommand,
    summary: 'per suite x model deltas between two runs, with a paired test',
  },
  regrade: {
    load: async () => (await import('./commands/regrade.js')).regradeCommand,
    summary: "re-score a run's stored outputs with the current graders",
  },
  validate: {
    load: async () => (await import('./commands/suites.js')).validateCommand,
    summary: 'check a suite (schema, graders, checks, examples) without calling a model',
  },
  suites: {
    load: async () => (await import('./commands/suites.js')).suitesCommand,
    summary: 'list the bundled suites',
  },
  models: {
    load: async () => (await import('./commands/models.js')).modelsCommand,
    summary: 'list the providers and vendor presets',
  },
  import: {
    load: async () => (await import('./commands/import.js')).importCommand,
    summary: 'convert a promptfoo config into a gapbench config and suites',
  },
  capacity: {
    load: async () => (await import('./commands/capacity.js')).capacityCommand,
    summary: 'sweep self-hosted models at rising load: goodput within a latency target, saturation',
  },
  sim: {
    load: async () => (await import('./commands/sim.js')).simCommand,
    summary: 'serve simulated models over the OpenAI and Ollama protocols',
  },
};

const MAIN_HELP = `gapbench ${VERSION}: how far do open models trail closed ones, on your tasks, at what cost?

Usage: gapbench <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Run \`gapbench <command> --help\` for a command's options.
Quick start: gapbench demo
             gapbench run --model openai:gpt-4o-mini --model ollama:llama3.1:8b --suite knowledge-mc

Exit codes: 0 finished; 1 a threshold failed; 2 bad usage, config or suite; 130 interrupted.`;

/** argv -> exit code. The only place that knows about process.exit is the entry below. */
export async function main(argv: string[], io: IO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    io.stdout.write(`${MAIN_HELP}\n`);
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === '-v' || name === '--version') {
    io.stdout.write(`${VERSION}\n`);
    return EXIT.ok;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    io.stderr.write(
      `gapbench: unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(', ')}; see gapbench --help)\n`,
    );
    return EXIT.usage;
  }
  try {
    const run = await cmd.load();
    return await run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`gapbench ${name}: ${oneLine(err.message)}\n`);
      return EXIT.usage;
    }
    if (err instanceof InterruptedError) {
      io.stderr.write(`gapbench ${name}: ${err.message}\n`);
      return EXIT.interrupted;
    }
    if (isStorageError(err)) {
      // Whatever the command was writing (reports, a merge, an import): the disk, not the input.
      const where = err.path ? terminalSafe(err.path, 500) : 'a file';
      io.stderr.write(
        `gapbench ${name}: cannot write ${where} (${err.code}): free space, then run the command again\n`,
      );
      return EXIT.interrupted;
    }
    const e = err as Error;
    io.stderr.write(`gapbench ${name}: unexpected error: ${oneLine(redact(e?.message ?? String(err)))}\n`);
    if (io.env.GAPBENCH_DEBUG) io.stderr.write(`${redact(e?.stack ?? '')}\n`);
    return 70;
  }
}

/** Messages may quote files and servers: one line, no escape sequences. */
function oneLine(s: string): string {
  return terminalSafe(s.replace(/\s*\n\s*/g, ' ').trim(), 2000);
}

const isEntry = (() => {
  try {
    return (
      process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
    );
  } catch {
    return false;
  }
})();

if (isEntry) {
  const io = processIO();
  let signals = 0;
  // A command that handles signals (run) winds down on the first; the second exits at once, which
  // is safe because the journal is written in whole lines. Commands that do not listen exit at once.
  const hard = (sig: 'SIGINT' | 'SIGTERM') => {
    if (++signals >= 2 || process.listenerCount(sig) === 1) process.exit(EXIT.interrupted);
  };
  process.on('SIGINT', () => hard('SIGINT'));
  process.on('SIGTERM', () => hard('SIGTERM'));
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(EXIT.ok);
  });
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`gapbench: ${redact(String((err as Error)?.message ?? err))}\n`);
      process.exitCode = 70;
    },
  );
}
