import { describe, expect, it } from 'vitest';
import { buildUsageQueries, MetricsError, usageFromResults } from '../autoscaler/metrics/index.js';

describe('buildUsageQueries()', () => {
  it('asks for CPU cores and peak memory per container and freshness per task in three statements, as rows', () => {
    const grouped = `GROUP BY "MESOS_TASK_ID", "container_name"`;
    const recent = `time > now() - 300s AND "MESOS_TASK_ID" != ''`;
    expect(buildUsageQueries({ taskIdTag: 'MESOS_TASK_ID', windowSeconds: 300 })).toEqual([
      `SELECT "MESOS_TASK_ID"::tag AS "task", "cores" FROM (SELECT MEAN("cores") AS "cores" FROM ` +
        `(SELECT NON_NEGATIVE_DERIVATIVE("value", 1s) / 1000000000 AS "cores" FROM "cpu_usage_total" WHERE ${recent} ${grouped}) ${grouped})`,
      `SELECT "MESOS_TASK_ID"::tag AS "task", "memory" FROM (SELECT MAX("value") AS "memory" FROM "memory_working_set" WHERE ${recent} ${grouped})`,
      `SELECT "MESOS_TASK_ID"::tag AS "task", "last" FROM (SELECT LAST("value") AS "last" FROM "cpu_usage_total" WHERE ${recent} GROUP BY "MESOS_TASK_ID")`,
    ]);
  });

  it.each([
    { tag: 'x"; DROP DATABASE "metrics', quoted: '"x\\"; DROP DATABASE \\"metrics"' },
    { tag: 'MESOS_TASK_ID") GROUP BY "machine', quoted: '"MESOS_TASK_ID\\") GROUP BY \\"machine"' },
    { tag: 'back\\"slash\\', quoted: '"back\\\\\\"slash\\\\"' },
    { tag: "it's", quoted: `"it's"` },
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

/** One statement's answer as InfluxDB 1.x gives it for the flattened queries: one series of [time, task, value] rows. */
const rows = (statementId: number, column: string, values: unknown[][]) => ({
  statement_id: statementId,
  series: [{ name: 'cpu_usage_total', columns: ['time', 'task', column], values }],
});

describe('usageFromResults()', () => {
  it('joins the three statements by task id', () => {
    const raw = {
      results: [
        rows(0, 'cores', [[0, 'web.1', 1.5], [0, 'web.2', 0.02]]),
        rows(1, 'memory', [[1_699_999_990_000, 'web.1', 8e8], [1_699_999_990_000, 'web.3', 1e8]]),
        rows(2, 'last', [[1_700_000_000_000, 'web.1', 9], [1_700_000_001_000, 'web.2', 9]]),
      ],
    };
    expect(usageFromResults(raw)).toEqual({
      'web.1': { cpuCores: 1.5, memoryBytes: 8e8, lastSampleAt: 1_700_000_000_000 },
      'web.2': { cpuCores: 0.02, lastSampleAt: 1_700_000_001_000 },
      'web.3': { memoryBytes: 1e8 },
    });
  });

  it('sums the containers of one task (a row each)', () => {
    const raw = {
      results: [
        rows(0, 'cores', [[0, 'pod.1', 0.25], [0, 'pod.1', 0.5]]),
        rows(1, 'memory', [[5, 'pod.1', 100], [6, 'pod.1', 50]]),
        rows(2, 'last', [[1_700_000_000_000, 'pod.1', 1]]),
      ],
    };
    expect(usageFromResults(raw)).toEqual({ 'pod.1': { cpuCores: 0.75, memoryBytes: 150, lastSampleAt: 1_700_000_000_000 } });
  });

  it('reads columns by name, whatever their order, and takes statements by statement_id', () => {
    const raw = {
      results: [
        { statement_id: 2, series: [{ columns: ['last', 'task', 'time'], values: [[1, 'web.1', 1_700_000_000_000]] }] },
        { statement_id: 0, series: [{ columns: ['cores', 'time', 'task'], values: [[0.5, 0, 'web.1']] }] },
        { statement_id: 1 },
      ],
    };
    expect(usageFromResults(raw)).toEqual({ 'web.1': { cpuCores: 0.5, lastSampleAt: 1_700_000_000_000 } });
  });

  it('leaves out rows without a task id and values that are not finite numbers', () => {
    const raw = {
      results: [
        rows(0, 'cores', [[0, '', 3], [0, null, 3], [0, 'web.1', null]]),
        rows(1, 'memory', [[0, 'web.1', 'lots']]),
        { statement_id: 2 },
      ],
    };
    expect(usageFromResults(raw)).toEqual({});
  });

  it('keeps hostile task ids as plain keys', () => {
    const ids = ['x" OR 1=1 --', '__proto__', "a'b\"c\\d", 'constructor'];
    const raw = { results: [rows(0, 'cores', ids.map((id) => [0, id, 1])), { statement_id: 1 }, { statement_id: 2 }] };
    const usage = usageFromResults(raw);
    expect(Object.keys(usage).sort()).toEqual([...ids].sort());
    expect(Object.hasOwn(usage, '__proto__')).toBe(true);
    expect(usage.constructor).toEqual({ cpuCores: 1 });
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
    { name: 'columns without the task', raw: { results: [{ series: [{ columns: ['time', 'cores'], values: [[0, 1]] }] }, {}, {}] }, kind: 'invalid-response', message: 'expected "task" and "cores"' },
    { name: 'values not a list', raw: { results: [{}, { series: [{ columns: ['time', 'task', 'memory'], values: 5 }] }, {}] }, kind: 'invalid-response', message: 'results[1].series[0].values: expected an array of rows' },
    { name: 'a row not a list', raw: { results: [{}, {}, { series: [{ columns: ['time', 'task', 'last'], values: [[1, 'a', 1], 'x'] }] }] }, kind: 'invalid-response', message: 'results[2].series[0].values[1]: expected an array' },
    { name: 'an unknown statement id', raw: { results: [{}, {}, { statement_id: 7 }] }, kind: 'invalid-response', message: 'results[2].statement_id: expected 0 to 2' },
    { name: 'a truncated answer', raw: { results: [{ series: [{ columns: ['time', 'task', 'cores'], values: [], partial: true }] }, {}, {}] }, kind: 'invalid-response', message: 'max-row-limit' },
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
