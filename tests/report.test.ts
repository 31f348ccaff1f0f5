import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import { csvRows, formatNumber, MAX_CELL, openCsv, safeCell, toCsvString } from '../src/report/csv.js';
import { terminalSafe } from '../src/util/text.js';
import { cli, tempDir, writeFiles } from './helpers.js';

const N = 200;

/**
 * A synthetic run with a known truth: two closed and two open replayed models; per case the
 * answer is right or wrong by a fixed rule, so every score, gap and discordant count is known.
 */
function syntheticProject(rightOf: Record<string, (i: number) => boolean>): string {
  const dir = tempDir();
  const suite = ['name: syn', 'grader: numeric', 'cases:'];
  for (let i = 0; i < N; i++)
    suite.push(`  - { id: c${i}, prompt: "q${i}", expected: ${i}, category: ${i < N / 2 ? 'first' : 'second'} }`);
  const files: Record<string, string> = { 'syn.yaml': suite.join('\n') };
  const models: string[] = ['models:'];
  for (const [name, right] of Object.entries(rightOf)) {
    const rows = Array.from({ length: N }, (_, i) =>
      JSON.stringify({ id: `c${i}`, output: `The answer is ${right(i) ? i : i + 1}.` }),
    );
    files[`${name}.jsonl`] = rows.join('\n');
    models.push(
      `  - { id: ${name}, provider: replay, model: ${name}.jsonl, group: ${name.startsWith('closed') ? 'closed' : 'open'}, price: { input: 1, output: 1 } }`,
    );
  }
  files['gapbench.config.yaml'] = models.join('\n');
  writeFiles(dir, files);
  return dir;
}

const rows = (file: string) =>
  parse(readFileSync(file, 'utf8'), { columns: true, bom: true }) as Record<string, string>[];

describe('statistics do not depend on the order answers finished in', () => {
  it('gives the same intervals, p-values and CSVs for the same answers in any journal order', async () => {
    // Partial credit (contains, mode all): summary intervals come from the bootstrap, gap p-values
    // from the Monte Carlo permutation test; both draw seeded indices into arrays whose order, before
    // the fix, was the order records reached the journal.
    const dir = tempDir();
    const words = ['alpha', 'beta', 'gamma', 'delta'];
    const n = 80;
    const files: Record<string, string> = {
      'part.yaml': [
        'name: part',
        'grader: { type: contains, mode: all }',
        'cases:',
        ...Array.from({ length: n }, (_, i) => `  - { id: p${i}, prompt: "q${i}", expected: [${words.join(', ')}] }`),
      ].join('\n'),
    };
    const models = ['models:'];
    for (const [name, group, keep] of [
      ['closedA', 'closed', (i: number) => 1 + (i % 4)],
      ['openA', 'open', (i: number) => (i * 7) % 5],
    ] as const) {
      files[`${name}.jsonl`] = Array.from({ length: n }, (_, i) =>
        JSON.stringify({ id: `p${i}`, output: `says ${words.slice(0, keep(i)).join(' ')}` }),
      ).join('\n');
      models.push(`  - { id: ${name}, provider: replay, model: ${name}.jsonl, group: ${group} }`);
    }
    files['gapbench.config.yaml'] = models.join('\n');
    writeFiles(dir, files);
    expect((await cli(['run', '--suite', 'part.yaml', '--run-id', 'a', '--quiet'], { cwd: dir })).code).toBe(0);
    const runA = join(dir, 'results', 'a');
    const runB = join(dir, 'results', 'b');
    cpSync(runA, runB, { recursive: true });
    // The same records, in another order (a fixed shuffle, not a reversal or a sort).
    const lines = readFileSync(join(runA, 'records.jsonl'), 'utf8').trim().split('\n');
    const shuffled = lines
      .map((l, i) => [(i * 7919) % 1009, l] as const)
      .sort((x, y) => x[0] - y[0])
      .map((x) => x[1]);
    expect(shuffled).not.toEqual(lines);
    writeFileSync(join(runB, 'records.jsonl'), `${shuffled.join('\n')}\n`);
    for (const run of [runA, runB]) expect((await cli(['report', run], { cwd: dir })).code).toBe(0);
    const summary = rows(join(runA, 'summary.csv'));
    expect(summary.every((r) => r.ci_method === 'bootstrap')).toBe(true);
    expect(rows(join(runA, 'gap.csv'))[0].test).toBe('permutation');
    for (const f of ['summary.csv', 'gap.csv', 'matrix.csv', 'results.csv']) {
      expect(readFileSync(join(runB, f), 'utf8')).toBe(readFileSync(join(runA, f), 'utf8'));
    }
  });
});

describe('results.csv of a fresh run (rows formatted during the run)', () => {
  it('is byte for byte the file rebuilt from the journal, for hostile outputs and rows longer than the read window', async () => {
    const dir = tempDir();
    const n = 60;
    const hostile = (i: number) =>
      [
        `答案是 ${i}，对吗？`,
        `=HYPERLINK("http://x","${i}")`,
        `line one\r\nline "two" ${i}\rthree\nfour`,
        `${'长'.repeat(30_000)} ${i}`, // 90 KB of UTF-8: longer than the 64 KiB read window, cut at 32,000 characters
        `+${i}, -${i}; @${i}\t`,
        `\u0000nul ${i}`,
      ][i % 6];
    writeFiles(dir, {
      'h.yaml': [
        'name: h',
        'grader: contains',
        'cases:',
        ...Array.from({ length: n }, (_, i) => `  - { id: h${i}, prompt: "q${i}", expected: "${i}" }`),
      ].join('\n'),
      'a.jsonl': Array.from({ length: n }, (_, i) => JSON.stringify({ id: `h${i}`, output: hostile(i) })).join('\n'),
      'b.jsonl': Array.from({ length: n }, (_, i) => JSON.stringify({ id: `h${i}`, output: hostile(i + 1) })).join(
        '\n',
      ),
      'gapbench.config.yaml':
        'models:\n  - { id: a, provider: replay, model: a.jsonl, group: closed }\n  - { id: b, provider: replay, model: b.jsonl, group: open }\n',
    });
    for (const excel of [false, true]) {
      const id = excel ? 'x' : 'p';
      expect(
        (
          await cli(['run', '--suite', 'h.yaml', '--run-id', id, '--quiet', ...(excel ? ['--excel'] : [])], {
            cwd: dir,
          })
        ).code,
      ).toBe(0);
      const run = join(dir, 'results', id);
      const fresh = readFileSync(join(run, 'results.csv'));
      expect(fresh.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(excel);
      expect((await cli(['report', run, ...(excel ? ['--excel'] : [])], { cwd: dir })).code).toBe(0);
      expect(readFileSync(join(run, 'results.csv')).equals(fresh)).toBe(true);
      const parsed = rows(join(run, 'results.csv'));
      expect(parsed).toHaveLength(2 * n);
      expect(parsed.map((r) => `${r.case_id}/${r.model}`).slice(0, 4)).toEqual(['h0/a', 'h0/b', 'h1/a', 'h1/b']);
      expect(parsed.find((r) => r.case_id === 'h1' && r.model === 'a')!.output).toBe(`'=HYPERLINK("http://x","1")`);
    }
  });
});

describe('gap.csv on a run whose true gap is known', () => {
  it('gives the exact gap, McNemar p and verdict, per suite and per category', async () => {
    // closedA right on 80% (i % 5 != 0); openA right on 60% (i % 5 < 3); closedB 50%, openB 40%.
    const dir = syntheticProject({
      closedA: (i) => i % 5 !== 0,
      closedB: (i) => i % 2 === 0,
      openA: (i) => i % 5 < 3,
      openB: (i) => i % 5 < 2,
    });
    const r = await cli(['run', '--suite', 'syn.yaml', '--run-id', 'g', '--quiet'], { cwd: dir });
    expect(r.code).toBe(0);
    const gap = rows(join(dir, 'results', 'g', 'gap.csv'));
    const best = gap.find((g) => g.suite === 'syn' && g.category === 'all' && g.scope === 'best')!;
    expect(best).toMatchObject({
      closed_model: 'closedA',
      open_model: 'openA',
      test: 'mcnemar_exact',
      n_paired: String(N),
      verdict: 'closed_better',
    });
    expect(Number(best.closed_score)).toBe(0.8);
    expect(Number(best.open_score)).toBe(0.6);
    expect(Number(best.gap_pp)).toBeCloseTo(20, 9);
    expect(Number(best.relative_gap_pct)).toBeCloseTo(25, 9);
    // Discordant pairs: closed right & open wrong when i%5 in {3,4}: 80 cases; the reverse: i%5==0 and <3: 40.
    // Exact two-sided binomial p, 2 * P(X <= 40), X ~ Bin(120, 1/2), computed independently with exact
    // integer arithmetic (Python: 2 * sum(comb(120, i) for i in range(41)) / 2**120) = 0.0003304000183913207.
    expect(Math.abs(Number(best.p_value) - 0.0003304000183913207)).toBeLessThan(1e-12);
    expect(Number(best.ci_low_pp)).toBeLessThan(20);
    expect(Number(best.ci_high_pp)).toBeGreaterThan(20);
    expect(Number(best.ci_low_pp)).toBeGreaterThan(8);
    // Group means: closed (0.8 + 0.5) / 2 = 0.65, open (0.6 + 0.4) / 2 = 0.5; per-case means are not 0/1: permutation test.
    const mean = gap.find((g) => g.suite === 'syn' && g.category === 'all' && g.scope === 'mean')!;
    expect(mean).toMatchObject({ closed_model: 'closedA + closedB', open_model: 'openA + openB', test: 'permutation' });
    expect(Number(mean.gap_pp)).toBeCloseTo(15, 9);
    // Categories are rows of their own.
    expect(gap.filter((g) => g.scope === 'best').map((g) => g.category)).toEqual(['all', 'first', 'second']);
    // Cost per correct on the suite row: replay has no tokens, so cost 0 / passed.
    expect(best.closed_cost_per_correct_usd).toBe('0');
  });

  it('says no_significant_difference when the two sides differ by noise only', async () => {
    const dir = syntheticProject({ closedA: (i) => i % 10 < 7, openA: (i) => (i + 3) % 10 < 7 });
    const r = await cli(['run', '--suite', 'syn.yaml', '--run-id', 'n', '--quiet'], { cwd: dir });
    expect(r.code).toBe(0);
    const best = rows(join(dir, 'results', 'n', 'gap.csv'))[0];
    expect(Number(best.gap_pp)).toBeCloseTo(0, 9);
    expect(best.verdict).toBe('no_significant_difference');
    expect(Number(best.p_value)).toBe(1);
  });

  it('history.csv gains rows per run; compare and --fail-on-regression catch a model made worse', async () => {
    const dir = syntheticProject({ closedA: (i) => i % 5 !== 0, openA: (i) => i % 5 < 3 });
    expect((await cli(['run', '--suite', 'syn.yaml', '--run-id', 'before', '--quiet'], { cwd: dir })).code).toBe(0);
    // The open model gets worse: 40% instead of 60%.
    writeFileSync(
      join(dir, 'openA.jsonl'),
      Array.from({ length: N }, (_, i) => JSON.stringify({ id: `c${i}`, output: `${i % 5 < 2 ? i : -1}` })).join('\n'),
    );
    const after = await cli(
      ['run', '--suite', 'syn.yaml', '--run-id', 'after', '--quiet', '--fail-on-regression', '5'],
      { cwd: dir },
    );
    expect(after.code).toBe(1);
    expect(after.stdout).toMatch(/FAIL openA on syn: 60\.0% -> 40\.0% \(-20\.0 pp\) against before/);
    const history = rows(join(dir, 'results', 'history.csv'));
    expect(history.map((h) => [h.run_id, h.model, h.score])).toEqual([
      ['before', 'closedA', '0.8'],
      ['before', 'openA', '0.6'],
      ['after', 'closedA', '0.8'],
      ['after', 'openA', '0.4'],
    ]);
    const cmp = await cli(
      ['compare', join('results', 'before'), join('results', 'after'), '--fail-on-regression', '10'],
      { cwd: dir },
    );
    expect(cmp.code).toBe(1);
    const c = rows(join(dir, 'results', 'after', 'compare.csv'));
    const open = c.find((x) => x.model === 'openA')!;
    expect(open).toMatchObject({ verdict: 'regressed', test: 'mcnemar_exact', n_paired: String(N) });
    expect(Number(open.delta_pp)).toBeCloseTo(-20, 9);
    expect(c.find((x) => x.model === 'closedA')).toMatchObject({ delta_pp: '0', verdict: 'no_significant_difference' });
    expect(
      (
        await cli(['compare', join('results', 'before'), join('results', 'after'), '--fail-on-regression', '25'], {
          cwd: dir,
        })
      ).code,
    ).toBe(0);
    // --fail-under per model and for all.
    const fu = await cli(['run', '--suite', 'syn.yaml', '--run-id', 'fu', '--quiet', '--fail-under', 'closedA=0.9'], {
      cwd: dir,
    });
    expect(fu.code).toBe(1);
    expect(fu.stdout).toMatch(/FAIL closedA scored 0\.8000 on syn, under --fail-under 0\.9/);
    expect(
      (await cli(['run', '--suite', 'syn.yaml', '--run-id', 'fu2', '--quiet', '--fail-under', '0.3'], { cwd: dir }))
        .code,
    ).toBe(0);
  });
});

describe('spreadsheet-safe CSV', () => {
  const hostile = [
    '=1+1',
    '=HYPERLINK("http://evil.example","click")',
    '+SUM(A1:A9)',
    '-2+3',
    '@cmd',
    '\tleading tab',
    '\rleading CR',
    'say "hi", then, leave',
    'line one\r\nline two\nline three',
    '中文输出，带逗号',
    'emoji 😀 and 🇨🇳',
    'nul\u0000inside',
    'x'.repeat(40_000),
    '😀'.repeat(20_000),
    'a\nb',
    '多行\n文本',
    'ok\r=1+2',
    'bare\rCR',
  ];

  it('quotes exactly as csv-stringify does (CRLF records, bare CR/LF quoted), byte for byte', () => {
    // csv-stringify as the oracle: random rows of cells built from the characters that matter.
    const alphabet = [
      'a',
      'Z',
      '0',
      ' ',
      ',',
      '"',
      "'",
      '\r',
      '\n',
      '\r\n',
      '\t',
      '=',
      '+',
      '-',
      '@',
      ';',
      '中',
      'é',
      '😀',
      '\u2028',
      '\u001b',
      '\\',
      '',
    ];
    let seed = 7;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return Math.floor((seed / 2 ** 32) * n);
    };
    const rowsIn: string[][] = [];
    for (let r = 0; r < 2000; r++) {
      const row: string[] = [];
      for (let c = 0, cells = 1 + rand(6); c < cells; c++) {
        let cell = '';
        for (let k = 0, len = rand(8); k < len; k++) cell += alphabet[rand(alphabet.length)];
        row.push(cell);
      }
      rowsIn.push(row);
    }
    // The rows hold every kind of cell that needs quoting (a bare CR alone, for one).
    expect(rowsIn.flat().some((c) => /^[^",\n]*\r[^",\n]*$/.test(c))).toBe(true);
    expect(csvRows(rowsIn)).toBe(
      stringify(rowsIn, { record_delimiter: '\r\n', quote_record_delimiter: true, quoted_match: /[\t;]/ }),
    );
    // And what a parser reads back is what went in.
    expect(parse(csvRows(rowsIn), { relax_column_count: true })).toEqual(
      rowsIn.map((r) => (r.length === 1 && r[0] === '' ? [''] : r)),
    );
  });

  it('round-trips hostile cells through a real CSV parser, neutralised where required', async () => {
    const dir = tempDir();
    const file = join(dir, 'h.csv');
    const w = openCsv(file, ['i', 'text', 'num'], {});
    for (let i = 0; i < hostile.length; i++) await w.write({ i, text: hostile[i], num: -3.5 });
    await w.close();
    const raw = readFileSync(file, 'utf8');
    expect(raw.charCodeAt(0)).not.toBe(0xfeff);
    expect(raw.split('\r\n')[0]).toBe('i,text,num');
    const back = parse(raw, { columns: true, relax_quotes: false }) as Record<string, string>[];
    expect(back).toHaveLength(hostile.length);
    back.forEach((row, i) => {
      expect(row.num).toBe('-3.5');
      expect(row.i).toBe(String(i));
      expect(row.text).toBe(safeCell(hostile[i]));
      expect(row.text.length).toBeLessThanOrEqual(MAX_CELL);
    });
    expect(back[0].text).toBe("'=1+1");
    expect(back[1].text).toBe(`'=HYPERLINK("http://evil.example","click")`);
    expect(back[3].text).toBe("'-2+3");
    expect(back[5].text).toBe("'\tleading tab");
    expect(back[8].text).toBe('line one\r\nline two\nline three');
    expect(back[9].text).toBe('中文输出，带逗号');
    expect(back[11].text).toBe('nulinside');
    expect(back[12].text).toMatch(/^x+…\[truncated \d+ chars\]$/);
    expect(back[13].text).toMatch(/^(😀)+…\[truncated \d+ chars\]$/);
    expect(back[13].text).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
    // The marker counts characters (code points), not UTF-16 units.
    const kept = Array.from(back[13].text.replace(/…\[.*$/, '')).length;
    const dropped = Number(/truncated (\d+) chars/.exec(back[13].text)![1]);
    expect(kept + dropped).toBe(Array.from(hostile[13] as string).length);
    expect(back.slice(14).map((r) => r.text)).toEqual(['a\nb', '多行\n文本', 'ok\r=1+2', 'bare\rCR']);
  });

  it('quotes every cell that holds a bare LF or CR, so no row splits and no formula starts a row', () => {
    for (const text of ['a\nb', '多行\n文本', 'ok\r=1+2', 'bare\rCR', 'tail\n', 'x\n=cmd|calc']) {
      const csv = toCsvString(['i', 'text', 'n'], [[1, text, 2]]);
      expect(csv).toBe(`i,text,n\r\n1,"${text}",2\r\n`);
      const back = parse(csv, { columns: true }) as Record<string, string>[];
      expect(back).toEqual([{ i: '1', text, n: '2' }]);
    }
  });

  it('--excel writes a UTF-8 BOM; numbers are plain', () => {
    expect(toCsvString(['a'], [['中文']], { bom: true }).startsWith('\uFEFFa\r\n')).toBe(true);
    expect([0.1 + 0.2, 1e-7, 12345678.9, -0, 2e21, NaN, Infinity].map(formatNumber)).toEqual([
      '0.3',
      '0.0000001',
      '12345678.9',
      '0',
      '2000000000000000000000',
      '',
      '',
    ]);
  });

  it('model output cannot drive the terminal', () => {
    expect(terminalSafe('\u001b[31mred\u001b[0m \u001b]0;title\u0007ok\r\nnext\u0007')).toBe('red ok next');
    expect(terminalSafe('中文很长的输出', 7)).toBe('中文很…');
  });
});

describe('CSV fixes of issue 15', () => {
  it('leaves plain negative numbers in text columns as numbers, still guards formulas', () => {
    for (const n of ['-3', '-0.5', '-12.', '-.5', '-1e3', '-2E-4']) expect(safeCell(n)).toBe(n);
    for (const f of ['-2+3', '-3-', '-A1', '- 3', '-1e3+1', '-3\n=cmd', '-']) expect(safeCell(f)).toBe(`'${f}`);
  });

  it('quotes fields holding a TAB or a semicolon, so Tab- and ;-separated imports keep them whole', () => {
    const text = csvRows([['a\t=1+1', 'x;=cmd', 'plain']]);
    expect(text).toBe('"a\t=1+1","x;=cmd",plain\r\n');
    // Read as Tab-separated, the TAB inside the first field does not start a new cell.
    expect(parse('"a\t=1+1"\tb\r\n', { delimiter: '\t' })).toEqual([['a\t=1+1', 'b']]);
    expect(parse(csvRows([['x;=cmd']]), { delimiter: ';' })).toEqual([['x;=cmd']]);
  });

  it('--excel puts the BOM on history.csv too', async () => {
    const dir = syntheticProject({ closedA: () => true, openA: (i) => i % 2 === 0 });
    expect((await cli(['run', '--suite', 'syn.yaml', '--run-id', 'e', '--quiet', '--excel'], { cwd: dir })).code).toBe(
      0,
    );
    const history = readFileSync(join(dir, 'results', 'history.csv'));
    expect(history.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(true);
    // A second run appends: one BOM, at the start only.
    expect((await cli(['run', '--suite', 'syn.yaml', '--run-id', 'f', '--quiet', '--excel'], { cwd: dir })).code).toBe(
      0,
    );
    const again = readFileSync(join(dir, 'results', 'history.csv'), 'utf8');
    expect(again.split('\uFEFF')).toHaveLength(2);
    expect(rows(join(dir, 'results', 'history.csv')).map((r) => r.run_id)).toEqual(['e', 'e', 'f', 'f']);
  });
});
