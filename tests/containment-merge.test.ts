/**
 * gapbench merge trusts no shard: a journal missing records, or holding a record of a model, suite
 * or job its plan never had, stops the merge (exit 2, naming the shard and what is missing or
 * foreign) and nothing is written: no OUT_DIR, no history row.
 */
import { cpSync, existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/sim/index.js';
import { jobId } from '../src/run/plan.js';
import { cli, numericAnswerKey, suiteYaml, tempDir, writeFiles } from './helpers.js';

const cases = Array.from({ length: 7 }, (_, i) => ({ id: `q${i}`, prompt: `What is ${i} + 1?`, expected: i + 1 }));
let sim: Simulator;
let root: string;
/** The two shards' directories, finished; each test tampers with a copy. */
let shards: string[];

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    models: [{ name: 'm', accuracy: 1, latencyMs: 1 }],
    answers: numericAnswerKey(cases),
  });
  root = tempDir();
  writeFiles(root, {
    's.yaml': suiteYaml('s', cases),
    'gapbench.config.yaml': `suites: [s.yaml]\nrepeat: 2\nmodels:\n  - { id: open, provider: ollama, model: m, host: "${sim.ollamaHost}", group: open }\n`,
  });
  shards = [];
  for (const i of [1, 2]) {
    const r = await cli(['run', '--shard', `${i}/2`, '--run-id', `p${i}`, '--quiet'], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
    shards.push(join(root, 'results', `p${i}`));
  }
});
afterAll(() => sim.close());

/** Copies of the shards, the second one changed by `tamper(records)`. */
function tampered(tamper: (lines: string[]) => string[]): { dir: string; parts: string[] } {
  const dir = tempDir();
  const parts = shards.map((s, i) => {
    const to = join(dir, `p${i + 1}`);
    cpSync(s, to, { recursive: true });
    return to;
  });
  const journal = join(parts[1], 'records.jsonl');
  const lines = readFileSync(journal, 'utf8').split('\n').filter(Boolean);
  writeFileSync(journal, `${tamper(lines).join('\n')}\n`);
  return { dir, parts };
}

async function merge(dir: string, parts: string[]) {
  const r = await cli(['merge', 'out/all', ...parts], { cwd: dir });
  // Nothing written: no merged run, no history row beside it.
  expect(existsSync(join(dir, 'out', 'all'))).toBe(false);
  expect(existsSync(join(dir, 'out', 'history.csv'))).toBe(false);
  return r;
}

describe('merge verifies each shard against its plan', () => {
  it('untampered shards merge', async () => {
    const dir = tempDir();
    const r = await cli(['merge', 'out/all', ...shards], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
  });

  it('a shard missing records: exit 2 naming the shard, the model, the suite and how many', async () => {
    const { dir, parts } = tampered((lines) => lines.slice(0, -3));
    const r = await merge(dir, parts);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(
      /^gapbench merge: .*p2: shard 2\/2 is missing 3 of its 6 planned records \(model open, suite s: 3 of 6\); merge nothing from it: run the missing jobs with gapbench run --resume .*p2$/,
    );
  });

  it('a record of a foreign model (its id recomputed to look right): exit 2 naming the model, escaped', async () => {
    const { dir, parts } = tampered((lines) => {
      const r = JSON.parse(lines[0]);
      r.model = 'evil<script>\u001b[31m';
      r.job_id = jobId(r.suite, r.case_id, r.model, r.repeat);
      return [...lines, JSON.stringify(r)];
    });
    const r = await merge(dir, parts);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /p2: shard 2\/2 holds a record that is not of its plan: model 'evil<script>' \(job [0-9a-f]+\), not one of open; merge nothing from it\n$/,
    );
    expect(r.stderr).not.toContain('\u001b');
  });

  it('a foreign job id, a foreign suite, a repeat out of range and an extra case are each refused', async () => {
    const edits: [(r: Record<string, unknown>) => void, RegExp][] = [
      [(r) => (r.job_id = 'f'.repeat(20)), /job id f{20} does not match its suite, case, model and repeat/],
      [(r) => ((r.suite = 'other'), (r.job_id = jobId('other', r.case_id as string, 'open', 0))), /suite 'other'/],
      [
        (r) => ((r.repeat = 5), (r.job_id = jobId('s', r.case_id as string, 'open', 5))),
        /repeat 5 of job .*repeats 2 time/,
      ],
      [
        (r) => ((r.case_id = 'q99'), (r.job_id = jobId('s', 'q99', 'open', r.repeat as number))),
        /case 'q99' makes 4 cases of suite 's', where the shard holds 3/,
      ],
    ];
    for (const [edit, message] of edits) {
      const { dir, parts } = tampered((lines) => {
        const r = JSON.parse(lines[0]);
        edit(r);
        return [...lines, JSON.stringify(r)];
      });
      const r = await merge(dir, parts);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it("a shard's records.jsonl that links outside its directory, or is a FIFO, is not read", async () => {
    const { dir, parts } = tampered((lines) => lines);
    const journal = join(parts[1], 'records.jsonl');
    const secret = join(dir, 'secret.txt');
    writeFileSync(secret, 'password\n');
    rmSync(journal);
    symlinkSync(secret, journal);
    let r = await merge(dir, parts);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/p2: records\.jsonl links outside the shard directory\n$/);
    rmSync(journal);
    mkfifo(journal);
    r = await merge(dir, parts);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/records\.jsonl: not a regular file\n$/);
  });
});

/** A named pipe (Node has no mkfifo): opening it for reading would wait for a writer forever. */
function mkfifo(path: string): void {
  execFileSync('mkfifo', [path]);
}
