/** Process signals as a command sees them (tests pass their own emitter). */
interface SignalSource {
  on(event: 'SIGINT' | 'SIGTERM', fn: () => void): unknown;
  off(event: 'SIGINT' | 'SIGTERM', fn: () => void): unknown;
}

/** How long requests in flight may finish after a stop before they are aborted. */
const GRACE_MS = 5_000;

/**
 * How a run ends early. The first Ctrl-C or SIGTERM, or `--max-duration`, stops new requests
 * (`stop`) and lets those in flight finish for a grace period; then, or at a second signal, they
 * are aborted (`abort`). `reason` says which stop happened, for the final message.
 */
export class StopControl {
  readonly stop = new AbortController();
  readonly abort = new AbortController();
  reason?: string;
  private graceTimer?: NodeJS.Timeout;
  private durationTimer?: NodeJS.Timeout;
  private readonly onSignal = () => {
    if (this.stop.signal.aborted) this.abort.abort(new Error('interrupted'));
    else
      this.begin(
        'interrupted',
        'Stopping: no new requests; waiting up to 5 s for those in flight (Ctrl-C again to stop at once)...',
      );
  };

  constructor(
    private readonly say: (line: string) => void,
    private readonly signals?: SignalSource,
    maxDurationMs?: number,
  ) {
    signals?.on('SIGINT', this.onSignal);
    signals?.on('SIGTERM', this.onSignal);
    if (maxDurationMs) {
      this.durationTimer = setTimeout(
        () =>
          this.begin(
            'stopped by --max-duration',
            '--max-duration reached: no new requests; finishing those in flight...',
          ),
        maxDurationMs,
      );
      this.durationTimer.unref();
    }
  }

  private begin(reason: string, message: string): void {
    if (this.stop.signal.aborted) return;
    this.reason = reason;
    this.say(`\n${message}`);
    this.stop.abort(new Error(reason));
    this.graceTimer = setTimeout(() => this.abort.abort(new Error(reason)), GRACE_MS);
    this.graceTimer.unref();
  }

  /** Stops listening; call once the run is over. */
  dispose(): void {
    this.signals?.off('SIGINT', this.onSignal);
    this.signals?.off('SIGTERM', this.onSignal);
    clearTimeout(this.graceTimer);
    clearTimeout(this.durationTimer);
  }
}
