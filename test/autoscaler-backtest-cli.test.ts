// `baton-autoscaler backtest` as a process: a real InfluxDB holding a recorded Monday (a two-hour peak the two tasks
// that actually ran could not carry), the Marathon emulator holding the app's definition, a state file registration.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.js';
import { autoscalerBin, runProcess, type CliResult } from './support/cli.js';
import { makeTempDir, startDaemon, testConfig, waitFor } from './support/autoscaler.js';
import { startZooKeeper } from './support/zookeeper.js';
import { lineProtocolTag, startInfluxDb, type InfluxDbServer } from './support/influxdb.js';

const DAY_MS = 24 * 3600_000;
const WEEK_MS = 7 * DAY_MS;
const MIB = 1024 * 1024;

/** The latest Monday 00:00 UTC that ended at least a day ago: the recorded day. */
function recordedMonday(): number {
  const day = new Date(Date.now() - 2 * DAY_MS);
  day.setUTCHours(0, 0, 0, 0);
  while (day.getUTCDay() !== 1) day.setUTCDate(day.getUTCDate() - 1);
  return day.getTime();
}
const MONDAY = recordedMonday();
const PEAK_FROM = MONDAY + 9 * 3600_000;
const PEAK_TO = MONDAY + 11 * 3600_000;
const isoDay = (at: number) => new Date(at).toISOString().slice(0, 10);

/** The app's total CPU: 0.4 cores, 3 cores from 09:00 to 11:00 (UTC). */
const load = (at: number, dayStart: number) => {
  const shifted = at - dayStart + MONDAY;
  return shifted >= PEAK_FROM && shifted < PEAK_TO ? 3 : 0.4;
};

/** cAdvisor points every minute for `tasks` tasks of `app` sharing the load evenly, over one day from `dayStart`. */
function recordedDay(app: string, dayStart: number, tasks: number, tag: string): string {
  const lines: string[] = [];
  for (let n = 1; n <= tasks; n++) {
    const taskId = `${app}.instance-${tag}-${n}000-11ee-8000-000000000000._app.1`;
    const tags = `container_name=${lineProtocolTag(`mesos-${tag}-${n}`)},machine=agent-${n},MESOS_TASK_ID=${lineProtocolTag(taskId)}`;
    let nanoseconds = 0;
    for (let at = dayStart; at < dayStart + DAY_MS; at += 60_000) {
      nanoseconds += Math.round((load(at, dayStart) / tasks) * 60e9);
      lines.push(`cpu_usage_total,${tags} value=${nanoseconds}i ${at}000000`, `memory_working_set,${tags} value=${100 * MIB}i ${at}000000`);
    }
  }
  return lines.join('\n') + '\n';
}

let influx: InfluxDbServer;
let emulator: RunningEmulator;
let temp: { dir: string; remove(): Promise<void> };
let configFile: string;

const registration = { appId: '/shop/web', minInstances: 2, maxInstances: 10, targetCpu: 0.5, scaleDownStabilizationSeconds: 300 };

beforeAll(async () => {
  influx = await startInfluxDb();
  temp = await makeTempDir('baton-backtest-');
  emulator = await startEmulator({
    apps: [
      { id: '/shop/web', instances: 2, cpus: 1, mem: 256, cmd: 'sleep 1000' },
      { id: '/shop/unmanaged', instances: 1, cpus: 1, mem: 256, cmd: 'sleep 1000' },
      {
        id: '/shop/labelled',
        instances: 2,
        cpus: 1,
        mem: 256,
        cmd: 'sleep 1000',
        labels: { AUTOSCALE_MIN: '2', AUTOSCALE_MAX: '4', AUTOSCALE_TARGET_CPU: '0.5' },
      },
    ],
  });
  // The Monday, and the same Monday one and two weeks before (the predictive floor's history). /shop/web.v2's tasks
  // (whose ids start like /shop/web's) ran a far higher load: it must not count as /shop/web's.
  await influx.writePoints(
    recordedDay('shop_web', MONDAY, 2, '00000000') +
      recordedDay('shop_web', MONDAY - WEEK_MS, 2, '00000001') +
      recordedDay('shop_web', MONDAY - 2 * WEEK_MS, 2, '00000002') +
      recordedDay('shop_web.v2', MONDAY, 4, '00000003').replace(/value=(\d+)i/g, (_, v: string) => `value=${BigInt(v) * 10n}i`) +
      recordedDay('shop_labelled', MONDAY, 2, '00000004'),
    'cadvisor',
  );
  const stateFile = path.join(temp.dir, 'state.json');
  await writeFile(stateFile, JSON.stringify({ version: 1, registrations: [registration] }));
  configFile = path.join(temp.dir, 'autoscaler.json');
  const config = testConfig({ marathonUrl: emulator.url, influxUrl: influx.url, stateFile, intervalSeconds: 15 });
  await writeFile(configFile, JSON.stringify({ ...config, metrics: { taskIdTag: 'MESOS_TASK_ID', windowSeconds: 120, freshnessSeconds: 180 }, defaults: { tolerance: 0.1, scaleDownStabilizationSeconds: 300, warmupSeconds: 0 } }));
});

afterAll(async () => {
  await emulator?.close();
  await influx?.stop();
  await temp?.remove();
});

/** Without BATON_AUTOSCALER_TOKEN: a backtest serves no API and needs no token. */
function backtest(args: string[]): Promise<CliResult> {
  return runProcess(autoscalerBin, ['backtest', '--config', configFile, ...args], { env: { BATON_AUTOSCALER_TOKEN: undefined }, timeoutMs: 60_000 });
}

const monday = ['--from', isoDay(MONDAY), '--to', isoDay(MONDAY + DAY_MS)];

describe('a recorded peak replayed', () => {
  let json: Record<string, any>;
  let human: CliResult;

  beforeAll(async () => {
    const result = await backtest(['--app', '/shop/web', ...monday, '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    json = JSON.parse(result.stdout);
    human = await backtest(['--app', '/shop/web', ...monday]);
  });

  test('the backtest scales up into the peak and back down after it, within the policy', () => {
    expect(json.appId).toBe('/shop/web');
    expect(json.cycles).toBe(DAY_MS / 15_000);
    expect(json.policy.origin).toEqual({ kind: 'state-file', file: expect.stringContaining('state.json') });
    const ups = json.actions.filter((a: any) => a.to > a.from);
    const downs = json.actions.filter((a: any) => a.to < a.from);
    // 3 cores at 0.5 of 1 cpu: 6 instances; 0.4 cores: the minimum, 2.
    expect(Math.max(...json.actions.map((a: any) => a.to))).toBe(6);
    expect(json.backtest.instances).toMatchObject({ min: 2, max: 6 });
    const firstUp = Date.parse(ups[0].at);
    expect(firstUp).toBeGreaterThanOrEqual(PEAK_FROM);
    expect(firstUp).toBeLessThan(PEAK_FROM + 5 * 60_000);
    expect(ups[0].reason).toMatch(/cpu/i);
    // Down only after the peak and a stabilization window of low recommendations.
    const firstDown = Date.parse(downs[0].at);
    expect(firstDown).toBeGreaterThanOrEqual(PEAK_TO + 300_000);
    expect(downs[downs.length - 1].to).toBe(2);
  });

  test('it under-provisions far less than the two tasks that actually ran, which were short 4 instances for 2 hours', () => {
    expect(json.actual.instances).toMatchObject({ min: 2, max: 2, mean: 2 });
    // 4 instances short for 120 minutes (give or take the minute at each edge of the peak).
    expect(json.actual.underProvisionedTaskMinutes).toBeGreaterThanOrEqual(470);
    expect(json.actual.underProvisionedTaskMinutes).toBeLessThanOrEqual(490);
    expect(json.actual.aboveTarget).toMatchObject({ times: 1 });
    expect(json.actual.aboveTarget.minutes).toBeGreaterThanOrEqual(118);
    expect(json.backtest.underProvisionedTaskMinutes).toBeGreaterThan(0);
    expect(json.backtest.underProvisionedTaskMinutes).toBeLessThan(json.actual.underProvisionedTaskMinutes / 4);
    expect(json.backtest.aboveTarget.longestMinutes).toBeLessThan(10);
    // The price: instances kept through the stabilization window after the peak.
    expect(json.backtest.overProvisionedTaskMinutes).toBeGreaterThan(json.actual.overProvisionedTaskMinutes);
    expect(json.actual.scaleActions).toEqual({ up: 0, down: 0 });
  });

  test('people get the comparison in a table and the scale actions with their reasons', () => {
    expect(human.code).toBe(0);
    const out = human.stdout;
    expect(out).toContain(`Backtest of /shop/web from ${isoDay(MONDAY)}T00:00:00Z to ${isoDay(MONDAY + DAY_MS)}T00:00:00Z: 5,760 cycles of 15 s`);
    expect(out).toMatch(/Policy \(registration in .*state\.json\): cpu 0\.5, 2–10 instances/);
    expect(out).toMatch(/under-provisioned\s+[\d.,]+ task-min\s+4\d\d(\.\d)? task-min/);
    expect(out).toMatch(/instances mean \/ min \/ max\s+[\d.]+ \/ 2 \/ 6\s+2 \/ 2 \/ 2/);
    expect(out).toMatch(new RegExp(`${isoDay(MONDAY)}T09:0\\d:\\d\\dZ  2 → \\d`));
  });
});

test('a what-if policy with a lower target runs more instances; labels are the policy of an app without registration', async () => {
  const whatIf = path.join(temp.dir, 'what-if.json');
  await writeFile(whatIf, JSON.stringify({ minInstances: 2, maxInstances: 20, targetCpu: 0.25 }));
  const result = await backtest(['--app', '/shop/web', ...monday, '--policy', whatIf, '--json']);
  expect(result.code).toBe(0);
  const json = JSON.parse(result.stdout);
  expect(json.policy.origin).toEqual({ kind: 'file', file: whatIf });
  expect(json.backtest.instances.max).toBe(12);

  const labelled = await backtest(['--app', '/shop/labelled', ...monday, '--json']);
  expect(labelled.code).toBe(0);
  const fromLabels = JSON.parse(labelled.stdout);
  expect(fromLabels.policy.origin).toEqual({ kind: 'labels' });
  // Capped by AUTOSCALE_MAX: the rest of the peak stays under-provisioned, and the table says so.
  expect(fromLabels.backtest.instances.max).toBe(4);
  expect(fromLabels.backtest.underProvisionedTaskMinutes).toBeGreaterThan(200);
});

test('with ZooKeeper configured, the registration is the one every daemon instance shares there', async () => {
  const zk = await startZooKeeper();
  try {
    const config = { ...JSON.parse(await readFile(configFile, 'utf8')), zookeeper: { connect: zk.connect, path: '/baton-backtest', sessionTimeoutMs: 4000 } };
    // Registered through a daemon's API, as a user does; the backtest then reads it while no daemon runs.
    const daemon = await startDaemon(config, { dir: temp.dir, name: 'zk-daemon' });
    try {
      // Writes wait for the ZooKeeper session (503 before it).
      await waitFor('the daemon leads', async () => (await daemon.request('GET', '/readyz')).body?.role === 'leader', 30_000);
      const registered = await daemon.request('POST', '/apps', { body: { appId: '/shop/web', minInstances: 2, maxInstances: 20, targetCpu: 0.25 } });
      expect(registered.status).toBe(201);
    } finally {
      await daemon.stop();
    }
    const withZk = path.join(temp.dir, 'with-zookeeper.json');
    await writeFile(withZk, JSON.stringify(config));
    const result = await runProcess(autoscalerBin, ['backtest', '--config', withZk, '--app', '/shop/web', ...monday, '--json'], { env: { BATON_AUTOSCALER_TOKEN: undefined } });
    expect(result.stderr).toBe('');
    const json = JSON.parse(result.stdout);
    expect(json.policy.origin).toEqual({ kind: 'zookeeper', path: '/baton-backtest' });
    expect(json.backtest.instances.max).toBe(12);

    await zk.stop();
    const unreachable = await runProcess(autoscalerBin, ['backtest', '--config', withZk, '--app', '/shop/web', ...monday], { env: { BATON_AUTOSCALER_TOKEN: undefined } });
    expect(unreachable.code).toBe(5);
    expect(unreachable.stderr).toContain(`cannot read the registrations from ZooKeeper ${zk.connect}`);
  } finally {
    await zk.stop();
  }
});

test('the predictive floor from the two Mondays before raises the count before the peak arrives', async () => {
  const predictive = path.join(temp.dir, 'predictive.json');
  await writeFile(predictive, JSON.stringify({ ...registration, predictive: { lookbackWeeks: 2, leadMinutes: 10, quantile: 0.9 } }));
  const result = await backtest(['--app', '/shop/web', ...monday, '--policy', predictive, '--json']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const json = JSON.parse(result.stdout);
  const firstUp = json.actions.find((a: any) => a.to > a.from);
  expect(Date.parse(firstUp.at)).toBeLessThan(PEAK_FROM);
  expect(Date.parse(firstUp.at)).toBeGreaterThanOrEqual(PEAK_FROM - 16 * 60_000);
  expect(firstUp.rules).toContain('predicted-floor');
  expect(firstUp.to).toBe(6);
  expect(json.backtest.aboveTarget.times).toBe(0);
});

test('--chart writes an SVG of the replay', async () => {
  const chart = path.join(temp.dir, 'web.svg');
  const result = await backtest(['--app', '/shop/web', ...monday, '--chart', chart]);
  expect(result.code).toBe(0);
  const svg = await readFile(chart, 'utf8');
  expect(svg).toMatch(/^<svg|^<\?xml/);
  expect(svg).toContain('/shop/web');
});

describe('what cannot be backtested says why, with its exit code', () => {
  test('an app Marathon does not know: 3', async () => {
    const result = await backtest(['--app', '/shop/nope', ...monday]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('has no app /shop/nope');
  });

  test('an app without registration or labels: 3, and how to try one', async () => {
    const result = await backtest(['--app', '/shop/unmanaged', ...monday, '--json']);
    expect(result.code).toBe(3);
    expect(JSON.parse(result.stdout).error).toEqual({ kind: 'not-managed', message: expect.stringContaining('--policy') });
  });

  test('a range without recorded usage: 4', async () => {
    const result = await backtest(['--app', '/shop/web', '--from', isoDay(MONDAY - 5 * WEEK_MS), '--to', isoDay(MONDAY - 5 * WEEK_MS + DAY_MS)]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/no recorded usage of \/shop\/web from .* in InfluxDB http:\/\/127\.0\.0\.1:\d+ \(database "cadvisor"/);
  });

  test('bad flags and policy files: 2, naming the flag or the field', async () => {
    const badTime = await backtest(['--app', '/shop/web', '--from', '1 Nov', '--to', isoDay(MONDAY)]);
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toContain("option '--from <time>' argument '1 Nov' is invalid");
    const reversed = await backtest(['--app', '/shop/web', '--from', isoDay(MONDAY), '--to', isoDay(MONDAY - DAY_MS)]);
    expect(reversed.code).toBe(2);
    expect(reversed.stderr).toContain('must be after --from');
    const future = await backtest(['--app', '/shop/web', '--from', isoDay(MONDAY), '--to', isoDay(Date.now() + 3 * DAY_MS)]);
    expect(future.code).toBe(2);
    expect(future.stderr).toContain('is in the future');
    const badPolicy = path.join(temp.dir, 'bad-policy.json');
    await writeFile(badPolicy, JSON.stringify({ minInstances: 5, maxInstances: 2 }));
    const policy = await backtest(['--app', '/shop/web', ...monday, '--policy', badPolicy]);
    expect(policy.code).toBe(2);
    expect(policy.stderr).toContain(`--policy ${badPolicy}: targetCpu: set targetCpu or targetMemory`);
    expect(policy.stderr).toContain('maxInstances: must be >= minInstances (5)');
  });

  test('InfluxDB unreachable: 5, naming it without credentials', async () => {
    const config = JSON.parse(await readFile(configFile, 'utf8'));
    const down = path.join(temp.dir, 'influx-down.json');
    await writeFile(down, JSON.stringify({ ...config, influx: { url: 'http://reader:s3cr3t-pw@127.0.0.1:9', database: 'cadvisor' } }));
    const result = await runProcess(autoscalerBin, ['backtest', '--config', down, '--app', '/shop/web', ...monday], { env: { BATON_AUTOSCALER_TOKEN: undefined } });
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('InfluxDB http://127.0.0.1:9');
    expect(result.stderr + result.stdout).not.toContain('s3cr3t-pw');
  });
});

test('backtest --help shows examples and the exit codes', async () => {
  const result = await runProcess(autoscalerBin, ['backtest', '--help']);
  expect(result.code).toBe(0);
  expect(result.stdout).toContain('baton-autoscaler backtest --config /etc/baton/autoscaler.json --app /shop/web --from 2026-11-01 --to 2026-11-28');
  expect(result.stdout).toContain('Exit codes: 0 done');
});
