import type { TaskUsage } from '../policy/types.js';
import { MetricsError } from './errors.js';
import { TASK_COLUMN, USAGE_STATEMENTS } from './queries.js';

/** Which column of each statement's rows holds what the task gets: the freshness statement's answer is the row time. */
const READ_COLUMNS = { cpu: 'cores', memory: 'memory', freshness: 'time' } as const;

/**
 * Turns InfluxDB's raw JSON answer to `buildUsageQueries` (queried with epoch=ms) into usage by task id.
 * Rows without a task id are not tasks and are left out; so are values that are not finite numbers. An answer that
 * InfluxDB cut short (`partial`, its max-row-limit) is refused: the missing tasks would look like tasks without data.
 *
 * The answer holds a row per container (15,000 rows for 5,000 tasks): it is checked by hand, in place, for exactly
 * the shape read here, instead of being copied through a schema first.
 */
export function usageFromResults(results: unknown): Record<string, TaskUsage> {
  if (!isObject(results)) throw notResults('(root)', 'expected an object');
  if (results.error !== undefined) {
    if (typeof results.error !== 'string') throw notResults('error', 'expected a string');
    throw new MetricsError(`InfluxDB rejected the usage query: ${results.error}`, 'rejected');
  }
  const statements = results.results ?? [];
  if (!Array.isArray(statements)) throw notResults('results', 'expected an array of statement results');
  const errors = new Set<string>();
  statements.forEach((statement: unknown, index) => {
    if (!isObject(statement)) throw notResults(`results[${index}]`, 'expected an object');
    if (statement.partial === true) throw truncated();
    if (statement.error === undefined) return;
    if (typeof statement.error !== 'string') throw notResults(`results[${index}].error`, 'expected a string');
    errors.add(statement.error);
  });
  // One failing statement marks the others "not executed": report the cause.
  if (errors.size > 0) {
    const cause = [...errors].filter((error) => error !== 'not executed');
    // InfluxDB 1.6 answers a subquery on an unknown database with nothing but "not executed".
    const detail = cause.length > 0 ? cause.join('; ') : 'not executed (InfluxDB says this when the database does not exist)';
    throw new MetricsError(`InfluxDB rejected the usage query: ${detail}`, 'rejected');
  }
  if (statements.length !== USAGE_STATEMENTS.length) {
    throw new MetricsError(`InfluxDB answered ${statements.length} statements, expected ${USAGE_STATEMENTS.length}`, 'invalid-response');
  }

  // Built without a prototype so that a task id like "__proto__" is an ordinary key, then given the usual prototype
  // (its own keys stay data): a plain object for callers (JSON, equality), with no copy of 5,000 entries.
  const usage: Record<string, TaskUsage> = Object.create(null);
  statements.forEach((statement: Record<string, unknown>, index) => {
    const id = statement.statement_id ?? index;
    const kind = typeof id === 'number' ? USAGE_STATEMENTS[id] : undefined;
    if (kind === undefined) throw notResults(`results[${index}].statement_id`, `expected 0 to ${USAGE_STATEMENTS.length - 1}`);
    for (const [taskId, value] of rowsOf(statement.series, `results[${index}]`, READ_COLUMNS[kind])) {
      const task = (usage[taskId] ??= {});
      // CPU and memory come per container: a task uses the sum of its containers.
      if (kind === 'cpu') task.cpuCores = (task.cpuCores ?? 0) + value;
      else if (kind === 'memory') task.memoryBytes = (task.memoryBytes ?? 0) + value;
      else task.lastSampleAt = Math.max(task.lastSampleAt ?? value, value);
    }
  });
  return Object.setPrototypeOf(usage, Object.prototype) as Record<string, TaskUsage>;
}

/** [task id, the finite number in `column`] of every row of a statement's series, checked as they are read. */
function rowsOf(series: unknown, path: string, column: string): Array<[string, number]> {
  const found: Array<[string, number]> = [];
  if (series === undefined) return found;
  if (!Array.isArray(series)) throw notResults(`${path}.series`, 'expected an array of series');
  for (let index = 0; index < series.length; index++) {
    const one: unknown = series[index];
    const at = `${path}.series[${index}]`;
    if (!isObject(one)) throw notResults(at, 'expected an object');
    const { columns, values } = one;
    if (one.partial === true) throw truncated();
    if (!Array.isArray(columns) || !columns.every((name) => typeof name === 'string')) {
      throw notResults(`${at}.columns`, 'expected an array of column names');
    }
    if (values === undefined) continue;
    if (!Array.isArray(values)) throw notResults(`${at}.values`, 'expected an array of rows');
    const taskIndex = columns.indexOf(TASK_COLUMN);
    const valueIndex = columns.indexOf(column);
    if (taskIndex < 0 || valueIndex < 0) throw notResults(`${at}.columns`, `expected "${TASK_COLUMN}" and "${column}"`);
    for (let row = 0; row < values.length; row++) {
      const cells: unknown = values[row];
      if (!Array.isArray(cells)) throw notResults(`${at}.values[${row}]`, 'expected an array');
      const taskId: unknown = cells[taskIndex];
      const value: unknown = cells[valueIndex];
      if (typeof taskId === 'string' && taskId !== '' && typeof value === 'number' && Number.isFinite(value)) found.push([taskId, value]);
    }
  }
  return found;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function notResults(path: string, expected: string): MetricsError {
  return new MetricsError(`InfluxDB answered something that is not query results: ${path}: ${expected}`, 'invalid-response');
}

function truncated(): MetricsError {
  return new MetricsError('InfluxDB cut the answer short (partial results: raise its [http] max-row-limit)', 'invalid-response');
}
