/**
 * One writer per run directory: a lock file `.lock` holding the holder's pid, host, start time and
 * a random nonce. The rules that make it hold when processes race:
 *
 * - The lock appears whole: it is written to a private file first and hard-linked into place
 *   (link fails if `.lock` exists), so no process ever reads a lock that is still being written.
 * - A lock is stale only if its holder is gone (same host, pid not running); one that cannot be
 *   read is stale only when it is old (a lock written by some other tool, or torn by a crash).
 * - Taking over a stale lock is itself exclusive: the taker first creates a token named after the
 *   stale lock's contents (`.lock.takeover-<digest>`, create-exclusive). Only the token's holder
 *   removes that lock, and only after reading it again unchanged; a taker that lost the token, or
 *   that finds a new lock, sees the new holder as live.
 * - Nothing is removed that this process did not create.
 */
import { createHash, randomBytes } from 'node:crypto';
import { linkSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';

export const LOCK_FILE = '.lock';

/** A lock that cannot be read (not written by gapbench) counts as stale after this long. */
const UNREADABLE_STALE_MS = 60_000;
/** A lock file is a line of JSON: anything longer is not one of ours. */
const MAX_LOCK_BYTES = 4096;

interface LockHolder {
  pid: number;
  host: string;
  since: string;
}

const held = new Set<string>();
let takeoverPauseMs = 0;

/**
 * For race tests only: waits this long between finding a lock stale and taking it over, the
 * window in which another process may take it first (see tests/containment-lock.test.ts).
 */
export function widenTakeoverWindow(ms: number): void {
  takeoverPauseMs = ms;
}
let releaseOnExit = false;

/**
 * Takes the lock of a run directory (which must exist), or throws a UsageError naming the live
 * holder. Returns a notice when a dead holder's lock was taken over.
 */
export function acquireLock(dir: string): string | undefined {
  const path = join(dir, LOCK_FILE);
  const mine = JSON.stringify({
    pid: process.pid,
    host: hostname(),
    since: new Date().toISOString(),
    nonce: randomBytes(8).toString('hex'),
  });
  const tmp = join(dir, `${LOCK_FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  writeFileSync(tmp, mine, { flag: 'wx' });
  try {
    let notice: string | undefined;
    for (let attempt = 0; attempt < 100; attempt++) {
      if (tryLink(tmp, path)) {
        remember(path);
        return notice;
      }
      const seen = readLock(path);
      if (seen === undefined) continue; // removed in between: try again
      if (!isStale(seen)) throw inUse(dir, path, seen.holder);
      if (takeoverPauseMs) sleepSync(takeoverPauseMs);
      if (takeOver(path, seen.text))
        notice = `note: took over the lock of ${dir} left by pid ${seen.holder?.pid ?? '?'}, which is no longer running`;
      // Another process is taking it over: give it a moment to put its own lock in place.
      else sleepSync(5);
    }
    const now = readLock(path);
    throw inUse(dir, path, now?.holder);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Releases this process's lock of a run directory (a lock it does not hold is left alone). */
export function releaseLock(dir: string): void {
  const path = join(dir, LOCK_FILE);
  if (held.delete(path)) rmSync(path, { force: true });
}

/** Whether a live process holds the run directory (a lock on another host counts as live). */
export function lockedByLiveProcess(dir: string): boolean {
  const seen = readLock(join(dir, LOCK_FILE));
  return seen !== undefined && !isStale(seen);
}

function remember(path: string): void {
  if (!releaseOnExit) {
    releaseOnExit = true;
    // However the process ends (but kill -9), its locks go with it.
    process.once('exit', () => held.forEach((p) => rmSync(p, { force: true })));
  }
  held.add(path);
}

function tryLink(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

interface SeenLock {
  text: string;
  holder?: LockHolder;
  mtimeMs: number;
}

function readLock(path: string): SeenLock | undefined {
  let text: string;
  let mtimeMs: number;
  try {
    const st = statSync(path);
    if (!st.isFile() || st.size > MAX_LOCK_BYTES) return { text: '', mtimeMs: st.mtimeMs };
    text = readFileSync(path, 'utf8');
    mtimeMs = st.mtimeMs;
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (typeof v.pid === 'number' && typeof v.host === 'string')
      return { text, mtimeMs, holder: { pid: v.pid, host: v.host, since: String(v.since ?? '?') } };
  } catch {
    /* not ours, or torn */
  }
  return { text, mtimeMs };
}

function isStale(seen: SeenLock): boolean {
  if (!seen.holder) return Date.now() - seen.mtimeMs > UNREADABLE_STALE_MS;
  return seen.holder.host === hostname() && !alive(seen.holder.pid);
}

/**
 * Removes the stale lock whose contents are `text`, if this process wins the right to: the token
 * named after those contents is created by one taker only. Returns whether the lock is gone.
 */
function takeOver(path: string, text: string): boolean {
  const token = `${path}.takeover-${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
  try {
    writeFileSync(token, String(process.pid), { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false; // another taker has it
    throw e;
  }
  try {
    // Read again under the token: only this process may remove a lock with these contents, and a
    // new lock has other contents (its own nonce), so the lock removed is the stale one.
    const now = readLock(path);
    if (!now || now.text !== text) return false;
    unlinkSync(path);
    return true;
  } finally {
    rmSync(token, { force: true });
  }
}

function inUse(dir: string, path: string, holder: LockHolder | undefined): UsageError {
  if (!holder)
    return new UsageError(
      `${dir} is locked (${path} is not a gapbench lock, or being replaced): if no gapbench runs there, delete it`,
    );
  return new UsageError(
    `${dir} is in use by gapbench pid ${holder.pid} on ${holder.host} since ${holder.since}: wait for it to end or stop it (a lock of a machine that died: delete ${path})`,
  );
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
