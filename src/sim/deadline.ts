/**
 * Runs callbacks at deadlines on performance.now()'s clock, as close as the event loop allows.
 * Node timers have millisecond resolution and fire late, about 1 ms on average under load, which
 * would make a model configured at 50 ms answer in 51 to 52: each timer is therefore set early by
 * the lateness measured so far (a moving average of how late timers fired past their deadline),
 * so that answers come on time on average; one answer may come a fraction of a millisecond early
 * or late.
 */
export class Deadlines {
  /** Average lateness in ms of recent timers (what the next ones are set early by). */
  lateness = 0.5;

  at(deadline: number, fn: () => void): NodeJS.Timeout | undefined {
    const wait = deadline - performance.now() - this.lateness;
    if (wait <= 0) {
      fn();
      return undefined;
    }
    return setTimeout(() => {
      const late = performance.now() - deadline;
      // Move 5% of the way to this timer's error: steady under load, quick to settle at start.
      this.lateness = Math.min(5, Math.max(0, this.lateness + 0.05 * late));
      fn();
    }, wait);
  }
}
