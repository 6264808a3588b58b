import cronParser from 'cron-parser';
import type { ScheduleWindow } from './types.js';

/**
 * The highest `minInstances` among the windows that contain `now`, null if none. A window is open from each cron
 * occurrence (in its time zone, node-schedule's cron syntax) for `durationMinutes`; only the most recent occurrence
 * matters, as a later start always ends later. Windows that do not parse are left out (validate them with
 * `scheduleWindowProblem` when loading a policy).
 */
export function activeScheduleFloor(schedules: ScheduleWindow[], now: Date): number | null {
  let floor: number | null = null;
  for (const window of schedules) {
    const start = latestStart(window, now);
    if (start === null) continue;
    if (now.getTime() - start < window.durationMinutes * 60_000) floor = Math.max(floor ?? 0, window.minInstances);
  }
  return floor;
}

/** Why a schedule window cannot be used (cron syntax, time zone, numbers), or null. For policy validation. */
export function scheduleWindowProblem(window: ScheduleWindow): string | null {
  if (window.timezone !== undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: window.timezone });
    } catch {
      return `unknown time zone ${JSON.stringify(window.timezone)} (expected an IANA name like "Europe/Berlin")`;
    }
  }
  try {
    cronParser.parseExpression(window.cron, window.timezone ? { tz: window.timezone } : {});
  } catch (error) {
    return `invalid cron expression ${JSON.stringify(window.cron)}: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (!(window.durationMinutes > 0)) return `durationMinutes must be > 0, got ${window.durationMinutes}`;
  if (!Number.isInteger(window.minInstances) || window.minInstances < 0) {
    return `minInstances must be a whole number >= 0, got ${window.minInstances}`;
  }
  return null;
}

/**
 * The occurrence found last for each window and the one after it: until `now` reaches the next one, the latest start
 * is the same, so a daemon cycle (or a backtest's 160,000 of them) parses the cron expression once per occurrence, not
 * once per call. Keyed by the window object: a changed registration is a new object.
 */
const occurrenceCache = new WeakMap<ScheduleWindow, { start: number; next: number }>();

function latestStart(window: ScheduleWindow, now: Date): number | null {
  const at = now.getTime();
  const cached = occurrenceCache.get(window);
  if (cached !== undefined && cached.start <= at && at < cached.next) return cached.start;
  const start = parsedLatestStart(window, now);
  if (start === null) return null;
  const next = nextStart(window, start);
  if (next !== null) occurrenceCache.set(window, { start, next });
  return start;
}

function nextStart(window: ScheduleWindow, start: number): number | null {
  try {
    return cronParser.parseExpression(window.cron, { currentDate: new Date(start), ...(window.timezone ? { tz: window.timezone } : {}) }).next().getTime();
  } catch {
    return null;
  }
}

function parsedLatestStart(window: ScheduleWindow, now: Date): number | null {
  try {
    // prev() is strictly before currentDate: one millisecond later makes an occurrence at exactly `now` count.
    const occurrences = cronParser.parseExpression(window.cron, {
      currentDate: new Date(now.getTime() + 1),
      ...(window.timezone ? { tz: window.timezone } : {}),
    });
    return occurrences.prev().getTime();
  } catch {
    return null;
  }
}
