/**
 * report.html of a capacity run: the throughput-latency chart (html-throughput.ts, the same chart an
 * evaluation run's report shows for its capacity result), read back from the files just written,
 * so the page shows what capacity.csv and goodput.csv say; then both tables.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CAPACITY_COLUMNS, GOODPUT_COLUMNS } from './capacity-columns.js';
import { goodputRow, sloText, stepRow, type CapacityStep, type Goodput, type Slo } from './capacity.js';
import { readCapacity } from './capacity-read.js';
import { escapeHtml, rowsTable } from './html-tables.js';
import { throughputLatencySection } from './html-throughput.js';
import { STYLE } from './html.js';

interface CapacityHtmlInput {
  /** The capacity run directory, holding capacity.csv and goodput.csv already. */
  runDir: string;
  runId: string;
  steps: readonly CapacityStep[];
  goodput: readonly Goodput[];
  slo: Slo;
}

export function writeCapacityHtml(r: CapacityHtmlInput): void {
  const chart =
    throughputLatencySection(readCapacity(r.runDir)) || '<p>No swept model answered: no throughput-latency curve.</p>';
  const sections = [
    [`Throughput and latency, target ${sloText(r.slo)}`, chart],
    [
      'goodput.csv',
      rowsTable(
        r.goodput.map((g) => goodputRow(r.runId, g)),
        GOODPUT_COLUMNS,
      ),
    ],
    [
      'capacity.csv',
      rowsTable(
        r.steps.map((s) => stepRow(r.runId, s)),
        CAPACITY_COLUMNS,
      ),
    ],
  ];
  writeFileSync(
    join(r.runDir, 'report.html'),
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>gapbench capacity ${escapeHtml(r.runId)}</title>` +
      `<style>${STYLE}</style></head><body><h1>gapbench capacity · ${escapeHtml(r.runId)}</h1>` +
      sections.map(([h, body]) => `<section><h2>${escapeHtml(h)}</h2>${body}</section>`).join('') +
      '</body></html>\n',
  );
}
