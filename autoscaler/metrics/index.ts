export { buildUsageQueries, taskIdTagProblem, type UsageQueryOptions } from './queries.js';
export { finishUsage, newUsageReader, readUsageChunk, usageFromResults, type UsageReader } from './results.js';
export { InfluxMetricsSource, type InfluxSettings } from './influx-source.js';
export { MetricsError, type MetricsErrorKind } from './errors.js';
