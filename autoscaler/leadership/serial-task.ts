/**
 * A task that re-reads ZooKeeper state: one run at a time, and one more when asked again meanwhile (a watch that
 * fires during a run must not be lost, nor start a second, interleaved run). A failed run is retried after
 * `retryMs` while `mayRetry()` holds.
 */
export class SerialTask {
  private running: Promise<void> | null = null;
  private again = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly run: () => Promise<void>,
    private readonly onError: (error: Error) => void,
    private readonly mayRetry: () => boolean,
    private readonly retryMs = 200,
  ) {}

  request(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.run()
      .catch((error: unknown) => {
        this.onError(error as Error);
        if (!this.stopped && this.mayRetry()) this.retryTimer = setTimeout(() => this.request(), this.retryMs);
      })
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.request();
        }
      });
  }

  /** Asks for one more run once the current one ends (from inside a run: its outcome needs another look). */
  requestAgain(): void {
    this.again = true;
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }
}
