/**
 * Label placement for report.html's charts, done here rather than by ECharts: its overlap
 * shifting does not run in server-side rendering, and its text widths are estimates made for
 * Arial. Knowing each chart's axis range and plot area, we compute every label's pixel box and
 * move labels apart before ECharts draws them.
 */

/**
 * Estimated text width in pixels. ECharts without a canvas estimates with Arial-like widths,
 * narrower than the fonts browsers pick here (DejaVu Sans, Noto): legends and labels laid out on
 * those estimates overlap when drawn. These err wide; report.html uses them for ECharts too.
 */
export function textWidth(text: string, font: string | undefined): { width: number } {
  const size = Number(/(\d+(?:\.\d+)?)px/.exec(font ?? '')?.[1] ?? 12);
  let em = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x1100) em += 1.05;
    else if (/[il.,:;|!'` ]/.test(ch)) em += 0.34;
    else if (/[ftrj()[\]{}\-/]/.test(ch)) em += 0.44;
    else if (/[mwMW@%]/.test(ch)) em += 0.95;
    else if (/[A-Z]/.test(ch)) em += 0.74;
    else em += 0.64;
  }
  return { width: em * size };
}

/** An axis range on round numbers (steps of 1, 2, 2.5 or 5 x 10^k), about `ticks` intervals. */
export function niceRange(lo: number, hi: number, ticks = 5): { min: number; max: number; step: number } {
  if (!(hi > lo)) [lo, hi] = [lo - Math.max(1, Math.abs(lo) * 0.1), hi + Math.max(1, Math.abs(hi) * 0.1)];
  const raw = (hi - lo) / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  // Rounded to the step's precision: 0.1 + 0.2 style noise would print as a tick label.
  const fix = (x: number) => Number(x.toPrecision(12));
  return { min: fix(Math.floor(lo / step) * step), max: fix(Math.ceil(hi / step) * step), step: fix(step) };
}

interface LabelPoint {
  /** The point's pixel position. */
  px: number;
  py: number;
  text: string;
}

/** Where a label goes: beside its point (`right` or `left`), moved `dy` pixels down (up if negative). */
interface Placed {
  side: 'right' | 'left';
  dy: number;
  /** The label's box, for tests and for the next label. */
  box: { x0: number; x1: number; y0: number; y1: number };
}

/**
 * Places one label beside each point so that no two boxes overlap: points are taken from the top,
 * each label goes right of its point (left when it would leave the chart), and a label that meets
 * one already placed moves down past it (up, when it would leave the plot at the bottom).
 */
export function placeLabels(
  points: readonly LabelPoint[],
  area: { right: number; top: number; bottom: number },
  fontSize = 12,
  gap = 8,
): Placed[] {
  const h = fontSize + 4;
  const placed: Placed['box'][] = [];
  const out: Placed[] = new Array(points.length);
  const order = points.map((_, i) => i).sort((a, b) => points[a].py - points[b].py || a - b);
  for (const i of order) {
    const p = points[i];
    const w = textWidth(p.text, `${fontSize}px`).width;
    const side = p.px + gap + w <= area.right ? 'right' : 'left';
    const x0 = side === 'right' ? p.px + gap : p.px - gap - w;
    const hits = (y: number) => placed.find((b) => b.x0 < x0 + w && x0 < b.x1 && b.y0 < y + h / 2 && y - h / 2 < b.y1);
    let y = p.py;
    for (let b = hits(y); b; b = hits(y)) y = b.y1 + h / 2;
    if (y + h / 2 > area.bottom) {
      y = p.py;
      for (let b = hits(y); b; b = hits(y)) y = b.y0 - h / 2;
    }
    const box = { x0, x1: x0 + w, y0: y - h / 2, y1: y + h / 2 };
    placed.push(box);
    out[i] = { side, dy: y - p.py, box };
  }
  return out;
}
