// npm run bench: speed, fault tolerance, rate limiting and scale, with printed figures and ratios.
// The simulator runs in this process; the harness runs in a child process (what is measured).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pairedComparison } from '../dist/report/paired.js';
import { gradedInterval } from '../dist/report/summary.js';
import { answerKeyFromCases, startSimulator } from '../dist/sim/index.js';
import { loadSuite } from '../dist/suite/load.js';
import { uniform } from '../dist/util/rng.js';

const only = process.argv[2];
const dir = mkdtempSync(join(tmpdir(), 'gapbench-bench-'));
const results = [];

function writeSuite(name, n) {
  const lines = [];
  for (let i = 0; i < n; i++)
    lines.push(JSON.stringify({ q: `Case ${i}: what is ${i} plus ${i % 97}?`, a: String(i + (i % 97)) }));
  writeFileSync(join(dir, `${name}.jsonl`), `${lines.join('\n')}\n`);
  writeFileSync(
    join(dir, `${name}.yaml`),
    `name: ${name}\ntemplate: "{{q}}"\ngrader: numeric\nsource: { path: ${name}.jsonl, fields: { expected: a } }\n`,
  );
  return join(dir, `${name}.yaml`);
}

function writeConfig(name, models) {
  const yaml = ['models:'];
  for (const m of models) {
    yaml.push(`  - id: ${m.id}`, `    provider: ${m.provider}`, `    model: "${m.model}"`);
    for (const [k, v] of Object.entries(m.extra ?? {})) yaml.push(`    ${k}: ${v}`);
  }
  writeFileSync(join(dir, `${name}.config.yaml`), `${yaml.join('\n')}\n`);
  return join(dir, `${name}.config.yaml`);
}

/**
 * Runs the harness (gapbench's main() in a child process) with `args`. `opts.cli` measures another
 * build (BENCH_BASELINE), `opts.heapAt` records the live heap at those journal sizes.
 */
function harness(args, opts = {}) {
  const nodeArgs = [
    ...(process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : []),
    ...(opts.heapAt ? ['--expose-gc'] : []),
  ];
  const env = { ...process.env, GAPBENCH_CACHE_DIR: join(dir, 'cache') };
  if (opts.cli) env.BENCH_CLI = opts.cli;
  if (opts.heapAt) env.BENCH_HEAP_AT = opts.heapAt.join(',');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, new URL('./harness.mjs', import.meta.url).pathname, ...args], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', () => {
      const m = /@@BENCH (.*)/.exec(out);
      if (!m) return reject(new Error(`harness failed:\n${out}\n${err}`));
      if (process.env.BENCH_MEM) process.stderr.write(err);
      resolve({ ...JSON.parse(m[1]), out, err });
    });
  });
}

/** The build to compare with (a checkout of an earlier commit, built): BENCH_BASELINE=/path/to/checkout. */
const BASELINE = process.env.BENCH_BASELINE ? join(process.env.BENCH_BASELINE, 'dist', 'cli.js') : undefined;
/** Extra arguments for the baseline's speed run (e.g. `--threads 0` for a build that had lane threads). */
const BASELINE_ARGS = process.env.BENCH_BASELINE_ARGS ? process.env.BENCH_BASELINE_ARGS.split(' ') : [];

function sdkCeiling(baseURL, model, n, c, stream = false) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        new URL('./sdk-ceiling.mjs', import.meta.url).pathname,
        baseURL,
        model,
        String(n),
        String(c),
        ...(stream ? ['stream'] : []),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', () => {
      const m = /@@CEILING (.*)/.exec(out);
      if (m) resolve(JSON.parse(m[1]));
      else reject(new Error(`sdk-ceiling failed: ${out}`));
    });
  });
}

function journalStats(runDir, expected) {
  const ids = new Map();
  let errors = 0;
  let lines = 0;
  let first = Infinity;
  let last = 0;
  let latencySum = 0;
  let ok = 0;
  for (const line of readFileSync(join(runDir, 'records.jsonl'), 'utf8').split('\n')) {
    if (!line) continue;
    lines++;
    const r = JSON.parse(line);
    ids.set(r.job_id, (ids.get(r.job_id) ?? 0) + 1);
    if (r.status === 'error') errors++;
    else {
      ok++;
      latencySum += r.latency_ms;
    }
    first = Math.min(first, r.t_start);
    last = Math.max(last, r.t_end);
  }
  const duplicated = [...ids.values()].filter((n) => n > 1).length;
  return {
    lines,
    lost: expected - ids.size,
    duplicated,
    errors,
    requestPhaseMs: last - first,
    first,
    last,
    meanLatencyMs: latencySum / Math.max(1, ok),
  };
}

async function withSim(models, suitePath, fn, batch) {
  const suite = await loadSuite(suitePath, { cwd: dir, vars: {} });
  const sim = await startSimulator({ port: 0, seed: 1, models, answers: answerKeyFromCases(suite.cases), batch });
  try {
    return await fn(sim);
  } finally {
    await sim.close();
  }
}

function report(name, rows) {
  console.log(`\n== ${name}`);
  for (const [k, v] of rows) console.log(`  ${k.padEnd(34)} ${v}`);
  results.push({ name, rows });
}

/**
 * Warms the simulator up (its JIT) with requests through both protocols before a measured run, as
 * a real server would be: the first run against a cold simulator would otherwise pay for it and
 * later runs would not, which biases any comparison. The measured gapbench process starts cold.
 */
async function warmUp(sim, models, count = 2000, conc = 64) {
  let next = 0;
  const one = async () => {
    while (next < count) {
      const i = next++;
      const m = models[i % models.length];
      const content = `Case ${i}: what is ${i} plus ${i % 97}?`;
      const res = m.ollama
        ? await fetch(`${sim.ollamaHost}/api/chat`, {
            method: 'POST',
            body: JSON.stringify({ model: m.name, stream: false, messages: [{ role: 'user', content }] }),
          })
        : await fetch(`${sim.openaiBaseURL}/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ model: m.name, messages: [{ role: 'user', content }] }),
          });
      await res.text();
    }
  };
  await Promise.all(Array.from({ length: conc }, one));
}

async function speed() {
  const n = 5000;
  const latency = 50;
  const conc = 32;
  const suite = writeSuite('speed', n);
  await withSim(
    [
      { name: 'closed-sim', accuracy: 0.9, latencyMs: latency },
      { name: 'open-sim:8b', accuracy: 0.7, latencyMs: latency },
    ],
    suite,
    async (sim) => {
      // (the simulator is warmed up first; see warmUp)
      const config = writeConfig('speed', [
        {
          id: 'closed',
          provider: 'openai',
          model: 'closed-sim',
          extra: { baseURL: sim.openaiBaseURL, concurrency: conc, group: 'closed' },
        },
        { id: 'open', provider: 'ollama', model: 'open-sim:8b', extra: { host: sim.ollamaHost, concurrency: conc } },
      ]);
      if (!process.env.BENCH_NO_WARMUP)
        await warmUp(sim, [{ name: 'closed-sim' }, { name: 'open-sim:8b', ollama: true }]);
      const simCpu0 = process.cpuUsage();
      const r = await harness(runArgs(config, suite, 'speed'));
      const simCpu = process.cpuUsage(simCpu0);
      const ideal = (n * latency) / conc;
      const j = journalStats(join(dir, 'results', 'speed'), 2 * n);
      const simLatency = sim.stats().byModel;
      // The same run by the baseline build, when given, against the same warm simulator.
      const base = BASELINE
        ? await harness([...runArgs(config, suite, 'speed-baseline'), ...BASELINE_ARGS], { cli: BASELINE })
        : undefined;
      // The same run asking for whole answers (stream: false): what streaming costs.
      const wholeConfig = writeConfig('speed-whole', [
        {
          id: 'closed',
          provider: 'openai',
          model: 'closed-sim',
          extra: { baseURL: sim.openaiBaseURL, concurrency: conc, group: 'closed', stream: false },
        },
        {
          id: 'open',
          provider: 'ollama',
          model: 'open-sim:8b',
          extra: { host: sim.ollamaHost, concurrency: conc, stream: false },
        },
      ]);
      const whole = await harness(runArgs(wholeConfig, suite, 'speed-whole'));
      const jBase = base ? journalStats(join(dir, 'results', 'speed-baseline'), 2 * n) : undefined;
      report(
        `speed: 2 models x 5,000 cases, 50 ms latency, concurrency 32 per model (simulator ${process.env.BENCH_NO_WARMUP ? 'cold' : 'warmed up'}, gapbench started cold)`,
        [
          ['wall time (whole command)', `${(r.wallMs / 1000).toFixed(2)} s`],
          ['  before the first request', `${((j.first - r.startedEpoch) / 1000).toFixed(2)} s`],
          ['  requests (first to last)', `${(j.requestPhaseMs / 1000).toFixed(2)} s`],
          ['  after the last answer', `${((r.endedEpoch - j.last) / 1000).toFixed(2)} s`],
          ['process lifetime (incl. Node boot)', `${(r.processWallMs / 1000).toFixed(2)} s`],
          ['ideal (cases x latency / conc.)', `${(ideal / 1000).toFixed(2)} s`],
          [
            'simulator latency, arrival to answer',
            Object.entries(simLatency)
              .map(([m, s]) => `${m} ${s.meanLatencyMs.toFixed(2)} ms`)
              .join(', '),
          ],
          ['latency recorded (mean latency_ms)', `${j.meanLatencyMs.toFixed(2)} ms`],
          ['ratio ideal / wall (target >= 0.90)', (ideal / r.wallMs).toFixed(3)],
          ['ratio ideal / request phase', (ideal / j.requestPhaseMs).toFixed(3)],
          ['simulator CPU (other process)', `${((simCpu.user + simCpu.system) / 1e6).toFixed(2)} s`],
          ['peak RSS (target <= 150 MiB)', `${r.maxRssMiB.toFixed(1)} MiB`],
          [
            'harness CPU time',
            `${(r.cpuMs / 1000).toFixed(2)} s (${((r.cpuMs * 1000) / (2 * n)).toFixed(0)} us per job)`,
          ],
          ['max in flight per model', JSON.stringify(sim.stats().maxInFlight)],
          [
            'whole answers (stream: false)',
            `wall ${(whole.wallMs / 1000).toFixed(2)} s, ratio ${(ideal / whole.wallMs).toFixed(3)}, CPU ${((whole.cpuMs * 1000) / (2 * n)).toFixed(0)} us per job`,
          ],
          ['streamed / whole efficiency (target >= 0.95)', (whole.wallMs / r.wallMs).toFixed(3)],
          ['records / lost / duplicated', `${j.lines} / ${j.lost} / ${j.duplicated}`],
          ...(base
            ? [
                [
                  `baseline (${process.env.BENCH_BASELINE}${BASELINE_ARGS.length ? ` ${BASELINE_ARGS.join(' ')}` : ''})`,
                  `wall ${(base.wallMs / 1000).toFixed(2)} s, ratio ${(ideal / base.wallMs).toFixed(3)}, latency recorded ${jBase.meanLatencyMs.toFixed(2)} ms, peak RSS ${base.maxRssMiB.toFixed(1)} MiB`,
                ],
              ]
            : []),
        ],
      );
    },
  );
}

/**
 * Time to first token as gapbench measures it, against servers that send their first token a known
 * time after each request arrives, with 32 requests in flight per model (target: within 5 ms).
 */
async function ttft(n = 960, delay = 200, conc = 32, tps = Number(process.env.BENCH_TTFT_TPS ?? 50)) {
  const suite = writeSuite('ttft', n);
  const models = [
    { name: 'ttft-sim', accuracy: 0.9, ttftMs: delay, ...(tps ? { tokensPerSecond: tps } : {}) },
    { name: 'ttft-sim:8b', accuracy: 0.7, ttftMs: delay, ...(tps ? { tokensPerSecond: tps } : {}) },
  ];
  await withSim(models, suite, async (sim) => {
    const config = writeConfig('ttft', [
      {
        id: 'closed',
        provider: 'openai',
        model: 'ttft-sim',
        extra: { baseURL: sim.openaiBaseURL, concurrency: conc, group: 'closed' },
      },
      { id: 'open', provider: 'ollama', model: 'ttft-sim:8b', extra: { host: sim.ollamaHost, concurrency: conc } },
    ]);
    await warmUp(sim, [{ name: 'ttft-sim' }, { name: 'ttft-sim:8b', ollama: true }], 200);
    const r = await harness(runArgs(config, suite, 'ttft'));
    const recs = readFileSync(join(dir, 'results', 'ttft', 'records.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const rows = [
      ['wall time', `${(r.wallMs / 1000).toFixed(2)} s`],
      ['harness CPU', `${(r.cpuMs / 1000).toFixed(2)} s (${((r.cpuMs * 1000) / (2 * n)).toFixed(0)} us per job)`],
      ['max in flight per model', JSON.stringify(sim.stats().maxInFlight)],
      ['machine load (1-minute average, cores)', `${loadavg()[0].toFixed(1)} on ${cpus().length}`],
    ];
    // The same requests by the openai SDK alone (no gapbench code), right after: what this machine allows now.
    const bare = await sdkCeiling(sim.openaiBaseURL, 'ttft-sim', n, conc, true);
    const series = {
      closed: recs.filter((x) => x.model === 'closed' && x.ttft_ms !== undefined).map((x) => x.ttft_ms),
      open: recs.filter((x) => x.model === 'open' && x.ttft_ms !== undefined).map((x) => x.ttft_ms),
      'the openai SDK alone (same requests, no gapbench code)': bare.ttfts,
    };
    for (const [id, values] of Object.entries(series)) {
      const off = values.map((x) => x - delay).sort((a, b) => a - b);
      const q = (p) => off[Math.min(off.length - 1, Math.floor((p / 100) * off.length))];
      const mean = off.reduce((a, x) => a + x, 0) / Math.max(1, off.length);
      rows.push([
        `${id}: ttft_ms - ${delay} ms (${off.length} answers)`,
        `mean ${mean.toFixed(2)}, p50 ${q(50).toFixed(2)}, p95 ${q(95).toFixed(2)}, max ${off[off.length - 1].toFixed(2)} ms`,
      ]);
    }
    report(
      `ttft: 2 models x ${n} cases streamed, first token ${delay} ms after arrival, ${conc} in flight per model`,
      rows,
    );
  });
}

/**
 * The transport at realistic latencies (first token after 300 ms, 100 tokens/s: answers of about
 * half a second), 32 in flight per model: streamed, whole answers, and the baseline build.
 */
async function realistic(n = 640, conc = 32) {
  const suite = writeSuite('realistic', n);
  const models = [
    { name: 'real-sim', accuracy: 0.9, ttftMs: 300, tokensPerSecond: 100 },
    { name: 'real-sim:8b', accuracy: 0.7, ttftMs: 300, tokensPerSecond: 100 },
  ];
  await withSim(models, suite, async (sim) => {
    const cfg = (name, extra) =>
      writeConfig(name, [
        {
          id: 'closed',
          provider: 'openai',
          model: 'real-sim',
          extra: { baseURL: sim.openaiBaseURL, concurrency: conc, group: 'closed', ...extra },
        },
        {
          id: 'open',
          provider: 'ollama',
          model: 'real-sim:8b',
          extra: { host: sim.ollamaHost, concurrency: conc, ...extra },
        },
      ]);
    await warmUp(sim, [{ name: 'real-sim' }, { name: 'real-sim:8b', ollama: true }], 200);
    const rows = [];
    const measure = async (label, config, runId, opts) => {
      sim.resetStats();
      const r = await harness(runArgs(config, suite, runId), opts);
      const lat = Object.values(sim.stats().byModel).reduce((a, m) => a + m.meanLatencyMs, 0) / 2;
      const ideal = (n * lat) / conc;
      rows.push([
        label,
        `wall ${(r.wallMs / 1000).toFixed(2)} s, ideal/wall ${(ideal / r.wallMs).toFixed(3)}, CPU ${((r.cpuMs * 1000) / (2 * n)).toFixed(0)} us per job, peak RSS ${r.maxRssMiB.toFixed(0)} MiB (answers ${lat.toFixed(0)} ms)`,
      ]);
    };
    await measure('this build, streamed', cfg('real', {}), 'real');
    await measure('this build, stream: false', cfg('real-whole', { stream: false }), 'real-whole');
    if (BASELINE)
      await measure(`baseline (${process.env.BENCH_BASELINE})`, cfg('real-base', {}), 'real-base', { cli: BASELINE });
    report(`realistic: 2 models x ${n} cases, answers of about 0.5 s, ${conc} in flight per model`, rows);
  });
}

async function faults() {
  const n = 2000;
  const suite = writeSuite('faults', n);
  const f = { error500: 0.025, error503: 0.025, reset: 0.02, hang: 0.01, malformed: 0.01 };
  await withSim(
    [
      { name: 'closed-sim', accuracy: 0.9, latencyMs: 5, faults: f },
      { name: 'open-sim:8b', accuracy: 0.7, latencyMs: 5, faults: f },
    ],
    suite,
    async (sim) => {
      const lane = { concurrency: 32, timeoutMs: 1000, maxRetries: 5 };
      const config = writeConfig('faults', [
        {
          id: 'closed',
          provider: 'openai',
          model: 'closed-sim',
          extra: { baseURL: sim.openaiBaseURL, group: 'closed', ...lane },
        },
        { id: 'open', provider: 'ollama', model: 'open-sim:8b', extra: { host: sim.ollamaHost, ...lane } },
      ]);
      const r = await harness(runArgs(config, suite, 'faults'));
      const j = journalStats(join(dir, 'results', 'faults'), 2 * n);
      const s = sim.stats();
      const injected = Object.values(s.byModel).reduce(
        (a, m) => a + Object.values(m.faults).reduce((x, y) => x + y, 0),
        0,
      );
      report('faults: 2 models x 2,000 cases; 5% 5xx, 2% resets, 1% hangs, 1% malformed', [
        ['wall time', `${(r.wallMs / 1000).toFixed(2)} s`],
        ['faults injected', String(injected)],
        ['rows lost (target 0)', String(j.lost)],
        ['rows duplicated (target 0)', String(j.duplicated)],
        ['error rows (retries ran out)', String(j.errors)],
      ]);
    },
  );
}

async function rateLimit() {
  const rpm = 600;
  const n = 300;
  const suite = writeSuite('ratelimit', n);
  await withSim([{ name: 'limited-sim', accuracy: 0.9, latencyMs: 20, rpm }], suite, async (sim) => {
    const config = writeConfig('ratelimit', [
      {
        id: 'limited',
        provider: 'openai',
        model: 'limited-sim',
        extra: { baseURL: sim.openaiBaseURL, group: 'closed', concurrency: 16, rpm },
      },
    ]);
    const r = await harness(runArgs(config, suite, 'ratelimit'));
    const s = sim.stats().byModel['limited-sim'];
    const achieved = (n / r.wallMs) * 60_000;
    const j = journalStats(join(dir, 'results', 'ratelimit'), n);
    report(`rate limit: one model limited to ${rpm} rpm, ${n} cases`, [
      [
        'achieved rate',
        `${achieved.toFixed(0)} rpm (${((achieved / rpm) * 100).toFixed(1)}% of the limit; target >= 95%)`,
      ],
      [
        'requests answered 429',
        `${s.rateLimited} of ${s.requests} (${((s.rateLimited / s.requests) * 100).toFixed(2)}%; target <= 1%)`,
      ],
      ['rows lost', String(j.lost)],
    ]);
  });
  // No rpm configured: the lane paces itself from the server's x-ratelimit-* headers.
  const serverRpm = 1200;
  const m = 400;
  const suite2 = writeSuite('ratelimit-headers', m);
  await withSim([{ name: 'headers-sim', accuracy: 0.9, latencyMs: 20, rpm: serverRpm }], suite2, async (sim) => {
    const config = writeConfig('ratelimit-headers', [
      {
        id: 'paced',
        provider: 'openai',
        model: 'headers-sim',
        extra: { baseURL: sim.openaiBaseURL, group: 'closed', concurrency: 16 },
      },
    ]);
    const r = await harness(runArgs(config, suite2, 'ratelimit-headers'));
    const s = sim.stats().byModel['headers-sim'];
    const achieved = (m / r.wallMs) * 60_000;
    const j = journalStats(join(dir, 'results', 'ratelimit-headers'), m);
    report(`rate limit from headers: a server limited to ${serverRpm} rpm, no rpm configured, ${m} cases`, [
      ['achieved rate', `${achieved.toFixed(0)} rpm (${((achieved / serverRpm) * 100).toFixed(1)}% of the limit)`],
      [
        'requests answered 429',
        `${s.rateLimited} of ${s.requests} (${((s.rateLimited / s.requests) * 100).toFixed(2)}%; target <= 5%)`,
      ],
      ['rows lost', String(j.lost)],
    ]);
  });
}

/**
 * Scale: 100,000 jobs. Memory must be flat in the number of jobs (records stream to disk), so the
 * jobs are 1,000 cases x 100 repeats; a suite of 100,000 distinct cases is measured too (it holds
 * its cases in memory by nature), and long recorded answers (memory must not grow with their size).
 */
async function scale() {
  await httpScale();
  await bothProtocols();
  await longPrompts();
  await replayScale();
  await replayScale(100_000, 1);
  await replayLong();
}

function writeReplay(cases, file = 'replay.jsonl', output = (i) => `The answer is ${i + (i % 97)}.`) {
  const lines = [];
  for (let i = 0; i < cases; i++) lines.push(JSON.stringify({ id: String(i), output: output(i) }));
  writeFileSync(join(dir, file), `${lines.join('\n')}\n`);
}

function runArgs(config, suite, runId, repeat = 1) {
  return [
    'run',
    '--config',
    config,
    '--suite',
    suite,
    '--quiet',
    '--run-id',
    runId,
    '--cache',
    'off',
    '--repeat',
    String(repeat),
  ];
}

function scaleRows(r, n, runId, rssTarget = 300) {
  return [
    ['jobs per second', (n / (r.wallMs / 1000)).toFixed(0)],
    ['wall time', `${(r.wallMs / 1000).toFixed(2)} s`],
    [`peak RSS (target <= ${rssTarget} MiB)`, `${r.maxRssMiB.toFixed(1)} MiB`],
    [
      'records / lost / duplicated',
      Object.values(journalStats(join(dir, 'results', runId), n))
        .slice(0, 3)
        .join(' / '),
    ],
  ];
}

/** The live heap at 10% and 100% of the jobs, and their ratio (flat in N: at most 1.5). */
function heapRows(r, n) {
  const [at10, at100] = [r.heap[Math.round(n / 10)], r.heap[n]];
  if (at10 === undefined || at100 === undefined) return [['live heap after a full GC', 'not measured']];
  return [
    [
      `live heap + array buffers after GC at ${Math.round(n / 10)} / ${n} jobs`,
      `${at10.toFixed(1)} / ${at100.toFixed(1)} MiB`,
    ],
    ['  ratio (target <= 1.5)', (at100 / at10).toFixed(2)],
  ];
}

function baselineRow(base, n) {
  if (!base) return [];
  return [
    [
      `baseline (${process.env.BENCH_BASELINE})`,
      `${(n / (base.wallMs / 1000)).toFixed(0)} jobs/s, peak RSS ${base.maxRssMiB.toFixed(1)} MiB`,
    ],
  ];
}

async function replayScale(n = Number(process.env.BENCH_N ?? 100_000), repeat = 100) {
  const cases = n / repeat;
  const suite = writeSuite(`scale-${cases}`, cases);
  writeReplay(cases);
  const config = writeConfig('replay', [
    { id: 'replayed', provider: 'replay', model: 'replay.jsonl', extra: { concurrency: 64 } },
  ]);
  const runId = `scale-replay-${cases}`;
  const r = await harness(runArgs(config, suite, runId, repeat));
  report(
    `scale: ${n} jobs (${cases} cases x ${repeat} repeats) through the replay provider (no HTTP: the harness's own cost)`,
    scaleRows(r, n, runId),
  );
}

/**
 * Long recorded answers: 2 models x 12,000 cases whose outputs total about 30 MB (chain-of-thought
 * length), replayed. What a run holds must not grow with the size of the outputs.
 */
async function replayLong(cases = 12_000) {
  const suite = writeSuite(`long-${cases}`, cases);
  const filler = 'Let me think step by step about this problem. '.repeat(28);
  const answer = (i) => `${filler}So the answer is ${i + (i % 97)}.`;
  writeReplay(cases, 'long-a.jsonl', answer);
  writeReplay(cases, 'long-b.jsonl', (i) => (i % 3 ? answer(i) : `${filler}I am not sure.`));
  const mb = (2 * cases * answer(0).length) / 2 ** 20;
  const config = writeConfig('long', [
    { id: 'a', provider: 'replay', model: 'long-a.jsonl', extra: { group: 'closed' } },
    { id: 'b', provider: 'replay', model: 'long-b.jsonl', extra: { group: 'open' } },
  ]);
  const r = await harness(runArgs(config, suite, 'long'));
  const base = BASELINE ? await harness(runArgs(config, suite, 'long-baseline'), { cli: BASELINE }) : undefined;
  report(`scale: 2 models x ${cases} cases replayed, outputs ${mb.toFixed(0)} MB in all`, [
    ...scaleRows(r, 2 * cases, 'long'),
    ...baselineRow(base, 2 * cases),
  ]);
}

async function httpScale(n = Number(process.env.BENCH_N ?? 100_000), repeat = 100) {
  const cases = n / repeat;
  const suite = writeSuite(`scale-${cases}`, cases);
  await withSim([{ name: 'fast-sim', accuracy: 0.8, latencyMs: 0 }], suite, async (sim) => {
    const config = writeConfig('scale', [
      {
        id: 'fast',
        provider: 'openai',
        model: 'fast-sim',
        extra: { baseURL: sim.openaiBaseURL, group: 'closed', concurrency: 64 },
      },
    ]);
    const runId = `scale-http-${cases}`;
    const r = await harness(runArgs(config, suite, runId, repeat));
    const heap = await harness(runArgs(config, suite, `${runId}-heap`, repeat), { heapAt: [n / 10, n] });
    const base = BASELINE
      ? await harness(runArgs(config, suite, `${runId}-baseline`, repeat), { cli: BASELINE })
      : undefined;
    const ceilingN = Math.min(n, 20_000);
    const ceiling = await sdkCeiling(sim.openaiBaseURL, 'fast-sim', ceilingN, 64);
    const sdkRate = ceilingN / (ceiling.wallMs / 1000);
    report(
      `scale: ${n} jobs (${cases} cases x ${repeat} repeats) at zero latency, real openai SDK over loopback HTTP (simulator in the other core)`,
      [
        ...scaleRows(r, n, runId),
        ...heapRows(heap, n),
        ...baselineRow(base, n),
        [
          'the openai SDK alone, same server',
          `${sdkRate.toFixed(0)} requests/s (no gapbench code, Node's fetch; ${((ceiling.cpuMs * 1000) / ceilingN).toFixed(0)} us CPU each)`,
        ],
        ['gapbench rate / SDK-alone rate', (n / (r.wallMs / 1000) / sdkRate).toFixed(2)],
      ],
    );
  });
}

/**
 * Both protocols at once on many distinct cases: 50,000 cases x (an OpenAI-protocol and an
 * Ollama-protocol model) at zero latency, 32 in flight each. Memory must not grow with the jobs.
 */
async function bothProtocols(cases = Number(process.env.BENCH_CASES ?? 50_000)) {
  const suite = writeSuite(`both-${cases}`, cases);
  const models = [
    { name: 'fast-sim', accuracy: 0.8, latencyMs: 0 },
    { name: 'olla-sim:7b', accuracy: 0.7, latencyMs: 0 },
  ];
  await withSim(models, suite, async (sim) => {
    const config = writeConfig('both', [
      {
        id: 'a',
        provider: 'openai',
        model: 'fast-sim',
        extra: { baseURL: sim.openaiBaseURL, group: 'closed', concurrency: 32 },
      },
      {
        id: 'b',
        provider: 'ollama',
        model: 'olla-sim:7b',
        extra: { host: sim.ollamaHost, group: 'open', concurrency: 32 },
      },
    ]);
    const n = 2 * cases;
    const r = await harness(runArgs(config, suite, 'both'));
    const heap = await harness(runArgs(config, suite, 'both-heap'), { heapAt: [n / 10, n] });
    const base = BASELINE ? await harness(runArgs(config, suite, 'both-baseline'), { cli: BASELINE }) : undefined;
    report(`scale: ${cases} cases x 2 models (openai + ollama protocols at once) at zero latency`, [
      ...scaleRows(r, n, 'both'),
      ...heapRows(heap, n),
      ...baselineRow(base, n),
    ]);
  });
}

/**
 * MMLU-Pro's shape, replayed: 2 models x 12,032 cases, questions with ten options (about 9 MB of
 * suite, mixed scripts) and chain-of-thought answers (about 30 MB). Memory must not grow with the
 * size of prompts and outputs.
 */
async function longPrompts(cases = 12_032) {
  const words = [
    'entropy',
    'équilibre',
    'catalyst',
    'θ-angle',
    'voltage',
    'enzyme',
    'contract',
    'liability',
    'neuron',
    'gradient',
  ];
  const w = (i, k) => words[(i * 7 + k) % words.length];
  const letters = 'ABCDEFGHIJ';
  const rows = [];
  const outs = [[], []];
  for (let i = 0; i < cases; i++) {
    const q = `Question ${i}: ${Array.from({ length: 60 }, (_, k) => w(i, k)).join(' ')}?`;
    const options = Object.fromEntries([...letters].map((l, k) => [l, `${w(i, k + 3)} ${w(i, k + 5)} ${i % 13} ${l}`]));
    rows.push(JSON.stringify({ id: String(i), q, ...options, a: letters[i % 10] }));
    const think = Array.from({ length: 180 }, (_, k) => w(i, k + 1)).join(' ');
    outs[0].push(
      JSON.stringify({
        id: String(i),
        output: `Let's think step by step. ${think}. The answer is (${letters[i % 10]}).`,
      }),
    );
    outs[1].push(
      JSON.stringify({
        id: String(i),
        output: `Let's think step by step. ${think}. The answer is (${letters[(i * 3) % 10]}).`,
      }),
    );
  }
  writeFileSync(join(dir, 'pro.jsonl'), `${rows.join('\n')}\n`);
  writeFileSync(join(dir, 'pro-a.jsonl'), `${outs[0].join('\n')}\n`);
  writeFileSync(join(dir, 'pro-b.jsonl'), `${outs[1].join('\n')}\n`);
  const template = `{{q}}${[...letters].map((l) => `\\n${l}. {{${l}}}`).join('')}\\nAnswer with the letter.`;
  writeFileSync(
    join(dir, 'pro.yaml'),
    `name: pro\ntemplate: "${template}"\ngrader: choice\nsource: { path: pro.jsonl, fields: { id: id, expected: a } }\n`,
  );
  const config = writeConfig('pro', [
    { id: 'a', provider: 'replay', model: 'pro-a.jsonl', extra: { group: 'closed' } },
    { id: 'b', provider: 'replay', model: 'pro-b.jsonl', extra: { group: 'open' } },
  ]);
  const suite = join(dir, 'pro.yaml');
  const n = 2 * cases;
  const mb = (f) => (readFileSync(join(dir, f)).length / 2 ** 20).toFixed(0);
  const r = await harness(runArgs(config, suite, 'pro'));
  const heap = await harness(runArgs(config, suite, 'pro-heap'), { heapAt: [Math.round(n / 10), n] });
  const base = BASELINE ? await harness(runArgs(config, suite, 'pro-baseline'), { cli: BASELINE }) : undefined;
  report(
    `scale: MMLU-Pro's shape replayed, 2 x ${cases} cases, suite ${mb('pro.jsonl')} MB, outputs ${+mb('pro-a.jsonl') + +mb('pro-b.jsonl')} MB`,
    [...scaleRows(r, n, 'pro'), ...heapRows(heap, n), ...baselineRow(base, n)],
  );
}

/** The statistics a report computes, on the sizes a large run gives them. */
async function stats() {
  const time = (fn) => {
    fn(); // warm up
    const t = performance.now();
    fn();
    return performance.now() - t;
  };
  const rng = uniform(1);
  const rows = [];
  for (const n of [1_000, 10_000, 100_000]) {
    const a = Array.from({ length: n }, () => (rng() < 0.7 ? 1 : 0));
    const b = Array.from({ length: n }, () => (rng() < 0.6 ? 1 : 0));
    const c = Array.from({ length: n }, () => rng()); // continuous scores (e.g. similarity)
    const k = n.toLocaleString('en');
    rows.push([
      `gap row test + interval (McNemar score, Tango), ${k} pass/fail pairs (target < 1,000 ms)`,
      `${time(() => pairedComparison(a, b)).toFixed(1)} ms`,
    ]);
    rows.push([
      `gap row test + interval (paired t), ${k} continuous pairs (target < 1,000 ms)`,
      `${time(() => pairedComparison(c, b)).toFixed(1)} ms`,
    ]);
    rows.push([`summary interval of ${k} graded scores`, `${time(() => gradedInterval(c)).toFixed(1)} ms`]);
  }
  report('stats: the report statistics at growing sizes (one thread)', rows);
}

/**
 * report.html for a 10,000-job run (2 closed + 2 open replayed models x 2,500 cases, outputs kept):
 * the time the report adds over the CSVs, i.e. loading the report module (ECharts) and rendering
 * and writing the page, measured in this process from the run's journal (target < 1 s).
 */
async function htmlReport(cases = 2_500) {
  const suite = writeSuite(`html-${cases}`, cases);
  const models = [];
  for (const [id, group, miss] of [
    ['closed-a', 'closed', 11],
    ['closed-b', 'closed', 7],
    ['open-a', 'open', 5],
    ['open-b', 'open', 3],
  ]) {
    writeReplay(cases, `${id}.jsonl`, (i) => `The answer is ${i + (i % 97) + (i % miss === 0 ? 1 : 0)}.`);
    models.push({ id, provider: 'replay', model: `${id}.jsonl`, extra: { group } });
  }
  const config = writeConfig('html', models);
  const runId = 'html-report';
  await harness([...runArgs(config, suite, runId), '--matrix-outputs']);
  const runDir = join(dir, 'results', runId);
  const { ReportState } = await import('../dist/report/state.js');
  const { computeReport } = await import('../dist/report/index.js');
  const { readRecordLines } = await import('../dist/journal/read.js');
  const { readManifest } = await import('../dist/journal/manifest.js');
  const state = new ReportState(readManifest(runDir), true);
  for await (const { record, line } of readRecordLines(join(runDir, 'records.jsonl'), true))
    state.add(record, line.offset, line.bytes);
  const r = computeReport(state);
  let t = performance.now();
  const html = await import('../dist/report/html.js');
  const loadMs = performance.now() - t;
  t = performance.now();
  const input = { runId, summary: r.summary, gaps: r.gaps, aggregate: r.aggregate, history: [] };
  html.writeHtmlReport(join(runDir, 'report-bench.html'), input);
  const renderMs = performance.now() - t;
  // results.xlsx: writeReports with and without --xlsx (the first warms the CSV path up).
  const { writeReports } = await import('../dist/report/index.js');
  const opts = { excel: false, matrixOutputs: true, history: false, manifest: readManifest(runDir) };
  await writeReports(runDir, opts);
  t = performance.now();
  await writeReports(runDir, opts);
  const plainMs = performance.now() - t;
  t = performance.now();
  await writeReports(runDir, { ...opts, xlsx: true });
  const xlsxMs = performance.now() - t - plainMs;
  report(`report.html + results.xlsx: ${r.records} jobs, 4 models (added to writing the CSVs)`, [
    ['load report module (ECharts)', `${loadMs.toFixed(0)} ms`],
    ['render + write report.html', `${renderMs.toFixed(0)} ms`],
    ['results.xlsx (load exceljs + write)', `${xlsxMs.toFixed(0)} ms`],
    ['total (target < 1,000 ms)', `${(loadMs + renderMs + xlsxMs).toFixed(0)} ms`],
  ]);
}

/**
 * gapbench merge of 10 shards x 10,000 jobs (2 replayed models x 5,000 cases each): joining the
 * journals and writing every CSV, report.html and the history row (target < 5 s).
 */
async function merge(shards = 10, jobsPerShard = 10_000) {
  const cases = (shards * jobsPerShard) / 2;
  const suite = writeSuite(`merge-${cases}`, cases);
  writeReplay(cases, 'merge-a.jsonl');
  writeReplay(cases, 'merge-b.jsonl', (i) => (i % 4 ? `The answer is ${i + (i % 97)}.` : 'I do not know.'));
  const config = writeConfig('merge', [
    { id: 'a', provider: 'replay', model: 'merge-a.jsonl', extra: { group: 'closed' } },
    { id: 'b', provider: 'replay', model: 'merge-b.jsonl', extra: { group: 'open' } },
  ]);
  const dirs = [];
  for (let i = 1; i <= shards; i++) {
    const r = await harness([...runArgs(config, suite, `merge-shard-${i}`), '--shard', `${i}/${shards}`]);
    if (r.code !== 0) throw new Error(`shard ${i}/${shards} exited ${r.code}`);
    dirs.push(join(dir, 'results', `merge-shard-${i}`));
  }
  const r = await harness(['merge', join(dir, 'merged', 'all'), ...dirs, '--quiet']);
  const one = await harness(['report', join(dir, 'merged', 'all')]);
  report(`merge: ${shards} shards x ${jobsPerShard} jobs (2 replayed models x ${cases} cases) into one run`, [
    ['merge wall time (target < 5 s)', `${(r.wallMs / 1000).toFixed(2)} s`],
    ['  of which rebuilding the reports (gapbench report on the result)', `${(one.wallMs / 1000).toFixed(2)} s`],
    ['peak RSS', `${r.maxRssMiB.toFixed(1)} MiB`],
    [
      'records / lost / duplicated',
      Object.values(journalStats(join(dir, 'merged', 'all'), shards * jobsPerShard))
        .slice(0, 3)
        .join(' / '),
    ],
  ]);
}

/**
 * Batch mode: 5,000 jobs through the simulator's Batch API, once with a batch that takes 0.2 s and
 * once with one that takes 6 s. The CPU the run spends is the same: waiting for a batch is a
 * timer (a status check every 0.2-1 s here), not work.
 */
async function batch(cases = 5_000) {
  const suite = writeSuite(`batch-${cases}`, cases);
  const rows = [];
  for (const delayMs of [200, 6_000]) {
    await withSim(
      [{ name: 'batch-sim', accuracy: 0.8 }],
      suite,
      async (sim) => {
        const config = writeConfig(`batch-${delayMs}`, [
          {
            id: 'batched',
            provider: 'openai',
            model: 'batch-sim',
            extra: { baseURL: sim.openaiBaseURL, group: 'closed', batch: '{ pollS: 0.2, maxPollS: 1 }' },
          },
        ]);
        const r = await harness(runArgs(config, suite, `batch-${delayMs}`));
        if (r.code !== 0) throw new Error(`batch run exited ${r.code}`);
        rows.push([
          `batch of ${delayMs / 1000} s: wall / CPU`,
          `${(r.wallMs / 1000).toFixed(2)} s / ${(r.cpuMs / 1000).toFixed(2)} s (batches created: ${sim.stats().batches.created})`,
        ]);
        rows.push([
          '  records / lost / duplicated',
          Object.values(journalStats(join(dir, 'results', `batch-${delayMs}`), cases))
            .slice(0, 3)
            .join(' / '),
        ]);
      },
      { delayMs },
    );
  }
  report(`batch mode: ${cases} jobs through the Batch API (CPU must not grow with the wait)`, rows);
}

/**
 * Text normalisation (exact, contains) on 1 MiB answers of the shapes that were slow: CPU per
 * answer, in this process (target <= 20 ms each; the regular expressions it replaced took ~150 ms,
 * and minutes on a long run of ". ").
 */
async function normalize() {
  const { normalizeText } = await import('../dist/graders/normalize.js');
  const mib = 1 << 20;
  const words = 'The answer is 42, because 6 × 7 = 42. 答案是四十二。 ';
  const shapes = {
    'prose, Latin and CJK': words.repeat(Math.ceil(mib / words.length)).slice(0, mib),
    'a line break every 2 chars': 'a\n'.repeat(mib / 2),
    'runs of spaces': ('a' + ' '.repeat(1000)).repeat(mib / 1001),
    '". " repeated, then a letter': 'x' + '. '.repeat(mib / 2) + 'y',
    'full-width text': '１２３ＡＢＣ！'.repeat(mib / 7),
  };
  const rows = [];
  for (const [name, text] of Object.entries(shapes)) {
    normalizeText(text, { ignoreCase: true });
    const t0 = process.cpuUsage();
    const n = 5;
    for (let i = 0; i < n; i++) normalizeText(text, { ignoreCase: true });
    const u = process.cpuUsage(t0);
    rows.push([`${name} (target <= 20 ms)`, `${((u.user + u.system) / 1000 / n).toFixed(1)} ms per 1 MiB answer`]);
  }
  report('text normalisation: CPU per 1 MiB answer', rows);
}

/**
 * 2 models x 150 cases answering 1 MiB each, graded by exact, with --matrix-outputs --xlsx: the
 * outputs are read back from the journal as they are written, so peak RSS stays well under the
 * outputs' total (holding them took ~2 GB per 1,000 answers).
 */
async function longOutputs(cases = 150) {
  const mib = 1 << 20;
  const filler = 'Let me think step by step about this problem.\n'.repeat(Math.ceil(mib / 47)).slice(0, mib);
  const lines = [];
  for (let i = 0; i < cases; i++) lines.push(JSON.stringify({ q: `Case ${i}: what is ${i}?`, a: String(i) }));
  writeFileSync(join(dir, 'long-out.jsonl'), `${lines.join('\n')}\n`);
  writeFileSync(
    join(dir, 'long-out.yaml'),
    'name: long-out\ntemplate: "{{q}}"\ngrader: exact\nsource: { path: long-out.jsonl, fields: { expected: a } }\n',
  );
  writeReplay(cases, 'long-out-a.jsonl', (i) => `${filler}${i}`);
  writeReplay(cases, 'long-out-b.jsonl', (i) => (i % 2 ? String(i) : `${filler}${i}`));
  const config = writeConfig('long-out', [
    { id: 'a', provider: 'replay', model: 'long-out-a.jsonl', extra: { group: 'closed' } },
    { id: 'b', provider: 'replay', model: 'long-out-b.jsonl', extra: { group: 'open' } },
  ]);
  const r = await harness([...runArgs(config, join(dir, 'long-out.yaml'), 'long-out'), '--matrix-outputs', '--xlsx']);
  const answers = 2 * cases;
  report(`long outputs: ${answers} answers, ${(1.5 * cases).toFixed(0)} MiB of them, --matrix-outputs --xlsx`, [
    ['exit code', String(r.code)],
    ['CPU per answer', `${(r.cpuMs / answers).toFixed(1)} ms`],
    ['peak RSS (target <= 400 MiB)', `${r.maxRssMiB.toFixed(0)} MiB`],
  ]);
}

/**
 * Start-up: wall time of `gapbench suites`, `gapbench validate` and a run's first progress line,
 * as a user starts them (a new node process each), against the target of 1 s. "cold": a new cache
 * directory (only the bundled suites' entries shipped in dist/parsed/); "warm": the parse cache
 * filled by an earlier start.
 */
async function startup(times = 5) {
  const cli = new URL('../dist/cli.js', import.meta.url).pathname;
  const suites = ['knowledge-mc', 'extraction-json', 'math-word'];
  // BENCH_BASELINE: the same starts of another build, interleaved with this one's (same machine load).
  const builds = [['', cli], ...(BASELINE ? [[' [baseline]', BASELINE]] : [])];
  const timeTo = (build, args, cache, first) =>
    new Promise((resolve, reject) => {
      const t0 = performance.now();
      const child = spawn(process.execPath, [build, ...args], {
        cwd: dir,
        env: { ...process.env, GAPBENCH_CACHE_DIR: cache, BENCH_KEY: 'k' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let at;
      const seen = (d) => {
        if (at === undefined && (!first || first.test(String(d)))) at = performance.now() - t0;
      };
      child.stdout.on('data', seen);
      child.stderr.on('data', seen);
      child.on('close', (code) =>
        code === 0 || first
          ? resolve(first ? at : performance.now() - t0)
          : reject(new Error(`${args[0]} exited ${code}`)),
      );
    });
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const caseList = (await Promise.all(suites.map((s) => loadSuite(s, { cwd: dir, vars: {} })))).flatMap((s) => s.cases);
  const sim = await startSimulator({
    port: 0,
    seed: 1,
    models: [
      { name: 'closed-sim', accuracy: 0.9, latencyMs: 20 },
      { name: 'open-sim:8b', accuracy: 0.7, latencyMs: 20 },
    ],
    answers: answerKeyFromCases(caseList),
  });
  const config = writeConfig('startup', [
    {
      id: 'closed',
      provider: 'openai',
      model: 'closed-sim',
      extra: { baseURL: sim.openaiBaseURL, apiKeyEnv: 'BENCH_KEY', group: 'closed' },
    },
    { id: 'open', provider: 'ollama', model: 'open-sim:8b', extra: { host: sim.ollamaHost, group: 'open' } },
  ]);
  const scenarios = [
    ['gapbench suites', () => ['suites'], undefined],
    ['gapbench validate extraction-json', () => ['validate', 'extraction-json'], undefined],
    ['gapbench validate (3 bundled suites)', () => ['validate', ...suites], undefined],
    [
      'run: first progress line (3 suites, 2 models)',
      (i) => [
        'run',
        '--config',
        config,
        ...suites.flatMap((s) => ['--suite', s]),
        '--run-id',
        `startup-${Date.now()}-${i}`,
        '--limit',
        '5',
        '--cache',
        'off',
      ],
      /^Run /m,
    ],
  ];
  const rows = [];
  try {
    for (const [name, args, first] of scenarios) {
      const cold = builds.map(() => []);
      const warm = builds.map(() => []);
      for (let i = 0; i < times; i++)
        for (const [b, [, build]] of builds.entries()) {
          const cache = join(dir, `startup-cache-${name.length}-${b}-${i}`);
          cold[b].push(await timeTo(build, args(`c${b}-${i}`), cache, first));
          warm[b].push(await timeTo(build, args(`w${b}-${i}`), cache, first));
        }
      for (const [b, [label]] of builds.entries())
        rows.push([
          `${name}${label}`,
          `cold ${median(cold[b]).toFixed(0)} ms, warm ${median(warm[b]).toFixed(0)} ms (target < 1,000 ms; median of ${times})`,
        ]);
    }
  } finally {
    await sim.close();
  }
  report(`startup: a new process each time, as a user runs it (load average ${loadavg()[0].toFixed(1)})`, rows);
}

/**
 * `gapbench capacity` against a simulated serving engine (docs/simulator.md's formula gives the
 * truth): saturation and goodput measured vs configured, the sweep's wall time, and gapbench's
 * own CPU with 256 requests in flight (the simulator runs in this process, gapbench in a child).
 */
async function capacity() {
  const suite = writeSuite('capacity', 200);
  const T = 32;
  const lat = 30;
  // 64 slots, 100 tok/s alone, the batch tending to 2000 tok/s: r(b) = 2000 / (b + 19).
  const knee = { name: 'knee-sim', slots: 64, tokensPerSecond: 100, peakTps: 2000, outputTokens: T, latencyMs: lat };
  // 256 slots at 20 tok/s each: throughput still doubles at 256 in flight, so the sweep gets there.
  const wide = { name: 'wide-sim', slots: 256, tokensPerSecond: 20, outputTokens: T, latencyMs: lat };
  const r = (b) => 2000 / (b + 19);
  const rps = (c) => (Math.min(c, 64) * 1000) / (lat + (T * 1000) / r(Math.min(c, 64)));
  const itl = (c) => (T * 1000) / (r(c) * (T - 1));
  const ITL_TARGET = 20;
  let best = 1;
  while (itl(best + 1) <= ITL_TARGET) best++;
  await withSim([knee, wide], suite, async (sim) => {
    const config = writeConfig('capacity', [
      { id: 'knee', provider: 'openai', model: 'knee-sim', extra: { baseURL: sim.openaiBaseURL, group: 'open' } },
      { id: 'wide', provider: 'openai', model: 'wide-sim', extra: { baseURL: sim.openaiBaseURL, group: 'open' } },
    ]);
    const sweep = async (id, extra) => {
      const runId = `cap-${id}-${extra.join('').replace(/\W/g, '')}`;
      const out = join(dir, 'results');
      const args = ['capacity', '--config', config, '--suite', suite, '--model', id, '--run-id', runId, '--out', out];
      const h = await harness([...args, ...extra]);
      const g = readFileSync(join(out, runId, 'goodput.csv'), 'utf8')
        .split('\r\n')[1]
        .split(',');
      return { h, g };
    };
    const a = await sweep('knee', []);
    const sat = Number(a.g[8]);
    const b = await sweep('knee', ['--slo', `itl_p95_ms=${ITL_TARGET}`]);
    const good = Number(b.g[3]);
    const c = await sweep('wide', ['--step-seconds', '2', '--step-requests', '10']);
    const at256 = /wide \(open\) concurrency 256: ([\d.]+) req\/s.*gapbench CPU ([\d.]+) core/.exec(c.h.err);
    const ratio = (x, y) => `${x.toFixed(2)} / ${y.toFixed(2)} = ${(x / y).toFixed(3)}`;
    report(
      'capacity: gapbench capacity against a simulated engine (64 slots, 100 tok/s alone, 2000 peak, 32-token answers)',
      [
        ['saturation req/s: measured / truth', `${ratio(sat, rps(64))} (target within 5%)`],
        [
          `goodput req/s at itl_p95<=${ITL_TARGET}ms`,
          `${ratio(good, rps(best))} (concurrency ${b.g[5]}, truth ${best}; target within 10%)`,
        ],
        [
          'sweep wall time (default steps)',
          `${(a.h.wallMs / 1000).toFixed(1)} s, with the target ${(b.h.wallMs / 1000).toFixed(1)} s (target under 120 s)`,
        ],
        [
          'gapbench CPU at 256 in flight',
          at256
            ? `${at256[2]} core at ${at256[1]} req/s, ${(Number(at256[1]) * T).toFixed(0)} tok/s streamed (target below 0.5)`
            : `not reached:\n${c.h.err}`,
        ],
        ['machine load (1-minute average, cores)', `${loadavg()[0].toFixed(1)} on ${cpus().length}`],
      ],
    );
  });
}

const all = {
  speed,
  ttft,
  realistic,
  faults,
  rateLimit,
  scale,
  stats,
  htmlReport,
  merge,
  batch,
  startup,
  normalize,
  longOutputs,
};
const extra = {
  capacity,
  replayScale,
  httpScale,
  replayLong,
  bothProtocols,
  longPrompts,
  // Simulated runs with a known truth: coverage, type-I error, power (see bench/stats-coverage.mjs).
  'stats-coverage': async () => (await import('./stats-coverage.mjs')).statsCoverage(report),
  // The stop rule of --until-decided on simulated runs with a known gap (see bench/sequential.mjs).
  sequential: async () => (await import('./sequential.mjs')).sequential(report),
  // Whole --until-decided runs through evaluate() with known gaps (see bench/sequential-e2e.mjs).
  'sequential-e2e': async () => (await import('./sequential-e2e.mjs')).sequentialE2e(report),
};
for (const [name, fn] of Object.entries({ ...all, ...extra })) if ((!only && name in all) || only === name) await fn();
console.log(`\n(bench files in ${dir})`);
