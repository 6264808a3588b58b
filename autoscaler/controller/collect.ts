import v8 from 'node:v8';

/**
 * A full garbage collection between cycles once a cycle has left a lot behind, when the process runs with
 * `--expose-gc` (the deploy configs set it in NODE_OPTIONS; without it this does nothing and V8 decides alone).
 *
 * Why: a cycle's working set (every managed app's view, every task's usage, the decisions) lives through the InfluxDB
 * query, so V8 promotes it to the old generation, and after the cycle all of it but the kept decisions is garbage. V8
 * collects the old generation only when it reaches a limit it sets at a multiple of the last live size, so the heap
 * climbs to several cycles' worth of garbage first: at 10,000 apps × 5 tasks 33 MB stays alive after a cycle while the
 * heap reached 290 MB (RSS 365 MB). One collection when the daemon is idle anyway keeps the heap near what is alive.
 * It stops the event loop for its duration (tens of milliseconds at 10,000 apps); small fleets, whose garbage V8
 * handles in passing, rarely reach the threshold.
 */
export class IdleCollector {
  /** Heap used just after the last collection: what was alive then. */
  private liveBytes = 0;

  constructor(
    private readonly gc: (() => void) | undefined = exposedGc(),
    private readonly heapUsed: () => number = () => v8.getHeapStatistics().used_heap_size,
    /** Collect when the heap holds this much more than was alive after the last collection. */
    private readonly thresholdBytes = 64 * 1024 * 1024,
  ) {}

  get enabled(): boolean {
    return this.gc !== undefined;
  }

  /** After a cycle: collects if the garbage since the last collection passed the threshold. True when it did. */
  afterCycle(): boolean {
    if (this.gc === undefined) return false;
    if (this.heapUsed() - this.liveBytes < this.thresholdBytes) return false;
    this.gc();
    this.liveBytes = this.heapUsed();
    return true;
  }
}

function exposedGc(): (() => void) | undefined {
  const gc = (globalThis as { gc?: unknown }).gc;
  return typeof gc === 'function' ? (gc as () => void) : undefined;
}
