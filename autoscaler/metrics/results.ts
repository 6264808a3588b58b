import type { TaskUsage } from '../policy/types.js';
import { MetricsError } from './errors.js';
import { CONTAINER_COLUMN, TASK_COLUMN, USAGE_STATEMENTS } from './queries.js';

type StatementKind = (typeof USAGE_STATEMENTS)[number];

const NANOSECONDS_PER_MS = 1e6;

/**
 * Turns InfluxDB's raw JSON answer to `buildUsageQueries` (queried with epoch=ms, not chunked) into usage by task id.
 * Rows without a task id are not tasks and are left out; so are values that are not numbers. An answer that InfluxDB
 * cut short (`partial`, its max-row-limit) is refused: the missing tasks would look like tasks without data.
 *
 * The answer holds a row per container (15,000 rows for 5,000 tasks): it is checked by hand, in place, for exactly
 * the shape read here, instead of being copied through a schema first. It runs every cycle, so what it allocates is
 * kept to what it returns, one fixed-shape accumulator per task (see `TaskSamples`) and the Map that finds it: no
 * object per row, no closure per row or statement.
 */
export function usageFromResults(results: unknown): Record<string, TaskUsage> {
  const reader = newUsageReader(false);
  readUsageChunk(reader, results);
  return finishUsage(reader);
}

/**
 * The same answer read chunk by chunk (`chunked=true`: one JSON document per line, at most chunk_size rows each), so
 * that neither the answer nor its parse is ever whole in memory. A chunk's `partial` says more of its statement (or
 * series) follows in the next one; a statement whose last chunk still says so when the answer ends was cut short, and
 * the answer is refused like a partial one.
 */
export interface UsageReader {
  chunked: boolean;
  gathered: Gathered;
  /** Per statement (USAGE_STATEMENTS order): 0 not seen, 1 seen and more to come, 2 complete. */
  progress: number[];
  errors: string[];
  chunks: number;
}

export function newUsageReader(chunked: boolean): UsageReader {
  return { chunked, gathered: newGathered(), progress: USAGE_STATEMENTS.map(() => 0), errors: [], chunks: 0 };
}

/** Reads one answer (not chunked) or one chunk (chunked) into `reader`. Throws MetricsError on anything unexpected. */
export function readUsageChunk(reader: UsageReader, results: unknown): void {
  const where = reader.chunked ? `chunk ${reader.chunks + 1}: ` : '';
  reader.chunks += 1;
  if (!isObject(results)) throw notResults(`${where}(root)`, 'expected an object');
  if (results.error !== undefined) {
    if (typeof results.error !== 'string') throw notResults(`${where}error`, 'expected a string');
    throw new MetricsError(`InfluxDB rejected the usage query: ${results.error}`, 'rejected');
  }
  const statements = results.results ?? [];
  if (!Array.isArray(statements)) throw notResults(`${where}results`, 'expected an array of statement results');
  for (let index = 0; index < statements.length; index++) {
    const statement: unknown = statements[index];
    if (!isObject(statement)) throw notResults(`${where}results[${index}]`, 'expected an object');
    if (statement.partial === true && !reader.chunked) throw truncated();
    if (statement.error === undefined) continue;
    if (typeof statement.error !== 'string') throw notResults(`${where}results[${index}].error`, 'expected a string');
    if (!reader.errors.includes(statement.error)) reader.errors.push(statement.error);
  }
  if (reader.errors.length > 0) return;
  if (!reader.chunked && statements.length !== USAGE_STATEMENTS.length) {
    throw new MetricsError(`InfluxDB answered ${statements.length} statements, expected ${USAGE_STATEMENTS.length}`, 'invalid-response');
  }

  // Statements are read in the order of the answer, whatever their statement_id (the first malformed one is the one
  // reported): the samples are kept, and the figures computed once every row is in.
  for (let index = 0; index < statements.length; index++) {
    const statement = statements[index] as Record<string, unknown>;
    const id = statement.statement_id ?? (reader.chunked ? undefined : index);
    const kind = typeof id === 'number' ? USAGE_STATEMENTS[id] : undefined;
    if (kind === undefined) throw notResults(`${where}results[${index}].statement_id`, `expected 0 to ${USAGE_STATEMENTS.length - 1}`);
    const statementIndex = id as number;
    if (reader.progress[statementIndex] === 2) {
      throw new MetricsError(`InfluxDB answered statement ${statementIndex} again after its last chunk`, 'invalid-response');
    }
    readRows(statement.series, `${where}results[${index}]`, kind, reader.gathered, reader.chunked);
    reader.progress[statementIndex] = reader.chunked && statement.partial === true ? 1 : 2;
  }
}

/** The usage once the whole answer is read; refuses an answer with a statement missing or cut short. */
export function finishUsage(reader: UsageReader): Record<string, TaskUsage> {
  if (reader.errors.length > 0) {
    // One failing statement marks the others "not executed": report the cause.
    const cause = reader.errors.filter((error) => error !== 'not executed');
    // InfluxDB 1.6 answers a subquery on an unknown database with nothing but "not executed".
    const detail = cause.length > 0 ? cause.join('; ') : 'not executed (InfluxDB says this when the database does not exist)';
    throw new MetricsError(`InfluxDB rejected the usage query: ${detail}`, 'rejected');
  }
  if (reader.progress.some((done) => done === 1)) throw truncated();
  const answered = reader.progress.filter((done) => done === 2).length;
  if (answered !== USAGE_STATEMENTS.length) {
    throw new MetricsError(`InfluxDB answered ${answered} statements, expected ${USAGE_STATEMENTS.length}`, 'invalid-response');
  }
  return finish(reader.gathered);
}

/**
 * One container's first and last CPU sample in the window: cumulative nanoseconds and epoch ms, NaN until read.
 * Plain numbers on one object, not a `{nanoseconds, at}` object per row.
 *
 * These accumulators (and `Gathered`) are object literals made by one function each, not class instances: V8 keeps
 * a literal's shape alive through that function, while the shapes a class's fields make are dropped by a full GC
 * once no instance is left (after every cycle), and the optimized code of this file with them (measured: calls up to
 * 6x slower after each full GC).
 */
interface ContainerSamples {
  container: string;
  /** The task's next container, in the order the rows first named them (a task usually has only one). */
  next: ContainerSamples | undefined;
  firstNanoseconds: number;
  firstAt: number;
  lastNanoseconds: number;
  lastAt: number;
  /** Its place among the task's containers in the LAST rows (0, 1, ...), or -1 while it has no last sample. */
  lastOrder: number;
}

/**
 * A task's accumulator, created once at its first CPU row. It is also its first container's samples, so that the
 * usual task (one container) costs this one object; a pod's further containers are chained behind it.
 */
interface TaskSamples extends ContainerSamples {
  taskId: string;
  /** Containers named by the FIRST or LAST rows: this one and those chained behind it. */
  containers: number;
  /** Containers with a last sample so far (the next one to get one takes this as its `lastOrder`). */
  lastSamples: number;
  /** The next task in the order the LAST rows first named them: the order their usage entries are added in. */
  nextInLast: TaskSamples | undefined;
}

function newContainerSamples(container: string): ContainerSamples {
  return { container, next: undefined, firstNanoseconds: NaN, firstAt: NaN, lastNanoseconds: NaN, lastAt: NaN, lastOrder: -1 };
}

function newTaskSamples(taskId: string, container: string): TaskSamples {
  return {
    container, next: undefined, firstNanoseconds: NaN, firstAt: NaN, lastNanoseconds: NaN, lastAt: NaN, lastOrder: -1,
    taskId, containers: 1, lastSamples: 0, nextInLast: undefined,
  };
}

/**
 * The rows of the three statements, gathered by `readRows`; `finish` then turns them into usage by task id. A row
 * written twice for the same container replaces the earlier one. The usage entries, their keys and the figures come
 * out as they always have: entries in the order the memory rows and then the LAST rows first named their task (a
 * task only in FIRST gets none), keys memoryBytes, lastSampleAt, cpuCores.
 */
interface Gathered {
  usage: Record<string, TaskUsage>;
  tasks: Map<string, TaskSamples>;
  /** The tasks with a last sample, linked through `nextInLast` (a list with no array to grow). */
  firstInLast: TaskSamples | undefined;
  lastInLast: TaskSamples | undefined;
}

function newGathered(): Gathered {
  // Built without a prototype so that a task id like "__proto__" is an ordinary key, then given the usual prototype
  // by `finish` (its own keys stay data): a plain object for callers (JSON, equality), with no copy of 5,000 entries.
  return { usage: Object.create(null) as Record<string, TaskUsage>, tasks: new Map(), firstInLast: undefined, lastInLast: undefined };
}

/**
 * Peak memory of one container: a task uses the sum of its containers. A negative sample is garbage that a sum would
 * hide: the task keeps that sample as its figure, for the decision to reject and name.
 */
function addMemory(into: Gathered, taskId: string, bytes: number): void {
  const task = (into.usage[taskId] ??= {});
  const sum = task.memoryBytes;
  task.memoryBytes = sum === undefined ? bytes : sum < 0 ? sum : bytes < 0 ? bytes : sum + bytes;
}

function addFirst(into: Gathered, taskId: string, container: string, nanoseconds: number, at: number): void {
  const samples = samplesOf(taskOf(into, taskId, container), container);
  samples.firstNanoseconds = nanoseconds;
  samples.firstAt = at;
}

function addLast(into: Gathered, taskId: string, container: string, nanoseconds: number, at: number): void {
  const task = taskOf(into, taskId, container);
  const samples = samplesOf(task, container);
  if (samples.lastOrder < 0) {
    if (task.lastSamples === 0) {
      if (into.lastInLast === undefined) into.firstInLast = task;
      else into.lastInLast.nextInLast = task;
      into.lastInLast = task;
    }
    samples.lastOrder = task.lastSamples++;
  }
  samples.lastNanoseconds = nanoseconds;
  samples.lastAt = at;
}

/** Freshness and cores of every task with a last sample: one walk over the tasks, none over the rows. */
function finish(gathered: Gathered): Record<string, TaskUsage> {
  for (let task = gathered.firstInLast; task !== undefined; task = task.nextInLast) {
    const usage = (gathered.usage[task.taskId] ??= {});
    usage.lastSampleAt = newestLastSample(task);
    const cores = coresOf(task);
    if (cores !== undefined) usage.cpuCores = cores;
  }
  return Object.setPrototypeOf(gathered.usage, Object.prototype) as Record<string, TaskUsage>;
}

/** The task's accumulator, created with `container` as its first container at its first row. */
function taskOf(gathered: Gathered, taskId: string, container: string): TaskSamples {
  let task = gathered.tasks.get(taskId);
  if (task === undefined) gathered.tasks.set(taskId, (task = newTaskSamples(taskId, container)));
  return task;
}

/** The container's samples, chained behind the task's others if it had not named it yet. */
function samplesOf(task: TaskSamples, container: string): ContainerSamples {
  let samples: ContainerSamples = task;
  while (samples.container !== container) {
    if (samples.next === undefined) {
      task.containers += 1;
      return (samples.next = newContainerSamples(container));
    }
    samples = samples.next;
  }
  return samples;
}

/** A task's newest sample is the newest of its containers' last samples. */
function newestLastSample(task: TaskSamples): number {
  let newest = -Infinity;
  for (let samples: ContainerSamples | undefined = task; samples !== undefined; samples = samples.next) {
    if (samples.lastOrder >= 0) newest = Math.max(newest, samples.lastAt);
  }
  return newest;
}

/**
 * A task's CPU cores over the window: the sum over its containers of (last - first) cumulative nanoseconds over the
 * time between the two samples. A container with a single sample (no interval) or whose counter went backwards (a
 * restart reset it) has no figure, and then neither has the task: a partial sum would understate its usage, and no
 * figure makes the task count as missing data, never as idle. So has a container with only a first or only a last
 * sample.
 *
 * Containers are added in the order the LAST rows named them, so that a pod's figure stays the very same float (a
 * sum's rounding depends on its order); with one container that is just the task itself.
 */
function coresOf(task: TaskSamples): number | undefined {
  let cores = 0;
  for (let order = 0; order < task.containers; order++) {
    let samples: ContainerSamples | undefined = task;
    while (samples !== undefined && samples.lastOrder !== order) samples = samples.next;
    // No container is the order-th in LAST: one has only a first sample. No first sample (NaN): only a last one.
    if (samples === undefined || Number.isNaN(samples.firstAt)) return undefined;
    const { firstNanoseconds, firstAt, lastNanoseconds, lastAt } = samples;
    if (lastAt <= firstAt || lastNanoseconds < firstNanoseconds) return undefined;
    cores += (lastNanoseconds - firstNanoseconds) / ((lastAt - firstAt) * NANOSECONDS_PER_MS);
  }
  return cores;
}

/**
 * Adds the task id and the finite number in the `kind` column of every row of a statement's series to `into`,
 * checked as they are read; FIRST and LAST rows must also carry the container name and a finite time (or are left
 * out).
 */
function readRows(series: unknown, path: string, kind: StatementKind, into: Gathered, chunked: boolean): void {
  if (series === undefined) return;
  if (!Array.isArray(series)) throw notResults(`${path}.series`, 'expected an array of series');
  const perContainer = kind !== 'memory';
  for (let index = 0; index < series.length; index++) {
    const one: unknown = series[index];
    const at = `${path}.series[${index}]`;
    if (!isObject(one)) throw notResults(at, 'expected an object');
    const { columns, values } = one;
    // Chunked, a partial series continues in the next chunk; whole, it was cut short.
    if (one.partial === true && !chunked) throw truncated();
    if (!Array.isArray(columns) || !columns.every((name) => typeof name === 'string')) {
      throw notResults(`${at}.columns`, 'expected an array of column names');
    }
    if (values === undefined) continue;
    if (!Array.isArray(values)) throw notResults(`${at}.values`, 'expected an array of rows');
    const taskIndex = columns.indexOf(TASK_COLUMN);
    const valueIndex = columns.indexOf(kind);
    const containerIndex = perContainer ? columns.indexOf(CONTAINER_COLUMN) : -1;
    const timeIndex = perContainer ? columns.indexOf('time') : -1;
    if (taskIndex < 0 || valueIndex < 0 || (perContainer && (containerIndex < 0 || timeIndex < 0))) {
      const expected = perContainer ? [TASK_COLUMN, CONTAINER_COLUMN, 'time', kind] : [TASK_COLUMN, kind];
      throw notResults(`${at}.columns`, `expected ${expected.map((name) => `"${name}"`).join(', ')}`);
    }
    for (let row = 0; row < values.length; row++) {
      const cells: unknown = values[row];
      if (!Array.isArray(cells)) throw notResults(`${at}.values[${row}]`, 'expected an array');
      const taskId: unknown = cells[taskIndex];
      const value: unknown = cells[valueIndex];
      if (typeof taskId !== 'string' || taskId === '' || !isFiniteNumber(value)) continue;
      if (kind === 'memory') {
        addMemory(into, taskId, value);
        continue;
      }
      const container: unknown = cells[containerIndex];
      const time: unknown = cells[timeIndex];
      if (typeof container !== 'string' || !isFiniteNumber(time)) continue;
      if (kind === 'first') addFirst(into, taskId, container, value, time);
      else addLast(into, taskId, container, value, time);
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
  return new MetricsError('InfluxDB cut the answer short (partial results: its [http] max-row-limit, or the answer ended early)', 'invalid-response');
}
