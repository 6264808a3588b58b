import { z } from 'zod';
import type { TaskUsage } from '../policy/types.js';
import { MetricsError } from './errors.js';
import { USAGE_STATEMENTS } from './queries.js';

const seriesSchema = z.object({
  name: z.string().optional(),
  tags: z.record(z.string(), z.string()).optional(),
  columns: z.array(z.string()),
  values: z.array(z.array(z.unknown())).optional(),
});
const statementSchema = z.object({
  statement_id: z.number().int().nonnegative().optional(),
  series: z.array(seriesSchema).optional(),
  error: z.string().optional(),
});
const responseSchema = z.object({
  results: z.array(statementSchema).optional(),
  error: z.string().optional(),
});

type Series = z.infer<typeof seriesSchema>;

/**
 * Turns InfluxDB's raw JSON answer to `buildUsageQueries` (queried with epoch=ms) into usage by task id.
 * Series without the task-id tag are not tasks and are left out; so are values that are not finite numbers.
 */
export function usageFromResults(results: unknown, taskIdTag: string): Record<string, TaskUsage> {
  const parsed = responseSchema.safeParse(results);
  if (!parsed.success) {
    throw new MetricsError(`InfluxDB answered something that is not query results: ${z.prettifyError(parsed.error)}`, 'invalid-response');
  }
  if (parsed.data.error) throw new MetricsError(`InfluxDB rejected the usage query: ${parsed.data.error}`, 'rejected');
  const statements = parsed.data.results ?? [];
  // One failing statement marks the others "not executed": report the cause.
  const errors = [...new Set(statements.flatMap((statement) => (statement.error ? [statement.error] : [])))];
  const cause = errors.filter((error) => error !== 'not executed');
  if (errors.length > 0) {
    // InfluxDB 1.6 answers a subquery on an unknown database with nothing but "not executed".
    const detail = cause.length > 0 ? cause.join('; ') : 'not executed (InfluxDB says this when the database does not exist)';
    throw new MetricsError(`InfluxDB rejected the usage query: ${detail}`, 'rejected');
  }
  if (statements.length !== USAGE_STATEMENTS.length) {
    throw new MetricsError(`InfluxDB answered ${statements.length} statements, expected ${USAGE_STATEMENTS.length}`, 'invalid-response');
  }

  const byStatement = new Map(statements.map((statement, index) => [statement.statement_id ?? index, statement.series ?? []]));
  const usage: Record<string, TaskUsage> = Object.create(null);
  const entry = (taskId: string): TaskUsage => (usage[taskId] ??= {});

  // CPU and memory come per container: a task uses the sum of its containers.
  for (const [taskId, cores] of firstValues(byStatement.get(0), taskIdTag, 'cores')) {
    const task = entry(taskId);
    task.cpuCores = (task.cpuCores ?? 0) + cores;
  }
  for (const [taskId, bytes] of firstValues(byStatement.get(1), taskIdTag, 'memory')) {
    const task = entry(taskId);
    task.memoryBytes = (task.memoryBytes ?? 0) + bytes;
  }
  for (const [taskId, at] of firstValues(byStatement.get(2), taskIdTag, 'time')) {
    const task = entry(taskId);
    task.lastSampleAt = Math.max(task.lastSampleAt ?? at, at);
  }
  // A plain object for callers (JSON, equality); built without a prototype so a task id like "__proto__" stays data.
  return { ...usage };
}

function* firstValues(series: Series[] | undefined, taskIdTag: string, column: string): Generator<[string, number]> {
  for (const one of series ?? []) {
    const taskId = one.tags?.[taskIdTag];
    if (!taskId) continue;
    const index = one.columns.indexOf(column);
    const value = index >= 0 ? one.values?.[0]?.[index] : undefined;
    if (typeof value === 'number' && Number.isFinite(value)) yield [taskId, value];
  }
}
