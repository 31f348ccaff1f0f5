// npm run bench -- sequential-e2e: whole `--until-decided` runs through gapbench itself
// (evaluate(), the lanes, the dispatch window, the reorder buffer, the reports), not its internal
// functions, against the loopback simulator with known accuracies. Each run gets its own simulator
// seed (fresh answers) and order seed. The open model's wrong answers come 4x later than its right
// ones, so a run that committed cases in completion order would see its failures late. Prints, per
// true gap: wrong verdicts (type-I error at a true gap of 0), coverage of the true gap by gap.csv's
// interval at the stop, stop reasons, and the share of requests saved. SEQ_E2E_RUNS sets the runs
// per cell (default 100); SEQ_E2E_NMAX the cases per suite (default 1,000).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluate } from '../dist/index.js';
import { answerKeyFromCases, startSimulator } from '../dist/sim/index.js';
import { CommitLog } from '../dist/report/sequential-log.js';
import { loadSuite } from '../dist/suite/load.js';

const RUNS = Number(process.env.SEQ_E2E_RUNS ?? 100);
const N_MAX = Number(process.env.SEQ_E2E_NMAX ?? 1000);
const ALPHA = 0.05;
const pct = (x) => `${(x * 100).toFixed(1)}%`;

/** A numeric suite of n questions, written once. */
async function suiteOf(n) {
  const dir = mkdtempSync(join(tmpdir(), 'gapbench-seq-e2e-'));
  const lines = ['name: e2e', 'grader: numeric', 'cases:'];
  for (let i = 0; i < n; i++) lines.push(`  - { id: q${i}, prompt: "What is ${i} + 7?", expected: ${i + 7} }`);
  writeFileSync(join(dir, 'e2e.yaml'), lines.join('\n'));
  const file = join(dir, 'e2e.yaml');
  return { dir, file, cases: (await loadSuite(file, { cwd: dir, vars: {} })).cases };
}

/** One whole run at accuracies (closed, open); what gap.csv's deciding row and the records say. */
async function oneRun(suite, closed, open, seed) {
  const sim = await startSimulator({
    models: [
      { name: 'closed', accuracy: closed, latencyMs: 0 },
      { name: 'open', accuracy: open, latencyMs: 1, wrongSlow: 4 },
    ],
    seed,
    answers: answerKeyFromCases(suite.cases),
  });
  try {
    const r = await evaluate({
      models: [
        { provider: 'openai', model: 'closed', concurrency: 32 },
        { provider: 'ollama', model: 'open', concurrency: 32 },
      ],
      suites: [suite.file],
      cwd: suite.dir,
      env: { OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: sim.openaiBaseURL, OLLAMA_HOST: sim.ollamaHost },
      keepRecords: true,
      sequential: { untilDecided: true, orderSeed: seed },
    });
    const g = r.gaps.find((x) => x.suite === 'e2e' && x.category === 'all' && x.scope === 'best');
    return { g, requests: r.records.length };
  } finally {
    await sim.close();
  }
}

/** CPU per answer of the commit log (reorder buffer, sequence update, stop rule), a long undecided suite. */
function commitLogCost() {
  const n = 20000;
  const log = new CommitLog({
    settings: { until: 'decided', min_cases: 30, final_test: true, order_seed: 0 },
    alpha: ALPHA,
    suites: [{ name: 's', nMax: n }],
    deciding: { closed: ['c'], open: ['o'] },
    required: ['c', 'o'],
    repeat: 1,
  });
  const t0 = process.cpuUsage();
  // Both sides score the same on every case: nothing to decide, so every case is committed.
  for (let pos = n - 1; pos >= 0; pos--) {
    const score = (pos * 2654435761) % 7 < 4 ? 1 : 0;
    for (const model of ['o', 'c']) log.add({ suite: 's', caseId: `k${pos}`, model, repeat: 0, pos, score });
  }
  const u = process.cpuUsage(t0);
  const us = (u.user + u.system) / (2 * n);
  return `${us.toFixed(2)} µs per answer, answers arriving in reverse order (${((us * 1000) / 1e4).toFixed(2)}% of a core at 1,000 answers/s; target < 5%)`;
}

export async function sequentialE2e(report) {
  const suite = await suiteOf(N_MAX);
  const cells = [
    { gap: 0, closed: 0.7, open: 0.7 },
    { gap: 20, closed: 0.8, open: 0.6 },
  ];
  const rows = [];
  const started = Date.now();
  for (const c of cells) {
    let wrong = 0;
    let sided = 0;
    let covered = 0;
    let saved = 0;
    const reasons = {};
    for (let i = 0; i < RUNS; i++) {
      const { g, requests } = await oneRun(suite, c.closed, c.open, 1000 * c.gap + i + 1);
      const truth = c.gap;
      if (g.verdict !== 'no_significant_difference') sided++;
      const right = truth === 0 ? g.verdict === 'no_significant_difference' : g.verdict === 'closed_better';
      if (!right) wrong++;
      if (g.ci_low_pp <= truth && truth <= g.ci_high_pp) covered++;
      saved += 1 - requests / (2 * N_MAX);
      reasons[g.stop_reason] = (reasons[g.stop_reason] ?? 0) + 1;
    }
    const label = `gap ${c.gap} pp (${c.closed} vs ${c.open})`;
    rows.push([
      `${label}: wrong verdicts`,
      `${pct(wrong / RUNS)} of ${RUNS} runs${c.gap === 0 ? ` (type-I error; target <= ${pct(ALPHA + 0.01)})` : ''}`,
    ]);
    rows.push([`${label}: a side named`, pct(sided / RUNS)]);
    rows.push([`${label}: interval covers truth`, `${pct(covered / RUNS)} at the stop (target >= 94%)`]);
    rows.push([`${label}: requests saved`, `${pct(saved / RUNS)} on average (n_max ${N_MAX})`]);
    rows.push([
      `${label}: stop reasons`,
      Object.entries(reasons)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    ]);
  }
  rows.push(['commit log CPU', commitLogCost()]);
  rows.push(['wall time', `${((Date.now() - started) / 1000).toFixed(0)} s for ${cells.length * RUNS} runs`]);
  report(`sequential-e2e: --until-decided through evaluate() and the simulator, open side's failures 4x slower`, rows);
}
