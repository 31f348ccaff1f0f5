/**
 * Runs callbacks at deadlines on performance.now()'s clock, on time on average. Node timers have
 * millisecond resolution and are off by about a millisecond either way (late when the loop is
 * idle; early under load, since a timer counts from the loop's cached clock, which lags while a
 * busy turn runs), so a model configured at 50 ms would answer in 49 to 52. Each timer is
 * therefore set off by the error measured so far (a moving average of how far past its deadline
 * timers fired, either sign). Throughput depends on the mean latency (Little's law), so a mean
 * on the configured value is what makes `concurrency / latency` the right ideal; one answer may
 * come a fraction of a millisecond early or late.
 */
export class Deadlines {
  /** Average error in ms of recent timers, negative when early (what the next ones correct by). */
  error = 0;

  at(deadline: number, fn: () => void): NodeJS.Timeout | undefined {
    const wait = deadline - performance.now() - this.error;
    if (wait <= 0) {
      fn();
      return undefined;
    }
    return setTimeout(() => {
      const off = performance.now() - deadline;
      // A small step: the errors of the timers in flight are only seen a latency later, and a
      // larger step (over ~1/in-flight) would overshoot and oscillate.
      this.error = Math.min(5, Math.max(-5, this.error + 0.002 * off));
      fn();
    }, wait);
  }
}
