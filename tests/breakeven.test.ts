import { describe, expect, it } from 'vitest';
import { Aggregator } from '../src/report/aggregate.js';
import { gapRows } from '../src/report/gap.js';
import { summarize } from '../src/report/summary.js';
import type { Price } from '../src/types.js';
import { answeredRecord as record } from './helpers.js';

function gapOf(closedTokens: number, prices: Record<string, Price>) {
  const agg = new Aggregator('r', false);
  const priceOf = (m: string) => prices[m];
  // Closed: 10 requests, 8 right. Open: 10 requests of 36 s each (0.1 busy hour: 100 requests an hour), 5 right.
  for (let i = 0; i < 10; i++) agg.add(record('c', 'closed', i, i < 8, closedTokens, 1), priceOf);
  for (let i = 0; i < 10; i++) agg.add(record('o', 'open', i, i < 5, 10, 36), priceOf);
  return gapRows(agg.agg, summarize(agg.agg, priceOf), { priceOf })[0];
}

describe('cost at real usage and break-even', () => {
  const prices = { c: { input: 1, output: 1 }, o: { perHour: 1, utilization: 0.5 } };

  it('gives each side the cost of 1,000 correct answers at its measured usage', () => {
    // Closed: 2 x 1,000 tokens at $1/M = $0.002 a request; 10 requests, 8 right: $2.50 per 1,000 correct.
    // Open: $1/h at 50% of 100 requests/h = $0.02 a request; 10 requests, 5 right: $40 per 1,000 correct.
    const g = gapOf(1000, prices);
    expect(g.closed_cost_per_1k_correct_usd).toBeCloseTo(2.5, 10);
    expect(g.open_cost_per_1k_correct_usd).toBeCloseTo(40, 10);
    // Rent $730 a month / $0.002 = 365,000 requests, more than one machine serves (0.5 x 100 x 730 = 36,500): empty.
    expect(g.breakeven_requests_per_month).toBeUndefined();
  });

  it('gives the monthly volume above which self-hosting is cheaper when one machine can serve it', async () => {
    // Closed at 2 x 100,000 tokens = $0.20 a request: $730 / $0.20 = 3,650 requests a month (under 36,500).
    const g = gapOf(100_000, prices);
    expect(g.breakeven_requests_per_month).toBe(3650);
    expect(g).toMatchObject({ open_monthly_cost_usd: 730, open_capacity_requests_per_month: 36_500 });
    // report.html says it in words and charts it (an inline SVG marking the crossing).
    const { renderHtml } = await import('../src/report/html.js');
    const { Aggregator } = await import('../src/report/aggregate.js');
    const html = renderHtml({ runId: 'r', summary: [], gaps: [g], aggregate: new Aggregator('r', false).agg });
    expect(html).toContain('self-hosting is cheaper above 3,650 requests a month');
    expect(html).toMatch(/<svg[\s\S]*break-even 3,650[\s\S]*<\/svg>/);
  });
});
