import { describe, expect, it } from 'vitest';
import { RowOrder } from '../src/report/order.js';

describe('RowOrder (the order of results.csv)', () => {
  it('sorts by suite, case, model and repeat, whatever the push order, across growth and large values', () => {
    const order = new RowOrder();
    const want: [number, number, number, number, number][] = [];
    // Suite ranks past 2^15 (the sign bit of a shifted int32), the 65535 sentinel, offsets past 4 GiB.
    for (const suite of [0, 1, 40_000, 65_535])
      for (let c = 0; c < 700; c++)
        for (const model of [0, 3, 65_535])
          for (const repeat of [0, 1]) want.push([suite, c * 4_099, model, repeat, want.length * 7e6]);
    const shuffled = [...want];
    let seed = 7;
    for (let i = shuffled.length - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const j = seed % (i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
    }
    for (const [s, c, m, r, off] of shuffled) order.push(s, c, m, r, off, off % 1000);
    expect(order.size).toBe(want.length);
    expect([...order.sorted()]).toEqual(want.map((w) => [w[4], w[4] % 1000]));
    const picked = [...order.where((s, c, m, r) => s === 40_000 && c === 4_099 && m === 65_535 && r === 1)];
    const one = want.find((w) => w[0] === 40_000 && w[1] === 4_099 && w[2] === 65_535 && w[3] === 1)!;
    expect(picked).toEqual([[one[4], one[4] % 1000]]);
  });
});
