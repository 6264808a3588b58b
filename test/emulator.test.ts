// The emulator over HTTP, driven with the real MarathonClient and plain fetch, compared with Marathon's documented bodies.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { MarathonClient } from '../src/marathon/client.js';
import { MarathonError } from '../src/marathon/errors.js';
import type { AppInfo } from '../src/marathon/types.js';
import { repoRoot } from './support/cli.js';
import { callEmulator as call, dockerApp, startEmulator, withEmulator } from './support/emulator.js';

const examples = path.resolve(repoRoot, 'test/fixtures/marathon-api/extracted-examples');
const example = (file: string): unknown => JSON.parse(fs.readFileSync(path.join(examples, file), 'utf8'));

const web = dockerApp;

describe('Marathon emulator REST API', () => {
  const marathon = withEmulator();

  async function deployed(appId: string): Promise<AppInfo> {
    const client = marathon.client();
    return vi.waitFor(
      async () => {
        const app = await client.getApp(appId);
        expect(app.deployments).toEqual([]);
        return app;
      },
      { timeout: 5_000, interval: 10 },
    );
  }

  it('answers /ping, /v2/info and /v2/leader', async () => {
    const ping = await fetch(`${marathon.url}/ping`);
    expect(await ping.text()).toBe('pong');
    const info = await call(marathon.url, 'GET', '/v2/info');
    expect(info.body).toMatchObject({ name: 'marathon', version: '1.10.26', elected: true });
    const leader = await call(marathon.url, 'GET', '/v2/leader');
    expect(leader.body).toEqual({ leader: `127.0.0.1:${marathon.emulator.port}` });
  });

  it('creates with PUT (201 + Marathon-Deployment-Id), lists the deployment, then GET /v2/apps/{id} embeds tasks, counts, versionInfo', async () => {
    const stuck = web('/create/web', 'shop/web:1.0.0-stuck');
    const created = await call(marathon.url, 'PUT', '/v2/apps/create/web?partialUpdate=false', stuck);
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ deploymentId: expect.any(String), version: expect.any(String) });
    expect(created.headers.get('Marathon-Deployment-Id')).toBe(created.body.deploymentId);
    expect(created.headers.get('Location')).toBe('/v2/apps/create/web');

    const during = await marathon.client().getApp('create/web');
    expect(during).toMatchObject({ deployments: [{ id: created.body.deploymentId }], tasksStaged: 2, tasksRunning: 0 });
    const deployments = await marathon.client().listDeployments();
    expect(deployments.find((d) => d.id === created.body.deploymentId)).toEqual({
      id: created.body.deploymentId,
      version: created.body.version,
      affectedApps: ['/create/web'],
      affectedPods: [],
      steps: [{ actions: [{ action: 'StartApplication', app: '/create/web' }] }, { actions: [{ action: 'ScaleApplication', app: '/create/web' }] }],
      currentActions: [{ action: 'ScaleApplication', app: '/create/web', readinessCheckResults: [] }],
      currentStep: 2,
      totalSteps: 2,
    });

    const fixed = await marathon.client().putApp(web('/create/web'), { partialUpdate: false, force: true });
    expect(fixed.created).toBe(false);
    const app = await deployed('/create/web');
    expect(app).toMatchObject({
      id: '/create/web',
      instances: 2,
      version: fixed.version,
      versionInfo: { lastConfigChangeAt: fixed.version, lastScalingAt: fixed.version },
      tasksStaged: 0,
      tasksRunning: 2,
      tasksHealthy: 2,
      tasksUnhealthy: 0,
    });
    expect(app.tasks).toHaveLength(2);
    for (const task of app.tasks ?? []) {
      expect(task).toMatchObject({ appId: '/create/web', state: 'TASK_RUNNING', version: fixed.version });
      expect(task.id).toMatch(/^create_web\.instance-[0-9a-f-]{36}\._app\.1$/);
      expect(task.healthCheckResults).toEqual([expect.objectContaining({ alive: true })]);
      expect(task.ports).toHaveLength(1);
    }
  });

  it('lists apps: counts and deployments always, tasks and lastTaskFailure only when embedded, filtered by id and label', async () => {
    const client = marathon.client();
    await client.putApp(web('/list/a', 'shop/web:1.0.0', { labels: { team: 'shop', tier: 'front' } }));
    await client.putApp(web('/list/b', 'shop/web:1.0.0', { labels: { team: 'data' } }));
    await deployed('/list/b');
    const plain = await call(marathon.url, 'GET', '/v2/apps?id=/list/');
    const apps = plain.body.apps as Record<string, unknown>[];
    expect(apps.map((a) => a.id)).toEqual(['/list/a', '/list/b']);
    expect(apps[0]).toHaveProperty('tasksRunning');
    expect(apps[0]).toHaveProperty('deployments');
    expect(apps[0]).not.toHaveProperty('tasks');

    const embedded = await client.listApps();
    expect(embedded.find((a) => a.id === '/list/a')?.tasks).toHaveLength(2);

    const byLabel = await call(marathon.url, 'GET', `/v2/apps?label=${encodeURIComponent('team==shop, tier in (front, back)')}`);
    expect((byLabel.body.apps as { id: string }[]).map((a) => a.id)).toEqual(['/list/a']);
    const notShop = await call(marathon.url, 'GET', `/v2/apps?id=/list/&label=${encodeURIComponent('team!=shop')}`);
    expect((notShop.body.apps as { id: string }[]).map((a) => a.id)).toEqual(['/list/b']);
  });

  it('partialUpdate=true merges onto the live app; partialUpdate=false makes the body the whole definition', async () => {
    const client = marathon.client();
    await client.putApp(web('/partial/web', 'shop/web:1.0.0', { labels: { keep: 'me' } }), { partialUpdate: false });
    await deployed('/partial/web');

    const merged = await call(marathon.url, 'PUT', '/v2/apps/partial/web', { env: { LOG_LEVEL: 'debug' } });
    expect(merged.status).toBe(200);
    let app = await deployed('/partial/web');
    expect(app.env).toEqual({ LOG_LEVEL: 'debug' });
    expect(app.labels).toEqual({ keep: 'me' });

    const whole = web('/partial/web');
    await client.putApp(whole, { partialUpdate: false });
    app = await deployed('/partial/web');
    expect(app.labels).toEqual({});

    const patched = await call(marathon.url, 'PATCH', '/v2/apps/partial/web', { cpus: 0.5 });
    expect(patched.status).toBe(200);
    expect((await deployed('/partial/web')).cpus).toBe(0.5);
    expect((await call(marathon.url, 'PATCH', '/v2/apps/partial/none', { cpus: 0.5 })).status).toBe(404);
  });

  it('a scale is a ScaleApplication: no restart, only lastScalingAt moves', async () => {
    const client = marathon.client();
    const first = await client.putApp(web('/scale/web'), { partialUpdate: false });
    const before = await deployed('/scale/web');
    const scaled = await client.scaleApp('/scale/web', 4);
    const after = await deployed('/scale/web');
    const info = (await marathon.events()).find((e) => e.eventType === 'deployment_info' && (e.data.plan as { id: string }).id === scaled.deploymentId);
    expect(info?.data.currentStep).toEqual({ actions: [{ action: 'ScaleApplication', app: '/scale/web' }] });
    expect(after.tasksHealthy).toBe(4);
    expect(after.versionInfo).toEqual({ lastConfigChangeAt: first.version, lastScalingAt: scaled.version });
    const oldIds = (before.tasks ?? []).map((t) => t.id);
    expect((after.tasks ?? []).filter((t) => oldIds.includes(t.id))).toHaveLength(2);
  });

  it('an unchanged definition returns a deployment id and version but restarts nothing', async () => {
    const client = marathon.client();
    await client.putApp(web('/same/web'), { partialUpdate: false });
    const before = await deployed('/same/web');
    const again = await client.putApp(web('/same/web'), { partialUpdate: false });
    expect(again.created).toBe(false);
    expect(again.deploymentId).toEqual(expect.any(String));
    expect((await client.listDeployments()).map((d) => d.id)).not.toContain(again.deploymentId);
    const after = await client.getApp('/same/web');
    expect(after.version).toBe(before.version);
    expect((after.tasks ?? []).map((t) => t.id).sort()).toEqual((before.tasks ?? []).map((t) => t.id).sort());
    expect(await client.listVersions('/same/web')).toEqual([before.version]);
  });

  it('locks an app during a deployment (409 with the deployment ids); force cancels the running one', async () => {
    const client = marathon.client();
    const stuck = await client.putApp(web('/lock/web', 'shop/web:1.0.0-stuck'));
    const refused = await client.putApp(web('/lock/web', 'shop/web:1.0.1')).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(MarathonError);
    expect(refused).toMatchObject({ kind: 'locked', status: 409, deploymentIds: [stuck.deploymentId] });
    const raw = await call(marathon.url, 'PUT', '/v2/apps/lock/web', { instances: 3 });
    expect(raw.body).toEqual({ ...(example('errors/409-app-locked-by-deployment.json') as object), deployments: [{ id: stuck.deploymentId }] });

    const forced = await client.putApp(web('/lock/web', 'shop/web:1.0.1'), { force: true });
    const ids = (await client.listDeployments()).map((d) => d.id);
    expect(ids).toContain(forced.deploymentId);
    expect(ids).not.toContain(stuck.deploymentId);
    expect((await deployed('/lock/web')).version).toBe(forced.version);
  });

  it('DELETE /v2/deployments/{id} reverts in a new deployment; force=true only stops it (202); unknown ids are 404', async () => {
    const client = marathon.client();
    const v1 = await client.putApp(web('/revert/web'), { partialUpdate: false });
    await deployed('/revert/web');
    const bad = await client.putApp(web('/revert/web', 'shop/web:2.0.0-unhealthy'), { partialUpdate: false });
    const revert = await client.deleteDeployment(bad.deploymentId);
    expect(revert).toEqual({ deploymentId: expect.any(String), version: expect.any(String) });
    const app = await deployed('/revert/web');
    expect((app.container as { docker: { image: string } }).docker.image).toBe('shop/web:1.0.0');
    expect(app.tasksHealthy).toBe(2);
    expect(app.version).toBe(revert?.version);
    expect([...(await client.listVersions('/revert/web'))].sort()).toEqual([revert?.version, v1.version, bad.version]);

    const stuck = await client.putApp(web('/revert/web', 'shop/web:3.0.0-stuck'), { partialUpdate: false });
    const forced = await call(marathon.url, 'DELETE', `/v2/deployments/${stuck.deploymentId}?force=true`);
    expect(forced.status).toBe(202);
    expect(forced.body).toBeUndefined();
    expect((await client.getApp('/revert/web')).version).toBe(stuck.version);

    const unknown = await call(marathon.url, 'DELETE', '/v2/deployments/unknown_deployment');
    expect(unknown).toMatchObject({ status: 404, body: example('errors/404-deployment-not-found.json') });
  });

  it('lists versions (oldest first for two: no fixed order), serves each one, and rolls back with {"version": ts}', async () => {
    const client = marathon.client();
    const v1 = await client.putApp(web('/versions/web'), { partialUpdate: false });
    await deployed('/versions/web');
    const v2 = await client.putApp(web('/versions/web', 'shop/web:2.0.0'), { partialUpdate: false });
    await deployed('/versions/web');
    expect(await client.listVersions('/versions/web')).toEqual([v1.version, v2.version]);
    const old = await client.getAppVersion('/versions/web', v1.version);
    expect(old).toMatchObject({ id: '/versions/web', version: v1.version });
    expect((old.container as { docker: { image: string } }).docker.image).toBe('shop/web:1.0.0');

    const rollback = await client.rollbackToVersion('/versions/web', v1.version);
    const app = await deployed('/versions/web');
    expect(app.version).toBe(rollback.version);
    expect((app.container as { docker: { image: string } }).docker.image).toBe('shop/web:1.0.0');
    expect((await call(marathon.url, 'GET', '/v2/apps/versions/web/versions/2000-01-01T00:00:00.000Z')).body).toEqual({
      message: "App '/versions/web' does not exist in version 2000-01-01T00:00:00.000Z",
    });
    const mixed = await call(marathon.url, 'PUT', '/v2/apps/versions/web', { version: v1.version, instances: 1 });
    expect(mixed.status).toBe(422);
  });

  it('restarts (rolling) with a new version of the same config, POSTs and DELETEs apps', async () => {
    const client = marathon.client();
    const posted = await call(marathon.url, 'POST', '/v2/apps', web('/restart/web'));
    expect(posted.status).toBe(201);
    expect(posted.headers.get('Location')).toBe('/v2/apps/restart/web');
    expect(posted.body).toMatchObject({ id: '/restart/web', deployments: [{ id: posted.headers.get('Marathon-Deployment-Id') }] });
    expect((await call(marathon.url, 'POST', '/v2/apps', web('/restart/web'))).body).toEqual({
      message: 'An app with id [/restart/web] already exists.',
    });
    const before = await deployed('/restart/web');
    const restart = await client.restartApp('/restart/web');
    const after = await deployed('/restart/web');
    expect(after.versionInfo).toEqual({ lastConfigChangeAt: before.version, lastScalingAt: restart.version });
    expect((after.tasks ?? []).every((t) => t.version === restart.version)).toBe(true);

    const deleted = await call(marathon.url, 'DELETE', '/v2/apps/restart/web');
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ deploymentId: expect.any(String), version: expect.any(String) });
    expect(await client.findApp('/restart/web')).toBeNull();
    expect((await call(marathon.url, 'GET', '/v2/apps/restart/web')).body).toEqual({ message: "App '/restart/web' does not exist" });
  });

  it('kills single tasks (replaced) or with scale=true (the app shrinks), by id, by host and in bulk', async () => {
    const client = marathon.client();
    await client.putApp(web('/kill/web', 'shop/web:1.0.0', { instances: 3 }));
    const before = await deployed('/kill/web');
    const [first, second] = before.tasks ?? [];
    if (!first || !second) throw new Error('expected tasks');

    const one = await call(marathon.url, 'DELETE', `/v2/apps/kill/web/tasks/${first.id}`);
    expect(one).toMatchObject({ status: 200, body: { task: { id: first.id, appId: '/kill/web' } } });
    const replaced = await vi.waitFor(async () => {
      const app = await client.getApp('/kill/web');
      expect(app.tasksHealthy).toBe(3);
      expect(app.tasks?.map((t) => t.id)).not.toContain(first.id);
      return app;
    }, { timeout: 5_000, interval: 10 });
    expect(replaced.instances).toBe(3);

    const scaled = await call(marathon.url, 'DELETE', `/v2/apps/kill/web/tasks/${second.id}?scale=true`);
    expect(scaled).toMatchObject({ status: 200, body: { deploymentId: expect.any(String), version: expect.any(String) } });
    const shrunk = await deployed('/kill/web');
    expect(shrunk.instances).toBe(2);
    expect(shrunk.tasks?.map((t) => t.id)).not.toContain(second.id);
    expect(shrunk.versionInfo?.lastScalingAt).toBe(scaled.body.version);

    const missing = await call(marathon.url, 'DELETE', '/v2/apps/kill/web/tasks/not-existing');
    expect(missing).toMatchObject({ status: 404, body: example('errors/404-task-not-found.json') });
    const invalid = await call(marathon.url, 'POST', '/v2/tasks/delete', { ids: ['not_known'] });
    expect(invalid).toMatchObject({ status: 400, body: { message: 'Invalid task id not_known' } });

    const bulk = await call(marathon.url, 'POST', '/v2/tasks/delete?scale=true', { ids: shrunk.tasks?.slice(0, 1).map((t) => t.id) });
    expect(bulk.body).toEqual({ deploymentId: expect.any(String), version: expect.any(String) });
    expect((await deployed('/kill/web')).instances).toBe(1);
    const host = (await client.getApp('/kill/web')).tasks?.[0]?.host ?? '';
    const byHost = await call(marathon.url, 'DELETE', `/v2/apps/kill/web/tasks?host=${host}&scale=true`);
    expect(byHost.status).toBe(200);
    expect(await deployed('/kill/web')).toMatchObject({ instances: 0, tasksRunning: 0 });
  });

  it('crash: TASK_FAILED, lastTaskFailure on the new version, the app backing off in /v2/queue, relaunched forever', async () => {
    const client = marathon.client();
    const bad = await client.putApp(web('/crash/web', 'shop/web:2.0.0-crash'));
    const app = await vi.waitFor(
      async () => {
        const current = await client.getApp('/crash/web');
        expect(current.lastTaskFailure).toBeDefined();
        return current;
      },
      { timeout: 5_000, interval: 10 },
    );
    expect(app.lastTaskFailure).toMatchObject({ appId: '/crash/web', state: 'TASK_FAILED', version: bad.version, message: expect.any(String) });
    const queue = await vi.waitFor(
      async () => {
        const body = (await call(marathon.url, 'GET', '/v2/queue')).body as { queue: { app: { id: string } }[] };
        const entry = body.queue.find((q) => q.app.id === '/crash/web');
        expect(entry).toBeDefined();
        return entry;
      },
      { timeout: 5_000, interval: 5 },
    );
    expect(queue).toMatchObject({ count: expect.any(Number), delay: { overdue: false, timeLeftSeconds: 1 } });
    await vi.waitFor(async () => {
      const failures = (await marathon.events()).filter(
        (e) => e.eventType === 'status_update_event' && e.data.appId === '/crash/web' && e.data.taskStatus === 'TASK_FAILED',
      );
      expect(failures.length).toBeGreaterThanOrEqual(4);
    }, { timeout: 5_000, interval: 20 });
    expect((await client.listDeployments()).map((d) => d.id)).toContain(bad.deploymentId);
  });

  it('unhealthy: tasks run but tasksUnhealthy > 0 and the deployment stays open', async () => {
    const client = marathon.client();
    const bad = await client.putApp(web('/unhealthy/web', 'shop/web:1.0.0', { labels: { EMULATOR_BEHAVIOUR: 'unhealthy' } }));
    const app = await vi.waitFor(
      async () => {
        const current = await client.getApp('/unhealthy/web');
        expect(current.tasksUnhealthy).toBe(2);
        return current;
      },
      { timeout: 5_000, interval: 10 },
    );
    expect(app.tasksHealthy).toBe(0);
    expect(app.deployments).toEqual([{ id: bad.deploymentId }]);
  });

  it('answers unparseable and mistyped bodies with 400 and broken rules with 422, as Marathon words them', async () => {
    const unparseable = await call(marathon.url, 'PUT', '/v2/apps/bad/web', '{"id": ');
    expect(unparseable.status).toBe(400);
    expect(unparseable.body).toEqual({ message: 'Invalid JSON', details: [{ path: '/', errors: [expect.any(String)] }] });

    const mistyped = await call(marathon.url, 'PUT', '/v2/apps/bad/web', { id: 1, cmd: 'sleep 1' });
    expect(mistyped).toMatchObject({ status: 400, body: example('errors/400-invalid-json.json') });

    const invalid = await call(marathon.url, 'PUT', '/v2/apps/bad/web', {
      cmd: 'sleep 1',
      upgradeStrategy: { minimumHealthCapacity: 1.5, maximumOverCapacity: 0.5 },
    });
    expect(invalid).toMatchObject({ status: 422, body: example('errors/422-object-not-valid.json') });
    const error = await marathon.client().putApp({ id: '/bad/web', cmd: 'sleep 1', cpus: 0 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'invalid', status: 422, details: [{ path: '/cpus', errors: [expect.any(String)] }] });
    expect((await call(marathon.url, 'GET', '/v2/apps/not_existent')).body).toEqual(example('errors/404-app-not-found.json'));
  });

  it('logs every request without auth headers, and starts with seeded apps already healthy', async () => {
    const seeded = await startEmulator({
      apps: [{ id: '/seed/web', cmd: 'sleep 1', instances: 3, healthChecks: [{ protocol: 'HTTP' }] }],
      credentials: { username: 'ops', password: 's3cret' },
    });
    try {
      const client = new MarathonClient({ url: seeded.url, auth: { basic: 'ops:s3cret' } });
      expect(await client.getApp('/seed/web')).toMatchObject({ tasksRunning: 3, tasksHealthy: 3, deployments: [] });
      const log = await (await fetch(`${seeded.url}/_emulator/requests`)).json();
      expect(log).toEqual({ requests: [expect.objectContaining({ method: 'GET', path: '/v2/apps/seed/web', status: 200 })] });
      expect(JSON.stringify(log)).not.toContain('s3cret');
    } finally {
      await seeded.close();
    }
  });
});

describe('Marathon emulator authentication', () => {
  const marathon = withEmulator({ credentials: { username: 'ops', password: 's3cret' }, token: 'dcos-jwt' });

  it('answers 401 with Marathon body and a Basic challenge without or with wrong credentials', async () => {
    const missing = await call(marathon.url, 'GET', '/v2/apps');
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual(example('errors/401-unauthorized.json'));
    expect(missing.headers.get('WWW-Authenticate')).toBe('Basic realm="Mesosphere Marathon"');
    const wrong = await marathon.client({ basic: 'ops:nope' }).listApps().catch((e: unknown) => e);
    expect(wrong).toMatchObject({ kind: 'unauthorized', status: 401, message: 'Invalid username or password.' });
  });

  it('accepts Basic credentials, credentials in the URL, and a DC/OS token', async () => {
    await expect(marathon.client({ basic: 'ops:s3cret' }).listApps()).resolves.toEqual([]);
    await expect(marathon.client({ token: 'dcos-jwt' }).listApps()).resolves.toEqual([]);
    const inUrl = new MarathonClient({ url: marathon.url.replace('http://', 'http://ops:s3cret@') });
    await expect(inUrl.listDeployments()).resolves.toEqual([]);
    expect((await fetch(`${marathon.url}/ping`)).status).toBe(200);
  });
});
