import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseHtml } from 'parse5';
import { describe, expect, it } from 'vitest';
import { niceRange, placeLabels, textWidth } from '../src/report/chart-labels.js';
import { answerKeyFromCases, startSimulator } from '../src/sim/index.js';
import { cli, tempDir, writeFiles } from './helpers.js';

type Node = { nodeName: string; value?: string; childNodes?: Node[]; attrs?: { name: string; value: string }[] };
const walk = (n: Node, visit: (n: Node) => void): void => {
  visit(n);
  for (const c of n.childNodes ?? []) walk(c, visit);
};
const textOf = (n: Node): string => {
  let s = '';
  walk(n, (x) => {
    if (x.nodeName === '#text') s += x.value;
  });
  return s;
};

const HOSTILE = `<script>alert(1)</script> & "x"`;
const LONG = `${'A long answer. '.repeat(60)}THE END`;

/**
 * Suite `big` has 30 cases the closed model gets right and the open one wrong, in two categories;
 * suite `small` 4 such cases: the table must still show `small`. Prices on both sides draw the
 * cost scatter, several points close together.
 */
function project(): string {
  const dir = tempDir();
  const suite = (name: string, n: number) =>
    [`name: ${name}`, 'grader: contains', 'cases:']
      .concat(
        Array.from(
          { length: n },
          (_, i) =>
            `  - { id: ${name}${i}, prompt: "Prompt ${name} ${i}", expected: "ok${i}", category: ${i % 2 ? 'odd' : 'even'} }`,
        ),
      )
      .join('\n');
  const replay = (name: string, n: number, right: boolean) =>
    Array.from({ length: n }, (_, i) =>
      JSON.stringify({
        id: `${name}${i}`,
        output: right ? `ok${i}` : name === 'small' && i === 0 ? HOSTILE : i === 1 ? LONG : 'wrong',
      }),
    ).join('\n');
  const files: Record<string, string> = { 'big.yaml': suite('big', 30), 'small.yaml': suite('small', 4) };
  const models = ['suites: [big.yaml, small.yaml]', 'models:'];
  for (const [id, group, right, price] of [
    ['closed-a', 'closed', true, '{ input: 1, output: 2 }'],
    ['closed-b', 'closed', true, '{ input: 1.01, output: 2 }'],
    ['open-a', 'open', false, '{ perHour: 1 }'],
    ['open-b', 'open', false, '{ perHour: 1.01 }'],
  ] as const) {
    files[`${id}.jsonl`] = `${replay('big', 30, right)}\n${replay('small', 4, right)}`;
    models.push(`  - { id: ${id}, provider: replay, model: ${id}.jsonl, group: ${group}, price: ${price} }`);
  }
  files['gapbench.config.yaml'] = models.join('\n');
  writeFiles(dir, files);
  return dir;
}

describe('report.html shows the answers', () => {
  it('lists the disagreeing cases by default, from records.jsonl: prompt, expected, each output, escaped and shortened', async () => {
    const dir = project();
    const r = await cli(['run', '--run-id', 'h', '--quiet'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(join(dir, 'results', 'h', 'report.html'), 'utf8');
    const doc = parseHtml(html) as unknown as Node;
    const tables: Node[] = [];
    walk(doc, (n) => {
      if (n.nodeName === 'table' && n.attrs?.some((a) => a.name === 'class' && a.value === 'dis')) tables.push(n);
    });
    expect(tables).toHaveLength(1);
    const rows: Node[] = [];
    walk(tables[0], (n) => {
      if (n.nodeName === 'tr') rows.push(n);
    });
    const body = rows.slice(1).map(textOf);
    expect(body).toHaveLength(20);
    // Spread over suites and categories: small's cases are there though big has 30 as disputed.
    expect(body.filter((t) => t.startsWith('small'))).toHaveLength(4);
    expect(body.filter((t) => t.startsWith('bigodd'))).toHaveLength(8);
    const first = body.find((t) => t.includes('small0'))!;
    for (const part of ['Prompt small 0', 'ok0', 'closed-a', 'open-b', HOSTILE]) expect(first).toContain(part);
    expect(html).not.toContain('<script>');
    // A long output: its start shown, the whole of it behind <details>.
    const long = html.indexOf('THE END');
    expect(long).toBeGreaterThan(0);
    expect(html.lastIndexOf('<details>', long)).toBeGreaterThan(html.lastIndexOf('</details>', long));
    expect(html).toContain(`show all ${LONG.length.toLocaleString('en')} characters`);
  });

  it('prints p-values as the terminal does', async () => {
    const dir = project();
    const r = await cli(['run', '--run-id', 'p'], { cwd: dir });
    expect(r.stdout).toContain('p < 0.001');
    const html = readFileSync(join(dir, 'results', 'p', 'report.html'), 'utf8');
    expect(html).toContain('(p &lt; 0.001)');
    expect(html).not.toMatch(/p = 0\.0\d{3}/);
  });

  it('draws no two labels of the cost scatter over each other', async () => {
    // Token and hourly prices need usage and busy time: the simulator's models report both.
    const cases = Array.from({ length: 20 }, (_, i) => ({
      id: `q${i}`,
      prompt: `What is ${i} + ${i}?`,
      expected: String(2 * i),
      category: 'x',
      grader: { type: 'numeric' as const },
      vars: {},
    }));
    const names = ['c-a', 'c-b', 'o-a:7b', 'o-b:7b'];
    const sim = await startSimulator({
      port: 0,
      seed: 3,
      answers: answerKeyFromCases(cases),
      models: names.map((name, i) => ({ name, accuracy: [0.9, 0.88, 0.7, 0.72][i], latencyMs: 2 })),
    });
    try {
      const dir = tempDir();
      const suite = (n: string) =>
        [
          `name: ${n}`,
          'grader: numeric',
          'cases:',
          ...cases.map((c) => `  - { id: ${c.id}, prompt: "${c.prompt}", expected: ${c.expected} }`),
        ].join('\n');
      writeFiles(dir, {
        'a.yaml': suite('alpha'),
        'b.yaml': suite('beta'),
        'gapbench.config.yaml': ['suites: [a.yaml, b.yaml]', 'models:']
          .concat(
            names.map((n, i) =>
              i < 2
                ? `  - { id: ${n}, provider: openai, model: ${n}, baseURL: "${sim.openaiBaseURL}", group: closed, price: { input: ${1 + i / 100}, output: 2 } }`
                : `  - { id: ${n.replace(':7b', '')}, provider: ollama, model: "${n}", host: "${sim.ollamaHost}", group: open, price: { perHour: ${1 + i / 100} } }`,
            ),
          )
          .join('\n'),
      });
      expect((await cli(['run', '--run-id', 'c', '--quiet'], { cwd: dir })).code).toBe(0);
      const html = readFileSync(join(dir, 'results', 'c', 'report.html'), 'utf8');
      const at = html.indexOf('<h2>Cost / ');
      const svg = html.slice(at, html.indexOf('</svg>', at));
      const boxes = [
        ...svg.matchAll(/<text[^>]*transform="translate\(([\d.]+) ([\d.]+)\)"[^>]*>((?:alpha|beta) · [^<]*)<\/text>/g),
      ].map((m) => {
        const [x, y, text] = [Number(m[1]), Number(m[2]), m[3]];
        const w = textWidth(text, '11px').width;
        const end = /text-anchor="end"/.test(m[0]);
        return { x0: end ? x - w : x, x1: end ? x : x + w, y0: y - 7, y1: y + 7, text };
      });
      expect(boxes).toHaveLength(8); // 2 suites x 4 models
      for (const [i, a] of boxes.entries())
        for (const b of boxes.slice(i + 1))
          expect(a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1, `${a.text} / ${b.text}`).toBe(false);
    } finally {
      await sim.close();
    }
  });
});

describe('chart label placement', () => {
  it('moves labels of points at one spot apart, inside the plot', () => {
    const points = Array.from({ length: 12 }, (_, i) => ({
      px: 100 + (i % 3),
      py: 200 + (i % 2),
      text: `suite · model-${i}`,
    }));
    const placed = placeLabels(points, { right: 880, top: 50, bottom: 320 });
    for (const [i, a] of placed.entries())
      for (const b of placed.slice(i + 1))
        expect(a.box.x0 < b.box.x1 && b.box.x0 < a.box.x1 && a.box.y0 < b.box.y1 && b.box.y0 < a.box.y1).toBe(false);
    expect(Math.max(...placed.map((p) => p.box.y1))).toBeLessThanOrEqual(320);
    // A label that would leave the chart on the right goes left of its point.
    expect(placeLabels([{ px: 870, py: 100, text: 'a long label' }], { right: 880, top: 0, bottom: 300 })[0].side).toBe(
      'left',
    );
  });

  it('rounds axis ranges to steps of 1, 2, 2.5 or 5', () => {
    expect(niceRange(0, 0.00123)).toEqual({ min: 0, max: 0.00125, step: 0.00025 });
    expect(niceRange(61.3, 98.7)).toEqual({ min: 60, max: 100, step: 10 });
    expect(niceRange(50, 50).max).toBeGreaterThan(50);
  });
});
