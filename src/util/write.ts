import { writeSync } from 'node:fs';

/**
 * Writes all of `buf` at the file's current position (a write may take only part of it). A
 * failed write names `path` when given (a descriptor's errors name no file, and a full disk must
 * say which).
 */
export function writeAllSync(fd: number, buf: Buffer, path?: string): void {
  let off = 0;
  try {
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
  } catch (e) {
    if (path && (e as NodeJS.ErrnoException).path === undefined) (e as NodeJS.ErrnoException).path = path;
    throw e;
  }
}
