import { describe, expect, it } from 'vitest';
import { decide, explainDecision } from '../autoscaler/policy/decide.js';
import type { DecisionInput, PredictedFloor, ScalingPolicy } from '../autoscaler/policy/types.js';

const NOW = Date.parse('2026-11-30T08:50:00Z');
const WEEK_MS = 7 * 24 * 3600_000;

const POLICY: ScalingPolicy = {
  appId: '/shop/web',
  minInstances: 2,
  maxInstances: 20,
  targetCpu: 0.5,
  tolerance: 0.1,
  scaleDownStabilizationSeconds: 300,
  warmupSeconds: 0,
  dryRun: false,
  schedules: [],
  scaleUpMaxStep: 50,
  source: 'rest',
};

function forecast(floor: number): PredictedFloor {
  const forecastAt = NOW + 10 * 60_000;
  return {
    floor,
    forecastAt,
    quantile: 0.9,
    weeks: [1, 3].map((weeksAgo) => ({ weeksAgo, at: forecastAt - weeksAgo * WEEK_MS, cpuCores: floor * 0.5 })),
    ignoredWeeks: [2],
    expected: { cpuCores: floor * 0.5 },
  };
}

/** `instances` tasks of 1 cpu each using `cpu` cores. */
function input(instances: number, cpu: number, extra: Partial<DecisionInput> = {}): DecisionInput {
  const tasks = Array.from({ length: instances }, (_, n) => ({ id: `shop_web.t${n}`, state: 'TASK_RUNNING', healthy: null, startedAt: NOW - 600_000 }));
  return {
    now: NOW,
    policy: POLICY,
    app: { id: '/shop/web', instances, cpus: 1, mem: 256, hasHealthChecks: false, deploymentInProgress: false, tasks },
    usage: Object.fromEntries(tasks.map((t) => [t.id, { cpuCores: cpu, lastSampleAt: NOW - 1000 }])),
    freshnessSeconds: 60,
    recommendations: [],
    scheduleFloor: null,
    metricsAvailable: true,
    consecutiveMetricFailures: 0,
    ...extra,
  };
}

describe('decide() with a predicted floor', () => {
  it.each([
    { name: 'raises a quiet app to the floor before the peak', given: input(2, 0.1, { predictedFloor: forecast(10) }), desired: 10, rules: ['predicted-floor'] },
    // 6 tasks at 0.9 of target 0.5 → 11: reactive scaling acts above the floor.
    { name: 'reactive scaling acts above it', given: input(6, 0.9, { predictedFloor: forecast(8) }), desired: 11, rules: [] },
    {
      name: 'a floor that falls away waits out the stabilization window (the floor was a recommendation)',
      given: input(10, 0.1, { predictedFloor: null, recommendations: [{ at: NOW - 60_000, desired: 10 }] }),
      desired: 10,
      rules: ['stabilization-window'],
    },
    {
      name: '… and after the window the app shrinks',
      given: input(10, 0.1, { predictedFloor: null, recommendations: [{ at: NOW - 301_000, desired: 10 }] }),
      desired: 2,
      rules: [],
    },
    { name: 'schedule floor above the predicted floor: the schedule wins (max)', given: input(2, 0.1, { predictedFloor: forecast(6), scheduleFloor: 9 }), desired: 9, rules: ['predicted-floor', 'schedule-floor'] },
    { name: 'predicted floor above the schedule floor: the forecast wins (max)', given: input(2, 0.1, { predictedFloor: forecast(12), scheduleFloor: 9 }), desired: 12, rules: ['predicted-floor'] },
    { name: 'a floor above max is capped', given: input(2, 0.1, { predictedFloor: forecast(30) }), desired: 20, rules: ['predicted-floor', 'max-bound'] },
    {
      name: 'metrics unavailable: hold, the floor does not act on its own',
      given: input(2, 0.1, { predictedFloor: forecast(10), metricsAvailable: false }),
      desired: 2,
      rules: ['metrics-unavailable'],
    },
  ])('$name', ({ given, desired, rules }) => {
    const decision = decide(given);
    expect(decision.desired).toBe(desired);
    for (const rule of rules) expect(decision.rules).toContain(rule);
    if (!rules.includes('predicted-floor')) expect(decision.rules).not.toContain('predicted-floor');
  });

  it('says the floor came from the forecast and from which weeks', () => {
    const decision = decide(input(2, 0.1, { predictedFloor: forecast(10) }));
    expect(decision.inputs.bounds.predictedFloor).toBe(10);
    expect(decision.inputs.forecast?.weeks.map((w) => w.weeksAgo)).toEqual([1, 3]);
    expect(explainDecision(decision)).toBe(
      'CPU 10% of target 50% on 2/2 tasks → ratio 0.20 → 1 instance; raised from 1 to the predicted floor 10: CPU 5.00 cores ' +
        'expected at 2026-11-30 09:00 UTC (quantile 0.9 of the weeks of 2026-11-23, 2026-11-09; no data 2 weeks ago); 2 → 10 instances.',
    );
  });
});
