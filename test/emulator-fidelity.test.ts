// The emulator against Marathon 1.10.26's own behaviour (not what Baton expects), over HTTP with plain fetch:
// scale versions, unordered /versions, the revert's old version, the refused PUT's stored version, lastTaskFailure
// sources, the non-leader's redirect and proxy, Jersey's booleans and Jetty's SSE framing.
import net from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { callEmulator as call, dockerApp as web, startEmulator, withEmulator } from './support/emulator.js';

/** Raw bytes of GET /v2/events over a plain socket (no HTTP client to undo the framing), until `enough` says stop. */
async function rawEvents(port: number, query: string, enough: (raw: string) => boolean, write?: () => Promise<void>): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  let raw = '';
  const done = new Promise<string>((resolve, reject) => {
    socket.on('data', (chunk) => {
      raw += chunk.toString('utf8');
      if (enough(raw)) resolve(raw);
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(raw));
  });
  socket.write(`GET /v2/events${query} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`);
  await vi.waitFor(() => expect(raw).toContain('\r\n\r\n'), { timeout: 5_000, interval: 5 });
  await write?.();
  try {
    return await done;
  } finally {
    socket.destroy();
  }
}

interface Task {
  id: string;
  version: string;
  state: string;
  host: string;
}
interface App {
  version: string;
  versionInfo: { lastConfigChangeAt: string; lastScalingAt: string };
  instances: number;
  tasks: Task[];
  deployments: { id: string }[];
  tasksHealthy: number;
  tasksRunning: number;
  container?: { docker: { image: string } };
  lastTaskFailure?: Record<string, unknown>;
}

describe('Marathon fidelity', () => {
  const marathon = withEmulator();

  const getApp = async (id: string) => (await call(marathon.url, 'GET', `/v2/apps${id}`)).body.app as unknown as App;
  const settled = (id: string) =>
    vi.waitFor(
      async () => {
        const app = await getApp(id);
        expect(app.deployments).toEqual([]);
        return app;
      },
      { timeout: 5_000, interval: 10 },
    );
  const put = async (id: string, body: unknown, query = 'partialUpdate=false') => {
    const answer = await call(marathon.url, 'PUT', `/v2/apps${id}?${query}`, body);
    return answer as typeof answer & { body: { deploymentId: string; version: string } };
  };

  describe('boolean query parameters (Jersey: Boolean.valueOf, blank = default)', () => {
    it('force=True and force=TRUE force; force=yes and force=1 do not', async () => {
      const stuck = await put('/bool/web', web('/bool/web', 'shop/web:1.0.0-stuck'));
      for (const value of ['yes', '1', 'on']) {
        const refused = await put('/bool/web', web('/bool/web', 'shop/web:1.0.1-stuck'), `force=${value}`);
        expect(refused.status).toBe(409);
      }
      const forced = await put('/bool/web', web('/bool/web', 'shop/web:1.0.2-stuck'), 'force=True');
      expect(forced.status).toBe(200);
      const again = await put('/bool/web', web('/bool/web', 'shop/web:1.0.3-stuck'), 'force=TRUE');
      expect(again.status).toBe(200);
      expect(stuck.status).toBe(201);
    });

    it('partialUpdate=FALSE replaces, partialUpdate=yes is false too, a blank partialUpdate= is the default (true)', async () => {
      await put('/bool/partial', { ...web('/bool/partial'), env: { A: '1', B: '2' } });
      await settled('/bool/partial');
      await put('/bool/partial', { ...web('/bool/partial'), env: { A: '1' } }, 'partialUpdate=');
      await settled('/bool/partial');
      await put('/bool/partial', { env: { C: '3' } }, 'partialUpdate=');
      const merged = (await settled('/bool/partial')) as App & { env: Record<string, string>; cpus: number };
      expect(merged.env).toEqual({ C: '3' });
      expect(merged.cpus).toBe(0.25);
      await put('/bool/partial', { ...web('/bool/partial'), cpus: 0.5, env: { D: '4' } }, 'partialUpdate=FALSE');
      await settled('/bool/partial');
      const replaced = await put('/bool/partial', { id: '/bool/partial', cmd: 'sleep 100', cpus: 0.1 }, 'partialUpdate=yes');
      expect(replaced.status).toBe(200);
      const app = (await settled('/bool/partial')) as App & { cmd?: string; env: Record<string, string> };
      expect(app.container).toBeUndefined();
      expect(app.cmd).toBe('sleep 100');
      expect(app.env).toEqual({});
    });

    it('scale=True shrinks the app; scale=true with wipe=TRUE is refused with 400', async () => {
      await put('/bool/kill', web('/bool/kill', 'shop/web:1.0.0', { instances: 2 }));
      const app = await settled('/bool/kill');
      const task = app.tasks[0];
      if (!task) throw new Error('expected a task');
      const both = await call(marathon.url, 'DELETE', `/v2/apps/bool/kill/tasks/${task.id}?scale=true&wipe=TRUE`);
      expect(both).toMatchObject({ status: 400, body: { message: 'You cannot use scale and wipe at the same time.' } });
      const scaled = await call(marathon.url, 'DELETE', `/v2/apps/bool/kill/tasks/${task.id}?scale=True`);
      expect(scaled.body).toEqual({ deploymentId: expect.any(String), version: expect.any(String) });
      expect((await settled('/bool/kill')).instances).toBe(1);
    });
  });
  describe('scale versions (GroupVersioningUtil: withScaleOrRestartChange; Instance.runSpecVersion)', () => {
    const versions = async (id: string) => ((await call(marathon.url, 'GET', `/v2/apps${id}/versions`)).body.versions as string[]);

    it('a full PUT changing only instances and a {"instances": n} PUT each give the app a new version; running tasks keep theirs', async () => {
      const created = await put('/scalev/web', web('/scalev/web'));
      const first = await settled('/scalev/web');
      expect(first.tasks.every((t) => t.version === created.body.version)).toBe(true);

      const full = await put('/scalev/web', web('/scalev/web', 'shop/web:1.0.0', { instances: 3 }));
      const afterFull = await settled('/scalev/web');
      expect(full.body.version > created.body.version).toBe(true);
      expect(afterFull.version).toBe(full.body.version);
      expect(afterFull.versionInfo).toEqual({ lastConfigChangeAt: created.body.version, lastScalingAt: full.body.version });
      const oldIds = first.tasks.map((t) => t.id);
      expect(afterFull.tasks.filter((t) => oldIds.includes(t.id)).map((t) => t.version)).toEqual([created.body.version, created.body.version]);
      expect(afterFull.tasks.filter((t) => !oldIds.includes(t.id)).map((t) => t.version)).toEqual([full.body.version]);

      const partial = await put('/scalev/web', { instances: 4 }, 'partialUpdate=true');
      const afterPartial = await settled('/scalev/web');
      expect(afterPartial.version).toBe(partial.body.version);
      expect(afterPartial.versionInfo).toEqual({ lastConfigChangeAt: created.body.version, lastScalingAt: partial.body.version });
      expect(afterPartial.tasks.map((t) => t.version).sort()).toEqual(
        [created.body.version, created.body.version, full.body.version, partial.body.version].sort(),
      );
      expect([...(await versions('/scalev/web'))].sort()).toEqual([created.body.version, full.body.version, partial.body.version].sort());
      const stored = await call(marathon.url, 'GET', `/v2/apps/scalev/web/versions/${full.body.version}`);
      expect(stored.body).toMatchObject({ instances: 3, version: full.body.version, versionInfo: { lastConfigChangeAt: created.body.version } });
    });

    it('DELETE /v2/apps/{id}/tasks?scale=true gives the app a new version (stored in /versions); the remaining tasks keep theirs', async () => {
      const created = await put('/scalev/kill', web('/scalev/kill', 'shop/web:1.0.0', { instances: 3 }));
      const before = await settled('/scalev/kill');
      const victim = before.tasks[0];
      if (!victim) throw new Error('expected a task');
      const scaled = await call(marathon.url, 'DELETE', `/v2/apps/scalev/kill/tasks?host=${victim.host}&scale=true`);
      const version = (scaled.body as { version: string }).version;
      const after = await settled('/scalev/kill');
      expect(after.version).toBe(version);
      expect(after.versionInfo).toEqual({ lastConfigChangeAt: created.body.version, lastScalingAt: version });
      expect(after.tasks.length).toBeGreaterThan(0);
      expect(after.tasks.every((t) => t.version === created.body.version)).toBe(true);
      expect(await versions('/scalev/kill')).toContain(version);
    });
  });
  it('GET /versions answers neither newest first nor oldest first (Marathon has no fixed order), the same way each time', async () => {
    const issued: string[] = [];
    for (const tag of ['1.0.0', '1.0.1', '1.0.2', '1.0.3']) {
      issued.push((await put('/order/web', web('/order/web', `shop/web:${tag}`))).body.version);
      await settled('/order/web');
    }
    const listed = (await call(marathon.url, 'GET', '/v2/apps/order/web/versions')).body.versions as string[];
    expect([...listed].sort()).toEqual(issued);
    expect(listed).not.toEqual(issued);
    expect(listed).not.toEqual([...issued].reverse());
    expect(listed[0]).not.toBe(issued[3]);
    expect((await call(marathon.url, 'GET', '/v2/apps/order/web/versions')).body.versions).toEqual(listed);
  });
  describe('the revert of DELETE /v2/deployments/{id} gets Group.defaultVersion (fixed at process start)', () => {
    it('the DELETE answer, the restored app, its versionInfo and its tasks all carry a version older than what it undid', async () => {
      const v1 = await put('/revertv/web', web('/revertv/web'));
      await settled('/revertv/web');
      const bad = await put('/revertv/web', web('/revertv/web', 'shop/web:2.0.0-stuck'));
      const revert = await call(marathon.url, 'DELETE', `/v2/deployments/${bad.body.deploymentId}`);
      expect(revert.status).toBe(200);
      const { deploymentId, version } = revert.body as { deploymentId: string; version: string };
      expect(revert.headers.get('Marathon-Deployment-Id')).toBe(deploymentId);
      expect(version < v1.body.version).toBe(true);
      expect(Date.parse(version)).toBeLessThanOrEqual(Math.ceil(performance.timeOrigin));
      const app = await settled('/revertv/web');
      expect(app.container?.docker.image).toBe('shop/web:1.0.0');
      expect(app.version).toBe(version);
      expect(app.versionInfo).toEqual({ lastConfigChangeAt: version, lastScalingAt: version });
      expect(app.tasks.map((t) => t.version)).toEqual([version, version]);
      const versions = (await call(marathon.url, 'GET', '/v2/apps/revertv/web/versions')).body.versions as string[];
      expect([...versions].sort()).toEqual([version, v1.body.version, bad.body.version]);

      // A second revert gets the very same version: the store keeps one entry for it.
      const worse = await put('/revertv/web', web('/revertv/web', 'shop/web:3.0.0-stuck'));
      const again = (await call(marathon.url, 'DELETE', `/v2/deployments/${worse.body.deploymentId}`)).body as { version: string };
      expect(again.version).toBe(version);
      await settled('/revertv/web');
      const after = (await call(marathon.url, 'GET', '/v2/apps/revertv/web/versions')).body.versions as string[];
      expect([...after].sort()).toEqual([version, v1.body.version, bad.body.version, worse.body.version]);
    });

    it('reverting a scale is a scale: lastConfigChangeAt stays, version and lastScalingAt become the default version', async () => {
      const v1 = await put('/revertv/scale', web('/revertv/scale', 'shop/web:1.0.0-stuck', { instances: 1 }));
      const forced = await put('/revertv/scale', web('/revertv/scale', 'shop/web:1.0.0-stuck', { instances: 3 }), 'force=true');
      const revert = (await call(marathon.url, 'DELETE', `/v2/deployments/${forced.body.deploymentId}`)).body as { version: string };
      expect(revert.version < v1.body.version).toBe(true);
      const app = await getApp('/revertv/scale');
      expect(app.instances).toBe(1);
      expect(app.versionInfo).toEqual({ lastConfigChangeAt: v1.body.version, lastScalingAt: revert.version });
      expect(app.version).toBe(revert.version);
    });
  });
  it('a PUT refused with 409 has stored its version (it never ran) and emits deployment_failed and group_change_failed', async () => {
    const stuck = await put('/locked/web', web('/locked/web', 'shop/web:1.0.0-stuck'));
    const sent = Date.now();
    const refused = await put('/locked/web', web('/locked/web', 'shop/web:1.0.1'));
    expect(refused.status).toBe(409);
    const scaleRefused = await call(marathon.url, 'DELETE', '/v2/apps/locked/web/tasks?scale=true');
    expect(scaleRefused.status).toBe(409);
    const versions = (await call(marathon.url, 'GET', '/v2/apps/locked/web/versions')).body.versions as string[];
    expect(versions).toHaveLength(3);
    const stored = versions.filter((v) => v !== stuck.body.version).sort();
    const refusedVersion = (await call(marathon.url, 'GET', `/v2/apps/locked/web/versions/${stored[0]}`)).body as { container: { docker: { image: string } } };
    expect(refusedVersion.container.docker.image).toBe('shop/web:1.0.1');
    const scaleVersion = (await call(marathon.url, 'GET', `/v2/apps/locked/web/versions/${stored[1]}`)).body as { instances: number };
    expect(scaleVersion.instances).toBe(0);
    const app = await getApp('/locked/web');
    expect(app.version).toBe(stuck.body.version);
    expect(app.container?.docker.image).toBe('shop/web:1.0.0-stuck');

    const events = (await marathon.events()).filter((e) => e.emittedAt >= sent);
    const failed = events.filter((e) => e.eventType === 'deployment_failed');
    expect(failed).toHaveLength(2);
    expect(failed[0]?.data).toMatchObject({
      id: expect.any(String),
      plan: { version: stored[0], steps: [{ actions: [{ action: 'RestartApplication', app: '/locked/web' }] }] },
      reason: expect.stringContaining('App is locked by one or more deployments.'),
    });
    expect(failed[0]?.data.id).not.toBe(stuck.body.deploymentId);
    expect(events.filter((e) => e.eventType === 'group_change_failed').map((e) => e.data.version)).toEqual(stored);
    const running = (await call(marathon.url, 'GET', '/v2/deployments')).body as unknown as { id: string; affectedApps: string[] }[];
    expect(running.filter((d) => d.affectedApps.includes('/locked/web')).map((d) => d.id)).toEqual([stuck.body.deploymentId]);
  });
  describe('lastTaskFailure sources (state/TaskFailure.scala, HealthCheckActor)', () => {
    const since = (from: number) => async () => (await marathon.events()).filter((e) => e.emittedAt >= from);
    const ofApp = (appId: string, eventType: string) => (e: { eventType: string; data: Record<string, unknown> }) =>
      e.eventType === eventType && (e.data.appId === appId || e.data.runSpecId === appId);

    it('lost: one task goes TASK_LOST as if its agent was removed, is recorded and replaced; the deployment succeeds', async () => {
      const events = since(Date.now());
      const started = await put('/tf/lost', web('/tf/lost', 'shop/web:1.0.0', { labels: { EMULATOR_BEHAVIOUR: 'lost' } }));
      const app = await vi.waitFor(async () => {
        const current = await settled('/tf/lost');
        expect(current.lastTaskFailure).toBeDefined();
        expect(current.tasksHealthy).toBe(2);
        return current;
      }, { timeout: 5_000, interval: 20 });
      expect(app.lastTaskFailure).toMatchObject({
        appId: '/tf/lost',
        state: 'TASK_LOST',
        version: started.body.version,
        message: expect.stringContaining('removed'),
        taskId: expect.stringMatching(/^tf_lost\.instance-/),
      });
      expect(app.tasks.map((t) => t.id)).not.toContain(app.lastTaskFailure?.taskId);
      expect(app.tasks.every((t) => t.version === started.body.version && t.state === 'TASK_RUNNING')).toBe(true);
      const log = await events();
      const lost = log.filter(ofApp('/tf/lost', 'status_update_event')).filter((e) => e.data.taskStatus === 'TASK_LOST');
      expect(lost).toHaveLength(1);
      expect(lost[0]?.data).toMatchObject({ taskId: app.lastTaskFailure?.taskId, message: app.lastTaskFailure?.message, version: started.body.version });
      expect(log.some((e) => e.eventType === 'deployment_success' && e.data.id === started.body.deploymentId)).toBe(true);
    });

    it('hc-kill: failing health checks make Marathon kill the task (TASK_KILLED, recorded), relaunched forever', async () => {
      const events = since(Date.now());
      const started = await put('/tf/hckill', web('/tf/hckill', 'shop/web:2.0.0-hc-kill', { instances: 1 }));
      const failure = await vi.waitFor(async () => {
        const app = await getApp('/tf/hckill');
        expect(app.lastTaskFailure).toBeDefined();
        return app.lastTaskFailure;
      }, { timeout: 5_000, interval: 20 });
      expect(failure).toMatchObject({
        appId: '/tf/hckill',
        state: 'TASK_KILLED',
        message: expect.stringMatching(/^Task was killed since health check failed\. Reason: /),
        version: started.body.version,
      });
      await vi.waitFor(async () => {
        const killed = (await events()).filter(ofApp('/tf/hckill', 'status_update_event')).filter((e) => e.data.taskStatus === 'TASK_KILLED');
        expect(new Set(killed.map((e) => e.data.taskId)).size).toBeGreaterThanOrEqual(2);
        expect(killed[0]?.data).toMatchObject({ version: started.body.version, message: expect.any(String) });
      }, { timeout: 5_000, interval: 20 });
      const log = await events();
      const kills = log.filter(ofApp('/tf/hckill', 'unhealthy_instance_kill_event'));
      expect(kills.length).toBeGreaterThanOrEqual(2);
      expect(kills[0]?.data).toMatchObject({ taskId: failure?.taskId, version: started.body.version, reason: expect.any(String), instanceId: expect.any(String) });
      expect(log.some(ofApp('/tf/hckill', 'failed_health_check_event'))).toBe(true);
      const app = await getApp('/tf/hckill');
      expect(app.deployments).toEqual([{ id: started.body.deploymentId }]);
      await call(marathon.url, 'DELETE', `/v2/deployments/${started.body.deploymentId}?force=true`);
    });

    it('crash-after-healthy: the deployment succeeds, then the task crashes TASK_FAILED, relaunched (and crashing) forever', async () => {
      const events = since(Date.now());
      const started = await put('/tf/late', web('/tf/late', 'shop/web:3.0.0-crash-after-healthy', { instances: 1 }));
      await vi.waitFor(async () => {
        expect((await events()).some((e) => e.eventType === 'deployment_success' && e.data.id === started.body.deploymentId)).toBe(true);
      }, { timeout: 5_000, interval: 10 });
      await vi.waitFor(async () => {
        const failed = (await events()).filter(ofApp('/tf/late', 'status_update_event')).filter((e) => e.data.taskStatus === 'TASK_FAILED');
        expect(failed.length).toBeGreaterThanOrEqual(2);
        expect(failed[0]?.data).toMatchObject({ version: started.body.version, message: 'Container exited with status 1' });
      }, { timeout: 5_000, interval: 20 });
      const log = await events();
      const success = log.findIndex((e) => e.eventType === 'deployment_success' && e.data.id === started.body.deploymentId);
      const firstFailure = log.findIndex((e) => ofApp('/tf/late', 'status_update_event')(e) && e.data.taskStatus === 'TASK_FAILED');
      const healthy = log.findIndex((e) => ofApp('/tf/late', 'health_status_changed_event')(e) && e.data.alive === true);
      expect(healthy).toBeGreaterThanOrEqual(0);
      expect(healthy).toBeLessThan(success);
      expect(success).toBeLessThan(firstFailure);
      const app = await getApp('/tf/late');
      expect(app.deployments).toEqual([]);
      expect(app.lastTaskFailure).toMatchObject({ state: 'TASK_FAILED', version: started.body.version });
      await call(marathon.url, 'DELETE', '/v2/apps/tf/late');
    });
  });
  it.each(['*/*', 'text/*', 'text/event-stream, */*', 'application/json'])('GET /v2/events with Accept: %s is 405 (no exact text/event-stream)', async (accept) => {
    const refused = await call(marathon.url, 'GET', '/v2/events', undefined, { Accept: accept });
    expect(refused.status).toBe(405);
    expect(String(refused.body)).toContain('HTTP ERROR: 405');
  });

  it('SSE framing as Jetty 9.4 EventSourceServlet: Connection: close, no chunking, CRLF lines, bare CRLF heartbeats', async () => {
    const own = await startEmulator({ keepAliveMs: 40, timings: { stagingMs: 5, healthyMs: 5, killMs: 5 } });
    try {
      const raw = await rawEvents(
        own.port,
        '?event_type=deployment_info',
        (text) => text.includes('event: deployment_info') && /\r\n\r\n\r\n$/.test(text),
        async () => {
          await call(own.url, 'PUT', '/v2/apps/sse/web', { id: '/sse/web', cmd: 'sleep 100', instances: 0 });
        },
      );
      const [head = '', ...rest] = raw.split('\r\n\r\n');
      const body = rest.join('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 200 /);
      expect(head).toMatch(/\r\nConnection: close(\r\n|$)/i);
      expect(head).toMatch(/\r\nContent-Type: text\/event-stream;charset=utf-8(\r\n|$)/i);
      expect(head).not.toMatch(/Transfer-Encoding/i);
      expect(head).not.toMatch(/Content-Length/i);
      expect(body).toMatch(/event: deployment_info\r\ndata: \{.*\}\r\n\r\n/);
      expect(body.replace(/event: deployment_info\r\ndata: \{.*?\}\r\n\r\n/g, '')).toMatch(/^(\r\n)+$/);
      expect(body).not.toMatch(/(^|\n):/);
      expect(body.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    } finally {
      await own.close();
    }
  });
  describe('a non-leader (--leader): LeaderProxyFilter', () => {
    it('redirects /v2/events to the leader with 302 (same path and query, empty body) and proxies everything else', async () => {
      const follower = await startEmulator({ leader: marathon.url, credentials: { username: 'ops', password: 'pw' } });
      try {
        const events = await call(follower.url, 'GET', '/v2/events?event_type=deployment_success&event_type=deployment_failed', undefined, {
          Accept: 'text/event-stream',
        });
        expect(events.status).toBe(302);
        expect(events.headers.get('location')).toBe(`${marathon.url}/v2/events?event_type=deployment_success&event_type=deployment_failed`);
        expect(events.body).toBeUndefined();
        expect(events.headers.get('x-marathon-leader')).toBeNull();
        // The filter runs before authentication: the redirect needs no credentials, and neither does the proxy.
        const leaderAnswer = await call(follower.url, 'GET', '/v2/leader');
        expect(leaderAnswer.status).toBe(200);
        expect(leaderAnswer.body).toEqual({ leader: `127.0.0.1:${marathon.emulator.port}` });
        expect(leaderAnswer.headers.get('x-marathon-leader')).toBe(`http://127.0.0.1:${marathon.emulator.port}`);
        expect(leaderAnswer.headers.get('x-marathon-via')).toBe(`1.1 127.0.0.1:${follower.port}`);

        const created = await call(follower.url, 'PUT', '/v2/apps/proxied/web?partialUpdate=false', { id: '/proxied/web', cmd: 'sleep 100', instances: 1 });
        expect(created.status).toBe(201);
        expect(created.headers.get('marathon-deployment-id')).toBe((created.body as { deploymentId: string }).deploymentId);
        const onLeader = await getApp('/proxied/web');
        expect(onLeader.version).toBe((created.body as { version: string }).version);
        const forwarded = (await marathon.requests()).filter((r) => r.path === '/v2/apps/proxied/web' && r.method === 'PUT');
        expect(forwarded).toEqual([expect.objectContaining({ query: 'partialUpdate=false', status: 201 })]);
        expect((await call(follower.url, 'GET', '/ping')).body).toBe('pong');
        expect(await (await fetch(`${follower.url}/_emulator/requests`)).json()).toMatchObject({
          requests: expect.arrayContaining([expect.objectContaining({ path: '/v2/events', status: 302 })]),
        });
      } finally {
        await follower.close();
      }
    });

    it('answers 502 "Connection to leader refused." (Jetty error page) when the leader cannot be reached', async () => {
      const gone = await startEmulator();
      const deadUrl = gone.url;
      await gone.close();
      const follower = await startEmulator({ leader: deadUrl });
      try {
        const answer = await call(follower.url, 'GET', '/v2/apps');
        expect(answer.status).toBe(502);
        expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
        expect(String(answer.body)).toContain('Connection to leader refused.');
        expect(String(answer.body)).toContain('HTTP ERROR 502');
      } finally {
        await follower.close();
      }
    });
  });
});
