import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseHtml } from 'parse5';
import { describe, expect, it } from 'vitest';
import { cli, parseCsv, tempDir, writeFiles } from './helpers.js';

type Node = { nodeName: string; value?: string; childNodes?: Node[]; attrs?: { name: string; value: string }[] };

const walk = (n: Node, visit: (n: Node) => void): void => {
  visit(n);
  for (const c of n.childNodes ?? []) walk(c, visit);
  const content = (n as { content?: Node }).content;
  if (content) walk(content, visit);
};
const textOf = (n: Node): string => {
  let s = '';
  walk(n, (x) => {
    if (x.nodeName === '#text') s += x.value;
  });
  return s;
};

const HOSTILE = `</svg><script>alert("x")</script><img src=x onerror='alert(1)'> "quoted" & 'single'`;
const N = 40;

/** 2 closed and 2 open replayed models (one label in Chinese), one output hostile. */
function project(): string {
  const dir = tempDir();
  const suite = ['name: arith', 'grader: numeric', 'cases:'];
  for (let i = 0; i < N; i++)
    suite.push(`  - { id: c${i}, prompt: "q${i}", expected: ${i}, category: ${i % 2 ? '奇' : 'even'} }`);
  const files: Record<string, string> = { 'syn.yaml': suite.join('\n') };
  const right: Record<string, (i: number) => boolean> = {
    closedA: () => true,
    闭源乙: (i) => i % 5 !== 0,
    openA: (i) => i % 3 !== 0,
    开源乙: (i) => i % 2 === 0,
  };
  const models = ['models:'];
  for (const [name, ok] of Object.entries(right)) {
    const out = (i: number) => (name === 'openA' && i === 3 ? HOSTILE : `The answer is ${ok(i) ? i : i + 1}.`);
    files[`${name}.jsonl`] = Array.from({ length: N }, (_, i) => JSON.stringify({ id: `c${i}`, output: out(i) })).join(
      '\n',
    );
    const group = name === 'closedA' || name === '闭源乙' ? 'closed' : 'open';
    models.push(
      `  - { id: ${name}, provider: replay, model: ${name}.jsonl, group: ${group}, price: { input: 1, output: 2 } }`,
    );
  }
  files['gapbench.config.yaml'] = models.join('\n');
  writeFiles(dir, files);
  return dir;
}

describe('report.html', () => {
  it('holds inline SVG charts with the labels and gap numbers, and hostile outputs inert', async () => {
    const dir = project();
    const r = await cli(['run', '--suite', 'syn.yaml', '--run-id', 'h', '--quiet', '--matrix-outputs'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const run = join(dir, 'results', 'h');
    const html = readFileSync(join(run, 'report.html'), 'utf8');
    const doc = parseHtml(html) as unknown as Node;

    const svgs: Node[] = [];
    const scripts: Node[] = [];
    const handlers: string[] = [];
    walk(doc, (n) => {
      if (n.nodeName === 'svg') svgs.push(n);
      if (n.nodeName === 'script') scripts.push(n);
      for (const a of n.attrs ?? [])
        if (/^on/i.test(a.name) || (/(href|src)$/i.test(a.name) && /^(javascript|https?):/i.test(a.value)))
          handlers.push(a.name);
      if (n.nodeName === 'img' || n.nodeName === 'link' || n.nodeName === 'iframe') handlers.push(n.nodeName);
    });
    // Self-contained and inert: no script, no event handler, no external resource.
    expect(scripts).toHaveLength(0);
    expect(handlers).toEqual([]);
    expect(svgs.length).toBeGreaterThanOrEqual(5);

    const gaps = parseCsv(readFileSync(join(run, 'gap.csv'), 'utf8'), { columns: true, bom: true }) as Record<
      string,
      string
    >[];
    expect(gaps.length).toBeGreaterThan(0);
    const gapSvg = textOf(svgs[0]);
    for (const g of gaps) {
      // Labels, Chinese ones too, and the gap estimate rounded to 0.1 pp as the chart prints it.
      expect(gapSvg).toContain(g.closed_model.replace(/^'/, ''));
      expect(gapSvg).toContain(g.open_model.replace(/^'/, ''));
      expect(gapSvg).toContain(String(Math.round(Number(g.gap_pp) * 10) / 10));
    }
    expect(gapSvg).toContain('奇');
    const scoreSvg = textOf(svgs[1]);
    for (const m of ['closedA', '闭源乙', 'openA', '开源乙']) expect(scoreSvg).toContain(m);

    // The hostile output is shown as text, intact, inside the disagreement table.
    const body = textOf(doc);
    expect(body).toContain(HOSTILE);
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;/svg&gt;&lt;script&gt;');
  });

  it('charts the score of each model over the runs history.csv holds', async () => {
    const dir = project();
    for (const id of ['r1', 'r2']) {
      expect((await cli(['run', '--suite', 'syn.yaml', '--run-id', id, '--quiet'], { cwd: dir })).code).toBe(0);
    }
    const first = readFileSync(join(dir, 'results', 'r1', 'report.html'), 'utf8');
    expect(first).toContain('no trend yet');
    const doc = parseHtml(readFileSync(join(dir, 'results', 'r2', 'report.html'), 'utf8')) as unknown as Node;
    const svgs: Node[] = [];
    walk(doc, (n) => {
      if (n.nodeName === 'svg') svgs.push(n);
    });
    const trend = svgs.map(textOf).find((t) => t.includes('Score over runs'));
    expect(trend).toBeDefined();
    for (const label of ['r1', 'r2', 'arith · 闭源乙', 'arith · openA']) expect(trend).toContain(label);
  });
});
