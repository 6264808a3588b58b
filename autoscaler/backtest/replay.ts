import type { AppInfo } from '../../src/marathon/types.js';
import { newCycleState, runCycle, type CycleSettings, type MetricsPort } from '../cycle/run-cycle.js';
import type { HistoryPort } from '../cycle/predictive.js';
import type { HistoryCachePolicy } from '../forecast/cache.js';
import { historyWindows, type UsagePoint } from '../forecast/forecast.js';
import { explainDecision } from '../policy/explain.js';
import type { PredictiveSettings, ScalingPolicy, TaskUsage } from '../policy/types.js';
import { toPolicy, type Registration } from '../registry/registration.js';
import type { Logger } from '../telemetry/logger.js';
import type { Recording } from './recording.js';
import { SimulatedMarathon } from './simulated-marathon.js';
import { AUTOSCALE_LABEL_PREFIX } from '../../src/autoscale/labels.js';

export interface ReplayInput {
  /** The app's definition in Marathon (cpus, mem, health checks, killSelection); its AUTOSCALE_* labels are not read. */
  definition: AppInfo;
  /** The policy replayed (a REST registration, labels read into one, or a what-if file); dryRun is ignored. */
  registration: Registration;
  recording: Recording;
  /** The app's usage history for predictive floors (from before `from` on), in the forecast's buckets. */
  history?: UsagePoint[];
  from: number;
  to: number;
  /** The simulated cycle interval. */
  stepMs: number;
  /** From a scale-up until the new tasks run and are healthy. */
  startupMs: number;
  /** Instances at `from`: the recorded count there, or the app's count now. */
  initialInstances: number;
  settings: Omit<CycleSettings, 'dryRun'>;
  historyCache: HistoryCachePolicy;
}

export interface ReplayAction {
  at: number;
  from: number;
  to: number;
  /** The decision in words, as the daemon logs and /decisions show it. */
  reason: string;
  rules: string[];
}

export interface ReplayResult {
  policy: ScalingPolicy;
  steps: number;
  /** Per step (at = from + index × stepMs): Marathon's instance count after the step's cycle, and the running tasks. */
  instances: Int32Array;
  running: Int32Array;
  actions: ReplayAction[];
  /** Cycles that held for lack of usage (no recorded bucket in the usage window). */
  heldWithoutData: number;
  /** Cycles that skipped the app while its scaling deployment ran. */
  skippedForDeployment: number;
}

const SILENT: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Runs the daemon's own cycle (runCycle: decide, stabilization, limits, schedules, predictive floors, actuation) once
 * per step on a simulated clock, against a simulated Marathon holding the app and the recorded usage spread evenly
 * over the tasks that run at that moment. Never reads past the clock: a cycle sees the usage of the buckets that ended
 * within its usage window, the forecast the history before it.
 */
export async function replay(input: ReplayInput): Promise<ReplayResult> {
  let now = input.from;
  const clock = { now: () => now };
  const labels = Object.fromEntries(Object.entries(input.definition.labels ?? {}).filter(([key]) => !key.startsWith(AUTOSCALE_LABEL_PREFIX)));
  const marathon = new SimulatedMarathon({ ...input.definition, labels }, input.initialInstances, input.startupMs, clock);
  const metrics = new RecordedUsage(input.recording, marathon, input.settings.usageQuery.windowSeconds * 1000, clock);
  const registration: Registration = { ...input.registration, dryRun: false };
  const policy = toPolicy(registration, input.settings.defaults, 'rest');
  const history = input.history;
  const deps = {
    marathon,
    metrics,
    clock,
    logger: SILENT,
    ...(history !== undefined ? { history: pastHistory(history, policy.predictive, input.historyCache.cacheMs, clock) } : {}),
  };
  const settings: CycleSettings = { ...input.settings, dryRun: false };
  const state = newCycleState(input.historyCache);
  const steps = Math.max(0, Math.ceil((input.to - input.from) / input.stepMs));
  const instances = new Int32Array(steps);
  const running = new Int32Array(steps);
  const actions: ReplayAction[] = [];
  let heldWithoutData = 0;
  let skippedForDeployment = 0;
  for (let step = 0; step < steps; step++) {
    now = input.from + step * input.stepMs;
    const result = await runCycle(deps, state, settings, [registration]);
    const decision = result.decisions[0];
    if (decision !== undefined) {
      if (decision.rules.includes('deployment-in-progress')) skippedForDeployment++;
      else if (decision.rules.includes('missing-metrics') && decision.metrics.every((metric) => metric.used === 0)) heldWithoutData++;
      for (const action of result.actions) {
        actions.push({ at: now, from: action.from, to: action.to, reason: explainDecision(decision), rules: decision.rules });
      }
    }
    instances[step] = marathon.targetInstances;
    running[step] = marathon.runningTasks(now);
  }
  return {
    policy,
    steps,
    instances,
    running,
    actions,
    heldWithoutData,
    skippedForDeployment,
  };
}

/**
 * The forecast's history port: what the daemon's read returns at this moment, the recorded history within the windows
 * of the past weeks it asks for (`historyWindows` over the cache's horizon), never at or after the simulated now.
 */
function pastHistory(history: UsagePoint[], settings: PredictiveSettings | undefined, horizonMs: number, clock: { now(): number }): HistoryPort {
  const sorted = [...history].sort((a, b) => a.at - b.at);
  return {
    async fetchHistory(statements) {
      const now = clock.now();
      const points: UsagePoint[] = [];
      if (settings !== undefined) {
        for (const window of historyWindows(now, settings, horizonMs)) {
          for (let index = lowerBound(sorted, window.from); index < sorted.length; index++) {
            const point = sorted[index] as UsagePoint;
            if (point.at > window.to || point.at >= now) break;
            points.push(point);
          }
        }
      }
      return new Map(statements.map((statement) => [statement.appId, points]));
    },
  };
}

/**
 * The usage query's answer in the replay: per running task, the app's recorded usage over the window (CPU the mean of
 * the buckets, memory their highest, as the daemon's query reads a window) divided by the tasks running now, since a
 * load balancer spreads the load over them. A bucket counts once it has ended, while it overlaps the window.
 */
class RecordedUsage implements MetricsPort {
  private readonly cpuPrefix: Float64Array;
  private readonly cpuCounts: Int32Array;

  constructor(
    private readonly recording: Recording,
    private readonly marathon: SimulatedMarathon,
    private readonly windowMs: number,
    private readonly clock: { now(): number },
  ) {
    const buckets = recording.buckets;
    this.cpuPrefix = new Float64Array(buckets.length + 1);
    this.cpuCounts = new Int32Array(buckets.length + 1);
    for (let index = 0; index < buckets.length; index++) {
      const cpu = buckets[index]?.cpuCores;
      this.cpuPrefix[index + 1] = (this.cpuPrefix[index] as number) + (cpu ?? 0);
      this.cpuCounts[index + 1] = (this.cpuCounts[index] as number) + (cpu === undefined ? 0 : 1);
    }
  }

  async fetchUsage(): Promise<Record<string, TaskUsage>> {
    return this.usageAt(this.clock.now());
  }

  usageAt(now: number): Record<string, TaskUsage> {
    const buckets = this.recording.buckets;
    // The ended buckets that overlap the window: a window shorter than a bucket still sees the last one.
    const first = lowerBound(buckets, now - this.windowMs - this.recording.bucketMs + 1);
    const end = lowerBound(buckets, now - this.recording.bucketMs + 1);
    if (end <= first) return {};
    const cpuCount = (this.cpuCounts[end] as number) - (this.cpuCounts[first] as number);
    const cpu = cpuCount > 0 ? ((this.cpuPrefix[end] as number) - (this.cpuPrefix[first] as number)) / cpuCount : undefined;
    let memory: number | undefined;
    for (let index = first; index < end; index++) {
      const value = buckets[index]?.memoryBytes;
      if (value !== undefined) memory = Math.max(memory ?? 0, value);
    }
    const lastSampleAt = (buckets[end - 1]?.at as number) + this.recording.bucketMs;
    const tasks = this.marathon.runningTaskIds(now);
    const usage: Record<string, TaskUsage> = {};
    for (const id of tasks) {
      const task: TaskUsage = { lastSampleAt };
      if (cpu !== undefined) task.cpuCores = cpu / tasks.length;
      if (memory !== undefined) task.memoryBytes = memory / tasks.length;
      usage[id] = task;
    }
    return usage;
  }
}

/** The index of the first bucket starting at or after `at`. */
function lowerBound(buckets: { at: number }[], at: number): number {
  let low = 0;
  let high = buckets.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((buckets[middle] as { at: number }).at < at) low = middle + 1;
    else high = middle;
  }
  return low;
}
