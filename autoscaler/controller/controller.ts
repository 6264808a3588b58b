import schedule from 'node-schedule';
import { runCycle, newCycleState, type CycleDeps, type CycleResult, type CycleSettings } from '../cycle/run-cycle.js';
import type { DecisionLog } from '../decisions/log.js';
import type { Registration } from '../registry/registration.js';
import type { AutoscalerMetrics } from '../telemetry/prometheus.js';

export interface HealthReport {
  healthy: boolean;
  status: 'ok' | 'starting' | 'failing';
  lastCycleAt: string | null;
  lastSuccessfulCycleAt: string | null;
  consecutiveFailedCycles: number;
  lastErrors: { source: string; message: string; appId?: string }[];
  cyclesRun: number;
  overlappingTicksSkipped: number;
}

export interface ControllerOptions {
  intervalSeconds: number;
  /** /healthz turns 503 when the last successful cycle is older than this. */
  maxCycleAgeSeconds: number;
  settings: CycleSettings;
  registrations: () => Registration[];
  decisions: DecisionLog;
  metrics: AutoscalerMetrics;
}

/**
 * The thin shell around runCycle: node-schedule fires ticks at a fixed rate; a tick that comes while a cycle is still
 * running is skipped and counted (cycles never overlap).
 */
export class Controller {
  private readonly state = newCycleState();
  private job: schedule.Job | null = null;
  private running: Promise<void> | null = null;
  private anchor = 0;
  private stopped = false;
  private last: CycleResult | null = null;
  private lastSuccessAt: number | null = null;
  private failedInARow = 0;
  private cyclesRun = 0;
  private overlaps = 0;

  constructor(
    private readonly deps: CycleDeps,
    private readonly options: ControllerOptions,
  ) {}

  /** Runs a first cycle at once, then one per interval. */
  start(): void {
    this.anchor = Date.now();
    this.stopped = false;
    this.scheduleNext();
    void this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.job?.cancel();
    this.job = null;
    await this.running;
  }

  /** Starts a cycle unless one is running. Resolves when the cycle it started (or the running one) ends. */
  tick(): Promise<void> {
    if (this.running) {
      this.overlaps += 1;
      this.options.metrics.recordOverlap();
      this.deps.logger.warn('tick skipped: the previous cycle is still running', { overlappingTicksSkipped: this.overlaps });
      return this.running;
    }
    this.running = this.cycle().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  lastResult(): CycleResult | null {
    return this.last;
  }

  health(): HealthReport {
    const now = this.deps.clock.now();
    const fresh = this.lastSuccessAt !== null && now - this.lastSuccessAt <= this.options.maxCycleAgeSeconds * 1000;
    return {
      healthy: fresh,
      status: fresh ? 'ok' : this.last === null ? 'starting' : 'failing',
      lastCycleAt: this.last ? new Date(this.last.finishedAt).toISOString() : null,
      lastSuccessfulCycleAt: this.lastSuccessAt === null ? null : new Date(this.lastSuccessAt).toISOString(),
      consecutiveFailedCycles: this.failedInARow,
      lastErrors: this.last?.errors ?? [],
      cyclesRun: this.cyclesRun,
      overlappingTicksSkipped: this.overlaps,
    };
  }

  private async cycle(): Promise<void> {
    const { logger } = this.deps;
    let result: CycleResult;
    // CPU of the whole process while the cycle ran (other requests and GC included): the cycle's cost, for the log.
    const cpuBefore = process.cpuUsage();
    try {
      result = await runCycle(this.deps, this.state, this.options.settings, this.options.registrations());
    } catch (error) {
      // runCycle catches what it expects; anything else is a bug, and must not kill the loop.
      logger.error('cycle crashed', { error });
      this.failedInARow += 1;
      return;
    }
    this.last = result;
    this.cyclesRun += 1;
    if (result.ok) {
      this.lastSuccessAt = result.finishedAt;
      this.failedInARow = 0;
    } else {
      this.failedInARow += 1;
    }
    for (const record of result.decisions) this.options.decisions.add(record);
    this.options.decisions.retain(new Set(result.managed.map((m) => m.appId)));
    this.options.metrics.recordCycle(result);
    logger.info('cycle', {
      ok: result.ok,
      durationMs: result.finishedAt - result.startedAt,
      apps: result.managed.length,
      scaled: result.actions.length,
      skipped: result.skipped.length,
      errors: result.errors.length,
      marathonRequests: result.requests.marathon,
      influxRequests: result.requests.influxdb,
      phasesMs: result.phasesMs,
      cpuMs: Math.round(cpuMs(process.cpuUsage(cpuBefore))),
    });
  }

  /** One-shot node-schedule jobs on a fixed grid from the start time: works for any interval, fractions included. */
  private scheduleNext(): void {
    if (this.stopped) return;
    const intervalMs = this.options.intervalSeconds * 1000;
    // node-schedule runs on the wall clock, so the grid does too (the injected clock is for decisions and health).
    const now = Date.now();
    let next = this.anchor + (Math.floor((now - this.anchor) / intervalMs) + 1) * intervalMs;
    if (next - now < 5) next += intervalMs;
    this.job = schedule.scheduleJob(new Date(next), () => {
      this.scheduleNext();
      void this.tick();
    });
  }
}

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}
