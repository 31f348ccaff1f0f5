/**
 * Reading files named by users, suites or run directories with a bound: a special file
 * (/dev/zero, a FIFO, a socket, a directory) is refused before a byte is read, and the size is
 * checked while reading too, so a file that grows (or lies about its size) is cut at the bound
 * instead of filling memory.
 */
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import { sep } from 'node:path';
import { FileError } from '../errors.js';

/** What a path is when it is not a regular file, in the words a message uses. */
function kindOf(st: Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return 'is a directory, not a file';
  if (st.isFIFO()) return 'is a FIFO (named pipe), not a regular file';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'is a device, not a regular file';
  if (st.isSocket()) return 'is a socket, not a regular file';
  return 'is not a regular file';
}

/**
 * Opens a regular file for reading, or throws a FileError naming `shown`. The path is checked
 * before it is opened (opening a FIFO would block until a writer comes) and the open descriptor
 * again (the path may have been swapped in between); O_NONBLOCK keeps even that open from waiting.
 */
export function openRegularFile(path: string, shown = path): number {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    throw new FileError(shown, undefined, describeOpenError(e));
  }
  const kind = kindOf(st);
  if (kind) throw new FileError(shown, undefined, kind);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new FileError(shown, undefined, describeOpenError(e));
  }
  const again = kindOf(fstatSync(fd));
  if (again) {
    closeSync(fd);
    throw new FileError(shown, undefined, again);
  }
  return fd;
}

function describeOpenError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'file not found';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot read (permission denied)';
  return `cannot read (${code ?? String(e)})`;
}

/** `n` bytes in words: 32 MiB, 1.5 KiB, 10 bytes. */
function formatBytes(n: number): string {
  if (n >= 1 << 20) return `${+(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${+(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/**
 * The bytes of a regular file of at most `max` bytes. Over the bound is a FileError whose
 * detail ends with `hint` (what to do instead).
 */
export function readBounded(path: string, max: number, shown = path, hint = ''): Buffer {
  const fd = openRegularFile(path, shown);
  try {
    const size = fstatSync(fd).size;
    const over = () =>
      new FileError(shown, undefined, `over the ${formatBytes(max)} this file may have${hint ? ` (${hint})` : ''}`);
    if (size > max) throw over();
    // One byte more than the bound is asked for: a file that grew since fstat shows it.
    const buf = Buffer.allocUnsafe(Math.min(max + 1, Math.max(size + 1, 1 << 16)));
    let filled = 0;
    let out = buf;
    for (;;) {
      if (filled === out.length) {
        if (out.length > max) throw over();
        const bigger = Buffer.allocUnsafe(Math.min(max + 1, out.length * 2));
        out.copy(bigger, 0, 0, filled);
        out = bigger;
      }
      const n = readSync(fd, out, filled, out.length - filled, null);
      if (n === 0) break;
      filled += n;
      if (filled > max) throw over();
    }
    return out.subarray(0, filled);
  } finally {
    closeSync(fd);
  }
}

/** Whether `path`, its links followed, stays inside `dir` (links followed too). A missing path counts as inside. */
export function isInside(path: string, dir: string): boolean {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return true;
  }
  const root = realpathSync(dir);
  return real.startsWith(root.endsWith(sep) ? root : root + sep);
}
