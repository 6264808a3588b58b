// The emulator's real-process mode: tasks are processes on 127.0.0.1 running the test service.
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../src/emulator/definition.js';
import { applyHealthResult } from '../src/emulator/health.js';
import { taskEnvironment } from '../src/emulator/tasks/environment.js';
import { callEmulator, startEmulatorProcess, startProcessEmulator, testServiceCommand } from './support/emulator.js';

interface LoggedEvent {
  eventType: string;
  data: Record<string, unknown>;
}

interface Task {
  id: string;
  host: string;
  ports: number[];
  state: string;
  healthCheckResults?: { alive: boolean; consecutiveFailures: number; instanceId: string }[];
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function tasksOf(url: string, appId: string): Promise<Task[]> {
  const { body } = await callEmulator(url, 'GET', `/v2/apps${appId}/tasks`);
  return (body as { tasks: Task[] }).tasks;
}

async function eventsOf(url: string): Promise<LoggedEvent[]> {
  return ((await callEmulator(url, 'GET', '/_emulator/events')).body as { events: LoggedEvent[] }).events;
}

function statusUpdates(events: LoggedEvent[]): { taskId: unknown; taskStatus: unknown; message: unknown }[] {
  return events
    .filter((e) => e.eventType === 'status_update_event')
    .map((e) => ({ taskId: e.data.taskId, taskStatus: e.data.taskStatus, message: e.data.message }));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function webApp(id: string, image: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    instances: 1,
    cpus: 0.25,
    mem: 64,
    container: { type: 'DOCKER', docker: { image }, portMappings: [{ containerPort: 8080, hostPort: 0, name: 'http' }] },
    networks: [{ mode: 'container/bridge' }],
    healthChecks: [{ protocol: 'MESOS_HTTP', path: '/health', portIndex: 0, gracePeriodSeconds: 30, intervalSeconds: 1, timeoutSeconds: 1, maxConsecutiveFailures: 3 }],
    labels: { team: 'shop', 'HAPROXY_GROUP': 'external' },
    env: { LOG_LEVEL: 'debug' },
    ...extra,
  };
}

describe('emulator with real task processes', () => {
  it('runs the task on 127.0.0.1 with Marathon\'s environment, probes its health, and kills it on scale down', async () => {
    const marathon = await startProcessEmulator();
    try {
      await callEmulator(marathon.url, 'POST', '/v2/apps', webApp('/shop/web', 'shop/web:1.2.3'));
      const task = await until('a healthy task', async () => {
        const [first] = await tasksOf(marathon.url, '/shop/web');
        return first?.healthCheckResults?.[0]?.alive ? first : undefined;
      });
      expect(task.host).toBe('127.0.0.1');
      const port = task.ports[0];
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('1.2.3\n');
      const { env } = (await (await fetch(`http://127.0.0.1:${port}/env`)).json()) as { env: Record<string, string> };
      expect(env).toMatchObject({
        PORT0: String(port),
        PORT: String(port),
        PORTS: String(port),
        PORT_HTTP: String(port),
        PORT_8080: String(port),
        HOST: '127.0.0.1',
        MESOS_TASK_ID: task.id,
        MARATHON_APP_ID: '/shop/web',
        MARATHON_APP_DOCKER_IMAGE: 'shop/web:1.2.3',
        MARATHON_APP_LABELS: expect.stringMatching(/^(TEAM HAPROXY_GROUP|HAPROXY_GROUP TEAM)$/),
        MARATHON_APP_LABEL_TEAM: 'shop',
        MARATHON_APP_RESOURCE_CPUS: '0.25',
        MARATHON_APP_RESOURCE_MEM: '64.0',
        LOG_LEVEL: 'debug',
      });
      const app = (await callEmulator(marathon.url, 'GET', '/v2/apps/shop/web')).body as { app: { version: string } };
      expect(env.MARATHON_APP_VERSION).toBe(app.app.version);

      await callEmulator(marathon.url, 'PUT', '/v2/apps/shop/web', { instances: 0 });
      await until('the task gone', async () => ((await tasksOf(marathon.url, '/shop/web')).length === 0 ? true : undefined));
      await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
      const events = await eventsOf(marathon.url);
      const states = statusUpdates(events).filter((u) => u.taskId === task.id).map((u) => u.taskStatus);
      expect(states).toEqual(['TASK_STAGING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
      const running = events.find((e) => e.eventType === 'status_update_event' && e.data.taskStatus === 'TASK_RUNNING');
      expect(running?.data).toMatchObject({ host: '127.0.0.1', ports: [port] });
      expect(events.some((e) => e.eventType === 'health_status_changed_event' && e.data.alive === true)).toBe(true);
    } finally {
      await marathon.stop();
    }
  });

  it('a crashing version fails (TASK_FAILED, lastTaskFailure) and is relaunched; crash-after-healthy is healthy first; an unhealthy one is killed', async () => {
    const marathon = await startProcessEmulator({ timings: { backoffMs: 50 } });
    try {
      await callEmulator(marathon.url, 'POST', '/v2/apps', webApp('/shop/crash', 'shop/web:2.0.0-crash', { env: { CRASH_MS: '50' } }));
      await callEmulator(marathon.url, 'POST', '/v2/apps', webApp('/shop/late', 'shop/web:2.0.0-crash-after-healthy', { env: { CRASH_AFTER_MS: '200' } }));
      const sickCheck = { protocol: 'HTTP', path: '/health', portIndex: 0, gracePeriodSeconds: 0, intervalSeconds: 1, timeoutSeconds: 1, maxConsecutiveFailures: 1 };
      await callEmulator(marathon.url, 'POST', '/v2/apps', webApp('/shop/sick', 'shop/web:2.0.0-unhealthy', { healthChecks: [sickCheck] }));
      const failure = await until('a relaunch of the crashed instance', async () => {
        const { body } = await callEmulator(marathon.url, 'GET', '/v2/apps/shop/crash');
        const app = (body as { app: { lastTaskFailure?: Record<string, unknown>; tasks: Task[] } }).app;
        return app.lastTaskFailure && app.tasks.some((t) => t.id.endsWith('._app.2')) ? app.lastTaskFailure : undefined;
      });
      expect(failure).toMatchObject({ state: 'TASK_FAILED', message: 'Container exited with status 1', appId: '/shop/crash' });

      await until('the crash-after-healthy task failed', async () =>
        statusUpdates(await eventsOf(marathon.url)).some((u) => String(u.taskId).startsWith('shop_late.') && u.taskStatus === 'TASK_FAILED') ? true : undefined,
      );
      const events = await eventsOf(marathon.url);
      const late = events.filter((e) => String(e.data.appId ?? '') === '/shop/late');
      const healthyAt = late.findIndex((e) => e.eventType === 'health_status_changed_event' && e.data.alive === true);
      const failedAt = late.findIndex((e) => e.eventType === 'status_update_event' && e.data.taskStatus === 'TASK_FAILED');
      expect(healthyAt).toBeGreaterThanOrEqual(0);
      expect(failedAt).toBeGreaterThan(healthyAt);
      // maxConsecutiveFailures 1: the second counted failure kills, as HealthCheckActor checks the count before it.
      const sick = await until('the unhealthy task killed', async () => {
        const { body } = await callEmulator(marathon.url, 'GET', '/v2/apps/shop/sick');
        const app = (body as { app: { lastTaskFailure?: Record<string, unknown> } }).app;
        return app.lastTaskFailure;
      });
      expect(sick).toMatchObject({ state: 'TASK_KILLED', message: 'Task was killed since health check failed. Reason: 500 Internal Server Error' });
      const sickEvents = (await eventsOf(marathon.url)).filter((e) => e.data.appId === '/shop/sick');
      const killedTask = sickEvents.find((e) => e.eventType === 'unhealthy_instance_kill_event')?.data.taskId;
      expect(sickEvents.filter((e) => e.eventType === 'failed_health_check_event' && e.data.taskId === killedTask)).toHaveLength(2);
      await until('TASK_KILLED of the unhealthy task', async () =>
        statusUpdates(await eventsOf(marathon.url)).some((u) => u.taskId === killedTask && u.taskStatus === 'TASK_KILLED') ? true : undefined,
      );
      expect(statusUpdates(await eventsOf(marathon.url)).filter((u) => u.taskId === killedTask).map((u) => u.taskStatus)).toEqual([
        'TASK_STAGING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED',
      ]);
      // The crashing version never became healthy, so it never got a health_status_changed_event.
      expect(events.some((e) => e.eventType === 'health_status_changed_event' && e.data.appId === '/shop/crash')).toBe(false);
    } finally {
      await marathon.stop();
    }
  });

  it('baton emulator --run-tasks: a task process does not outlive an emulator killed with SIGKILL', async () => {
    const emulator = await startEmulatorProcess(['--run-tasks', '--image-command', testServiceCommand]);
    let pid = 0;
    try {
      await callEmulator(emulator.url, 'POST', '/v2/apps', webApp('/shop/web', 'shop/web:3.0.0'));
      const task = await until('a healthy task', async () => {
        const [first] = await tasksOf(emulator.url, '/shop/web');
        return first?.healthCheckResults?.[0]?.alive ? first : undefined;
      });
      const answer = (await (await fetch(`http://127.0.0.1:${task.ports[0]}/env`)).json()) as { pid: number };
      pid = answer.pid;
      expect(isAlive(pid)).toBe(true);
    } finally {
      emulator.child.kill('SIGKILL');
      await emulator.exited;
    }
    await until('the task process gone', async () => (isAlive(pid) ? undefined : true), 10_000);
  });
});

describe('Marathon rules for real tasks (pure)', () => {
  const rules = { gracePeriodMs: 10_000, maxConsecutiveFailures: 2 };
  const fail = { kind: 'unhealthy', cause: '500 Internal Server Error' } as const;
  const at = (now: number) => ({ now, runningSince: 0, rules });

  it('ignores failures within the grace period until the first success, then counts them; kills on the one after max', () => {
    const ignored = applyHealthResult(null, fail, at(5_000));
    expect(ignored).toMatchObject({ failedCheck: false, aliveChanged: false, kill: null, health: { consecutiveFailures: 0 } });
    const healthy = applyHealthResult(ignored.health, { kind: 'healthy' }, at(6_000));
    expect(healthy).toMatchObject({ aliveChanged: true, health: { alive: true, firstSuccess: new Date(6_000).toISOString() } });
    const first = applyHealthResult(healthy.health, fail, at(7_000));
    expect(first).toMatchObject({ failedCheck: true, aliveChanged: true, kill: null, health: { alive: false, consecutiveFailures: 1 } });
    const second = applyHealthResult(first.health, fail, at(8_000));
    expect(second).toMatchObject({ aliveChanged: false, kill: null, health: { consecutiveFailures: 2 } });
    const third = applyHealthResult(second.health, fail, at(9_000));
    expect(third.kill).toEqual({ reason: '500 Internal Server Error' });
    const afterGrace = applyHealthResult(null, fail, at(10_000));
    expect(afterGrace).toMatchObject({ failedCheck: true, health: { consecutiveFailures: 1, lastFailureCause: '500 Internal Server Error' } });
    const never = applyHealthResult(second.health, fail, { ...at(9_000), rules: { ...rules, maxConsecutiveFailures: 0 } });
    expect(never.kill).toBeNull();
  });

  it('sets PORT<i>, PORT_<port>, PORT_<NAME>, PORT and PORTS as EnvironmentHelper.portsEnv does', () => {
    const definition: JsonObject = {
      id: '/shop/api',
      cpus: 1,
      mem: 128,
      portDefinitions: [{ port: 10001, name: 'http' }, { port: 10002 }],
      labels: { 'a.b-c': 'x' },
    };
    const env = taskEnvironment(definition, { taskId: 't1', version: 'v1', host: '127.0.0.1', hostPorts: [31001, 31002] });
    expect(env).toMatchObject({
      PORT0: '31001', PORT1: '31002', PORT_10001: '31001', PORT_10002: '31002', PORT_HTTP: '31001', PORT: '31001', PORTS: '31001,31002',
      MARATHON_APP_RESOURCE_CPUS: '1.0', MARATHON_APP_LABELS: 'A_B_C', MARATHON_APP_LABEL_A_B_C: 'x', MESOS_TASK_ID: 't1',
    });
    expect(env.MARATHON_APP_DOCKER_IMAGE).toBeUndefined();
  });
});
