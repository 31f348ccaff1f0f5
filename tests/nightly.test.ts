/**
 * The regression gate as a scheduled job runs it (README, "Unattended runs"): the same command every
 * night in one results folder, only history.csv and history-cases.jsonl kept between nights (CI),
 * through the CLI against the simulator. A night whose server was down and an ad-hoc `--limit` run
 * are never the baseline; a real 30-point drop fails; nights that differ by noise never do.
 */
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readHistoryFile } from '../src/report/history-read.js';
import { answerKeyFromCases, startSimulator, type Simulator } from '../src/sim/index.js';
import { cli, csvRows, suiteYaml, tempDir, writeFiles } from './helpers.js';

const N = 100;
const cases = Array.from({ length: N }, (_, i) => ({
  id: `q${i}`,
  prompt: `What is ${i} + ${i}?`,
  expected: String(2 * i),
  category: 'x',
  grader: { type: 'numeric' },
  vars: {},
}));

/** A night: the simulator on a fixed port, the open model at `accuracy`, answers drawn by `seed`. */
async function night(port: number, seed: number, accuracy: number): Promise<Simulator> {
  return startSimulator({
    port,
    seed,
    models: [
      { name: 'closed', accuracy: 0.9 },
      { name: 'open', accuracy },
    ],
    answers: answerKeyFromCases(cases),
  });
}

async function project(): Promise<{
  dir: string;
  port: number;
  run: (id: string, ...args: string[]) => ReturnType<typeof cli>;
}> {
  const probe = await startSimulator({ port: 0, models: [{ name: 'x' }] });
  const port = Number(new URL(probe.openaiBaseURL).port);
  await probe.close();
  const dir = tempDir();
  const base = `http://127.0.0.1:${port}/v1`;
  writeFiles(dir, {
    's.yaml': suiteYaml('s', cases),
    'gapbench.config.yaml': [
      'models:',
      `  - { id: closed, provider: openai, model: closed, baseURL: "${base}", group: closed, maxRetries: 1 }`,
      `  - { id: open, provider: openai, model: open, baseURL: "${base}", group: open, maxRetries: 1 }`,
    ].join('\n'),
  });
  const run = (id: string, ...args: string[]) =>
    cli(['run', '--suite', 's.yaml', '--run-id', id, '--quiet', '--fail-on-regression', '5', ...args], {
      cwd: dir,
      env: { OPENAI_API_KEY: 'k' },
    });
  return { dir, port, run };
}

/** As in CI: only the history files survive from one night to the next. */
const forgetRunDirs = (dir: string, ...ids: string[]) =>
  ids.forEach((id) => rmSync(join(dir, 'results', id), { recursive: true, force: true }));

describe('a nightly --fail-on-regression job', () => {
  it('skips the outage night and the ad-hoc --limit run, fails on a real 30-point drop, and never on noise', async () => {
    const { dir, port, run } = await project();
    let sim = await night(port, 1, 0.8);
    expect((await run('n1')).code).toBe(0);
    await sim.close();
    sim = await night(port, 2, 0.8);
    const n2 = await run('n2');
    expect(n2.code, n2.stdout + n2.stderr).toBe(0);
    // 100 cases cannot rule out every 5-point drop from noise: said in words, not failed (nor "ok").
    expect(n2.stdout).toMatch(/(ok|inconclusive) --fail-on-regression 5: .* against n1 \(the last comparable/);
    await sim.close();
    // The server is down all night: every answer an error, exit 1; the run is in history, marked.
    const down = await run('n3-outage');
    expect(down.code).toBe(1);
    sim = await night(port, 3, 0.8);
    // An ad-hoc run on 5 cases in the same folder.
    expect((await run('adhoc', '--limit', '5')).code).toBe(0);
    await sim.close();
    forgetRunDirs(dir, 'n1', 'n2', 'n3-outage', 'adhoc');
    // A real drop: the open model now right on 50% instead of 80%.
    sim = await night(port, 2, 0.5);
    const drop = await run('n4-drop');
    expect(drop.code).toBe(1);
    expect(drop.stdout).toMatch(
      /FAIL open on s: \d+\.\d% -> \d+\.\d% \(-\d+\.\d pp, p < 0\.001, significant at alpha 0\.05\) against n2 \(the last comparable, complete, successful run; skipped: adhoc \(a subset of the cases: first 5 cases of each suite \(--limit 5\)\), n3-outage \(closed, open stopped or answered nothing\)\)/,
    );
    // The drop persists the next night: still compared with n2 (a failed night is no baseline).
    const again = await run('n5-drop');
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(/FAIL open on s: .* against n2 \(/);
    await sim.close();
    const history = csvRows(join(dir, 'results', 'history.csv'));
    expect(history.filter((h) => h.model === 'open').map((h) => [h.run_id, h.exit, h.filtered, h.stopped])).toEqual([
      ['n1', '0', '', '0'],
      ['n2', '0', '', '0'],
      ['n3-outage', '1', '', '1'],
      ['adhoc', '0', 'first 5 cases of each suite (--limit 5)', '0'],
      ['n4-drop', '1', '', '0'],
      ['n5-drop', '1', '', '0'],
    ]);
    // Fixed: noise-only nights from here on never fail.
    for (const seed of [4, 5, 6, 7, 8]) {
      sim = await night(port, seed, 0.8);
      const r = await run(`noise${seed}`);
      await sim.close();
      forgetRunDirs(dir, `noise${seed}`);
      expect(r.code, r.stdout).toBe(0);
      expect(r.stdout).not.toMatch(/FAIL/);
    }
  }, 120_000);

  it('reads a history.csv another tool touched (LF row, extra cells, a cut last row): exit 1 on a real drop, never 70', async () => {
    const { dir, port, run } = await project();
    let sim = await night(port, 1, 0.8);
    expect((await run('a')).code).toBe(0);
    const path = join(dir, 'results', 'history.csv');
    const header = readFileSync(path, 'utf8').split('\r\n')[0];
    // A row appended by another tool with LF only and an extra cell, then a row cut mid-write.
    appendFileSync(
      path,
      `${header
        .split(',')
        .map(() => '"x"')
        .join(',')},"extra"\nb,2026`,
    );
    await sim.close();
    sim = await night(port, 1, 0.5);
    const r = await run('b');
    await sim.close();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /warning: history\.csv: 2 row\(s\) skipped \(line 4: score 'x' is not a number; line 5: cut off/,
    );
    expect(r.stdout).toMatch(/FAIL open on s: .* against a \(/);
    // The report of the next run still reads the history (its chart is not "this run only").
    expect(readFileSync(join(dir, 'results', 'b', 'report.html'), 'utf8')).not.toContain('holds this run only');
  }, 60_000);

  it('refuses --fail-if-inconclusive without --fail-on-regression and --alpha outside (0, 0.5): one line, exit 2', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      's.yaml': suiteYaml('s', cases.slice(0, 2)),
      'gapbench.config.yaml':
        'models:\n  - { id: m, provider: openai, model: m, baseURL: "http://127.0.0.1:9/v1", group: open }\n',
    });
    for (const [args, msg] of [
      [['--fail-if-inconclusive'], 'gapbench run: --fail-if-inconclusive needs --fail-on-regression PP\n'],
      [
        ['--fail-on-regression', '3', '--alpha', '0.5'],
        'gapbench run: --alpha 0.5: expected a significance level above 0 and below 0.5\n',
      ],
      [
        ['--fail-on-regression', '3', '--alpha', '0'],
        'gapbench run: --alpha 0: expected a significance level above 0 and below 0.5\n',
      ],
    ] as const) {
      const r = await cli(['run', '--suite', 's.yaml', ...args], { cwd: dir, env: { OPENAI_API_KEY: 'k' } });
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(msg);
    }
  });

  it('history.csv: CRLF, LF and CR rows all read; quoted line breaks kept; short rows and a cut last row skipped with their line', () => {
    const dir = tempDir();
    const path = join(dir, 'history.csv');
    writeFileSync(
      path,
      '\uFEFF"run_id","model","score"\r\n"a","m",0.5\n"b","m\r\nx",0.6\r"c","m"\r\n"d","m",0.7,"extra"\r\n"e","m",0.',
    );
    const h = readHistoryFile(path);
    expect(h.rows.map((r) => [r.run_id, r.model, r.score])).toEqual([
      ['a', 'm', '0.5'],
      ['b', 'm\r\nx', '0.6'],
      ['d', 'm', '0.7'],
    ]);
    expect(h.skipped).toEqual(['line 5: 2 of 3 cells', 'line 7: cut off (no end of line or an unclosed quote)']);
  });
});
