// Runs the gapbench CLI in this process (the one being measured) and reports its peak RSS.
// It sets the process up as the `gapbench` entry point does, then calls the same main().
import { configureProcess, main } from '../dist/cli.js';

configureProcess();

const io = {
  stdout: { write: (s) => process.stdout.write(s), isTTY: false },
  stderr: { write: (s) => process.stderr.write(s), isTTY: false },
  cwd: process.cwd(),
  env: process.env,
  signals: process,
};
const started = performance.now();
const startedEpoch = Date.now();
const samples = [];
const sampler = setInterval(() => {
  if (process.env.BENCH_GC && globalThis.gc) globalThis.gc();
  const m = process.memoryUsage();
  samples.push([
    Math.round(performance.now() - started),
    Math.round(m.rss / 2 ** 20),
    Math.round(m.heapUsed / 2 ** 20),
    Math.round(m.external / 2 ** 20),
    Math.round(m.arrayBuffers / 2 ** 20),
  ]);
}, 250);
sampler.unref();
const code = await main(process.argv.slice(2), io);
const wallMs = performance.now() - started;
if (process.env.BENCH_MEM)
  process.stderr.write(`mem samples [ms, rss, heapUsed, external, arrayBuffers] MiB: ${JSON.stringify(samples)}\n`);
process.stdout.write(
  `\n@@BENCH ${JSON.stringify({ code, wallMs, startedEpoch, endedEpoch: Date.now(), processWallMs: Date.now() - performance.timeOrigin, maxRssMiB: process.resourceUsage().maxRSS / 1024, cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000, mem: process.memoryUsage() })}\n`,
);
process.exitCode = code;
