// Several baton-autoscaler processes against one real ZooKeeper, a real InfluxDB and the Marathon emulator.
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.js';
import { MarathonClient } from '../src/marathon/client.js';
import { makeTempDir, promtoolCheckMetrics, startDaemon, testConfig, waitFor, type DaemonProcess } from './support/autoscaler.js';
import { holdingProxy } from './support/holding-proxy.js';
import { cadvisorLines, startInfluxDb, type InfluxDbServer } from './support/influxdb.js';
import { startZooKeeper, type ZooKeeperServer } from './support/zookeeper.js';

const FAST = { stagingMs: 30, healthyMs: 30, killMs: 20, crashMs: 50, backoffMs: 50 };
/** Short, but several heartbeats long: a loaded machine must not lose sessions by accident. */
const SESSION_TIMEOUT_MS = 3000;
/** Session timeout plus a cycle, with room for a loaded 2-core machine (the bound itself is measured by bench:takeover). */
const TAKEOVER_WAIT_MS = 30_000;

let influx: InfluxDbServer;
let zk: ZooKeeperServer;
let temp: { dir: string; remove(): Promise<void> };
const cleanups: (() => Promise<unknown>)[] = [];
let counter = 0;

beforeAll(async () => {
  [influx, zk] = await Promise.all([startInfluxDb(), startZooKeeper()]);
  temp = await makeTempDir('baton-autoscaler-leader-');
}, 120_000);
afterAll(async () => {
  await Promise.all([influx?.stop(), zk?.stop()]);
  await temp?.remove();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

interface Cluster {
  emulator: RunningEmulator;
  marathon: MarathonClient;
  daemons: DaemonProcess[];
  database: string;
}

function app(id: string, instances: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, instances, cpus: 1, mem: 256, cmd: 'sleep 1000', ...extra };
}

/** The emulator with `apps`, a fresh database, and `count` daemons sharing one ZooKeeper path; Marathon maybe behind a proxy. */
async function cluster(
  count: number,
  apps: Record<string, unknown>[],
  marathonUrl?: (emulatorUrl: string) => Promise<string>,
  marathonTimeoutSeconds = 2,
): Promise<Cluster> {
  const emulator = await startEmulator({ apps, timings: FAST });
  cleanups.push(() => emulator.close());
  const marathon = new MarathonClient({ url: emulator.url, readRetries: 0 });
  for (const a of apps) await waitFor(`${a.id as string} running`, async () => (await marathon.getApp(a.id as string)).tasksRunning === a.instances);
  const name = `leader_${++counter}`;
  const url = marathonUrl ? await marathonUrl(emulator.url) : emulator.url;
  const daemons: DaemonProcess[] = [];
  for (let index = 0; index < count; index++) {
    const config = testConfig({ marathonUrl: url, influxUrl: influx.url, stateFile: path.join(temp.dir, `${name}-${index}.json`) });
    const daemon = await startDaemon(
      {
        ...config,
        marathon: { url, timeoutSeconds: marathonTimeoutSeconds },
        influx: { url: influx.url, database: name },
        zookeeper: { connect: zk.connect, path: `/baton-test/${name}`, sessionTimeoutMs: SESSION_TIMEOUT_MS },
        // Followers run no cycle; liveness must not depend on the loop being slow under load.
        health: { maxCycleAgeSeconds: 10 },
      },
      { dir: temp.dir, name: `${name}-${index}` },
    );
    cleanups.push(() => daemon.kill());
    daemons.push(daemon);
  }
  return { emulator, marathon, daemons, database: name };
}

async function readiness(daemon: DaemonProcess): Promise<{ status: number; body: any }> {
  return daemon.request('GET', '/readyz');
}

/** Waits until exactly one of `daemons` leads and every other one follows it; returns the leader. */
async function oneLeader(daemons: DaemonProcess[]): Promise<DaemonProcess> {
  return waitFor(
    'exactly one leader, followed by the others',
    async () => {
      const answers = await Promise.all(daemons.map(readiness));
      const leaders = daemons.filter((_, index) => answers[index]!.body.role === 'leader');
      if (leaders.length !== 1) return undefined;
      const leaderUrl = leaders[0]!.url;
      const followersAgree = answers.every((a) => a.body.role === 'leader' || (a.body.role === 'follower' && a.body.leader?.url === leaderUrl));
      return followersAgree ? leaders[0] : undefined;
    },
    TAKEOVER_WAIT_MS,
  );
}

async function seed(c: Cluster, appId: string, cores: number): Promise<void> {
  const info = await c.marathon.getApp(appId);
  const now = Date.now();
  const lines = (info.tasks ?? [])
    .map((task, index) =>
      cadvisorLines({
        taskId: task.id,
        containerName: `mesos-${index}-${task.id.slice(-8)}`,
        machine: 'agent-1',
        cpuCoresUsed: cores,
        memoryBytes: 64 * 1024 * 1024,
        from: now - 50_000,
        to: now,
        stepSeconds: 5,
      }),
    )
    .join('');
  await influx.writePoints(lines, c.database);
}

async function register(daemon: DaemonProcess, body: Record<string, unknown>): Promise<void> {
  const response = await daemon.request('POST', '/apps', { body });
  expect(response.status, response.text).toBe(201);
}

async function instancesOf(c: Cluster, appId: string): Promise<number> {
  return (await c.marathon.getApp(appId)).instances ?? -1;
}

/** Every version Marathon stored of the app: the first deployment, then one per scale request it applied. */
async function versionsOf(c: Cluster, appId: string): Promise<number> {
  const response = await fetch(`${c.emulator.url}/v2/apps${appId}/versions`);
  return ((await response.json()) as { versions: string[] }).versions.length;
}

function scaleLines(daemon: DaemonProcess): Record<string, unknown>[] {
  return daemon.logs().filter((l) => l.msg === 'scaled up' || l.msg === 'scaled down');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('baton-autoscaler instances with leader election on ZooKeeper', () => {
  test('exactly one leads and only it scales; followers serve reads, take writes and name the leader', async () => {
    const c = await cluster(3, [app('/shop/web', 2)]);
    const leader = await oneLeader(c.daemons);
    const followers = c.daemons.filter((d) => d !== leader);

    // A registration made through a follower is the leader's too (both read it from ZooKeeper).
    await register(followers[0]!, { appId: '/shop/web', minInstances: 1, maxInstances: 4, targetCpu: 0.5 });
    await seed(c, '/shop/web', 1.0); // 1 core of 1 per task, target 0.5: twice the target
    await waitFor('scaled to 4', async () => (await instancesOf(c, '/shop/web')) === 4, TAKEOVER_WAIT_MS);
    // Marathon answers before the leader's log line has crossed its stdout pipe.
    await waitFor('the leader logs the scale', async () => scaleLines(leader).length > 0, TAKEOVER_WAIT_MS);

    expect(scaleLines(leader)).toHaveLength(1);
    for (const follower of followers) expect(scaleLines(follower)).toEqual([]);
    const listed = await followers[1]!.request('GET', '/apps');
    expect(listed.status).toBe(200);
    expect(listed.body.leader).toEqual({ role: 'follower', url: leader.url, self: false });
    expect(listed.body.apps.map((a: any) => a.appId)).toEqual(['/shop/web']);
    const onLeader = await leader.request('GET', '/decisions?appId=%2Fshop%2Fweb');
    expect(onLeader.body.leader).toEqual({ role: 'leader', url: leader.url, self: true });
    expect(onLeader.body.decisions[0]).toMatchObject({ action: 'scale-up', outcome: 'applied' });

    const followerReady = await readiness(followers[0]!);
    expect(followerReady.status).toBe(200);
    expect(followerReady.body).toMatchObject({ ready: true, status: 'following', role: 'follower', leader: { url: leader.url, self: false } });
    const headers = await fetch(`${followers[0]!.url}/healthz`).then((r) => r.headers);
    expect(headers.get('x-baton-autoscaler-leader')).toBe(leader.url);
    expect(headers.get('x-baton-autoscaler-role')).toBe('follower');

    const followerMetrics = (await followers[0]!.request('GET', '/metrics')).text;
    expect(followerMetrics).toMatch(/^baton_autoscaler_leader 0$/m);
    expect(followerMetrics).toMatch(/^baton_autoscaler_role\{role="follower"\} 1$/m);
    expect((await leader.request('GET', '/metrics')).text).toMatch(/^baton_autoscaler_leader 1$/m);
    const check = await promtoolCheckMetrics(followerMetrics);
    expect(check.output).toBe('');
    expect(check.code).toBe(0);

    // Removing through a follower removes it everywhere.
    expect((await followers[1]!.request('DELETE', '/apps/%2Fshop%2Fweb')).status).toBe(204);
    await waitFor('gone on the leader', async () => (await leader.request('GET', '/apps')).body.apps.length === 0);
  });

  test('kill -9 the leader mid-cycle: a follower takes over, applies nothing twice, loses no registration', async () => {
    let proxy!: Awaited<ReturnType<typeof holdingProxy>>;
    const c = await cluster(2, [app('/shop/web', 2), app('/shop/api', 1)], async (url) => {
      proxy = await holdingProxy(url);
      cleanups.push(() => proxy.close());
      return proxy.url;
    });
    const leader = await oneLeader(c.daemons);
    const follower = c.daemons.find((d) => d !== leader)!;
    await register(leader, { appId: '/shop/web', minInstances: 1, maxInstances: 4, targetCpu: 0.5 });
    await register(follower, { appId: '/shop/api', minInstances: 1, maxInstances: 3, targetCpu: 0.5 });
    await seed(c, '/shop/api', 0.5); // at its target: stays at 1 for now
    await seed(c, '/shop/web', 1.0);

    // The leader's scale request passes; its next Marathon read is held, so it dies in the middle of a cycle.
    const held = proxy.holdAfterNextWrite();
    await waitFor('scaled to 4', async () => (await instancesOf(c, '/shop/web')) === 4, TAKEOVER_WAIT_MS);
    await held;
    await leader.kill();
    proxy.release();
    const versionsAfterScale = await versionsOf(c, '/shop/web');
    expect(versionsAfterScale).toBe(2); // deployed, scaled once

    const taken = await waitFor(
      'the follower leads',
      async () => ((await readiness(follower)).body.role === 'leader' ? true : undefined),
      TAKEOVER_WAIT_MS,
    );
    expect(taken).toBe(true);
    // Both registrations are there, whichever instance took them.
    const apps = (await follower.request('GET', '/apps')).body.apps.map((a: any) => a.appId);
    expect(apps).toEqual(['/shop/api', '/shop/web']);
    const decided = await waitFor(
      'the new leader decided for /shop/web',
      async () => {
        const d = (await follower.request('GET', '/decisions?appId=%2Fshop%2Fweb')).body.decisions;
        return d.length > 0 ? d : undefined;
      },
      TAKEOVER_WAIT_MS,
    );
    // It took over the last leader's memory of both apps, with the baseline of /shop/web (4, recorded before the request
    // was sent): no "manual change" to adopt, and no second scale of the same app.
    expect(follower.logs().filter((l) => l.msg === 'took over the stabilization history of the last leader').at(-1)).toMatchObject({ apps: 2 });
    expect(decided[0].current).toBe(4);
    expect(decided[0].rules).not.toContain('adopted-manual-change');
    expect(await versionsOf(c, '/shop/web')).toBe(versionsAfterScale);
    expect(scaleLines(follower)).toEqual([]);

    // And it scales what needs it.
    await seed(c, '/shop/api', 1.0);
    await waitFor('the new leader scales /shop/api', async () => (await instancesOf(c, '/shop/api')) === 2, TAKEOVER_WAIT_MS);
    expect(scaleLines(follower)).toEqual([expect.objectContaining({ appId: '/shop/api', from: 1, to: 2 })]);
    expect(await versionsOf(c, '/shop/web')).toBe(versionsAfterScale);
  });

  test('ZooKeeper paused: a cycle in flight sends no scale, nobody scales, /readyz says so; resumed: scaling resumes', async () => {
    let proxy!: Awaited<ReturnType<typeof holdingProxy>>;
    let held!: Promise<void>;
    const labels = { AUTOSCALE_MIN: '1', AUTOSCALE_MAX: '3', AUTOSCALE_TARGET_CPU: '0.5' };
    // The leader's first cycle is held in its Marathon read (long enough not to time out) until ZooKeeper is away.
    const c = await cluster(
      2,
      [app('/shop/web', 1, { labels })],
      async (url) => {
        proxy = await holdingProxy(url);
        cleanups.push(() => proxy.close());
        held = proxy.hold();
        return proxy.url;
      },
      60,
    );
    const leader = await oneLeader(c.daemons);
    await held;
    await seed(c, '/shop/web', 1.0); // twice the target: the held cycle will want 2 instances

    await zk.pause();
    try {
      const lost = await waitFor(
        'every instance without a session',
        async () => {
          const answers = await Promise.all(c.daemons.map(readiness));
          return answers.every((a) => a.status === 503 && a.body.role === 'no-session') ? answers : undefined;
        },
        TAKEOVER_WAIT_MS,
      );
      expect(lost[0]!.body).toMatchObject({ ready: false, status: 'no-session', leader: null });
      expect((await leader.request('GET', '/metrics')).text).toMatch(/^baton_autoscaler_leader 0$/m);

      // The cycle goes on with Marathon's answer and decides to scale; the request is not sent.
      proxy.release();
      const refusedScale = await waitFor('the held cycle decided', async () => {
        const d = (await leader.request('GET', '/decisions?appId=%2Fshop%2Fweb')).body.decisions;
        return d.length > 0 ? d[0] : undefined;
      });
      expect(refusedScale).toMatchObject({ action: 'scale-up', current: 1, desired: 2, outcome: 'not-leader' });
      expect(leader.logs().some((l) => l.msg === 'scaling stopped: this instance no longer leads')).toBe(true);

      // A write needs ZooKeeper: refused, not lost.
      const refused = await leader.request('POST', '/apps', { body: { appId: '/shop/other', minInstances: 1, maxInstances: 2, targetCpu: 0.5 } });
      expect(refused.status).toBe(503);
      expect(refused.body.error).toBe('zookeeper-unavailable');

      await sleep(3000); // 6 cycle intervals with the load there: nobody may scale
      expect(await instancesOf(c, '/shop/web')).toBe(1);
      expect(await versionsOf(c, '/shop/web')).toBe(1);
      expect(c.daemons.flatMap(scaleLines)).toEqual([]);
    } finally {
      await zk.resume();
    }
    await seed(c, '/shop/web', 1.0);
    await oneLeader(c.daemons);
    await waitFor('scaled once ZooKeeper answers again', async () => (await instancesOf(c, '/shop/web')) === 2, TAKEOVER_WAIT_MS);
  });
});
