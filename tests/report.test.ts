import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import { csvRows, formatNumber, MAX_CELL, openCsv, safeCell, toCsvString, toLine } from '../src/report/csv.js';
import { appendHistory } from '../src/report/history.js';
import { choosesPair } from '../src/report/gap-scope.js';
import type { SummaryRow } from '../src/report/summary.js';
import type { Manifest } from '../src/journal/manifest.js';
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
    // Partial credit (contains, mode all): graded summary intervals (bounded mean at 80 cases) and the paired
    // t gap must not depend on the order records reached the journal.
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
    expect(summary.every((r) => r.ci_method === 'bounded')).toBe(true);
    expect(rows(join(runA, 'gap.csv'))[0].test).toBe('paired_t');
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
  it('gives the gap, McNemar score p-value, Tango interval and verdict, per suite and per category', async () => {
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
    // Two models a side: the pair is chosen on one half of the cases (a hash of the case id) and
    // tested on the other: here 104 cases choose (closedA 80% beats closedB, right on even cases)
    // and 96 test.
    const testing = Array.from({ length: N }, (_, i) => i).filter(
      (i) => !choosesPair({ suite: 'syn', caseId: `c${i}` }),
    );
    expect(testing.length).toBe(96);
    expect(best).toMatchObject({
      closed_model: 'closedA',
      open_model: 'openA',
      test: 'mcnemar_score',
      n_paired: '96',
      verdict: 'closed_better',
    });
    expect(best.note).toMatch(/^best pair chosen on half the cases, tested on the other half/);
    expect(Number(best.closed_score)).toBeCloseTo(77 / 96, 5);
    expect(Number(best.open_score)).toBeCloseTo(62 / 96, 5);
    expect(Number(best.gap_pp)).toBeCloseTo((15 / 96) * 100, 3);
    // On the 96 testing cases: closed right and open wrong (i%5 in {3,4}) on b = 34, the reverse
    // (i%5 == 0) on c = 19. McNemar's score test and Tango's interval, computed independently
    // (Python, scipy 1.17, brentq on Tango's statistic): p = 0.039359508888249725, [0.775151, 29.747343] pp.
    expect(Math.abs(Number(best.p_value) - 0.039359508888249725)).toBeLessThan(1e-5);
    expect(Number(best.ci_low_pp)).toBeCloseTo(0.775151, 3);
    expect(Number(best.ci_high_pp)).toBeCloseTo(29.7473, 3);
    // Exact power by summing binomials (the same script, brentq): 80% at a 20.856 pp gap when 53 of
    // 96 cases disagree; a 5 pp gap needs Connor's 1730.93 -> 1731 cases (beyond the exact search).
    expect(Number(best.min_detectable_pp)).toBeCloseTo(20.856, 1);
    expect(Number(best.cases_for_5pp)).toBe(1731);
    // Group means: closed (0.8 + 0.5) / 2 = 0.65, open (0.6 + 0.4) / 2 = 0.5 (scipy: p = 0.0010164380313311828).
    const mean = gap.find((g) => g.suite === 'syn' && g.category === 'all' && g.scope === 'mean')!;
    expect(mean).toMatchObject({ closed_model: 'closedA + closedB', open_model: 'openA + openB', test: 'paired_t' });
    expect(Number(mean.gap_pp)).toBeCloseTo(15, 9);
    expect(Number(mean.p_value)).toBeCloseTo(0.00101644, 8);
    // Categories are rows of their own, Holm-adjusted within the suite.
    expect(gap.filter((g) => g.scope === 'best').map((g) => g.category)).toEqual(['all', 'first', 'second']);
    const cats = gap.filter((g) => g.scope === 'best' && g.category !== 'all');
    const ps = cats.map((g) => Number(g.p_value)).sort((x, y) => x - y);
    expect(cats.map((g) => Number(g.p_adjusted)).sort((x, y) => x - y)).toEqual([
      Math.min(1, 2 * ps[0]),
      Math.min(1, Math.max(2 * ps[0], ps[1])),
    ]);
    expect(cats.every((g) => g.note.includes('exploratory'))).toBe(true);
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
    // The previous run's directory is beside this one: the drop is tested, not just measured.
    expect(after.stdout).toMatch(
      /FAIL openA on syn: 60\.0% -> 40\.0% \(-20\.0 pp, p < 0\.001, significant at alpha 0\.05\) against before/,
    );
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
    expect(open).toMatchObject({ verdict: 'regressed', test: 'mcnemar_score', n_paired: String(N) });
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

  it("is csv-stringify's output (CRLF records, text and TAB/semicolon fields quoted), read back intact", () => {
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
    const opts = { record_delimiter: '\r\n', quote_record_delimiter: true, quoted_string: true, quoted_match: /[\t;]/ };
    expect(csvRows(rowsIn)).toBe(stringify(rowsIn, opts));
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
    expect(raw.split('\r\n')[1]).toBe(`0,"'=1+1",-3.5`);
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
    expect(back.slice(14).map((r) => r.text)).toEqual(['a\nb', '多行\n文本', 'ok\r=1+2', 'bare\rCR']);
  });

  it('quotes every cell that holds a bare LF or CR, so no row splits and no formula starts a row', () => {
    for (const text of ['a\nb', '多行\n文本', 'ok\r=1+2', 'bare\rCR', 'tail\n', 'x\n=cmd|calc']) {
      const csv = toCsvString(['i', 'text', 'n'], [[1, text, 2]]);
      expect(csv).toBe(`i,text,n\r\n1,"${text.replace(/^(?=[=+\-@])/, "'")}",2\r\n`);
      const back = parse(csv, { columns: true }) as Record<string, string>[];
      expect(back).toEqual([{ i: '1', text, n: '2' }]);
    }
  });

  it('quotes TAB and semicolon fields, so Tab- or semicolon-separated imports keep them whole', () => {
    const csv = toCsvString(['a'], [['x\t=cmd()'], ['y;=cmd()']]);
    expect(csv).toBe('a\r\n"x\t=cmd()"\r\n"y;=cmd()"\r\n');
    // Read as a Tab- or semicolon-separated file, no field starts with a formula character.
    for (const delimiter of ['\t', ';']) {
      const fields = (parse(csv, { delimiter, relax_quotes: true, relax_column_count: true }) as string[][]).flat();
      for (const f of fields) expect(f).not.toMatch(/^[=+@]/);
    }
  });

  it('plain decimals stay numbers (bare), other number-like text is quoted, guards cover fullwidth signs', () => {
    expect(toLine(['-5', '3.25', '007', '1e5', '12/05/2024', '50%', '-x', '＝1+1', -2])).toBe(
      `-5,3.25,"007","1e5","12/05/2024","50%","'-x","'＝1+1",-2\r\n`,
    );
  });

  it('--excel puts the BOM at the start of history.csv, once, and appended rows read back', async () => {
    const file = join(tempDir(), 'history.csv');
    const manifest = { started_at: 't0', config_hash: 'c', suites: [{ name: 's', hash: 'h' }] } as unknown as Manifest;
    const row = {
      run_id: 'r1',
      suite: 's',
      model: '模型-a',
      group: 'open',
      score: 0.5,
      ci_low: 0.4,
      ci_high: 0.6,
      n: 10,
    };
    await appendHistory(file, manifest, [row as unknown as SummaryRow], { bom: true });
    await appendHistory(file, manifest, [{ ...row, run_id: 'r2' } as unknown as SummaryRow], { bom: true });
    const raw = readFileSync(file, 'utf8');
    expect(raw.charCodeAt(0)).toBe(0xfeff);
    expect(raw.slice(1)).not.toContain('\uFEFF');
    const back = parse(raw, { columns: true, bom: true }) as Record<string, string>[];
    expect(back.map((r) => [r.run_id, r.model, r.score])).toEqual([
      ['r1', '模型-a', '0.5'],
      ['r2', '模型-a', '0.5'],
    ]);
  });

  it('cuts long text within MAX_CELL; the marker counts characters (code points), not UTF-16 units', () => {
    const cut = safeCell('😀'.repeat(40_000)) as string;
    expect(cut.length).toBeLessThanOrEqual(MAX_CELL);
    const kept = Array.from(cut.replace(/….*$/, '')).length;
    expect(cut).toMatch(new RegExp(`^(😀)+…\\[truncated ${40_000 - kept} chars\\]$`));
    expect(safeCell('中'.repeat(MAX_CELL))).toBe('中'.repeat(MAX_CELL));
  });

  it('--excel writes a UTF-8 BOM; numbers are plain, 6 significant digits, no float noise', () => {
    expect(toCsvString(['a'], [['中文']], { bom: true }).startsWith('\uFEFFa\r\n')).toBe(true);
    const cases: [number, string][] = [
      [0.1 + 0.2, '0.3'],
      [1e-7, '0.0000001'],
      [12345678.9, '12345700'],
      [12345678, '12345678'],
      [-0, '0'],
      [0.8 - 0.6 - 0.2, '0'],
      [-1.1102230246251565e-14, '0'],
      [2 / 3, '0.666667'],
      [-200 / 3, '-66.6667'],
      [1.23456789e-9, '0.000000001235'],
      [2e21, '2000000000000000000000'],
      [NaN, ''],
      [Infinity, ''],
    ];
    expect(cases.map(([x]) => formatNumber(x))).toEqual(cases.map(([, s]) => s));
  });

  it('model output cannot drive the terminal', () => {
    expect(terminalSafe('\u001b[31mred\u001b[0m \u001b]0;title\u0007ok\r\nnext\u0007')).toBe('red ok next');
    expect(terminalSafe('中文很长的输出', 7)).toBe('中文很…');
  });
});
