/**
 * Two processes racing for one run directory never both run and never delete each other's work.
 * Real processes (tests/fixtures/race/open-run-dir.mjs over the built dist/) are started, wait on
 * a start file, and open the directory at the same moment. For the stale-lock race, each one
 * calls widenTakeoverWindow (src/run/lock.ts) so that all of them find the lock stale before any
 * takes it over: the window a real race has for microseconds is held open for 100 ms.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, tempDir } from './helpers.js';

const SCRIPT = join(REPO, 'tests', 'fixtures', 'race', 'open-run-dir.mjs');

/** Starts `n` contenders, releases them together, and returns each one's line of output. */
async function race(n: number, mode: 'new' | 'resume' | 'run-id', target: string): Promise<string[]> {
  const sync = tempDir('gapbench-sync-');
  const children = Array.from({ length: n }, () => {
    const child = spawn(process.execPath, [SCRIPT, mode, target, sync], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    return new Promise<string>((res) => child.on('close', () => res(out.trim())));
  });
  while (readdirSync(sync).filter((f) => f.startsWith('ready-')).length < n)
    await new Promise((r) => setTimeout(r, 10));
  writeFileSync(join(sync, 'go'), '');
  return Promise.all(children);
}

const TRIALS = 3;
const MANIFEST = {
  gapbench: 'test',
  run_id: 'run',
  status: 'running',
  created_at: 'then',
  started_at: 'then',
  config_hash: 'x',
  invocation: { models: [], suites: [], repeat: 1, sets: {}, cwd: '.' },
  models: [],
  suites: [],
  repeat: 1,
  cache: { mode: 'off', dir: '' },
};
const CONTENDERS = 4;

describe('a lock that holds under races', () => {
  it('on a new directory: one contender runs, the others are refused and remove nothing', async () => {
    for (let t = 0; t < TRIALS; t++) {
      const dir = join(tempDir(), 'results', 'same-id');
      const lines = await race(CONTENDERS, 'new', dir);
      expect(
        lines.filter((l) => l === 'won'),
        lines.join('\n'),
      ).toHaveLength(1);
      const lost = lines.filter((l) => l !== 'won');
      for (const l of lost) expect(l).toMatch(/^lost: .*(is in use by gapbench pid \d+|already exists)/);
      // The winner's work is all there and its lock is released.
      expect(readdirSync(dir).filter((f) => f.startsWith('work-'))).toHaveLength(1);
      expect(existsSync(join(dir, '.lock'))).toBe(false);
      expect(readdirSync(dir).filter((f) => f.includes('.lock'))).toEqual([]);
    }
  }, 60_000);

  it('on a stale lock: exactly one contender takes it over', async () => {
    for (let t = 0; t < TRIALS; t++) {
      const dir = join(tempDir(), 'run');
      mkdirSync(dir);
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(MANIFEST));
      // A kill -9 left its lock: a pid that is not running on this host.
      writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: 4194301, host: hostname(), since: 'then' }));
      const lines = await race(CONTENDERS, 'resume', dir);
      const won = lines.filter((l) => l === 'won');
      expect(won, lines.join('\n')).toHaveLength(1);
      for (const l of lines.filter((x) => x !== 'won')) expect(l).toMatch(/^lost: .*is in use by gapbench pid \d+/);
      expect(readdirSync(dir).filter((f) => f.startsWith('work-'))).toHaveLength(1);
    }
  }, 60_000);

  it('two runs started in the same second get different default run ids', async () => {
    const out = join(tempDir(), 'results');
    const ids = await race(CONTENDERS, 'run-id', out);
    expect(new Set(ids).size, ids.join('\n')).toBe(CONTENDERS);
    for (const id of ids) expect(existsSync(join(out, id))).toBe(true);
  }, 60_000);
});
