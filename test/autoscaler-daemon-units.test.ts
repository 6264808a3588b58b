// Table-driven tests of the daemon's pure parts: config validation, label parsing, registrations, the decision log,
// and the persisted registration store (a real temp dir).
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { parseConfig } from '../autoscaler/config/load.js';
import { rememberRecommendation, type AppMemory, type DecisionRecord } from '../autoscaler/cycle/run-cycle.js';
import { toAppView } from '../autoscaler/cycle/app-view.js';
import { DecisionLog } from '../autoscaler/decisions/log.js';
import { registrationFromLabels } from '../autoscaler/registry/labels.js';
import { isValidAppId, registrationSchema, toPolicy } from '../autoscaler/registry/registration.js';
import { StateFileRegistrationStore, StateFileError } from '../autoscaler/registry/store.js';
import { createJsonLogger } from '../autoscaler/telemetry/logger.js';
import { createScrubber } from '../autoscaler/telemetry/scrub.js';
import { Controller } from '../autoscaler/controller/controller.js';
import { FixedRateTicker, type MonotonicTimers } from '../autoscaler/controller/fixed-rate.js';
import { AutoscalerMetrics } from '../autoscaler/telemetry/prometheus.js';
import { silentLogger } from '../autoscaler/telemetry/logger.js';
import { MarathonError } from '../src/marathon/errors.js';
import { makeTempDir } from './support/autoscaler.js';

const minimal = { marathon: { url: 'http://marathon:8080' }, influx: { url: 'http://influxdb:8086' } };
const tokenEnv = { BATON_AUTOSCALER_TOKEN: 'a-token' };

describe('config', () => {
  test('defaults everything but the URLs', () => {
    const { config, secrets } = parseConfig(minimal, tokenEnv);
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 8470 });
    expect(config.intervalSeconds).toBe(15);
    expect(config.dryRun).toBe(false);
    expect(config.stateFile).toBe('/var/lib/baton/autoscaler.json');
    expect(config.influx.database).toBe('cadvisor');
    expect(config.influx.timeoutSeconds).toBe(10);
    expect(parseConfig({ ...minimal, influx: { url: 'http://i', timeoutSeconds: 30 } }, tokenEnv).config.influx.timeoutSeconds).toBe(30);
    expect(config.metrics).toMatchObject({ taskIdTag: 'MESOS_TASK_ID', windowSeconds: 300 });
    expect(config.defaults).toEqual({ tolerance: 0.1, scaleDownStabilizationSeconds: 300, warmupSeconds: 60 });
    expect(secrets.apiToken).toBe('a-token');
  });

  test.each([
    [{}, /marathon: is required; influx: is required/],
    [{ ...minimal, influx: { url: 'influxdb:8086' } }, /influx\.url: expected a URL/],
    [{ ...minimal, marathon: { url: 'ftp://x' } }, /marathon\.url: expected a URL/],
    [{ ...minimal, intervalSeconds: 0 }, /intervalSeconds: expected at least 0\.1 seconds/],
    [{ ...minimal, listen: { port: 70000 } }, /listen\.port:/],
    [{ ...minimal, influx: { url: 'http://i', timeoutSeconds: 0 } }, /influx\.timeoutSeconds: expected a number of seconds > 0/],
    [{ ...minimal, influx: { url: 'http://i', pasword: 'x' } }, /influx: unknown key\(s\) "pasword"/],
    [{ ...minimal, metrics: { taskIdTag: 'A\nB' } }, /metrics\.taskIdTag: expected a tag name without control characters/],
    [{ ...minimal, defaults: { tolerance: 2 } }, /defaults\.tolerance:/],
    [{ ...minimal, marathon: { url: 'http://m', credentialsEnv: 'not a name' } }, /marathon\.credentialsEnv: expected the name of an environment variable/],
  ])('rejects %j naming the key', (raw, message) => {
    expect(() => parseConfig(raw, tokenEnv, 'autoscaler.json')).toThrow(message);
  });

  test('refuses writes without a token unless read-only', () => {
    expect(() => parseConfig(minimal, {})).toThrow(/apiTokenEnv: environment variable BATON_AUTOSCALER_TOKEN is not set/);
    expect(parseConfig({ ...minimal, readOnly: true }, {}).secrets.apiToken).toBeUndefined();
  });

  test('resolves secrets from the environment and names a missing one', () => {
    const raw = { ...minimal, marathon: { url: 'http://m', credentialsEnv: 'MC' }, influx: { url: 'http://i', passwordEnv: 'IP' } };
    expect(() => parseConfig(raw, { ...tokenEnv, MC: 'u:p' })).toThrow(/influx\.passwordEnv: environment variable IP is not set/);
    expect(() => parseConfig(raw, { ...tokenEnv, MC: 'nocolon', IP: 'x' })).toThrow(/must hold "user:password"/);
    expect(parseConfig(raw, { ...tokenEnv, MC: 'u:p', IP: 'pw' }).secrets).toMatchObject({ marathonBasic: 'u:p', influxPassword: 'pw' });
  });
});

describe('app ids', () => {
  test.each([
    ['/shop/web', true],
    ['/a', true],
    ['/shop/web-1.v2', true],
    ['shop/web', false],
    ['/', false],
    ['/shop/web/', false],
    ['/Shop', false],
    ['/shop/../etc', false],
    ['/shop/web"; DROP DATABASE cadvisor', false],
    ["/x' OR '1'='1", false],
    ['/shop/web\nINJECT', false],
    ['/shop web', false],
    ['/-bad', false],
    [`/${'a'.repeat(300)}`, false],
  ])('%j valid: %s', (id, valid) => {
    expect(isValidAppId(id)).toBe(valid);
  });
});

describe('registrations', () => {
  const base = { appId: '/shop/web', minInstances: 2, maxInstances: 20, targetCpu: 0.6 };

  test.each([
    [{ ...base, targetCpu: undefined }, 'targetCpu', /set targetCpu or targetMemory/],
    [{ ...base, maxInstances: 1 }, 'maxInstances', /must be >= minInstances \(2\)/],
    [{ ...base, minInstances: -1 }, 'minInstances', /expected an integer >= 0/],
    [{ ...base, minInstances: 1.5 }, 'minInstances', /expected an integer/],
    [{ ...base, targetMemory: 1.5 }, 'targetMemory', /expected a fraction <= 1/],
    [{ ...base, appId: 'shop/web' }, 'appId', /absolute Marathon app id/],
    [{ ...base, extra: 1 }, '', /extra/],
    [{ ...base, schedules: [{ cron: '0 8 * * 1', durationMinutes: 60, minInstances: 30 }] }, 'schedules.0.minInstances', /<= maxInstances/],
    [{ ...base, schedules: [{ cron: '0 8 * * 1', durationMinutes: 60, minInstances: 3, timezone: 'Mars/Olympus' }] }, 'schedules.0.timezone', /IANA time zone/],
    [{ ...base, predictive: { quantile: 1.5 } }, 'predictive.quantile', /expected a quantile from 0 to 1/],
    [{ ...base, predictive: { lookbackWeeks: 2.5 } }, 'predictive.lookbackWeeks', /expected a whole number of weeks/],
    [{ ...base, predictive: { lookbackWeeks: 2, minWeeks: 3 } }, 'predictive.minWeeks', /must be <= lookbackWeeks \(2\)/],
    [{ ...base, predictive: { leadMinuts: 10 } }, 'predictive', /leadMinuts/],
  ])('rejects %j at %s', (body, where, message) => {
    const result = registrationSchema.safeParse(body);
    expect(result.success).toBe(false);
    const issue = result.error!.issues.find((i) => i.path.join('.') === where);
    expect(issue, JSON.stringify(result.error!.issues)).toBeDefined();
    expect(issue!.message).toMatch(message);
  });

  test('fills unset knobs from the config defaults', () => {
    const registration = registrationSchema.parse({ ...base, tolerance: 0.2 });
    const policy = toPolicy(registration, { tolerance: 0.1, scaleDownStabilizationSeconds: 300, warmupSeconds: 60 }, 'rest');
    expect(policy).toEqual({
      appId: '/shop/web',
      minInstances: 2,
      maxInstances: 20,
      targetCpu: 0.6,
      tolerance: 0.2,
      scaleDownStabilizationSeconds: 300,
      warmupSeconds: 60,
      dryRun: false,
      schedules: [],
      source: 'rest',
    });
  });

  test('predictive: unset knobs take their defaults, minWeeks 2 (1 with a one-week lookback)', () => {
    const defaults = { tolerance: 0.1, scaleDownStabilizationSeconds: 300, warmupSeconds: 60 };
    expect(toPolicy(registrationSchema.parse({ ...base, predictive: {} }), defaults, 'rest').predictive).toEqual({
      lookbackWeeks: 4, leadMinutes: 10, quantile: 0.9, windowMinutes: 10, minWeeks: 2,
    });
    expect(toPolicy(registrationSchema.parse({ ...base, predictive: { lookbackWeeks: 1 } }), defaults, 'rest').predictive?.minWeeks).toBe(1);
  });
});

describe('labels', () => {
  test.each([
    [{}, { kind: 'none' }],
    [{ team: 'shop' }, { kind: 'none' }],
    [
      { AUTOSCALE_MIN: '2', AUTOSCALE_MAX: '10', AUTOSCALE_TARGET_CPU: '0.6' },
      { kind: 'registered', registration: { appId: '/shop/web', minInstances: 2, maxInstances: 10, targetCpu: 0.6, dryRun: false, schedules: [] } },
    ],
    [
      {
        AUTOSCALE_MIN: '1',
        AUTOSCALE_MAX: '4',
        AUTOSCALE_TARGET_MEMORY: '.8',
        AUTOSCALE_DRY_RUN: 'true',
        AUTOSCALE_SCHEDULES: '[{"cron":"0 8 * * 1","durationMinutes":240,"minInstances":3,"timezone":"Asia/Shanghai"}]',
      },
      {
        kind: 'registered',
        registration: {
          appId: '/shop/web',
          minInstances: 1,
          maxInstances: 4,
          targetMemory: 0.8,
          dryRun: true,
          schedules: [{ cron: '0 8 * * 1', durationMinutes: 240, minInstances: 3, timezone: 'Asia/Shanghai' }],
        },
      },
    ],
    [{ AUTOSCALE_MIN: 'two', AUTOSCALE_MAX: '10', AUTOSCALE_TARGET_CPU: '0.6' }, { kind: 'invalid', errors: ['AUTOSCALE_MIN: expected a number, got "two"'] }],
    [{ AUTOSCALE_MIN: '2', AUTOSCALE_TARGET_CPU: '0.6' }, { kind: 'invalid', errors: ['AUTOSCALE_MAX: is required'] }],
    [{ AUTOSCALE_MIN: '5', AUTOSCALE_MAX: '3', AUTOSCALE_TARGET_CPU: '0.6' }, { kind: 'invalid', errors: ['AUTOSCALE_MAX: must be >= minInstances (5)'] }],
    [{ AUTOSCALE_MIN: '1', AUTOSCALE_MAX: '3' }, { kind: 'invalid', errors: ['AUTOSCALE_TARGET_CPU: set targetCpu or targetMemory (or both)'] }],
    [
      { AUTOSCALE_MIN: '1', AUTOSCALE_MAX: '3', AUTOSCALE_TARGET_CPU: '0.5', AUTOSCALE_MAXX: '9' },
      { kind: 'invalid', errors: [expect.stringMatching(/^AUTOSCALE_MAXX: unknown label/)] },
    ],
    [
      { AUTOSCALE_MIN: '1', AUTOSCALE_MAX: '3', AUTOSCALE_TARGET_CPU: '0.5', AUTOSCALE_DRY_RUN: 'yes' },
      { kind: 'invalid', errors: ['AUTOSCALE_DRY_RUN: expected "true" or "false", got "yes"'] },
    ],
    [
      { AUTOSCALE_MIN: '1', AUTOSCALE_MAX: '9', AUTOSCALE_TARGET_CPU: '0.5', AUTOSCALE_PREDICTIVE: 'lookbackWeeks=4, leadMinutes=10,quantile=0.9' },
      {
        kind: 'registered',
        registration: {
          appId: '/shop/web', minInstances: 1, maxInstances: 9, targetCpu: 0.5, dryRun: false, schedules: [],
          predictive: { lookbackWeeks: 4, leadMinutes: 10, quantile: 0.9, windowMinutes: 10 },
        },
      },
    ],
    [
      { AUTOSCALE_MIN: '1', AUTOSCALE_MAX: '9', AUTOSCALE_TARGET_CPU: '0.5', AUTOSCALE_PREDICTIVE: 'true' },
      {
        kind: 'registered',
        registration: {
          appId: '/shop/web', minInstances: 1, maxInstances: 9, targetCpu: 0.5, dryRun: false, schedules: [],
          predictive: { lookbackWeeks: 4, leadMinutes: 10, quantile: 0.9, windowMinutes: 10 },
        },
      },
    ],
    [
      { AUTOSCALE_MIN: '1', AUTOSCALE_MAX: '9', AUTOSCALE_TARGET_CPU: '0.5', AUTOSCALE_PREDICTIVE: 'quantile=2' },
      { kind: 'invalid', errors: ['AUTOSCALE_PREDICTIVE.quantile: expected a quantile from 0 to 1'] },
    ],
    [
      { AUTOSCALE_MIN: '1', AUTOSCALE_MAX: '9', AUTOSCALE_TARGET_CPU: '0.5', AUTOSCALE_PREDICTIVE: 'lookbackWeeks=four' },
      { kind: 'invalid', errors: ['AUTOSCALE_PREDICTIVE: lookbackWeeks: expected a number, got "lookbackWeeks=four"'] },
    ],
    [
      { AUTOSCALE_MIN: '1', AUTOSCALE_MAX: '9', AUTOSCALE_TARGET_CPU: '0.5', AUTOSCALE_PREDICTIVE: 'weeks=4' },
      { kind: 'invalid', errors: [expect.stringMatching(/^AUTOSCALE_PREDICTIVE: .*"weeks"/)] },
    ],
    [
      { AUTOSCALE_MIN: '1', AUTOSCALE_MAX: '9', AUTOSCALE_TARGET_CPU: '0.5', AUTOSCALE_PREDICTIVE: 'on' },
      { kind: 'invalid', errors: [expect.stringMatching(/^AUTOSCALE_PREDICTIVE: expected "true" or key=value pairs/)] },
    ],
  ])('%j → %j', (labels, expected) => {
    expect(registrationFromLabels('/shop/web', labels as Record<string, string>)).toEqual(expected);
  });
});

describe('app view', () => {
  test('maps Marathon tasks, health and deployments', () => {
    const view = toAppView({
      id: '/shop/web',
      instances: 2,
      cpus: 0.5,
      mem: 256,
      healthChecks: [{ protocol: 'HTTP' }],
      deployments: [{ id: 'd1' }],
      tasks: [
        { id: 't1', appId: '/shop/web', state: 'TASK_RUNNING', startedAt: '2026-01-01T00:00:00.000Z', healthCheckResults: [{ alive: true }] },
        { id: 't2', appId: '/shop/web', state: 'TASK_STAGING', startedAt: null },
      ],
    });
    expect(view).toEqual({
      id: '/shop/web',
      instances: 2,
      cpus: 0.5,
      mem: 256,
      hasHealthChecks: true,
      deploymentInProgress: true,
      tasks: [
        { id: 't1', state: 'TASK_RUNNING', healthy: true, startedAt: Date.parse('2026-01-01T00:00:00.000Z') },
        { id: 't2', state: 'TASK_STAGING', healthy: false, startedAt: null },
      ],
    });
    expect(toAppView({ id: '/a', tasks: [{ id: 't', appId: '/a', state: 'TASK_RUNNING' }] }).tasks[0]!.healthy).toBeNull();
  });
});

describe('decision log', () => {
  const record = (at: number, overrides: Partial<DecisionRecord> = {}): DecisionRecord => ({
    appId: '/a',
    at,
    current: 2,
    desired: 2,
    recommendation: 2,
    action: 'none',
    rules: ['tolerance'],
    inputs: { targets: { cpu: 0.5 }, ratios: { cpu: 1 }, bounds: { min: 1, max: 5, scheduleFloor: null }, tasks: [] },
    dryRun: false,
    source: 'rest',
    outcome: 'unchanged',
    resources: { cpus: 1, memMiB: 128 },
    metrics: [],
    notes: [],
    adopted: undefined,
    error: undefined,
    firstAt: at,
    repeated: 1,
    ...overrides,
  });

  test('folds repeats, keeps the newest inputs, bounds each app, lists newest first', () => {
    const log = new DecisionLog(3);
    log.add(record(1));
    log.add(record(2));
    log.add(record(3));
    expect(log.list({ limit: 10 })).toEqual([expect.objectContaining({ at: 3, firstAt: 1, repeated: 3 })]);
    log.add(record(4, { action: 'scale-up', desired: 4, outcome: 'applied' }));
    log.add(record(5, { current: 4, desired: 4 }));
    log.add(record(6, { current: 4, desired: 6, action: 'scale-up', outcome: 'applied' }));
    log.add(record(7, { appId: '/b' }));
    expect(log.list({ appId: '/a', limit: 10 }).map((d) => d.at)).toEqual([6, 5, 4]);
    expect(log.list({ limit: 2 }).map((d) => [d.appId, d.at])).toEqual([['/b', 7], ['/a', 6]]);
    log.retain(new Set(['/b']));
    expect(log.list({ limit: 10 }).map((d) => d.appId)).toEqual(['/b']);
  });
});

describe('logger', () => {
  test('one JSON object a line, secrets scrubbed', () => {
    const lines: string[] = [];
    const logger = createJsonLogger({ write: (l) => lines.push(l), scrub: createScrubber(['hunter2-secret']), clock: () => 0 });
    logger.info('hello', { url: 'http://user:hunter2-secret@x', error: new Error('bad hunter2-secret') });
    logger.debug('not shown');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    expect(JSON.parse(lines[0]!)).toEqual({
      time: '1970-01-01T00:00:00.000Z',
      level: 'info',
      msg: 'hello',
      url: 'http://***@x',
      error: { name: 'Error', message: 'bad ***' },
    });
  });
});

describe('secret scrubber', () => {
  const pair = 'ops:m4rathon-pa55word';
  const base64 = Buffer.from(pair).toString('base64');
  const scrub = createScrubber([pair, 'infl0x-pa55word', 'autoscaler:infl0x-pa55word', 'api-t0ken-value']);
  test.each([
    ['URL userinfo of any URL', 'GET http://bob:s3cr3t@influx:8086/query failed', 'GET http://***@influx:8086/query failed'],
    ['an echoed Basic header, even cut short', `<td>Authorization: Basic ${base64.slice(0, 12)}</td>`, '<td>Authorization: Basic ***</td>'],
    ['an echoed Bearer header', '{"authorization":"Bearer eyJhbGciOi.x-Y"}', '{"authorization":"Bearer ***"}'],
    ['a DC/OS token header', 'Authorization: token=abc.DEF-123', 'Authorization: token=***'],
    ['another scheme', 'authorization: Negotiate YIIB', 'authorization: ***'],
    ['query parameters carrying a password', '/query?u=autoscaler&p=whatever1&db=x', '/query?u=autoscaler&p=***&db=x'],
    ['a configured password alone', 'login failed for m4rathon-pa55word', 'login failed for ***'],
    ['its base64 user:password form anywhere', `echo ${base64} done`, 'echo *** done'],
    ['the InfluxDB pair in base64', `x${Buffer.from('autoscaler:infl0x-pa55word').toString('base64')}y`, 'x***y'],
    ['percent-encoded', `pw=${encodeURIComponent('api-t0ken-value')}`, 'pw=***'],
  ])('%s', (_what, input, expected) => {
    expect(scrub(input)).toBe(expected);
  });
  test.each([
    'writes need "Authorization: Bearer <token>"',
    'Marathon refused HTTP Basic authentication',
    'cpu=0.5 window 300 s',
  ])('leaves prose alone: %s', (text) => {
    expect(scrub(text)).toBe(text);
  });
});

describe('registration store', () => {
  const dirs: { remove(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await d.remove();
  });

  test('persists atomically and reloads; refuses a corrupt file', async () => {
    const temp = await makeTempDir();
    dirs.push(temp);
    const file = path.join(temp.dir, 'nested', 'state.json');
    const store = await StateFileRegistrationStore.open(file);
    expect(store.list()).toEqual([]);
    const registration = registrationSchema.parse({ appId: '/shop/web', minInstances: 1, maxInstances: 3, targetCpu: 0.5 });
    expect(await store.put(registration)).toBe(true);
    expect(await store.put({ ...registration, maxInstances: 4 })).toBe(false);
    await store.put(registrationSchema.parse({ appId: '/shop/api', minInstances: 1, maxInstances: 3, targetMemory: 0.5 }));
    expect(await store.remove('/shop/api')).toBe(true);
    expect(await store.remove('/shop/api')).toBe(false);

    const reloaded = await StateFileRegistrationStore.open(file);
    expect(reloaded.list()).toEqual([{ ...registration, maxInstances: 4 }]);
    expect(JSON.parse(await readFile(file, 'utf8')).version).toBe(1);
    expect(await readdir(path.dirname(file))).toEqual(['state.json']); // no temp files left behind

    await writeFile(file, '{"version":1,"registrations":[{"appId":"/x"}]}');
    await expect(StateFileRegistrationStore.open(file)).rejects.toThrow(/registrations\.0\.minInstances: is required/);
    await writeFile(file, '{not json');
    await expect(StateFileRegistrationStore.open(file)).rejects.toBeInstanceOf(StateFileError);
  });
});

describe('schedule labels', () => {
  test('an unparsable cron in AUTOSCALE_SCHEDULES is reported under the label', () => {
    const result = registrationFromLabels('/shop/web', {
      AUTOSCALE_MIN: '1',
      AUTOSCALE_MAX: '3',
      AUTOSCALE_TARGET_CPU: '0.5',
      AUTOSCALE_SCHEDULES: '[{"cron":"every monday","durationMinutes":60,"minInstances":2}]',
    });
    expect(result.kind).toBe('invalid');
    expect(result.kind === 'invalid' && result.errors[0]).toMatch(/^AUTOSCALE_SCHEDULES\.0: invalid cron expression "every monday"/);
  });
});

describe('recommendation history', () => {
  test.each([
    [[3, 5, 4, 4, 2], [5, 4, 2]],
    [[1, 2, 3], [3]],
    [[3, 2, 1], [3, 2, 1]],
    [[2, 2, 2], [2]],
  ])('%j keeps %j', (values, kept) => {
    const memory: AppMemory = { recommendations: [] };
    values.forEach((desired, i) => rememberRecommendation(memory, { at: i * 1000, desired }, 300));
    expect(memory.recommendations.map((r) => r.desired)).toEqual(kept);
  });

  test('the highest recommendation of any window is the same as with the full history', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const windowSeconds = 30;
    const memory: AppMemory = { recommendations: [] };
    const full: { at: number; desired: number }[] = [];
    for (let i = 0; i < 500; i++) {
      const recommendation = { at: i * 1500, desired: 1 + Math.floor(random() * 10) };
      full.push(recommendation);
      rememberRecommendation(memory, recommendation, windowSeconds);
      const cutoff = recommendation.at - windowSeconds * 1000;
      const highest = (history: { at: number; desired: number }[]) =>
        Math.max(...history.filter((r) => r.at > cutoff).map((r) => r.desired));
      expect(highest(memory.recommendations)).toBe(highest(full));
    }
    expect(memory.recommendations.length).toBeLessThanOrEqual(windowSeconds / 1.5 + 2);
  });
});

/** A monotonic clock and its timers, moved by hand. */
function manualTimers(): MonotonicTimers & { advance(ms: number): Promise<void> } {
  let now = 0;
  let nextId = 0;
  const pending = new Map<number, { at: number; run: () => void }>();
  return {
    now: () => now,
    setTimeout(run, ms) {
      const id = ++nextId;
      pending.set(id, { at: now + Math.max(0, ms), run });
      return id;
    },
    clearTimeout(handle) {
      pending.delete(handle as number);
    },
    async advance(ms) {
      const until = now + ms;
      const settle = () => new Promise((resolve) => setImmediate(resolve)); // cycles run to their end (no real I/O)
      for (;;) {
        await settle();
        const due = [...pending.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        pending.delete(due[0]);
        now = due[1].at;
        due[1].run();
      }
      await settle();
      now = until;
    },
  };
}

describe('fixed-rate ticker', () => {
  test('fires on the grid from its start, skips points it was late for, stops', async () => {
    const timers = manualTimers();
    const fired: number[] = [];
    const ticker = new FixedRateTicker(1000, timers, () => fired.push(timers.now()));
    await timers.advance(500);
    ticker.start(); // anchor 500
    await timers.advance(3_200);
    expect(fired).toEqual([1500, 2500, 3500]);
    ticker.stop();
    await timers.advance(5_000);
    expect(fired).toHaveLength(3);
  });
});

describe('controller pacing and health', () => {
  /** A controller over in-memory ports; the wall clock is `wall.now`, set by the test. */
  function controller(marathon: { fail?: MarathonError; hang?: boolean } = {}) {
    const timers = manualTimers();
    const wall = { now: Date.parse('2026-03-01T12:00:00Z') };
    const c = new Controller(
      {
        marathon: {
          visitApps: async () => {
            if (marathon.hang) return new Promise<number>(() => undefined);
            if (marathon.fail) throw marathon.fail;
            return 0;
          },
          scaleApp: async () => ({ deploymentId: 'd', version: 'v' }),
        },
        metrics: { fetchUsage: async () => ({}) },
        clock: { now: () => wall.now },
        logger: silentLogger,
      },
      {
        intervalSeconds: 1,
        maxCycleAgeSeconds: 3,
        settings: {
          dryRun: false,
          usageQuery: { taskIdTag: 'MESOS_TASK_ID', windowSeconds: 60 },
          freshnessSeconds: 30,
          defaults: { tolerance: 0.1, scaleDownStabilizationSeconds: 0, warmupSeconds: 0 },
        },
        registrations: () => [],
        decisions: new DecisionLog(5),
        metrics: new AutoscalerMetrics({ version: '0.0.0-test', nodeVersion: process.version }),
        scrub: createScrubber(['ops:pa55word-x']),
        timers,
      },
    );
    return { c, timers, wall };
  }

  test('a backward wall-clock step of 2 minutes neither stops cycles nor fools liveness', async () => {
    const { c, timers, wall } = controller();
    c.start();
    await timers.advance(2_500);
    expect(c.liveness()).toMatchObject({ live: true, cyclesRun: 3 });
    wall.now -= 120_000;
    await timers.advance(5_000);
    expect(c.liveness()).toMatchObject({ live: true, status: 'ok', cyclesRun: 8 });
    wall.now += 600_000; // and forward: liveness does not read the wall clock either
    expect(c.liveness().live).toBe(true);
    await c.stop();
  });

  test('Marathon down: not ready (with the error, scrubbed), still live', async () => {
    const echoed = `Marathon answered 500: <pre>Authorization: Basic ${Buffer.from('ops:pa55word-x').toString('base64')}</pre>`;
    const { c, timers } = controller({ fail: new MarathonError('server', echoed, { method: 'GET', url: '/v2/apps' }) });
    expect(c.readiness()).toMatchObject({ ready: false, status: 'starting', marathon: 'not-checked' });
    c.start();
    await timers.advance(10_000);
    expect(c.liveness()).toMatchObject({ live: true, status: 'ok' });
    const readiness = c.readiness();
    expect(readiness).toMatchObject({ ready: false, status: 'not-ready', marathon: 'unreachable', consecutiveFailedCycles: 11 });
    expect(readiness.lastErrors).toEqual([{ source: 'marathon', message: 'Marathon answered 500: <pre>Authorization: Basic ***</pre>' }]);
    await c.stop();
  });

  test('a cycle that never ends makes liveness fail once it is older than maxCycleAgeSeconds', async () => {
    const { c, timers } = controller({ hang: true });
    c.start();
    await timers.advance(3_000);
    expect(c.liveness()).toMatchObject({ live: true, cycleRunning: true, overlappingTicksSkipped: 3 });
    await timers.advance(1_000);
    expect(c.liveness()).toMatchObject({ live: false, status: 'stalled', lastCycleStartedSecondsAgo: 4 });
  });
});
