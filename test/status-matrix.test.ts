import { describe, expect, it } from 'vitest';
import { formatTable } from '../src/cli/table.js';
import { formatDiff } from '../src/deploy/diff.js';
import type { AppDefinition, AppInfo, Deployment } from '../src/marathon/types.js';
import { autoscalerOf, configDrift, describeAutoscaler } from '../src/status/drift.js';
import { buildStatusMatrix, datacenterKey, type MarathonAnswer, type StatusInput } from '../src/status/matrix.js';

/** What a deploy-config holds (before rendering): the image carries a placeholder tag. */
function config(over: Record<string, unknown> = {}): AppDefinition {
  return {
    id: '/shop/web',
    instances: 2,
    cpus: 0.25,
    mem: 128,
    container: { type: 'DOCKER', docker: { image: 'registry.example.com/shop/web:latest' } },
    env: { LOG_LEVEL: 'info', DB_PASSWORD: 'hunter2' },
    labels: { team: 'shop' },
    healthChecks: [{ protocol: 'MESOS_HTTP', path: '/health' }],
    ...over,
  };
}

/** What Marathon returns for that config deployed at `version`: defaults filled in, runtime fields added. */
function live(version: string, over: Record<string, unknown> = {}): AppInfo {
  return {
    id: '/shop/web',
    instances: 2,
    cpus: 0.25,
    mem: 128,
    disk: 0,
    backoffFactor: 1.15,
    container: { type: 'DOCKER', docker: { image: `registry.example.com/shop/web:${version}`, forcePullImage: true, privileged: false }, volumes: [] },
    env: { LOG_LEVEL: 'info', DB_PASSWORD: 'hunter2' },
    labels: { team: 'shop', BATON_VERSION: version },
    healthChecks: [{ protocol: 'MESOS_HTTP', path: '/health', portIndex: 0, gracePeriodSeconds: 300, intervalSeconds: 60, timeoutSeconds: 20, maxConsecutiveFailures: 3, delaySeconds: 15, ipProtocol: 'IPv4' }],
    constraints: [],
    upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
    unreachableStrategy: { inactiveAfterSeconds: 0, expungeAfterSeconds: 0 },
    maxLaunchDelaySeconds: 300,
    killSelection: 'YOUNGEST_FIRST',
    version: '2024-05-02T09:14:03.512Z',
    versionInfo: { lastConfigChangeAt: '2024-05-02T09:14:03.512Z', lastScalingAt: '2024-05-02T09:14:03.512Z' },
    tasksHealthy: 2,
    tasksRunning: 2,
    tasksStaged: 0,
    tasksUnhealthy: 0,
    tasks: [],
    deployments: [],
    lastTaskFailure: null,
    ...over,
  };
}

describe('configDrift: live app against its deploy-config', () => {
  const autoscaleLabels = { team: 'shop', AUTOSCALE_MIN: '2', AUTOSCALE_MAX: '10' };
  const cases: { name: string; live: AppInfo; config: AppDefinition; paths: string[] }[] = [
    { name: 'the same app at another tag (Marathon defaults filled in) is no drift', live: live('1.4.2'), config: config(), paths: [] },
    {
      name: 'a digest-pinned deploy of the same config is no drift',
      live: live('1.4.2', {
        container: { type: 'DOCKER', docker: { image: 'registry.example.com/shop/web@sha256:abc', forcePullImage: true }, volumes: [] },
      }),
      config: config(),
      paths: [],
    },
    {
      name: 'another image repository is drift',
      live: live('1.4.2', { container: { type: 'DOCKER', docker: { image: 'other.example.com/web:1.4.2', forcePullImage: true } } }),
      config: config(),
      paths: ['container.docker.image'],
    },
    {
      name: 'service ports the file leaves to Marathon (0) and Marathon assigned are no drift; a fixed one that moved is',
      live: live('1.4.2', { portDefinitions: [{ port: 10001, name: 'http' }, { port: 10002, name: 'admin' }] }),
      config: config({ portDefinitions: [{ port: 0, name: 'http' }, { port: 9000, name: 'admin' }] }),
      paths: ['portDefinitions[1].port'],
    },
    {
      name: 'deprecated fields Marathon stores migrated (docker.network, ipAddress) are no drift',
      live: live('1.4.2', { networks: [{ mode: 'container', name: 'dcos' }] }),
      config: config({
        container: { type: 'DOCKER', docker: { image: 'registry.example.com/shop/web:latest', network: 'USER' } },
        ipAddress: { networkName: 'dcos' },
      }),
      paths: [],
    },
    { name: 'a hand-edited mem is drift', live: live('1.4.2', { mem: 512 }), config: config(), paths: ['mem'] },
    { name: 'instances changed by hand is drift', live: live('1.4.2', { instances: 5 }), config: config(), paths: ['instances'] },
    {
      name: 'instances of an autoscaled app are the autoscaler’s',
      live: live('1.4.2', { instances: 7, labels: { ...autoscaleLabels, BATON_VERSION: '1.4.2' } }),
      config: config({ labels: autoscaleLabels }),
      paths: [],
    },
    {
      name: 'an env var added by hand and a label removed from the file are drift',
      live: live('1.4.2', { env: { LOG_LEVEL: 'info', DB_PASSWORD: 'hunter2', DEBUG: '1' }, labels: { BATON_VERSION: '1.4.2' } }),
      config: config(),
      paths: ['env.DEBUG', 'labels.team'],
    },
    {
      name: 'a field removed from the file is drift, shown as a removal',
      live: live('1.4.2', { constraints: [['hostname', 'UNIQUE']] }),
      config: config(),
      paths: ['constraints'],
    },
    {
      name: 'a field removed from the file goes back to Marathon’s default: drift when the live value is not the default',
      live: live('1.4.2', { upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 1 }, backoffSeconds: 30 }),
      config: config(),
      paths: ['backoffSeconds', 'upgradeStrategy.minimumHealthCapacity'],
    },
    {
      name: 'health checks removed from the file are drift',
      live: live('1.4.2'),
      config: config({ healthChecks: undefined }),
      paths: ['healthChecks'],
    },
    {
      name: 'a default written out in the file and left out live (or the other way round) is no drift',
      live: live('1.4.2', { constraints: undefined, killSelection: undefined }),
      config: config({ backoffSeconds: 1, upgradeStrategy: { minimumHealthCapacity: 1 }, requirePorts: false }),
      paths: [],
    },
    {
      name: 'a resident app (persistent volumes) left at Marathon’s resident strategy defaults is no drift',
      live: live('1.4.2', {
        container: { type: 'DOCKER', docker: { image: 'registry.example.com/shop/web:1.4.2', forcePullImage: true }, volumes: [{ containerPath: 'data', mode: 'RW', persistent: { size: 100 } }] },
        upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 },
        unreachableStrategy: 'disabled',
      }),
      config: config({ container: { type: 'DOCKER', docker: { image: 'registry.example.com/shop/web:latest' }, volumes: [{ containerPath: 'data', mode: 'RW', persistent: { size: 100 } }] } }),
      paths: [],
    },
    {
      name: 'an app deployed without Baton’s label is not drift for the label',
      live: live('1.4.2', { labels: { team: 'shop' } }),
      config: config(),
      paths: [],
    },
  ];
  it('shows a field removed from the file as a removal of what runs live', () => {
    const drift = configDrift(live('1.4.2', { constraints: [['hostname', 'UNIQUE']] }), config({ healthChecks: undefined }));
    expect(formatDiff(drift).sort()).toEqual(['  - constraints: [["hostname","UNIQUE"]]', expect.stringMatching(/^  - healthChecks: \[\{"protocol":"MESOS_HTTP","path":"\/health",/)]);
  });
  for (const c of cases) {
    it(c.name, () => {
      expect(configDrift(c.live, c.config).map((e) => e.path).sort()).toEqual(c.paths.sort());
    });
  }

  it('never shows a secret-looking value', () => {
    const drift = configDrift(live('1.4.2', { env: { LOG_LEVEL: 'info', DB_PASSWORD: 'changed-by-hand' } }), config());
    expect(drift).toHaveLength(1);
    expect(drift[0]?.path).toBe('env.DB_PASSWORD');
    expect(JSON.stringify(drift)).not.toMatch(/hunter2|changed-by-hand/);
  });
});

describe('autoscaler labels', () => {
  const cases: { labels: Record<string, string> | undefined; managed: boolean; text: string }[] = [
    { labels: undefined, managed: false, text: '-' },
    { labels: { team: 'shop' }, managed: false, text: '-' },
    { labels: { AUTOSCALE_MIN: '2', AUTOSCALE_MAX: '10', AUTOSCALE_TARGET_CPU: '0.6' }, managed: true, text: '2-10 cpu 0.6' },
    { labels: { AUTOSCALE_TARGET_MEMORY: '0.8' }, managed: true, text: '?-? mem 0.8' },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.labels)} → ${c.text}`, () => {
      const settings = autoscalerOf({ id: '/a', labels: c.labels });
      expect(settings !== null).toBe(c.managed);
      expect(describeAutoscaler(settings)).toBe(c.text);
    });
  }
});

describe('buildStatusMatrix', () => {
  const aa = 'http://aa.example:8080';
  const bb = 'http://bb.example:8080';
  const cc = 'http://cc.example:8080';
  const deployment: Deployment = {
    id: 'd-1',
    version: '2024-05-02T10:00:00.000Z',
    affectedApps: ['/shop/web'],
    currentActions: [{ action: 'RestartApplication', app: '/shop/web' }],
    currentStep: 1,
    totalSteps: 2,
  };
  /** Answers given by Marathon URL, as if every datacenter on a URL shared its request. */
  function input(answers: Record<string, MarathonAnswer>, apps = [{ app: 'shop-web', env: 'prod', definition: config() }]): StatusInput {
    const datacenters = [
      { env: 'prod', dc: 'AA', marathon: aa },
      { env: 'prod', dc: 'BB', marathon: bb },
    ];
    return { apps, datacenters, answers: new Map(datacenters.flatMap((d) => (answers[d.marathon] ? [[datacenterKey(d), answers[d.marathon]!]] : []))) };
  }

  it('one cell per app, environment and datacenter, with version, tasks, config change time and health', () => {
    const matrix = buildStatusMatrix(
      input({ [aa]: { reachable: true, apps: [live('1.4.2')], deployments: [] }, [bb]: { reachable: true, apps: [live('1.4.2')], deployments: [] } }),
    );
    expect(matrix.complete).toBe(true);
    expect(matrix.cells).toHaveLength(2);
    expect(matrix.cells[0]).toMatchObject({
      app: 'shop-web',
      env: 'prod',
      dc: 'AA',
      appId: '/shop/web',
      deployed: true,
      health: 'healthy',
      version: '1.4.2',
      tag: '1.4.2',
      lastConfigChangeAt: '2024-05-02T09:14:03.512Z',
      tasks: { healthy: 2, running: 2, target: 2, hasHealthChecks: true },
      deployment: null,
      autoscaler: null,
      configDrift: [],
      versionDrift: false,
    });
    expect(matrix.versionDrift).toEqual([]);
  });

  it('an unreachable datacenter is shown with its reason and leaves version drift unknown there', () => {
    const matrix = buildStatusMatrix(
      input({ [aa]: { reachable: true, apps: [live('1.4.2')], deployments: [] }, [bb]: { reachable: false, reason: 'ECONNREFUSED' } }),
    );
    expect(matrix.complete).toBe(false);
    expect(matrix.cells[1]).toMatchObject({ dc: 'BB', reachable: false, reason: 'ECONNREFUSED', health: 'unknown', configDrift: null });
    expect(matrix.datacenters).toEqual([
      { env: 'prod', dc: 'AA', marathon: aa, reachable: true },
      { env: 'prod', dc: 'BB', marathon: bb, reachable: false, reason: 'ECONNREFUSED' },
    ]);
    expect(matrix.versionDrift).toEqual([]);
  });

  it('flags versions that differ between datacenters of one environment, and an app missing in one of them', () => {
    const differ = buildStatusMatrix(
      input({ [aa]: { reachable: true, apps: [live('1.4.2')], deployments: [] }, [bb]: { reachable: true, apps: [live('1.4.1')], deployments: [] } }),
    );
    expect(differ.versionDrift).toEqual([{ app: 'shop-web', env: 'prod', versions: { AA: '1.4.2', BB: '1.4.1' } }]);
    expect(differ.cells.map((c) => c.versionDrift)).toEqual([true, true]);

    const missing = buildStatusMatrix(
      input({ [aa]: { reachable: true, apps: [live('1.4.2')], deployments: [] }, [bb]: { reachable: true, apps: [], deployments: [] } }),
    );
    expect(missing.cells[1]).toMatchObject({ dc: 'BB', deployed: false, health: 'not-deployed' });
    expect(missing.versionDrift[0]?.versions).toEqual({ AA: '1.4.2', BB: null });
  });

  it('shows a running deployment with its step, and falls back to the app’s own embed', () => {
    const deploying = live('1.4.2', { deployments: [{ id: 'd-1' }] });
    const withStep = buildStatusMatrix(
      input({ [aa]: { reachable: true, apps: [deploying], deployments: [deployment] }, [bb]: { reachable: true, apps: [deploying], deployments: [] } }),
    );
    expect(withStep.cells[0]).toMatchObject({ health: 'deploying', deployment: { id: 'd-1', step: 'step 1/2: RestartApplication' } });
    expect(withStep.cells[1]).toMatchObject({ health: 'deploying', deployment: { id: 'd-1' } });
  });

  const healthCases: { name: string; over: Record<string, unknown>; health: string }[] = [
    { name: 'fewer healthy than target', over: { tasksHealthy: 1 }, health: 'degraded' },
    { name: 'an unhealthy task', over: { tasksUnhealthy: 1 }, health: 'degraded' },
    { name: 'a task still staging', over: { tasksStaged: 1, tasksRunning: 1 }, health: 'degraded' },
    { name: 'scaled to zero', over: { instances: 0, tasksRunning: 0, tasksHealthy: 0 }, health: 'suspended' },
    { name: 'no health checks, all running', over: { healthChecks: [], tasksHealthy: 0 }, health: 'healthy' },
  ];
  for (const c of healthCases) {
    it(`health: ${c.name} → ${c.health}`, () => {
      const matrix = buildStatusMatrix(input({ [aa]: { reachable: true, apps: [live('1', c.over)], deployments: [] }, [bb]: { reachable: false, reason: 'x' } }));
      expect(matrix.cells[0]?.health).toBe(c.health);
    });
  }

  it('keeps an app whose config does not load, with drift unknown, and only the environments it is configured for', () => {
    const matrix = buildStatusMatrix({
      apps: [{ app: 'shop-web', env: 'qa', definition: null, configError: 'qa-deploy.json: /mem: expected a number' }],
      datacenters: [
        { env: 'qa', dc: 'AA', marathon: cc },
        { env: 'prod', dc: 'AA', marathon: aa },
      ],
      answers: new Map<string, MarathonAnswer>([
        ['qa/AA', { reachable: true, apps: [live('2.0.0', { id: 'shop/web/' })], deployments: [] }],
        ['prod/AA', { reachable: true, apps: [], deployments: [] }],
      ]),
    });
    expect(matrix.cells).toHaveLength(1);
    expect(matrix.cells[0]).toMatchObject({ env: 'qa', appId: '/shop-web', configDrift: null, configError: expect.stringContaining('/mem') });
  });

  it('takes each datacenter’s own answer, even when another on the same URL (other credentials) answered', () => {
    const matrix = buildStatusMatrix({
      apps: [{ app: 'shop-web', env: 'prod', definition: config() }],
      datacenters: [
        { env: 'prod', dc: 'AA', marathon: aa },
        { env: 'prod', dc: 'BB', marathon: aa },
      ],
      answers: new Map<string, MarathonAnswer>([
        ['prod/AA', { reachable: true, apps: [live('1.4.2')], deployments: [] }],
        ['prod/BB', { reachable: false, reason: 'datacenter BB: environment variable NOPE is not set', notAsked: true }],
      ]),
    });
    expect(matrix.complete).toBe(false);
    expect(matrix.cells.map((c) => [c.dc, c.reachable, c.health, c.notAsked ?? false])).toEqual([
      ['AA', true, 'healthy', false],
      ['BB', false, 'unknown', true],
    ]);
    expect(matrix.datacenters[1]).toEqual({ env: 'prod', dc: 'BB', marathon: aa, reachable: false, notAsked: true, reason: expect.stringContaining('NOPE') });
  });
});

describe('formatTable', () => {
  const columns = [{ header: 'APP', minWidth: 4 }, { header: 'VERSION' }, { header: 'NOTE', dropPriority: 1 }];
  const rows = [['shop-web-frontend', '1.4.2', 'a long note here']];

  it('prints whole lines when there is room', () => {
    expect(formatTable(columns, rows)).toEqual(['APP                VERSION  NOTE', 'shop-web-frontend  1.4.2    a long note here']);
  });

  it('drops optional columns, then cuts shrinkable ones, to fit the width', () => {
    const lines = formatTable(columns, rows, { width: 20 });
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(20);
    expect(lines[0]).not.toContain('NOTE');
    expect(lines).toEqual(['APP          VERSION', 'shop-web-f…  1.4.2']);
  });

  it('does not count colour codes toward the width', () => {
    const [, line] = formatTable([{ header: 'A' }, { header: 'B' }], [[{ text: 'ok', style: 'green' }, 'x']], { color: true, width: 5 });
    expect(line).toBe('\u001b[32mok\u001b[0m  x');
  });
});
