
export interface UsageQueryOptions { taskIdTag: string; windowSeconds: number }

/** The order of the statements in the single request; results come back in the same order. */
export const USAGE_STATEMENTS = ['first', 'memory', 'last'] as const;

/** The column that carries the task id in every statement's rows (the tag, renamed: a tag may be called anything). */
export const TASK_COLUMN = 'task';
/** The column that carries the container name in the CPU statements' rows. */
export const CONTAINER_COLUMN = 'container';
/** The value column of each statement, in USAGE_STATEMENTS order. */
export const VALUE_COLUMNS = ['first', 'memory', 'last'] as const;

/**
 * InfluxQL for every task's usage over the window, in one batch: the first and the last sample of each container's
 * cumulative CPU nanoseconds (with their times), and peak memory working set per container. `usageFromResults` turns
 * first and last into cores, (last - first) / (their time apart), and takes a task's newest last sample as its
 * freshness. FIRST and LAST are selectors that InfluxDB answers from each series' ends, where the previous
 * MEAN(NON_NEGATIVE_DERIVATIVE) read and derived every point (5,000 tasks: most of a 1.35 s query).
 * Everything stays per container, summed per task by `usageFromResults`: InfluxDB 1.6 regroups a subquery into fewer
 * tags very slowly (5,000 tasks: 10 s instead of 0.6 s), and a task's usage is the sum of its containers anyway.
 * Each grouped result is flattened by an outer raw SELECT that carries the task id (and the container) as columns:
 * one series of rows per statement instead of one series object per container (5,000 tasks: 3 series to walk
 * instead of 15,000); a selector's rows keep their point's time.
 * The tag name is a user setting: it is only ever emitted through `quoteIdentifier`.
 */
export function buildUsageQueries(options: UsageQueryOptions): string[] {
  const problem = taskIdTagProblem(options.taskIdTag) ?? windowProblem(options.windowSeconds);
  if (problem) throw new RangeError(problem);
  const tag = quoteIdentifier(options.taskIdTag);
  const recent = `time > now() - ${options.windowSeconds}s AND ${tag} != ''`;
  const perContainer = `GROUP BY ${tag}, "container_name"`;
  const task = `${tag}::tag AS "${TASK_COLUMN}"`;
  const cpuEnd = (selector: 'FIRST' | 'LAST', value: string) =>
    `SELECT ${task}, "container_name"::tag AS "${CONTAINER_COLUMN}", "${value}" FROM ` +
    `(SELECT ${selector}("value") AS "${value}" FROM "cpu_usage_total" WHERE ${recent} ${perContainer})`;
  return [
    cpuEnd('FIRST', 'first'),
    `SELECT ${task}, "memory" FROM (SELECT MAX("value") AS "memory" FROM "memory_working_set" WHERE ${recent} ${perContainer})`,
    cpuEnd('LAST', 'last'),
  ];
}

/**
 * A double-quoted InfluxQL identifier: InfluxQL reads `\\` and `\"` inside one as a backslash and a quote. Not
 * node-influx's `escape.quoted`, which first turns a backslash before a single quote into two (`a\'b` would name the
 * tag `a\\'b`, which matches nothing).
 */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/[\\"]/g, '\\$&')}"`;
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
