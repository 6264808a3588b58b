import { runCycle, newCycleState, type AppMemory, type CycleDeps, type CycleResult, type CycleSettings, type CycleState } from '../cycle/run-cycle.js';
import type { HistoryCachePolicy } from '../forecast/cache.js';
import { standalone, type LeaderInfo, type Leadership, type Role } from '../leadership/election.js';
import type { DecisionLog } from '../decisions/log.js';
import type { Registration } from '../registry/registration.js';
import type { AutoscalerMetrics } from '../telemetry/prometheus.js';
import type { Scrub } from '../telemetry/scrub.js';
import { IdleCollector } from './collect.js';
import { FixedRateTicker, systemTimers, type MonotonicTimers } from './fixed-rate.js';

/** GET /healthz: is the loop alive? Only a stalled or hung loop fails it (a restart would help); an outage does not. */
export interface LivenessReport {
  live: boolean;
  status: 'ok' | 'stalled';
  /** Seconds since the last cycle started, on the monotonic clock. */
  lastCycleStartedSecondsAgo: number;
  maxCycleAgeSeconds: number;
  cycleRunning: boolean;
  cyclesRun: number;
  overlappingTicksSkipped: number;
}

export type UpstreamStatus = 'ok' | 'unreachable' | 'not-checked';

/**
 * GET /readyz: could the last cycle do its job? Fails while InfluxDB or Marathon is down, which a restart does not fix.
 * With ZooKeeper: a follower is ready once it has read the registrations (it serves the API); an instance without a
 * ZooKeeper session is not (it can neither scale nor change registrations).
 */
export interface ReadinessReport {
  ready: boolean;
  status: 'ready' | 'starting' | 'not-ready' | 'following' | 'no-session' | 'joining';
  role: Role;
  /** Who leads, as far as this instance knows (`self: true` when it does); null without a ZooKeeper session. */
  leader: LeaderInfo | null;
  marathon: UpstreamStatus;
  influxdb: UpstreamStatus;
  /** With the state file always true (the API listens only once it is read); with ZooKeeper once they were read. */
  registrationsLoaded: boolean;
  lastCycleAt: string | null;
  lastSuccessfulCycleAt: string | null;
  consecutiveFailedCycles: number;
  lastErrors: { source: string; message: string; appId?: string }[];
}

export interface ControllerOptions {
  intervalSeconds: number;
  /** /healthz turns 503 when the last cycle started longer ago than this (monotonic clock). */
  maxCycleAgeSeconds: number;
  settings: CycleSettings;
  registrations: () => Registration[];
  decisions: DecisionLog;
  metrics: AutoscalerMetrics;
  /** Errors are kept for /readyz scrubbed: an upstream error page may echo credentials. */
  scrub: Scrub;
  /** The monotonic clock and timers that pace cycles and measure liveness (decisions use the wall clock in deps). */
  timers?: MonotonicTimers;
  /** How long predictive apps' history is kept and how many apps one history request reads (default: an hour, 10). */
  historyCache?: HistoryCachePolicy;
  /** The collection between cycles (see IdleCollector); by default active when the process runs with --expose-gc. */
  collector?: IdleCollector;
  /** Who may scale (default: this instance alone). Only the leader runs cycles; the others keep the loop ticking. */
  leadership?: Leadership;
  /** False until the registrations were read (ZooKeeper): a cycle before that would drop the apps registered over REST. */
  registrationsLoaded?: () => boolean;
  /** The apps' memory shared between leaders: read when this instance takes over, written after each of its cycles. */
  sharedMemory?: { load(): Promise<Map<string, AppMemory>>; save(apps: Map<string, AppMemory>): Promise<void> };
}

/**
 * The thin shell around runCycle: a fixed-rate ticker on the monotonic clock; a tick that comes while a cycle is still
 * running is skipped and counted (cycles never overlap).
 */
export class Controller {
  private readonly state: CycleState;
  private readonly timers: MonotonicTimers;
  private readonly ticker: FixedRateTicker;
  private readonly collector: IdleCollector;
  private running: Promise<void> | null = null;
  private last: CycleResult | null = null;
  private lastErrors: ReadinessReport['lastErrors'] = [];
  private lastSuccessAt: number | null = null;
  /** Monotonic ms at which the last cycle started; the start time of the controller before the first one. */
  private lastStartedAt = 0;
  private failedInARow = 0;
  private cyclesRun = 0;
  private overlaps = 0;
  private readonly leadership: Leadership;
  /** Set when this instance (re)gains the leadership: its memory of the apps must come from the last leader first. */
  private takingOver = true;

  constructor(
    private readonly deps: CycleDeps,
    private readonly options: ControllerOptions,
  ) {
    this.state = newCycleState(options.historyCache);
    this.timers = options.timers ?? systemTimers;
    this.collector = options.collector ?? new IdleCollector();
    this.ticker = new FixedRateTicker(options.intervalSeconds * 1000, this.timers, () => void this.tick());
    this.leadership = options.leadership ?? standalone;
    this.leadership.onChange((role) => {
      if (role !== 'leader') {
        this.takingOver = true;
        return;
      }
      // Take over now, not at the next tick: the bound is one session timeout plus one cycle.
      if (this.ticker.isRunning) void this.tick();
    });
  }

  /** Runs a first cycle at once, then one per interval. */
  start(): void {
    this.lastStartedAt = this.timers.now();
    this.ticker.start();
    void this.tick();
  }

  async stop(): Promise<void> {
    this.ticker.stop();
    await this.running;
  }

  /** Starts a cycle unless one is running. Resolves when the cycle it started (or the running one) ends. */
  tick(): Promise<void> {
    if (!this.leadership.isLeader() || !(this.options.registrationsLoaded?.() ?? true)) {
      // Not ours to scale: the loop is alive all the same (liveness), it just has nothing to do.
      this.lastStartedAt = this.timers.now();
      return this.running ?? Promise.resolve();
    }
    if (this.running) {
      this.overlaps += 1;
      this.options.metrics.recordOverlap();
      this.deps.logger.warn('tick skipped: the previous cycle is still running', { overlappingTicksSkipped: this.overlaps });
      return this.running;
    }
    this.lastStartedAt = this.timers.now();
    this.running = this.cycle().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  lastResult(): CycleResult | null {
    return this.last;
  }

  liveness(): LivenessReport {
    const ageMs = Math.max(0, this.timers.now() - this.lastStartedAt);
    const live = ageMs <= this.options.maxCycleAgeSeconds * 1000;
    return {
      live,
      status: live ? 'ok' : 'stalled',
      lastCycleStartedSecondsAgo: Math.round(ageMs) / 1000,
      maxCycleAgeSeconds: this.options.maxCycleAgeSeconds,
      cycleRunning: this.running !== null,
      cyclesRun: this.cyclesRun,
      overlappingTicksSkipped: this.overlaps,
    };
  }

  readiness(): ReadinessReport {
    const last = this.last;
    const role = this.leadership.role();
    const registrationsLoaded = this.options.registrationsLoaded?.() ?? true;
    let ready = last !== null && last.ok;
    let status: ReadinessReport['status'] = ready ? 'ready' : last === null ? 'starting' : 'not-ready';
    if (role === 'follower') {
      ready = registrationsLoaded;
      status = ready ? 'following' : 'starting';
    } else if (role === 'no-session' || role === 'joining') {
      ready = false;
      status = role;
    }
    return {
      ready,
      status,
      role,
      leader: this.leadership.leader(),
      ...upstreamStatus(last),
      registrationsLoaded,
      lastCycleAt: last ? new Date(last.finishedAt).toISOString() : null,
      lastSuccessfulCycleAt: this.lastSuccessAt === null ? null : new Date(this.lastSuccessAt).toISOString(),
      consecutiveFailedCycles: this.failedInARow,
      lastErrors: this.lastErrors,
    };
  }

  private async cycle(): Promise<void> {
    const { logger } = this.deps;
    let result: CycleResult;
    // CPU of the whole process while the cycle ran (other requests and GC included): the cycle's cost, for the log.
    const cpuBefore = process.cpuUsage();
    const shared = this.options.sharedMemory;
    if (this.takingOver && shared) {
      try {
        const apps = await shared.load();
        this.state.apps = apps;
        logger.info('took over the stabilization history of the last leader', { apps: apps.size });
      } catch (error) {
        logger.warn('cannot read the last leader\'s stabilization history: no cycle until it can', { error: (error as Error).message });
        return;
      }
    }
    this.takingOver = false;
    try {
      result = await runCycle(this.deps, this.state, this.options.settings, this.options.registrations());
    } catch (error) {
      // runCycle catches what it expects; anything else is a bug, and must not kill the loop.
      logger.error('cycle crashed', { error });
      this.failedInARow += 1;
      return;
    }
    this.last = result;
    const scrub = this.options.scrub;
    this.lastErrors = result.errors.map((e) => ({ ...e, message: scrub(e.message) }));
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
    if (shared && this.leadership.isLeader()) await shared.save(this.state.apps);
    const gcStartedAt = performance.now();
    const collected = this.collector.afterCycle();
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
      ...(collected ? { gcMs: Math.round(performance.now() - gcStartedAt) } : {}),
    });
  }
}

/** Marathon's list and InfluxDB's query as the last cycle saw them (a failed scale request does not count). */
function upstreamStatus(last: CycleResult | null): { marathon: UpstreamStatus; influxdb: UpstreamStatus } {
  if (!last) return { marathon: 'not-checked', influxdb: 'not-checked' };
  const marathonDown = last.errors.some((e) => e.source === 'marathon' && e.appId === undefined);
  const influxDown = last.errors.some((e) => e.source === 'influxdb');
  return {
    marathon: marathonDown ? 'unreachable' : 'ok',
    influxdb: influxDown ? 'unreachable' : last.requests.influxdb > 0 ? 'ok' : 'not-checked',
  };
}

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}
