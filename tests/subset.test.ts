import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/journal/manifest.js';
import { globToRegExp } from '../src/run/subset.js';
import { cli, parseCsv, tempDir, writeFiles } from './helpers.js';

const N = 12;

/** Two suites; a closed model right on all but every 6th case, an open one right on even cases. */
function project(): string {
  const dir = tempDir();
  const suite = (name: string) => {
    const lines = [`name: ${name}`, 'grader: numeric', 'cases:'];
    for (let i = 0; i < N; i++) lines.push(`  - { id: c${i}, prompt: "q${i}", expected: ${i}, category: k${i % 3} }`);
    return lines.join('\n');
  };
  const replay = (ok: (i: number) => boolean) =>
    Array.from({ length: N }, (_, i) => JSON.stringify({ id: `c${i}`, output: `${ok(i) ? i : i + 1}` })).join('\n');
  const models = `models:
  - { id: closed, provider: replay, model: closed.jsonl, group: closed }
  - { id: open, provider: replay, model: open.jsonl, group: open }
`;
  writeFiles(dir, {
    'a.yaml': suite('a'),
    'b.yaml': suite('b'),
    'closed.jsonl': replay((i) => i % 6 !== 0),
    'open.jsonl': replay((i) => i % 2 === 0),
    'gapbench.config.yaml': `suites: [a.yaml, b.yaml]\n${models}`,
    'other.yaml': `suites: [a.yaml, b.yaml]\n${models}  - { id: open2, provider: replay, model: open.jsonl, group: open }\n`,
  });
  return dir;
}

type Row = Record<string, string>;
const csv = (dir: string, file: string) => parseCsv(readFileSync(join(dir, file), 'utf8'), { columns: true }) as Row[];
const manifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
const key = (r: Row) => `${r.suite}/${r.case_id}/${r.model}`;
const records = (dir: string) =>
  readFileSync(join(dir, 'records.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { job_id: string; suite: string; case_id: string; model: string; case_index: number });

describe('--case and --category', () => {
  it('globs match whole ids: * any run of characters, ? one, the rest literal', () => {
    expect(globToRegExp('c1*').test('c10')).toBe(true);
    expect(globToRegExp('c1*').test('xc10')).toBe(false);
    expect(globToRegExp('c?').test('c12')).toBe(false);
    expect(globToRegExp('a.b+(c)').test('a.b+(c)')).toBe(true);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
  });

  it('run only the matching cases, with the job ids and case indexes of the whole run, and say so everywhere', async () => {
    const dir = project();
    expect((await cli(['run', '--run-id', 'full', '--quiet'], { cwd: dir })).code).toBe(0);
    const r = await cli(['run', '--run-id', 'sub', '--case', 'c1*', '--case', 'c4', '--category', 'k1'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    // c1, c10, c11, c4 match a glob; of those, k1 (index mod 3 = 1) are c1, c10 and c4.
    expect(r.stderr).toContain('case=c1*|c4 category=k1 (6 of 24 cases)');
    const sub = join(dir, 'results', 'sub');
    const rows = csv(sub, 'results.csv');
    expect([...new Set(rows.map((x) => `${x.suite}/${x.case_id}`))]).toEqual([
      'a/c1',
      'a/c4',
      'a/c10',
      'b/c1',
      'b/c4',
      'b/c10',
    ]);
    const full = new Map(records(join(dir, 'results', 'full')).map((x) => [`${x.suite}/${x.case_id}/${x.model}`, x]));
    for (const x of records(sub)) {
      expect(x.job_id).toBe(full.get(`${x.suite}/${x.case_id}/${x.model}`)!.job_id);
      expect(x.case_index).toBe(full.get(`${x.suite}/${x.case_id}/${x.model}`)!.case_index);
    }
    const m = manifest(sub);
    expect(m.filter).toEqual({ case: ['c1*', 'c4'], category: ['k1'], cases: 6, of: 24 });
    expect(m.config_hash).toBe(manifest(join(dir, 'results', 'full')).config_hash);
    const history = csv(join(dir, 'results'), 'history.csv');
    expect(history.filter((h) => h.run_id === 'full').every((h) => h.filtered === '')).toBe(true);
    expect(history.filter((h) => h.run_id === 'sub').map((h) => h.filtered)).toEqual(
      Array(4).fill('case=c1* category=k1 (6 of 24 cases)'.replace('c1*', 'c1*|c4')),
    );
  });

  it('a filter that matches nothing is one line, exit 2, and nothing written', async () => {
    const dir = project();
    const none = await cli(['run', '--case', 'zz*'], { cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toBe('gapbench run: --case zz*: no case of a, b matches\n');
    const cat = await cli(['run', '--category', 'nope'], { cwd: dir });
    expect(cat.stderr).toBe('gapbench run: --category nope: no case of a, b matches (its categories: k0, k1, k2)\n');
    expect(existsSync(join(dir, 'results'))).toBe(false);
  });

  it('a resumed subset keeps its filter; another filter on --resume is refused', async () => {
    const dir = project();
    expect((await cli(['run', '--run-id', 's', '--quiet', '--category', 'k0'], { cwd: dir })).code).toBe(0);
    const run = join(dir, 'results', 's');
    const again = await cli(['run', '--resume', run, '--retry-errors', '--quiet'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(csv(run, 'results.csv')).toHaveLength(16);
    const changed = await cli(['run', '--resume', run, '--category', 'k1'], { cwd: dir });
    expect(changed.code).toBe(2);
    expect(changed.stderr).toBe('gapbench run: --case, --category and --failed-from cannot change on --resume\n');
  });
});

describe('--failed-from', () => {
  it('asks again exactly the cases some model failed, with their job ids', async () => {
    const dir = project();
    expect((await cli(['run', '--run-id', 'full', '--quiet'], { cwd: dir })).code).toBe(0);
    const full = join(dir, 'results', 'full');
    const failed = new Set(
      csv(full, 'results.csv')
        .filter((x) => x.passed !== 'true')
        .map((x) => `${x.suite}/${x.case_id}`),
    );
    expect(failed.size).toBe(16); // the odd cases (open) and c0, c6 (closed): 8 per suite
    const r = await cli(['run', '--run-id', 'again', '--failed-from', full, '--quiet'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const again = join(dir, 'results', 'again');
    expect(new Set(csv(again, 'results.csv').map((x) => `${x.suite}/${x.case_id}`))).toEqual(failed);
    const ids = new Map(
      records(full).map((x) => [key({ suite: x.suite, case_id: x.case_id, model: x.model }), x.job_id]),
    );
    for (const x of records(again))
      expect(x.job_id).toBe(ids.get(key({ suite: x.suite, case_id: x.case_id, model: x.model })));
    const f = manifest(again).filter!;
    expect(f.failed_from?.run_id).toBe('full');
    expect(f.cases).toBe(16);
    // A re-run of its failures is itself a run of the same config: its failures can be asked again.
    const chained = await cli(['run', '--run-id', 'chain', '--failed-from', again, '--quiet'], { cwd: dir });
    expect(chained.code, chained.stderr).toBe(0);
  });

  it('refuses a run of another config, or no run at all, in one line with nothing written', async () => {
    const dir = project();
    expect((await cli(['run', '--run-id', 'full', '--quiet'], { cwd: dir })).code).toBe(0);
    const full = join(dir, 'results', 'full');
    const other = await cli(['run', '--config', 'other.yaml', '--failed-from', full], { cwd: dir });
    expect(other.code).toBe(2);
    expect(other.stderr).toBe(
      `gapbench run: --failed-from ${full}: that run used another config (model 'open2' added); re-run its failures with its own config and suites\n`,
    );
    const missing = await cli(['run', '--failed-from', 'results/nope'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^gapbench run: .*results\/nope: not a run directory \(no manifest.json\)\n$/);
    expect(readdirSync(join(dir, 'results')).sort()).toEqual(['full', 'history-cases.jsonl', 'history.csv']);
  });

  it('a subset never serves as the regression baseline of a whole run', async () => {
    const dir = project();
    expect((await cli(['run', '--run-id', 'r1', '--quiet'], { cwd: dir })).code).toBe(0);
    // Cases both models pass: every score 100%, so the whole run after it would look like a drop.
    const easy = ['c2', 'c4', 'c8', 'c10'].flatMap((c) => ['--case', c]);
    expect((await cli(['run', '--run-id', 'r2', ...easy, '--quiet'], { cwd: dir })).code).toBe(0);
    const r3 = await cli(['run', '--run-id', 'r3', '--quiet', '--fail-on-regression', '1'], { cwd: dir });
    expect(r3.code, r3.stdout).toBe(0);
    // Against r1, the whole run before the subset r2 (with 12 cases per suite the gate cannot rule out 1 pp).
    expect(r3.stdout).toMatch(
      /--fail-on-regression 1: .* against r1 \(the last comparable, complete, successful run; skipped: r2 \(a subset of the cases/,
    );
    const gated = await cli(['run', '--category', 'k0', '--fail-on-regression', '1'], { cwd: dir });
    expect(gated.code).toBe(2);
    expect(gated.stderr).toMatch(/--fail-on-regression on a subset of the cases needs --baseline DIR/);
  });

  it('shards of a subset merge into a run that keeps the filter; shards of different subsets do not', async () => {
    const dir = project();
    const shard = (id: string, cat: string, i: number) =>
      cli(['run', '--run-id', id, '--quiet', '--category', cat, '--shard', `${i}/2`], { cwd: dir });
    expect((await shard('s1', 'k0', 1)).code).toBe(0);
    expect((await shard('s2', 'k0', 2)).code).toBe(0);
    expect((await shard('x2', 'k1', 2)).code).toBe(0);
    const merged = await cli(['merge', 'results/m', 'results/s1', 'results/s2', '--quiet'], { cwd: dir });
    expect(merged.code, merged.stderr).toBe(0);
    expect(manifest(join(dir, 'results', 'm')).filter).toEqual(manifest(join(dir, 'results', 's1')).filter);
    expect(csv(join(dir, 'results', 'm'), 'results.csv')).toHaveLength(16);
    const mixed = await cli(['merge', 'results/m2', 'results/s1', 'results/x2'], { cwd: dir });
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/results\/x2: shard 2\/2 ran another subset of the cases \(category=k1/);
  });
});
