import { isValidAppId } from '../registry/registration.js';
import { quoteIdentifier } from '../metrics/queries.js';
import type { UsagePoint } from './forecast.js';

/** One app's history to read: the metrics it scales on, over the time ranges `historyWindows` gives (epoch ms). */
export interface HistoryRequest {
  appId: string;
  metrics: ('cpu' | 'memory')[];
  windows: { from: number; to: number }[];
}

export interface HistoryQueryOptions {
  taskIdTag: string;
  /** Where the history is kept (a retention policy a continuous query downsamples into); unset: the default one. */
  retentionPolicy?: string;
  bucketMinutes: number;
}

/** Which app, metric and window each statement of the batch reads, in statement order. */
export interface HistoryStatement {
  appId: string;
  metric: 'cpu' | 'memory';
  statement: string;
}

/**
 * InfluxQL for each app's total usage (summed over its tasks) in `bucketMinutes` buckets over each window: one
 * statement per app, metric and window, all sent in one request. CPU is the rate of each container's cumulative
 * counter between buckets (NON_NEGATIVE_DERIVATIVE of the bucket's MAX, so a restart's reset is dropped, not read as
 * negative usage), memory each container's mean working set; both then summed per bucket. MAX and MEAN give the same
 * buckets on raw cAdvisor data and on data a continuous query already downsampled with them (see the README), so the
 * retention policy can be either.
 */
export function buildHistoryQueries(requests: HistoryRequest[], options: HistoryQueryOptions): HistoryStatement[] {
  const tag = quoteIdentifier(options.taskIdTag);
  const bucket = `${options.bucketMinutes}m`;
  const bucketMs = options.bucketMinutes * 60_000;
  const from = (measurement: string) =>
    options.retentionPolicy === undefined ? `"${measurement}"` : `${quoteIdentifier(options.retentionPolicy)}."${measurement}"`;
  const statements: HistoryStatement[] = [];
  for (const request of requests) {
    const tasks = `${tag} =~ ${taskIdPatternOf(request.appId)}`;
    for (const metric of request.metrics) {
      for (const window of request.windows) {
        const start = Math.floor(window.from / bucketMs) * bucketMs;
        const end = Math.ceil(window.to / bucketMs) * bucketMs + bucketMs;
        const range = (since: number) => `time >= ${since}ms AND time < ${end}ms`;
        const perContainer = `GROUP BY time(${bucket}), ${tag}, "container_name"`;
        // The derivative needs the bucket before the window's first.
        const inner =
          metric === 'cpu'
            ? `SELECT NON_NEGATIVE_DERIVATIVE(MAX("value"), 1s) / 1000000000 AS "usage" FROM ${from('cpu_usage_total')} WHERE ${tasks} AND ${range(start - bucketMs)} ${perContainer}`
            : `SELECT MEAN("value") AS "usage" FROM ${from('memory_working_set')} WHERE ${tasks} AND ${range(start)} ${perContainer}`;
        statements.push({
          appId: request.appId,
          metric,
          statement: `SELECT SUM("usage") AS "usage" FROM (${inner}) WHERE ${range(start)} GROUP BY time(${bucket}) fill(none)`,
        });
      }
    }
  }
  return statements;
}

/**
 * An InfluxQL regex literal matching exactly the task ids Marathon gives the app's tasks, by Marathon's own task id
 * grammar (Task.Id in Marathon 1.10): `<app id with / as _>.instance-<uuid>._app.<n>` (also `marathon-`, and
 * without the incarnation) and the legacy `<app id with / as _>.<uuid>`. Anchored at both ends and on the id's
 * separators, it tells `/shop/web` from `/shop/web.v2` and `/shop/web/api`. Only a validated app id gets here: its
 * characters are [a-z0-9-./], of which only `.` means something in a regex; `/` becomes `_`.
 */
export function taskIdPatternOf(appId: string): string {
  if (!isValidAppId(appId)) throw new RangeError(`not a Marathon app id: ${JSON.stringify(appId)}`);
  const safe = appId.slice(1).replace(/\//g, '_').replace(/\./g, '\\.');
  return `/^${safe}(\\.(instance-|marathon-)[^_.]+[._][^.]+(\\.[0-9]+)?|[._][^_.]+)$/`;
}

/**
 * Reads the answers (chunks of InfluxDB's JSON) of `buildHistoryQueries`' statements into each app's usage points.
 * Returns errors as strings (a statement InfluxDB refused), never throws on a bad row: a row it cannot read is left
 * out, which at worst leaves a week without data (then no floor).
 */
export function readHistory(statements: HistoryStatement[], chunks: unknown[]): { history: Map<string, UsagePoint[]>; errors: string[] } {
  const byApp = new Map<string, Map<number, UsagePoint>>();
  for (const statement of statements) if (!byApp.has(statement.appId)) byApp.set(statement.appId, new Map());
  const errors: string[] = [];
  for (const chunk of chunks) {
    const results = (chunk as { results?: unknown; error?: unknown } | null)?.results;
    const topError = (chunk as { error?: unknown } | null)?.error;
    if (typeof topError === 'string') errors.push(topError);
    if (!Array.isArray(results)) continue;
    for (const result of results as { statement_id?: unknown; error?: unknown; series?: unknown }[]) {
      if (typeof result?.error === 'string') {
        if (!errors.includes(result.error)) errors.push(result.error);
        continue;
      }
      const statement = typeof result?.statement_id === 'number' ? statements[result.statement_id] : undefined;
      if (statement === undefined || !Array.isArray(result.series)) continue;
      const points = byApp.get(statement.appId) as Map<number, UsagePoint>;
      for (const series of result.series as { columns?: unknown; values?: unknown }[]) {
        const columns = Array.isArray(series?.columns) ? series.columns : [];
        const time = columns.indexOf('time');
        const usage = columns.indexOf('usage');
        if (time < 0 || usage < 0 || !Array.isArray(series.values)) continue;
        for (const row of series.values as unknown[][]) {
          const at = row?.[time];
          const value = row?.[usage];
          if (typeof at !== 'number' || typeof value !== 'number' || !Number.isFinite(value)) continue;
          let point = points.get(at);
          if (point === undefined) points.set(at, (point = { at }));
          if (statement.metric === 'cpu') point.cpuCores = value;
          else point.memoryBytes = value;
        }
      }
    }
  }
  const history = new Map<string, UsagePoint[]>();
  for (const [appId, points] of byApp) history.set(appId, [...points.values()].sort((a, b) => a.at - b.at));
  // One failing statement marks the others "not executed": report the cause (alone, it means no such database).
  const causes = errors.filter((error) => error !== 'not executed');
  if (causes.length === 0 && errors.length > 0) causes.push('not executed (InfluxDB says this when the database does not exist)');
  return { history, errors: causes };
}
