// The backtest's pure parts: the accounting of a replay against the recorded load (tables), and the replay of the
// daemon's own cycle on a simulated clock and a simulated Marathon.
import { describe, expect, test } from 'vitest';
import { account, type AccountingInput } from '../autoscaler/backtest/accounting.js';
import type { RecordedBucket } from '../autoscaler/backtest/recording.js';
import { replay, type ReplayInput } from '../autoscaler/backtest/replay.js';
import { DEFAULT_HISTORY_CACHE } from '../autoscaler/cycle/run-cycle.js';
import type { Registration } from '../autoscaler/registry/registration.js';

const MINUTE = 60_000;
const MIB = 1024 * 1024;
const T0 = Date.parse('2026-11-23T00:00:00Z');

/** One bucket a minute from T0: `cores[i]` total cores (undefined: no data), `tasks[i]` recorded tasks. */
function buckets(cores: (number | undefined)[], tasks: number | number[] = 2): RecordedBucket[] {
  const out: RecordedBucket[] = [];
  cores.forEach((cpu, index) => {
    if (cpu === undefined) return;
    out.push({ at: T0 + index * MINUTE, cpuCores: cpu, memoryBytes: 100 * MIB, instances: Array.isArray(tasks) ? (tasks[index] as number) : tasks });
  });
  return out;
}

function accounting(cores: (number | undefined)[], instances: number[], running = instances, overrides: Partial<AccountingInput> = {}) {
  return account({
    policy: { minInstances: 2, targetCpu: 0.5, tolerance: 0.1 },
    resources: { cpus: 1, memMiB: 256 },
    recording: { bucketMs: MINUTE, buckets: buckets(cores) },
    from: T0,
    stepMs: MINUTE,
    instances,
    running,
    backtestActions: { up: 0, down: 0 },
    ...overrides,
  });
}

describe('accounting: the backtest and the recorded task count against the load at the target', () => {
  test.each([
    // name, total cores per minute, backtest instances per minute, under, over, above (times, minutes, longest)
    ['load exactly at the target: nothing short, nothing spare', [1, 1, 1], [2, 2, 2], 0, 0, [0, 0, 0]],
    ['load within the tolerance above the target: neither short nor above', [1.1, 1.1], [2, 2], 0, 0, [0, 0, 0]],
    ['just beyond the tolerance: short by one', [1.2, 1.2], [2, 2], 2, 0, [1, 2, 2]],
    ['2 cores need 4 at 0.5: 2 short for 3 minutes', [2, 2, 2], [2, 2, 2], 6, 0, [1, 3, 3]],
    ['quiet load: the minimum is needed, a third instance is spare', [0.2, 0.2], [3, 3], 0, 2, [0, 0, 0]],
    ['a peak scaled into after a minute', [2, 2, 2, 2], [2, 4, 4, 4], 2, 0, [1, 1, 1]],
    ['two peaks are two times above', [2, 0.5, 2, 2], [2, 2, 2, 2], 6, 0, [2, 3, 2]],
    ['more than max asks: still short (the max is too low)', [5, 5], [4, 4], 12, 0, [1, 2, 2]],
  ])('%s', (_name, cores, instances, under, over, [times, minutes, longest]) => {
    const { backtest } = accounting(cores, instances);
    expect(backtest.underProvisionedTaskMinutes).toBe(under);
    expect(backtest.overProvisionedTaskMinutes).toBe(over);
    expect(backtest.aboveTarget).toEqual({ times, minutes, longestMinutes: longest });
  });

  test('tasks still starting serve nothing but cost: short by the running ones, spare by the target count', () => {
    const { backtest } = accounting([2, 2], [6, 6], [2, 4]);
    expect(backtest.underProvisionedTaskMinutes).toBe(2 + 0);
    expect(backtest.overProvisionedTaskMinutes).toBe(2 + 2);
    expect(backtest.instances).toEqual({ mean: 6, min: 6, max: 6 });
  });

  test('a minute without data counts on neither side and ends a run above the target', () => {
    const result = accounting([2, undefined, 2], [2, 2, 2]);
    expect(result.minutesWithoutData).toBe(1);
    expect(result.backtest.minutesCounted).toBe(2);
    expect(result.backtest.aboveTarget).toEqual({ times: 2, minutes: 2, longestMinutes: 1 });
    expect(result.samples.map((s) => s.needed)).toEqual([4, undefined, 4]);
  });

  test('the actual side is the recorded task count, its changes counted as scale actions', () => {
    const result = account({
      policy: { minInstances: 2, targetCpu: 0.5, tolerance: 0.1 },
      resources: { cpus: 1, memMiB: 256 },
      recording: { bucketMs: MINUTE, buckets: buckets([2, 2, 2, 2], [2, 3, 4, 4]) },
      from: T0,
      stepMs: 15_000,
      instances: new Array(16).fill(4),
      running: new Array(16).fill(4),
      backtestActions: { up: 0, down: 0 },
    });
    expect(result.actual.underProvisionedTaskMinutes).toBe(2 + 1);
    expect(result.actual.scaleActions).toEqual({ up: 2, down: 0 });
    expect(result.actualChanges.map((c) => c.instances)).toEqual([2, 3, 4]);
    // 15 s steps: four steps a minute, one chart sample a minute.
    expect(result.samples).toHaveLength(4);
    expect(result.backtest.minutesCounted).toBe(4);
  });

  test('a memory target is a load too: the highest metric decides', () => {
    const result = account({
      policy: { minInstances: 1, targetCpu: 0.5, targetMemory: 0.5, tolerance: 0 },
      resources: { cpus: 1, memMiB: 256 },
      // 0.2 cores need 1; 640 MiB at half of 256 MiB need 5.
      recording: { bucketMs: MINUTE, buckets: [{ at: T0, cpuCores: 0.2, memoryBytes: 640 * MIB }] },
      from: T0,
      stepMs: MINUTE,
      instances: [3],
      running: [3],
      backtestActions: { up: 0, down: 0 },
    });
    expect(result.backtest.underProvisionedTaskMinutes).toBe(2);
    expect(result.samples[0]?.needed).toBe(5);
  });
});

function replayInput(cores: (number | undefined)[], registration: Partial<Registration> = {}, overrides: Partial<ReplayInput> = {}): ReplayInput {
  return {
    definition: { id: '/shop/web', instances: 2, cpus: 1, mem: 256, healthChecks: [{ protocol: 'HTTP', path: '/health' }] },
    registration: { appId: '/shop/web', minInstances: 2, maxInstances: 10, targetCpu: 0.5, dryRun: false, schedules: [], ...registration },
    recording: { bucketMs: MINUTE, buckets: buckets(cores) },
    from: T0,
    to: T0 + cores.length * MINUTE,
    stepMs: 15_000,
    startupMs: 60_000,
    initialInstances: 2,
    settings: {
      usageQuery: { taskIdTag: 'MESOS_TASK_ID', windowSeconds: 60 },
      freshnessSeconds: 180,
      defaults: { tolerance: 0.1, scaleDownStabilizationSeconds: 120, warmupSeconds: 0 },
    },
    historyCache: DEFAULT_HISTORY_CACHE,
    ...overrides,
  };
}

describe('replay: the daemon\'s cycle on a simulated clock', () => {
  test('a load step is answered once its first minute has ended, the new tasks run after the start-up, and it scales back after the stabilization window', async () => {
    // 10 quiet minutes, 10 at 3 cores (6 instances at 0.5), 10 quiet.
    const cores = [...new Array(10).fill(0.4), ...new Array(10).fill(3), ...new Array(10).fill(0.4)];
    const result = await replay(replayInput(cores, {}, { settings: { ...replayInput([]).settings, defaults: { tolerance: 0.1, scaleDownStabilizationSeconds: 120, warmupSeconds: 0, scaleUpMaxStep: 10 } } }));
    const [up, down] = result.actions;
    // Never before the recorded minute 10 has ended: the replay does not read ahead.
    expect(up?.at).toBe(T0 + 11 * MINUTE);
    expect(up).toMatchObject({ from: 2, to: 6 });
    expect(up?.reason).toMatch(/cpu/i);
    const upStep = (T0 + 11 * MINUTE - T0) / 15_000;
    expect(result.running[upStep]).toBe(2);
    expect(result.running[upStep + 4]).toBe(6);
    // While the new tasks start, Marathon has a deployment: the cycle leaves the app alone.
    expect(result.skippedForDeployment).toBe(3);
    expect(down).toMatchObject({ from: 6, to: 2 });
    // The last high recommendation was at 00:20:45 (minute 19 still in the window); 120 s later it leaves the window.
    expect(down!.at).toBe(T0 + 20 * MINUTE + 45_000 + 120_000);
    expect(result.instances[result.steps - 1]).toBe(2);
  });

  test('HPA\'s scale-up limit applies: at most double (or 4 more) per 15 s period', async () => {
    const cores = [...new Array(2).fill(0.4), ...new Array(8).fill(5)];
    const result = await replay(replayInput(cores, { maxInstances: 20 }, { startupMs: 15_000 }));
    const targets = result.actions.map((action) => action.to);
    expect(targets[0]).toBe(6);
    expect(Math.max(...targets)).toBe(10);
  });

  test('a schedule window raises the floor at its cron time, whatever the load', async () => {
    const cores = new Array(20).fill(0.4);
    const result = await replay(replayInput(cores, { schedules: [{ cron: '5 0 * * *', durationMinutes: 10, minInstances: 5 }] }));
    expect(result.actions[0]).toMatchObject({ at: T0 + 5 * MINUTE, from: 2, to: 5, rules: expect.arrayContaining(['schedule-floor']) });
  });

  test('no recorded minute in the usage window: the cycle holds, the count stays', async () => {
    const result = await replay(replayInput([0.4, undefined, undefined, undefined, 3]));
    expect(result.heldWithoutData).toBeGreaterThan(0);
    expect(result.actions).toHaveLength(0);
  });

  test('a scale-down kills the youngest tasks first (Marathon\'s default), the oldest with killSelection OldestFirst', async () => {
    const cores = [...new Array(2).fill(3), ...new Array(8).fill(0.4)];
    for (const killSelection of [undefined, 'OldestFirst']) {
      const input = replayInput(cores, { scaleDownStabilizationSeconds: 0 }, { initialInstances: 2 });
      if (killSelection) input.definition = { ...input.definition, killSelection };
      const result = await replay(input);
      expect(result.actions.map((a) => [a.from, a.to])).toEqual([
        [2, 6],
        [6, 2],
      ]);
      // Youngest first keeps the two tasks that ran from the start (running at once); oldest first keeps young ones.
      const afterDown = Math.ceil((result.actions[1]!.at - T0) / 15_000);
      expect(result.running[afterDown]).toBe(2);
    }
  });
});
