/** Shard and merge: a run split across "machines" (processes with their own directories) and joined. */
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerKeyFromCases, startSimulator, type Simulator } from '../src/sim/index.js';
import { ReportState, computeReport } from '../src/report/index.js';
import type { Manifest } from '../src/journal/manifest.js';
import { cli, csvRows, runManifest, runRecords, spawnCli, suiteYaml, tempDir, writeFiles } from './helpers.js';

/** Columns that depend on when and how fast requests ran, not on the answers. */
const TIMING = new Set([
  'run_id',
  'latency_p50_ms',
  'latency_p95_ms',
  'tokens_per_s',
  'started_at',
  'ttft_p50_ms',
  'ttft_p95_ms',
  'ttft_content_p50_ms',
  'decode_tokens_per_s',
]);
const answerColumns = (rows: Record<string, string>[]) =>
  rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !TIMING.has(k))));

// 23 cases over two suites (not a multiple of 4), repeated twice.
const A = Array.from({ length: 14 }, (_, i) => ({ id: `a${i}`, prompt: `What is ${i} plus ${i}?`, expected: 2 * i }));
const B = Array.from({ length: 9 }, (_, i) => ({ id: `b${i}`, prompt: `What is ${i} times 3?`, expected: 3 * i }));

describe('--shard I/N and gapbench merge', () => {
  let sim: Simulator;
  let root: string;
  const env = { OPENAI_API_KEY: 'k' };
  beforeAll(async () => {
    sim = await startSimulator({
      port: 0,
      seed: 7,
      models: [
        { name: 'gpt-sim', accuracy: 0.9 },
        { name: 'llama-sim', accuracy: 0.6 },
      ],
      answers: answerKeyFromCases(
        [...A, ...B].map((c) => ({
          ...c,
          expected: String(c.expected),
          category: '',
          grader: { type: 'numeric' },
          vars: {},
        })),
      ),
    });
    root = tempDir();
    writeFiles(root, {
      'a.yaml': suiteYaml('a', A),
      'b.yaml': suiteYaml('b', B),
      'gapbench.config.yaml': [
        'suites: [a.yaml, b.yaml]',
        'repeat: 2',
        'models:',
        `  - { id: closed, provider: openai, model: gpt-sim, baseURL: "${sim.openaiBaseURL}", group: closed, params: { temperature: 0.7 }, price: { input: 2.5, output: 10 } }`,
        `  - { id: open, provider: ollama, model: llama-sim, host: "${sim.ollamaHost}", group: open, params: { temperature: 0.7 }, price: { input: 0.1, output: 0.2 } }`,
      ].join('\n'),
    });
  });
  afterAll(() => sim.close());

  it('4 shards on 4 machines, merged, give what one machine gives for the same answers', async () => {
    const one = await cli(['run', '--run-id', 'one', '--cache', 'off', '--quiet'], { cwd: root, env });
    expect(one.code).toBe(0);
    const shardDirs: string[] = [];
    // Four machines: separate work directories, separate processes, all at once.
    const machines = [1, 2, 3, 4].map((i) => {
      const cwd = join(root, `machine${i}`);
      mkdirSync(cwd);
      cpSync(join(root, 'a.yaml'), join(cwd, 'a.yaml'));
      cpSync(join(root, 'b.yaml'), join(cwd, 'b.yaml'));
      cpSync(join(root, 'gapbench.config.yaml'), join(cwd, 'gapbench.config.yaml'));
      shardDirs.push(join(cwd, 'results', `part${i}`));
      return spawnCli(['run', '--shard', `${i}/4`, '--run-id', `part${i}`, '--cache', 'off', '--quiet'], { cwd, env })
        .done;
    });
    for (const r of await Promise.all(machines)) expect(r.code, r.stderr).toBe(0);

    // Balanced by case: 23 cases -> 6, 6, 6, 5; each case's models and repeats in one shard.
    const perShard = shardDirs.map(runRecords);
    expect(perShard.map((rs) => new Set(rs.map((r) => `${r.suite}/${r.case_id}`)).size)).toEqual([6, 6, 6, 5]);
    expect(perShard.map((rs) => rs.length)).toEqual([24, 24, 24, 20]);
    const owner = new Map<string, number>();
    perShard.forEach((rs, i) =>
      rs.forEach((r) => {
        expect(owner.get(`${r.suite}/${r.case_id}`) ?? i).toBe(i);
        owner.set(`${r.suite}/${r.case_id}`, i);
      }),
    );
    // A shard writes no history row: that is the merge's.
    expect(existsSync(join(root, 'machine1', 'results', 'history.csv'))).toBe(false);
    expect(runManifest(shardDirs[2]).shard).toEqual({ index: 3, count: 4 });

    const merged = await cli(['merge', 'merged/nightly', ...shardDirs], { cwd: root });
    expect(merged.code, merged.stderr).toBe(0);
    expect(merged.stdout).toContain('Merged 4 shard(s), 92 records');
    const out = join(root, 'merged', 'nightly');
    const single = join(root, 'results', 'one');
    for (const f of ['summary.csv', 'gap.csv', 'matrix.csv'])
      expect(answerColumns(csvRows(join(out, f))), f).toEqual(answerColumns(csvRows(join(single, f))));
    const pick = (rows: Record<string, string>[]) =>
      rows.map((r) => [r.suite, r.case_id, r.model, r.repeat, r.output, r.score, r.cost_usd].join('|'));
    expect(pick(csvRows(join(out, 'results.csv')))).toEqual(pick(csvRows(join(single, 'results.csv'))));
    expect(csvRows(join(out, 'summary.csv'))[0].run_id).toBe('nightly');
    // history.csv beside the merged run: one row per suite x model, as the single run wrote beside its own.
    const hist = answerColumns(csvRows(join(root, 'merged', 'history.csv')));
    expect(hist).toEqual(answerColumns(csvRows(join(root, 'results', 'history.csv'))));
    expect(hist).toHaveLength(4);
    const m = runManifest(out);
    expect(m.status).toBe('finished');
    expect(m.shard).toBeUndefined();
    expect(m.counts).toMatchObject({ jobs: 92, records: 92, unfinished: 0 });
    expect(m.config_hash).toBe(runManifest(single).config_hash);
    expect(m.merged_from?.map((s) => s.shard)).toEqual(['1/4', '2/4', '3/4', '4/4']);
    expect(new Set(runRecords(out).map((r) => r.run_id))).toEqual(new Set(['nightly']));
    // `gapbench report` on the merged directory rebuilds the same figures.
    const before = readFileSync(join(out, 'summary.csv'), 'utf8');
    expect((await cli(['report', out], { cwd: root })).code).toBe(0);
    expect(readFileSync(join(out, 'summary.csv'), 'utf8')).toBe(before);
  }, 60_000);

  it('bad --shard values and a shard resumed as another: one line, exit 2, nothing sent', async () => {
    const before = sim.stats().requests;
    for (const [value, msg] of [
      ['0/4', /--shard 0\/4: I must be from 1 to 4/],
      ['5/4', /--shard 5\/4: I must be from 1 to 4/],
      ['x/4', /--shard x\/4: expected I\/N/],
      ['1/0', /N must be a whole number/],
      ['auto/4', /no shard index in the environment \(looked for JOB_COMPLETION_INDEX/],
    ] as const) {
      const r = await cli(['run', '--shard', value, '--run-id', `bad${value.replace('/', '-')}`], { cwd: root, env });
      expect(r.code, value).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const k8s = await cli(['run', '--shard', 'auto/4', '--run-id', 'k', '--quiet', '--cache', 'off'], {
      cwd: root,
      env: { ...env, JOB_COMPLETION_INDEX: '4' },
    });
    expect(k8s.code).toBe(2);
    expect(k8s.stderr).toMatch(
      /JOB_COMPLETION_INDEX=4 \(Kubernetes Indexed Job, counted from 0\) is not one of 4 shards \(0 to 3\)/,
    );
    expect(sim.stats().requests).toBe(before);

    const ok = await cli(['run', '--shard', 'auto/4', '--run-id', 'k', '--quiet', '--cache', 'off'], {
      cwd: root,
      env: { ...env, JOB_COMPLETION_INDEX: '0' },
    });
    expect(ok.code).toBe(0);
    expect(runManifest(join(root, 'results', 'k')).shard).toEqual({ index: 1, count: 4 });
    const other = await cli(['run', '--resume', 'results/k', '--shard', '2/4'], { cwd: root, env });
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/--shard 2\/4: results\/k is shard 1\/4/);
    // Resumed without --shard: still shard 1/4, nothing asked again.
    const again = sim.stats().requests;
    const resumed = await cli(['run', '--resume', 'results/k', '--quiet'], { cwd: root, env });
    expect(resumed.code).toBe(0);
    expect(sim.stats().requests).toBe(again);
    expect(runRecords(join(root, 'results', 'k'))).toHaveLength(24);
  }, 60_000);

  it('merge refuses a missing, repeated, unfinished or foreign shard, naming it, and writes nothing', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      's.yaml': suiteYaml('s', A.slice(0, 6)),
      't.yaml': suiteYaml('s', A.slice(0, 7)),
      'gapbench.config.yaml': `models:\n  - { id: m, provider: openai, model: gpt-sim, baseURL: "${sim.openaiBaseURL}" }\n`,
    });
    const run = async (args: string[]) =>
      expect((await cli(['run', '--quiet', '--cache', 'off', ...args], { cwd: dir, env })).code).toBe(0);
    await run(['--suite', 's.yaml', '--shard', '1/3', '--run-id', 'p1']);
    await run(['--suite', 's.yaml', '--shard', '2/3', '--run-id', 'p2']);
    await run(['--suite', 's.yaml', '--shard', '3/3', '--run-id', 'p3']);
    await run(['--suite', 't.yaml', '--shard', '3/3', '--run-id', 'q3']);
    await run(['--suite', 's.yaml', '--shard', '2/2', '--run-id', 'r2']);
    await run(['--suite', 's.yaml', '--run-id', 'whole']);
    const cases: [string[], RegExp][] = [
      [['results/p1', 'results/p2'], /shard 3\/3 missing: merge needs all 3 \(given: 1, 2\)/],
      [['results/p1', 'results/p2', 'results/p2'], /results\/p2: shard 2\/3 is given twice/],
      [['results/p1', 'results/p2', 'results/q3'], /results\/q3: shard 3\/3 comes from another config or suites/],
      [['results/p1', 'results/r2'], /results\/r2: shard 2\/2 of a run in 2 parts, but results\/p1 is one of 3/],
      [['results/p1', 'results/whole'], /results\/whole: not a shard/],
      [['results/p1', 'results/nope'], /results\/nope: not a run directory/],
    ];
    for (const [shards, msg] of cases) {
      const r = await cli(['merge', 'out', ...shards], { cwd: dir });
      expect(r.code, shards.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(existsSync(join(dir, 'out'))).toBe(false);
    }
    // An interrupted shard: finish it first.
    const m = runManifest(join(dir, 'results', 'p3'));
    writeFileSync(
      join(dir, 'results', 'p3', 'manifest.json'),
      JSON.stringify({ ...m, status: 'interrupted', counts: { ...m.counts, unfinished: 2 } }),
    );
    const r = await cli(['merge', 'out', 'results/p1', 'results/p2', 'results/p3'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /results\/p3: shard 3\/3 did not finish \(2 job\(s\) not run\); finish it first: gapbench run --resume results\/p3/,
    );
    expect(existsSync(join(dir, 'out'))).toBe(false);
    expect(readdirSync(dir)).not.toContain('out');
  }, 60_000);
});

describe('hourly cost of a sharded run', () => {
  const base = {
    v: 1 as const,
    run_id: 'r',
    suite: 's',
    category: '',
    group: 'open' as const,
    provider: 'ollama',
    model_name: 'x',
    repeat: 0,
    prompt: 'p',
    grader: 'exact',
    grade: { score: 1, passed: true, reason: '' },
    attempts: 1,
    cached: false,
    started_at: '',
    finished_at: '',
    status: 'ok' as const,
    output: 'o',
    latency_ms: 1,
    model: 'm',
  };
  const cost = (endpoint: string) => {
    const m = {
      run_id: 'r',
      models: [
        {
          id: 'm',
          provider: 'ollama',
          protocol: 'ollama',
          model: 'x',
          group: 'open',
          endpoint,
          params: {},
          price: { perHour: 3600 },
        },
      ],
      suites: [{ name: 's', file: '', hash: '', cases: 2, description: '' }],
    } as unknown as Manifest;
    const state = new ReportState(m, false);
    // Two shards busy over the same wall-clock second.
    state.add({ ...base, job_id: 'j1', case_id: 'c1', case_index: 0, shard: 1, t_start: 0, t_end: 1000 }, 0, 1);
    state.add({ ...base, job_id: 'j2', case_id: 'c2', case_index: 1, shard: 2, t_start: 0, t_end: 1000 }, 0, 1);
    return computeReport(state).summary[0].cost_usd;
  };
  it('each shard pays for its own loopback server; a shared remote server is busy once', () => {
    expect(cost('http://127.0.0.1:11434')).toBeCloseTo(2, 9);
    expect(cost('http://localhost:11434')).toBeCloseTo(2, 9);
    expect(cost('http://gpu-box.internal:11434')).toBeCloseTo(1, 9);
  });
});

describe('a gap from a single paired case (a small shard)', () => {
  it('prints no NaN: the interval and p-value say there are none', async () => {
    const { gapLines } = await import('../src/report/terminal.js');
    const { rowsTable } = await import('../src/report/html.js');
    const row = {
      run_id: 'r',
      suite: 's',
      category: 'all',
      scope: 'best' as const,
      closed_model: 'c',
      open_model: 'o',
      closed_score: 1,
      open_score: 0.5,
      gap_pp: 50,
      relative_gap_pct: 50,
      ci_low_pp: NaN,
      ci_high_pp: NaN,
      p_value: NaN,
      test: 'paired_t' as const,
      n_paired: 1,
      verdict: 'no_significant_difference' as const,
      min_detectable_pp: NaN,
      cases_for_5pp: NaN,
      closed_cost_per_correct_usd: undefined,
      open_cost_per_correct_usd: undefined,
      p_adjusted: NaN,
      note: 'too few cases to detect any gap (fewer than 2)',
    };
    const text = gapLines(row, false).join('\n');
    expect(text).toContain('open trails closed by 50.0 pp (no interval from 1 case), no p-value (paired t, 1 case)');
    expect(text).not.toMatch(/NaN|1 cases/);
    expect(rowsTable([row])).not.toContain('NaN');
  });
});
