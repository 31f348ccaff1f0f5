import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate } from '../src/index.js';
import type { JobRecord } from '../src/journal/record.js';
import { gapSequence } from '../src/report/sequential.js';
import { CommitLog } from '../src/report/sequential-log.js';
import { answerKeyFromCases, startSimulator, type Simulator } from '../src/sim/index.js';
import { loadSuite } from '../src/suite/load.js';
import { cli, runRecords, suiteYaml, tempDir, writeFiles } from './helpers.js';

/** A suite of n arithmetic questions, graded numerically; the simulator knows each one's right and wrong answer. */
function writeSuite(dir: string, name: string, n: number): string {
  const cases = Array.from({ length: n }, (_, i) => ({ id: `q${i}`, prompt: `What is ${i} + 1?`, expected: i + 1 }));
  writeFiles(dir, { [`${name}.yaml`]: suiteYaml(name, cases) });
  return join(dir, `${name}.yaml`);
}

const dir = tempDir();
const big = writeSuite(dir, 'big', 300);
const small = writeSuite(dir, 'small', 60);
let sim: Simulator;

beforeAll(async () => {
  const cases = [...(await loadSuite(big, { cwd: dir, vars: {} })).cases];
  sim = await startSimulator({
    models: [
      { name: 'strong', accuracy: 0.9, latencyMs: 1 },
      // Wrong answers come 6x later: committed in completion order they would pile up at the end.
      { name: 'weak', accuracy: 0.6, latencyMs: 1, jitterMs: 2, wrongSlow: 6 },
      { name: 'twin-a', accuracy: 0.7, latencyMs: 1 },
      { name: 'twin-b', accuracy: 0.7, latencyMs: 1 },
    ],
    seed: 7,
    answers: answerKeyFromCases(cases),
  });
});
afterAll(() => sim.close());

const env = () => ({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: sim.openaiBaseURL, OLLAMA_HOST: sim.ollamaHost });
/** Both lanes 4 wide: the dispatch window is 2 x 4 = 8 cases ahead of the commit point. */
const models = (closed: string, open: string) => [
  { provider: 'openai', model: closed, concurrency: 4 },
  { provider: 'ollama', model: open, concurrency: 4 },
];

function deciding(gaps: Awaited<ReturnType<typeof evaluate>>['gaps'], suite: string) {
  return gaps.find((g) => g.suite === suite && g.category === 'all' && g.scope === 'best')!;
}

describe('a sequential run (--until-decided)', () => {
  it('stops at a big gap long before n_max, with the right verdict', async () => {
    const r = await evaluate({
      models: models('strong', 'weak'),
      suites: [big],
      cwd: dir,
      env: env(),
      sequential: { untilDecided: true, orderSeed: 11 },
    });
    const g = deciding(r.gaps, 'big');
    expect(g).toMatchObject({ sequential: true, test: 'betting_cs', stop_reason: 'decided', verdict: 'closed_better' });
    expect(g.ci_low_pp).toBeGreaterThan(0);
    expect(g.n_max).toBe(300);
    expect(g.n_dispatched!).toBeLessThan(150);
    expect(r.records.length).toBeLessThan(2 * 150);
    expect(r.manifest.sequential).toMatchObject({ until: 'decided', order_seed: 11, min_cases: 30, final_test: true });
  });

  it('runs to n_max when there is no gap, and the final test decides', async () => {
    const r = await evaluate({
      models: models('twin-a', 'twin-b'),
      suites: [small],
      cwd: dir,
      env: env(),
      sequential: { untilDecided: true, orderSeed: 3 },
    });
    const g = deciding(r.gaps, 'small');
    expect(g).toMatchObject({ sequential: true, stop_reason: 'n_max', n_dispatched: 60, n_max: 60 });
    expect(g.note).toMatch(/final fixed-n test/);
    expect(r.records).toHaveLength(120);
  });
});

/** The records of a run directory's deciding pair, as per-case differences in drawn order (an independent replay). */
function differencesInOrder(records: JobRecord[], closed: string, open: string): number[] {
  const byPos = new Map<number, { c?: number; o?: number }>();
  for (const r of records) {
    if (r.seq_pos === undefined) continue;
    const e = byPos.get(r.seq_pos) ?? {};
    if (r.model === closed) e.c = r.grade.score;
    if (r.model === open) e.o = r.grade.score;
    byPos.set(r.seq_pos, e);
  }
  const out: number[] = [];
  for (let p = 0; byPos.get(p)?.c !== undefined && byPos.get(p)?.o !== undefined; p++)
    out.push(byPos.get(p)!.c! - byPos.get(p)!.o!);
  return out;
}

/** Where the stop rule of --until-decided (min 30 cases, sequence at alpha/5) first fires on ds. */
function firstDecision(ds: number[], alpha: number): number | undefined {
  for (let n = 30; n <= ds.length; n++) {
    const { low_pp, high_pp } = gapSequence(ds.slice(0, n), alpha).interval();
    if (low_pp > 0 || high_pp < 0) return n;
  }
  return undefined;
}

describe('order and the reorder buffer', () => {
  it('commits in the drawn order although wrong answers finish last, and flags answers after the stop', async () => {
    const out = tempDir();
    const r = await evaluate({
      models: models('strong', 'weak'),
      suites: [big],
      cwd: dir,
      out,
      runId: 'slow-wrong',
      env: env(),
      sequential: { untilDecided: true, orderSeed: 5 },
    });
    const g = deciding(r.gaps, 'big');
    const records = runRecords(join(out, 'slow-wrong'));
    const ds = differencesInOrder(records, 'openai:strong', 'ollama:weak');
    // The run stopped exactly where the rule first fires on the cases taken in drawn order.
    expect(g.stop_reason).toBe('decided');
    expect(g.n_paired).toBe(firstDecision(ds, 0.05 / 5));
    // In completion order (the journal's), the sequence would have seen other cases first.
    const inJournal = records.filter((x) => x.model === 'ollama:weak').map((x) => x.seq_pos);
    expect(inJournal).not.toEqual([...inJournal].sort((a, b) => a! - b!));
    // Nothing was sent beyond the window: 8 cases past the commit point, which never passed the stop.
    const last = Math.max(...records.map((x) => x.seq_pos!));
    expect(last).toBeLessThan(g.n_paired + 8);
    // Answers that came after the rule fired are recorded and flagged.
    const flagged = records.filter((x) => x.after_stop);
    for (const x of flagged) expect(x.seq_pos!).toBeGreaterThanOrEqual(g.n_paired);
  });
});

describe('resume', () => {
  it('a stopped run resumed sends nothing and reports the same; an interrupted one resumes to the same stop', async () => {
    const out = tempDir();
    const opts = {
      models: models('strong', 'weak'),
      suites: [big],
      cwd: dir,
      out,
      env: env(),
      sequential: { untilDecided: true, orderSeed: 9 },
    };
    const straight = await evaluate({ ...opts, runId: 'straight' });
    const again = await evaluate({ ...opts, runId: 'straight', resume: true });
    expect(again.records).toHaveLength(0);
    expect(deciding(again.gaps, 'big')).toEqual(deciding(straight.gaps, 'big'));

    const stop = new AbortController();
    const cut = await evaluate({
      ...opts,
      runId: 'cut',
      signal: stop.signal,
      onProgress: (p) => p.done === 40 && stop.abort(new Error('test stop')),
    });
    expect(cut.manifest.status).toBe('interrupted');
    expect(deciding(cut.gaps, 'big').stop_reason).toBe('interrupted');
    const resumed = await evaluate({ ...opts, runId: 'cut', resume: true, sequential: {} });
    const a = deciding(resumed.gaps, 'big');
    const b = deciding(straight.gaps, 'big');
    expect([a.n_paired, a.stop_reason, a.ci_low_pp, a.ci_high_pp, a.verdict]).toEqual([
      b.n_paired,
      b.stop_reason,
      b.ci_low_pp,
      b.ci_high_pp,
      b.verdict,
    ]);
    // No job was sent twice.
    const ids = runRecords(join(out, 'cut')).map((x) => x.job_id);
    expect(new Set(ids).size).toBe(ids.length);
    // A different order seed on resume is refused before anything is sent.
    await expect(evaluate({ ...opts, runId: 'cut', resume: true, sequential: { orderSeed: 10 } })).rejects.toThrow(
      /--order-seed 10: the resumed run drew its case order with seed 9/,
    );
  });
});

const run = (args: string[]) =>
  cli(['run', '--model', 'openai:strong', '--model', 'ollama:weak', '--suite', big, ...args], { cwd: dir, env: env() });

describe('bad input: one line, exit 2, nothing sent', () => {
  it.each([
    [['--until-ci', '0'], /--until-ci 0: expected a width in percentage points above 0/],
    [['--until-ci'], /--until-ci/],
    [['--until-ci', 'wide'], /--until-ci wide: expected a number of percentage points/],
    [['--margin', '-2'], /--margin -2: expected percentage points from 0 and up/],
    [['--until-decided', '--min-cases', '301'], /--min-cases 301: above suite 'big''s 300 case\(s\) \(n_max\)/],
    [['--until-decided', '--model', 'openai:twin-a'], /needs a pre-declared comparison/],
    [['--until-decided', '--shard', '1/2'], /cannot be sharded/],
    [['--order-seed', '4'], /need --until-decided, --until-ci or --margin/],
  ])('%j', async (args, message) => {
    const before = sim.stats().requests;
    const r = await run(['--quiet', ...(args as string[])]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(sim.stats().requests).toBe(before);
  });

  it('a resumed run with another --order-seed', async () => {
    const first = await run([
      '--quiet',
      '--until-decided',
      '--order-seed',
      '2',
      '--run-id',
      'seeded',
      '--out',
      tempDir(),
    ]);
    expect(first.code).toBe(0);
    const runDir = first.stdout.match(/Results: (.*)/)![1];
    const before = sim.stats().requests;
    const r = await cli(['run', '--resume', runDir, '--order-seed', '3'], { cwd: dir, env: env() });
    expect([r.code, r.stderr.trim()]).toEqual([
      2,
      `gapbench run: --order-seed 3: the resumed run drew its case order with seed 2 (a resume keeps it)`,
    ]);
    expect(sim.stats().requests).toBe(before);
  });
});

describe('at the terminal', () => {
  it('progress shows the interval, the last line why it stopped and what it saved; gapbench report says the same', async () => {
    const out = tempDir();
    const r = await run([
      '--until-decided',
      '--order-seed',
      '4',
      '--run-id',
      't',
      '--out',
      out,
      '--progress-interval',
      '1',
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/sequential, cases in random order \(seed 4\)/);
    expect(r.stderr).toMatch(/sequence big: \d+ case\(s\) in, gap (\[-?\d+\.\d, -?\d+\.\d\] pp|-), /);
    expect(r.stderr).toMatch(
      /sequence big: \d+ case\(s\) in, gap \[.*\] pp, stopped \(decided\): \d+ of 300 case\(s\) saved/,
    );
    const last = r.stdout.match(
      /Sequential stop, big: decided: the interval excludes 0 \(\[(.*)\] pp, (\d+) case\(s\) committed, (\d+) of 300 sent\); saved (\d+) request\(s\), (\d+)% of the cases/,
    );
    expect(last).not.toBeNull();
    const records = runRecords(join(out, 't')).length;
    expect(Number(last![4])).toBe(2 * 300 - records);
    expect(Number(last![4])).toBeGreaterThan(2 * (300 - Number(last![3])) - 1);
    const gapBefore = readFileSync(join(out, 't', 'gap.csv'), 'utf8');
    const rebuilt = await cli(['report', join(out, 't')], { cwd: dir, env: env() });
    expect(rebuilt.stdout).toContain(last![0]);
    expect(readFileSync(join(out, 't', 'gap.csv'), 'utf8')).toBe(gapBefore);
    const html = readFileSync(join(out, 't', 'report.html'), 'utf8');
    expect(html).toMatch(
      /anytime-valid confidence sequence on \d+ committed case\(s\) of 300; stopped: decided, \d+ sent/,
    );
    // The gap chart does not call a confidence sequence a 95% interval.
    expect(html).toContain('percentage points, sequential intervals');
    expect(html).not.toContain('percentage points, with 95% interval');
  });
});

describe('whole runs with known gaps (the bench sequential-e2e does hundreds)', () => {
  it('whatever the case order, a run at a 30-point gap stops early, on the right side, its interval holding the gap', async () => {
    const orders = new Set<string>();
    for (const seed of [21, 22, 23, 24]) {
      const r = await evaluate({
        models: models('strong', 'weak'),
        suites: [big],
        cwd: dir,
        env: env(),
        sequential: { untilDecided: true, orderSeed: seed },
      });
      const g = deciding(r.gaps, 'big');
      expect([g.stop_reason, g.verdict]).toEqual(['decided', 'closed_better']);
      expect(r.records.length).toBeLessThan(300);
      // The interval at the stop holds the run's true gap (0.9 - 0.6).
      expect(g.ci_low_pp).toBeLessThanOrEqual(30);
      expect(g.ci_high_pp).toBeGreaterThanOrEqual(30);
      orders.add(
        r.records
          .filter((x) => x.model === 'openai:strong')
          .map((x) => x.case_id)
          .slice(0, 10)
          .join(),
      );
    }
    // Each seed drew its own order.
    expect(orders.size).toBe(4);
  });
});

describe('several suites', () => {
  it('each suite stops on its own, its sequence at alpha / 5 / suites; the all row has its own sequence', async () => {
    const r = await evaluate({
      models: models('strong', 'weak'),
      suites: [big, small],
      cwd: dir,
      env: env(),
      sequential: { untilDecided: true, orderSeed: 8 },
    });
    const b = deciding(r.gaps, 'big');
    const s = deciding(r.gaps, 'small');
    expect(b.note).toMatch(/decides the stop \(sequence at alpha 0\.005\)/);
    expect(s.note).toMatch(/decides the stop/);
    expect(b.stop_reason).toBe('decided');
    expect(s.n_max).toBe(60);
    // The small suite's cases stopped being sent when it stopped, or ran to its end.
    const sent = new Set(r.records.filter((x) => x.suite === 'small').map((x) => x.case_id)).size;
    expect(sent).toBe(s.n_dispatched);
    const all = r.gaps.find((g) => g.suite === 'all' && g.scope === 'best')!;
    expect(all).toMatchObject({ sequential: true, test: 'betting_cs', n_paired: b.n_paired + s.n_paired, n_max: 360 });
    expect(all.note).not.toMatch(/decides the stop/);
  });

  it('repeats: a case enters once all its repeats are in; batch mode is refused', async () => {
    const r = await evaluate({
      models: models('strong', 'weak'),
      suites: [big],
      repeat: 2,
      cwd: dir,
      env: env(),
      sequential: { untilDecided: true, orderSeed: 12 },
    });
    const g = deciding(r.gaps, 'big');
    expect(g.stop_reason).toBe('decided');
    const committed = r.records.filter((x) => x.seq_pos! < g.n_paired);
    expect(committed).toHaveLength(g.n_paired * 2 * 2);
    await expect(
      evaluate({
        models: [{ provider: 'openai', model: 'strong', batch: true }, 'ollama:weak'],
        suites: [big],
        cwd: dir,
        out: tempDir(),
        env: env(),
        sequential: { untilDecided: true },
      }),
    ).rejects.toThrow(/batch mode answers within hours/);
  });
});

describe('what stopping saved', () => {
  it('in money, at the measured mean cost of a request', async () => {
    const r = await evaluate({
      models: [
        { provider: 'openai', model: 'strong', concurrency: 4, price: { input: 1000, output: 2000 } },
        { provider: 'ollama', model: 'weak', concurrency: 4, price: { input: 1000, output: 2000 } },
      ],
      suites: [big],
      cwd: dir,
      env: env(),
      sequential: { untilDecided: true, orderSeed: 11 },
    });
    const cost = r.summary.reduce((s, x) => s + (x.cost_usd ?? 0), 0);
    const perRequest = cost / r.records.length;
    const line = r.text.split('\n').find((l) => l.startsWith('Sequential stop, big'))!;
    const m = line.match(
      /saved (\d+) request\(s\), \d+% of the cases, about \$([\d.e-]+) at the measured \$([\d.e-]+) per request/,
    );
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBe(600 - r.records.length);
    expect(Number(m![3])).toBeCloseTo(perRequest, 3 - Math.ceil(Math.log10(perRequest)));
    expect(Number(m![2]) / (Number(m![1]) * perRequest)).toBeCloseTo(1, 2);
  });

  it('a resumed run keeps its rule: another --min-cases is refused', async () => {
    const out = tempDir();
    const first = await run(['--quiet', '--until-decided', '--order-seed', '2', '--run-id', 'rule', '--out', out]);
    expect(first.code).toBe(0);
    const r = await cli(['run', '--resume', join(out, 'rule'), '--min-cases', '50'], { cwd: dir, env: env() });
    expect([r.code, r.stderr.trim()]).toEqual([
      2,
      'gapbench run: --resume: the run keeps the stop rule it was started with (see its manifest.json, `sequential`)',
    ]);
  });
});

describe('config and the deciding row', () => {
  it('sequential: in the config; the first pairs: row decides, every other row gets its own sequence', async () => {
    const cwd = tempDir();
    writeFiles(cwd, {
      'gapbench.config.yaml': [
        'models:',
        '  - { id: strong, provider: openai, model: strong, concurrency: 4 }',
        '  - { id: twin, provider: openai, model: twin-a, concurrency: 4 }',
        '  - { id: weak, provider: ollama, model: weak, concurrency: 4 }',
        'pairs:',
        '  - { closed: strong, open: weak }',
        'sequential: { until: decided, order_seed: 6, min_cases: 40 }',
      ].join('\n'),
    });
    const r = await evaluate({ config: join(cwd, 'gapbench.config.yaml'), suites: [big], cwd, env: env() });
    expect(r.manifest.sequential).toEqual({ until: 'decided', min_cases: 40, final_test: true, order_seed: 6 });
    const rows = r.gaps.filter((g) => g.suite === 'big' && g.category === 'all');
    const pair = rows.find((g) => g.scope === 'pair')!;
    expect(pair.note).toMatch(/^decides the stop/);
    expect(pair.stop_reason).toBe('decided');
    expect(pair.n_paired).toBeGreaterThanOrEqual(40);
    for (const g of rows.filter((x) => x.scope !== 'pair')) {
      expect(g).toMatchObject({ sequential: true, test: 'betting_cs', stop_reason: 'decided' });
      expect(g.note).not.toMatch(/decides the stop/);
    }
    expect(rows.map((g) => g.scope).sort()).toEqual(['best', 'mean', 'pair']);
  });
});

describe('a lane that stops', () => {
  it('a model whose lane stopped (unknown model) holds nothing up; the decision goes on', async () => {
    const cwd = tempDir();
    writeFiles(cwd, {
      'gapbench.config.yaml': [
        'models:',
        '  - { id: strong, provider: openai, model: strong, concurrency: 4 }',
        '  - { id: ghost, provider: openai, model: no-such-model, concurrency: 4 }',
        '  - { id: weak, provider: ollama, model: weak, concurrency: 4 }',
        'pairs:',
        '  - { closed: strong, open: weak }',
      ].join('\n'),
    });
    const r = await evaluate({
      config: join(cwd, 'gapbench.config.yaml'),
      suites: [big],
      cwd,
      env: env(),
      sequential: { untilDecided: true, orderSeed: 1 },
    });
    const pair = r.gaps.find((g) => g.suite === 'big' && g.scope === 'pair' && g.category === 'all')!;
    expect(pair.stop_reason).toBe('decided');
    const ghost = r.records.filter((x) => x.model === 'ghost');
    expect(ghost.every((x) => x.status === 'error')).toBe(true);
    // Its lane stopped on the first answer; the rest of its jobs are recorded as not sent, and count for nothing.
    expect(ghost.length).toBeGreaterThan(0);
  });
});

describe('a deciding lane that stops', () => {
  it('ends the sequence (interrupted): nothing more is sent, and the unsent jobs are unfinished', async () => {
    const r = await evaluate({
      models: [
        { provider: 'openai', model: 'strong', concurrency: 4 },
        { provider: 'ollama', model: 'no-such-model', concurrency: 4 },
      ],
      suites: [big],
      cwd: dir,
      env: env(),
      sequential: { untilDecided: true, orderSeed: 1 },
    });
    expect(r.gaps.filter((g) => g.sequential)).toEqual([]);
    expect(r.records.length).toBeLessThan(60);
    expect(r.unfinished).toBe(600 - r.records.length);
  });
});

describe('the commit log (reorder buffer)', () => {
  const settings = { until: 'decided' as const, min_cases: 2, final_test: false, order_seed: 0 };
  const log = () =>
    new CommitLog({
      settings,
      alpha: 0.05,
      suites: [{ name: 's', nMax: 4 }],
      deciding: { closed: ['c'], open: ['o'] },
      required: ['c', 'o', 'x'],
      repeat: 1,
    });
  const answer = (model: string, pos: number, score: number | undefined) => ({
    suite: 's',
    caseId: `k${pos}`,
    model,
    repeat: 0,
    pos,
    score,
  });

  it('holds early arrivals until every earlier position entered; an excluded error advances without entering', () => {
    const l = log();
    const s = l.suites.get('s')!;
    for (const m of ['c', 'o', 'x']) l.add(answer(m, 1, m === 'c' ? 1 : 0));
    expect([s.settled, s.seq.n]).toEqual([0, 0]);
    l.add(answer('c', 0, undefined));
    l.add(answer('o', 0, 1));
    expect(s.settled).toBe(0); // x has not answered position 0
    l.drop('x');
    // Position 0: the closed side's answer is an error left out of scores, so the case settles without entering.
    expect([s.settled, s.seq.n, [...s.entered.keys()]]).toEqual([2, 1, ['k1']]);
    expect(s.dispatched.size).toBe(2);
  });
});
