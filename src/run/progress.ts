import type { Out } from '../io.js';
import { terminalSafe } from '../util/text.js';
import type { Lane } from './lane.js';

interface ProgressOptions {
  out: Out;
  /** Seconds between plain lines when the output is not a terminal (cron, CI). */
  intervalSec: number;
  quiet: boolean;
}

/**
 * Live progress, one line per lane. On a terminal the block is redrawn in place; elsewhere a plain
 * line per lane is printed every `intervalSec` seconds, so cron logs stay readable.
 */
export class Progress {
  private timer?: NodeJS.Timeout;
  private lanes: Lane[] = [];
  private drawn = 0;
  private readonly started = Date.now();
  private readonly history = new Map<string, { t: number; done: number }[]>();
  private extra: () => string[] = () => [];

  constructor(private readonly opts: ProgressOptions) {}

  start(lanes: Lane[]): void {
    this.lanes = lanes;
    if (this.opts.quiet) return;
    const tty = Boolean(this.opts.out.isTTY);
    const every = tty ? 250 : this.opts.intervalSec * 1000;
    this.timer = setInterval(() => (tty ? this.redraw() : this.plain()), every);
    this.timer.unref();
  }

  /** Lines shown under the lanes' (a sequential run's interval). */
  also(lines: () => string[]): void {
    this.extra = lines;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.opts.quiet) return;
    if (this.opts.out.isTTY) this.redraw();
    else this.plain();
  }

  /** Lines describing every lane now (also used by tests). */
  lines(): string[] {
    const now = Date.now();
    const idWidth = Math.min(28, Math.max(5, ...this.lanes.map((l) => l.model.id.length)));
    const lanes = this.lanes.map((l) => {
      const c = l.counters;
      const left = c.total - c.done;
      // While running: the rate over the last 10 s; once done: the lane's average. Jobs a resumed
      // run found already recorded are not part of either.
      const ran = c.done - c.skipped;
      const rate = left > 0 ? this.rate(l.model.id, ran, now) : (ran * 1000) / Math.max(1, now - this.started);
      const eta = rate > 0 && left > 0 ? formatSecs(left / rate) : left === 0 ? 'done' : '-';
      const stopped = l.fatal ? `  STOPPED: ${terminalSafe(l.fatal.message, 80)}` : '';
      // A long retry wait explains an ETA that does not move.
      const w = c.waiting;
      const waitMs = w ? w.until - l.clock.now() : 0;
      const waiting = w && waitMs >= 1000 ? `  waiting ${formatSecs(waitMs / 1000)} (${w.reason})` : '';
      const head = `${terminalSafe(l.model.id, idWidth).padEnd(idWidth)}  ${String(c.done).padStart(6)}/${String(c.total).padEnd(6)} `;
      const batch = left > 0 ? l.waitingFor() : undefined;
      if (batch) return `${head}err ${String(c.errors).padStart(4)}  ${terminalSafe(batch, 120)}${stopped}`;
      return (
        `${head}err ${String(c.errors).padStart(4)}  retry ${String(c.retries).padStart(4)}  in-flight ${String(l.inFlight).padStart(3)}/${l.concurrency}  ` +
        `${rate.toFixed(1).padStart(7)}/s  eta ${eta}${waiting}${stopped}`
      );
    });
    return [...lanes, ...this.extra()];
  }

  private rate(id: string, done: number, now: number): number {
    const h = this.history.get(id) ?? [];
    h.push({ t: now, done });
    while (h.length > 2 && now - h[0].t > 10_000) h.shift();
    this.history.set(id, h);
    const first = h[0];
    const dt = (now - first.t) / 1000;
    if (dt < 0.5) return (done * 1000) / Math.max(1, now - this.started);
    return (done - first.done) / dt;
  }

  private redraw(): void {
    const lines = this.lines();
    let s = this.drawn ? `\u001b[${this.drawn}A` : '';
    for (const l of lines) s += `\u001b[2K${l}\n`;
    this.drawn = lines.length;
    this.opts.out.write(s);
  }

  private plain(): void {
    const t = formatSecs((Date.now() - this.started) / 1000);
    for (const l of this.lines()) this.opts.out.write(`[${t}] ${l}\n`);
  }
}

function formatSecs(s: number): string {
  if (!Number.isFinite(s)) return '-';
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
