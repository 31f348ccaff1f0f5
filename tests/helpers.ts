import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseCsvSync } from 'csv-parse/sync';
import type { IO } from '../src/io.js';
import type { Manifest } from '../src/journal/manifest.js';
import type { JobRecord } from '../src/journal/record.js';
import { answerKeyFromCases } from '../src/sim/index.js';

export const REPO = resolve(import.meta.dirname, '..');
export const CLI = join(REPO, 'dist', 'cli.js');
export const DATASETS = resolve(REPO, '../shared/datasets');

export function tempDir(prefix = 'gapbench-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

/** Calls the CLI in-process with captured output (what a user would see), in `cwd`. */
export async function cli(
  argv: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: IO = {
    stdout: { write: (s: string) => (stdout += s), isTTY: false },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
    cwd: opts.cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, GAPBENCH_CACHE_DIR: join(opts.cwd, '.cache'), ...opts.env },
  };
  const { main } = await import('../src/cli.js');
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/** Spawns the built CLI as a real process. */
export function spawnCli(argv: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }) {
  const child = spawn(process.execPath, [CLI, ...argv], {
    cwd: opts.cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, GAPBENCH_CACHE_DIR: join(opts.cwd, '.cache'), ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (res) => child.on('close', (code, signal) => res({ code, signal, stdout, stderr })),
  );
  return { child, done, output: () => ({ stdout, stderr }) };
}

/** Minimal RFC 4180 reader for assertions (tests of the CSV writer itself use csv-parse). */
export { parse as parseCsv } from 'csv-parse/sync';

/** A CSV file's rows by header (a BOM allowed). */
export function csvRows(file: string): Record<string, string>[] {
  return parseCsvSync(readFileSync(file, 'utf8'), { columns: true, bom: true }) as Record<string, string>[];
}

/** Every line of a run directory's records.jsonl, parsed. */
export function runRecords(dir: string): JobRecord[] {
  return readFileSync(join(dir, 'records.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as JobRecord);
}

/** A run directory's manifest.json. */
export function runManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
}

/** A suite file's text: `cases` inline, graded by `grader`. */
export function suiteYaml(
  name: string,
  cases: readonly { id: string; prompt: string; expected: unknown }[],
  grader = 'numeric',
): string {
  return [
    `name: ${name}`,
    `grader: ${grader}`,
    'cases:',
    ...cases.map((c) => `  - { id: ${c.id}, prompt: "${c.prompt}", expected: ${String(c.expected)} }`),
  ].join('\n');
}

/** Runs `fn` with a loopback HTTP server answering with `handler`; closes it (and its connections) after. */
export async function withServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  fn: (port: number) => Promise<void>,
): Promise<void> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await fn((server.address() as AddressInfo).port);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

/** One answered record; requests of a model run one after another, `seconds` each (cost and break-even tests). */
export function answeredRecord(
  model: string,
  group: 'closed' | 'open',
  i: number,
  passed: boolean,
  tokens: number,
  seconds: number,
): JobRecord {
  const t0 = 1_000_000 + i * seconds * 1000;
  return {
    v: 1,
    job_id: `${model}-${i}`,
    run_id: 'r',
    suite: 's',
    case_id: `c${i}`,
    case_index: i,
    category: 'x',
    model,
    group,
    provider: 'p',
    model_name: model,
    repeat: 0,
    prompt: 'q',
    grader: 'exact',
    grade: { score: passed ? 1 : 0, passed, reason: '' },
    attempts: 1,
    cached: false,
    started_at: '',
    finished_at: '',
    t_start: t0,
    t_end: t0 + seconds * 1000,
    status: 'ok',
    output: 'a',
    latency_ms: seconds * 1000,
    input_tokens: tokens,
    output_tokens: tokens,
  };
}

/** The simulator's answer key for test cases graded numerically ({ id, prompt, expected }). */
export function numericAnswerKey(cases: readonly { id: string; prompt: string; expected: unknown }[]) {
  return answerKeyFromCases(
    cases.map((c) => ({ ...c, expected: String(c.expected), category: '', grader: { type: 'numeric' }, vars: {} })),
  );
}
