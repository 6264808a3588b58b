import { describe, expect, it } from 'vitest';
import { instancesToDeploy } from '../src/autoscale/labels.js';
import { assessRollout, isCurrentTask } from '../src/deploy/rollout-state.js';
import { stabilityOf } from '../src/deploy/watch.js';
import { appHealthOf } from '../src/marathon/app-health.js';
import { isAgentProblem, isOwnFailure } from '../src/marathon/task-states.js';
import type { AppInfo } from '../src/marathon/types.js';
import { exitCodeFor, OUTCOMES } from '../src/outcome/outcomes.js';
import { decideDeploy, definitionFor } from '../src/rollout/plan-deploy.js';
import { joinHistory } from '../src/status/history.js';
import { pickRollbackTarget } from '../src/status/rollback-target.js';

const V1 = '2026-12-01T10:00:00.000Z';
const V2 = '2026-12-01T11:00:00.000Z';
const V3 = '2026-12-01T12:00:00.000Z';

describe('isCurrentTask: at or after the last config change (scales give the app new versions, not its tasks)', () => {
  const scaled = { version: V2, versionInfo: { lastConfigChangeAt: V1, lastScalingAt: V2 } };
  it.each([
    ['a task of the config, after a scale', scaled, V1, undefined, true],
    ['a task started by the scale', scaled, V2, undefined, true],
    ['a task of an older config', scaled, '2026-12-01T09:00:00.000Z', undefined, false],
    ['after a restart, a task of the config but before the restart', { version: V3, versionInfo: { lastConfigChangeAt: V1 } }, V1, V3, false],
    ['after a restart, a task of the restart', { version: V3, versionInfo: { lastConfigChangeAt: V1 } }, V3, V3, true],
    ['timestamps compared as instants, not text', { version: '2026-12-01T10:00:00Z' }, '2026-12-01T10:00:00.000Z', undefined, true],
    ['a task without a version', scaled, undefined, undefined, false],
  ])('%s', (_, app, taskVersion, restart, expected) => {
    expect(isCurrentTask({ version: taskVersion }, app, restart)).toBe(expected);
  });
});

describe('assessRollout of a scale-only change', () => {
  const app = (tasks: string[]): AppInfo => ({
    id: '/a',
    instances: tasks.length,
    version: V2,
    versionInfo: { lastConfigChangeAt: V1, lastScalingAt: V2 },
    tasks: tasks.map((version, i) => ({ id: `t${i}`, appId: '/a', version, state: 'TASK_RUNNING' })),
    tasksRunning: tasks.length,
    tasksStaged: 0,
    tasksHealthy: tasks.length,
    healthChecks: [{}],
    deployments: [],
  });
  const observe = (a: AppInfo) =>
    assessRollout({ deploymentId: 'd', targetVersions: [V2], app: a, deployments: [], failedTaskIds: new Set(), failureThreshold: 1 });
  it('completes with the old tasks kept and the new one started by the scale', () => expect(observe(app([V1, V1, V2])).state).toBe('succeeded'));
});

describe('task endings: whose fault', () => {
  it.each([
    ['TASK_FAILED', undefined, true, false],
    ['TASK_ERROR', undefined, true, false],
    ['TASK_KILLED', 'Task was killed since health check failed', true, false],
    ['TASK_KILLED', 'Killed by a deployment', false, false],
    ['TASK_LOST', 'agent lost', false, true],
    ['TASK_GONE', undefined, false, true],
    ['TASK_DROPPED', undefined, false, true],
    ['TASK_UNKNOWN', undefined, false, true],
    ['TASK_UNREACHABLE', undefined, false, true],
  ])('%s (%s): own failure %s, agent problem %s', (state, message, own, agent) => {
    expect(isOwnFailure(state, message)).toBe(own);
    expect(isAgentProblem(state)).toBe(agent);
  });

  it('a TASK_LOST of the new version does not fail the deploy; a health-check kill does', () => {
    const base: AppInfo = { id: '/a', instances: 1, version: V2, tasks: [], tasksRunning: 0, deployments: [{ id: 'd' }] };
    const observe = (state: string, message?: string) =>
      assessRollout({
        deploymentId: 'd',
        targetVersions: [V2],
        app: { ...base, lastTaskFailure: { taskId: 'x', state, message, version: V2, timestamp: V2, host: 'agent-7' } },
        deployments: [{ id: 'd', version: V2, affectedApps: ['/a'], currentActions: [], currentStep: 1, totalSteps: 1 }],
        failedTaskIds: new Set(),
        failureThreshold: 1,
      });
    const lost = observe('TASK_LOST');
    expect(lost.state).toBe('in-progress');
    expect(lost.progress.agentProblem).toBe('TASK_LOST on agent-7');
    expect(observe('TASK_KILLED', 'Task was killed since health check failed').state).toBe('failed');
  });
});

describe('instancesToDeploy: a deploy never fights the autoscaler', () => {
  const labelled = (instances: number, labels: Record<string, string> = {}) => ({ id: '/a', instances, labels });
  it.each([
    ['not autoscaled: the file wins', labelled(4), labelled(1), 1, false],
    ['autoscaled live: the live count stays', labelled(4, { AUTOSCALE_MIN: '1', AUTOSCALE_MAX: '8' }), labelled(1, { AUTOSCALE_MIN: '1', AUTOSCALE_MAX: '8' }), 4, false],
    ['new max below the live count: clamped down', labelled(6, { AUTOSCALE_MAX: '8' }), labelled(1, { AUTOSCALE_MIN: '2', AUTOSCALE_MAX: '5' }), 5, true],
    ['new min above the live count: clamped up', labelled(1, { AUTOSCALE_MIN: '1' }), labelled(1, { AUTOSCALE_MIN: '3', AUTOSCALE_MAX: '5' }), 3, true],
    ['labels added by this deploy: the live count is kept', labelled(3), labelled(1, { AUTOSCALE_TARGET_CPU: '0.6' }), 3, false],
  ])('%s', (_, live, rendered, instances, clamped) => {
    const result = instancesToDeploy(live, rendered);
    expect(result.instances).toBe(instances);
    expect(result.kept?.clamped ?? false).toBe(clamped);
  });
  it('a new app takes the file\'s count', () => expect(instancesToDeploy(null, labelled(2, { AUTOSCALE_MAX: '4' })).instances).toBe(2));

  it('so the redeploy of the same version after the autoscaler scaled the app sends nothing', () => {
    const rendered = { id: '/a', instances: 1, labels: { AUTOSCALE_MAX: '8' }, cpus: 0.5 };
    const live: AppInfo = { ...rendered, instances: 4, version: V2, tasksRunning: 4, deployments: [] };
    const { definition, note } = definitionFor(live, rendered);
    expect(note).toMatch(/instances: kept at 4 \(autoscaled/);
    expect(decideDeploy(live, definition, '1.0.0', false)).toMatchObject({ kind: 'none', outcome: 'unchanged' });
  });
});

describe('stabilityOf: the watch period after a deployment', () => {
  const app = (over: Partial<AppInfo>): AppInfo => ({ id: '/a', instances: 2, tasksRunning: 2, tasksHealthy: 2, healthChecks: [{}], deployments: [], ...over });
  it.each([
    ['healthy and running', app({}), undefined],
    ['a task of the new version crashed', app({ lastTaskFailure: { taskId: 'n', state: 'TASK_FAILED', version: V2, timestamp: V3 } }), /failed after the deployment ended \(TASK_FAILED/],
    ['an agent lost: not the version', app({ lastTaskFailure: { taskId: 'n', state: 'TASK_LOST', version: V2, timestamp: V3 } }), undefined],
    ['a task turned unhealthy', app({ tasksUnhealthy: 1, tasksHealthy: 1 }), /turned unhealthy/],
    ['one task fewer running', app({ tasksRunning: 1, tasksHealthy: 1 }), /only 1\/2 tasks running/],
    ['an old failure seen before', app({ lastTaskFailure: { taskId: 'old', state: 'TASK_FAILED', version: V2, timestamp: V1 } }), undefined],
  ])('%s', (_, observed, expected) => {
    const verdict = stabilityOf(observed, new Set([V2]), { taskId: 'old', timestamp: V1 });
    if (expected === undefined) expect(verdict).toBeUndefined();
    else expect(verdict).toMatch(expected);
  });
});

describe('one table of outcomes', () => {
  it('gives each outcome its documented exit code', () => {
    expect(Object.fromEntries(Object.keys(OUTCOMES).map((o) => [o, exitCodeFor(o as keyof typeof OUTCOMES)]))).toMatchObject({
      succeeded: 0,
      unchanged: 0,
      rejected: 4,
      'failed-rolled-back': 5,
      'timeout-rolled-back': 6,
      'rollback-failed': 7,
      unreachable: 8,
      superseded: 9,
      'marathon-error': 15,
      'too-many-deployments': 16,
      interrupted: 130,
    });
  });
});

describe('a version Marathon restored by cancelling a deployment (older timestamp than what it undid)', () => {
  // 1.0.0 at V1 ran; 1.1.0 at V3 crashed; the cancel restored 1.0.0 with Marathon's start time, V0, older than both.
  const V0 = '2026-11-30T08:00:00.000Z';
  const definition = (tag: string) => ({ id: '/a', container: { docker: { image: `r/a:${tag}` } }, labels: { BATON_VERSION: tag } });
  const versions = [
    { marathonVersion: V3, definition: definition('1.1.0') },
    { marathonVersion: V2, definition: definition('1.0.5') },
    { marathonVersion: V1, definition: definition('1.0.0') },
    { marathonVersion: V0, definition: definition('1.0.0') },
  ];
  const audit = [
    { time: '2026-12-01T12:05:00.000Z', user: 'bob', command: 'deploy', app: 'a', env: 'qa', dc: 'AA', toVersion: '1.1.0', fromVersion: '1.0.0', marathonVersion: V3, outcome: 'failed-rolled-back' as const, exitCode: 5, rollback: { deploymentId: 'r', marathonVersion: V0, outcome: 'succeeded' } },
  ];
  const entries = joinHistory({ app: 'a', env: 'qa', dc: 'AA', currentVersion: V0, versions, olderExist: false, audit });
  it('is the current one, credited to the automatic rollback; the versions before the revert are not abandoned', () => {
    const restored = entries.find((e) => e.marathonVersion === V0);
    expect(restored).toMatchObject({ current: true, audit: { matchedBy: 'reverted-to' } });
    expect(entries.filter((e) => e.abandoned).map((e) => e.marathonVersion)).toEqual([]);
  });
  it('rollback can still go back before it', () => {
    const pick = pickRollbackTarget(entries, { marathonVersion: V0, version: '1.0.0' }, { kind: 'previous' }, new Map());
    expect(pick).toMatchObject({ kind: 'target', entry: { marathonVersion: V2, version: '1.0.5' } });
  });
});

describe('app health: one rule for status, deploy and rollback', () => {
  const counts = { healthy: 2, running: 2, staged: 0, unhealthy: 0, target: 2, hasHealthChecks: true };
  it.each([
    ['all running and healthy', counts, false, 'healthy'],
    ['a deployment runs', counts, true, 'deploying'],
    ['one more running than asked for (a kill pending)', { ...counts, running: 3, healthy: 2, unhealthy: 1 }, false, 'degraded'],
    ['healthy enough but one unhealthy', { ...counts, running: 3, healthy: 2, unhealthy: 1, target: 2 }, false, 'degraded'],
    ['one still staging', { ...counts, staged: 1 }, false, 'degraded'],
    ['fewer healthy than asked for', { ...counts, healthy: 1 }, false, 'degraded'],
    ['no health checks: running is enough', { ...counts, healthy: 0, hasHealthChecks: false }, false, 'healthy'],
    ['scaled to zero, nothing left', { ...counts, healthy: 0, running: 0, target: 0 }, false, 'suspended'],
    ['scaled to zero, a task still running', { ...counts, healthy: 1, running: 1, target: 0 }, false, 'degraded'],
  ] as const)('%s → %s', (_, c, deploying, expected) => {
    expect(appHealthOf(c, deploying)).toBe(expected);
  });
});

describe('a version stored by a PUT Marathon refused with 409 (it stores the version before it finds the lock)', () => {
  // 1.0.0 at V1 ran; 1.1.0 was refused at V2 (stored, never ran); 1.2.0 at V3 runs now.
  const definition = (tag: string) => ({ id: '/a', container: { docker: { image: `r/a:${tag}` } }, labels: { BATON_VERSION: tag } });
  const versions = [
    { marathonVersion: V1, definition: definition('1.0.0') },
    { marathonVersion: V3, definition: definition('1.2.0') },
    { marathonVersion: V2, definition: definition('1.1.0') },
  ];
  const record = (over: Record<string, unknown>) => ({ user: 'ci', command: 'deploy', app: 'a', env: 'qa', dc: 'AA', ...over }) as never;
  const refused = { time: '2026-12-01T11:00:01.000Z', toVersion: '1.1.0', outcome: 'rejected', exitCode: 4, marathonStatus: 409, durationMs: 2_000 };
  const deployed = record({ time: '2026-12-01T12:00:05.000Z', toVersion: '1.2.0', marathonVersion: V3, outcome: 'succeeded', exitCode: 0 });
  const audit = [record(refused), deployed];
  const entries = joinHistory({ app: 'a', env: 'qa', dc: 'AA', currentVersion: V3, versions, olderExist: false, audit });
  it('is marked as never ran, credited to the refused attempt', () => {
    expect(entries.find((e) => e.marathonVersion === V2)).toMatchObject({ neverRan: true, abandoned: false, audit: { outcome: 'rejected' } });
  });
  it('is never a rollback target: rollback goes to the version that ran before', () => {
    const pick = pickRollbackTarget(entries, { marathonVersion: V3, version: '1.2.0' }, { kind: 'previous' }, new Map());
    expect(pick).toMatchObject({ kind: 'target', entry: { marathonVersion: V1, version: '1.0.0' } });
  });
  it('a 422 refusal stores nothing: a version of that tag in its window is not marked', () => {
    const invalid = [record({ ...refused, marathonStatus: 422 }), deployed];
    const joined = joinHistory({ app: 'a', env: 'qa', dc: 'AA', currentVersion: V3, versions, olderExist: false, audit: invalid });
    expect(joined.find((e) => e.marathonVersion === V2)?.neverRan).toBeUndefined();
  });
});
