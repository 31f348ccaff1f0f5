import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/journal/manifest.js';
import { cli, tempDir, writeFiles } from './helpers.js';

const N = 12;

/** A closed and an open replayed model, Chinese text in the outputs (the BOM matters for those). */
function project(): string {
  const dir = tempDir();
  const suite = ['name: arith', 'grader: numeric', 'cases:'];
  for (let i = 0; i < N; i++) suite.push(`  - { id: c${i}, prompt: "q${i}", expected: ${i}, category: k${i % 3} }`);
  const replay = (ok: (i: number) => boolean) =>
    Array.from({ length: N }, (_, i) => JSON.stringify({ id: `c${i}`, output: `答案是 ${ok(i) ? i : i + 1}.` })).join(
      '\n',
    );
  writeFiles(dir, {
    'syn.yaml': suite.join('\n'),
    'closed.jsonl': replay((i) => i % 6 !== 0),
    'open.jsonl': replay((i) => i % 2 === 0),
    'gapbench.config.yaml': `models:
  - { id: closed, provider: replay, model: closed.jsonl, group: closed, price: { input: 1, output: 2 } }
  - { id: open, provider: replay, model: open.jsonl, group: open, price: { perHour: 1 } }
`,
  });
  return dir;
}

const FILES = ['results.csv', 'summary.csv', 'gap.csv', 'matrix.csv', 'report.html'];

/** Every cell of every sheet: what a spreadsheet shows (the zip's timestamps aside). */
async function sheets(path: string): Promise<Record<string, unknown[][]>> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(path);
  const out: Record<string, unknown[][]> = {};
  wb.eachSheet((ws) => {
    const rows: unknown[][] = [];
    ws.eachRow({ includeEmpty: true }, (row) => rows.push((row.values as unknown[]).slice(1)));
    out[ws.name] = rows;
  });
  return out;
}

describe('gapbench report reproduces the run', () => {
  it('records the output choices in manifest.json and rebuilds the same files from them, byte for byte', async () => {
    const dir = project();
    const run = join(dir, 'results', 'r');
    const r = await cli(
      ['run', '--suite', 'syn.yaml', '--run-id', 'r', '--quiet', '--matrix-outputs', '--xlsx', '--excel'],
      { cwd: dir },
    );
    expect(r.code, r.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(run, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.outputs).toEqual({ excel: true, xlsx: true, matrix_outputs: true });
    const before = Object.fromEntries(FILES.map((f) => [f, readFileSync(join(run, f))]));
    expect(before['matrix.csv'].toString('utf8')).toMatch(/^\uFEFF.*output_closed/);
    const xlsxBefore = await sheets(join(run, 'results.xlsx'));
    // Each sheet that mirrors a CSV has the CSV's columns, in its order.
    for (const [sheet, file] of [
      ['Summary', 'summary.csv'],
      ['Gap', 'gap.csv'],
      ['Matrix', 'matrix.csv'],
      ['Results', 'results.csv'],
    ])
      expect(xlsxBefore[sheet][0], sheet).toEqual(
        before[file]
          .toString('utf8')
          .replace(/^\uFEFF/, '')
          .split(/\r?\n/)[0]
          .split(','),
      );
    for (const f of [...FILES, 'results.xlsx']) rmSync(join(run, f));

    const rebuilt = await cli(['report', run], { cwd: dir });
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    for (const f of FILES) expect(readFileSync(join(run, f), 'utf8'), f).toBe(before[f].toString('utf8'));
    expect(await sheets(join(run, 'results.xlsx'))).toEqual(xlsxBefore);
    // The report is a view: the manifest still records the run's own choices.
    expect((JSON.parse(readFileSync(join(run, 'manifest.json'), 'utf8')) as Manifest).outputs).toEqual(
      manifest.outputs,
    );
  });

  it('--no-matrix-outputs and --no-excel override the recorded choices; both forms of one are refused', async () => {
    const dir = project();
    const run = join(dir, 'results', 'r');
    expect(
      (
        await cli(['run', '--suite', 'syn.yaml', '--run-id', 'r', '--quiet', '--matrix-outputs', '--excel'], {
          cwd: dir,
        })
      ).code,
    ).toBe(0);
    const r = await cli(['report', run, '--no-matrix-outputs', '--no-excel'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const matrix = readFileSync(join(run, 'matrix.csv'), 'utf8');
    expect(matrix.startsWith('\uFEFF')).toBe(false);
    expect(matrix).not.toContain('output_');
    const both = await cli(['report', run, '--xlsx', '--no-xlsx'], { cwd: dir });
    expect(both.code).toBe(2);
    expect(both.stderr).toBe('gapbench report: --xlsx and --no-xlsx: choose one\n');
  });

  it('a resumed run keeps the output choices it was started with', async () => {
    const dir = project();
    const run = join(dir, 'results', 'r');
    expect(
      (await cli(['run', '--suite', 'syn.yaml', '--run-id', 'r', '--quiet', '--matrix-outputs'], { cwd: dir })).code,
    ).toBe(0);
    const resumed = await cli(['run', '--resume', run, '--quiet'], { cwd: dir });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(readFileSync(join(run, 'matrix.csv'), 'utf8')).toContain('output_closed');
    expect((JSON.parse(readFileSync(join(run, 'manifest.json'), 'utf8')) as Manifest).outputs?.matrix_outputs).toBe(
      true,
    );
  });
});
