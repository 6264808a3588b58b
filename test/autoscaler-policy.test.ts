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
    reason: ['→ 10 instances', 'limited to +4 per cycle (scale-up limit) → 6'],
  },
  {
    name: 'scale-up limited to doubling a larger app',
    given: { instances: 6, tasks: busy(6, 2.4), policy: { maxInstances: 50 } },
    desired: 12,
    action: 'scale-up',
    recommendation: 24,
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
    reason: ['on 3/4 tasks (1 without fresh data)', 'missing at 100% of target', 'not scaling down: 1/4 tasks lack fresh data'],
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
    reason: ['ratio 2.00; recomputed with missing at 0% of target → ratio 1.50 → 6 instances'],
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
    rules: ['direction-flip'],
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
    reason: ['missing at 0% of target, unready at 0% → ratio 2.50 → 10 instances', 'capped by max 7'],
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
      bounds: { min: 2, max: 9, scheduleFloor: 3 },
      tasks: [
        {
          taskId: 'shop_web.task-1',
          status: 'used',
          cpuUtilization: 0.9,
          memoryUtilization: expect.closeTo(0.5, 9),
          cpuCores: 0.45,
          memoryBytes: 256 * MIB,
          lastSampleAt: sampled,
        },
        {
          taskId: 'shop_web.task-2',
          status: 'used',
          cpuUtilization: 0.3,
          memoryUtilization: expect.closeTo(0.7, 9),
          cpuCores: 0.15,
          memoryBytes: expect.closeTo(0.7 * 512 * MIB, 0),
          lastSampleAt: sampled,
        },
        { taskId: 'shop_web.task-3', status: 'missing' },
        { taskId: 'shop_web.task-4', status: 'warming-up', cpuUtilization: 1, cpuCores: 0.5, lastSampleAt: sampled },
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
      'CPU 30% of target 60% on 3/4 tasks (1 without fresh data) → ratio 0.50; recomputed with missing at 100% of target → ratio 0.63 → 3 instances; ' +
        'not scaling down: 1/4 tasks lack fresh data; stays at 4 instances.',
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
