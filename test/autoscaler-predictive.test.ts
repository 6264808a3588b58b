// Predictive floors end to end: the daemon as a process on a test clock set to a Monday morning, a real InfluxDB holding
// the same Monday's peak in past weeks, and the Marathon emulator.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.js';
import { MarathonClient } from '../src/marathon/client.js';
import { makeTempDir, startDaemon, testConfig, waitFor, type DaemonProcess } from './support/autoscaler.js';
import { lineProtocolTag, startInfluxDb, type InfluxDbServer } from './support/influxdb.js';

const WEEK_MS = 7 * 24 * 3600_000;
const MIB = 1024 * 1024;
const FAST = { stagingMs: 30, healthyMs: 30, killMs: 20, crashMs: 50, backoffMs: 50 };

let influx: InfluxDbServer;
let emulator: RunningEmulator;
let daemon: DaemonProcess;
let temp: { dir: string; remove(): Promise<void> };

/** The latest Monday 08:50 UTC at least a day ago: the daemon's clock starts there, ten minutes before the peak. */
function lastMondayMorning(): number {
  const day = new Date(Date.now() - 24 * 3600_000);
  day.setUTCHours(8, 50, 0, 0);
  while (day.getUTCDay() !== 1) day.setUTCDate(day.getUTCDate() - 1);
  return day.getTime();
}
const MONDAY = lastMondayMorning();
const PEAK_STARTS = MONDAY + 10 * 60_000;

/**
 * cAdvisor-shaped points for one task from `from` to `to` every 60 s: its CPU counter integrates `cores(at)`, its
 * working set is `memory(at)`.
 */
function taskLines(taskId: string, from: number, to: number, cores: (at: number) => number, memory: (at: number) => number): string {
  const tags = `container_name=${lineProtocolTag(`mesos-${taskId.slice(-12)}`)},machine=agent-1,MESOS_TASK_ID=${lineProtocolTag(taskId)}`;
  const lines: string[] = [];
  let nanoseconds = 0;
  for (let at = from; at <= to; at += 60_000) {
    nanoseconds += Math.round(cores(at) * 60e9);
    lines.push(`cpu_usage_total,${tags} value=${nanoseconds}i ${at}000000`, `memory_working_set,${tags} value=${Math.round(memory(at))}i ${at}000000`);
  }
  return lines.join('\n') + '\n';
}

/** Two tasks of `app` (Marathon's task id form) in the week `weeksAgo` before MONDAY, from 08:20 to 10:30, peaking 09:00–10:00. */
function recordedMonday(app: string, weeksAgo: number, base: { cores: number; memory: number }, peak: { cores: number; memory: number }): string {
  const shift = weeksAgo * WEEK_MS;
  const inPeak = (at: number) => at >= PEAK_STARTS - shift && at < PEAK_STARTS - shift + 3600_000;
  return [1, 2]
    .map((n) =>
      taskLines(
        `${app}.instance-0000000${weeksAgo}-${n}000-11ee-8000-000000000000._app.1`,
        MONDAY - shift - 30 * 60_000,
        MONDAY - shift + 100 * 60_000,
        (at) => (inPeak(at) ? peak.cores : base.cores) / 2,
        (at) => (inPeak(at) ? peak.memory : base.memory) / 2,
      ),
    )
    .join('');
}

beforeAll(async () => {
  influx = await startInfluxDb();
  temp = await makeTempDir();
  emulator = await startEmulator({
    apps: [
      { id: '/shop/web', instances: 2, cpus: 1, mem: 256, cmd: 'sleep 1000' },
      { id: '/shop/api', instances: 2, cpus: 0.5, mem: 256, cmd: 'sleep 1000' },
    ],
    timings: FAST,
  });
  const marathon = new MarathonClient({ url: emulator.url, readRetries: 0 });
  const live = await waitFor('both apps running', async () => {
    const apps = await Promise.all(['/shop/web', '/shop/api'].map((id) => marathon.getApp(id)));
    return apps.every((a) => (a.tasks ?? []).filter((t) => t.state === 'TASK_RUNNING').length === 2) ? apps : undefined;
  });

  // Weeks 1 and 3 before MONDAY hold the peak; week 2 is a holiday without data. /shop/web.v2 (whose task ids start like
  // /shop/web's) peaked far higher: it must not leak into /shop/web's history.
  const history = [1, 3]
    .flatMap((weeksAgo) => [
      recordedMonday('shop_web', weeksAgo, { cores: 0.2, memory: 64 * MIB }, { cores: 0.5, memory: 1280 * MIB }),
      recordedMonday('shop_web.v2', weeksAgo, { cores: 0.2, memory: 64 * MIB }, { cores: 0.5, memory: 20_000 * MIB }),
      recordedMonday('shop_api', weeksAgo, { cores: 0.2, memory: 64 * MIB }, { cores: 2, memory: 64 * MIB }),
    ])
    .join('');
  // Now (real time, which InfluxDB's now() and the usage query read): both apps quiet.
  const now = Date.now();
  const current = live
    .flatMap((app) => (app.tasks ?? []).map((task) => taskLines(task.id, now - 50_000, now + 60_000, () => 0.05, () => 32 * MIB)))
    .join('');
  await influx.writePoints(history + current, 'cadvisor');

  // Registered before the daemon starts, so its first cycle with apps reads both histories (in one request).
  const predictive = { lookbackWeeks: 3, leadMinutes: 10, quantile: 0.9 };
  const registrations = [
    // CPU: 2 cores expected at 0.5 of 0.5 cpus per instance → 8.
    { appId: '/shop/api', minInstances: 2, maxInstances: 12, targetCpu: 0.5, predictive },
    // Memory: 1280 MiB expected at 0.5 of 256 MiB per instance → 10.
    { appId: '/shop/web', minInstances: 2, maxInstances: 12, targetMemory: 0.5, predictive },
  ];
  const stateFile = path.join(temp.dir, 'state.json');
  await writeFile(stateFile, JSON.stringify({ version: 1, registrations }));
  const config = testConfig({ marathonUrl: emulator.url, influxUrl: influx.url, stateFile });
  daemon = await startDaemon(
    // One step to the floor (HPA's default limit would take 2 → 6 → 10 over two 15 s periods).
    { ...config, defaults: { tolerance: 0.1, scaleDownStabilizationSeconds: 3, warmupSeconds: 0, scaleUpMaxStep: 20 }, logLevel: 'debug' },
    { dir: temp.dir, env: { BATON_AUTOSCALER_TEST_CLOCK_START: new Date(MONDAY).toISOString() } },
  );
});

afterAll(async () => {
  await daemon?.stop();
  await emulator?.close();
  await influx?.stop();
  await temp?.remove();
});

test('the recorded Monday peak raises the floor ten minutes before it, from the weeks that have data', async () => {
  const marathon = new MarathonClient({ url: emulator.url, readRetries: 0 });
  await waitFor('both apps scaled to their predicted floors', async () => {
    const [web, api] = await Promise.all([marathon.getApp('/shop/web'), marathon.getApp('/shop/api')]);
    return web.instances === 10 && api.instances === 8;
  });

  const response = await daemon.request('GET', '/decisions?appId=%2Fshop%2Fweb&limit=100');
  const raised = (response.body.decisions as any[]).find((d) => d.action === 'scale-up');
  expect(raised.rules).toContain('predicted-floor');
  expect(raised.at).toBeLessThan(PEAK_STARTS);
  expect(raised.forecast).toMatchObject({
    floor: 10,
    raised: true,
    quantile: 0.9,
    ignoredWeeks: [2],
    weeks: [{ weeksAgo: 1 }, { weeksAgo: 3 }],
  });
  expect(Date.parse(raised.forecast.forecastAt) - raised.at).toBe(10 * 60_000);
  expect(Date.parse(raised.forecast.weeks[0].at)).toBe(Date.parse(raised.forecast.forecastAt) - WEEK_MS);
  expect(Date.parse(raised.forecast.weeks[1].at)).toBe(Date.parse(raised.forecast.forecastAt) - 3 * WEEK_MS);
  expect(raised.forecast.expected.memoryBytes / MIB).toBeGreaterThan(1200);
  expect(raised.forecast.expected.memoryBytes / MIB).toBeLessThanOrEqual(1280);
  expect(raised.reason).toMatch(/raised from \d+ to the predicted floor 10: memory \d+ MiB expected at .* \(quantile 0\.9 of the weeks of \d{4}-\d\d-\d\d, \d{4}-\d\d-\d\d; no data 2 weeks ago\)/);

  const api = (await daemon.request('GET', '/decisions?appId=%2Fshop%2Fapi&limit=100')).body.decisions as any[];
  expect(api.find((d) => d.action === 'scale-up')?.forecast).toMatchObject({ floor: 8, ignoredWeeks: [2] });

  // Both apps' history came in one request, once: every other cycle sent only the usage query.
  const cycles = daemon.logs().filter((line) => line.msg === 'cycle' && (line.apps as number) > 0);
  expect(cycles.filter((line) => line.influxRequests === 2)).toHaveLength(1);
  expect(cycles.every((line) => (line.influxRequests as number) <= 2)).toBe(true);
  expect(daemon.logs().filter((line) => line.msg === 'usage history read for predictive floors')).toEqual([
    expect.objectContaining({ apps: ['/shop/api', '/shop/web'] }),
  ]);
});
