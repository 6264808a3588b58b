// The emulator's real-process mode: tasks are processes on 127.0.0.1 running the test service.
import { describe, expect, it } from 'vitest';
import { callEmulator, startProcessEmulator } from './support/emulator.js';

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
      const events = ((await callEmulator(marathon.url, 'GET', '/_emulator/events')).body as { events: { eventType: string; data: Record<string, unknown> }[] }).events;
      const states = events.filter((e) => e.eventType === 'status_update_event' && e.data.taskId === task.id).map((e) => e.data.taskStatus);
      expect(states).toEqual(['TASK_STAGING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
      const running = events.find((e) => e.eventType === 'status_update_event' && e.data.taskStatus === 'TASK_RUNNING');
      expect(running?.data).toMatchObject({ host: '127.0.0.1', ports: [port] });
      expect(events.some((e) => e.eventType === 'health_status_changed_event' && e.data.alive === true)).toBe(true);
    } finally {
      await marathon.stop();
    }
  });
});
