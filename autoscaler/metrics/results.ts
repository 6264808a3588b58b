import type { TaskUsage } from '../policy/types.js';
import { MetricsError } from './errors.js';
import { CONTAINER_COLUMN, TASK_COLUMN, USAGE_STATEMENTS } from './queries.js';

/** A container's first or last CPU sample in the window: cumulative nanoseconds and epoch ms. */
interface Sample { nanoseconds: number; at: number }
/** Task id → container name → sample. */
type SamplesByTask = Map<string, Map<string, Sample>>;

const NANOSECONDS_PER_MS = 1e6;

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
  const firsts: SamplesByTask = new Map();
  const lasts: SamplesByTask = new Map();
  statements.forEach((statement: Record<string, unknown>, index) => {
    const id = statement.statement_id ?? index;
    const kind = typeof id === 'number' ? USAGE_STATEMENTS[id] : undefined;
    if (kind === undefined) throw notResults(`results[${index}].statement_id`, `expected 0 to ${USAGE_STATEMENTS.length - 1}`);
    const path = `results[${index}]`;
    if (kind === 'memory') {
      // Per container: a task uses the sum of its containers.
      readRows(statement.series, path, kind, false, (taskId, memory) => {
        const task = (usage[taskId] ??= {});
        task.memoryBytes = (task.memoryBytes ?? 0) + memory;
      });
      return;
    }
    const samples = kind === 'first' ? firsts : lasts;
    readRows(statement.series, path, kind, true, (taskId, nanoseconds, container, at) => {
      let containers = samples.get(taskId);
      if (containers === undefined) samples.set(taskId, (containers = new Map()));
      containers.set(container, { nanoseconds, at });
    });
  });
  for (const [taskId, newest] of lasts) {
    const task = (usage[taskId] ??= {});
    // A task's newest sample is the newest of its containers'.
    for (const { at } of newest.values()) task.lastSampleAt = Math.max(task.lastSampleAt ?? at, at);
    const cores = coresOf(firsts.get(taskId), newest);
    if (cores !== undefined) task.cpuCores = cores;
  }
  return Object.setPrototypeOf(usage, Object.prototype) as Record<string, TaskUsage>;
}

/**
 * A task's CPU cores over the window: the sum over its containers of (last - first) cumulative nanoseconds over the
 * time between the two samples. A container with a single sample (no interval) or whose counter went backwards (a
 * restart reset it) has no figure, and then neither has the task: a partial sum would understate its usage, and no
 * figure makes the task count as missing data, never as idle.
 */
function coresOf(oldest: Map<string, Sample> | undefined, newest: Map<string, Sample>): number | undefined {
  if (oldest === undefined || oldest.size !== newest.size) return undefined;
  let cores = 0;
  for (const [container, last] of newest) {
    const first = oldest.get(container);
    if (first === undefined || last.at <= first.at || last.nanoseconds < first.nanoseconds) return undefined;
    cores += (last.nanoseconds - first.nanoseconds) / ((last.at - first.at) * NANOSECONDS_PER_MS);
  }
  return cores;
}

/**
 * Calls `visit` with the task id and the finite number in `column` of every row of a statement's series, checked as
 * they are read; `perContainer` rows must also carry the container name and a finite time (or are left out).
 */
function readRows(
  series: unknown,
  path: string,
  column: string,
  perContainer: boolean,
  visit: (taskId: string, value: number, container: string, at: number) => void,
): void {
  if (series === undefined) return;
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
    const containerIndex = perContainer ? columns.indexOf(CONTAINER_COLUMN) : -1;
    const timeIndex = perContainer ? columns.indexOf('time') : -1;
    if (taskIndex < 0 || valueIndex < 0 || (perContainer && (containerIndex < 0 || timeIndex < 0))) {
      const expected = perContainer ? [TASK_COLUMN, CONTAINER_COLUMN, 'time', column] : [TASK_COLUMN, column];
      throw notResults(`${at}.columns`, `expected ${expected.map((name) => `"${name}"`).join(', ')}`);
    }
    for (let row = 0; row < values.length; row++) {
      const cells: unknown = values[row];
      if (!Array.isArray(cells)) throw notResults(`${at}.values[${row}]`, 'expected an array');
      const taskId: unknown = cells[taskIndex];
      const value: unknown = cells[valueIndex];
      if (typeof taskId !== 'string' || taskId === '' || !isFiniteNumber(value)) continue;
      if (!perContainer) {
        visit(taskId, value, '', 0);
        continue;
      }
      const container: unknown = cells[containerIndex];
      const time: unknown = cells[timeIndex];
      if (typeof container === 'string' && isFiniteNumber(time)) visit(taskId, value, container, time);
    }
  }
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
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
