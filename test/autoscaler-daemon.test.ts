// The daemon as a process (bin/baton-autoscaler) against a real InfluxDB and the Marathon emulator, seen over HTTP.
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, open, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.js';
import { MarathonClient } from '../src/marathon/client.js';
import type { AppInfo } from '../src/marathon/types.js';
import {
  makeTempDir,
  promtoolCheckMetrics,
  startDaemon,
  startSwitchableProxy,
  TEST_API_TOKEN,
  testConfig,
  waitFor,
  wallClockStepPreload,
  type DaemonProcess,
  type SwitchableProxy,
} from './support/autoscaler.js';
import { autoscalerBin, baseEnv } from './support/cli.js';
import { cadvisorLines, startInfluxDb, type InfluxDbServer } from './support/influxdb.js';

const FAST = { stagingMs: 30, healthyMs: 30, killMs: 20, crashMs: 50, backoffMs: 50 };

let influx: InfluxDbServer;
let temp: { dir: string; remove(): Promise<void> };
const cleanups: (() => Promise<unknown>)[] = [];
let databaseCounter = 0;

beforeAll(async () => {
  influx = await startInfluxDb();
  temp = await makeTempDir();
});
afterAll(async () => {
  await influx?.stop();
  await temp?.remove();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

interface World {
  emulator: RunningEmulator;
  marathon: MarathonClient;
  daemon: DaemonProcess;
  database: string;
  stateFile: string;
}

/** An emulator with `apps` running, a fresh InfluxDB database, and a daemon watching both. */
async function world(
  apps: Record<string, unknown>[],
  options: { overrides?: Record<string, unknown>; influxUrl?: string; env?: Record<string, string> } = {},
): Promise<World> {
  const emulator = await startEmulator({ apps, timings: FAST });
  cleanups.push(() => emulator.close());
  const marathon = new MarathonClient({ url: emulator.url, readRetries: 0 });
  for (const app of apps) await waitForRunning(marathon, app.id as string, app.instances as number);
  const database = `cadvisor_${++databaseCounter}`;
  const stateFile = path.join(temp.dir, `${database}-state.json`);
  const config = testConfig({ marathonUrl: emulator.url, influxUrl: options.influxUrl ?? influx.url, stateFile });
  const daemon = await startDaemon(
    { ...config, influx: { url: options.influxUrl ?? influx.url, database }, ...options.overrides },
    { dir: temp.dir, name: database, ...(options.env ? { env: options.env } : {}) },
  );
  cleanups.push(() => daemon.stop());
  return { emulator, marathon, daemon, database, stateFile };
}

function app(id: string, instances: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, instances, cpus: 1, mem: 256, cmd: 'sleep 1000', ...extra };
}

async function waitForRunning(marathon: MarathonClient, id: string, instances: number): Promise<AppInfo> {
  return waitFor(`${id} running ${instances} task(s)`, async () => {
    const info = await marathon.getApp(id);
    const running = (info.tasks ?? []).filter((t) => t.state === 'TASK_RUNNING').length;
    return running === instances && (info.deployments ?? []).length === 0 ? info : undefined;
  });
}

/** cAdvisor-shaped points for each running task of `appId` over the last 50 s, at `cores` CPU each. */
async function seed(w: World, appId: string, cores: number, options: { skipTasks?: number; memoryBytes?: number; container?: string } = {}) {
  const info = await w.marathon.getApp(appId);
  const tasks = (info.tasks ?? []).slice(options.skipTasks ?? 0);
  const now = Date.now();
  const lines = tasks
    .map((task, index) =>
      cadvisorLines({
        taskId: task.id,
        containerName: `mesos-${index}-${task.id.slice(-8)}${options.container ?? ''}`,
        machine: 'agent-1',
        cpuCoresUsed: cores,
        memoryBytes: options.memoryBytes ?? 64 * 1024 * 1024,
        from: now - 50_000,
        to: now,
        stepSeconds: 5,
      }),
    )
    .join('');
  await influx.writePoints(lines, w.database);
  return tasks.map((t) => t.id);
}

async function register(w: World, body: Record<string, unknown>) {
  const response = await w.daemon.request('POST', '/apps', { body });
  expect(response.status, response.text).toBe(201);
  return response.body;
}

async function decisions(w: World, appId: string): Promise<any[]> {
  const response = await w.daemon.request('GET', `/decisions?appId=${encodeURIComponent(appId)}&limit=1000`);
  expect(response.status).toBe(200);
  return (response.body.decisions as any[]).slice().reverse(); // oldest first
}

async function instancesOf(w: World, appId: string): Promise<number> {
  return (await w.marathon.getApp(appId)).instances ?? -1;
}

async function metricValue(w: World, name: string, labels = ''): Promise<number> {
  const text = (await w.daemon.request('GET', '/metrics')).text;
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)));
  return line ? Number(line.split(' ')[1]) : 0;
}

describe('baton-autoscaler against InfluxDB and the Marathon emulator', () => {
  test('a busy app scales out in the first cycle that sees its data', async () => {
    const w = await world([app('/shop/web', 2)]);
    await seed(w, '/shop/web', 1.0); // 1 core used of 1, target 0.5: twice the target
    await register(w, { appId: '/shop/web', minInstances: 1, maxInstances: 10, targetCpu: 0.5 });

    await waitFor('scale-up to 4', async () => (await instancesOf(w, '/shop/web')) === 4);
    const history = await decisions(w, '/shop/web');
    expect(history[0]).toMatchObject({ action: 'scale-up', current: 2, desired: 4, outcome: 'applied', source: 'rest' });
    expect(history[0].inputs.targets).toEqual({ cpu: 0.5 });
    expect(history[0].inputs.ratios.cpu).toBeCloseTo(2, 1);
    expect(history[0].inputs.tasks).toHaveLength(2);
    expect(history[0].inputs.tasks[0]).toMatchObject({ status: 'used' });
    expect(history[0].inputs.tasks[0].cpuUtilization).toBeCloseTo(1, 1);
    expect(history[0].resources).toEqual({ cpus: 1, memMiB: 256 });
    const usage = history[0].usage as any[];
    expect(usage.map((u) => u.taskId).sort()).toEqual(history[0].inputs.tasks.map((t: any) => t.taskId).sort());
    expect(usage[0].cpuCores).toBeCloseTo(1, 1);
    expect(usage[0].memoryBytes).toBe(64 * 1024 * 1024);
    expect(await metricValue(w, 'baton_autoscaler_scale_actions_total', '{direction="up"}')).toBe(1);
    const scaled = w.daemon.logs().find((l) => l.msg === 'scaled up');
    expect(scaled).toMatchObject({ appId: '/shop/web', from: 2, to: 4 });
  });

  test('/metrics passes promtool and shows per-app instances and the build', async () => {
    const w = await world([app('/shop/web', 2)]);
    await seed(w, '/shop/web', 1.0);
    await register(w, { appId: '/shop/web', minInstances: 1, maxInstances: 3, targetCpu: 0.5 });
    await waitFor('scaled to 3', async () => (await instancesOf(w, '/shop/web')) === 3);
    await waitFor('a cycle that saw 3', async () => (await metricValue(w, 'baton_autoscaler_app_current_instances', '{app_id="/shop/web"}')) === 3);

    const text = (await w.daemon.request('GET', '/metrics')).text;
    const check = await promtoolCheckMetrics(text);
    expect(check.output).toBe('');
    expect(check.code).toBe(0);
    expect(await metricValue(w, 'baton_autoscaler_app_desired_instances', '{app_id="/shop/web"}')).toBe(3);
    expect(await metricValue(w, 'baton_autoscaler_app_min_instances', '{app_id="/shop/web"}')).toBe(1);
    expect(await metricValue(w, 'baton_autoscaler_app_max_instances', '{app_id="/shop/web"}')).toBe(3);
    const version = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')).version;
    expect(text).toContain(`baton_autoscaler_build_info{version="${version}",node_version="${process.version}"} 1`);
    expect(text).not.toMatch(/^baton_autoscaler_nodejs_active_\w+_total/m);
  });

  test('an idle app scales in only after the stabilization window', async () => {
    const w = await world([app('/shop/idle', 4)]);
    await seed(w, '/shop/idle', 0.05);
    await register(w, { appId: '/shop/idle', minInstances: 1, maxInstances: 10, targetCpu: 0.5, scaleDownStabilizationSeconds: 3 });

    await waitFor('scale-down', async () => (await instancesOf(w, '/shop/idle')) < 4);
    const history = await decisions(w, '/shop/idle');
    const first = history[0];
    const scaleDown = history.find((d) => d.action === 'scale-down');
    expect(first.action).toBe('none');
    expect(first.rules).toContain('stabilization-window');
    expect(scaleDown).toMatchObject({ current: 4, desired: 1, outcome: 'applied' });
    expect(scaleDown.at - first.firstAt).toBeGreaterThanOrEqual(3000);
  });

  test('a task without data blocks scale-in', async () => {
    const w = await world([app('/shop/gap', 3)]);
    await seed(w, '/shop/gap', 0.05, { skipTasks: 1 });
    await register(w, { appId: '/shop/gap', minInstances: 1, maxInstances: 10, targetCpu: 0.5, scaleDownStabilizationSeconds: 1 });

    // Well past the stabilization window, the app is still at 3, and the decisions say why.
    const history = await waitFor('decisions spanning 3 s', async () => {
      const h = await decisions(w, '/shop/gap');
      return h.length > 0 && h[h.length - 1].at - h[0].firstAt >= 3000 ? h : undefined;
    });
    expect(await instancesOf(w, '/shop/gap')).toBe(3);
    expect(history.every((d) => d.action !== 'scale-down')).toBe(true);
    const latest = history[history.length - 1];
    expect(latest.rules).toContain('missing-metrics');
    expect(latest.inputs.tasks.filter((t: any) => t.status === 'missing')).toHaveLength(1);
  });

  test('an app with a deployment in progress is left alone', async () => {
    const w = await world([app('/shop/deploying', 2)]);
    await seed(w, '/shop/deploying', 1.0);
    // A new version whose tasks never leave staging keeps the deployment open.
    await w.marathon.putApp({ id: '/shop/deploying', labels: { EMULATOR_BEHAVIOUR: 'stuck' } });
    await register(w, { appId: '/shop/deploying', minInstances: 1, maxInstances: 10, targetCpu: 0.5 });

    const history = await waitFor('three skip decisions', async () => {
      const h = await decisions(w, '/shop/deploying');
      return h.length > 0 && h[h.length - 1].repeated >= 3 ? h : undefined;
    });
    expect(history.every((d) => d.action === 'skip')).toBe(true);
    expect(history[0].rules).toContain('deployment-in-progress');
    expect(await instancesOf(w, '/shop/deploying')).toBe(2);
    expect(await metricValue(w, 'baton_autoscaler_skipped_total', '{reason="deployment-in-progress"}')).toBeGreaterThanOrEqual(3);
    expect(w.daemon.logs().filter((l) => l.msg === 'app skipped' && l.appId === '/shop/deploying')).toHaveLength(1);
  });

  test('max bound caps a scale-out; min bound raises a small app', async () => {
    const w = await world([app('/shop/capped', 2), app('/shop/small', 1)]);
    await seed(w, '/shop/capped', 4.0);
    await seed(w, '/shop/small', 0.5);
    await register(w, { appId: '/shop/capped', minInstances: 1, maxInstances: 3, targetCpu: 0.5 });
    await register(w, { appId: '/shop/small', minInstances: 2, maxInstances: 5, targetCpu: 0.5 });

    await waitFor('capped at 3', async () => (await instancesOf(w, '/shop/capped')) === 3);
    await waitFor('raised to 2', async () => (await instancesOf(w, '/shop/small')) === 2);
    expect((await decisions(w, '/shop/capped'))[0]).toMatchObject({ action: 'scale-up', desired: 3 });
    expect((await decisions(w, '/shop/capped'))[0].rules).toContain('max-bound');
    expect((await decisions(w, '/shop/small'))[0].rules).toContain('min-bound');
  });

  test('a schedule window raises the floor when it starts', async () => {
    const w = await world([app('/shop/peak', 2)]);
    await seed(w, '/shop/peak', 0.5); // exactly at target: no change without the schedule
    const start = new Date(Date.now() + 3000);
    const cron = `${start.getUTCSeconds()} ${start.getUTCMinutes()} ${start.getUTCHours()} * * *`;
    await register(w, {
      appId: '/shop/peak',
      minInstances: 1,
      maxInstances: 10,
      targetCpu: 0.5,
      schedules: [{ cron, durationMinutes: 5, minInstances: 5, timezone: 'UTC' }],
    });

    await waitFor('raised to 5 by the schedule', async () => (await instancesOf(w, '/shop/peak')) === 5);
    const history = await decisions(w, '/shop/peak');
    const raise = history.find((d) => d.action === 'scale-up');
    expect(raise.rules).toContain('schedule-floor');
    expect(raise.inputs.bounds.scheduleFloor).toBe(5);
    const windowOpens = Math.floor(start.getTime() / 1000) * 1000; // cron has whole seconds
    expect(raise.at).toBeGreaterThanOrEqual(windowOpens);
    // Before the window opened, the app was at its target and stayed at 2.
    for (const decision of history.filter((d) => d.at < windowOpens)) expect(decision).toMatchObject({ action: 'none', current: 2 });
  });

  test('labels register an app; invalid labels are reported, not fatal; REST wins over labels', async () => {
    const w = await world([
      app('/shop/labelled', 1, { labels: { AUTOSCALE_MIN: '1', AUTOSCALE_MAX: '3', AUTOSCALE_TARGET_CPU: '0.5' } }),
      app('/shop/broken', 1, { labels: { AUTOSCALE_MIN: 'one', AUTOSCALE_MAX: '3', AUTOSCALE_TARGET_CPU: '0.5' } }),
      app('/shop/both', 1, { labels: { AUTOSCALE_MIN: '1', AUTOSCALE_MAX: '3', AUTOSCALE_TARGET_CPU: '0.5' } }),
    ]);
    await register(w, { appId: '/shop/both', minInstances: 1, maxInstances: 3, targetCpu: 0.5, dryRun: true });
    await seed(w, '/shop/labelled', 1.0);
    await seed(w, '/shop/both', 1.0);

    await waitFor('labelled app scaled', async () => (await instancesOf(w, '/shop/labelled')) === 2);
    const list = (await w.daemon.request('GET', '/apps', { token: null })).body;
    const byId = Object.fromEntries(list.apps.map((a: any) => [a.appId, a]));
    expect(byId['/shop/labelled']).toMatchObject({ source: 'labels', policy: { minInstances: 1, maxInstances: 3, targetCpu: 0.5 } });
    expect(byId['/shop/both']).toMatchObject({ source: 'rest', policy: { dryRun: true } });
    expect(byId['/shop/broken']).toBeUndefined();
    expect(list.labelIssues).toEqual([{ appId: '/shop/broken', errors: ['AUTOSCALE_MIN: expected a number, got "one"'] }]);
    const broken = await w.daemon.request('GET', `/apps/${encodeURIComponent('/shop/broken')}`);
    expect(broken.status).toBe(404);
    expect(broken.body.labelErrors).toEqual(['AUTOSCALE_MIN: expected a number, got "one"']);
    // Reported when first seen, not every cycle.
    expect(w.daemon.logs().filter((l) => l.msg === 'invalid autoscaling labels: app not managed' && l.appId === '/shop/broken')).toHaveLength(1);

    // REST registered /shop/both as dry-run: its decision says scale-up, nothing is applied.
    const both = await waitFor('dry-run decision', async () => (await decisions(w, '/shop/both')).find((d) => d.action === 'scale-up'));
    expect(both).toMatchObject({ outcome: 'dry-run', dryRun: true, desired: 2 });
    expect(await instancesOf(w, '/shop/both')).toBe(1);
    const deleteLabelled = await w.daemon.request('DELETE', `/apps/${encodeURIComponent('/shop/labelled')}`);
    expect(deleteLabelled.status).toBe(409);
  });

  test('a manual change of instances is adopted, not fought', async () => {
    const w = await world([app('/shop/manual', 2)]);
    await seed(w, '/shop/manual', 0.5);
    await register(w, { appId: '/shop/manual', minInstances: 1, maxInstances: 10, targetCpu: 0.5, scaleDownStabilizationSeconds: 30 });
    await waitFor('first decision', async () => (await decisions(w, '/shop/manual')).length > 0);
    await w.marathon.scaleApp('/shop/manual', 6);
    const adopted = await waitFor('adoption', async () => (await decisions(w, '/shop/manual')).find((d) => d.adopted));
    expect(adopted.adopted).toEqual({ from: 2, to: 6 });
    expect(adopted.rules).toContain('adopted-manual-change');
    // Load says 2 would do, but a scale-down waits a whole stabilization window (30 s) from the manual change.
    await waitFor('a few more cycles', async () => (await decisions(w, '/shop/manual')).some((d) => d.at - adopted.at >= 1500));
    expect(await instancesOf(w, '/shop/manual')).toBe(6);
  });
});

describe('registrations over REST', () => {
  test('survive a restart and a crash', async () => {
    const w = await world([app('/shop/web', 1)]);
    const body = {
      appId: '/shop/web',
      minInstances: 1,
      maxInstances: 20,
      targetCpu: 0.6,
      targetMemory: 0.8,
      dryRun: true,
      schedules: [{ cron: '0 8 * * 1', durationMinutes: 240, minInstances: 10, timezone: 'Asia/Shanghai' }],
    };
    const created = await register(w, body);
    expect(created.policy).toMatchObject({ ...body, tolerance: 0.1, source: 'rest' });
    const replaced = await w.daemon.request('POST', '/apps', { body: { ...body, maxInstances: 15 } });
    expect(replaced.status).toBe(200);
    await register(w, { appId: '/shop/other', minInstances: 0, maxInstances: 2, targetMemory: 0.5 });
    expect((await w.daemon.request('DELETE', `/apps/${encodeURIComponent('/shop/other')}`)).status).toBe(204);
    expect((await w.daemon.request('DELETE', `/apps/${encodeURIComponent('/shop/other')}`)).status).toBe(404);

    await w.daemon.kill(); // SIGKILL: no clean shutdown
    const config = JSON.parse(await (await import('node:fs/promises')).readFile(w.daemon.configFile, 'utf8'));
    const second = await startDaemon(config, { dir: temp.dir, name: `${w.database}-second` });
    cleanups.push(() => second.stop());
    const one = await second.request('GET', `/apps/${encodeURIComponent('/shop/web')}`, { token: null });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ appId: '/shop/web', source: 'rest', policy: { maxInstances: 15, targetMemory: 0.8, dryRun: true } });
    expect(one.body.policy.schedules).toEqual(body.schedules);
    expect((await second.request('GET', '/apps')).body.apps.map((a: any) => a.appId)).toEqual(['/shop/web']);
    expect(await second.stop()).toBe(0);

    const third = await startDaemon(config, { dir: temp.dir, name: `${w.database}-third` });
    cleanups.push(() => third.stop());
    expect((await third.request('GET', '/apps')).body.apps.map((a: any) => a.appId)).toEqual(['/shop/web']);
  });

  test.skipIf(process.getuid?.() !== 0)('a disk-full write leaves no temp file and changes nothing; the next write works again', async () => {
    const mountPoint = path.join(temp.dir, 'small-disk');
    await mkdir(mountPoint);
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint]).status, 'mount a 64 KiB tmpfs').toBe(0);
    cleanups.push(async () => spawnSync('umount', ['-l', mountPoint]));
    const stateFile = path.join(mountPoint, 'autoscaler.json');
    const w = await world([], { overrides: { stateFile } });
    await register(w, { appId: '/shop/web', minInstances: 1, maxInstances: 3, targetCpu: 0.5 });
    const saved = await readFile(stateFile, 'utf8');

    // Fill the disk to the last byte.
    const filler = path.join(mountPoint, 'filler');
    const handle = await open(filler, 'w');
    try {
      for (;;) await handle.write(Buffer.alloc(4096));
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      await handle.close();
    }
    const refused = await w.daemon.request('POST', '/apps', { body: { appId: '/shop/api', minInstances: 1, maxInstances: 3, targetCpu: 0.5 } });
    expect(refused.status).toBe(507);
    expect(refused.body).toEqual({
      error: 'state-not-saved',
      message: `${stateFile}: cannot save the state file (ENOSPC: no space left on the device); the change was not applied`,
    });
    expect((await readdir(mountPoint)).sort()).toEqual(['autoscaler.json', 'filler']);
    expect(await readFile(stateFile, 'utf8')).toBe(saved);
    expect((await w.daemon.request('GET', '/apps')).body.apps.map((a: any) => a.appId)).toEqual(['/shop/web']);
    expect(w.daemon.logs().find((l) => l.msg === 'state file not saved')).toBeDefined();

    await unlink(filler);
    await register(w, { appId: '/shop/api', minInstances: 1, maxInstances: 3, targetCpu: 0.5 });
    expect(JSON.parse(await readFile(stateFile, 'utf8')).registrations.map((r: any) => r.appId)).toEqual(['/shop/api', '/shop/web']);
  });

  test('temp files left by a killed writer are removed at start; a live writer\'s and other files are kept', async () => {
    const dir = path.join(temp.dir, 'leftovers');
    await mkdir(dir);
    const stateFile = path.join(dir, 'autoscaler.json');
    // A pid that is surely dead: a process that has exited.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    const stale = [`.autoscaler.json.${dead}.1700000000000.tmp`, `.autoscaler.json.${dead}.1700000000001.tmp`];
    const live = `.autoscaler.json.${process.pid}.1700000000002.tmp`; // this test runner: alive, maybe mid-write
    const others = ['.other.json.1.2.tmp', 'notes.txt'];
    for (const name of [...stale, live, ...others]) await writeFile(path.join(dir, name), '{"version":1,"registrations":[');

    const w = await world([], { overrides: { stateFile } });
    expect((await readdir(dir)).sort()).toEqual([live, ...others].sort());
    const removed = w.daemon.logs().filter((l) => l.msg === 'removed a temp file left by an interrupted state write').map((l) => l.file);
    expect(removed.sort()).toEqual(stale.map((name) => path.join(dir, name)).sort());
    expect((await w.daemon.request('GET', '/apps')).body.apps).toEqual([]);
  });

  test('writes need the bearer token; reads do not', async () => {
    const w = await world([]);
    const body = { appId: '/shop/web', minInstances: 1, maxInstances: 2, targetCpu: 0.5 };
    for (const token of [null, 'wrong-token', '']) {
      const response = await w.daemon.request('POST', '/apps', { body, token });
      expect(response.status).toBe(401);
      expect(response.body.error).toBe('unauthorized');
    }
    expect((await w.daemon.request('DELETE', `/apps/${encodeURIComponent('/shop/web')}`, { token: null })).status).toBe(401);
    expect((await w.daemon.request('GET', '/apps', { token: null })).body.apps).toEqual([]);
    expect((await w.daemon.request('GET', '/decisions', { token: null })).status).toBe(200);
    const wrongMethod = await w.daemon.request('PUT', '/apps', { body });
    expect(wrongMethod.status).toBe(405);
    expect((await w.daemon.request('GET', '/nope')).status).toBe(404);
    expect(w.daemon.stdout()).not.toContain('test-api-token');
  });

  test('refuses to start with writes enabled and no token; read-only runs without one and refuses writes', async () => {
    const emulator = await startEmulator({ timings: FAST });
    cleanups.push(() => emulator.close());
    const config = testConfig({ marathonUrl: emulator.url, influxUrl: influx.url, stateFile: path.join(temp.dir, 'ro.json') });
    await expect(startDaemon(config, { dir: temp.dir, name: 'no-token', env: { BATON_AUTOSCALER_TOKEN: undefined } })).rejects.toThrow(
      /exited with 2[\s\S]*apiTokenEnv: environment variable BATON_AUTOSCALER_TOKEN is not set/,
    );
    const readOnly = await startDaemon({ ...config, readOnly: true }, { dir: temp.dir, name: 'read-only', env: { BATON_AUTOSCALER_TOKEN: undefined } });
    cleanups.push(() => readOnly.stop());
    const response = await readOnly.request('POST', '/apps', { body: { appId: '/a', minInstances: 1, maxInstances: 2, targetCpu: 0.5 } });
    expect(response.status).toBe(403);
  });

  test('bodies are validated and size-limited; hostile app ids are refused', async () => {
    const w = await world([]);
    const invalid = await w.daemon.request('POST', '/apps', { body: { appId: '/shop/web', minInstances: 3, maxInstances: 2 } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.issues).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: 'maxInstances' }), expect.objectContaining({ path: 'targetCpu' })]),
    );
    expect((await w.daemon.request('POST', '/apps', { rawBody: '{"appId":', headers: { 'Content-Type': 'application/json' } })).status).toBe(400);
    const huge = await w.daemon.request('POST', '/apps', { rawBody: JSON.stringify({ appId: '/a', pad: 'x'.repeat(100_000) }), headers: { 'Content-Type': 'application/json' } });
    expect(huge.status).toBe(413);

    const hostile = [
      '/shop/web"; DROP DATABASE cadvisor; --',
      "/shop/web' OR '1'='1",
      '/shop/web\nSELECT * FROM cpu_usage_total',
      '/shop/web/ OR 1=1',
      '/shop/.*',
      '/../../etc/passwd',
      '/SHOP',
    ];
    for (const appId of hostile) {
      const response = await w.daemon.request('POST', '/apps', { body: { appId, minInstances: 1, maxInstances: 2, targetCpu: 0.5 } });
      expect(response.status, appId).toBe(400);
      expect(response.body.issues[0].path).toBe('appId');
      expect((await w.daemon.request('GET', `/apps/${encodeURIComponent(appId)}`)).status, appId).toBe(400);
      expect((await w.daemon.request('GET', `/decisions?appId=${encodeURIComponent(appId)}`)).status, appId).toBe(400);
    }
    expect((await w.daemon.request('GET', '/apps')).body.apps).toEqual([]);
  });
});

describe('failures and hostile data', () => {
  test('InfluxDB down mid-run: no scaling, /readyz 503 while /healthz stays 200, then recovery', async () => {
    const proxy: SwitchableProxy = await startSwitchableProxy(influx.url);
    cleanups.push(() => proxy.close());
    const w = await world([app('/shop/web', 2)], { influxUrl: proxy.url });
    await seed(w, '/shop/web', 0.5);
    await register(w, { appId: '/shop/web', minInstances: 1, maxInstances: 10, targetCpu: 0.5 });
    await waitFor('ready', async () => (await w.daemon.request('GET', '/readyz')).status === 200);

    await proxy.down();
    const notReady = await waitFor('503', async () => {
      const r = await w.daemon.request('GET', '/readyz');
      return r.status === 503 ? r : undefined;
    });
    expect(notReady.body).toMatchObject({ ready: false, status: 'not-ready', influxdb: 'unreachable', marathon: 'ok', registrationsLoaded: true });
    expect(notReady.body.lastErrors[0].source).toBe('influxdb');
    // The loop runs and handles the outage: liveness (what Marathon's health check asks) must not ask for a restart.
    const cyclesBefore = (await w.daemon.request('GET', '/healthz')).body.cyclesRun;
    const live = await waitFor('more cycles during the outage', async () => {
      const r = await w.daemon.request('GET', '/healthz');
      return r.body.cyclesRun >= cyclesBefore + 3 ? r : undefined;
    });
    expect(live.status).toBe(200);
    expect(live.body).toMatchObject({ live: true, status: 'ok' });
    // Load arrives while InfluxDB is away: nothing may be scaled on blind data.
    await seed(w, '/shop/web', 2.0, { container: '-sidecar' }); // a second container per task: 2.5 cores in all
    const held = await waitFor('a hold decision', async () => (await decisions(w, '/shop/web')).find((d) => d.action === 'hold'));
    expect(held.rules.length).toBeGreaterThan(0);
    expect(await instancesOf(w, '/shop/web')).toBe(2);
    expect(await metricValue(w, 'baton_autoscaler_errors_total', '{source="influxdb"}')).toBeGreaterThan(0);
    expect(w.daemon.logs().some((l) => typeof l.msg === 'string' && l.msg.startsWith('cycle held: cannot read metrics'))).toBe(true);

    await proxy.up();
    await waitFor('ready again', async () => (await w.daemon.request('GET', '/readyz')).status === 200);
    await waitFor('scaled after recovery', async () => (await instancesOf(w, '/shop/web')) > 2);
  });

  test('hostile tag values and a hostile task-id tag name never break the query', async () => {
    const hostileTag = `task "id' ; DROP DATABASE x; -- \\' \\" \\x`;
    const w = await world([app('/shop/web', 2)], { overrides: { metrics: { taskIdTag: hostileTag, windowSeconds: 60, freshnessSeconds: 30 } } });
    const info = await w.marathon.getApp('/shop/web');
    const now = Date.now();
    const series = (taskId: string, cores: number) =>
      cadvisorLines({ taskId, containerName: 'c', machine: 'm', cpuCoresUsed: cores, memoryBytes: 1, from: now - 50_000, to: now, stepSeconds: 5, taskIdTag: hostileTag });
    const hostileValues = ['x" OR 1=1 --', "'); DROP DATABASE cadvisor; --", '/shop/web', 'a\\"b'];
    await influx.writePoints(
      [...(info.tasks ?? []).map((t) => series(t.id, 1.0)), ...hostileValues.map((v) => series(v, 9))].join(''),
      w.database,
    );
    await register(w, { appId: '/shop/web', minInstances: 1, maxInstances: 10, targetCpu: 0.5 });
    await waitFor('scale-up on the escaped tag', async () => (await instancesOf(w, '/shop/web')) === 4);
    const first = (await decisions(w, '/shop/web'))[0];
    expect(first.inputs.tasks.map((t: any) => t.taskId).sort()).toEqual((info.tasks ?? []).map((t) => t.id).sort());
    const still = await fetch(`${influx.url}/query?q=${encodeURIComponent('SHOW DATABASES')}`).then((r) => r.json());
    expect(JSON.stringify(still)).toContain(w.database);
  });

  test('credentials are used and never shown: logs, errors, API answers', async () => {
    const secrets = { marathon: 'm4rathon-pa55word', influx: 'infl0x-pa55word', api: 'test-api-token-3f9a' };
    const emulator = await startEmulator({ timings: FAST, apps: [app('/shop/web', 2)], credentials: { username: 'ops', password: secrets.marathon } });
    const proxy = await startSwitchableProxy(influx.url);
    cleanups.push(() => emulator.close(), () => proxy.close());
    const marathon = new MarathonClient({ url: emulator.url, auth: { basic: `ops:${secrets.marathon}` } });
    await waitForRunning(marathon, '/shop/web', 2);
    const database = `cadvisor_${++databaseCounter}`;
    const config = testConfig({ marathonUrl: emulator.url, influxUrl: proxy.url, stateFile: path.join(temp.dir, `${database}-state.json`) });
    const daemon = await startDaemon(
      {
        ...config,
        marathon: { url: emulator.url, credentialsEnv: 'MARATHON_CREDENTIALS' },
        influx: { url: proxy.url, database, username: 'autoscaler', passwordEnv: 'INFLUX_PASSWORD' },
      },
      { dir: temp.dir, name: database, env: { MARATHON_CREDENTIALS: `ops:${secrets.marathon}`, INFLUX_PASSWORD: secrets.influx } },
    );
    cleanups.push(() => daemon.stop());
    const w: World = { emulator, marathon, daemon, database, stateFile: '' };
    await seed(w, '/shop/web', 1.0);
    await register(w, { appId: '/shop/web', minInstances: 1, maxInstances: 10, targetCpu: 0.5 });
    await waitFor('scaled with Basic auth', async () => (await instancesOf(w, '/shop/web')) === 4);
    await proxy.down();
    await waitFor('an InfluxDB error logged', () => daemon.logs().some((l) => typeof l.msg === 'string' && l.msg.startsWith('cycle held')));
    const answers = await Promise.all(['/healthz', '/metrics', '/apps', '/decisions'].map(async (p) => (await daemon.request('GET', p)).text));
    const everything = [daemon.stdout(), daemon.stderr(), ...answers].join('\n');
    for (const secret of Object.values(secrets)) expect(everything).not.toContain(secret);
    expect(everything).toContain('InfluxDB'); // the error itself is there, without the password
  });

  test('an upstream error page that echoes the Authorization header leaks nothing: /readyz, logs, API answers', async () => {
    const password = 'm4rathon-pa55word';
    const influxPassword = 'infl0x-in-url-pw';
    const basic = Buffer.from(`ops:${password}`).toString('base64');
    // A misconfigured front proxy: every request answered 500 with a debug page that shows the request's headers.
    const echo = http.createServer((request, response) => {
      response.writeHead(500, { 'Content-Type': 'text/html' });
      response.end(`<html><body><h1>Internal Server Error</h1><pre>GET ${request.url}\nAuthorization: ${request.headers.authorization}</pre></body></html>`);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => echo.close(resolve)));
    const echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
    const database = `cadvisor_${++databaseCounter}`;
    const influxWithUserinfo = influx.url.replace('http://', `http://autoscaler:${influxPassword}@`);
    const config = testConfig({ marathonUrl: echoUrl, influxUrl: influx.url, stateFile: path.join(temp.dir, `${database}-state.json`) });
    const daemon = await startDaemon(
      { ...config, marathon: { url: echoUrl, credentialsEnv: 'MARATHON_CREDENTIALS' }, influx: { url: influxWithUserinfo, database } },
      { dir: temp.dir, name: database, env: { MARATHON_CREDENTIALS: `ops:${password}` } },
    );
    cleanups.push(() => daemon.stop());

    const readiness = await waitFor('the echoed error in /readyz', async () => {
      const r = await daemon.request('GET', '/readyz');
      return r.body?.lastErrors?.length > 0 ? r : undefined;
    });
    expect(readiness.status).toBe(503);
    expect(readiness.body.lastErrors[0].message).toContain('Marathon answered 500');
    expect(readiness.body.lastErrors[0].message).toContain('Authorization: Basic ***');
    const listening = daemon.logs().find((l) => l.msg === 'listening');
    expect(listening?.influx).toBe(influx.url);
    await waitFor('the error logged', () => daemon.logs().some((l) => typeof l.msg === 'string' && l.msg.startsWith('cycle held')));
    const answers = await Promise.all(['/healthz', '/readyz', '/metrics', '/apps', '/decisions'].map(async (p) => (await daemon.request('GET', p)).text));
    const everything = [daemon.stdout(), daemon.stderr(), ...answers].join('\n');
    for (const secret of [password, basic, basic.slice(0, 16), influxPassword, TEST_API_TOKEN]) expect(everything).not.toContain(secret);
    expect(daemon.stdout()).toContain('Authorization: Basic ***'); // the error is logged, without the credential
  });

  test('Marathon unreachable: cycles are held and counted, never crash the daemon', async () => {
    const emulator = await startEmulator({ timings: FAST, apps: [app('/shop/web', 1)] });
    const proxy = await startSwitchableProxy(emulator.url);
    cleanups.push(() => emulator.close(), () => proxy.close());
    const database = `cadvisor_${++databaseCounter}`;
    const config = testConfig({ marathonUrl: proxy.url, influxUrl: influx.url, stateFile: path.join(temp.dir, `${database}-state.json`) });
    const daemon = await startDaemon({ ...config, influx: { url: influx.url, database } }, { dir: temp.dir, name: database });
    cleanups.push(() => daemon.stop());
    await waitFor('ready', async () => (await daemon.request('GET', '/readyz')).status === 200);
    await proxy.down();
    const notReady = await waitFor('503', async () => {
      const r = await daemon.request('GET', '/readyz');
      return r.status === 503 ? r : undefined;
    });
    expect(notReady.body).toMatchObject({ marathon: 'unreachable', influxdb: 'not-checked' });
    expect((await daemon.request('GET', '/healthz')).status).toBe(200);
    const text = (await daemon.request('GET', '/metrics')).text;
    expect(text).toMatch(/baton_autoscaler_errors_total\{source="marathon"\} [1-9]/);
    expect(text).toMatch(/baton_autoscaler_cycles_total\{outcome="failed"\} [1-9]/);
    expect(daemon.child.exitCode).toBeNull();
    await proxy.up();
    await waitFor('ready again', async () => (await daemon.request('GET', '/readyz')).status === 200);
  });

  test('a backward step of the wall clock does not stop the cycles', async () => {
    const emulator = await startEmulator({ timings: FAST, apps: [app('/shop/web', 1)] });
    cleanups.push(() => emulator.close());
    const database = `cadvisor_${++databaseCounter}`;
    const config = testConfig({ marathonUrl: emulator.url, influxUrl: influx.url, stateFile: path.join(temp.dir, `${database}-state.json`) });
    const daemon = await startDaemon(
      { ...config, influx: { url: influx.url, database } },
      { dir: temp.dir, name: database, nodeArgs: ['--import', await wallClockStepPreload(temp.dir)] },
    );
    cleanups.push(() => daemon.stop());
    const cycles = async () => (await daemon.request('GET', '/healthz')).body.cyclesRun as number;
    await waitFor('two cycles', async () => (await cycles()) >= 2);

    daemon.child.kill('SIGUSR2');
    await waitFor('the step', () => daemon.stderr().includes('wall clock stepped back 120 s'));
    const atStep = await cycles();
    // 0.5 s interval: on the wall clock, the next cycle would come 2 minutes from now.
    await waitFor('cycles after the step', async () => (await cycles()) >= atStep + 4);
    const health = await daemon.request('GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ live: true, status: 'ok' });
    // The log's timestamps show the step: this is the daemon's own wall clock that went back.
    const times = daemon.logs().filter((l) => l.msg === 'cycle').map((l) => Date.parse(l.time as string));
    expect(times.some((t, i) => i > 0 && t < times[i - 1]! - 60_000)).toBe(true);
  });
});

describe('when the reader of stdout goes away', () => {
  test('the daemon stops writing logs, says so once on stderr, and keeps running', async () => {
    const w = await world([app('/shop/web', 1)]);
    const cycles = async () => (await w.daemon.request('GET', '/healthz')).body.cyclesRun as number;
    await waitFor('a cycle', async () => (await cycles()) >= 1);
    w.daemon.child.stdout!.destroy(); // as `baton-autoscaler ... | head -1` does once head has its line

    const atClose = await cycles();
    await waitFor('cycles after stdout closed', async () => (await cycles()) >= atClose + 4);
    expect(w.daemon.stderr()).toBe('baton-autoscaler: stdout is closed (EPIPE): logs are no longer written; the daemon keeps running\n');
    await register(w, { appId: '/shop/web', minInstances: 1, maxInstances: 3, targetCpu: 0.5 });
    expect(w.daemon.child.exitCode).toBeNull();
    expect(await w.daemon.stop()).toBe(0); // its 'stopping' and 'stopped' lines go nowhere, quietly
    expect(w.daemon.stderr()).not.toContain('Error');
  });

  test('--help into a closed pipe exits 0 without a stack trace', async () => {
    const child = spawn(process.execPath, [autoscalerBin, '--help'], { env: baseEnv() as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // closed before the program writes a byte: its write gets EPIPE
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});

