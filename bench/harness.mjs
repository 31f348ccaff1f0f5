// Runs the gapbench CLI in this process (the one being measured) and reports its peak RSS.
// It calls the same main() the `gapbench` command calls. BENCH_CLI points at another build's
// dist/cli.js (BENCH_BASELINE in run.mjs); BENCH_HEAP_AT=10000,100000 records the live heap (with array buffers) after
// a full garbage collection when the journal reaches each count (needs --expose-gc).
import { pathToFileURL } from 'node:url';

const cliUrl = process.env.BENCH_CLI
  ? pathToFileURL(process.env.BENCH_CLI).href
  : new URL('../dist/cli.js', import.meta.url).href;
const cli = await import(cliUrl);
const { main } = cli;
// A build whose command set its own process up (older ones set V8 flags) is measured as its command runs.
cli.configureProcess?.();
const heapAt = (process.env.BENCH_HEAP_AT ?? '').split(',').filter(Boolean).map(Number);
const heap = {};
if (heapAt.length) await watchHeap(new URL('journal/journal.js', cliUrl), new URL('run/journal.js', cliUrl));

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
  const m = process.memoryUsage();
  samples.push([
    Math.round(performance.now() - started),
    Math.round(m.rss / 2 ** 20),
    Math.round(m.heapUsed / 2 ** 20),
  ]);
}, 250);
sampler.unref();
const code = await main(process.argv.slice(2), io);
const wallMs = performance.now() - started;
if (process.env.BENCH_MEM) process.stderr.write(`mem samples [ms, rss, heapUsed] MiB: ${JSON.stringify(samples)}\n`);
const cpu = process.cpuUsage();
process.stdout.write(
  `\n@@BENCH ${JSON.stringify({ code, wallMs, startedEpoch, endedEpoch: Date.now(), processWallMs: Date.now() - performance.timeOrigin, maxRssMiB: process.resourceUsage().maxRSS / 1024, cpuMs: (cpu.user + cpu.system) / 1000, heap })}\n`,
);
process.exitCode = code;

/** Counts journal appends (this build's Journal class, wherever it lives) and measures the heap at the given counts. */
async function watchHeap(...candidates) {
  if (!globalThis.gc) throw new Error('BENCH_HEAP_AT needs node --expose-gc');
  for (const url of candidates) {
    let mod;
    try {
      mod = await import(url.href);
    } catch {
      continue;
    }
    const append = mod.Journal.prototype.append;
    let n = 0;
    mod.Journal.prototype.append = function (record) {
      const at = append.call(this, record);
      if (heapAt.includes(++n)) {
        // Twice: the first collection frees dead typed arrays' memory only as it finishes sweeping,
        // so arrayBuffers would still count it.
        globalThis.gc();
        globalThis.gc();
        const m = process.memoryUsage();
        // Typed arrays (the report state's columns) live outside the V8 heap: count them too.
        heap[n] = (m.heapUsed + m.arrayBuffers) / 2 ** 20;
      }
      return at;
    };
    return;
  }
  throw new Error('no Journal class found in the build under test');
}
