import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { cli, tempDir, writeFiles } from './helpers.js';

/** An independent reader: the zip's central directory, each entry inflated with zlib. */
function unzip(buf: Buffer): Map<string, string> {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const files = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const method = buf.readUInt16LE(p + 10);
    const size = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(start, start + size);
    files.set(name, (method === 8 ? inflateRawSync(data) : data).toString('utf8'));
    p += 46 + nameLen + extraLen + commentLen;
  }
  return files;
}

const HOSTILE = [
  '=HYPERLINK("http://evil.example","x")',
  '+1+2',
  '-3',
  '@SUM(A1)',
  '007',
  '1e5',
  '12/05/2024',
  '50%',
  '中文输出，带逗号',
  '</c><f>1+1</f>',
];

function project(): string {
  const dir = tempDir();
  const n = HOSTILE.length;
  writeFiles(dir, {
    'h.yaml': [
      'name: h',
      'grader: exact',
      'cases:',
      ...HOSTILE.map((_, i) => `  - { id: "00${i}", prompt: "q${i}", expected: "z" }`),
    ].join('\n'),
    'a.jsonl': HOSTILE.map((o, i) => JSON.stringify({ id: `00${i}`, output: o })).join('\n'),
    'b.jsonl': Array.from({ length: n }, (_, i) => JSON.stringify({ id: `00${i}`, output: i % 2 ? 'z' : 'y' })).join(
      '\n',
    ),
    'gapbench.config.yaml':
      'models:\n  - { id: 模型甲, provider: replay, model: a.jsonl, group: closed }\n  - { id: b, provider: replay, model: b.jsonl, group: open }\n',
  });
  return dir;
}

describe('results.xlsx', () => {
  it('has typed cells, no formula, hostile outputs intact, read by exceljs and by unzip + XML', async () => {
    const dir = project();
    const r = await cli(['run', '--suite', 'h.yaml', '--run-id', 'x', '--quiet', '--xlsx'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const file = join(dir, 'results', 'x', 'results.xlsx');

    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(file);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['Summary', 'Gap', 'Scores', 'Matrix', 'Results', 'Run history']);
    const results = wb.getWorksheet('Results')!;
    const header = (results.getRow(1).values as unknown[]).slice(1) as string[];
    const col = (name: string) => header.indexOf(name) + 1;
    const outputs: unknown[] = [];
    results.eachRow((row, i) => {
      if (i === 1) return;
      if (row.getCell(col('model')).value === '模型甲') outputs.push(row.getCell(col('output')).value);
      expect(row.getCell(col('case_id')).type).toBe(ExcelJS.ValueType.String);
      expect(row.getCell(col('latency_ms')).type).toBe(ExcelJS.ValueType.Number);
      expect(row.getCell(col('score')).type).toBe(ExcelJS.ValueType.Number);
    });
    // Every hostile output as the same text, no leading quote, never a formula, number or date.
    expect(outputs).toEqual(HOSTILE);
    expect(results.getColumn(col('score')).numFmt).toBe('0.0%');
    expect(results.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(results.autoFilter).toBeDefined();
    const summary = wb.getWorksheet('Summary')!;
    const sHead = (summary.getRow(1).values as unknown[]).slice(1) as string[];
    expect(summary.getRow(2).getCell(sHead.indexOf('model') + 1).value).toBe('模型甲');
    expect(summary.getRow(2).getCell(sHead.indexOf('score') + 1).type).toBe(ExcelJS.ValueType.Number);

    // Independently: the sheet XML has no <f> (formula) element; text cells are shared strings.
    const files = unzip(readFileSync(file));
    const sheets = [...files].filter(([name]) => /^xl\/worksheets\/sheet\d+\.xml$/.test(name));
    expect(sheets).toHaveLength(6);
    for (const [, xml] of sheets) expect(xml).not.toMatch(/<f[ >]/);
    const workbook = files.get('xl/workbook.xml')!;
    const resultsIndex = [...workbook.matchAll(/<sheet [^>]*name="([^"]+)"/g)].findIndex((m) => m[1] === 'Results');
    expect(resultsIndex).toBe(4);
    const resultsXml = files.get(`xl/worksheets/sheet${resultsIndex + 1}.xml`)!;
    const strings = [...(files.get('xl/sharedStrings.xml') ?? '').matchAll(/<t[^>]*>([^<]*)<\/t>/g)].map((m) =>
      m[1]
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
        .replace(/&amp;/g, '&'),
    );
    for (const h of [...HOSTILE, '模型甲', '000']) expect(strings).toContain(h);
    // The case ids ("000".."009", column C) are text cells, never numbers.
    const caseCells = [...resultsXml.matchAll(/<c r="C(\d+)"([^>]*)>/g)].filter((m) => m[1] !== '1');
    expect(caseCells.length).toBe(2 * HOSTILE.length);
    for (const m of caseCells) expect(m[2]).toMatch(/t="s"/);
  });
});
