import { describe, expect, it } from 'vitest';
import { HistoryCache } from '../autoscaler/forecast/cache.js';
import { forecastFloor, historyWindows, quantile, WEEK_MS, type ForecastInput, type UsagePoint } from '../autoscaler/forecast/forecast.js';
import { taskIdPatternOf } from '../autoscaler/forecast/history-query.js';

/** Monday 30 November 2026, 08:50 UTC: ten minutes before the weekly peak of the scenarios below. */
const NOW = Date.parse('2026-11-30T08:50:00Z');
const BUCKET_MS = 5 * 60_000;
const MIB = 1024 * 1024;

/** cpus 0.5 at target 0.6: one instance per 0.3 cores. */
const POLICY: ForecastInput['policy'] = { minInstances: 2, maxInstances: 30, targetCpu: 0.6, tolerance: 0.1 };
const APP = { instances: 4, cpus: 0.5, memMiB: 512 };
const SETTINGS = { lookbackWeeks: 4, leadMinutes: 10, quantile: 0.9, windowMinutes: 10, minWeeks: 2 };

/** Cores the app used at `at` in a week: 1 core, 6 on Mondays 09:00–11:00 UTC (times `scale`). */
function mondayPeak(at: number, scale = 1): number {
  const date = new Date(at);
  const minutes = date.getUTCHours() * 60 + date.getUTCMinutes();
  return (date.getUTCDay() === 1 && minutes >= 9 * 60 && minutes < 11 * 60 ? 6 : 1) * scale;
}

/** 5-minute buckets over the last `weeks` weeks and the next two hours, from `cores(at, weeksAgo)`; undefined leaves a gap. */
function series(weeks: number, cores: (at: number, weeksAgo: number) => number | undefined): UsagePoint[] {
  const points: UsagePoint[] = [];
  for (let at = NOW - weeks * WEEK_MS; at < NOW; at += BUCKET_MS) {
    const weeksAgo = Math.ceil((NOW - at) / WEEK_MS);
    const value = cores(at, weeksAgo);
    if (value !== undefined) points.push({ at, cpuCores: value });
  }
  return points;
}

function forecast(history: UsagePoint[], overrides: Partial<ForecastInput> = {}): ReturnType<typeof forecastFloor> {
  return forecastFloor({ now: NOW, settings: SETTINGS, history, app: APP, policy: POLICY, ...overrides });
}

/** A deterministic pseudo-random stream in [0, 1) (mulberry32), so the noisy case is the same every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('forecastFloor', () => {
  const noise = random(7);
  const cases: {
    name: string;
    history: UsagePoint[];
    overrides?: Partial<ForecastInput>;
    floor: number | null;
    weeks?: number[];
    ignored?: number[];
  }[] = [
    // 6 cores / 0.3 per instance = 20 instances, at 08:50 for the peak that starts at 09:00.
    { name: 'weekly pattern: the Monday peak ahead', history: series(4, (at) => mondayPeak(at)), floor: 20, weeks: [1, 2, 3, 4], ignored: [] },
    {
      name: 'weekly pattern: an hour before the peak the window sees only the base load (1 core → 4, the current count)',
      history: series(4, (at) => mondayPeak(at)),
      overrides: { now: NOW - 60 * 60_000 },
      floor: 4,
    },
    {
      name: 'holiday gap: a week without data is left out, the others still make the floor',
      history: series(4, (at, weeksAgo) => (weeksAgo === 2 ? undefined : mondayPeak(at))),
      floor: 20,
      weeks: [1, 3, 4],
      ignored: [2],
    },
    {
      name: 'holiday gaps: only one week of four has data, fewer than minWeeks 2: no floor',
      history: series(4, (at, weeksAgo) => (weeksAgo === 3 ? mondayPeak(at) : undefined)),
      floor: null,
      ignored: [1, 2, 4],
    },
    {
      name: 'fewer weeks than asked: two weeks of history for a lookback of 4 (minWeeks 2) is enough',
      history: series(2, (at) => mondayPeak(at)),
      floor: 20,
      weeks: [1, 2],
      ignored: [3, 4],
    },
    {
      name: 'fewer weeks than asked, below minWeeks: one week of history, no floor',
      history: series(1, (at) => mondayPeak(at)),
      floor: null,
      ignored: [2, 3, 4],
    },
    {
      // Weeks 4..1 ago peaked at 6, 7.2, 8.4, 9.6 cores: quantile 0.9 = 9.24 cores → 31 → max 30.
      name: 'trend: a growing peak plans for (nearly) the latest week, within max',
      history: series(4, (at, weeksAgo) => mondayPeak(at, 1 + 0.2 * (4 - weeksAgo))),
      floor: 30,
    },
    {
      // The same growth at quantile 0.5: the median week, 7.8 cores → 26.
      name: 'trend: the median week at quantile 0.5',
      history: series(4, (at, weeksAgo) => mondayPeak(at, 1 + 0.2 * (4 - weeksAgo))),
      overrides: { settings: { ...SETTINGS, quantile: 0.5 } },
      floor: 26,
    },
    {
      // ±10 % noise on every bucket: the busiest bucket of each window is 6.0–6.6 cores → 20–22 (this seed: 22).
      name: 'noisy series: noise moves the floor by at most its own size',
      history: series(4, (at) => mondayPeak(at) * (0.9 + 0.2 * noise())),
      floor: 22,
    },
    {
      name: 'one spike in one week does not make the floor at quantile 0.5',
      history: series(4, (at, weeksAgo) => (weeksAgo === 2 && at === NOW + 10 * 60_000 - 2 * WEEK_MS ? 20 : mondayPeak(at))),
      overrides: { settings: { ...SETTINGS, quantile: 0.5 } },
      floor: 20,
    },
    {
      name: 'within tolerance of the current count: the current count (HPA: no change)',
      history: series(4, () => 6.3),
      overrides: { app: { ...APP, instances: 20 } },
      floor: 20,
    },
    {
      name: 'quiet past: the floor is min',
      history: series(4, () => 0.1),
      floor: 2,
    },
    {
      name: 'memory: 3 GiB expected at target 0.8 of 512 MiB → 8',
      history: series(4, () => 0).map((point) => ({ at: point.at, memoryBytes: 3 * 1024 * MIB })),
      overrides: { policy: { minInstances: 1, maxInstances: 30, targetMemory: 0.8, tolerance: 0.1 } },
      floor: 8,
    },
    {
      name: 'CPU and memory: the max of the two; a week needs data for both',
      history: series(4, (at) => mondayPeak(at)).map((point) => ({ ...point, memoryBytes: 1024 * MIB })),
      overrides: { policy: { ...POLICY, targetMemory: 0.8 } },
      floor: 20,
    },
    {
      name: 'CPU and memory targeted, only CPU recorded: no week is complete, no floor',
      history: series(4, (at) => mondayPeak(at)),
      overrides: { policy: { ...POLICY, targetMemory: 0.8 } },
      floor: null,
    },
  ];

  it.each(cases)('$name', ({ history, overrides, floor, weeks, ignored }) => {
    const result = forecast(history, overrides);
    expect(result.kind === 'floor' ? result.predicted.floor : null).toBe(floor);
    if (weeks) expect(result.kind === 'floor' ? result.predicted.weeks.map((week) => week.weeksAgo) : []).toEqual(weeks);
    if (ignored) expect(result.kind === 'floor' ? result.predicted.ignoredWeeks : result.ignoredWeeks).toEqual(ignored);
  });

  it('names the past instants it used: the same weekday and time of day, leadMinutes ahead', () => {
    const result = forecast(series(4, (at) => mondayPeak(at)));
    expect(result.kind).toBe('floor');
    if (result.kind !== 'floor') return;
    expect(new Date(result.predicted.forecastAt).toISOString()).toBe('2026-11-30T09:00:00.000Z');
    expect(result.predicted.weeks.map((week) => new Date(week.at).toISOString())).toEqual([
      '2026-11-23T09:00:00.000Z',
      '2026-11-16T09:00:00.000Z',
      '2026-11-09T09:00:00.000Z',
      '2026-11-02T09:00:00.000Z',
    ]);
    expect(result.predicted.expected.cpuCores).toBeCloseTo(6, 9);
  });

  it('no target, no floor', () => {
    const result = forecast(series(4, (at) => mondayPeak(at)), { policy: { minInstances: 1, maxInstances: 10, tolerance: 0.1 } });
    expect(result).toMatchObject({ kind: 'no-floor', reason: 'no-targets' });
  });
});

describe('historyWindows', () => {
  it('covers every forecast of the horizon: each forecast reads only points inside the windows', () => {
    const windows = historyWindows(NOW, SETTINGS, 60 * 60_000);
    expect(windows.map((w) => [w.weeksAgo, new Date(w.from).toISOString(), new Date(w.to).toISOString()])).toEqual([
      [1, '2026-11-23T08:55:00.000Z', '2026-11-23T10:05:00.000Z'],
      [2, '2026-11-16T08:55:00.000Z', '2026-11-16T10:05:00.000Z'],
      [3, '2026-11-09T08:55:00.000Z', '2026-11-09T10:05:00.000Z'],
      [4, '2026-11-02T08:55:00.000Z', '2026-11-02T10:05:00.000Z'],
    ]);
    const full = series(4, (at) => mondayPeak(at));
    const inside = full.filter((point) => windows.some((w) => point.at >= w.from && point.at <= w.to));
    for (let minutes = 0; minutes <= 60; minutes += 5) {
      const now = NOW + minutes * 60_000;
      expect(forecastFloor({ now, settings: SETTINGS, history: inside, app: APP, policy: POLICY })).toEqual(
        forecastFloor({ now, settings: SETTINGS, history: full, app: APP, policy: POLICY }),
      );
    }
  });
});

describe('quantile', () => {
  it.each([
    [[5], 0.9, 5],
    [[1, 2, 3, 4], 0.5, 2.5],
    [[4, 1, 3, 2], 1, 4],
    [[1, 2, 3, 4], 0, 1],
    [[1, 2, 3, 4], 0.9, 3.7],
  ])('%j at %d → %d', (values, q, expected) => {
    expect(quantile(values, q)).toBeCloseTo(expected, 9);
  });
});

describe('taskIdPatternOf: the app\'s tasks by Marathon\'s task id grammar', () => {
  const pattern = (appId: string) => {
    const literal = taskIdPatternOf(appId);
    return new RegExp(literal.slice(1, -1));
  };
  it.each([
    ['/shop/web', 'shop_web.instance-6ad0c8a4-0f0e-11ee-8000-000000000000._app.1', true],
    ['/shop/web', 'shop_web.instance-6ad0c8a4-0f0e-11ee-8000-000000000000._app', true],
    ['/shop/web', 'shop_web.marathon-6ad0c8a4-0f0e-11ee-8000-000000000000.web', true],
    ['/shop/web', 'shop_web.6ad0c8a4-0f0e-11ee-8000-000000000000', true],
    ['/shop/web', 'shop_web.v2.instance-6ad0c8a4-0f0e-11ee-8000-000000000000._app.1', false],
    ['/shop/web', 'shop_web.v2.6ad0c8a4-0f0e-11ee-8000-000000000000', false],
    ['/shop/web', 'shop_web_api.instance-6ad0c8a4-0f0e-11ee-8000-000000000000._app.1', false],
    ['/shop/web', 'shop_web-api.instance-6ad0c8a4-0f0e-11ee-8000-000000000000._app.1', false],
    ['/shop/web', 'xshop_web.instance-6ad0c8a4-0f0e-11ee-8000-000000000000._app.1', false],
    ['/shop/web.v2', 'shop_web.v2.instance-6ad0c8a4-0f0e-11ee-8000-000000000000._app.1', true],
    ['/shop/web.v2', 'shop_webxv2.instance-6ad0c8a4-0f0e-11ee-8000-000000000000._app.1', false],
  ])('%s ~ %s → %s', (appId, taskId, matches) => {
    expect(pattern(appId).test(taskId)).toBe(matches);
  });

  it('refuses what is not a Marathon app id', () => {
    expect(() => taskIdPatternOf('/shop/(web)')).toThrow(/not a Marathon app id/);
  });
});

describe('HistoryCache', () => {
  it('reads an app once per cacheMs, again when its settings change, retries a failure after retryMs, appsPerQuery at a time', () => {
    const cache = new HistoryCache({ cacheMs: 3_600_000, retryMs: 300_000, appsPerQuery: 2 });
    const apps = [{ appId: '/a', key: 'k' }, { appId: '/b', key: 'k' }, { appId: '/c', key: 'k' }];
    expect(cache.due(apps, 0)).toEqual(['/a', '/b']);
    cache.stored('/a', 'k', [{ at: 1, cpuCores: 1 }], 0);
    cache.failed('/b', 'k', 0);
    expect(cache.due(apps, 1000)).toEqual(['/c']);
    expect(cache.due(apps, 300_000)).toEqual(['/c', '/b']);
    expect(cache.due(apps, 3_600_000)).toEqual(['/c', '/b']);
    expect(cache.due([{ appId: '/a', key: 'other' }], 1000)).toEqual(['/a']);
    expect(cache.history('/a', 'k')).toEqual([{ at: 1, cpuCores: 1 }]);
    expect(cache.history('/a', 'other')).toBeUndefined();
    cache.retain(new Set(['/b']));
    expect(cache.history('/a', 'k')).toBeUndefined();
    expect(cache.history('/b', 'k')).toEqual([]);
  });
});
