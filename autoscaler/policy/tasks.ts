import type { DecisionInput, TaskDecisionInput } from './types.js';

export type MetricName = 'cpu' | 'memory';
export type TaskStatus = TaskDecisionInput['status'];

export interface ClassifiedTask {
  id: string;
  status: TaskStatus;
  /** usage / app resources (cores / cpus, bytes / mem), when the data exists (fresh or not: shown to people). */
  utilization: Partial<Record<MetricName, number>>;
  /** Metrics whose value counts in this cycle's ratio: running, ready, warmed up, fresh. */
  usable: Set<MetricName>;
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
  return app.tasks.map((task) => {
    const usage = Object.hasOwn(input.usage, task.id) ? input.usage[task.id] : undefined;
    const utilization: Partial<Record<MetricName, number>> = {};
    if (usage?.cpuCores !== undefined && app.cpus > 0) utilization.cpu = usage.cpuCores / app.cpus;
    if (usage?.memoryBytes !== undefined && app.mem > 0) utilization.memory = usage.memoryBytes / (app.mem * MIB);
    const classified = (status: TaskStatus, usable: MetricName[] = []): ClassifiedTask => ({
      id: task.id,
      status,
      utilization,
      usable: new Set(usable),
    });

    if (task.state !== 'TASK_RUNNING') return classified(PENDING_STATES.has(task.state) ? 'not-ready' : 'not-running');
    if (app.hasHealthChecks && task.healthy !== true) return classified('not-ready');
    // HPA treats a pod without a start time as unready: its age, hence its warm-up, is unknown.
    if (task.startedAt === null) return classified('not-ready');
    if (now - task.startedAt < warmupMs) return classified('warming-up');

    const fresh = usage?.lastSampleAt !== undefined && now - usage.lastSampleAt <= freshMs;
    const usable = fresh ? metrics.filter((metric) => isFiniteNumber(utilization[metric])) : [];
    return classified(usable.length === metrics.length ? 'used' : 'missing', usable);
  });
}

function isFiniteNumber(value: number | undefined): value is number {
  return value !== undefined && Number.isFinite(value);
}
