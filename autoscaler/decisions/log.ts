import type { DecisionRecord } from '../cycle/run-cycle.js';

/** A decision as kept for GET /decisions: a run of identical decisions is one entry (the newest inputs, a count). */
export type LoggedDecision = DecisionRecord;

/** Recent decisions per app, bounded: `perApp` entries each, so memory stays flat with thousands of apps. */
export class DecisionLog {
  private readonly byApp = new Map<string, LoggedDecision[]>();

  constructor(private readonly perApp: number) {}

  add(record: DecisionRecord): void {
    let entries = this.byApp.get(record.appId);
    if (entries === undefined) this.byApp.set(record.appId, (entries = []));
    const latest = entries[entries.length - 1];
    // The record is the cycle's own (nobody else keeps it): it becomes the entry without a copy.
    if (latest && sameDecision(latest, record)) {
      record.firstAt = latest.firstAt;
      record.repeated = latest.repeated + 1;
      entries[entries.length - 1] = record;
      return;
    }
    entries.push(record);
    if (entries.length > this.perApp) entries.splice(0, entries.length - this.perApp);
  }

  /** Newest first. */
  list(options: { appId?: string; limit: number }): LoggedDecision[] {
    const sources = options.appId ? [this.byApp.get(options.appId) ?? []] : [...this.byApp.values()];
    const all = sources.flat();
    all.sort((a, b) => b.at - a.at || a.appId.localeCompare(b.appId));
    return all.slice(0, options.limit);
  }

  latest(appId: string): LoggedDecision | undefined {
    const entries = this.byApp.get(appId);
    return entries?.[entries.length - 1];
  }

  /** Drops apps that are no longer managed. */
  retain(appIds: Set<string>): void {
    for (const id of this.byApp.keys()) if (!appIds.has(id)) this.byApp.delete(id);
  }
}

function sameDecision(a: DecisionRecord, b: DecisionRecord): boolean {
  return (
    a.action === b.action &&
    a.current === b.current &&
    a.desired === b.desired &&
    a.outcome === b.outcome &&
    a.adopted === undefined &&
    b.adopted === undefined &&
    sameRules(a.rules, b.rules)
  );
}

/** Element by element: called for every app every cycle, so no joined strings. */
function sameRules(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}
