import { describe, expect, it } from 'vitest';
import { activeScheduleFloor, scheduleWindowProblem } from '../autoscaler/policy/decide.js';
import type { ScheduleWindow } from '../autoscaler/policy/types.js';

// Monday-morning peak in Berlin: 09:00 local for 2 hours. On 2024-03-04 Berlin is UTC+1; on 2024-04-08 UTC+2.
const mondayBerlin: ScheduleWindow = { cron: '0 9 * * 1', durationMinutes: 120, minInstances: 6, timezone: 'Europe/Berlin' };
const mondayUtc: ScheduleWindow = { cron: '0 9 * * 1', durationMinutes: 120, minInstances: 6 };
const everyHalfHour: ScheduleWindow = { cron: '*/30 * * * *', durationMinutes: 10, minInstances: 2, timezone: 'UTC' };
const newYork: ScheduleWindow = { cron: '0 9 * * 1-5', durationMinutes: 60, minInstances: 4, timezone: 'America/New_York' };
const longWorkday: ScheduleWindow = { cron: '0 8 * * 1-5', durationMinutes: 600, minInstances: 3, timezone: 'Europe/Berlin' };
const secondsCron: ScheduleWindow = { cron: '30 0 12 * * *', durationMinutes: 1, minInstances: 9, timezone: 'UTC' };

describe('activeScheduleFloor()', () => {
  it.each([
    { name: 'inside a window, in its time zone', windows: [mondayBerlin], now: '2024-03-04T08:30:00Z', floor: 6 },
    { name: 'a minute before it opens', windows: [mondayBerlin], now: '2024-03-04T07:59:00Z', floor: null },
    { name: 'at the exact start', windows: [mondayBerlin], now: '2024-03-04T08:00:00.000Z', floor: 6 },
    { name: 'one millisecond before it closes', windows: [mondayBerlin], now: '2024-03-04T09:59:59.999Z', floor: 6 },
    { name: 'at the exact end (half-open window)', windows: [mondayBerlin], now: '2024-03-04T10:00:00.000Z', floor: null },
    { name: 'summer time shifts the window in UTC', windows: [mondayBerlin], now: '2024-04-08T07:30:00Z', floor: 6 },
    { name: 'summer time: the winter slot is outside', windows: [mondayBerlin], now: '2024-04-08T09:30:00Z', floor: null },
    { name: 'without a time zone the cron is UTC', windows: [mondayUtc], now: '2024-03-04T08:30:00Z', floor: null },
    { name: 'without a time zone, inside in UTC', windows: [mondayUtc], now: '2024-03-04T10:30:00Z', floor: 6 },
    { name: 'a weekday outside the cron', windows: [mondayBerlin], now: '2024-03-05T08:30:00Z', floor: null },
    { name: 'frequent windows: inside', windows: [everyHalfHour], now: '2024-03-04T11:35:00Z', floor: 2 },
    { name: 'frequent windows: between two', windows: [everyHalfHour], now: '2024-03-04T11:45:00Z', floor: null },
    { name: 'New York after its DST change', windows: [newYork], now: '2024-03-11T13:30:00Z', floor: 4 },
    { name: 'New York before its DST change', windows: [newYork], now: '2024-03-08T14:30:00Z', floor: 4 },
    { name: 'New York: 13:30Z is 08:30 EST before the change', windows: [newYork], now: '2024-03-08T13:30:00Z', floor: null },
    { name: 'overlapping windows: the highest floor', windows: [longWorkday, mondayBerlin], now: '2024-03-04T08:30:00Z', floor: 6 },
    { name: 'overlapping windows: only the long one left', windows: [longWorkday, mondayBerlin], now: '2024-03-04T12:00:00Z', floor: 3 },
    { name: 'node-schedule six-field cron with seconds', windows: [secondsCron], now: '2024-03-04T12:00:45Z', floor: 9 },
    { name: 'six-field cron, before the second', windows: [secondsCron], now: '2024-03-04T12:00:29Z', floor: null },
    { name: 'no windows', windows: [], now: '2024-03-04T08:30:00Z', floor: null },
    {
      name: 'a window that does not parse is left out',
      windows: [{ ...mondayBerlin, cron: 'every monday' }, { ...mondayBerlin, timezone: 'Mars/Olympus' }, longWorkday],
      now: '2024-03-04T08:30:00Z',
      floor: 3,
    },
  ])('$name', ({ windows, now, floor }) => {
    expect(activeScheduleFloor(windows, new Date(now))).toBe(floor);
  });
});

describe('scheduleWindowProblem()', () => {
  it.each([
    { window: mondayBerlin, problem: null },
    { window: secondsCron, problem: null },
    { window: { ...mondayBerlin, cron: 'every monday' }, problem: 'invalid cron expression "every monday"' },
    { window: { ...mondayBerlin, cron: '0 25 * * *' }, problem: 'invalid cron expression "0 25 * * *"' },
    { window: { ...mondayBerlin, timezone: 'Mars/Olympus' }, problem: 'unknown time zone "Mars/Olympus"' },
    { window: { ...mondayBerlin, durationMinutes: 0 }, problem: 'durationMinutes must be > 0, got 0' },
    { window: { ...mondayBerlin, minInstances: -1 }, problem: 'minInstances must be a whole number >= 0, got -1' },
    { window: { ...mondayBerlin, minInstances: 1.5 }, problem: 'minInstances must be a whole number >= 0, got 1.5' },
  ])('$window.cron $window.timezone $window.durationMinutes $window.minInstances → $problem', ({ window, problem }) => {
    const found = scheduleWindowProblem(window);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toContain(problem);
  });
});
