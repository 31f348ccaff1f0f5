/**
 * Runs `start(item)` for each item, keeping at most `limit()` of them unfinished at once, and
 * stops taking items once `stopped()` says so. Items are pulled one at a time, so a plan of any
 * size costs memory only for the items in flight. Returns how many items were taken; rejects
 * with the first failure of a started item once every started item has settled.
 */
export async function forEachInSlots<T>(
  items: Iterable<T>,
  limit: () => number,
  stopped: () => boolean,
  start: (item: T) => Promise<void>,
): Promise<number> {
  let active = 0;
  let taken = 0;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const settled = () => {
    active--;
    wake?.();
    wake = undefined;
  };
  for (const item of items) {
    if (failure || stopped()) break;
    taken++;
    active++;
    start(item)
      .catch((error: unknown) => void (failure ??= { error }))
      .finally(settled);
    // Wait for a free slot (no Promise.race over every pending item: that costs O(slots) per item).
    while (active >= limit() && !failure) await new Promise<void>((r) => (wake = r));
    // Items that finish without I/O (replay, cache hits) would otherwise never let timers and
    // signals run: yield to the event loop now and then.
    if (taken % 256 === 0) await new Promise((r) => setImmediate(r));
  }
  while (active > 0) await new Promise<void>((r) => (wake = r));
  if (failure) throw failure.error;
  return taken;
}
