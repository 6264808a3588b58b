import { describe, expect, it } from 'vitest';
import { colourDefinition, liveColourOf, nextServicePort, pythonLocalIsoformat, type ColourApp } from '../src/blue-green/colours.js';
import { planBlueGreen, planRestore, restoredProblem, type BlueGreenRequest, type Step } from '../src/blue-green/plan.js';
import { parseAppDeploySettings } from '../src/config/deploy-strategy.js';
import type { AppInfo } from '../src/marathon/types.js';

// The pure rules of blue/green: which colour marathon-lb routes to, what a deploy does from each state Marathon can hold,
// and what a failure restores.

const T0 = '2026-01-01T10:00:00.000Z';
const T1 = '2026-01-01T10:05:00.000Z';
const T2 = '2026-01-01T10:10:00.000Z';

function colour(
  name: 'blue' | 'green',
  over: { startedAt?: string; scaledAt?: string; instances?: number; version?: string; healthy?: number; newInstances?: boolean; servicePort?: number } = {},
): ColourApp {
  const instances = over.instances ?? 2;
  const healthy = over.healthy ?? instances;
  const labels: Record<string, string> = { HAPROXY_DEPLOYMENT_GROUP: 'shop/web', HAPROXY_DEPLOYMENT_COLOUR: name, BATON_VERSION: over.version ?? '1.0.0' };
  if (over.startedAt) labels.HAPROXY_DEPLOYMENT_STARTED_AT = over.startedAt;
  if (over.newInstances !== false) labels.HAPROXY_DEPLOYMENT_NEW_INSTANCES = '0';
  const app: AppInfo = {
    id: `/shop/web-${name}`,
    instances,
    labels,
    versionInfo: { lastScalingAt: over.scaledAt ?? T0, lastConfigChangeAt: T0 },
    healthChecks: [{ protocol: 'MESOS_HTTP' }],
    tasksRunning: instances,
    tasksHealthy: healthy,
    tasksStaged: 0,
    tasksUnhealthy: 0,
    deployments: [],
    container: { type: 'DOCKER', docker: { image: `shop/web:${over.version ?? '1.0.0'}` }, portMappings: [{ containerPort: 8080, servicePort: over.servicePort ?? 10000 }] },
  };
  return { colour: name, app };
}

describe('the live colour (marathon-lb get_apps)', () => {
  it.each([
    { case: 'no colour', colours: [], live: null },
    { case: 'one colour', colours: [colour('green')], live: 'green' },
    { case: 'the later STARTED_AT without NEW_INSTANCES', colours: [colour('blue', { startedAt: T0, scaledAt: T2, newInstances: false }), colour('green', { startedAt: T1, newInstances: false })], live: 'green' },
    { case: 'the later STARTED_AT, scaled last too', colours: [colour('blue', { startedAt: T0, scaledAt: T0 }), colour('green', { startedAt: T1, scaledAt: T1 })], live: 'green' },
    { case: 'the colour scaled last when "new" carries NEW_INSTANCES', colours: [colour('blue', { startedAt: T0, scaledAt: T2 }), colour('green', { startedAt: T1, scaledAt: T1 })], live: 'blue' },
    { case: 'a colour at 0 instances never serves', colours: [colour('blue', { startedAt: T0, scaledAt: T2, instances: 0 }), colour('green', { startedAt: T1 })], live: 'green' },
    { case: 'zdd.py\'s naive STARTED_AT against an aware one', colours: [colour('blue', { startedAt: '2026-01-01T09:00:00.123456' }), colour('green', { startedAt: T2 })], live: 'green' },
  ])('$case', ({ colours, live }) => {
    expect(liveColourOf(colours)?.colour ?? null).toBe(live);
  });

  it('alternates the service port against the live colour, as zdd.py does', () => {
    const ports = { publicPort: 10000, altPort: 10001 };
    expect(nextServicePort(null, ports)).toBe(10000);
    expect(nextServicePort(colour('blue', { servicePort: 10000 }).app, ports)).toBe(10001);
    expect(nextServicePort(colour('blue', { servicePort: 10001 }).app, ports)).toBe(10000);
  });

  it('labels the candidate as zdd.py does, with STARTED_AT naive like Python\'s isoformat', () => {
    const definition = colourDefinition(
      { id: '/shop/web', instances: 3, labels: { BATON_VERSION: '2.0.0' }, container: { type: 'DOCKER', docker: { image: 'shop/web:2.0.0' }, portMappings: [{ containerPort: 8080 }] } },
      { colour: 'green', group: 'shop/web', ports: { publicPort: 10000, altPort: 10001 }, servicePort: 10001, instances: 3, startedAt: new Date(2026, 0, 1, 10, 0, 0, 5) },
    );
    expect(definition.id).toBe('/shop/web-green');
    expect(definition.labels).toEqual({
      BATON_VERSION: '2.0.0',
      HAPROXY_APP_ID: '/shop/web',
      HAPROXY_DEPLOYMENT_GROUP: 'shop/web',
      HAPROXY_DEPLOYMENT_ALT_PORT: '10001',
      HAPROXY_DEPLOYMENT_COLOUR: 'green',
      HAPROXY_DEPLOYMENT_STARTED_AT: '2026-01-01T10:00:00.005000',
      HAPROXY_DEPLOYMENT_TARGET_INSTANCES: '3',
      HAPROXY_DEPLOYMENT_NEW_INSTANCES: '0',
      HAPROXY_0_PORT: '10000',
      // marathon-lb's default backend head, plus: servers are not carried over reloads (at the switch they must come back UP).
      HAPROXY_0_BACKEND_HEAD: '\nbackend {backend}\n  balance {balance}\n  mode {mode}\n  load-server-state-from-file none\n',
    });
    expect((definition.container as { portMappings: { servicePort: number }[] }).portMappings[0]!.servicePort).toBe(10001);
    expect(pythonLocalIsoformat(new Date(2026, 11, 4, 23, 5, 9, 120))).toBe('2026-12-04T23:05:09.120000');
  });

  it.each([
    { case: 'none of its own: marathon-lb\'s default', own: undefined, head: '\nbackend {backend}\n  balance {balance}\n  mode {mode}\n  load-server-state-from-file none\n' },
    { case: 'its own head is kept, the line added', own: '\nbackend {backend}\n  balance leastconn\n  mode {mode}\n  timeout server 5s', head: '\nbackend {backend}\n  balance leastconn\n  mode {mode}\n  timeout server 5s\n  load-server-state-from-file none\n' },
    { case: 'its own server-state line is replaced', own: '\nbackend {backend}\n  load-server-state-from-file global\n  mode {mode}\n', head: '\nbackend {backend}\n  mode {mode}\n  load-server-state-from-file none\n' },
  ])('the backend head of both colours, the app\'s HAPROXY_0_BACKEND_HEAD $case', ({ own, head }) => {
    const rendered = { id: '/shop/web', instances: 1, labels: own === undefined ? {} : { HAPROXY_0_BACKEND_HEAD: own } };
    const definition = colourDefinition(rendered, { colour: 'blue', group: 'shop/web', ports: { publicPort: 10000, altPort: 10001 }, servicePort: 10000, instances: 1, startedAt: new Date(0) });
    expect((definition.labels as Record<string, string>).HAPROXY_0_BACKEND_HEAD).toBe(head);
  });
});

const request: BlueGreenRequest = {
  baseId: '/shop/web',
  group: 'shop/web',
  version: '2.0.0',
  rendered: { id: '/shop/web', instances: 2, labels: { BATON_VERSION: '2.0.0' }, container: { type: 'DOCKER', docker: { image: 'shop/web:2.0.0' }, portMappings: [{ containerPort: 8080 }] } },
  settings: { publicPort: 10000, altPort: 10001, keepOldColour: false, watchSeconds: 0, settleSeconds: 2 },
  preIntegration: { command: 'pre', timeoutSeconds: 60 },
  postIntegration: { command: 'post', timeoutSeconds: 60 },
  now: new Date(T2),
};

/** Steps as short words: "start green", "serve blue", "test pre", ... */
function shape(steps: Step[]): string[] {
  return steps.map((s) => (s.kind === 'test' ? `test ${s.phase}` : s.kind === 'settle' ? 'settle' : s.kind === 'retire' ? `${s.keep ? 'keep' : 'delete'} ${s.colour}` : `${s.kind} ${s.colour}`));
}

describe('planning a blue/green deploy', () => {
  it.each([
    { case: 'first deploy: blue at full size, tested, nothing to switch', colours: [], candidate: 'blue', steps: ['start blue', 'wait-healthy blue', 'test pre', 'settle', 'test post'] },
    {
      case: 'blue serves: green beside it, blue kept serving, tests, switch, blue deleted',
      colours: [colour('blue', { startedAt: T0 })],
      candidate: 'green',
      steps: ['start green', 'serve blue', 'wait-healthy green', 'test pre', 'serve green', 'settle', 'test post', 'check green', 'delete blue'],
    },
    {
      case: 'green kept at 0 for a rollback: it is the candidate, replaced',
      colours: [colour('blue', { startedAt: T0 }), colour('green', { startedAt: T1, scaledAt: T2, instances: 0 })],
      candidate: 'green',
      steps: ['start green', 'serve blue', 'wait-healthy green', 'test pre', 'serve green', 'settle', 'test post', 'check green', 'delete blue'],
    },
    {
      case: 'cut short before the switch, the candidate healthy on the version: from the pre-integration tests',
      colours: [colour('blue', { startedAt: T0, scaledAt: T2 }), colour('green', { startedAt: T1, scaledAt: T1, version: '2.0.0' })],
      candidate: 'green',
      steps: ['test pre', 'serve green', 'settle', 'test post', 'check green', 'delete blue'],
    },
    {
      case: 'cut short after the switch: from the post-integration tests',
      colours: [colour('blue', { startedAt: T0, scaledAt: T0 }), colour('green', { startedAt: T1, scaledAt: T2, version: '2.0.0' })],
      candidate: 'green',
      steps: ['settle', 'test post', 'check green', 'delete blue'],
    },
    {
      case: 'zdd.py left it half-done (few tasks each, other version): blue back to full size, green started over',
      colours: [colour('blue', { startedAt: T0, scaledAt: T2, instances: 1 }), colour('green', { startedAt: T1, scaledAt: T1, version: '1.5.0', instances: 1 })],
      candidate: 'green',
      steps: ['scale blue', 'wait-healthy blue', 'start green', 'serve blue', 'wait-healthy green', 'test pre', 'serve green', 'settle', 'test post', 'check green', 'delete blue'],
    },
  ])('$case', ({ colours, candidate, steps }) => {
    const plan = planBlueGreen(colours, request);
    expect(plan.candidate).toBe(candidate);
    expect(shape(plan.steps)).toEqual(steps);
  });

  it('keeps the old colour at 0 and watches the candidate when configured, without tests when none are set', () => {
    const plan = planBlueGreen([colour('blue')], {
      ...request,
      settings: { ...request.settings, keepOldColour: true, watchSeconds: 30, settleSeconds: 0 },
      preIntegration: undefined,
      postIntegration: undefined,
    });
    expect(shape(plan.steps)).toEqual(['start green', 'serve blue', 'wait-healthy green', 'watch green', 'serve green', 'settle', 'check green', 'keep blue']);
    expect(plan.restoreTo).toEqual({ colour: 'blue', instances: 2 });
  });

  it('a candidate larger than the serving colour starts at its size (fully drained) and grows once users are routed to it', () => {
    const plan = planBlueGreen([colour('blue', { instances: 2 })], { ...request, rendered: { ...request.rendered, instances: 4 } });
    expect(shape(plan.steps)).toEqual(['start green', 'serve blue', 'wait-healthy green', 'test pre', 'serve green', 'scale green', 'wait-healthy green', 'settle', 'test post', 'check green', 'delete blue']);
    const start = plan.steps[0] as Extract<Step, { kind: 'start' }>;
    expect(start.definition.instances).toBe(2);
    expect(start.definition.labels).toMatchObject({ HAPROXY_DEPLOYMENT_TARGET_INSTANCES: '4' });
    expect(plan.steps[5]).toMatchObject({ kind: 'scale', instances: 4 });
  });

  it('a half-done state is said before anything is done', () => {
    const plan = planBlueGreen([colour('blue', { startedAt: T0, scaledAt: T2 }), colour('green', { startedAt: T1, version: '2.0.0', healthy: 1 })], request);
    expect(plan.found.join('\n')).toMatch(/green runs 2\.0\.0 \(1\/2 healthy\) beside blue.*started over/);
  });
});

describe('restoring after a failure', () => {
  const restore = { baseId: '/shop/web', old: { colour: 'blue' as const, instances: 2 }, candidate: 'green' as const, settleSeconds: 2 };

  it.each([
    { case: 'before the switch: only the candidate goes', colours: [colour('blue', { startedAt: T0, scaledAt: T2 }), colour('green', { startedAt: T1 })], steps: ['delete green'] },
    { case: 'after the switch: the old colour serves again first', colours: [colour('blue', { startedAt: T0 }), colour('green', { startedAt: T1, scaledAt: T2 })], steps: ['serve blue', 'settle', 'delete green'] },
    { case: 'the old colour not at full size: scaled back first', colours: [colour('blue', { startedAt: T0, scaledAt: T2, instances: 1 }), colour('green', { startedAt: T1 })], steps: ['scale blue', 'wait-healthy blue', 'delete green'] },
    { case: 'a candidate that was never created: nothing', colours: [colour('blue')], steps: [] },
  ])('$case', ({ colours, steps }) => {
    expect(shape(planRestore(colours, restore))).toEqual(steps);
  });

  it.each([
    { case: 'restored', colours: [colour('blue')], problem: undefined },
    { case: 'the candidate still there', colours: [colour('blue', { startedAt: T0, scaledAt: T2 }), colour('green', { startedAt: T1 })], problem: /green .* still exists/ },
    { case: 'the old colour short of tasks', colours: [colour('blue', { healthy: 1 })], problem: /blue is not healthy \(1\/2\)/ },
    { case: 'the old colour gone', colours: [], problem: /blue no longer exists/ },
  ])('verified by reading back: $case', ({ colours, problem }) => {
    const found = restoredProblem(colours, restore);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(problem);
  });
});

describe('baton.json', () => {
  it('defaults the strategy from blueGreen and fills in the defaults', () => {
    const result = parseAppDeploySettings({ blueGreen: { publicPort: 10000, altPort: 10001 }, preIntegration: { command: './pre.sh' } });
    expect(result).toEqual({
      ok: true,
      settings: {
        strategy: 'blue-green',
        blueGreen: { publicPort: 10000, altPort: 10001, keepOldColour: false, watchSeconds: 0, settleSeconds: 2 },
        preIntegration: { command: './pre.sh', timeoutSeconds: 60 },
      },
    });
  });

  it.each([
    { value: { strategy: 'canary' }, path: '/strategy', message: /expected "rolling" or "blue-green"/ },
    { value: { strategy: 'blue-green' }, path: '/blueGreen', message: /is required with "strategy": "blue-green"/ },
    { value: { blueGreen: { publicPort: 10000, altPort: 10000 } }, path: '/blueGreen/altPort', message: /equals publicPort/ },
    { value: { blueGreen: { publicPort: 70000, altPort: 10001 } }, path: '/blueGreen/publicPort', message: /1 to 65535/ },
    { value: { blueGreen: { publicPort: 10000, altPort: 10001 }, postIntegration: { comand: 'x' } }, path: '/postIntegration/comand', message: /did you mean command/ },
  ])('rejects $path', ({ value, path, message }) => {
    const result = parseAppDeploySettings(value);
    expect(result.ok).toBe(false);
    const issue = !result.ok ? result.issues.find((i) => i.path === path) : undefined;
    expect(issue?.message).toMatch(message);
  });
});
