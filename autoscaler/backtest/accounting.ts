import type { ScalingPolicy } from '../policy/types.js';
import type { RecordedBucket, Recording } from './recording.js';

const MIB = 1024 * 1024;

/** How one way of running the app (the replayed autoscaler, or what actually ran) served the recorded load. */
export interface ProvisioningSummary {
  /** Steps (minutes) this side's instance count is known and usage was recorded. */
  minutesCounted: number;
  instances: { mean: number; min: number; max: number };
  /** Instances short of what the load needed at the target, times minutes (ready tasks only: starting ones serve nothing). */
  underProvisionedTaskMinutes: number;
  /** Instances beyond what the load needed at the target, times minutes (starting tasks hold resources too). */
  overProvisionedTaskMinutes: number;
  /** Usage above the target beyond the tolerance on the ready tasks, for any targeted metric. */
  aboveTarget: { times: number; minutes: number; longestMinutes: number };
  scaleActions: { up: number; down: number };
}

export interface AccountingInput {
  policy: Pick<ScalingPolicy, 'minInstances' | 'targetCpu' | 'targetMemory' | 'tolerance'>;
  /** Per instance: Marathon's cpus and mem (MiB). */
  resources: { cpus: number; memMiB: number };
  recording: Recording;
  from: number;
  stepMs: number;
  /** The backtest's instance count and running tasks per step. */
  instances: ArrayLike<number>;
  running: ArrayLike<number>;
  backtestActions: { up: number; down: number };
}

export interface ChartSample {
  at: number;
  needed?: number;
  backtest: number;
  actual?: number;
}

export interface Accounting {
  backtest: ProvisioningSummary;
  actual: ProvisioningSummary;
  /** Steps whose bucket had no recorded usage (not counted on either side). */
  minutesWithoutData: number;
  /** One per recorded bucket and per bucket-long gap, for the chart: the needed instances (a real number), the most instances each side ran. */
  samples: ChartSample[];
  /** Where the actual instance count changed (recorded task count), for the JSON. */
  actualChanges: { at: number; instances: number }[];
}

/**
 * The load in instances at the target: per targeted metric, usage / (target × what one instance has), the highest of
 * them. `neededInstances`: the fewest instances that keep it within the tolerance of the target (so an app is short
 * exactly when it is above target), never below min but above max when the load asks for it: an app held at a max
 * too low for its load is under-provisioned, and the backtest says so.
 */
export function loadInInstances(bucket: RecordedBucket, input: Pick<AccountingInput, 'policy' | 'resources'>): number | undefined {
  const { policy, resources } = input;
  let load: number | undefined;
  if (policy.targetCpu !== undefined && bucket.cpuCores !== undefined) load = Math.max(load ?? 0, bucket.cpuCores / (policy.targetCpu * resources.cpus));
  if (policy.targetMemory !== undefined && bucket.memoryBytes !== undefined) {
    load = Math.max(load ?? 0, bucket.memoryBytes / (policy.targetMemory * resources.memMiB * MIB));
  }
  return load;
}

export function neededInstances(load: number, policy: Pick<ScalingPolicy, 'minInstances' | 'tolerance'>): number {
  return Math.max(policy.minInstances, Math.ceil(load / (1 + policy.tolerance) - 1e-9));
}

class SideCounter {
  private minutes = 0;
  private sum = 0;
  private min = Infinity;
  private max = 0;
  private under = 0;
  private over = 0;
  private times = 0;
  private aboveMinutes = 0;
  private runMinutes = 0;
  private longest = 0;

  add(stepMinutes: number, instances: number, ready: number, load: number, needed: number, tolerance: number): void {
    this.minutes += stepMinutes;
    this.sum += instances * stepMinutes;
    this.min = Math.min(this.min, instances);
    this.max = Math.max(this.max, instances);
    this.under += Math.max(0, needed - ready) * stepMinutes;
    this.over += Math.max(0, instances - needed) * stepMinutes;
    // load / ready is the utilization relative to the target (1 = at target), whichever metric is the highest.
    const above = ready === 0 ? load > 0 : load / ready > 1 + tolerance;
    if (above) {
      if (this.runMinutes === 0) this.times += 1;
      this.runMinutes += stepMinutes;
      this.aboveMinutes += stepMinutes;
      this.longest = Math.max(this.longest, this.runMinutes);
    } else this.runMinutes = 0;
  }

  /** A step without data ends a run above the target: the next one above counts as another time. */
  gap(): void {
    this.runMinutes = 0;
  }

  summary(scaleActions: { up: number; down: number }): ProvisioningSummary {
    const round = (value: number) => Math.round(value * 100) / 100;
    return {
      minutesCounted: round(this.minutes),
      instances: { mean: this.minutes > 0 ? round(this.sum / this.minutes) : 0, min: this.minutes > 0 ? this.min : 0, max: this.max },
      underProvisionedTaskMinutes: round(this.under),
      overProvisionedTaskMinutes: round(this.over),
      aboveTarget: { times: this.times, minutes: round(this.aboveMinutes), longestMinutes: round(this.longest) },
      scaleActions,
    };
  }
}

/**
 * Both sides against the same recorded load, step by step: the backtest with its simulated instance counts, the
 * actual side with the recorded task count of the step's bucket (all of them ready: a task that reports was running).
 * Pure.
 */
export function account(input: AccountingInput): Accounting {
  const { recording, stepMs, from } = input;
  const buckets = recording.buckets;
  const stepMinutes = stepMs / 60_000;
  const backtest = new SideCounter();
  const actual = new SideCounter();
  const samples: ChartSample[] = [];
  let minutesWithoutData = 0;
  let cursor = 0;
  let sample: ChartSample | undefined;
  const steps = input.instances.length;
  for (let step = 0; step < steps; step++) {
    const at = from + step * stepMs;
    while (cursor < buckets.length && (buckets[cursor] as RecordedBucket).at + recording.bucketMs <= at) cursor++;
    const bucket = cursor < buckets.length && (buckets[cursor] as RecordedBucket).at <= at ? (buckets[cursor] as RecordedBucket) : undefined;
    const instances = input.instances[step] as number;
    const bucketStart = bucket?.at ?? Math.floor(at / recording.bucketMs) * recording.bucketMs;
    if (sample === undefined || sample.at !== bucketStart) {
      sample = { at: bucketStart, backtest: instances };
      if (bucket !== undefined) {
        const load = loadInInstances(bucket, input);
        if (load !== undefined) sample.needed = load;
        if (bucket.instances !== undefined) sample.actual = bucket.instances;
      }
      samples.push(sample);
    } else sample.backtest = Math.max(sample.backtest, instances);

    const load = bucket === undefined ? undefined : loadInInstances(bucket, input);
    if (bucket === undefined || load === undefined) {
      minutesWithoutData += stepMinutes;
      backtest.gap();
      actual.gap();
      continue;
    }
    const needed = neededInstances(load, input.policy);
    backtest.add(stepMinutes, instances, input.running[step] as number, load, needed, input.policy.tolerance);
    if (bucket.instances !== undefined) actual.add(stepMinutes, bucket.instances, bucket.instances, load, needed, input.policy.tolerance);
    else actual.gap();
  }

  const actualChanges: { at: number; instances: number }[] = [];
  let up = 0;
  let down = 0;
  let previous: number | undefined;
  for (const bucket of buckets) {
    if (bucket.instances === undefined || bucket.at < from || bucket.at >= from + steps * stepMs) continue;
    if (previous === undefined || bucket.instances !== previous) {
      if (previous !== undefined) {
        if (bucket.instances > previous) up++;
        else down++;
      }
      actualChanges.push({ at: bucket.at, instances: bucket.instances });
    }
    previous = bucket.instances;
  }
  return {
    backtest: backtest.summary(input.backtestActions),
    actual: actual.summary({ up, down }),
    minutesWithoutData: Math.round(minutesWithoutData * 100) / 100,
    samples,
    actualChanges,
  };
}
