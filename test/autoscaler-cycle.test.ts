import { describe, expect, it } from 'vitest';
import { newCycleState, runCycle, type CycleDeps, type CycleSettings, type MarathonPort } from '../autoscaler/cycle/run-cycle.js';
import { decisionView } from '../autoscaler/decisions/view.js';
import { createJsonLogger } from '../autoscaler/telemetry/logger.js';
import { MarathonError } from '../src/marathon/errors.js';
import type { AppInfo } from '../src/marathon/types.js';

const NOW = Date.parse('2026-01-05T10:00:00Z');
const settings: CycleSettings = {
  dryRun: false,
  usageQuery: { taskIdTag: 'MESOS_TASK_ID', windowSeconds: 300 },
  freshnessSeconds: 60,
  defaults: { tolerance: 0.1, scaleDownStabilizationSeconds: 300, warmupSeconds: 0 },
};
const labelled = (id: string, labels: Record<string, string>): AppInfo => ({
  id,
  instances: 2,
  cpus: 1,
  mem: 128,
  labels,
  tasks: [
    { id: `${id.slice(1)}.1`, appId: id, state: 'TASK_RUNNING', startedAt: new Date(NOW - 600_000).toISOString() },
    { id: `${id.slice(1)}.2`, appId: id, state: 'TASK_RUNNING', startedAt: new Date(NOW - 600_000).toISOString() },
  ],
});
const busyUsage = (app: AppInfo) => Object.fromEntries((app.tasks ?? []).map((t) => [t.id, { cpuCores: 0.9, memoryBytes: 1, lastSampleAt: NOW - 5_000 }]));

/** Marathon as the cycle sees it: hands over `apps` one by one, then fails after `failAfter` of them if set. */
function marathonListing(apps: AppInfo[], failAfter?: number): MarathonPort & { scaled: Array<[string, number]> } {
  const scaled: Array<[string, number]> = [];
  return {
    scaled,
    async visitApps(_embed, visit) {
      for (const [index, app] of apps.entries()) {
        if (index === failAfter) throw new MarathonError('unreachable', 'cannot reach Marathon: connection reset mid-answer', { method: 'GET', url: '/v2/apps' });
        visit(structuredClone(app));
      }
      return apps.length;
    },
    async scaleApp(appId, instances) {
      scaled.push([appId, instances]);
      return { deploymentId: `d-${appId}`, version: 'v' };
    },
  };
}

function deps(marathon: MarathonPort, usage: Record<string, unknown>): CycleDeps & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    marathon,
    metrics: { fetchUsage: async () => usage as never },
    clock: { now: () => NOW },
    logger: createJsonLogger({ write: (line) => lines.push(line), clock: () => NOW }),
  };
}

describe('runCycle with a Marathon list read app by app', () => {
  const good = labelled('/shop/web', { AUTOSCALE_MIN: '1', AUTOSCALE_MAX: '10', AUTOSCALE_TARGET_CPU: '0.5' });
  const broken = labelled('/shop/bad', { AUTOSCALE_MIN: 'three', AUTOSCALE_MAX: '10', AUTOSCALE_TARGET_CPU: '0.5' });
  const unlabelled = labelled('/shop/plain', {});

  it('manages the labelled apps, reports invalid labels, and scales a busy app', async () => {
    const marathon = marathonListing([unlabelled, broken, good]);
    const state = newCycleState();
    const result = await runCycle(deps(marathon, busyUsage(good)), state, settings, []);
    expect(result.ok).toBe(true);
    expect(result.managed.map((m) => [m.appId, m.source, m.instances])).toEqual([['/shop/web', 'labels', 2]]);
    expect(result.labelIssues.map((issue) => issue.appId)).toEqual(['/shop/bad']);
    expect(marathon.scaled).toEqual([['/shop/web', 4]]);
    expect([...state.labels.keys()].sort()).toEqual(['/shop/bad', '/shop/web']);
  });

  it('a list that breaks halfway manages, scales and remembers nothing from it', async () => {
    const state = newCycleState();
    await runCycle(deps(marathonListing([good]), busyUsage(good)), state, settings, []);
    const labelsBefore = state.labels;
    const marathon = marathonListing([good, broken, unlabelled], 2);
    const world = deps(marathon, busyUsage(good));
    const result = await runCycle(world, state, settings, [{ appId: '/shop/plain', minInstances: 1, maxInstances: 5, targetCpu: 0.5, dryRun: false, schedules: [] }]);
    expect(result.ok).toBe(false);
    expect(result.errors).toEqual([{ source: 'marathon', message: 'cannot reach Marathon: connection reset mid-answer' }]);
    expect(result.managed).toEqual([]);
    expect(result.labelIssues).toEqual([]);
    expect(result.decisions).toEqual([]);
    expect(marathon.scaled).toEqual([]);
    expect(result.requests).toEqual({ marathon: 1, influxdb: 0 });
    expect(state.labels).toBe(labelsBefore);
    expect(world.lines.map((line) => JSON.parse(line).msg)).toEqual(['cycle held: cannot list Marathon apps, nothing is scaled this cycle']);
  });

  it('once apps are managed, the usage query runs alongside the list; a list that fails aborts it, unreported', async () => {
    const state = newCycleState();
    const calls: string[] = [];
    const signals: AbortSignal[] = [];
    const metrics = {
      fetchUsage: async (_options: unknown, signal?: AbortSignal) => {
        calls.push('query');
        if (signal) signals.push(signal);
        return busyUsage(good) as never;
      },
    };
    const listing = (failAfter?: number): MarathonPort => {
      const inner = marathonListing([good, unlabelled], failAfter);
      return {
        scaleApp: inner.scaleApp,
        async visitApps(embed, visit) {
          calls.push('list');
          await new Promise((resolve) => setTimeout(resolve, 5));
          calls.push('list done');
          return inner.visitApps(embed, visit);
        },
      };
    };
    // First cycle: nothing known yet, the query follows the list.
    await runCycle({ ...deps(listing(), {}), metrics }, state, settings, []);
    expect(calls).toEqual(['list', 'list done', 'query']);
    calls.length = 0;
    const second = await runCycle({ ...deps(listing(), {}), metrics }, state, settings, []);
    expect(calls).toEqual(['query', 'list', 'list done']);
    expect(second.requests.influxdb).toBe(1);
    expect(second.decisions.map((d) => d.appId)).toEqual(['/shop/web']);
    calls.length = 0;
    const broken = await runCycle({ ...deps(listing(1), {}), metrics }, state, settings, []);
    expect(calls).toEqual(['query', 'list', 'list done']);
    expect(signals.at(-1)?.aborted).toBe(true);
    expect(broken.requests).toEqual({ marathon: 1, influxdb: 0 });
    expect(broken.errors.map((e) => e.source)).toEqual(['marathon']);
  });

  it('/decisions shows every task\'s usage also for an app left alone, and utilization of the targeted metrics only', async () => {
    const deploying = { ...good, deployments: [{ id: 'd-1' }] } as AppInfo;
    const result = await runCycle(deps(marathonListing([deploying]), busyUsage(good)), newCycleState(), settings, []);
    const view = decisionView(result.decisions[0]!);
    expect(view).toMatchObject({ action: 'skip', rules: ['deployment-in-progress'], reason: 'A deployment is in progress: left at 2 instances until it finishes.' });
    expect(view.usage).toEqual([
      { taskId: 'shop/web.1', cpuCores: 0.9, memoryBytes: 1, lastSampleAt: NOW - 5_000 },
      { taskId: 'shop/web.2', cpuCores: 0.9, memoryBytes: 1, lastSampleAt: NOW - 5_000 },
    ]);
    // The app is scaled on CPU only: memory utilization is not one of its inputs (its raw bytes are in `usage`).
    expect(view.inputs.tasks).toEqual([
      { taskId: 'shop/web.1', status: 'used', cpuUtilization: 0.9 },
      { taskId: 'shop/web.2', status: 'used', cpuUtilization: 0.9 },
    ]);
  });
});

describe('runCycle rate-limits scale-ups per period, not per cycle', () => {
  it('at a 1 s interval a hot app grows by max(2x, +4) per 15 s, not every cycle', async () => {
    const app = labelled('/shop/hot', { AUTOSCALE_MIN: '1', AUTOSCALE_MAX: '100', AUTOSCALE_TARGET_CPU: '0.5' });
    let now = NOW;
    const withTasks = (instances: number): AppInfo => ({
      ...app,
      instances,
      tasks: Array.from({ length: instances }, (_, index) => ({
        id: `shop/hot.${index}`, appId: app.id, state: 'TASK_RUNNING', startedAt: new Date(NOW - 600_000).toISOString(),
      })),
    });
    let current = withTasks(2);
    const scaled: Array<[number, number]> = [];
    const marathon: MarathonPort = {
      async visitApps(_embed, visit) {
        visit(structuredClone(current));
        return 1;
      },
      async scaleApp(_appId, instances) {
        scaled.push([(now - NOW) / 1000, instances]);
        current = withTasks(instances);
        return { deploymentId: 'd', version: 'v' };
      },
    };
    const world: CycleDeps = {
      marathon,
      metrics: { fetchUsage: async () => Object.fromEntries((current.tasks ?? []).map((t) => [t.id, { cpuCores: 3, lastSampleAt: now - 1_000 }])) },
      clock: { now: () => now },
      logger: createJsonLogger({ write: () => undefined, clock: () => now }),
    };
    const state = newCycleState();
    for (let second = 0; second <= 31; second++) {
      now = NOW + second * 1000;
      await runCycle(world, state, settings, []);
    }
    // 2 → 6 (+4), then nothing until that scale-up is 15 s old, 6 → 12, again 15 s later 12 → 24.
    expect(scaled).toEqual([[0, 6], [15, 12], [30, 24]]);
  });
});
