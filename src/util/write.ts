import { writeSync } from 'node:fs';

/** Writes all of `buf` at the file's current position (a write may take only part of it). */
export function writeAllSync(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}
