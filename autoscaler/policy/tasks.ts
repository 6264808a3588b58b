import type { DecisionInput, MetricName, TaskDecisionInput, TaskStatus, TaskView } from './types.js';

export type { MetricName, TaskStatus } from './types.js';

const MIB = 1024 * 1024;
/** Launched but not yet running: HPA's pending pods, counted as 0% on a scale-up. */
const PENDING_STATES = new Set(['TASK_STAGING', 'TASK_STARTING']);

/**
 * Sorts the app's tasks the way HPA sorts pods: gone or failing tasks are ignored ('not-running'), launching,
 * unhealthy or still-warming tasks are set aside, and a running task without a fresh sample is 'missing' — never idle.
 * The entries are what /decisions shows for each task: one object per task, nothing else allocated per task.
 */
export function classifyTasks(input: DecisionInput, metrics: MetricName[]): TaskDecisionInput[] {
  const { app, now } = input;
  const warmupMs = input.policy.warmupSeconds * 1000;
  const freshSince = freshSinceOf(input);
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
      cpuUtilization: cpuCores !== undefined && app.cpus > 0 ? cpuCores / app.cpus : undefined,
      memoryUtilization: memoryBytes !== undefined && app.mem > 0 ? memoryBytes / (app.mem * MIB) : undefined,
      cpuCores,
      memoryBytes,
      lastSampleAt,
    };
    if (task.state !== 'TASK_RUNNING') entry.status = PENDING_STATES.has(task.state) ? 'not-ready' : 'not-running';
    else if (app.hasHealthChecks && task.healthy !== true) entry.status = 'not-ready';
    // HPA treats a pod without a start time as unready: its age, hence its warm-up, is unknown.
    else if (task.startedAt === null) entry.status = 'not-ready';
    else if (now - task.startedAt < warmupMs) entry.status = 'warming-up';
    else entry.status = isFresh(entry, freshSince) && metrics.every((metric) => hasValue(entry, metric)) ? 'used' : 'missing';
    entries[index] = entry;
  }
  return entries;
}

/** Samples at or after this instant (epoch ms) are fresh. */
export function freshSinceOf(input: Pick<DecisionInput, 'now' | 'freshnessSeconds'>): number {
  return input.now - input.freshnessSeconds * 1000;
}

/**
 * Whether a task's value for `metric` counts in this cycle's ratio: a 'used' task for every metric, a 'missing' one
 * for a metric it has a fresh finite value of (it lacks another metric), any other task for none.
 */
export function countsFor(task: TaskDecisionInput, metric: MetricName, freshSince: number): boolean {
  if (task.status === 'used') return true;
  return task.status === 'missing' && isFresh(task, freshSince) && hasValue(task, metric);
}

export function utilizationOf(task: TaskDecisionInput, metric: MetricName): number | undefined {
  return metric === 'cpu' ? task.cpuUtilization : task.memoryUtilization;
}

function isFresh(task: TaskDecisionInput, freshSince: number): boolean {
  return task.lastSampleAt !== undefined && task.lastSampleAt >= freshSince;
}

function hasValue(task: TaskDecisionInput, metric: MetricName): boolean {
  const value = utilizationOf(task, metric);
  return value !== undefined && Number.isFinite(value);
}
