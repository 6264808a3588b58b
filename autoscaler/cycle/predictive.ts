import type { HistoryCache } from '../forecast/cache.js';
import { forecastFloor, historyWindows, targetedMetrics, type UsagePoint } from '../forecast/forecast.js';
import { buildHistoryQueries, type HistoryQueryOptions, type HistoryStatement } from '../forecast/history-query.js';
import type { AppView, PredictedFloor, ScalingPolicy } from '../policy/types.js';

/** InfluxDB as the forecast uses it: one request for several apps' usage history. (InfluxMetricsSource fits.) */
export interface HistoryPort {
  fetchHistory(statements: HistoryStatement[], signal?: AbortSignal): Promise<Map<string, UsagePoint[]>>;
}

/** What one refresh did, for the cycle's counts and log; undefined when no app was due (no request). */
export interface HistoryRefresh {
  apps: string[];
  ms: number;
  error?: unknown;
}

type PredictivePolicy = ScalingPolicy & { predictive: NonNullable<ScalingPolicy['predictive']> };

export function isPredictive(policy: ScalingPolicy): policy is PredictivePolicy {
  return policy.predictive !== undefined;
}

/** Reads the history of the predictive apps that are due (at most one request), into the cache. */
export async function refreshHistories(
  port: HistoryPort,
  cache: HistoryCache,
  policies: PredictivePolicy[],
  now: number,
  query: HistoryQueryOptions,
  clock: () => number,
): Promise<HistoryRefresh | undefined> {
  const byId = new Map(policies.map((policy) => [policy.appId, policy]));
  cache.retain(new Set(byId.keys()));
  const due = cache.due(policies.map((policy) => ({ appId: policy.appId, key: historyKey(policy) })), now);
  if (due.length === 0) return undefined;
  const requests = due.map((appId) => {
    const policy = byId.get(appId) as PredictivePolicy;
    return { appId, metrics: targetedMetrics(policy), windows: historyWindows(now, policy.predictive, cache.policy.cacheMs) };
  });
  const startedAt = clock();
  try {
    const history = await port.fetchHistory(buildHistoryQueries(requests, query));
    for (const appId of due) cache.stored(appId, historyKey(byId.get(appId) as PredictivePolicy), history.get(appId) ?? [], now);
    return { apps: due, ms: clock() - startedAt };
  } catch (error) {
    for (const appId of due) cache.failed(appId, historyKey(byId.get(appId) as PredictivePolicy), now);
    return { apps: due, ms: clock() - startedAt, error };
  }
}

/** The app's predicted floor now from its cached history; null when it has none (no history yet, too few weeks). */
export function predictedFloorFor(policy: ScalingPolicy, view: AppView, cache: HistoryCache, now: number): PredictedFloor | null {
  if (!isPredictive(policy)) return null;
  const history = cache.history(policy.appId, historyKey(policy));
  if (history === undefined) return null;
  const result = forecastFloor({
    now,
    settings: policy.predictive,
    history,
    app: { instances: view.instances, cpus: view.cpus, memMiB: view.mem },
    policy,
  });
  return result.kind === 'floor' ? result.predicted : null;
}

/** What the cached history was read for: other settings or metrics need another read. */
function historyKey(policy: PredictivePolicy): string {
  return JSON.stringify([policy.predictive, targetedMetrics(policy)]);
}
