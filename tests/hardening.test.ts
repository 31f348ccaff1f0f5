/** A run directory has one writer: a resume racing a live run is refused; a dead holder's lock is taken over. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerKeyFromCases, startSimulator, type Simulator } from '../src/sim/index.js';
import { cli, spawnCli, suiteYaml, tempDir, withServer, writeFiles } from './helpers.js';

const cases = Array.from({ length: 16 }, (_, i) => ({
  id: `q${i}`,
  prompt: `What is ${i} + 1?`,
  expected: String(i + 1),
  category: 'x',
  grader: { type: 'numeric' },
  vars: {},
}));
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    models: [{ name: 'slow', accuracy: 1, latencyMs: 250 }],
    answers: answerKeyFromCases(cases),
  });
});
afterAll(() => sim.close());

function project(): string {
  const dir = tempDir();
  writeFiles(dir, {
    's.yaml': suiteYaml('s', cases),
    'gapbench.config.yaml': `models:\n  - { id: slow, provider: ollama, model: slow, host: "${sim.ollamaHost}", concurrency: 2 }\n`,
  });
  return dir;
}

describe('one writer per run directory', () => {
  it('refuses a resume while the run is still going, naming the holder, and sends nothing', async () => {
    const dir = project();
    const run = join(dir, 'results', 'live');
    const first = spawnCli(['run', '--suite', 's.yaml', '--run-id', 'live', '--quiet'], { cwd: dir });
    while (!existsSync(join(run, '.lock'))) await new Promise((r) => setTimeout(r, 20));
    const before = sim.stats().byModel.slow.requests;
    const second = await cli(['run', '--resume', run], { cwd: dir });
    expect(second.code).toBe(2);
    expect(second.stderr.trim()).toMatch(
      new RegExp(`^gapbench run: .*live is in use by gapbench pid ${first.child.pid} on ${hostname()} since `),
    );
    const done = await first.done;
    expect(done.code).toBe(0);
    // The second attempt sent nothing: every request came from the first run, one per job.
    expect(sim.stats().byModel.slow.requests - before).toBeLessThanOrEqual(cases.length);
    expect(readFileSync(join(run, 'records.jsonl'), 'utf8').trim().split('\n')).toHaveLength(cases.length);
    expect(existsSync(join(run, '.lock'))).toBe(false);
  }, 30_000);

  it('takes over a lock whose process is gone, with a notice', async () => {
    const dir = project();
    expect((await cli(['run', '--suite', 's.yaml', '--run-id', 'r', '--quiet'], { cwd: dir })).code).toBe(0);
    const run = join(dir, 'results', 'r');
    // A kill -9 leaves its lock behind: a pid that is not running on this host.
    writeFileSync(join(run, '.lock'), JSON.stringify({ pid: 2 ** 22 + 17, host: hostname(), since: 'then' }));
    const r = await cli(['run', '--resume', run, '--quiet'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/note: took over the lock of .* left by pid 4194321, which is no longer running/);
    expect(existsSync(join(run, '.lock'))).toBe(false);
  });
});

describe('credentials in URLs never leak', () => {
  it('an Ollama host with user:password@ authenticates with Basic auth, and the password appears in no output', async () => {
    const password = 'Pw-Secret-9931';
    await withServer(
      (req, res) => {
        let raw = '';
        req.on('data', (d) => (raw += d));
        req.on('end', () => {
          const auth = req.headers.authorization ?? '';
          const ok = auth === `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
          res.setHeader('content-type', 'application/json');
          if (!ok) {
            res.statusCode = 401;
            res.end(JSON.stringify({ error: `unauthorized: ${auth}` }));
            return;
          }
          // A hostile model that echoes the request's credentials in its answer.
          const prompt = (JSON.parse(raw).messages as { content: string }[]).at(-1)!.content;
          const n = Number(/What is (\d+) \+ 1/.exec(prompt)![1]) + 1;
          res.end(
            JSON.stringify({
              model: 'm',
              message: { role: 'assistant', content: `${n} (you sent ${auth} and ${password})` },
              done: true,
              done_reason: 'stop',
              prompt_eval_count: 3,
              eval_count: 3,
            }),
          );
        });
      },
      async (port) => {
        const dir = tempDir();
        writeFiles(dir, {
          's.yaml': suiteYaml('s', cases.slice(0, 4)),
          'gapbench.config.yaml': `models:\n  - { id: m, provider: ollama, model: m, host: "http://admin:${password}@127.0.0.1:${port}" }\n`,
        });
        const r = await cli(['run', '--suite', 's.yaml', '--run-id', 'c'], { cwd: dir });
        expect(r.code).toBe(0);
        const run = join(dir, 'results', 'c');
        const basic = Buffer.from(`admin:${password}`).toString('base64');
        for (const f of ['records.jsonl', 'results.csv', 'summary.csv', 'manifest.json', 'matrix.csv']) {
          const text = readFileSync(join(run, f), 'utf8');
          expect(text).not.toContain(password);
          expect(text).not.toContain(basic);
        }
        expect(r.stdout + r.stderr).not.toContain(password);
        expect(JSON.parse(readFileSync(join(run, 'manifest.json'), 'utf8')).models[0].endpoint).toBe(
          `http://***@127.0.0.1:${port}`,
        );
        const recs = readFileSync(join(run, 'records.jsonl'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l));
        for (const rec of recs) {
          expect(rec.status).toBe('ok');
          expect(rec.redacted).toBe(2);
          expect(rec.grade.passed).toBe(true);
        }
        // A bad scheme names the URL without its credentials.
        writeFiles(dir, {
          'bad.yaml': `models:\n  - { provider: openai, model: x, baseURL: "ftp://admin:${password}@example.com/v1" }\n`,
        });
        const bad = await cli(['run', '--config', 'bad.yaml', '--suite', 's.yaml'], {
          cwd: dir,
          env: { OPENAI_API_KEY: 'k' },
        });
        expect(bad.code).toBe(2);
        expect(bad.stderr).toContain('ftp://***@example.com/v1');
        expect(bad.stderr).not.toContain(password);
      },
    );
  });
});

describe('bounded responses', () => {
  it('an endless body, a gzip bomb and a broken gzip body are errors of their own kind, never a crash', async () => {
    const { gzipSync } = await import('node:zlib');
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024)); // 64 MiB of zeros in about 64 KiB
    await withServer(
      (req, res) => {
        req.resume();
        req.on('end', () => {
          const which = req.url!.split('/')[1];
          if (which === 'endless') {
            res.writeHead(200, { 'content-type': 'application/json' });
            const chunk = Buffer.alloc(64 * 1024, 32);
            const pump = () => {
              while (res.write(chunk));
            };
            res.on('drain', pump);
            pump();
            return;
          }
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
          res.end(which === 'bomb' ? bomb : Buffer.from('not gzip at all, just bytes'));
        });
      },
      async (port) => {
        const dir = tempDir();
        const model = (name: string) =>
          `  - { id: ${name}, provider: openai, model: m, baseURL: "http://127.0.0.1:${port}/${name}/v1", maxRetries: 0, maxResponseBytes: 1000000 }`;
        writeFiles(dir, {
          's.yaml': suiteYaml('s', cases.slice(0, 2)),
          'gapbench.config.yaml': ['models:', model('endless'), model('bomb'), model('badgzip')].join('\n'),
        });
        const r = await cli(['run', '--suite', 's.yaml', '--run-id', 'b', '--quiet'], { cwd: dir });
        expect(r.stderr).not.toMatch(/\n\s+at /);
        const recs = readFileSync(join(dir, 'results', 'b', 'records.jsonl'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l));
        const kinds = Object.fromEntries(recs.map((x) => [x.model, `${x.error?.kind}: ${x.error?.message}`]));
        expect(kinds.endless).toMatch(/^response_too_large: model 'endless': response body over 1000000 bytes/);
        expect(kinds.bomb).toMatch(/^response_too_large: .*once decompressed/);
        expect(kinds.badgzip).toMatch(/^bad_response: model 'badgzip': gzip body does not decompress/);
        expect(recs).toHaveLength(6);
      },
    );
  });
});

describe('a full disk', () => {
  it('stops like an interrupt: exit 130, the path and the resume command, no truncated CSV, the journal intact', async () => {
    const { symlinkSync, rmSync } = await import('node:fs');
    if (!existsSync('/dev/full')) {
      console.log('skipped: /dev/full (a device that answers every write with ENOSPC) is not on this machine');
      return;
    }
    const dir = project();
    expect((await cli(['run', '--suite', 's.yaml', '--run-id', 'full', '--quiet'], { cwd: dir })).code).toBe(0);
    const run = join(dir, 'results', 'full');
    rmSync(join(run, 'results.csv'));
    // results.csv is written to a temporary name first: that name leads to a device that is always full.
    symlinkSync('/dev/full', join(run, `results.csv.${process.pid}.tmp`));
    const r = await cli(['run', '--resume', run], { cwd: dir });
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(
      /cannot write to .*full \(ENOSPC writing .*results\.csv\.\d+\.tmp\): the journal keeps every answer written so far; free space, then resume with: gapbench run --resume /,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(run, 'results.csv'))).toBe(false);
    expect(readFileSync(join(run, 'records.jsonl'), 'utf8').trim().split('\n')).toHaveLength(cases.length);
    expect(JSON.parse(readFileSync(join(run, 'manifest.json'), 'utf8'))).toMatchObject({
      status: 'interrupted',
      reason: expect.stringMatching(/^ENOSPC writing .*results\.csv/),
    });
    // `gapbench report` on the same full disk: the path and what to do, one line, the journal untouched.
    symlinkSync('/dev/full', join(run, `results.csv.${process.pid}.tmp`));
    const report = await cli(['report', run], { cwd: dir });
    expect(report.code).toBe(130);
    expect(report.stderr.trim()).toMatch(
      /^gapbench report: cannot write .*results\.csv\.\d+\.tmp \(ENOSPC\): free space, then run the command again$/,
    );
    // Space back (the failed write removed its temporary file): the reports rebuild from the journal.
    expect((await cli(['report', run], { cwd: dir })).code).toBe(0);
    expect(readFileSync(join(run, 'results.csv'), 'utf8').trim().split('\r\n')).toHaveLength(cases.length + 1);
  }, 30_000);
});

describe('retries with an end', () => {
  it('a server answering 500 to everything stops its lane after 20 failed requests in a row', async () => {
    const broken = await startSimulator({
      port: 0,
      models: [{ name: 'down', faults: { error500: 1 } }],
      answers: answerKeyFromCases(cases),
    });
    try {
      const dir = tempDir();
      const many = Array.from(
        { length: 60 },
        (_, i) => `  - { id: c${i}, prompt: "What is ${i} + 1?", expected: ${i + 1} }`,
      );
      writeFiles(dir, {
        's.yaml': ['name: s', 'grader: numeric', 'cases:', ...many].join('\n'),
        'gapbench.config.yaml': `models:\n  - { id: down, provider: openai, model: down, baseURL: "${broken.openaiBaseURL}", concurrency: 2, maxRetries: 0 }\n`,
      });
      const r = await cli(['run', '--suite', 's.yaml', '--run-id', 'down'], { cwd: dir, env: { OPENAI_API_KEY: 'k' } });
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).toMatch(
        /the last 20 requests all failed with server errors; its other jobs are not sent/,
      );
      expect(broken.stats().byModel.down.requests).toBeLessThanOrEqual(22);
      const recs = readFileSync(join(dir, 'results', 'down', 'records.jsonl'), 'utf8')
        .trim()
        .split('\n');
      expect(recs).toHaveLength(60);
    } finally {
      await broken.close();
    }
  });
});

describe('bad usage is exit 2, one line, nothing left behind', () => {
  const bomb = [
    'a: &a ["x","x","x","x","x","x","x","x","x"]',
    'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
    'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
    'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
    'e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
  ].join('\n');
  const table: [string, string[], RegExp][] = [
    ['--max-duration 0', ['--max-duration', '0'], /--max-duration 0: expected a duration above 0/],
    ['an empty --out', ['--out', ''], /--out: expected a directory, got an empty string/],
    ['--out naming a file', ['--out', 'afile'], /--out .*afile: is a file, not a directory/],
    ['a 300-character run id', ['--run-id', 'x'.repeat(300)], /--run-id x{20}\.\.\.: 300 characters, at most 128/],
    ['absurd concurrency', ['--concurrency', '1000000000'], /--concurrency 1000000000: at most 10000/],
    ['a YAML alias bomb', ['--config', 'bomb.yaml'], /bomb\.yaml: invalid YAML: Excessive alias count/],
    ['a UTF-16 suite', ['--suite', 'u16.yaml'], /u16\.yaml: is UTF-16 encoded: save it as UTF-8/],
  ];
  for (const [what, args, message] of table) {
    it(what, async () => {
      const dir = project();
      writeFiles(dir, { afile: '', 'bomb.yaml': bomb });
      writeFileSync(
        join(dir, 'u16.yaml'),
        Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('name: x\n', 'utf16le')]),
      );
      const r = await cli(['run', '--suite', 's.yaml', ...args], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(existsSync(join(dir, 'results'))).toBe(false);
    });
  }

  it('tells a key variable set but empty from one not set', async () => {
    const dir = project();
    const r = await cli(['run', '--model', 'openai:gpt-4o-mini', '--suite', 's.yaml'], {
      cwd: dir,
      env: { OPENAI_API_KEY: '' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/OPENAI_API_KEY is set but empty/);
  });
});

describe('a journal that heals', () => {
  it('drops a torn tail longer than 8 MiB before appending, and a torn copy never hides a valid record', async () => {
    const { appendFileSync } = await import('node:fs');
    const dir = project();
    expect((await cli(['run', '--suite', 's.yaml', '--run-id', 'j', '--quiet'], { cwd: dir })).code).toBe(0);
    const run = join(dir, 'results', 'j');
    const journal = join(run, 'records.jsonl');
    const lines = readFileSync(journal, 'utf8').trim().split('\n');
    // A torn copy of the first record in the middle of the file, then the rest; the last record
    // dropped and a torn 9 MiB tail in its place (a crash while writing a long answer).
    const torn = lines[0].slice(0, Math.floor(lines[0].length / 2));
    writeFileSync(journal, `${[lines[0], torn, ...lines.slice(1, -1)].join('\n')}\n`);
    appendFileSync(journal, `{"v":1,"job_id":"${JSON.parse(lines.at(-1)!).job_id}","output":"${'x'.repeat(9 << 20)}`);
    const rep = await cli(['report', run], { cwd: dir });
    expect(rep.code).toBe(0);
    expect(rep.stderr).toMatch(/note: skipped 2 damaged line\(s\) of records\.jsonl/);
    expect(rep.stdout).toMatch(new RegExp(`Rebuilt from ${cases.length - 1} records`));
    const r = await cli(['run', '--resume', run, '--quiet'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/note: skipped 1 damaged line\(s\)/);
    const after = readFileSync(journal, 'utf8');
    expect(after.length).toBeLessThan(1 << 20);
    const recs = after
      .trim()
      .split('\n')
      .flatMap((l) => {
        try {
          return [JSON.parse(l)];
        } catch {
          return [];
        }
      });
    expect(new Set(recs.map((x) => x.job_id)).size).toBe(cases.length);
    expect(readFileSync(join(run, 'results.csv'), 'utf8').trim().split('\r\n')).toHaveLength(cases.length + 1);
  });

  it('gapbench report marks a run whose process died as interrupted', async () => {
    const dir = project();
    expect((await cli(['run', '--suite', 's.yaml', '--run-id', 'k', '--quiet'], { cwd: dir })).code).toBe(0);
    const run = join(dir, 'results', 'k');
    const m = JSON.parse(readFileSync(join(run, 'manifest.json'), 'utf8'));
    writeFileSync(join(run, 'manifest.json'), JSON.stringify({ ...m, status: 'running' }));
    const r = await cli(['report', run], { cwd: dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(run, 'manifest.json'), 'utf8')).status).toBe('interrupted');
  });
});

describe('progress says why a lane waits', () => {
  it("shows a server's long retry-after and its reason, capped by maxRetryWaitS", async () => {
    let first = true;
    await withServer(
      (req, res) => {
        req.resume();
        req.on('end', () => {
          res.setHeader('content-type', 'application/json');
          if (first) {
            first = false;
            res.writeHead(429, { 'retry-after': '3600' });
            res.end(JSON.stringify({ error: { message: 'slow down' } }));
            return;
          }
          res.end(
            JSON.stringify({
              id: 'x',
              object: 'chat.completion',
              created: 1,
              model: 'm',
              choices: [{ index: 0, message: { role: 'assistant', content: '1' }, finish_reason: 'stop' }],
            }),
          );
        });
      },
      async (port) => {
        const dir = tempDir();
        writeFiles(dir, {
          's.yaml': suiteYaml('s', cases.slice(0, 1)),
          'gapbench.config.yaml': `models:\n  - { id: m, provider: openai, model: m, baseURL: "http://127.0.0.1:${port}/v1", maxRetryWaitS: 2 }\n`,
        });
        const r = await cli(['run', '--suite', 's.yaml', '--run-id', 'w', '--progress-interval', '0.3'], {
          cwd: dir,
          env: { OPENAI_API_KEY: 'k' },
        });
        expect(r.code).toBe(0);
        expect(r.stderr).toMatch(/waiting \d+s \(rate_limit, server's retry-after, capped by maxRetryWaitS\)/);
      },
    );
  });
});

describe('stops are immediate on any plan size', () => {
  it('Ctrl-C on --repeat 100000000 sends nothing more and exits 130, ready to resume', async () => {
    const dir = project();
    const run = spawnCli(['run', '--suite', 's.yaml', '--run-id', 'huge', '--repeat', '100000000', '--quiet'], {
      cwd: dir,
    });
    while (!existsSync(join(dir, 'results', 'huge', 'records.jsonl'))) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 500));
    const atSignal = sim.stats().byModel.slow.requests;
    run.child.kill('SIGINT');
    const done = await run.done;
    // Behaviour, not wall time (a busy machine is slow): the requests already on their way (at most
    // the lane's 2 in flight) may still arrive, no new one is sent, and nothing walks the 1.6
    // billion jobs left (the test's own timeout is the generous bound).
    expect(sim.stats().byModel.slow.requests - atSignal).toBeLessThanOrEqual(2);
    expect(done.code).toBe(130);
    expect(done.stdout).toMatch(/\d{10} job\(s\) not run\. Resume with: /);
  }, 30_000);
});
