import type { DecisionInput, TaskDecisionInput, TaskView } from './types.js';

export type MetricName = 'cpu' | 'memory';
export type TaskStatus = TaskDecisionInput['status'];

export interface ClassifiedTask {
  id: string;
  status: TaskStatus;
  /** usage / app resources (cores / cpus, bytes / mem), when the data exists (fresh or not: shown to people). */
  utilization: Partial<Record<MetricName, number>>;
  /** Metrics whose value counts in this cycle's ratio: running, ready, warmed up, fresh. Shared: never mutated. */
  usable: readonly MetricName[];
}

const MIB = 1024 * 1024;
/** Launched but not yet running: HPA's pending pods, counted as 0% on a scale-up. */
const PENDING_STATES = new Set(['TASK_STAGING', 'TASK_STARTING']);

/**
 * Sorts the app's tasks the way HPA sorts pods: gone or failing tasks are ignored ('not-running'), launching,
 * unhealthy or still-warming tasks are set aside, and a running task without a fresh sample is 'missing' — never idle.
 */
export function classifyTasks(input: DecisionInput, metrics: MetricName[]): ClassifiedTask[] {
  const { app, now } = input;
  const warmupMs = input.policy.warmupSeconds * 1000;
  const freshMs = input.freshnessSeconds * 1000;
  // Runs for every task of every app each cycle: a plain loop, and nothing allocated that the answer does not keep.
  const classified: ClassifiedTask[] = new Array(app.tasks.length);
  for (let index = 0; index < app.tasks.length; index++) {
    const task = app.tasks[index] as TaskView;
    const usage = Object.hasOwn(input.usage, task.id) ? input.usage[task.id] : undefined;
    const utilization: Partial<Record<MetricName, number>> = {};
    if (usage?.cpuCores !== undefined && app.cpus > 0) utilization.cpu = usage.cpuCores / app.cpus;
    if (usage?.memoryBytes !== undefined && app.mem > 0) utilization.memory = usage.memoryBytes / (app.mem * MIB);
    let status: TaskStatus;
    let usable: readonly MetricName[] = NONE;
    if (task.state !== 'TASK_RUNNING') status = PENDING_STATES.has(task.state) ? 'not-ready' : 'not-running';
    else if (app.hasHealthChecks && task.healthy !== true) status = 'not-ready';
    // HPA treats a pod without a start time as unready: its age, hence its warm-up, is unknown.
    else if (task.startedAt === null) status = 'not-ready';
    else if (now - task.startedAt < warmupMs) status = 'warming-up';
    else {
      const fresh = usage?.lastSampleAt !== undefined && now - usage.lastSampleAt <= freshMs;
      const all = fresh && metrics.every((metric) => isFiniteNumber(utilization[metric]));
      usable = all ? metrics : fresh ? metrics.filter((metric) => isFiniteNumber(utilization[metric])) : NONE;
      status = all ? 'used' : 'missing';
    }
    classified[index] = { id: task.id, status, utilization, usable };
  }
  return classified;
}

const NONE: readonly MetricName[] = [];

function isFiniteNumber(value: number | undefined): value is number {
  return value !== undefined && Number.isFinite(value);
}
