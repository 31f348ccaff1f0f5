/**
 * Files named by users, suites and run directories are read with a bound: a special file
 * (/dev/zero, a FIFO, a directory) is refused before a byte is read, a size is checked while
 * reading (not only from stat), and a manifest that is not one is exit 2 in one line.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLines } from '../src/journal/read.js';
import { readBounded } from '../src/util/readfile.js';
import { cli, suiteYaml, tempDir, writeFiles } from './helpers.js';

const mkfifo = (path: string) => execFileSync('mkfifo', [path]);
const CONFIG = 'models:\n  - { id: m, provider: ollama, model: m, host: "http://127.0.0.1:9" }\n';
const CASES = [{ id: 'q0', prompt: 'What is 1 + 1?', expected: 2 }];

const VALID = {
  gapbench: '0.1.0',
  run_id: 'run',
  status: 'finished',
  created_at: 'x',
  started_at: 'x',
  config_hash: 'x',
  invocation: { models: [], suites: [], repeat: 1, sets: {}, cwd: '.' },
  models: [],
  suites: [],
  repeat: 1,
  cache: { mode: 'off', dir: '' },
};

function project(): string {
  const dir = tempDir();
  writeFiles(dir, { 'gapbench.config.yaml': CONFIG, 's.yaml': suiteYaml('s', CASES) });
  mkfifo(join(dir, 'fifo.yaml'));
  mkdirSync(join(dir, 'folder.yaml'));
  return dir;
}

describe('special files are refused up front', () => {
  it.each([
    [
      '--suite /dev/zero',
      ['validate', '/dev/zero'],
      /^gapbench validate: \/dev\/zero: is a device, not a regular file$/,
    ],
    ['--suite FIFO', ['validate', 'fifo.yaml'], /fifo\.yaml: is a FIFO \(named pipe\), not a regular file$/],
    ['--suite directory', ['validate', 'folder.yaml'], /folder\.yaml: is a directory, not a file$/],
    [
      '--config /dev/zero',
      ['run', '--config', '/dev/zero', '--suite', 's.yaml'],
      /\/dev\/zero: is a device, not a regular file$/,
    ],
    ['--config FIFO', ['run', '--config', 'fifo.yaml', '--suite', 's.yaml'], /fifo\.yaml: is a FIFO/],
  ])('%s: exit 2 in one line, nothing run', async (_what, argv, message) => {
    const dir = project();
    const r = await cli(argv, { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(dir, 'results'))).toBe(false);
  });

  it.each(['/dev/zero', 'fifo.jsonl'])("a suite's source.path %s: exit 2 naming it", async (source) => {
    const dir = project();
    mkfifo(join(dir, 'fifo.jsonl'));
    writeFileSync(join(dir, 'src.yaml'), `name: src\ntemplate: "{{q}}"\nsource:\n  path: ${source}\n  format: jsonl\n`);
    const r = await cli(['validate', 'src.yaml'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(
      /(\/dev\/zero: is a device|fifo\.jsonl: is a FIFO \(named pipe\)), not a regular file$/,
    );
  });
});

describe('sizes are checked while reading', () => {
  it('a file whose stat says 0 bytes (/proc) is still cut at the bound', () => {
    const path = '/proc/self/maps';
    if (!existsSync(path)) return console.log('skipped: no /proc on this system');
    expect(() => readBounded(path, 64)).toThrow(/^\/proc\/self\/maps: over the 64 bytes this file may have$/);
  });

  it('a journal line that never ends is skipped past the line bound, not held', async () => {
    const path = join(tempDir(), 'records.jsonl');
    writeFileSync(path, `{"a":1}\n${'x'.repeat(3 << 20)}`); // 3 MiB without a newline
    const stats = { oversized: 0 };
    const lines: string[] = [];
    for await (const l of readLines(path, 1 << 20, stats)) lines.push(l.text);
    expect(lines).toEqual(['{"a":1}']);
    expect(stats.oversized).toBe(1);
  });

  it('long lines across many chunks come back whole, with their offsets', async () => {
    const path = join(tempDir(), 'records.jsonl');
    const long = 'y'.repeat((5 << 20) + 3);
    writeFileSync(path, `a\r\n${long}\nb`);
    const lines = [];
    for await (const l of readLines(path)) lines.push(l);
    expect(lines.map((l) => [l.text.length, l.offset, l.bytes])).toEqual([
      [1, 0, 1],
      [long.length, 3, long.length],
      [1, long.length + 4, 1],
    ]);
  });
});

describe('a manifest that is not one', () => {
  it.each([
    ['{}', '{}', /manifest\.json: not a gapbench manifest \(gapbench: required\)/],
    [
      'partial',
      '{"gapbench":"0.1.0","run_id":"x","status":"finished"}',
      /manifest\.json: not a gapbench manifest \(created_at: required\)/,
    ],
    [
      'wrong type',
      '[1,2]',
      /manifest\.json: not a gapbench manifest \(\(top level\): expected object, received array\)/,
    ],
    ['a batch file outside', null, /batches\[0\]\.file: must be a path inside the run directory/],
  ])('%s: gapbench report exits 2 with one line', async (_what, text, message) => {
    const dir = tempDir();
    const run = join(dir, 'run');
    mkdirSync(run);
    writeFileSync(join(run, 'records.jsonl'), '');
    writeFileSync(
      join(run, 'manifest.json'),
      text ?? JSON.stringify({ ...VALID, batches: [{ model: 'm', file: '../../etc/passwd', requests: 1 }] }),
    );
    const r = await cli(['report', run], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a FIFO as manifest.json or records.jsonl: exit 2, no wait', async () => {
    const dir = tempDir();
    const run = join(dir, 'run');
    mkdirSync(run);
    mkfifo(join(run, 'manifest.json'));
    let r = await cli(['report', run], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/manifest\.json: is a FIFO \(named pipe\), not a regular file$/);
    // A valid manifest, its journal a FIFO.
    rmSync(join(run, 'manifest.json'));
    writeFileSync(join(run, 'manifest.json'), JSON.stringify({ ...VALID, batches: [] }));
    mkfifo(join(run, 'records.jsonl'));
    r = await cli(['report', run], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/records\.jsonl: not a regular file$/);
  });
});
