import { escape } from 'influx';

export interface UsageQueryOptions { taskIdTag: string; windowSeconds: number }

/** The order of the statements in the single request; results come back in the same order. */
export const USAGE_STATEMENTS = ['cpu', 'memory', 'freshness'] as const;

/** The column that carries the task id in every statement's rows (the tag, renamed: a tag may be called anything). */
export const TASK_COLUMN = 'task';
/** The value column of each statement, in USAGE_STATEMENTS order. */
export const VALUE_COLUMNS = ['cores', 'memory', 'last'] as const;

/**
 * InfluxQL for every task's usage over the window, in one batch: CPU cores (the mean of each container's
 * non-negative derivative of its cumulative nanoseconds), peak memory working set per container, and the time of
 * each task's newest CPU sample (a subquery's outer rows carry time 0). CPU and memory stay per container, summed per
 * task by `usageFromResults`: InfluxDB 1.6 regroups a subquery into fewer tags very slowly (5,000 tasks: 10 s instead
 * of 0.6 s), and a task's usage is the sum of its containers anyway.
 * Each grouped result is flattened by an outer raw SELECT that carries the task id as a column: one series of rows
 * per statement instead of one series object per container (5,000 tasks: 1.5 MB instead of 3.2 MB of JSON, 3 series
 * to walk instead of 15,000).
 * The tag name is a user setting: it is only ever emitted through `escape.quoted`.
 */
export function buildUsageQueries(options: UsageQueryOptions): string[] {
  const problem = taskIdTagProblem(options.taskIdTag) ?? windowProblem(options.windowSeconds);
  if (problem) throw new RangeError(problem);
  const tag = escape.quoted(options.taskIdTag);
  const recent = `time > now() - ${options.windowSeconds}s AND ${tag} != ''`;
  const perContainer = `GROUP BY ${tag}, "container_name"`;
  const rows = (value: string, grouped: string) => `SELECT ${tag}::tag AS "${TASK_COLUMN}", "${value}" FROM (${grouped})`;
  return [
    rows(
      'cores',
      `SELECT MEAN("cores") AS "cores" FROM (SELECT NON_NEGATIVE_DERIVATIVE("value", 1s) / 1000000000 AS "cores" ` +
        `FROM "cpu_usage_total" WHERE ${recent} ${perContainer}) ${perContainer}`,
    ),
    rows('memory', `SELECT MAX("value") AS "memory" FROM "memory_working_set" WHERE ${recent} ${perContainer}`),
    rows('last', `SELECT LAST("value") AS "last" FROM "cpu_usage_total" WHERE ${recent} GROUP BY ${tag}`),
  ];
}

/** Why a task-id tag name cannot be used, or null. InfluxQL identifiers cannot hold control characters (newlines). */
export function taskIdTagProblem(taskIdTag: string): string | null {
  if (taskIdTag.length === 0) return 'taskIdTag must not be empty';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(taskIdTag)) return 'taskIdTag must not contain control characters (newlines, tabs)';
  return null;
}

function windowProblem(windowSeconds: number): string | null {
  if (!Number.isInteger(windowSeconds) || windowSeconds < 1) {
    return `windowSeconds must be a whole number of seconds >= 1, got ${windowSeconds}`;
  }
  return null;
}
