import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/**
 * V8 flags a process sets for itself at run time (the `gapbench` command's memory settings).
 * Starting a worker thread resets run-time flags to the command line's, so threads.ts sets these
 * again once a thread is up (and the thread sets them too, as it starts).
 */
const flags: string[] = [];

export function setProcessV8Flags(...given: string[]): void {
  for (const f of given) {
    setFlagsFromString(f);
    flags.push(f);
  }
}

export function processV8Flags(): readonly string[] {
  return flags;
}

export function reapplyV8Flags(given: readonly string[] = flags): void {
  for (const f of given) setFlagsFromString(f);
}

/**
 * Lets V8's young generation grow to `mb` MiB and no further. Its limit proper
 * (--max-semi-space-size) is read only when the process starts; the growth factor is read at
 * each resize, so once the young generation has reached `mb` it is set to 1.
 */
export function capYoungGeneration(mb: number): void {
  const cap = mb * 2 ** 20;
  const reached = () => (getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0) >= cap;
  if (reached()) {
    setProcessV8Flags('--semi-space-growth-factor=1');
    return;
  }
  const observer = new PerformanceObserver(() => {
    if (!reached()) return;
    setProcessV8Flags('--semi-space-growth-factor=1');
    observer.disconnect();
  });
  observer.observe({ entryTypes: ['gc'] });
}
