/**
 * Timers on a clock that never steps. Node's setTimeout already runs on the event loop's monotonic time; `now` must be
 * monotonic too (performance.now), so that neither the grid nor liveness moves when NTP or an operator steps the wall
 * clock. (node-schedule re-checks Date.now() when it fires and re-arms while the wall clock is behind: after a 2-minute
 * backward step no cycle would run for 2 minutes. It stays in use for cron windows, where wall time is what is meant.)
 */
export interface MonotonicTimers {
  /** Milliseconds since an arbitrary origin; never goes backwards. */
  now(): number;
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: MonotonicTimers = {
  now: () => performance.now(),
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** A timer that fires on a fixed grid from its start (no drift, fractional intervals allowed); a late timer skips to the next point. */
export class FixedRateTicker {
  private anchor = 0;
  private handle: unknown = null;
  private running = false;

  constructor(
    private readonly intervalMs: number,
    private readonly timers: MonotonicTimers,
    private readonly onTick: () => void,
  ) {}

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    this.running = true;
    this.anchor = this.timers.now();
    this.arm();
  }

  stop(): void {
    this.running = false;
    if (this.handle !== null) this.timers.clearTimeout(this.handle);
    this.handle = null;
  }

  private arm(): void {
    if (!this.running) return;
    const now = this.timers.now();
    const intervalMs = this.intervalMs;
    let next = this.anchor + (Math.floor((now - this.anchor) / intervalMs) + 1) * intervalMs;
    // A timer that fires a hair early must not fire twice for the same grid point.
    if (next - now < 5) next += intervalMs;
    this.handle = this.timers.setTimeout(() => {
      this.handle = null;
      this.arm();
      this.onTick();
    }, next - now);
  }
}
