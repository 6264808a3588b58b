import type { UsagePoint } from './forecast.js';

/** How often an app's history is read again, and how many apps one request may read. */
export interface HistoryCachePolicy {
  /** A read history serves the forecasts of this long (it covers exactly that: see historyWindows). */
  cacheMs: number;
  /** After a failed read, the app waits this long before the next try (the cycle does not hammer InfluxDB). */
  retryMs: number;
  /** Apps whose history one request reads at most; the others wait for the next cycles. */
  appsPerQuery: number;
}

interface Entry {
  /** What the history was read for (settings and metrics): a changed registration reads it again. */
  key: string;
  history: UsagePoint[];
  /** When to read it again (after cacheMs, or retryMs after a failure). */
  dueAt: number;
}

/** Each predictive app's usage history, read at most once per cacheMs. The clock comes in with every call. */
export class HistoryCache {
  private readonly entries = new Map<string, Entry>();

  constructor(readonly policy: HistoryCachePolicy) {}

  /** The apps to read now, most overdue first, at most appsPerQuery of them. */
  due(apps: { appId: string; key: string }[], now: number): string[] {
    const waiting: { appId: string; dueAt: number }[] = [];
    for (const app of apps) {
      const entry = this.entries.get(app.appId);
      if (entry === undefined || entry.key !== app.key) waiting.push({ appId: app.appId, dueAt: -Infinity });
      else if (entry.dueAt <= now) waiting.push({ appId: app.appId, dueAt: entry.dueAt });
    }
    waiting.sort((a, b) => a.dueAt - b.dueAt);
    return waiting.slice(0, this.policy.appsPerQuery).map((app) => app.appId);
  }

  stored(appId: string, key: string, history: UsagePoint[], now: number): void {
    this.entries.set(appId, { key, history, dueAt: now + this.policy.cacheMs });
  }

  /** A failed read: the app keeps what it had (which covers less and less: then it has no floor) and retries later. */
  failed(appId: string, key: string, now: number): void {
    const entry = this.entries.get(appId);
    const history = entry !== undefined && entry.key === key ? entry.history : [];
    this.entries.set(appId, { key, history, dueAt: now + this.policy.retryMs });
  }

  /** The history read for `key`, or undefined before the first read. */
  history(appId: string, key: string): UsagePoint[] | undefined {
    const entry = this.entries.get(appId);
    return entry !== undefined && entry.key === key ? entry.history : undefined;
  }

  /** Forgets the apps that are no longer predictive. */
  retain(appIds: Set<string>): void {
    for (const appId of this.entries.keys()) if (!appIds.has(appId)) this.entries.delete(appId);
  }
}
