import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InfluxMetricsSource, MetricsError } from '../autoscaler/metrics/index.js';
import { decide } from '../autoscaler/policy/decide.js';
import type { TaskUsage } from '../autoscaler/policy/types.js';
import { cadvisorLines, lineProtocolTag, startInfluxDb, type InfluxDbServer } from './support/influxdb.js';

const DB = 'cadvisor';
const MIB = 1024 * 1024;
const WINDOW = { taskIdTag: 'MESOS_TASK_ID', windowSeconds: 300 };
const POD_TASK = 'shop_pod.instance-1';
const EDGE_TAG = 'EDGE_TASK_ID';

interface SeededTask {
  taskId: string;
  cores: number;
  memoryBytes: number;
  /** Seconds before the seeding time of the first and last sample. */
  fromAgo: number;
  toAgo: number;
  taskIdTag?: string;
}

const tasks: Record<string, SeededTask> = {
  busy: { taskId: 'shop_web.6f1c2a9e-busy', cores: 1.5, memoryBytes: 800 * MIB, fromAgo: 280, toAgo: 10 },
  idle: { taskId: 'shop_web.6f1c2a9e-idle', cores: 0.02, memoryBytes: 100 * MIB, fromAgo: 280, toAgo: 10 },
  stale: { taskId: 'shop_web.6f1c2a9e-stale', cores: 0.5, memoryBytes: 300 * MIB, fromAgo: 280, toAgo: 200 },
  // A prefix of another app's task id: joined by exact id, never by prefix.
  prefix: { taskId: 'shop_web', cores: 0.25, memoryBytes: 50 * MIB, fromAgo: 120, toAgo: 20 },
  hostile: { taskId: 'x" OR 1=1 --', cores: 0.75, memoryBytes: 200 * MIB, fromAgo: 280, toAgo: 10 },
  quoted: { taskId: `it's "quoted", with\\back\\\\slashes = odd`, cores: 0.4, memoryBytes: 64 * MIB, fromAgo: 280, toAgo: 10 },
  unicode: { taskId: 'shop_wéb.ünï-🚀', cores: 0.1, memoryBytes: 10 * MIB, fromAgo: 280, toAgo: 10 },
  // Written under a differently named label: invisible with the default tag, found with its own.
  customTag: { taskId: 'custom.1', cores: 2, memoryBytes: 1024 * MIB, fromAgo: 280, toAgo: 10, taskIdTag: 'task "id"\\x' },
};

/** A loopback proxy in front of InfluxDB that counts requests and can fail on demand. */
function startProxy(target: string) {
  const state = { requests: 0, bodies: [] as string[], authorizations: [] as Array<string | undefined>, mode: 'forward' as 'forward' | 'fail-503' | 'unauthorized' | 'hang' | 'first-line' };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', async () => {
      state.requests += 1;
      state.bodies.push(body);
      state.authorizations.push(req.headers.authorization);
      if (state.mode === 'hang') return;
      if (state.mode === 'unauthorized') {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"authorization failed"}');
        return;
      }
      if (state.mode === 'fail-503') {
        res.writeHead(503).end('overloaded');
        return;
      }
      const upstream = await fetch(`${target}${req.url}`, {
        method: req.method,
        headers: { 'content-type': req.headers['content-type'] ?? 'text/plain' },
        ...(req.method === 'POST' ? { body } : {}),
      });
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      const text = await upstream.text();
      // 'first-line': the answer ends after its first chunk, as when a connection drops mid-answer.
      res.end(state.mode === 'first-line' ? `${text.split('\n')[0]}\n` : text);
    });
  });
  return new Promise<{ url: string; state: typeof state; close(): Promise<void> }>((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        state,
        close: () => {
          server.closeAllConnections();
          return new Promise((done) => server.close(() => done()));
        },
      });
    });
  });
}

let influx: InfluxDbServer;
let proxy: Awaited<ReturnType<typeof startProxy>>;
let seededAt: number;

beforeAll(async () => {
  influx = await startInfluxDb();
  proxy = await startProxy(influx.url);
  seededAt = Math.floor(Date.now() / 1000) * 1000;
  const lines = Object.values(tasks).map((task, index) =>
    cadvisorLines({
      taskId: task.taskId,
      containerName: `mesos-${index}`,
      machine: `agent-${index % 2}`,
      cpuCoresUsed: task.cores,
      memoryBytes: task.memoryBytes,
      from: seededAt - task.fromAgo * 1000,
      to: seededAt - task.toAgo * 1000,
      stepSeconds: 10,
      ...(task.taskIdTag ? { taskIdTag: task.taskIdTag } : {}),
    }),
  );
  // One task, two containers (a Mesos pod): its usage is theirs summed.
  for (const [container, cores, memory] of [['pod-a', 0.3, 60 * MIB], ['pod-b', 0.2, 40 * MIB]] as const) {
    lines.push(cadvisorLines({
      taskId: POD_TASK, containerName: container, machine: 'agent-0', cpuCoresUsed: cores, memoryBytes: memory,
      from: seededAt - 280_000, to: seededAt - 10_000 - (container === 'pod-b' ? 10_000 : 0), stepSeconds: 10,
    }));
  }
  // Under their own tag, so that the other tests' task lists stay as they are: a container restarted in the window
  // (it ran before the window; its counter starts again from zero and ends below where the window began) and a
  // container with a single sample.
  const seed = (taskId: string, cores: number, fromAgo: number, toAgo: number) => cadvisorLines({
    taskId, containerName: 'main', machine: 'agent-1', cpuCoresUsed: cores, memoryBytes: 32 * MIB,
    from: seededAt - fromAgo * 1000, to: seededAt - toAgo * 1000, stepSeconds: 10, taskIdTag: EDGE_TAG,
  });
  lines.push(seed('restarted.1', 2, 580, 150), seed('restarted.1', 0.5, 140, 10), seed('single.1', 1, 10, 10));
  // cAdvisor's own container and the host's cgroups carry no task label.
  const untagged = [0, 1, 2].map((i) => `cpu_usage_total,container_name=cadvisor,machine=agent-0 value=${i * 1e9}i ${seededAt - (30 - i * 10) * 1000}000000`);
  await influx.writePoints(lines.join('') + untagged.join('\n'), DB);
});

afterAll(async () => {
  await proxy?.close();
  await influx?.stop();
});

beforeEach(() => {
  proxy.state.mode = 'forward';
});

describe('InfluxMetricsSource against a real InfluxDB', () => {
  it('reads cores, peak memory and freshness for every task in exactly one HTTP request', async () => {
    const source = new InfluxMetricsSource({ url: proxy.url, database: DB });
    const before = proxy.state.requests;
    const usage = await source.fetchUsage(WINDOW);
    expect(proxy.state.requests - before).toBe(1);
    expect(decodeURIComponent(proxy.state.bodies.at(-1) ?? '').split(';')).toHaveLength(3);

    const defaultTagged = Object.values(tasks).filter((task) => !task.taskIdTag);
    expect(Object.keys(usage).sort()).toEqual([...defaultTagged.map((task) => task.taskId), POD_TASK].sort());
    for (const task of defaultTagged) {
      const found = usage[task.taskId] as TaskUsage;
      expect(found.cpuCores, task.taskId).toBeCloseTo(task.cores, 4);
      expect(found.memoryBytes, task.taskId).toBe(task.memoryBytes);
      expect(found.lastSampleAt, task.taskId).toBe(seededAt - task.toAgo * 1000);
    }
  });

  it('sums the containers of a task, and takes its newest sample', async () => {
    const usage = await new InfluxMetricsSource({ url: influx.url, database: DB }).fetchUsage(WINDOW);
    expect(usage[POD_TASK]).toEqual({ cpuCores: expect.closeTo(0.5, 4), memoryBytes: 100 * MIB, lastSampleAt: seededAt - 10_000 });
  });

  it('escapes a hostile task-id tag name: no injection, the database is intact', async () => {
    const source = new InfluxMetricsSource({ url: influx.url, database: DB });
    for (const taskIdTag of ['MESOS_TASK_ID"; DROP DATABASE "cadvisor', 'MESOS_TASK_ID") GROUP BY "machine', `x' OR ''='`]) {
      await expect(source.fetchUsage({ taskIdTag, windowSeconds: 300 })).resolves.toEqual({});
    }
    const usage = await source.fetchUsage(WINDOW);
    expect(usage[tasks.busy!.taskId]?.cpuCores).toBeCloseTo(1.5, 4);
  });

  it('groups by a configured tag name with quotes, spaces and a backslash', async () => {
    const source = new InfluxMetricsSource({ url: influx.url, database: DB });
    const usage = await source.fetchUsage({ taskIdTag: tasks.customTag!.taskIdTag!, windowSeconds: 300 });
    expect(Object.keys(usage)).toEqual(['custom.1']);
    expect(usage['custom.1']?.cpuCores).toBeCloseTo(2, 4);
    expect(usage['custom.1']?.memoryBytes).toBe(1024 * MIB);
  });

  it('a shorter window leaves out tasks whose samples are older', async () => {
    const source = new InfluxMetricsSource({ url: influx.url, database: DB });
    const usage = await source.fetchUsage({ taskIdTag: 'MESOS_TASK_ID', windowSeconds: 150 });
    expect(usage[tasks.stale!.taskId]).toBeUndefined();
    expect(usage[tasks.busy!.taskId]?.cpuCores).toBeCloseTo(1.5, 4);
  });

  it('gives a restarted container (counter below its first sample) or a single sample no CPU figure, but freshness', async () => {
    const usage = await new InfluxMetricsSource({ url: influx.url, database: DB }).fetchUsage({ taskIdTag: EDGE_TAG, windowSeconds: 300 });
    expect(usage).toEqual({
      'restarted.1': { memoryBytes: 32 * MIB, lastSampleAt: seededAt - 10_000 },
      'single.1': { memoryBytes: 32 * MIB, lastSampleAt: seededAt - 10_000 },
    });
  });

  it('feeds decide(): the stale task is missing data, so the idle app does not shrink', async () => {
    const usage = await new InfluxMetricsSource({ url: influx.url, database: DB }).fetchUsage(WINDOW);
    const running = (id: string) => ({ id, state: 'TASK_RUNNING', healthy: null, startedAt: seededAt - 3_600_000 });
    const decision = decide({
      now: seededAt,
      policy: {
        appId: '/shop/web', minInstances: 1, maxInstances: 10, targetCpu: 0.8, tolerance: 0.1,
        scaleDownStabilizationSeconds: 0, warmupSeconds: 60, dryRun: false, schedules: [], source: 'rest',
      },
      app: {
        id: '/shop/web', instances: 2, cpus: 1, mem: 512, hasHealthChecks: false, deploymentInProgress: false,
        tasks: [running(tasks.idle!.taskId), running(tasks.stale!.taskId)],
      },
      usage,
      freshnessSeconds: 60,
      recommendations: [],
      scheduleFloor: null,
      metricsAvailable: true,
      consecutiveMetricFailures: 0,
    });
    expect(decision.inputs.tasks).toMatchObject([
      { taskId: tasks.idle!.taskId, status: 'used', cpuUtilization: expect.closeTo(0.02, 4) },
      { taskId: tasks.stale!.taskId, status: 'missing', cpuUtilization: expect.closeTo(0.5, 4) },
    ]);
    expect(decision).toMatchObject({ desired: 2, action: 'none', rules: ['missing-metrics'] });
  });

  it('reads the answer chunk by chunk: tiny chunks give exactly the usage one big chunk gives', async () => {
    const whole = await new InfluxMetricsSource({ url: influx.url, database: DB }).fetchUsage(WINDOW);
    const chunked = await new InfluxMetricsSource({ url: influx.url, database: DB, chunkSize: 2 }).fetchUsage(WINDOW);
    expect(Object.keys(whole).length).toBeGreaterThan(5);
    expect(chunked).toEqual(whole);
  });

  it('refuses an answer that ends before its last chunk', async () => {
    proxy.state.mode = 'first-line';
    const source = new InfluxMetricsSource({ url: proxy.url, database: DB, chunkSize: 2 });
    const failure = await source.fetchUsage(WINDOW).catch((error: unknown) => error as Error);
    expect(failure).toMatchObject({ name: 'MetricsError', kind: 'invalid-response' });
    expect(failure.message).toContain('cut the answer short');
  });

  it('reports an unknown database as a rejected query', async () => {
    const source = new InfluxMetricsSource({ url: influx.url, database: 'nope' });
    const failure = await source.fetchUsage(WINDOW).catch((error: unknown) => error as Error);
    expect(failure).toMatchObject({ name: 'MetricsError', kind: 'rejected' });
    expect(failure.message).toBe(
      `InfluxDB ${influx.url} (database "nope") rejected the usage query: database not found: nope`,
    );
  });

  it('reports an unreachable InfluxDB without the password, and tries again next time (no retries, no backoff)', async () => {
    const password = 's3cret-influx-pw';
    const source = new InfluxMetricsSource({ url: `http://reader:${password}@127.0.0.1:${new URL(proxy.url).port}`, database: DB });
    proxy.state.mode = 'fail-503';
    const before = proxy.state.requests;
    const failure = await source.fetchUsage(WINDOW).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(MetricsError);
    expect(failure).toMatchObject({ kind: 'unreachable' });
    expect((failure as Error).message).toBe(`InfluxDB ${proxy.url} (database "cadvisor") is unreachable: Service Unavailable`);
    expect((failure as Error).message).not.toContain(password);
    expect((failure as Error).message).not.toContain('reader');
    expect(proxy.state.requests - before).toBe(1);
    // The credentials in the URL are used (as basic auth), just never shown.
    expect(proxy.state.authorizations.at(-1)).toBe(`Basic ${Buffer.from(`reader:${password}`).toString('base64')}`);

    proxy.state.mode = 'forward';
    await expect(source.fetchUsage(WINDOW)).resolves.toHaveProperty([tasks.busy!.taskId]);
    expect(proxy.state.requests - before).toBe(2);
  });

  it('reports refused credentials as rejected, with InfluxDB\'s answer and without the password', async () => {
    proxy.state.mode = 'unauthorized';
    const source = new InfluxMetricsSource({ url: proxy.url, database: DB, username: 'reader', password: 'wrong-pw-123' });
    const failure = await source.fetchUsage(WINDOW).catch((error: unknown) => error as Error);
    expect(failure).toMatchObject({ name: 'MetricsError', kind: 'rejected' });
    expect(failure.message).toBe(`InfluxDB ${proxy.url} (database "cadvisor") answered HTTP 401 Unauthorized: {"error":"authorization failed"}`);
  });

  it('gives up after the request timeout', async () => {
    proxy.state.mode = 'hang';
    const source = new InfluxMetricsSource({ url: proxy.url, database: DB, requestTimeoutMs: 200 });
    await expect(source.fetchUsage(WINDOW)).rejects.toMatchObject({ kind: 'unreachable', message: expect.stringContaining('timed out') });
  });

  it('ends the request at once when the caller aborts it (the cycle no longer needs the answer)', async () => {
    proxy.state.mode = 'hang';
    const source = new InfluxMetricsSource({ url: proxy.url, database: DB, requestTimeoutMs: 10_000 });
    const controller = new AbortController();
    const started = Date.now();
    const pending = source.fetchUsage(WINDOW, controller.signal);
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ kind: 'unreachable', message: expect.stringContaining('aborted') });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('reports a refused connection', async () => {
    const closed = await startProxy(influx.url);
    await closed.close();
    const source = new InfluxMetricsSource({ url: closed.url, database: DB, password: 'pw-never-shown' });
    const failure = await source.fetchUsage(WINDOW).catch((error: unknown) => error as Error);
    expect(failure).toMatchObject({ name: 'MetricsError', kind: 'unreachable', message: expect.stringContaining('ECONNREFUSED') });
    expect(failure.message).not.toContain('pw-never-shown');
  });

  it('refuses a URL that is not http(s)', () => {
    expect(() => new InfluxMetricsSource({ url: 'influx.local:8086', database: DB })).toThrow(/http:\/\/ or https:\/\//);
    expect(() => new InfluxMetricsSource({ url: 'not a url', database: DB })).toThrow(MetricsError);
  });
});

describe('the cAdvisor line helper', () => {
  it.each(['with\nnewline', 'trailing\\', 'escapes\\,comma', ''])('refuses a tag line protocol cannot carry: %j', (value) => {
    expect(() => lineProtocolTag(value)).toThrow('line protocol cannot carry');
  });
});
