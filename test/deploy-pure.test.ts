import { describe, expect, it } from 'vitest';
import { renderDefinition, versionOf } from '../src/deploy/render.js';
import { diffDefinitions, formatDiff, MASK } from '../src/deploy/diff.js';
import { assessRollout, type RolloutObservation } from '../src/deploy/rollout-state.js';
import { defaultTimeoutSeconds } from '../src/deploy/timeout.js';
import { splitImage, withTag } from '../src/deploy/image.js';
import type { AppInfo, Deployment } from '../src/marathon/types.js';

const base = {
  id: '/shop/web',
  instances: 2,
  cpus: 0.5,
  mem: 256,
  container: { type: 'DOCKER', docker: { image: 'registry.example.com:5000/shop/web:latest' } },
  env: { LOG_LEVEL: 'info', DB_PASSWORD: 'hunter2' },
  labels: { team: 'shop' },
};

describe('image references', () => {
  it.each([
    ['registry.example.com:5000/shop/web:latest', '1.2.3', 'registry.example.com:5000/shop/web:1.2.3'],
    ['registry.example.com:5000/shop/web', '1.2.3', 'registry.example.com:5000/shop/web:1.2.3'],
    ['nginx', '1.25', 'nginx:1.25'],
    ['localhost:5000/a/b@sha256:abc', '2', 'localhost:5000/a/b:2'],
  ])('%s with tag %s is %s', (image, tag, expected) => {
    expect(withTag(image, tag)).toBe(expected);
  });

  it('splits a digest reference', () => {
    expect(splitImage('r:5000/a@sha256:ff')).toEqual({ name: 'r:5000/a', tag: undefined, digest: 'sha256:ff' });
  });
});

describe('renderDefinition', () => {
  it('sets the tag, forces the pull and labels the version without touching the input', () => {
    const rendered = renderDefinition(base, { version: '1.4.2' });
    expect(rendered.container).toEqual({
      type: 'DOCKER',
      docker: { image: 'registry.example.com:5000/shop/web:1.4.2', forcePullImage: true },
    });
    expect(rendered.labels).toEqual({ team: 'shop', BATON_VERSION: '1.4.2' });
    expect(base.container.docker.image).toBe('registry.example.com:5000/shop/web:latest');
    expect(versionOf(rendered)).toBe('1.4.2');
  });

  it('is deterministic: rendering twice gives equal definitions (a redeploy is a no-op)', () => {
    expect(renderDefinition(base, { version: '2' })).toEqual(renderDefinition(base, { version: '2' }));
  });

  it('pins a digest when given', () => {
    const rendered = renderDefinition(base, { version: '1.4.2', digest: 'sha256:abc' });
    expect((rendered.container as { docker: { image: string } }).docker.image).toBe('registry.example.com:5000/shop/web@sha256:abc');
  });

  it('refuses a definition without a Docker image', () => {
    expect(() => renderDefinition({ id: '/x', cmd: 'sleep 1' }, { version: '1' })).toThrow(/container.docker.image/);
  });
});

describe('diffDefinitions', () => {
  const desired = renderDefinition(base, { version: '1.4.2' });
  const live = {
    ...renderDefinition(base, { version: '1.4.1' }),
    version: '2026-01-01T00:00:00.000Z',
    tasks: [],
    tasksRunning: 2,
    backoffFactor: 1.15,
    requirePorts: false,
  };

  it('ignores read-only fields and Marathon defaults, shows the image and label change', () => {
    const diff = diffDefinitions(live, desired);
    expect(diff.map((d) => d.path).sort()).toEqual(['container.docker.image', 'labels.BATON_VERSION']);
  });

  it('is empty for the same version', () => {
    expect(diffDefinitions({ ...live, ...renderDefinition(base, { version: '1.4.2' }) }, desired)).toEqual([]);
  });

  it('ignores deprecated fields Marathon stores migrated, and service ports it assigned', () => {
    const old = {
      ...desired,
      ipAddress: { networkName: 'dcos' },
      container: { ...(desired.container as object), docker: { ...((desired.container as { docker: object }).docker), network: 'USER' } },
      portDefinitions: [{ port: 0 }],
    };
    const stored = { ...desired, networks: [{ mode: 'container', name: 'dcos' }], portDefinitions: [{ port: 10001 }] };
    expect(diffDefinitions(stored, old)).toEqual([]);
  });

  it('shows a removed env var and masks secrets', () => {
    const withSecret = { ...live, env: { LOG_LEVEL: 'info', DB_PASSWORD: 'old-secret', OLD: 'x' } };
    const diff = diffDefinitions(withSecret, desired);
    const lines = formatDiff(diff).join('\n');
    expect(lines).toContain('- env.OLD: "x"');
    expect(lines).toContain('env.DB_PASSWORD: (secret value changed)');
    expect(lines).not.toContain('hunter2');
    expect(lines).not.toContain('old-secret');
  });

  it('masks a password inside a URL whatever the variable is called', () => {
    const lines = formatDiff([{ path: 'env.DATABASE_URL', kind: 'changed', before: 'postgres://u:pw0rdz@db/x', after: 'postgres://u:n3w@db/y' }]).join('');
    expect(lines).toContain(`postgres://u:${MASK}@db/x`);
    expect(lines).not.toMatch(/pw0rdz|n3w/);
  });

  it('lists everything as added for a new app, with secrets masked', () => {
    const lines = formatDiff(diffDefinitions(null, desired)).join('\n');
    expect(lines).toContain('+ id: "/shop/web"');
    expect(lines).toContain(`"DB_PASSWORD":"${MASK}"`);
    expect(lines).not.toContain('hunter2');
  });
});

describe('assessRollout (the completion rule)', () => {
  const V = '2026-11-23T10:00:00.000Z';
  const deployment: Deployment = {
    id: 'd1',
    version: V,
    affectedApps: ['/shop/web'],
    currentActions: [{ action: 'RestartApplication', app: '/shop/web' }],
    currentStep: 1,
    totalSteps: 1,
  };
  const task = (version: string, state = 'TASK_RUNNING') => ({ id: `t-${Math.random()}`, appId: '/shop/web', state, version });
  const app = (over: Partial<AppInfo> = {}): AppInfo => ({
    id: '/shop/web',
    instances: 2,
    version: V,
    versionInfo: { lastConfigChangeAt: V, lastScalingAt: V },
    healthChecks: [{ protocol: 'HTTP' }],
    tasks: [task(V), task(V)],
    tasksRunning: 2,
    tasksHealthy: 2,
    tasksStaged: 0,
    tasksUnhealthy: 0,
    deployments: [],
    ...over,
  });
  const observe = (over: Partial<RolloutObservation>): RolloutObservation => ({
    deploymentId: 'd1',
    targetVersions: [V],
    app: app(),
    deployments: [],
    failedTaskIds: new Set(),
    failureThreshold: 1,
    ...over,
  });

  it.each<[string, Partial<RolloutObservation>, string]>([
    ['deployment still listed', { deployments: [deployment] }, 'in-progress'],
    ['gone, all new and healthy', {}, 'succeeded'],
    ['gone but one task still old', { app: app({ tasks: [task(V), task('old')] }) }, 'in-progress'],
    ['gone but not all healthy', { app: app({ tasksHealthy: 1 }) }, 'in-progress'],
    ['gone but a task staging', { app: app({ tasksStaged: 1, tasksRunning: 1 }) }, 'in-progress'],
    ['gone, count short', { app: app({ tasks: [task(V)], tasksRunning: 1, tasksHealthy: 1 }) }, 'in-progress'],
    ['no health checks: running is enough', { app: app({ healthChecks: [], tasksHealthy: 0 }) }, 'succeeded'],
    [
      'someone else changed the app',
      { app: app({ version: '2026-11-23T11:00:00.000Z', versionInfo: { lastConfigChangeAt: '2026-11-23T11:00:00.000Z' } }) },
      'superseded',
    ],
    ['the app vanished', { app: null }, 'superseded'],
    [
      'Marathon took the PUT as unchanged: the app kept its older version',
      { app: app({ version: '2026-11-23T09:00:00.000Z', versionInfo: { lastConfigChangeAt: '2026-11-23T09:00:00.000Z' }, tasks: [task('2026-11-23T09:00:00.000Z'), task('2026-11-23T09:00:00.000Z')] }) },
      'succeeded',
    ],
    [
      'a task of the new version failed',
      { deployments: [deployment], app: app({ lastTaskFailure: { taskId: 'x', version: V, state: 'TASK_FAILED', message: 'exit 1' } }) },
      'failed',
    ],
    ['TASK_FAILED event for the new version', { deployments: [deployment], failedTaskIds: new Set(['t9']) }, 'failed'],
    [
      'an old failure seen before the deploy does not count',
      {
        deployments: [deployment],
        app: app({ lastTaskFailure: { taskId: 'x', version: V, timestamp: 't' } }),
        knownFailure: { taskId: 'x', timestamp: 't' },
      },
      'in-progress',
    ],
    [
      'a failure of another version does not count',
      { deployments: [deployment], app: app({ lastTaskFailure: { taskId: 'x', version: 'other' } }) },
      'in-progress',
    ],
    ['ours gone, another deployment runs on the app (forced scale)', { deployments: [{ ...deployment, id: 'd2' }] }, 'superseded'],
  ])('%s → %s', (_name, over, expected) => {
    expect(assessRollout(observe(over)).state).toBe(expected);
  });

  it('reports the step and counts in progress', () => {
    const result = assessRollout(observe({ deployments: [deployment], app: app({ tasksHealthy: 1 }) }));
    expect(result.progress).toMatchObject({ target: 2, running: 2, healthy: 1, updated: 2, step: 'step 1/1: RestartApplication' });
  });
});

describe('defaultTimeoutSeconds', () => {
  it.each<[string, Record<string, unknown>, number]>([
    ['no health checks: the floor', { instances: 1 }, 120],
    ['health check grace + interval + start allowance', { instances: 2, healthChecks: [{ gracePeriodSeconds: 120, intervalSeconds: 10 }] }, 190],
    [
      'waves when only a few may be replaced at once',
      { instances: 4, upgradeStrategy: { minimumHealthCapacity: 0.75, maximumOverCapacity: 0 }, healthChecks: [{ gracePeriodSeconds: 60, intervalSeconds: 10 }] },
      520,
    ],
    ['capped at an hour', { instances: 100, upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 0 } }, 3600],
  ])('%s', (_name, definition, expected) => {
    expect(defaultTimeoutSeconds(definition)).toBe(expected);
  });
});
