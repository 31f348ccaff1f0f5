import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Aggregator } from '../src/report/aggregate.js';
import { CAPACITY_COLUMNS, GOODPUT_COLUMNS } from '../src/report/capacity-columns.js';
import { readCapacity } from '../src/report/capacity-read.js';
import { gapRows } from '../src/report/gap.js';
import { summarize } from '../src/report/summary.js';
import type { Price } from '../src/types.js';
import { answeredRecord as record, cli, csvRows, runManifest, tempDir, writeFiles } from './helpers.js';

const SLO = 'ttft_p95<=2s;itl_p95<=100ms';

/** A capacity result as `gapbench capacity` writes it: open model `o` swept, closed `c` measured at two loads. */
function capacityFiles(goodputRps: string, opts: { model?: string; capacityCsv?: string; goodputCsv?: string } = {}) {
  const o = opts.model ?? 'o';
  const row = (cells: Record<string, string>) => CAPACITY_COLUMNS.map((c) => cells[c] ?? '').join(',');
  const step = (model: string, side: string, step: number, conc: number, rps: number, ttft: number, e2e: number) =>
    row({
      run_id: 'cap-1',
      model,
      side,
      step: String(step),
      concurrency: String(conc),
      duration_s: '10',
      requests: '20',
      requests_per_s: String(rps),
      ttft_p95_ms: String(ttft),
      e2e_p95_ms: String(e2e),
      errors: '0',
      cold_starts: '0',
      meets_slo: String(ttft <= 2000),
    });
  const capacity = [
    CAPACITY_COLUMNS.join(','),
    step(o, 'open', 1, 1, 0.2, 400, 5000),
    step(o, 'open', 2, 8, 0.5, 1500, 16000),
    step(o, 'open', 3, 32, 0.6, 9000, 53000),
    step('c', 'closed', 1, 1, 0.9, 300, 1100),
    step('c', 'closed', 2, 4, 3.5, 350, 1200),
  ];
  const good = GOODPUT_COLUMNS.map(
    (c) =>
      ({
        run_id: 'cap-1',
        model: o,
        slo: `"${SLO}"`,
        goodput_requests_per_s: goodputRps,
        goodput_concurrency: goodputRps ? '8' : '',
        goodput_ttft_p95_ms: goodputRps ? '1500' : '',
        goodput_e2e_p95_ms: goodputRps ? '16000' : '',
        saturation_requests_per_s: '0.6',
        saturation_concurrency: '32',
      })[c as string] ?? '',
  ).join(',');
  return {
    'capacity.csv': opts.capacityCsv ?? `${capacity.join('\r\n')}\r\n`,
    'goodput.csv': opts.goodputCsv ?? `${GOODPUT_COLUMNS.join(',')}\r\n${good}\r\n`,
  };
}

function capacityDir(goodputRps: string, opts: Parameters<typeof capacityFiles>[1] = {}): string {
  const dir = tempDir('gapbench-cap-');
  writeFiles(dir, capacityFiles(goodputRps, opts));
  return dir;
}

const prices: Record<string, Price> = { c: { input: 1, output: 1 }, o: { perHour: 1, utilization: 0.5 } };

/** Closed: 10 requests of 2 x 1,000 tokens at $1/M ($0.002 each), 8 right. Open: 10 requests of 36 s one at a time (100 an hour), 5 right. */
function gap(capacity?: string) {
  const agg = new Aggregator('r', false);
  const priceOf = (m: string) => prices[m];
  for (let i = 0; i < 10; i++) agg.add(record('c', 'closed', i, i < 8, 1000, 1), priceOf);
  for (let i = 0; i < 10; i++) agg.add(record('o', 'open', i, i < 5, 10, 36), priceOf);
  const cap = capacity === undefined ? undefined : readCapacity(capacity);
  return gapRows(agg.agg, summarize(agg.agg, priceOf), { priceOf, capacity: cap })[0];
}

describe('break-even on a capacity result', () => {
  it("without one: this run's throughput, and it says so", () => {
    // $1/h at 50% of 100 requests/h = $0.02 a request; 10 requests, 5 right: $40 per 1,000 correct.
    // Rent $730 / $0.002 = 365,000 requests a month, over one machine's 0.5 x 100 x 730 = 36,500: none.
    const g = gap();
    expect(g.open_cost_per_1k_correct_usd).toBeCloseTo(40, 10);
    expect(g.open_capacity_requests_per_month).toBe(36_500);
    expect(g.breakeven_requests_per_month).toBeUndefined();
    expect(g.open_capacity_source).toBe(
      "this run's throughput at its own concurrency (on average 1 request in flight)",
    );
    expect(g.closed_ttft_p95_ms).toBeUndefined();
  });

  it('with one: the goodput at the SLO sets the cost, the capacity and the break-even', () => {
    // Goodput 0.5 requests/s = 1,800 an hour: $1 / (0.5 x 1,800) = $0.00111 a request; x 10 / 5 x 1,000 = $2.2222.
    // One machine: 0.5 x 1,800 x 730 = 657,000 a month, over the 365,000 break-even: now there is one.
    const g = gap(capacityDir('0.5'));
    expect(g.open_cost_per_1k_correct_usd).toBeCloseTo(20 / 9, 10);
    expect(g.open_capacity_requests_per_month).toBe(657_000);
    expect(g.breakeven_requests_per_month).toBe(365_000);
    expect(g.open_capacity_source).toBe(`goodput ${SLO}: 0.5 requests/s at concurrency 8 (capacity run cap-1)`);
    // Open at its goodput step vs the API at its highest load measured.
    expect(g).toMatchObject({
      open_ttft_p95_ms_at_goodput: 1500,
      open_e2e_p95_ms_at_goodput: 16000,
      closed_ttft_p95_ms: 350,
      closed_e2e_p95_ms: 1200,
    });
    // The closed side is the run's own measure either way.
    expect(g.closed_cost_per_1k_correct_usd).toBeCloseTo(2.5, 10);
  });

  it('report.html says the latency at that load and draws the staircase with the crossing', async () => {
    const { renderHtml } = await import('../src/report/html.js');
    const html = renderHtml({
      runId: 'r',
      summary: [],
      gaps: [gap(capacityDir('0.5'))],
      aggregate: new Aggregator('r', false).agg,
    });
    expect(html).toMatch(
      /open at its break-even load answers with TTFT p95 1\.5 s vs the API(&#39;|&#x27;|')s 0\.35 s \(whole answer p95 16 s vs 1\.2 s\)/,
    );
    expect(html).toMatch(
      /<svg[\s\S]*one more machine every 657,000 requests[\s\S]*break-even 365,000 requests\/month[\s\S]*<\/svg>/,
    );
    expect(html).toContain('capacity from its goodput at the latency target');
  });

  it("report.html draws the capacity run's throughput against TTFT, the target's line and the goodput", async () => {
    const { renderHtml } = await import('../src/report/html.js');
    const capacity = readCapacity(capacityDir('0.5'));
    const html = renderHtml({ runId: 'r', summary: [], gaps: [], aggregate: new Aggregator('r', false).agg, capacity });
    const svg = /<svg(?:(?!<\/svg>)[\s\S])*Throughput against time to first token[\s\S]*?<\/svg>/.exec(html)?.[0] ?? '';
    for (const text of [
      'SLO: TTFT p95 ≤ 2 s',
      'c=1',
      'c=32',
      'o (self-hosted)',
      'goodput 0.5 requests/s at concurrency 8',
    ])
      expect(svg).toContain(text);
    // The API is a line at its TTFT p95, not a point on the throughput axis.
    expect(svg).toMatch(/c \(API\): TTFT p95 [\d.]+ s/);
    // Without a capacity result there is no such chart.
    expect(renderHtml({ runId: 'r', summary: [], gaps: [], aggregate: new Aggregator('r', false).agg })).not.toContain(
      'Throughput against time to first token',
    );
  });

  it('falls back, saying why, when no step met the SLO or the model is not in the result', () => {
    const none = gap(capacityDir(''));
    expect(none.open_capacity_requests_per_month).toBe(36_500);
    expect(none.open_capacity_source).toMatch(
      /^this run's throughput .*; capacity run cap-1: no step met ttft_p95<=2s/,
    );
    const other = gap(capacityDir('0.5', { model: 'other' }));
    expect(other.open_capacity_requests_per_month).toBe(36_500);
    expect(other.open_capacity_source).toMatch(/capacity run cap-1 has no result for this model$/);
  });
});

describe('reading a capacity result', () => {
  const bad = (files: Parameters<typeof capacityFiles>[1]) => () => readCapacity(capacityDir('0.5', files));

  it('reads the rows back', () => {
    const c = readCapacity(capacityDir('0.5'));
    expect(c.runId).toBe('cap-1');
    expect(c.steps).toHaveLength(5);
    expect(c.steps[2]).toMatchObject({ model: 'o', side: 'open', concurrency: 32, requestsPerS: 0.6, meetsSlo: false });
    expect(c.goodput.get('o')).toMatchObject({ slo: SLO, requestsPerS: 0.5, concurrency: 8 });
  });

  it('says in one line what is wrong with a bad directory or file, naming file and line', () => {
    const empty = tempDir();
    expect(() => readCapacity(join(empty, 'nope'))).toThrow(/nope: no such capacity directory$/);
    expect(() => readCapacity(empty)).toThrow(/no capacity\.csv: not a capacity result/);
    const header = `${CAPACITY_COLUMNS.join(',').replace('side', 'group')}\r\n`;
    expect(bad({ capacityCsv: header })).toThrow(/capacity\.csv:1: column 3 is 'group', expected 'side'$/);
    const good = capacityFiles('0.5')['capacity.csv'].split('\r\n');
    const badNumber = [...good.slice(0, 3), good[3].replace(',0.6,', ',fast,'), ''].join('\r\n');
    expect(bad({ capacityCsv: badNumber })).toThrow(
      /capacity\.csv:4: requests_per_s: 'fast' is not a non-negative number$/,
    );
    const badSide = [...good.slice(0, 2), good[2].replace(',open,', ',mine,'), ''].join('\r\n');
    expect(bad({ capacityCsv: badSide })).toThrow(/capacity\.csv:3: side: 'mine' is neither open nor closed$/);
    const cut = `${GOODPUT_COLUMNS.join(',')}\r\ncap-1,o,"${SLO}`;
    expect(bad({ goodputCsv: cut })).toThrow(/goodput\.csv:2: row cut off/);
  });
});

/** A replayed closed and open model, 6 cases; the open one rented by the hour. */
function project(extraConfig = ''): string {
  const dir = tempDir();
  const suite = ['name: arith', 'grader: numeric', 'cases:'];
  for (let i = 0; i < 6; i++) suite.push(`  - { id: c${i}, prompt: "q${i}", expected: ${i} }`);
  const replay = (ok: (i: number) => boolean) =>
    Array.from({ length: 6 }, (_, i) => JSON.stringify({ id: `c${i}`, output: `${ok(i) ? i : i + 1}` })).join('\n');
  writeFiles(dir, {
    'syn.yaml': suite.join('\n'),
    'closed.jsonl': replay(() => true),
    'open.jsonl': replay((i) => i % 2 === 0),
    'gapbench.config.yaml': `models:
  - { id: c, provider: replay, model: closed.jsonl, group: closed, price: { input: 1, output: 2 } }
  - { id: o, provider: replay, model: open.jsonl, group: open, price: { perHour: 3.6 } }
${extraConfig}`,
  });
  mkdirSync(join(dir, 'cap'));
  writeFiles(join(dir, 'cap'), capacityFiles('0.5'));
  return dir;
}

describe('gapbench run, report and regrade with --capacity', () => {
  it('refuses a missing directory or one without capacity files in one line, exit 2, nothing written', async () => {
    const dir = project();
    for (const [arg, why] of [
      ['missing', '--capacity: missing: no such capacity directory'],
      ['.', '--capacity: .: no capacity.csv: not a capacity result (written by gapbench capacity)'],
    ]) {
      const r = await cli(['run', '--suite', 'syn.yaml', '--run-id', 'x', '--quiet', '--capacity', arg], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(why);
      expect(existsSync(join(dir, 'results', 'x'))).toBe(false);
    }
    const c = await cli(['run', '--suite', 'syn.yaml', '--run-id', 'y', '--quiet'], {
      cwd: project('capacity: nowhere\n'),
    });
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/^gapbench run: gapbench\.config\.yaml:4: capacity: nowhere: no such capacity directory/m);
  });

  it('uses the goodput, records the directory, and report and regrade reproduce it', async () => {
    const dir = project();
    const r = await cli(['run', '--suite', 'syn.yaml', '--run-id', 'r', '--quiet', '--capacity', 'cap'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const run = join(dir, 'results', 'r');
    expect(runManifest(run).capacity).toEqual({ dir: join(dir, 'cap'), run_id: 'cap-1' });
    const row = () => csvRows(join(run, 'gap.csv')).find((g) => g.scope === 'best')!;
    // $3.60/h at 0.5 requests/s (1,800 an hour): $0.002 a request; 6 requests, 3 right: $4 per 1,000 correct.
    expect(row()).toMatchObject({
      open_cost_per_1k_correct_usd: '4',
      open_capacity_source: `goodput ${SLO}: 0.5 requests/s at concurrency 8 (capacity run cap-1)`,
      open_ttft_p95_ms_at_goodput: '1500',
    });
    const before = readFileSync(join(run, 'gap.csv'), 'utf8');
    expect((await cli(['report', run], { cwd: dir })).code).toBe(0);
    expect(readFileSync(join(run, 'gap.csv'), 'utf8')).toBe(before);
    const g = await cli(['regrade', run, '--run-id', 'rg'], { cwd: dir });
    expect(g.code, g.stderr).toBe(0);
    expect(csvRows(join(dir, 'results', 'rg', 'gap.csv')).find((x) => x.scope === 'best')).toMatchObject({
      open_cost_per_1k_correct_usd: '4',
    });
  });

  it('report --capacity adds a capacity result to a finished run and records it for the next report', async () => {
    const dir = project();
    expect((await cli(['run', '--suite', 'syn.yaml', '--run-id', 'p', '--quiet'], { cwd: dir })).code).toBe(0);
    const run = join(dir, 'results', 'p');
    const source = () => csvRows(join(run, 'gap.csv')).find((g) => g.scope === 'best')!.open_capacity_source;
    expect(source()).toMatch(/^this run's throughput/);
    const r = await cli(['report', run, '--capacity', 'cap'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(source()).toMatch(/\(capacity run cap-1\)$/);
    expect(runManifest(run).capacity?.run_id).toBe('cap-1');
    expect((await cli(['report', run], { cwd: dir })).code).toBe(0);
    expect(source()).toMatch(/\(capacity run cap-1\)$/);
    const bad = await cli(['report', run, '--capacity', 'nope'], { cwd: dir });
    expect([bad.code, bad.stderr.trim()]).toEqual([2, 'gapbench report: --capacity: nope: no such capacity directory']);
  });

  it('says in one line when an open model met the target at no load, and falls back', async () => {
    const dir = project();
    writeFiles(join(dir, 'cap'), capacityFiles(''));
    const r = await cli(['run', '--suite', 'syn.yaml', '--run-id', 'n', '--quiet', '--capacity', 'cap'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("note: --capacity cap: 'o' met the latency target at no load");
    const row = csvRows(join(dir, 'results', 'n', 'gap.csv')).find((g) => g.scope === 'best')!;
    // (Replayed answers may take no measurable time: then the run's own figure is none, and it says so.)
    expect(row.open_capacity_source).toMatch(/; capacity run cap-1: no step met ttft_p95<=2s;itl_p95<=100ms$/);
  });

  it('evaluate({ capacity }) does the same from a program, and refuses a bad directory before sending', async () => {
    const { evaluate } = await import('../src/evaluate.js');
    const dir = project();
    const opts = { config: 'gapbench.config.yaml', suites: ['syn.yaml'], cwd: dir, env: {} };
    const r = await evaluate({ ...opts, capacity: 'cap' });
    expect(r.manifest.capacity).toEqual({ dir: join(dir, 'cap'), run_id: 'cap-1' });
    expect(r.gaps.find((g) => g.scope === 'best')!.open_capacity_source).toMatch(/\(capacity run cap-1\)$/);
    await expect(evaluate({ ...opts, capacity: 'nope' })).rejects.toThrow(
      /^capacity: nope: no such capacity directory$/,
    );
  });

  it('warns in one line when the capacity result has no row for an open model', async () => {
    const dir = project();
    writeFiles(join(dir, 'cap'), capacityFiles('0.5', { model: 'llama' }));
    const r = await cli(['run', '--suite', 'syn.yaml', '--run-id', 'w', '--quiet', '--capacity', 'cap'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      "warning: --capacity cap: no capacity result for 'o' (it has 'llama'): their break-even uses this run's own throughput",
    );
    const row = csvRows(join(dir, 'results', 'w', 'gap.csv')).find((g) => g.scope === 'best')!;
    expect(row.open_capacity_source).toMatch(/capacity run cap-1 has no result for this model$/);
  });
});
