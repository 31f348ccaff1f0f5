import { closeSync, openSync, rmSync } from 'node:fs';
import { openLineReader } from '../run/read.js';
import { writeAllSync } from '../util/write.js';

/** The spool's name in a run directory; there until the run writes its reports. */
export const SPOOL_FILE = '.results.csv.spool';

const FLUSH_BYTES = 1 << 18;

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
    this.fd = openSync(path, 'w');
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
    writeAllSync(this.fd, Buffer.from(this.parts.join(''), 'utf8'));
    this.parts = [];
    this.pendingBytes = 0;
  }

  /** Writes the rows at these (offset, bytes) positions, in this order, to `out`. */
  copyTo(out: number, order: Iterable<readonly [number, number]>): void {
    this.flush();
    if (this.size === 0) return;
    // The journal's windowed reader: rows asked for in sorted order lie near each other too.
    const reader = openLineReader(this.path);
    const outBuf = Buffer.allocUnsafe(FLUSH_BYTES);
    let used = 0;
    try {
      for (const [offset, bytes] of order) {
        const row = reader.bytes(offset, bytes);
        if (used + bytes > outBuf.length) {
          writeAllSync(out, outBuf.subarray(0, used));
          used = 0;
        }
        if (bytes > outBuf.length) writeAllSync(out, row);
        else used += row.copy(outBuf, used);
      }
      if (used) writeAllSync(out, outBuf.subarray(0, used));
    } finally {
      reader.close();
    }
  }

  /** Closes and deletes the scratch file. */
  remove(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    rmSync(this.path, { force: true });
  }
}
