import { describe, expect, it } from 'vitest';
import { decide, explainDecision } from '../autoscaler/policy/decide.js';
import type { DecisionInput, ScalingPolicy, TaskUsage, TaskView } from '../autoscaler/policy/types.js';

const NOW = Date.parse('2024-03-04T10:00:00Z');
const MIB = 1024 * 1024;

/** One task as a scenario line: its CPU utilization (cores / app.cpus) and what is unusual about it. */
interface TaskSpec {
  cpu?: number;
  memory?: number;
  noData?: boolean;
  staleSeconds?: number;
  state?: string;
  healthy?: boolean | null;
  ageSeconds?: number | null;
}

interface Scenario {
  instances: number;
  tasks: TaskSpec[];
  policy?: Partial<ScalingPolicy>;
  hasHealthChecks?: boolean;
  deploymentInProgress?: boolean;
  history?: Array<[secondsAgo: number, desired: number]>;
  /** Scalings the autoscaler applied: [seconds ago, instances added (negative: removed)]. */
  scaled?: Array<[secondsAgo: number, change: number]>;
  scheduleFloor?: number | null;
  metricsAvailable?: boolean;
  consecutiveMetricFailures?: number;
}

const CPUS = 0.5;
const MEM = 512;

function scenario(s: Scenario): DecisionInput {
  const policy: ScalingPolicy = {
    appId: '/shop/web',
    minInstances: 1,
    maxInstances: 20,
    targetCpu: 0.6,
    tolerance: 0.1,
    scaleDownStabilizationSeconds: 300,
    warmupSeconds: 60,
    dryRun: false,
    schedules: [],
    source: 'rest',
    ...s.policy,
  };
  const tasks: TaskView[] = [];
  const usage: Record<string, TaskUsage> = {};
  s.tasks.forEach((spec, index) => {
    const id = `shop_web.task-${index + 1}`;
    const age = spec.ageSeconds === undefined ? 600 : spec.ageSeconds;
    tasks.push({
      id,
      state: spec.state ?? 'TASK_RUNNING',
      healthy: spec.healthy === undefined ? (s.hasHealthChecks ? true : null) : spec.healthy,
      startedAt: age === null ? null : NOW - age * 1000,
    });
    if (spec.noData) return;
    const entry: TaskUsage = { lastSampleAt: NOW - (spec.staleSeconds ?? 5) * 1000 };
    if (spec.cpu !== undefined) entry.cpuCores = spec.cpu * CPUS;
    if (spec.memory !== undefined) entry.memoryBytes = spec.memory * MEM * MIB;
    usage[id] = entry;
  });
  return {
    now: NOW,
    policy,
    app: {
      id: '/shop/web',
      instances: s.instances,
      cpus: CPUS,
      mem: MEM,
      hasHealthChecks: s.hasHealthChecks ?? false,
      deploymentInProgress: s.deploymentInProgress ?? false,
      tasks,
    },
    usage,
    freshnessSeconds: 60,
    recommendations: (s.history ?? []).map(([ago, desired]) => ({ at: NOW - ago * 1000, desired })),
    scaleEvents: (s.scaled ?? []).map(([ago, change]) => ({ at: NOW - ago * 1000, change })),
    scheduleFloor: s.scheduleFloor ?? null,
    metricsAvailable: s.metricsAvailable ?? true,
    consecutiveMetricFailures: s.consecutiveMetricFailures ?? 0,
  };
}

const busy = (n: number, cpu: number): TaskSpec[] => Array.from({ length: n }, () => ({ cpu }));

interface Case {
  name: string;
  given: Scenario;
  desired: number;
  action: string;
  recommendation?: number;
  rules?: string[];
  reason?: string[];
}

const cases: Case[] = [
  // The plain HPA formula: desired = ceil(current × usage / target).
  {
    name: 'scales up by ceil(ratio × tasks)',
    given: { instances: 3, tasks: busy(3, 0.92) },
    desired: 5,
    action: 'scale-up',
    recommendation: 5,
    rules: [],
    reason: ['CPU 92% of target 60% on 3/3 tasks → ratio 1.53 → 5 instances', '3 → 5 instances'],
  },
  {
    name: 'caps at max',
    given: { instances: 3, tasks: busy(3, 0.92), policy: { maxInstances: 4 } },
    desired: 4,
    action: 'scale-up',
    recommendation: 5,
    rules: ['max-bound'],
    reason: ['→ 5 instances', 'capped by max 4'],
  },
  {
    name: 'does not move within tolerance (ratio 1.08)',
    given: { instances: 3, tasks: busy(3, 0.65) },
    desired: 3,
    action: 'none',
    rules: ['tolerance'],
    reason: ['within tolerance 10%', 'stays at 3 instances'],
  },
  {
    name: 'honours a wider tolerance',
    given: { instances: 3, tasks: busy(3, 0.8), policy: { tolerance: 0.4 } },
    desired: 3,
    action: 'none',
    rules: ['tolerance'],
  },
  {
    name: 'an exact ratio does not add an instance through floating-point noise',
    given: { instances: 2, tasks: busy(2, 0.9), policy: { targetCpu: 0.3 } },
    desired: 6,
    action: 'scale-up',
  },
  {
    name: 'scales down without history',
    given: { instances: 4, tasks: busy(4, 0.15) },
    desired: 1,
    action: 'scale-down',
    recommendation: 1,
    reason: ['ratio 0.25 → 1 instance', '4 → 1 instance'],
  },
  {
    name: 'never below min',
    given: { instances: 4, tasks: busy(4, 0.15), policy: { minInstances: 2 } },
    desired: 2,
    action: 'scale-down',
    rules: ['min-bound'],
    reason: ['raised to min 2'],
  },
  {
    name: 'raises an app that was scaled below min by hand',
    given: { instances: 1, tasks: busy(1, 0.6), policy: { minInstances: 3 } },
    desired: 3,
    action: 'scale-up',
    rules: ['tolerance', 'min-bound'],
  },
  {
    name: 'lowers an app that was scaled above max by hand',
    given: { instances: 8, tasks: busy(8, 0.6), policy: { maxInstances: 5 } },
    desired: 5,
    action: 'scale-down',
    rules: ['tolerance', 'max-bound'],
  },
  // Stabilization: scale-down to the highest recommendation in the window; scale-up at once.
  {
    name: 'stabilization window holds a scale-down at the highest recent recommendation',
    given: { instances: 4, tasks: busy(4, 0.15), history: [[100, 4], [50, 2]] },
    desired: 4,
    action: 'none',
    recommendation: 1,
    rules: ['stabilization-window'],
    reason: ['kept at 4 by the scale-down stabilization window (highest recommendation in the last 300 s)'],
  },
  {
    name: 'stabilization window allows a partial scale-down',
    given: { instances: 4, tasks: busy(4, 0.15), history: [[200, 3], [100, 2]] },
    desired: 3,
    action: 'scale-down',
    recommendation: 1,
    rules: ['stabilization-window'],
  },
  {
    name: 'recommendations older than the window do not hold',
    given: { instances: 4, tasks: busy(4, 0.15), history: [[301, 4], [400, 4]] },
    desired: 1,
    action: 'scale-down',
    rules: [],
  },
  {
    name: 'a shorter stabilization window lets an older recommendation expire',
    given: { instances: 4, tasks: busy(4, 0.15), history: [[100, 4]], policy: { scaleDownStabilizationSeconds: 60 } },
    desired: 1,
    action: 'scale-down',
  },
  {
    name: 'scale-up acts at once whatever the history says',
    given: { instances: 3, tasks: busy(3, 0.92), history: [[10, 1], [20, 2]] },
    desired: 5,
    action: 'scale-up',
    rules: [],
  },
  // Rate limit: max(100% of current, 4) per cycle by default.
  {
    name: 'scale-up limited to +4 from a small app',
    given: { instances: 2, tasks: busy(2, 3.0) },
    desired: 6,
    action: 'scale-up',
    recommendation: 10,
    rules: ['scale-up-limit'],
    reason: ['→ 10 instances', 'limited to max(+100%, +4) per 15 s from 2 (scale-up limit) → 6'],
  },
  {
    name: 'scale-up limited to doubling a larger app',
    given: { instances: 6, tasks: busy(6, 2.4), policy: { maxInstances: 50 } },
    desired: 12,
    action: 'scale-up',
    recommendation: 24,
    rules: ['scale-up-limit'],
  },
  // The limit is per 15 s period (HPA's default behavior), from the count at the period's start, not per cycle.
  {
    name: 'an app that just doubled may not double again within the period',
    given: { instances: 8, tasks: busy(8, 2.4), policy: { maxInstances: 100 }, scaled: [[1, 4]] },
    desired: 8,
    action: 'none',
    recommendation: 32,
    rules: ['scale-up-limit'],
    reason: ['limited to max(+100%, +4) per 15 s from 4 (scale-up limit; 4 already added in that time) → 8', 'stays at 8 instances'],
  },
  {
    name: 'what is left of the period\'s allowance is used',
    given: { instances: 12, tasks: busy(12, 2.4), policy: { maxInstances: 100 }, scaled: [[10, 2], [5, 2]] },
    desired: 16,
    action: 'scale-up',
    rules: ['scale-up-limit'],
    reason: ['limited to max(+100%, +4) per 15 s from 8 (scale-up limit; 4 already added in that time) → 16'],
  },
  {
    name: 'a scale-up older than the period no longer counts',
    given: { instances: 8, tasks: busy(8, 2.4), policy: { maxInstances: 100 }, scaled: [[15, 4], [20, 2]] },
    desired: 16,
    action: 'scale-up',
    rules: ['scale-up-limit'],
  },
  {
    name: 'a scale-down within the period raises the count the period started from',
    given: { instances: 4, tasks: busy(4, 2.4), policy: { maxInstances: 100 }, scaled: [[5, -2]] },
    desired: 12,
    action: 'scale-up',
    rules: ['scale-up-limit'],
    reason: ['from 6 (scale-up limit) → 12'],
  },
  {
    name: 'scaleUpMaxStep is per period too',
    given: { instances: 4, tasks: busy(4, 1.2), policy: { scaleUpMaxStep: 2 }, scaled: [[3, 1]] },
    desired: 5,
    action: 'scale-up',
    rules: ['scale-up-limit'],
    reason: ['limited to +2 per 15 s from 3 (scale-up limit; 1 already added in that time) → 5'],
  },
  {
    name: 'the limit never asks for a scale-down',
    given: { instances: 10, tasks: busy(10, 2.4), policy: { maxInstances: 100, scaleUpMaxStep: 1 }, scaled: [[2, 6]] },
    desired: 10,
    action: 'none',
    rules: ['scale-up-limit'],
  },
  {
    name: 'scaleUpMaxStep overrides the default step',
    given: { instances: 3, tasks: busy(3, 0.92), policy: { scaleUpMaxStep: 1 } },
    desired: 4,
    action: 'scale-up',
    rules: ['scale-up-limit'],
  },
  {
    name: 'max is reported when it binds before the step limit',
    given: { instances: 2, tasks: busy(2, 3.0), policy: { maxInstances: 5 } },
    desired: 5,
    action: 'scale-up',
    rules: ['max-bound'],
  },
  // Missing data: never scale down; on a scale-up missing tasks count as 0%.
  {
    name: 'a task without data blocks a scale-down',
    given: { instances: 4, tasks: [...busy(3, 0.06), { noData: true }] },
    desired: 4,
    action: 'none',
    recommendation: 4,
    rules: ['missing-metrics'],
    reason: ['on 3/4 tasks (1 without fresh data)', 'missing at 100% of their cpus', 'not scaling down: 1/4 instances lack usable data'],
  },
  {
    name: 'a stale task counts as missing, not idle',
    given: { instances: 4, tasks: [...busy(3, 0.06), { cpu: 0, staleSeconds: 120 }] },
    desired: 4,
    action: 'none',
    rules: ['missing-metrics'],
  },
  {
    name: 'a task with a fresh sample but no CPU rate yet counts as missing',
    given: { instances: 2, tasks: [{ cpu: 0.06 }, {}] },
    desired: 2,
    action: 'none',
    rules: ['missing-metrics'],
  },
  {
    name: 'missing tasks count as 0% on a scale-up',
    given: { instances: 4, tasks: [...busy(3, 1.2), { noData: true }] },
    desired: 6,
    action: 'scale-up',
    recommendation: 6,
    rules: ['missing-metrics'],
    reason: ['ratio 2.00; recomputed with missing at 0% → ratio 1.50 → 6 instances'],
  },
  {
    name: 'missing tasks can bring a scale-up back within tolerance',
    given: { instances: 4, tasks: [...busy(3, 0.8), { noData: true }] },
    desired: 4,
    action: 'none',
    rules: ['missing-metrics', 'tolerance'],
  },
  {
    name: 'missing tasks that flip a scale-up into a scale-down mean no change',
    given: { instances: 4, tasks: [{ cpu: 1.2 }, { noData: true }, { noData: true }, { noData: true }] },
    desired: 4,
    action: 'none',
    rules: ['missing-metrics', 'direction-flip'],
    reason: ['which flips direction: no change'],
  },
  {
    name: 'no task with data at all holds the count',
    given: { instances: 3, tasks: [{ noData: true }, { noData: true }, { cpu: 0.01, staleSeconds: 3600 }] },
    desired: 3,
    action: 'none',
    rules: ['missing-metrics'],
    reason: ['CPU: no task has usable data (3 without fresh data)', 'no task has usable data: holding the current count'],
  },
  // Tasks set aside: launching, unhealthy, warming up, start unknown; gone tasks ignored.
  {
    name: 'warming-up tasks count as 0% on a scale-up',
    given: { instances: 4, tasks: [...busy(2, 1.2), { cpu: 2, ageSeconds: 30 }, { cpu: 2, ageSeconds: 10 }] },
    desired: 4,
    action: 'none',
    rules: ['warming-up', 'tolerance'],
    reason: ['on 2/4 tasks (2 warming up)', 'unready at 0%'],
  },
  {
    name: 'warming-up tasks are set aside on a scale-down',
    given: { instances: 4, tasks: [...busy(2, 0.15), { cpu: 0, ageSeconds: 30 }, { cpu: 0, ageSeconds: 30 }] },
    desired: 1,
    action: 'scale-down',
    rules: ['warming-up'],
  },
  {
    name: 'warmupSeconds decides what is warming up',
    given: { instances: 2, tasks: [{ cpu: 1.2 }, { cpu: 1.2, ageSeconds: 30 }], policy: { warmupSeconds: 20 } },
    desired: 4,
    action: 'scale-up',
    rules: [],
  },
  {
    name: 'unhealthy tasks are not ready when the app has health checks',
    given: { instances: 3, hasHealthChecks: true, tasks: [...busy(2, 1.2), { cpu: 0, healthy: false }] },
    desired: 4,
    action: 'scale-up',
    rules: ['not-ready'],
    reason: ['on 2/3 tasks (1 not ready)', 'ratio 2.00; recomputed with unready at 0% → ratio 1.33 → 4 instances'],
  },
  {
    name: 'a task without a health result yet is not ready',
    given: { instances: 2, hasHealthChecks: true, tasks: [{ cpu: 0.3 }, { cpu: 0, healthy: null }] },
    desired: 1,
    action: 'scale-down',
    rules: ['not-ready'],
  },
  {
    name: 'health is ignored for apps without health checks',
    given: { instances: 2, tasks: [{ cpu: 0.3 }, { cpu: 0.3, healthy: null }] },
    desired: 1,
    action: 'scale-down',
    rules: [],
  },
  {
    name: 'staging tasks count as 0% on a scale-up',
    given: { instances: 3, tasks: [...busy(2, 0.9), { state: 'TASK_STAGING', ageSeconds: null }] },
    desired: 3,
    action: 'none',
    rules: ['not-ready', 'tolerance'],
  },
  {
    name: 'a running task without a start time is not ready',
    given: { instances: 2, tasks: [{ cpu: 0.3 }, { cpu: 0, ageSeconds: null }] },
    desired: 1,
    action: 'scale-down',
    rules: ['not-ready'],
  },
  {
    name: 'killing tasks are ignored entirely',
    given: { instances: 3, tasks: [...busy(3, 0.6), { state: 'TASK_KILLING', cpu: 0 }] },
    desired: 3,
    action: 'none',
    rules: ['tolerance'],
  },
  {
    name: 'fewer counted tasks than instances never turn overload into a scale-down',
    given: { instances: 4, tasks: [...busy(2, 0.8), { state: 'TASK_UNREACHABLE' }, { state: 'TASK_KILLING' }] },
    desired: 4,
    action: 'none',
    rules: ['missing-metrics', 'unreachable-tasks', 'direction-flip'],
    reason: ['on 2/4 tasks (1 unreachable, 1 instance not in Marathon\'s task list) → ratio 1.33; recomputed with missing at 0% → ratio 0.67'],
  },
  // Memory: only launching tasks are set aside (HPA groupPods: unready and young pods are set aside for CPU only).
  {
    name: 'memory at 211% of target scales up, counting the unhealthy task\'s memory',
    given: {
      instances: 3,
      hasHealthChecks: true,
      tasks: [{ memory: 1.1 }, { memory: 1.1 }, { memory: 0.965, healthy: false }],
      policy: { targetCpu: undefined, targetMemory: 0.5 },
    },
    desired: 7,
    action: 'scale-up',
    recommendation: 7,
    rules: [],
    reason: ['memory 106% of target 50% on 3/3 tasks → ratio 2.11 → 7 instances', '3 → 7 instances'],
  },
  {
    name: 'memory scale-in counts young and unhealthy tasks that use a lot of memory',
    given: {
      instances: 4,
      hasHealthChecks: true,
      tasks: [{ memory: 0.1 }, { memory: 0.1 }, { memory: 0.9, ageSeconds: 10 }, { memory: 0.9, healthy: false }],
      policy: { targetCpu: undefined, targetMemory: 0.5 },
    },
    desired: 4,
    action: 'none',
    rules: ['tolerance'],
    reason: ['memory 50% of target 50% on 4/4 tasks → ratio 1.00, within tolerance'],
  },
  {
    name: 'the same tasks are set aside for CPU and counted for memory in one decision',
    given: {
      instances: 4,
      tasks: [{ cpu: 0.1, memory: 0.1 }, { cpu: 0.1, memory: 0.1 }, { cpu: 0.9, memory: 0.9, ageSeconds: 10 }, { cpu: 0.9, memory: 0.9, ageSeconds: 20 }],
      policy: { targetMemory: 0.5 },
    },
    desired: 4,
    action: 'none',
    recommendation: 4,
    rules: ['warming-up', 'tolerance'],
    reason: ['CPU 10% of target 60% on 2/4 tasks (2 warming up) → ratio 0.17 → 1 instance', 'memory 50% of target 50% on 4/4 tasks'],
  },
  {
    name: 'launching tasks are set aside for memory too, and count as 0% on a memory scale-up',
    given: {
      instances: 3,
      tasks: [{ memory: 0.9 }, { memory: 0.9 }, { state: 'TASK_STAGING', ageSeconds: null }],
      policy: { targetCpu: undefined, targetMemory: 0.5 },
    },
    desired: 4,
    action: 'scale-up',
    rules: ['not-ready'],
    reason: ['on 2/3 tasks (1 still launching) → ratio 1.80; recomputed with unready at 0% → ratio 1.20 → 4 instances'],
  },
  // Tasks that exist but report nothing are missing data, never gone (HPA's missing-pod rule).
  {
    name: 'two unreachable tasks and two idle ones: the app holds at 4',
    given: { instances: 4, tasks: [...busy(2, 0.05), { state: 'TASK_UNREACHABLE', cpu: 0 }, { state: 'TASK_UNKNOWN' }] },
    desired: 4,
    action: 'none',
    recommendation: 4,
    rules: ['missing-metrics', 'unreachable-tasks'],
    reason: ['on 2/4 tasks (2 unreachable) → ratio 0.08; recomputed with missing at 100% of their cpus → ratio 0.88 → 4 instances', 'stays at 4 instances'],
  },
  {
    name: 'a lost task blocks a scale-down the arithmetic would allow',
    given: { instances: 6, tasks: [...busy(5, 0.05), { state: 'TASK_LOST' }] },
    desired: 6,
    action: 'none',
    recommendation: 6,
    rules: ['missing-metrics', 'unreachable-tasks'],
    reason: ['recomputed with missing at 100% of their cpus → ratio 0.35 → 3 instances', 'not scaling down: 1/6 instances lack usable data'],
  },
  {
    name: 'instances missing from the task list count as missing, not as gone',
    given: { instances: 4, tasks: busy(2, 0.05) },
    desired: 4,
    action: 'none',
    rules: ['missing-metrics'],
    reason: ['on 2/4 tasks (2 instances not in Marathon\'s task list)'],
  },
  {
    name: 'on a scale-up unreachable tasks count as 0%',
    given: { instances: 4, tasks: [...busy(3, 1.2), { state: 'TASK_UNREACHABLE' }] },
    desired: 6,
    action: 'scale-up',
    rules: ['missing-metrics', 'unreachable-tasks'],
    reason: ['ratio 2.00; recomputed with missing at 0% → ratio 1.50 → 6 instances'],
  },
  {
    name: 'failed and killed tasks are gone: the replacement instance is missing until it shows up',
    given: { instances: 2, tasks: [{ cpu: 0.6 }, { state: 'TASK_FAILED' }, { state: 'TASK_KILLED' }, { cpu: 0.6 }] },
    desired: 2,
    action: 'none',
    rules: ['tolerance'],
  },
  {
    name: 'a missing task with a target above 100% is assumed at the target on a scale-down',
    given: { instances: 4, tasks: [...busy(3, 0.3), { noData: true }], policy: { targetCpu: 1.5 } },
    desired: 4,
    action: 'none',
    reason: ['missing at 150% of their cpus → ratio 0.40'],
  },
  // Garbage is not data.
  {
    name: 'a negative memory sample is rejected: the hot app does not shrink',
    given: {
      instances: 4,
      tasks: [{ memory: 0.9 }, { memory: 0.9 }, { memory: 0.9 }, { memory: -9 }],
      policy: { targetCpu: undefined, targetMemory: 0.5 },
    },
    desired: 6,
    action: 'scale-up',
    rules: ['missing-metrics', 'invalid-samples'],
    reason: [
      'memory 90% of target 50% on 3/4 tasks (1 with a rejected sample) → ratio 1.80; recomputed with missing at 0% → ratio 1.35 → 6 instances',
      'rejected as garbage (treated as missing data): memory -4831838208 of shop_web.task-4 (negative)',
    ],
  },
  {
    name: 'a negative CPU sample is rejected and blocks a scale-down',
    given: { instances: 4, tasks: [...busy(3, 0.05), { cpu: -1.8 }] },
    desired: 4,
    action: 'none',
    rules: ['missing-metrics', 'invalid-samples'],
    reason: ['CPU -0.9 of shop_web.task-4 (negative)', 'not scaling down: 1/4 instances lack usable data'],
  },
  {
    name: 'a non-finite sample is rejected',
    given: { instances: 2, tasks: [{ cpu: 0.3 }, { cpu: Infinity }] },
    desired: 2,
    action: 'none',
    rules: ['missing-metrics', 'invalid-samples', 'tolerance'],
    reason: ['CPU Infinity of shop_web.task-2 (not a finite number)'],
  },
  // Several metrics: the max over metrics.
  {
    name: 'the busiest metric wins',
    given: {
      instances: 2,
      tasks: [{ cpu: 0.3, memory: 0.9 }, { cpu: 0.3, memory: 0.9 }],
      policy: { targetMemory: 0.6 },
    },
    desired: 3,
    action: 'scale-up',
    reason: ['CPU 30% of target 60% on 2/2 tasks → ratio 0.50 → 1 instance', 'memory 90% of target 60% on 2/2 tasks → ratio 1.50 → 3 instances'],
  },
  {
    name: 'one metric within tolerance keeps the other from scaling down',
    given: {
      instances: 2,
      tasks: [{ cpu: 0.1, memory: 0.62 }, { cpu: 0.1, memory: 0.58 }],
      policy: { targetMemory: 0.6 },
    },
    desired: 2,
    action: 'none',
    rules: ['tolerance'],
  },
  {
    name: 'memory only',
    given: { instances: 2, tasks: [{ memory: 0.1 }, { memory: 0.1 }], policy: { targetCpu: undefined, targetMemory: 0.5 } },
    desired: 1,
    action: 'scale-down',
  },
  {
    name: 'a metric without data blocks a scale-down the other metric asks for',
    given: {
      instances: 3,
      tasks: [{ cpu: 0.05 }, { cpu: 0.05 }, { cpu: 0.05 }],
      policy: { targetMemory: 0.6 },
    },
    desired: 3,
    action: 'none',
    rules: ['missing-metrics'],
  },
  // Rules that bypass the formula.
  {
    name: 'skips an app with a deployment in progress',
    given: { instances: 3, tasks: busy(3, 0.92), deploymentInProgress: true },
    desired: 3,
    action: 'skip',
    recommendation: 3,
    rules: ['deployment-in-progress'],
    reason: ['A deployment is in progress'],
  },
  {
    name: 'leaves a paused app alone (0 instances, min > 0)',
    given: { instances: 0, tasks: [], scheduleFloor: 5 },
    desired: 0,
    action: 'skip',
    rules: ['paused'],
    reason: ['treated as paused'],
  },
  {
    name: 'holds when metrics are unavailable, even below min',
    given: { instances: 1, tasks: busy(1, 0.05), metricsAvailable: false, consecutiveMetricFailures: 3, policy: { minInstances: 2 } },
    desired: 1,
    action: 'hold',
    rules: ['metrics-unavailable'],
    reason: ['Metrics could not be read (3 cycles in a row): holding 1 instance, no scaling this cycle.'],
  },
  // Schedule floors.
  {
    name: 'a schedule floor raises the count at once',
    given: { instances: 2, tasks: busy(2, 0.1), scheduleFloor: 8 },
    desired: 8,
    action: 'scale-up',
    recommendation: 1,
    rules: ['schedule-floor'],
    reason: ['raised to the schedule floor 8'],
  },
  {
    name: 'a schedule floor above max stops at max',
    given: { instances: 2, tasks: busy(2, 0.1), scheduleFloor: 30, policy: { maxInstances: 10 } },
    desired: 10,
    action: 'scale-up',
    rules: ['schedule-floor'],
    reason: ['raised to max 10 (the schedule floor 30 is above max)'],
  },
  {
    name: 'a schedule floor below min changes nothing',
    given: { instances: 3, tasks: busy(3, 0.6), scheduleFloor: 1, policy: { minInstances: 2 } },
    desired: 3,
    action: 'none',
    rules: ['tolerance'],
  },
  {
    name: 'the metric wins over a lower schedule floor',
    given: { instances: 3, tasks: busy(3, 0.92), scheduleFloor: 4 },
    desired: 5,
    action: 'scale-up',
    rules: [],
  },
  {
    name: 'a schedule floor starts an app that may be at zero',
    given: { instances: 0, tasks: [], scheduleFloor: 3, policy: { minInstances: 0 } },
    desired: 3,
    action: 'scale-up',
    rules: ['missing-metrics', 'schedule-floor'],
  },
  {
    name: 'a scale-down stops at the schedule floor',
    given: { instances: 6, tasks: busy(6, 0.1), scheduleFloor: 4 },
    desired: 4,
    action: 'scale-down',
    rules: ['schedule-floor'],
  },
  // No metric targets: only bounds and schedules.
  {
    name: 'without targets only bounds and floors apply',
    given: { instances: 2, tasks: busy(2, 0.9), scheduleFloor: 5, policy: { targetCpu: undefined } },
    desired: 5,
    action: 'scale-up',
    rules: ['no-targets', 'schedule-floor'],
  },
  // Dry run still decides, and says it did not act.
  {
    name: 'dry run decides and says it is not applied',
    given: { instances: 3, tasks: busy(3, 0.92), policy: { dryRun: true } },
    desired: 5,
    action: 'scale-up',
    rules: ['dry-run'],
    reason: ['dry run: not applied'],
  },
  // Combinations.
  {
    name: 'missing data and an old high recommendation both hold a scale-down',
    given: { instances: 5, tasks: [...busy(4, 0.05), { noData: true }], history: [[60, 5]] },
    desired: 5,
    action: 'none',
    rules: ['missing-metrics'],
  },
  {
    name: 'scale-up with a warming task, a missing task, the step limit and max',
    given: {
      instances: 4,
      tasks: [...busy(2, 3.0), { cpu: 0, ageSeconds: 5 }, { noData: true }],
      policy: { maxInstances: 7 },
    },
    desired: 7,
    action: 'scale-up',
    recommendation: 10,
    rules: ['missing-metrics', 'warming-up', 'max-bound'],
    reason: ['missing at 0%, unready at 0% → ratio 2.50 → 10 instances', 'capped by max 7'],
  },
];

describe('decide()', () => {
  it.each(cases)('$name', ({ given, desired, action, recommendation, rules, reason }) => {
    const decision = decide(scenario(given));
    expect({ desired: decision.desired, action: decision.action }).toEqual({ desired, action });
    if (recommendation !== undefined) expect(decision.recommendation).toBe(recommendation);
    if (rules !== undefined) expect(decision.rules).toEqual(rules);
    const sentence = explainDecision(decision);
    for (const part of reason ?? []) expect(sentence).toContain(part);
    expect(decision.current).toBe(given.instances);
    expect(decision.appId).toBe('/shop/web');
    expect(decision.at).toBe(NOW);
  });

  it('explains its inputs: per-task utilization, raw usage and status, targets, ratios and bounds', () => {
    const decision = decide(
      scenario({
        instances: 4,
        tasks: [{ cpu: 0.9, memory: 0.5 }, { cpu: 0.3, memory: 0.7 }, { noData: true }, { cpu: 1, ageSeconds: 10 }],
        policy: { targetMemory: 0.8, minInstances: 2, maxInstances: 9 },
        scheduleFloor: 3,
      }),
    );
    const sampled = NOW - 5_000;
    expect(decision.inputs).toEqual({
      targets: { cpu: 0.6, memory: 0.8 },
      ratios: { cpu: 1, memory: expect.closeTo(0.75, 9) },
      bounds: { min: 2, max: 9, scheduleFloor: 3, predictedFloor: null },
      tasks: [
        {
          taskId: 'shop_web.task-1',
          status: 'used',
          cpu: 'used',
          memory: 'used',
          cpuUtilization: 0.9,
          memoryUtilization: expect.closeTo(0.5, 9),
          cpuCores: 0.45,
          memoryBytes: 256 * MIB,
          lastSampleAt: sampled,
        },
        {
          taskId: 'shop_web.task-2',
          status: 'used',
          cpu: 'used',
          memory: 'used',
          cpuUtilization: 0.3,
          memoryUtilization: expect.closeTo(0.7, 9),
          cpuCores: 0.15,
          memoryBytes: expect.closeTo(0.7 * 512 * MIB, 0),
          lastSampleAt: sampled,
        },
        { taskId: 'shop_web.task-3', status: 'missing', cpu: 'no-data', memory: 'no-data' },
        // Warming up: set aside for CPU; for memory it is missing (no memory sample), as HPA's groupPods has it.
        { taskId: 'shop_web.task-4', status: 'missing', cpu: 'warming-up', memory: 'no-data', cpuUtilization: 1, cpuCores: 0.5, lastSampleAt: sampled },
      ],
    });
    expect(decision.dryRun).toBe(false);
  });

  it('explains itself in one sentence: each metric, every adjustment, the verdict', () => {
    const scaled = decide(scenario({ instances: 3, tasks: busy(3, 0.92), policy: { maxInstances: 4 } }));
    expect(explainDecision(scaled)).toBe(
      'CPU 92% of target 60% on 3/3 tasks → ratio 1.53 → 5 instances; capped by max 4; 3 → 4 instances.',
    );
    const held = decide(scenario({ instances: 4, tasks: [...busy(3, 0.3), { noData: true }], history: [[100, 4]] }));
    expect(explainDecision(held)).toBe(
      'CPU 30% of target 60% on 3/4 tasks (1 without fresh data) → ratio 0.50; recomputed with missing at 100% of their cpus → ratio 0.79 → 4 instances; ' +
        'stays at 4 instances.',
    );
    const skipped = decide(scenario({ instances: 2, tasks: busy(2, 0.9), deploymentInProgress: true }));
    expect(explainDecision(skipped)).toBe('A deployment is in progress: left at 2 instances until it finishes.');
  });

  it('is pure: the same input gives the same decision and the input is not changed', () => {
    const input = scenario({ instances: 4, tasks: busy(4, 0.15), history: [[100, 3]] });
    const copy = structuredClone(input);
    expect(decide(input)).toEqual(decide(input));
    expect(input).toEqual(copy);
  });

  it.each(['__proto__', 'constructor', 'toString'])('treats the task id %j as data, not as an object property', (id) => {
    const input = scenario({ instances: 2, tasks: [{ cpu: 1.2 }, { cpu: 1.2 }] });
    const [first, second] = input.app.tasks as [TaskView, TaskView];
    const usage = input.usage[first.id] as TaskUsage;
    input.app.tasks = [{ ...first, id }, second];
    input.usage = Object.defineProperty({ [second.id]: usage }, id, { value: usage, enumerable: true });
    expect(decide(input)).toMatchObject({ desired: 4, action: 'scale-up' });
    // The same id without data is missing, whatever Object.prototype holds under that name.
    input.usage = {};
    input.app.tasks = [{ ...first, id }, { ...second, id: 'other' }];
    expect(decide(input).inputs.tasks.map((task) => task.status)).toEqual(['missing', 'missing']);
  });
});
