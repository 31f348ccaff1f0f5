import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';

/** The spool's name in a run directory; there until the run writes its reports. */
export const SPOOL_FILE = '.results.csv.spool';

const FLUSH_BYTES = 1 << 18;
const WINDOW_BYTES = 1 << 16;

/**
 * results.csv rows formatted while the run goes on, appended to a scratch file in the order jobs
 * finish; at the end they are copied into results.csv in suite, case, model, repeat order. The
 * main thread has time to spare during a run (requests are on lane threads) and none after the
 * last answer, when the user waits for the report: this moves the formatting to where it is free.
 * Memory stays flat: rows are on disk, the order is a few numbers per row (see ReportState).
 */
export class RowSpool {
  private fd: number;
  private parts: string[] = [];
  private pendingBytes = 0;
  private size = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w+');
  }

  /** Appends one row's text; returns its byte offset (its length is `Buffer.byteLength(text)`). */
  append(text: string, bytes: number): number {
    const offset = this.size;
    this.size += bytes;
    this.parts.push(text);
    this.pendingBytes += bytes;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
    return offset;
  }

  private flush(): void {
    if (!this.parts.length) return;
    writeAll(this.fd, Buffer.from(this.parts.join(''), 'utf8'));
    this.parts = [];
    this.pendingBytes = 0;
  }

  /** Writes the rows at these (offset, bytes) positions, in this order, to `out`. */
  copyTo(out: number, order: Iterable<readonly [number, number]>): void {
    this.flush();
    let win = Buffer.allocUnsafe(WINDOW_BYTES);
    let start = 0;
    let filled = 0;
    const outBuf = Buffer.allocUnsafe(FLUSH_BYTES);
    let used = 0;
    for (const [offset, bytes] of order) {
      if (offset < start || offset + bytes > start + filled) {
        if (bytes > win.length) win = Buffer.allocUnsafe(bytes);
        start = offset;
        filled = 0;
        while (filled < win.length && start + filled < this.size) {
          const n = readSync(this.fd, win, filled, Math.min(win.length, this.size - start) - filled, start + filled);
          if (n === 0) break;
          filled += n;
        }
        if (bytes > filled) throw new Error(`${this.path}: row at ${offset} lies past the end of the file`);
      }
      if (used + bytes > outBuf.length) {
        writeAll(out, outBuf.subarray(0, used));
        used = 0;
      }
      if (bytes > outBuf.length) writeAll(out, win.subarray(offset - start, offset - start + bytes));
      else used += win.copy(outBuf, used, offset - start, offset - start + bytes);
    }
    if (used) writeAll(out, outBuf.subarray(0, used));
  }

  /** Closes and deletes the scratch file. */
  remove(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    rmSync(this.path, { force: true });
  }
}

function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}
