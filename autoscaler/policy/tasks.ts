import type { DecisionInput, MetricName, MetricUse, TaskDecisionInput, TaskStatus, TaskView } from './types.js';

export type { MetricName, MetricUse, TaskStatus } from './types.js';

const MIB = 1024 * 1024;
/** Launched but not yet running: HPA's pending pods, set aside for every metric (0% on a scale-up). */
const PENDING_STATES = new Set(['TASK_STAGING', 'TASK_STARTING']);
/** Killed, failed or being killed: HPA's deleted and failed pods, ignored. */
const GONE_STATES = new Set([
  'TASK_KILLING', 'TASK_KILLED', 'TASK_FINISHED', 'TASK_FAILED', 'TASK_ERROR', 'TASK_DROPPED', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR',
]);

/**
 * Sorts the app's tasks the way HPA's groupPods sorts pods, per metric: gone tasks (killed, failed, being killed) are
 * ignored, launching tasks are set aside for every metric, a task without a fresh valid sample is missing (whatever
 * its readiness: HPA looks for metrics first), and only for CPU are unhealthy, start-unknown and warming-up tasks set
 * aside: memory counts their usage like any other (`if resource == v1.ResourceCPU`). Unreachable tasks are missing.
 * The entries are what /decisions shows for each task: one object per task, nothing else allocated per task.
 */
export function classifyTasks(input: DecisionInput, metrics: MetricName[]): TaskDecisionInput[] {
  const { app, now } = input;
  const warmupMs = input.policy.warmupSeconds * 1000;
  const freshSince = freshSinceOf(input);
  const wantsCpu = metrics.includes('cpu');
  const wantsMemory = metrics.includes('memory');
  const entries: TaskDecisionInput[] = new Array(app.tasks.length);
  for (let index = 0; index < app.tasks.length; index++) {
    const task = app.tasks[index] as TaskView;
    const usage = Object.hasOwn(input.usage, task.id) ? input.usage[task.id] : undefined;
    const cpuCores = usage?.cpuCores;
    const memoryBytes = usage?.memoryBytes;
    const lastSampleAt = usage?.lastSampleAt;
    const entry: TaskDecisionInput = {
      taskId: task.id,
      status: 'not-running',
      cpu: 'ignored',
      memory: 'ignored',
      cpuUtilization: cpuCores !== undefined && app.cpus > 0 ? cpuCores / app.cpus : undefined,
      memoryUtilization: memoryBytes !== undefined && app.mem > 0 ? memoryBytes / (app.mem * MIB) : undefined,
      cpuCores,
      memoryBytes,
      lastSampleAt,
    };
    const lifecycle = lifecycleOf(task, app.hasHealthChecks, now, warmupMs);
    if (lifecycle !== 'not-running') {
      const fresh = lastSampleAt !== undefined && lastSampleAt >= freshSince;
      if (wantsCpu) entry.cpu = metricUse(lifecycle, fresh, entry.cpuUtilization, true);
      if (wantsMemory) entry.memory = metricUse(lifecycle, fresh, entry.memoryUtilization, false);
      entry.status = summaryStatus(lifecycle, entry, wantsCpu, wantsMemory);
    }
    entries[index] = entry;
  }
  return entries;
}

type Lifecycle = 'running' | 'pending' | 'not-ready' | 'warming-up' | 'unreachable' | 'not-running';

function lifecycleOf(task: TaskView, hasHealthChecks: boolean, now: number, warmupMs: number): Lifecycle {
  if (task.state === 'TASK_RUNNING') {
    if (hasHealthChecks && task.healthy !== true) return 'not-ready';
    // HPA treats a pod without a start time as unready: its age, hence its warm-up, is unknown.
    if (task.startedAt === null) return 'not-ready';
    if (now - task.startedAt < warmupMs) return 'warming-up';
    return 'running';
  }
  if (PENDING_STATES.has(task.state)) return 'pending';
  if (GONE_STATES.has(task.state)) return 'not-running';
  // TASK_UNREACHABLE, TASK_UNKNOWN, TASK_LOST (and any state not known here): Marathon still counts the instance but
  // cannot hear from it. It exists and reports nothing, so it is *missing* data (HPA's pod without metrics), never gone.
  return 'unreachable';
}

/** How one metric uses a task that exists: HPA's order is pending, then missing metrics, then (CPU only) unready. */
function metricUse(lifecycle: Exclude<Lifecycle, 'not-running'>, fresh: boolean, utilization: number | undefined, cpu: boolean): MetricUse {
  if (lifecycle === 'pending') return 'pending';
  if (lifecycle === 'unreachable') return 'unreachable';
  if (utilization === undefined || !fresh) return 'no-data';
  if (!isValidUtilization(utilization)) return 'invalid';
  if (cpu && (lifecycle === 'not-ready' || lifecycle === 'warming-up')) return lifecycle;
  return 'used';
}

/** One word for people: 'used' when every metric counted it, else why not (missing data first). */
function summaryStatus(lifecycle: Exclude<Lifecycle, 'not-running'>, entry: TaskDecisionInput, cpu: boolean, memory: boolean): TaskStatus {
  if (lifecycle === 'pending' || lifecycle === 'unreachable') return lifecycle;
  const uses = [cpu ? entry.cpu : 'used', memory ? entry.memory : 'used'];
  if (uses.some(isMissingUse)) return 'missing';
  return lifecycle === 'running' ? 'used' : lifecycle;
}

/** A sample below zero or not a finite number is garbage (a broken exporter), not usage: the task is missing data. */
export function isValidUtilization(value: number): boolean {
  return Number.isFinite(value) && value >= 0;
}

/** Uses that HPA's missing-pod rule covers: the task exists but gave no usable figure. */
export function isMissingUse(use: MetricUse): boolean {
  return use === 'no-data' || use === 'invalid' || use === 'unreachable';
}

/** Samples at or after this instant (epoch ms) are fresh. */
export function freshSinceOf(input: Pick<DecisionInput, 'now' | 'freshnessSeconds'>): number {
  return input.now - input.freshnessSeconds * 1000;
}

export function utilizationOf(task: TaskDecisionInput, metric: MetricName): number | undefined {
  return metric === 'cpu' ? task.cpuUtilization : task.memoryUtilization;
}

export function useOf(task: TaskDecisionInput, metric: MetricName): MetricUse {
  return metric === 'cpu' ? task.cpu : task.memory;
}

/**
 * Instances Marathon counts that have no task in the list at all (not yet launched, or lost from the list): missing,
 * like a task that reports nothing. Gone tasks (killed, failed) are not instances; pending and unreachable ones are.
 */
export function unlistedInstances(instances: number, tasks: TaskDecisionInput[]): number {
  let listed = 0;
  for (let index = 0; index < tasks.length; index++) if ((tasks[index] as TaskDecisionInput).status !== 'not-running') listed += 1;
  return Math.max(0, instances - listed);
}
