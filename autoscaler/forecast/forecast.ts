import { hpaReplicas, withinTolerance } from '../policy/replicas.js';
import type { PredictedFloor, PredictiveSettings, ScalingPolicy } from '../policy/types.js';

export type { PredictedFloor, PredictiveSettings } from '../policy/types.js';

export const WEEK_MS = 7 * 24 * 60 * 60 * 1000;
const MIB = 1024 * 1024;

/** One downsampled bucket of an app's total usage (summed over its tasks), starting at `at` (epoch ms). */
export interface UsagePoint {
  at: number;
  cpuCores?: number;
  memoryBytes?: number;
}

export interface ForecastInput {
  /** Epoch ms (the clock is passed in). */
  now: number;
  settings: PredictiveSettings;
  /** The app's usage history, in any order; only the windows of `historyWindows` matter. */
  history: UsagePoint[];
  /** The app now: its instance count and what one instance may use. */
  app: { instances: number; cpus: number; memMiB: number };
  policy: Pick<ScalingPolicy, 'minInstances' | 'maxInstances' | 'targetCpu' | 'targetMemory' | 'tolerance'>;
}

export type ForecastResult =
  | { kind: 'floor'; predicted: PredictedFloor }
  | { kind: 'no-floor'; reason: 'too-few-weeks' | 'no-targets'; weeksWithData: number; minWeeks: number; ignoredWeeks: number[] };

/**
 * The floor the app's own past asks for `leadMinutes` from now. For each of the last `lookbackWeeks` weeks, the usage
 * of the window around the same instant that week (now + lead − k weeks) is the highest bucket in it; a week without
 * data for every targeted metric is left out. The `quantile` across the remaining weeks is the expected usage, and the
 * floor is HPA's count for it (ceil(usage / (per-instance resource × target)), no change within tolerance of the
 * current count), the max over CPU and memory, within min and max. Pure.
 */
export function forecastFloor(input: ForecastInput): ForecastResult {
  const { settings, policy, app } = input;
  const metrics = targetedMetrics(policy);
  const forecastAt = input.now + settings.leadMinutes * 60_000;
  const halfWindow = (settings.windowMinutes * 60_000) / 2;
  const weeks: PredictedFloor['weeks'] = [];
  const ignoredWeeks: number[] = [];
  for (let weeksAgo = 1; weeksAgo <= settings.lookbackWeeks; weeksAgo++) {
    const at = forecastAt - weeksAgo * WEEK_MS;
    const week: PredictedFloor['weeks'][number] = { weeksAgo, at };
    for (const point of input.history) {
      if (point.at < at - halfWindow || point.at > at + halfWindow) continue;
      if (point.cpuCores !== undefined && Number.isFinite(point.cpuCores) && point.cpuCores >= 0) {
        week.cpuCores = Math.max(week.cpuCores ?? 0, point.cpuCores);
      }
      if (point.memoryBytes !== undefined && Number.isFinite(point.memoryBytes) && point.memoryBytes >= 0) {
        week.memoryBytes = Math.max(week.memoryBytes ?? 0, point.memoryBytes);
      }
    }
    const complete = metrics.length > 0 && metrics.every((metric) => (metric === 'cpu' ? week.cpuCores : week.memoryBytes) !== undefined);
    if (complete) weeks.push(week);
    else ignoredWeeks.push(weeksAgo);
  }
  if (metrics.length === 0) return { kind: 'no-floor', reason: 'no-targets', weeksWithData: 0, minWeeks: settings.minWeeks, ignoredWeeks };
  if (weeks.length < settings.minWeeks || weeks.length === 0) {
    return { kind: 'no-floor', reason: 'too-few-weeks', weeksWithData: weeks.length, minWeeks: settings.minWeeks, ignoredWeeks };
  }

  const expected: PredictedFloor['expected'] = {};
  let floor = 0;
  for (const metric of metrics) {
    const values = weeks.map((week) => (metric === 'cpu' ? week.cpuCores : week.memoryBytes) as number);
    const usage = quantile(values, settings.quantile);
    const perInstance = metric === 'cpu' ? app.cpus * (policy.targetCpu as number) : app.memMiB * MIB * (policy.targetMemory as number);
    if (metric === 'cpu') expected.cpuCores = usage;
    else expected.memoryBytes = usage;
    floor = Math.max(floor, replicasFor(usage, perInstance, app.instances, policy.tolerance));
  }
  floor = Math.min(Math.max(floor, policy.minInstances), policy.maxInstances);
  return { kind: 'floor', predicted: { floor, forecastAt, quantile: settings.quantile, weeks, ignoredWeeks, expected } };
}

/**
 * The time ranges of history `forecastFloor` reads for every forecast made in [now, now + horizonMs]: one per past
 * week, oldest last. A reader (InfluxDB, a backtest) fetches these once and forecasts from them for the whole horizon.
 */
export function historyWindows(now: number, settings: PredictiveSettings, horizonMs: number): { weeksAgo: number; from: number; to: number }[] {
  const lead = settings.leadMinutes * 60_000;
  const halfWindow = (settings.windowMinutes * 60_000) / 2;
  const windows: { weeksAgo: number; from: number; to: number }[] = [];
  for (let weeksAgo = 1; weeksAgo <= settings.lookbackWeeks; weeksAgo++) {
    const start = now + lead - weeksAgo * WEEK_MS;
    windows.push({ weeksAgo, from: start - halfWindow, to: start + horizonMs + halfWindow });
  }
  return windows;
}

/** HPA's replica count for an expected app-wide usage, as metricReplicas computes it when every task reports. */
function replicasFor(usage: number, perInstance: number, current: number, tolerance: number): number {
  if (!(perInstance > 0)) return 0;
  if (current <= 0) return hpaReplicas(usage / perInstance, 1);
  const ratio = usage / (current * perInstance);
  return withinTolerance(ratio, tolerance) ? current : hpaReplicas(ratio, current);
}

/** The metrics a policy scales on, in the order decisions list them. */
export function targetedMetrics(policy: Pick<ScalingPolicy, 'targetCpu' | 'targetMemory'>): ('cpu' | 'memory')[] {
  const metrics: ('cpu' | 'memory')[] = [];
  if (policy.targetCpu !== undefined) metrics.push('cpu');
  if (policy.targetMemory !== undefined) metrics.push('memory');
  return metrics;
}

/** The q-quantile with linear interpolation between the closest ranks (R's and numpy's default). */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const low = sorted[lower] as number;
  return low + (position - lower) * ((sorted[upper] as number) - low);
}
