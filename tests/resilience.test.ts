import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../src/journal/journal.js';
import { openLineReader, readLatestRecords, readLines } from '../src/journal/read.js';
import type { JobRecord } from '../src/journal/record.js';
import { answerKeyFromCases, startSimulator, type Simulator } from '../src/sim/index.js';
import type { Case } from '../src/types.js';
import { cli, tempDir, writeFiles } from './helpers.js';

function record(id: string, extra: Partial<JobRecord> = {}): JobRecord {
  return {
    v: 1,
    job_id: id,
    run_id: 'r',
    suite: 's',
    case_id: id,
    case_index: 0,
    category: 'c',
    model: 'm',
    group: 'open',
    provider: 'p',
    model_name: 'm',
    repeat: 0,
    prompt: 'p',
    grader: 'exact',
    grade: { score: 1, passed: true, reason: 'ok' },
    attempts: 1,
    cached: false,
    started_at: '',
    finished_at: '',
    t_start: 0,
    t_end: 1,
    status: 'ok',
    output: 'o',
    latency_ms: 1,
    ...extra,
  } as JobRecord;
}

async function all(path: string): Promise<JobRecord[]> {
  const out: JobRecord[] = [];
  for await (const r of readLatestRecords(path)) out.push(r);
  return out;
}

describe('journal', () => {
  it('drops a torn last line left by a crash, keeps every complete one, and appends after it', async () => {
    const path = join(tempDir(), 'records.jsonl');
    const { journal } = Journal.open(path);
    journal.append(record('a'));
    journal.append(record('b'));
    journal.close();
    appendFileSync(path, JSON.stringify(record('c')).slice(0, 57)); // a write cut short by kill -9
    const reopened = Journal.open(path);
    expect(reopened.dropped).toBe(57);
    reopened.journal.append(record('d'));
    reopened.journal.close();
    expect((await all(path)).map((r) => r.job_id)).toEqual(['a', 'b', 'd']);
    expect(readFileSync(path, 'utf8').endsWith('\n')).toBe(true);
  });

  it('drops a complete-looking last line that is not a record', async () => {
    const path = join(tempDir(), 'records.jsonl');
    writeFileSync(path, `${JSON.stringify(record('a'))}\n{"v":1,"job_id":"x"}\n`);
    expect(Journal.open(path).dropped).toBeGreaterThan(0);
    expect((await all(path)).map((r) => r.job_id)).toEqual(['a']);
  });

  it('a job recorded again (resume --retry-errors) is read once, with its newer record', async () => {
    const path = join(tempDir(), 'records.jsonl');
    const { journal } = Journal.open(path);
    journal.append(record('a', { status: 'error', error: { kind: 'server', message: 'x' } } as Partial<JobRecord>));
    journal.append(record('b'));
    journal.append(record('a'));
    journal.close();
    expect((await all(path)).map((r) => [r.job_id, r.status])).toEqual([
      ['b', 'ok'],
      ['a', 'ok'],
    ]);
  });
});

describe('line reader (results.csv reads journal lines back by offset)', () => {
  it('returns every line exactly, in any order, including lines longer than its window and multi-byte text', async () => {
    const path = join(tempDir(), 'lines.jsonl');
    // Lines of very different sizes, some far larger than the 256-byte window used here.
    const texts = Array.from(
      { length: 400 },
      (_, i) => `${i}:${'é漢x'.repeat((i * 37) % 50)}${i % 97 === 0 ? 'z'.repeat(2000) : ''}`,
    );
    writeFileSync(path, `${texts.join('\n')}\n`);
    const lines: { text: string; offset: number; bytes: number }[] = [];
    for await (const l of readLines(path)) lines.push(l);
    expect(lines.map((l) => l.text)).toEqual(texts);
    const orders = {
      forward: lines.map((_, i) => i),
      backward: lines.map((_, i) => lines.length - 1 - i),
      shuffled: lines.map((_, i) => (i * 7919) % lines.length),
    };
    for (const order of Object.values(orders)) {
      const reader = openLineReader(path, 256);
      try {
        expect(order.map((i) => reader.read(lines[i].offset, lines[i].bytes))).toEqual(order.map((i) => texts[i]));
      } finally {
        reader.close();
      }
    }
  });

  it('names the file when a line lies past its end', () => {
    const path = join(tempDir(), 'short.jsonl');
    writeFileSync(path, 'abc\n');
    const reader = openLineReader(path);
    try {
      expect(() => reader.read(2, 10)).toThrow(/short\.jsonl: line at byte 2 is past the end/);
    } finally {
      reader.close();
    }
  });
});

const N = 300;
const cases: Case[] = Array.from({ length: N }, (_, i) => ({
  id: `q${i}`,
  prompt: `What is ${i} + 1?`,
  expected: String(i + 1),
  category: 'x',
  grader: { type: 'numeric' },
  vars: {},
}));
const suite = [
  'name: f',
  'grader: numeric',
  'cases:',
  ...cases.map((c) => `  - { id: ${c.id}, prompt: "${c.prompt}", expected: ${c.expected} }`),
].join('\n');

let sim: Simulator;
beforeAll(async () => {
  const faults = { error500: 0.05, error503: 0.03, reset: 0.03, hang: 0.02, malformed: 0.03 };
  sim = await startSimulator({
    port: 0,
    seed: 9,
    answers: answerKeyFromCases(cases),
    models: [
      { name: 'faulty', accuracy: 1, latencyMs: 1, faults },
      { name: 'faulty:7b', accuracy: 1, latencyMs: 1, faults },
      { name: 'slowpoke', accuracy: 1, latencyMs: 300 },
    ],
  });
});
afterAll(() => sim.close());

describe('runs under injected faults', () => {
  it('every job ends as exactly one record through both SDKs, retried to success', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      'f.yaml': suite,
      'gapbench.config.yaml': `defaults: { timeoutMs: 400, maxRetries: 8 }
models:
  - { id: oa, provider: openai, model: faulty, baseURL: "${sim.openaiBaseURL}", concurrency: 16 }
  - { id: ol, provider: ollama, model: "faulty:7b", host: "${sim.ollamaHost}", concurrency: 16 }
`,
    });
    sim.resetStats();
    const r = await cli(['run', '--suite', 'f.yaml', '--run-id', 'f', '--quiet'], { cwd: dir });
    expect(r.code).toBe(0);
    const recs = readFileSync(join(dir, 'results', 'f', 'records.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as JobRecord);
    expect(recs).toHaveLength(2 * N);
    expect(new Set(recs.map((x) => x.job_id)).size).toBe(2 * N);
    const faults = Object.values(sim.stats().byModel).reduce(
      (a, m) => a + Object.values(m.faults).reduce((x, y) => x + y, 0),
      0,
    );
    expect(faults).toBeGreaterThan(30);
    // With 8 retries, a job fails only if 9 faults in a row hit it: none should.
    expect(recs.filter((x) => x.status === 'error')).toEqual([]);
    expect(recs.filter((x) => x.attempts > 1).length).toBeGreaterThan(20);
    expect(recs.every((x) => x.status === 'ok' && x.grade.passed)).toBe(true);
    const kinds = new Set(recs.map((x) => (x.status === 'ok' ? x.last_error_kind : undefined)).filter(Boolean));
    // A malformed stream is either unreadable or ends without its final chunk (stream_incomplete).
    expect([...kinds].sort()).toEqual(['bad_response', 'network', 'server', 'stream_incomplete', 'timeout']);
  });

  it('--max-duration stops starting jobs, writes results and exits 130 with the resume command', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      'f.yaml': suite,
      'gapbench.config.yaml': `models:\n  - { id: sp, provider: openai, model: slowpoke, baseURL: "${sim.openaiBaseURL}", concurrency: 4 }\n`,
    });
    const r = await cli(['run', '--suite', 'f.yaml', '--run-id', 'm', '--max-duration', '1s', '--quiet'], { cwd: dir });
    expect(r.code).toBe(130);
    expect(r.stdout).toMatch(/stopped by --max-duration: \d+ job\(s\) not run\. Resume with: gapbench run --resume/);
    const done = readFileSync(join(dir, 'results', 'm', 'records.jsonl'), 'utf8')
      .trim()
      .split('\n').length;
    expect(done).toBeGreaterThan(4);
    expect(done).toBeLessThan(N);
    expect(
      readFileSync(join(dir, 'results', 'm', 'results.csv'), 'utf8')
        .trim()
        .split('\r\n'),
    ).toHaveLength(done + 1);
    const resumed = await cli(['run', '--resume', join(dir, 'results', 'm'), '--concurrency', '100', '--quiet'], {
      cwd: dir,
    });
    expect(resumed.code).toBe(0);
    expect(
      readFileSync(join(dir, 'results', 'm', 'results.csv'), 'utf8')
        .trim()
        .split('\r\n'),
    ).toHaveLength(N + 1);
  });

  it('a resume with changed inputs says what changed, and runs with --force', async () => {
    const dir = tempDir();
    const three = suite.split('\n').slice(0, 6).join('\n');
    writeFiles(dir, {
      'f.yaml': three,
      'gapbench.config.yaml': `models:\n  - { id: sp, provider: openai, model: slowpoke, baseURL: "${sim.openaiBaseURL}", concurrency: 4 }\n`,
    });
    expect((await cli(['run', '--suite', 'f.yaml', '--run-id', 'x', '--quiet'], { cwd: dir })).code).toBe(0);
    writeFiles(dir, {
      'f.yaml': suite.split('\n').slice(0, 7).join('\n'),
      'gapbench.config.yaml': `models:\n  - { id: sp, provider: openai, model: slowpoke, baseURL: "${sim.openaiBaseURL}", concurrency: 4, params: { temperature: 0.7 } }\n  - { id: new, provider: openai, model: slowpoke, baseURL: "${sim.openaiBaseURL}" }\n`,
    });
    const run = join(dir, 'results', 'x');
    const r = await cli(['run', '--resume', run, '--quiet'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `gapbench run: --resume ${run}: model 'sp' changed (provider, endpoint, model name, group or params); model 'new' added; suite 'f' changed (3 -> 4 cases) since the run started; pass --force to resume anyway`,
    );
    expect((await cli(['run', '--resume', run, '--force', '--quiet'], { cwd: dir })).code).toBe(0);
  });

  it('a resume keeps the --concurrency the run started with; run through npx, the hint says npx', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      'f.yaml': suite.split('\n').slice(0, 23).join('\n'),
      'gapbench.config.yaml': `models:\n  - { id: sp, provider: openai, model: slowpoke, baseURL: "${sim.openaiBaseURL}", concurrency: 8 }\n`,
    });
    const env = { ...process.env, npm_command: 'exec' };
    const r = await cli(
      ['run', '--suite', 'f.yaml', '--run-id', 'c', '--max-duration', '0.5s', '--concurrency', '2', '--quiet'],
      { cwd: dir, env },
    );
    expect(r.code).toBe(130);
    expect(r.stdout).toContain(`Resume with: npx gapbench run --resume ${join(dir, 'results', 'c')}`);
    sim.resetStats();
    const resumed = await cli(['run', '--resume', join(dir, 'results', 'c'), '--quiet'], { cwd: dir, env });
    expect(resumed.code).toBe(0);
    expect(sim.stats().maxInFlight.slowpoke).toBe(2);
  });

  it('prints a plain progress line per lane when not on a terminal', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      'f.yaml': suite.split('\n').slice(0, 40).join('\n'),
      'gapbench.config.yaml': `models:\n  - { id: sp, provider: openai, model: slowpoke, baseURL: "${sim.openaiBaseURL}", concurrency: 8 }\n`,
    });
    const r = await cli(['run', '--suite', 'f.yaml', '--run-id', 'p', '--progress-interval', '0.5'], { cwd: dir });
    expect(r.code).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l.includes('sp '));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.at(-1)).toMatch(
      /^\[\d+s\] sp\s+37\/37\s+err\s+0\s+retry\s+0\s+in-flight\s+0\/8\s+[\d.]+\/s\s+eta done$/,
    );
    // The lane runs on a lane thread; its requests in flight show while they are.
    expect(lines.some((l) => /in-flight\s+[1-8]\/8/.test(l))).toBe(true);
    expect(r.stderr).not.toMatch(/\u001b\[/);
    const quiet = await cli(['run', '--suite', 'f.yaml', '--run-id', 'q', '--quiet'], { cwd: dir });
    expect(quiet.stderr).toBe('');
  });
});
