// Runs the gapbench CLI in this process (the one being measured) and reports its peak RSS.
import { main } from '../dist/cli.js';

const io = {
  stdout: { write: (s) => process.stdout.write(s), isTTY: false },
  stderr: { write: (s) => process.stderr.write(s), isTTY: false },
  cwd: process.cwd(),
  env: process.env,
  signals: process,
};
const started = performance.now();
const code = await main(process.argv.slice(2), io);
const wallMs = performance.now() - started;
process.stdout.write(`\n@@BENCH ${JSON.stringify({ code, wallMs, maxRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`);
process.exitCode = code;
