import { describe, expect, it } from 'vitest';
import { buildUsageQueries, finishUsage, MetricsError, newUsageReader, readUsageChunk, usageFromResults } from '../autoscaler/metrics/index.js';

describe('buildUsageQueries()', () => {
  it('asks for the first and last CPU sample and peak memory per container in three statements, as rows', () => {
    const grouped = `GROUP BY "MESOS_TASK_ID", "container_name"`;
    const recent = `time > now() - 300s AND "MESOS_TASK_ID" != ''`;
    const columns = `"MESOS_TASK_ID"::tag AS "task", "container_name"::tag AS "container"`;
    expect(buildUsageQueries({ taskIdTag: 'MESOS_TASK_ID', windowSeconds: 300 })).toEqual([
      `SELECT ${columns}, "first" FROM (SELECT FIRST("value") AS "first" FROM "cpu_usage_total" WHERE ${recent} ${grouped})`,
      `SELECT "MESOS_TASK_ID"::tag AS "task", "memory" FROM (SELECT MAX("value") AS "memory" FROM "memory_working_set" WHERE ${recent} ${grouped})`,
      `SELECT ${columns}, "last" FROM (SELECT LAST("value") AS "last" FROM "cpu_usage_total" WHERE ${recent} ${grouped})`,
    ]);
  });

  it.each([
    { tag: 'x"; DROP DATABASE "metrics', quoted: '"x\\"; DROP DATABASE \\"metrics"' },
    { tag: 'MESOS_TASK_ID") GROUP BY "machine', quoted: '"MESOS_TASK_ID\\") GROUP BY \\"machine"' },
    { tag: 'back\\"slash\\', quoted: '"back\\\\\\"slash\\\\"' },
    { tag: "it's", quoted: `"it's"` },
    { tag: "back\\'slash", quoted: `"back\\\\'slash"` },
  ])('escapes the task-id tag name $tag as one quoted identifier', ({ tag, quoted }) => {
    const queries = buildUsageQueries({ taskIdTag: tag, windowSeconds: 60 });
    // Put back a plain name where the escaped one stands: what is left is exactly our statement structure.
    const structure = queries.map((query) => query.split(quoted).join('"TAG"'));
    expect(structure).toEqual(buildUsageQueries({ taskIdTag: 'TAG', windowSeconds: 60 }));
  });

  it.each([
    { options: { taskIdTag: '', windowSeconds: 60 }, message: 'taskIdTag must not be empty' },
    { options: { taskIdTag: 'MESOS\nTASK_ID', windowSeconds: 60 }, message: 'taskIdTag must not contain control characters' },
    { options: { taskIdTag: 'MESOS_TASK_ID', windowSeconds: 0 }, message: 'windowSeconds must be a whole number of seconds >= 1, got 0' },
    { options: { taskIdTag: 'MESOS_TASK_ID', windowSeconds: 1.5 }, message: 'got 1.5' },
    { options: { taskIdTag: 'MESOS_TASK_ID', windowSeconds: Number.NaN }, message: 'got NaN' },
  ])('refuses $options', ({ options, message }) => {
    expect(() => buildUsageQueries(options)).toThrow(message);
  });
});

/** One statement's answer as InfluxDB 1.x gives it for the flattened queries: one series of rows. */
const rows = (statementId: number, columns: string[], values: unknown[][]) => ({
  statement_id: statementId,
  series: [{ name: 'cpu_usage_total', columns, values }],
});
/** The first (statement 0) or last (statement 2) CPU sample per container: [time, task, container, nanoseconds]. */
const cpuEnds = (statementId: 0 | 2, values: unknown[][]) =>
  rows(statementId, ['time', 'task', 'container', statementId === 0 ? 'first' : 'last'], values);
const memory = (values: unknown[][]) => rows(1, ['time', 'task', 'memory'], values);
const T0 = 1_700_000_000_000;

describe('usageFromResults()', () => {
  it('joins the three statements by task id: cores from the first and last sample, freshness from the last', () => {
    const raw = {
      results: [
        cpuEnds(0, [[T0, 'web.1', 'c', 1e9], [T0, 'web.2', 'c', 5e9], [T0, 'web.4', 'c', 0]]),
        memory([[T0, 'web.1', 8e8], [T0, 'web.3', 1e8]]),
        // 3 s of 1.5 cores; 100 s of 0.02 cores; web.4 never used any CPU.
        cpuEnds(2, [[T0 + 3_000, 'web.1', 'c', 5.5e9], [T0 + 100_000, 'web.2', 'c', 7e9], [T0 + 10_000, 'web.4', 'c', 0]]),
      ],
    };
    expect(usageFromResults(raw)).toEqual({
      'web.1': { cpuCores: 1.5, memoryBytes: 8e8, lastSampleAt: T0 + 3_000 },
      'web.2': { cpuCores: 0.02, lastSampleAt: T0 + 100_000 },
      'web.3': { memoryBytes: 1e8 },
      'web.4': { cpuCores: 0, lastSampleAt: T0 + 10_000 },
    });
  });

  it('keeps a negative memory sample as the task\'s figure (a sum would hide it), for the decision to reject', () => {
    const raw = {
      results: [cpuEnds(0, []), memory([[T0, 'pod.1', 3e8], [T0, 'pod.1', -2e9], [T0, 'pod.1', 1e8], [T0, 'web.1', -5]]), cpuEnds(2, [])],
    };
    expect(usageFromResults(raw)).toEqual({ 'pod.1': { memoryBytes: -2e9 }, 'web.1': { memoryBytes: -5 } });
  });

  it('sums the containers of one task (a row each) and takes the newest of their last samples', () => {
    const raw = {
      results: [
        cpuEnds(0, [[T0, 'pod.1', 'a', 0], [T0, 'pod.1', 'b', 1e9]]),
        memory([[5, 'pod.1', 100], [6, 'pod.1', 50]]),
        cpuEnds(2, [[T0 + 10_000, 'pod.1', 'a', 2.5e9], [T0 + 4_000, 'pod.1', 'b', 3e9]]),
      ],
    };
    expect(usageFromResults(raw)).toEqual({ 'pod.1': { cpuCores: 0.75, memoryBytes: 150, lastSampleAt: T0 + 10_000 } });
  });

  it.each([
    { name: 'a single sample', first: [[T0, 'web.1', 'c', 1e9]], last: [[T0, 'web.1', 'c', 1e9]] },
    { name: 'a counter reset (last below first)', first: [[T0, 'web.1', 'c', 9e9]], last: [[T0 + 10_000, 'web.1', 'c', 1e9]] },
    { name: 'no first sample', first: [], last: [[T0 + 10_000, 'web.1', 'c', 1e9]] },
    { name: 'one container of two with a single sample', first: [[T0, 'web.1', 'a', 0], [T0 + 10_000, 'web.1', 'b', 0]], last: [[T0 + 10_000, 'web.1', 'a', 1e9], [T0 + 10_000, 'web.1', 'b', 0]] },
    { name: 'one container of two reset', first: [[T0, 'web.1', 'a', 0], [T0, 'web.1', 'b', 5e9]], last: [[T0 + 10_000, 'web.1', 'a', 1e9], [T0 + 10_000, 'web.1', 'b', 1e9]] },
    { name: 'a container without its first sample', first: [[T0, 'web.1', 'a', 0]], last: [[T0 + 10_000, 'web.1', 'a', 1e9], [T0 + 10_000, 'web.1', 'b', 1e9]] },
    { name: 'a container without its last sample', first: [[T0, 'web.1', 'a', 0], [T0, 'web.1', 'b', 0]], last: [[T0 + 10_000, 'web.1', 'a', 1e9]] },
  ])('gives a task no CPU figure (missing, never idle) for $name, but keeps its freshness', ({ first, last }) => {
    const raw = { results: [cpuEnds(0, first), { statement_id: 1 }, cpuEnds(2, last)] };
    const newest = Math.max(...last.map(([at]) => at as number));
    expect(usageFromResults(raw)).toEqual({ 'web.1': { lastSampleAt: newest } });
  });

  it('pairs the first and last sample of each container whatever the order of the rows; a task only in FIRST gets no entry', () => {
    const raw = {
      results: [
        cpuEnds(0, [[T0, 'pod.1', 'c', 0], [T0, 'first-only.1', 'c', 0], [T0, 'pod.1', 'a', 0], [T0 + 2_000, 'pod.1', 'b', 4e9]]),
        memory([]),
        // b: 2e9 ns over 2 s, c: 2e9 ns over 8 s, a: 5e9 ns over 10 s.
        cpuEnds(2, [[T0 + 4_000, 'pod.1', 'b', 6e9], [T0 + 8_000, 'pod.1', 'c', 2e9], [T0 + 10_000, 'pod.1', 'a', 5e9]]),
      ],
    };
    expect(usageFromResults(raw)).toEqual({ 'pod.1': { cpuCores: 1.75, lastSampleAt: T0 + 10_000 } });
  });

  it('reads columns by name, whatever their order, and takes statements by statement_id', () => {
    const raw = {
      results: [
        { statement_id: 2, series: [{ columns: ['last', 'container', 'task', 'time'], values: [[1e9, 'c', 'web.1', T0 + 2_000]] }] },
        { statement_id: 0, series: [{ columns: ['first', 'time', 'task', 'container'], values: [[0, T0, 'web.1', 'c']] }] },
        { statement_id: 1 },
      ],
    };
    expect(usageFromResults(raw)).toEqual({ 'web.1': { cpuCores: 0.5, lastSampleAt: T0 + 2_000 } });
  });

  it('leaves out rows without a task id and values, containers or times that are not what they should be', () => {
    const raw = {
      results: [
        cpuEnds(0, [[T0, '', 'c', 3], [T0, null, 'c', 3], [T0, 'web.1', 'c', null]]),
        memory([[0, 'web.1', 'lots']]),
        cpuEnds(2, [[T0, 'web.2', null, 3], [null, 'web.3', 'c', 3], [T0, '', 'c', 5]]),
      ],
    };
    expect(usageFromResults(raw)).toEqual({});
  });

  it('keeps hostile task ids as plain keys', () => {
    const ids = ['x" OR 1=1 --', '__proto__', "a'b\"c\\d", 'constructor'];
    const raw = {
      results: [
        cpuEnds(0, ids.map((id) => [T0, id, 'c', 0])),
        { statement_id: 1 },
        cpuEnds(2, ids.map((id) => [T0 + 1_000, id, 'c', 1e9])),
      ],
    };
    const usage = usageFromResults(raw);
    expect(Object.keys(usage).sort()).toEqual([...ids].sort());
    expect(Object.hasOwn(usage, '__proto__')).toBe(true);
    expect(usage.constructor).toEqual({ cpuCores: 1, lastSampleAt: T0 + 1_000 });
    expect(Object.getPrototypeOf(usage)).toBe(Object.prototype);
  });

  it.each([
    { name: 'a statement error', raw: { results: [{ statement_id: 0, error: 'database not found: metrics' }, {}, {}] }, kind: 'rejected', message: 'database not found: metrics' },
    { name: 'only "not executed"', raw: { results: [{ error: 'not executed' }, { error: 'not executed' }, {}] }, kind: 'rejected', message: 'when the database does not exist' },
    { name: 'a request error', raw: { error: 'error parsing query' }, kind: 'rejected', message: 'error parsing query' },
    { name: 'not JSON results', raw: 'oops', kind: 'invalid-response', message: 'not query results: (root): expected an object' },
    { name: 'results not a list', raw: { results: {} }, kind: 'invalid-response', message: 'not query results: results: expected an array' },
    { name: 'a statement not an object', raw: { results: [{}, 7, {}] }, kind: 'invalid-response', message: 'results[1]: expected an object' },
    { name: 'series not a list', raw: { results: [{ series: {} }, {}, {}] }, kind: 'invalid-response', message: 'results[0].series: expected an array' },
    { name: 'malformed columns', raw: { results: [{ series: [{ columns: 'time' }] }, {}, {}] }, kind: 'invalid-response', message: 'results[0].series[0].columns: expected an array of column names' },
    { name: 'columns without the task', raw: { results: [{}, { series: [{ columns: ['time', 'memory'], values: [[0, 1]] }] }, {}] }, kind: 'invalid-response', message: 'expected "task", "memory"' },
    { name: 'CPU columns without the container', raw: { results: [{ series: [{ columns: ['time', 'task', 'first'], values: [[0, 'a', 1]] }] }, {}, {}] }, kind: 'invalid-response', message: 'results[0].series[0].columns: expected "task", "container", "time", "first"' },
    { name: 'values not a list', raw: { results: [{}, { series: [{ columns: ['time', 'task', 'memory'], values: 5 }] }, {}] }, kind: 'invalid-response', message: 'results[1].series[0].values: expected an array of rows' },
    { name: 'a row not a list', raw: { results: [{}, {}, { series: [{ columns: ['time', 'task', 'container', 'last'], values: [[1, 'a', 'c', 1], 'x'] }] }] }, kind: 'invalid-response', message: 'results[2].series[0].values[1]: expected an array' },
    { name: 'an unknown statement id', raw: { results: [{}, {}, { statement_id: 7 }] }, kind: 'invalid-response', message: 'results[2].statement_id: expected 0 to 2' },
    { name: 'a truncated answer', raw: { results: [{ series: [{ columns: ['time', 'task', 'container', 'first'], values: [], partial: true }] }, {}, {}] }, kind: 'invalid-response', message: 'max-row-limit' },
    { name: 'a missing statement', raw: { results: [{}, {}] }, kind: 'invalid-response', message: 'answered 2 statements, expected 3' },
  ])('reports $name as a MetricsError', ({ raw, kind, message }) => {
    let caught: unknown;
    try {
      usageFromResults(raw);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MetricsError);
    expect(caught).toMatchObject({ kind });
    expect((caught as Error).message).toContain(message);
  });
});

describe('the chunked usage reader', () => {
  /** One line of a chunked answer: a statement's rows, `partial` when more of the statement follows. */
  const chunk = (result: { statement_id: number }, partial: boolean) => {
    const one = structuredClone(result) as { statement_id: number; partial?: boolean; series?: Array<{ partial?: boolean }> };
    if (partial) {
      one.partial = true;
      for (const series of one.series ?? []) series.partial = true;
    }
    return { results: [one] };
  };

  it('joins a statement split over several chunks, its series marked partial until the last one', () => {
    const reader = newUsageReader(true);
    readUsageChunk(reader, chunk(cpuEnds(0, [[T0, 'web.1', 'c', 1e9]]), true));
    readUsageChunk(reader, chunk(cpuEnds(0, [[T0, 'web.2', 'c', 0]]), false));
    readUsageChunk(reader, chunk(memory([[T0, 'web.1', 8e8]]), false));
    readUsageChunk(reader, chunk(cpuEnds(2, [[T0 + 2_000, 'web.1', 'c', 2e9]]), true));
    readUsageChunk(reader, chunk(cpuEnds(2, [[T0 + 4_000, 'web.2', 'c', 2e9]]), false));
    expect(finishUsage(reader)).toEqual({
      'web.1': { memoryBytes: 8e8, lastSampleAt: T0 + 2_000, cpuCores: 0.5 },
      'web.2': { lastSampleAt: T0 + 4_000, cpuCores: 0.5 },
    });
  });

  it('refuses an answer whose last statement is still partial when it ends', () => {
    const reader = newUsageReader(true);
    readUsageChunk(reader, chunk(cpuEnds(0, []), false));
    readUsageChunk(reader, chunk(memory([]), false));
    readUsageChunk(reader, chunk(cpuEnds(2, [[T0, 'web.1', 'c', 1]]), true));
    expect(() => finishUsage(reader)).toThrow(/cut the answer short/);
  });

  it('refuses an answer that lacks a statement, or repeats one after its end', () => {
    const short = newUsageReader(true);
    readUsageChunk(short, chunk(cpuEnds(0, []), false));
    expect(() => finishUsage(short)).toThrow('InfluxDB answered 1 statements, expected 3');
    const repeated = newUsageReader(true);
    readUsageChunk(repeated, chunk(cpuEnds(0, []), false));
    expect(() => readUsageChunk(repeated, chunk(cpuEnds(0, []), false))).toThrow(/again after its last chunk/);
  });

  it('reports a statement error from any chunk', () => {
    const reader = newUsageReader(true);
    readUsageChunk(reader, chunk(cpuEnds(0, []), false));
    readUsageChunk(reader, { results: [{ statement_id: 1, error: 'max-select-series limit exceeded' }] });
    expect(() => finishUsage(reader)).toThrow('InfluxDB rejected the usage query: max-select-series limit exceeded');
  });
});
