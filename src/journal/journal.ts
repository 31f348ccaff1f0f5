import { closeSync, fstatSync, fsync, fsyncSync, openSync, readSync, ftruncateSync } from 'node:fs';
import { writeAllSync } from '../util/write.js';
import { isJobRecord, type JobRecord, type RecordSink } from './record.js';

/**
 * records.jsonl, append-only, and its one writer. Each record is one `write` of one complete
 * line, done before the job counts as finished; a crash can leave at most a torn last line, which
 * `open` cuts off. fsync runs every second (in the background) and at close, so a power cut loses
 * at most the last second. A journal opened `buffered` (merge, regrade: whole files written from
 * others, removed whole when they fail) writes in blocks of about a megabyte instead: one write
 * per record is ten times the system calls.
 */
export class Journal implements RecordSink {
  private fd: number;
  private dirty = false;
  /** Bytes in the file: where the next line starts (this process is its only writer). */
  size: number;
  private timer?: NodeJS.Timeout;

  private chunks: string[] = [];
  private pending = 0;

  private constructor(
    readonly path: string,
    fd: number,
    private readonly buffered: boolean,
  ) {
    this.fd = fd;
    this.size = fstatSync(fd).size;
    this.timer = setInterval(() => this.syncInBackground(), 1000);
    this.timer.unref();
  }

  /** Opens (creating if needed) and repairs a torn tail. Returns what the file already held. */
  static open(path: string, opts: { buffered?: boolean } = {}): { journal: Journal; dropped: number } {
    // O_APPEND: every write lands at the end, whatever was read or cut before.
    const fd = openSync(path, 'a+');
    const dropped = repairTail(fd);
    return { journal: new Journal(path, fd, opts.buffered ?? false), dropped };
  }

  /** Writes one record as one line; returns where the line starts and its length without the newline. */
  append(record: JobRecord): { offset: number; bytes: number } {
    const text = `${JSON.stringify(record)}\n`;
    const offset = this.size;
    if (this.buffered) {
      const bytes = Buffer.byteLength(text);
      this.chunks.push(text);
      this.size += bytes;
      this.pending += bytes;
      if (this.pending >= 1 << 20) this.flush();
      return { offset, bytes: bytes - 1 };
    }
    const line = Buffer.from(text, 'utf8');
    writeAllSync(this.fd, line, this.path);
    this.dirty = true;
    this.size += line.length;
    return { offset, bytes: line.length - 1 };
  }

  private flush(): void {
    if (!this.chunks.length) return;
    writeAllSync(this.fd, Buffer.from(this.chunks.join(''), 'utf8'), this.path);
    this.chunks = [];
    this.pending = 0;
    this.dirty = true;
  }

  /**
   * The periodic fsync runs on libuv's thread pool: on a slow disk it can take tens of
   * milliseconds, which would otherwise stall every request in flight. close() waits for it.
   */
  private syncing = false;
  private closed = false;

  private syncInBackground(): void {
    if (!this.dirty || this.syncing || this.closed) return;
    this.dirty = false;
    this.syncing = true;
    fsync(this.fd, () => {
      // Errors are ignored: fsync is best effort on filesystems that do not support it.
      this.syncing = false;
      if (this.closed) closeSync(this.fd);
    });
  }

  sync(): void {
    if (!this.dirty) return;
    this.dirty = false;
    try {
      fsyncSync(this.fd);
    } catch {
      /* fsync is best effort on filesystems that do not support it */
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.flush();
    this.sync();
    this.closed = true;
    // A background fsync still running closes the descriptor when it ends.
    if (!this.syncing) closeSync(this.fd);
  }
}

/** Cuts the file back to its last complete, parseable line. Returns the bytes dropped. */
function repairTail(fd: number): number {
  const size = fstatSync(fd).size;
  if (size === 0) return 0;
  // The last newline ends the last complete line; anything after it is a torn write, however long.
  const lastNl = lastNewline(fd, size);
  let end = lastNl + 1;
  if (lastNl >= 0) {
    // The last complete line must be a record too (a crash can tear a line and still write a newline later).
    const prevNl = lastNewline(fd, lastNl);
    const line = Buffer.alloc(lastNl - prevNl - 1);
    readSync(fd, line, 0, line.length, prevNl + 1);
    let ok = false;
    try {
      ok = isJobRecord(JSON.parse(line.toString('utf8')));
    } catch {
      ok = false;
    }
    if (!ok) end = prevNl + 1;
  }
  if (end < size) ftruncateSync(fd, end);
  return size - end;
}

/** Position of the last newline before `before`, reading backwards in 1 MiB steps; -1 when none. */
function lastNewline(fd: number, before: number): number {
  const step = 1 << 20;
  const buf = Buffer.alloc(step);
  for (let end = before; end > 0; end -= step) {
    const start = Math.max(0, end - step);
    const n = readSync(fd, buf, 0, end - start, start);
    const i = buf.subarray(0, n).lastIndexOf(0x0a);
    if (i >= 0) return start + i;
  }
  return -1;
}
