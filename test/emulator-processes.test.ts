// The emulator's real-process mode: tasks are processes on 127.0.0.1 running the test service.
import { describe, expect, it } from 'vitest';
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

  it('a crashing version fails (TASK_FAILED, lastTaskFailure) and is relaunched; crash-after-healthy is healthy first', async () => {
    const marathon = await startProcessEmulator({ timings: { backoffMs: 50 } });
    try {
      await callEmulator(marathon.url, 'POST', '/v2/apps', webApp('/shop/crash', 'shop/web:2.0.0-crash', { env: { CRASH_MS: '50' } }));
      await callEmulator(marathon.url, 'POST', '/v2/apps', webApp('/shop/late', 'shop/web:2.0.0-crash-after-healthy', { env: { CRASH_AFTER_MS: '200' } }));
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
