// The emulator's state machine driven by a manual clock: no sleeping, every transition at an exact time.
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../src/emulator/clock.js';
import type { JsonObject } from '../src/emulator/definition.js';
import { MarathonModel, type Outcome } from '../src/emulator/model.js';
import { countsOf } from '../src/emulator/views.js';

const timings = { stagingMs: 10, healthyMs: 20, crashMs: 30, killMs: 5, backoffMs: 50 };
const origin = { clientIp: '127.0.0.1', uri: '/v2/apps/shop/web' };

function setup() {
  const clock = createManualClock();
  const events: { eventType: string; data: JsonObject }[] = [];
  const model = new MarathonModel({ clock, timings, emit: (eventType, data) => events.push({ eventType, data }) });
  const put = (body: JsonObject, force = false, appId = '/shop/web'): Extract<Outcome, { ok: true }> => {
    const definition = model.normalize({ ...body, id: appId }, appId, model.app(appId)?.stored);
    const outcome = model.putApp(appId, definition, { force, origin });
    if (!outcome.ok) throw new Error(`put failed: ${JSON.stringify(outcome.body)}`);
    return outcome;
  };
  const types = () => events.map((e) => (e.data.taskStatus ? `${e.eventType}:${e.data.taskStatus}` : e.eventType));
  const app = (appId = '/shop/web') => {
    const record = model.app(appId);
    if (!record) throw new Error(`no app ${appId}`);
    return record;
  };
  return { clock, events, model, put, types, app };
}

const web = (image: string, extra: JsonObject = {}): JsonObject => ({
  instances: 3,
  container: { type: 'DOCKER', docker: { image } },
  healthChecks: [{ protocol: 'MESOS_HTTP', path: '/health' }],
  ...extra,
});

describe('Marathon emulator model', () => {
  it('creates an app: start and scale steps, staging → running → healthy, then deployment_success', () => {
    const { clock, model, put, types, app, events } = setup();
    const started = put(web('shop/web:1.0.0'));
    expect(started.created).toBe(true);
    expect(model.deployments.get(started.deploymentId)?.steps).toEqual(['StartApplication', 'ScaleApplication']);
    expect(countsOf(app())).toMatchObject({ tasksStaged: 3, tasksRunning: 0 });

    clock.advance(10);
    expect(countsOf(app())).toEqual({ tasksStaged: 0, tasksRunning: 3, tasksHealthy: 0, tasksUnhealthy: 0 });
    expect(model.deployments.has(started.deploymentId)).toBe(true);

    clock.advance(20);
    expect(countsOf(app())).toMatchObject({ tasksRunning: 3, tasksHealthy: 3 });
    expect(model.deployments.size).toBe(0);

    const sequence = types().filter((t) => !t.startsWith('instance_'));
    expect(sequence.slice(0, 5)).toEqual([
      'api_post_event',
      'group_change_success',
      'deployment_info',
      'deployment_step_success',
      'deployment_info',
    ]);
    expect(sequence.at(-2)).toBe('deployment_step_success');
    expect(sequence.at(-1)).toBe('deployment_success');
    expect(sequence.filter((t) => t === 'status_update_event:TASK_RUNNING')).toHaveLength(3);
    expect(sequence.indexOf('status_update_event:TASK_RUNNING')).toBeGreaterThan(sequence.indexOf('status_update_event:TASK_STAGING'));
    const success = events.at(-1)?.data;
    expect(success).toMatchObject({ id: started.deploymentId, plan: { id: started.deploymentId, version: started.version } });
    for (const task of app().tasks) {
      expect(task.id).toMatch(/^shop_web\.instance-[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}\._app\.1$/);
      expect(task.version).toBe(started.version);
      expect(task.host).toMatch(/^agent-\d\.emulator$/);
    }
  });

  it('rolls a config change out within upgradeStrategy: never fewer than minimumHealthCapacity healthy, never above capacity', () => {
    const { clock, model, put, app, events } = setup();
    put(web('shop/web:1.0.0', { upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 0 } }));
    clock.advance(100);
    const before = app().stored;
    const change = put(web('shop/web:2.0.0', { upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 0 } }));
    expect(model.deployments.get(change.deploymentId)?.steps).toEqual(['RestartApplication']);

    let maxTasks = 0;
    for (let ms = 0; ms < 1000 && model.deployments.size > 0; ms++) {
      const live = app().tasks;
      expect(countsOf(app()).tasksHealthy).toBeGreaterThanOrEqual(3);
      maxTasks = Math.max(maxTasks, live.filter((t) => !t.killing).length);
      clock.advance(1);
    }
    expect(model.deployments.size).toBe(0);
    expect(maxTasks).toBe(4);
    expect(app().tasks.map((t) => t.version)).toEqual([change.version, change.version, change.version]);
    expect(app().stored.versionInfo).toEqual({ lastConfigChangeAt: change.version, lastScalingAt: change.version });
    expect(app().versions.map((v) => v.version)).toEqual([before.version, change.version]);
    expect(events.filter((e) => e.data.taskStatus === 'TASK_KILLED')).toHaveLength(3);
  });

  it('scales without restarting: old tasks stay, only lastScalingAt moves', () => {
    const { clock, put, app } = setup();
    const first = put(web('shop/web:1.0.0'));
    clock.advance(100);
    const oldIds = app().tasks.map((t) => t.id);
    const scaled = put({ ...web('shop/web:1.0.0'), instances: 5 });
    clock.advance(100);
    expect(app().tasks).toHaveLength(5);
    expect(app().tasks.map((t) => t.id).slice(0, 3)).toEqual(oldIds);
    expect(app().stored.versionInfo).toEqual({ lastConfigChangeAt: first.version, lastScalingAt: scaled.version });
    expect(app().stored.version).toBe(scaled.version);

    put({ ...web('shop/web:1.0.0'), instances: 1 });
    clock.advance(100);
    expect(app().tasks.map((t) => t.id)).toEqual([oldIds[0]]);
  });

  it('an unchanged definition starts nothing: new plan id and version, app version kept, deployment_success at once', () => {
    const { clock, model, put, app, types } = setup();
    const first = put(web('shop/web:1.0.0'));
    clock.advance(100);
    const ids = app().tasks.map((t) => t.id);
    const before = types().length;
    const again = put(web('shop/web:1.0.0'));
    expect(again.version > first.version).toBe(true);
    expect(again.deploymentId).not.toBe(first.deploymentId);
    expect(model.deployments.size).toBe(0);
    expect(app().stored.version).toBe(first.version);
    expect(app().versions).toHaveLength(1);
    expect(types().slice(before)).toEqual(['api_post_event', 'group_change_success', 'deployment_success']);
    clock.advance(100);
    expect(app().tasks.map((t) => t.id)).toEqual(ids);
  });

  it('issues strictly increasing versions within one millisecond', () => {
    const { put } = setup();
    const versions = [1, 2, 3, 4].map((n) => put({ cmd: 'sleep 1', instances: n }, true).version);
    expect(new Set(versions).size).toBe(4);
    expect([...versions].sort()).toEqual(versions);
  });

  it('crash: TASK_FAILED after crashMs, lastTaskFailure on that version, relaunch of the same instance after backoff, forever', () => {
    const { clock, model, put, app, events } = setup();
    put(web('shop/web:1.0.0', { instances: 1 }));
    clock.advance(100);
    const good = app().tasks[0];
    const bad = put(web('shop/web:2.0.0-crash', { instances: 1 }));
    clock.advance(10 + 30);
    const failed = events.filter((e) => e.data.taskStatus === 'TASK_FAILED');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.data).toMatchObject({ appId: '/shop/web', version: bad.version, message: 'Container exited with status 1' });
    expect(app().lastTaskFailure).toMatchObject({ state: 'TASK_FAILED', version: bad.version, taskId: failed[0]?.data.taskId });
    expect(model.queue()).toEqual([expect.objectContaining({ count: 1 })]);

    clock.advance(50);
    const relaunched = app().tasks.find((t) => t.version === bad.version);
    expect(relaunched?.id).toBe(String(failed[0]?.data.taskId).replace(/\._app\.1$/, '._app.2'));

    clock.advance(10_000);
    expect(model.deployments.has(bad.deploymentId)).toBe(true);
    expect(events.filter((e) => e.data.taskStatus === 'TASK_FAILED').length).toBeGreaterThan(50);
    expect(app().tasks).toContain(good);
  });

  it('unhealthy: tasks run with failing health checks, the deployment never finishes', () => {
    const { clock, model, put, app, events } = setup();
    const started = put(web('shop/web:1.0.0-unhealthy', { instances: 2 }));
    clock.advance(5_000);
    expect(countsOf(app())).toEqual({ tasksStaged: 0, tasksRunning: 2, tasksHealthy: 0, tasksUnhealthy: 2 });
    expect(model.deployments.has(started.deploymentId)).toBe(true);
    expect(events.filter((e) => e.eventType === 'health_status_changed_event').map((e) => e.data.alive)).toEqual([false, false]);
    expect(events.some((e) => e.eventType === 'failed_health_check_event')).toBe(true);
  });

  it('stuck (by label): tasks stay TASK_STAGING forever', () => {
    const { clock, model, put, app } = setup();
    put({ cmd: 'sleep 1', instances: 2, labels: { EMULATOR_BEHAVIOUR: 'stuck' } });
    clock.advance(5_000);
    expect(countsOf(app())).toMatchObject({ tasksStaged: 2, tasksRunning: 0 });
    expect(model.deployments.size).toBe(1);
  });

  it('apps without health checks are done when running, with tasksHealthy 0', () => {
    const { clock, model, put, app } = setup();
    put({ cmd: 'sleep 1', instances: 2 });
    clock.advance(10);
    expect(model.deployments.size).toBe(0);
    expect(countsOf(app())).toEqual({ tasksStaged: 0, tasksRunning: 2, tasksHealthy: 0, tasksUnhealthy: 0 });
  });

  it('locks the app while a deployment runs; force supersedes the running deployment with deployment_failed', () => {
    const { clock, model, put, events } = setup();
    const first = put(web('shop/web:1.0.0-stuck'));
    const definition = model.normalize({ ...web('shop/web:2.0.0'), id: '/shop/web' }, '/shop/web', model.app('/shop/web')?.stored);
    expect(model.putApp('/shop/web', definition, { force: false, origin })).toEqual({
      ok: false,
      status: 409,
      body: { message: expect.stringContaining('App is locked by one or more deployments.'), deployments: [{ id: first.deploymentId }] },
    });
    const forced = put(web('shop/web:2.0.0'), true);
    expect([...model.deployments.keys()]).toEqual([forced.deploymentId]);
    const failed = events.filter((e) => e.eventType === 'deployment_failed').map((e) => e.data);
    // The refused plan fails first (AppLockedException), then the forced PUT supersedes the running one.
    expect(failed).toMatchObject([{ reason: expect.stringContaining('App is locked') }, { id: first.deploymentId }]);
    clock.advance(200);
    expect(model.deployments.size).toBe(0);
    expect(events.some((e) => e.eventType === 'deployment_success' && e.data.id === first.deploymentId)).toBe(false);
  });

  it('cancelling a deployment reverts to the previous definition in a new deployment; force only stops it', () => {
    const { clock, model, put, app, events } = setup();
    put(web('shop/web:1.0.0'));
    clock.advance(100);
    const bad = put(web('shop/web:2.0.0-crash'));
    clock.advance(60);
    const revert = model.cancelDeployment(bad.deploymentId, { force: false, origin });
    if (revert === null || revert === 'cancelled' || !revert.ok) throw new Error('expected a revert deployment');
    expect(events.filter((e) => e.eventType === 'deployment_failed').map((e) => e.data.id)).toEqual([bad.deploymentId]);
    expect(model.deployments.has(bad.deploymentId)).toBe(false);
    expect(model.deployments.has(revert.deploymentId)).toBe(true);
    clock.advance(500);
    expect(model.deployments.size).toBe(0);
    const image = (app().stored.definition.container as { docker: { image: string } }).docker.image;
    expect(image).toBe('shop/web:1.0.0');
    expect(app().stored.version).toBe(revert.version);
    expect(countsOf(app())).toMatchObject({ tasksRunning: 3, tasksHealthy: 3 });
    expect(app().tasks.every((t) => t.version === revert.version)).toBe(true);

    const stuck = put(web('shop/web:3.0.0-stuck'));
    expect(model.cancelDeployment(stuck.deploymentId, { force: true, origin })).toBe('cancelled');
    expect(model.deployments.size).toBe(0);
    expect(app().stored.version).toBe(stuck.version);
    expect(model.cancelDeployment('no-such-id', { force: false, origin })).toBeNull();
  });

  it('reverting the creation of an app deletes it again', () => {
    const { clock, model, put } = setup();
    const created = put(web('shop/web:1.0.0-stuck'));
    const revert = model.cancelDeployment(created.deploymentId, { force: false, origin });
    expect(revert).toMatchObject({ ok: true });
    expect(model.app('/shop/web')).toBeUndefined();
    clock.advance(100);
    expect(model.deployments.size).toBe(0);
    expect(model.allTasks()).toEqual([]);
  });

  it('restart replaces every task with a new version of the same config', () => {
    const { clock, model, put, app } = setup();
    const first = put(web('shop/web:1.0.0'));
    clock.advance(100);
    const oldIds = app().tasks.map((t) => t.id);
    const restart = model.restartApp('/shop/web', { force: false, origin });
    if (!restart.ok) throw new Error('restart refused');
    clock.advance(200);
    expect(model.deployments.size).toBe(0);
    expect(app().tasks.map((t) => t.id).filter((id) => oldIds.includes(id))).toEqual([]);
    expect(app().stored.versionInfo).toEqual({ lastConfigChangeAt: first.version, lastScalingAt: restart.version });
  });

  it('rolls back to a stored version with {"version": ts}', () => {
    const { clock, model, put, app } = setup();
    const v1 = put(web('shop/web:1.0.0'));
    clock.advance(100);
    put(web('shop/web:2.0.0'));
    clock.advance(100);
    const rollback = model.rollbackApp('/shop/web', v1.version, { force: false, origin });
    if (!rollback.ok) throw new Error('rollback refused');
    clock.advance(200);
    expect((app().stored.definition.container as { docker: { image: string } }).docker.image).toBe('shop/web:1.0.0');
    expect(app().versions).toHaveLength(3);
    expect(model.rollbackApp('/shop/web', '2001-01-01T00:00:00.000Z', { force: false, origin })).toMatchObject({
      ok: false,
      status: 404,
      body: { message: "App '/shop/web' does not exist in version 2001-01-01T00:00:00.000Z" },
    });
  });

  it('deleting an app kills its tasks and ends with app_terminated_event and deployment_success', () => {
    const { clock, model, put, types } = setup();
    put(web('shop/web:1.0.0'));
    clock.advance(100);
    const deleted = model.deleteApp('/shop/web', { force: false, origin });
    expect(deleted).toMatchObject({ ok: true });
    expect(model.app('/shop/web')).toBeUndefined();
    expect(model.deployments.size).toBe(1);
    clock.advance(5);
    expect(model.deployments.size).toBe(0);
    expect(model.allTasks()).toEqual([]);
    expect(types().slice(-3)).toEqual(['deployment_step_success', 'app_terminated_event', 'deployment_success']);
  });

  it('scales to zero and back', () => {
    const { clock, put, app, model } = setup();
    put(web('shop/web:1.0.0'));
    clock.advance(100);
    put({ ...web('shop/web:1.0.0'), instances: 0 });
    clock.advance(100);
    expect(app().tasks).toEqual([]);
    expect(model.deployments.size).toBe(0);
    put({ ...web('shop/web:1.0.0'), instances: 2 });
    clock.advance(100);
    expect(countsOf(app())).toMatchObject({ tasksRunning: 2, tasksHealthy: 2 });
  });

  it('seeded apps are running and healthy at once, without a deployment', () => {
    const { model } = setup();
    model.seed('/seeded', web('shop/web:1.0.0', { instances: 2 }));
    const app = model.app('/seeded');
    expect(app && countsOf(app)).toEqual({ tasksStaged: 0, tasksRunning: 2, tasksHealthy: 2, tasksUnhealthy: 0 });
    expect(model.deployments.size).toBe(0);
  });

  it('dispose stops every timer', () => {
    const { clock, model, put } = setup();
    put(web('shop/web:1.0.0-crash'));
    expect(clock.pending()).toBeGreaterThan(0);
    model.dispose();
    expect(clock.pending()).toBe(0);
  });
});
