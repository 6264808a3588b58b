import { buildHistoryQueries, readHistory, taskIdPatternOf, type HistoryStatement } from '../forecast/history-query.js';
import type { UsagePoint } from '../forecast/forecast.js';
import { quoteIdentifier } from '../metrics/queries.js';

/** One bucket of what an app did: its total usage (summed over its tasks) and how many tasks reported. */
export interface RecordedBucket extends UsagePoint {
  /** Tasks of the app that reported a working set in the bucket: the instances that actually ran. */
  instances?: number;
}

/** An app's recorded usage over the backtest's range, bucket by bucket, in time order (buckets without data left out). */
export interface Recording {
  bucketMs: number;
  buckets: RecordedBucket[];
}

export interface RecordingQuery {
  appId: string;
  metrics: ('cpu' | 'memory')[];
  from: number;
  to: number;
  taskIdTag: string;
  bucketMinutes: number;
  retentionPolicy?: string;
}

/**
 * The statements that read a recording: the app's usage with the forecast's own history query (one definition of "an
 * app's total usage in a bucket"), then the count of its tasks per bucket. Memory is always read: the count comes from
 * the same measurement, and a CPU-only policy still shows its memory in the JSON.
 */
export function buildRecordingQueries(query: RecordingQuery): { usage: HistoryStatement[]; instances: string } {
  const options = { taskIdTag: query.taskIdTag, bucketMinutes: query.bucketMinutes, ...(query.retentionPolicy !== undefined ? { retentionPolicy: query.retentionPolicy } : {}) };
  const metrics = query.metrics.includes('memory') ? query.metrics : [...query.metrics, 'memory' as const];
  const usage = buildHistoryQueries([{ appId: query.appId, metrics, windows: [{ from: query.from, to: query.to }] }], options);
  const tag = quoteIdentifier(query.taskIdTag);
  const bucketMs = query.bucketMinutes * 60_000;
  const start = Math.floor(query.from / bucketMs) * bucketMs;
  const end = Math.ceil(query.to / bucketMs) * bucketMs + bucketMs;
  const range = `time >= ${start}ms AND time < ${end}ms`;
  const measurement = query.retentionPolicy === undefined ? '"memory_working_set"' : `${quoteIdentifier(query.retentionPolicy)}."memory_working_set"`;
  const instances =
    `SELECT COUNT("usage") AS "instances" FROM (SELECT MAX("value") AS "usage" FROM ${measurement} ` +
    `WHERE ${tag} =~ ${taskIdPatternOf(query.appId)} AND ${range} GROUP BY time(${query.bucketMinutes}m), ${tag}) ` +
    `WHERE ${range} GROUP BY time(${query.bucketMinutes}m) fill(none)`;
  return { usage, instances };
}

/**
 * Joins the answers (InfluxDB's JSON chunks, the usage statements first, the count last) into a recording of the
 * buckets within [from, to). Returns InfluxDB's statement errors instead of throwing.
 */
export function readRecording(query: RecordingQuery, statements: { usage: HistoryStatement[] }, chunks: unknown[]): { recording: Recording; errors: string[] } {
  const { history, errors } = readHistory(statements.usage, chunks);
  const bucketMs = query.bucketMinutes * 60_000;
  const byAt = new Map<number, RecordedBucket>();
  for (const point of history.get(query.appId) ?? []) byAt.set(point.at, { ...point });
  const countStatement = statements.usage.length;
  for (const chunk of chunks) {
    const results = (chunk as { results?: unknown } | null)?.results;
    if (!Array.isArray(results)) continue;
    for (const result of results as { statement_id?: unknown; series?: unknown }[]) {
      if (result?.statement_id !== countStatement || !Array.isArray(result.series)) continue;
      for (const series of result.series as { columns?: unknown; values?: unknown }[]) {
        const columns = Array.isArray(series?.columns) ? series.columns : [];
        const time = columns.indexOf('time');
        const count = columns.indexOf('instances');
        if (time < 0 || count < 0 || !Array.isArray(series.values)) continue;
        for (const row of series.values as unknown[][]) {
          const at = row?.[time];
          const value = row?.[count];
          if (typeof at !== 'number' || typeof value !== 'number' || !(value > 0)) continue;
          const bucket = byAt.get(at) ?? { at };
          bucket.instances = value;
          byAt.set(at, bucket);
        }
      }
    }
  }
  const buckets = [...byAt.values()].filter((bucket) => bucket.at >= Math.floor(query.from / bucketMs) * bucketMs && bucket.at < query.to).sort((a, b) => a.at - b.at);
  return { recording: { bucketMs, buckets }, errors };
}
