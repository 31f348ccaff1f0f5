import { readSync } from 'node:fs';

/** Where one item of a JSON array or JSONL file lies, or why the file cannot be read as one. */
interface ItemSpan {
  offset: number;
  bytes: number;
  /** 1-based line of a JSONL item. */
  line?: number;
  error?: string;
}

const CHUNK = 1 << 20;

/**
 * The items of a JSON array or a JSONL file, as byte spans, read in chunks: the caller parses
 * one item at a time and memory holds one chunk, however large the file. A file whose first
 * character (after a BOM and white space) is `[` is an array; anything else is JSONL.
 * UTF-8 multi-byte sequences never contain bytes below 0x80, so the structural bytes scanned
 * for here cannot occur inside a character.
 */
export function* jsonItemSpans(fd: number, size: number): Generator<ItemSpan> {
  const first = firstByte(fd, size);
  if (first.byte === 0x5b) yield* arraySpans(fd, size, first.at + 1);
  else yield* lineSpans(fd, size, first.at);
}

function firstByte(fd: number, size: number): { byte: number; at: number } {
  const buf = Buffer.alloc(Math.min(size, 4096));
  const n = readSync(fd, buf, 0, buf.length, 0);
  let at = n >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  while (at < n && isSpace(buf[at])) at++;
  return { byte: at < n ? buf[at] : -1, at };
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

function* chunks(fd: number, size: number, from: number): Generator<{ buf: Buffer; base: number }> {
  const buf = Buffer.allocUnsafe(CHUNK);
  for (let base = from; base < size;) {
    const n = readSync(fd, buf, 0, Math.min(CHUNK, size - base), base);
    if (n === 0) return;
    yield { buf: buf.subarray(0, n), base };
    base += n;
  }
}

function* lineSpans(fd: number, size: number, from: number): Generator<ItemSpan> {
  let start = from;
  let line = 1;
  const emit = (end: number): ItemSpan | undefined =>
    end > start ? { offset: start, bytes: end - start, line } : undefined;
  for (const { buf, base } of chunks(fd, size, from)) {
    for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, i + 1)) {
      const nl = base + i;
      const end = i > 0 && buf[i - 1] === 0x0d ? nl - 1 : nl;
      const span = emit(end);
      if (span) yield span;
      start = nl + 1;
      line++;
    }
  }
  const last = emit(size);
  if (last) yield last;
}

/** Top-level elements of a JSON array, found by tracking strings and nesting depth. */
function* arraySpans(fd: number, size: number, from: number): Generator<ItemSpan> {
  let depth = 1;
  let inString = false;
  let escaped = false;
  let itemStart = -1;
  let itemEnd = -1;
  for (const { buf, base } of chunks(fd, size, from)) {
    for (let i = 0; i < buf.length; i++) {
      const b = buf[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (b === 0x5c) escaped = true;
        else if (b === 0x22) inString = false;
        itemEnd = base + i + 1;
        continue;
      }
      if (isSpace(b)) continue;
      if (depth === 1 && (b === 0x2c || b === 0x5d)) {
        if (itemStart >= 0) yield { offset: itemStart, bytes: itemEnd - itemStart };
        itemStart = -1;
        if (b === 0x5d) return;
        continue;
      }
      if (itemStart < 0) itemStart = base + i;
      if (b === 0x22) inString = true;
      else if (b === 0x7b || b === 0x5b) depth++;
      else if (b === 0x7d || b === 0x5d) depth--;
      itemEnd = base + i + 1;
    }
  }
  yield { offset: 0, bytes: 0, error: 'invalid JSON (the array is not closed)' };
}
