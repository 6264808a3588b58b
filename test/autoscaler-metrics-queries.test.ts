import { describe, expect, it } from 'vitest';
import { buildUsageQueries, MetricsError, usageFromResults } from '../autoscaler/metrics/index.js';

describe('buildUsageQueries()', () => {
  it('asks for CPU cores and peak memory per container and freshness per task in three statements', () => {
    expect(buildUsageQueries({ taskIdTag: 'MESOS_TASK_ID', windowSeconds: 300 })).toEqual([
      `SELECT MEAN("cores") AS "cores" FROM (SELECT NON_NEGATIVE_DERIVATIVE("value", 1s) / 1000000000 AS "cores" ` +
        `FROM "cpu_usage_total" WHERE time > now() - 300s AND "MESOS_TASK_ID" != '' GROUP BY "MESOS_TASK_ID", "container_name") ` +
        `GROUP BY "MESOS_TASK_ID", "container_name"`,
      `SELECT MAX("value") AS "memory" FROM "memory_working_set" WHERE time > now() - 300s AND "MESOS_TASK_ID" != '' ` +
        `GROUP BY "MESOS_TASK_ID", "container_name"`,
      `SELECT LAST("value") AS "last" FROM "cpu_usage_total" WHERE time > now() - 300s AND "MESOS_TASK_ID" != '' GROUP BY "MESOS_TASK_ID"`,
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

const series = (tag: string | undefined, columns: string[], row: unknown[]) => ({
  name: 'cpu_usage_total',
  ...(tag === undefined ? {} : { tags: { MESOS_TASK_ID: tag } }),
  columns,
  values: [row],
});

describe('usageFromResults()', () => {
  it('joins the three statements by task id', () => {
    const raw = {
      results: [
        { statement_id: 0, series: [series('web.1', ['time', 'cores'], [0, 1.5]), series('web.2', ['time', 'cores'], [0, 0.02])] },
        { statement_id: 1, series: [series('web.1', ['time', 'memory'], [0, 8e8]), series('web.3', ['time', 'memory'], [0, 1e8])] },
        { statement_id: 2, series: [series('web.1', ['time', 'last'], [1_700_000_000_000, 9]), series('web.2', ['time', 'last'], [1_700_000_001_000, 9])] },
      ],
    };
    expect(usageFromResults(raw, 'MESOS_TASK_ID')).toEqual({
      'web.1': { cpuCores: 1.5, memoryBytes: 8e8, lastSampleAt: 1_700_000_000_000 },
      'web.2': { cpuCores: 0.02, lastSampleAt: 1_700_000_001_000 },
      'web.3': { memoryBytes: 1e8 },
    });
  });

  it('sums the containers of one task', () => {
    const inContainer = (container: string, column: string, value: number) => ({
      name: 'cpu_usage_total',
      tags: { MESOS_TASK_ID: 'pod.1', container_name: container },
      columns: ['time', column],
      values: [[0, value]],
    });
    const raw = {
      results: [
        { statement_id: 0, series: [inContainer('a', 'cores', 0.3), inContainer('b', 'cores', 0.2)] },
        { statement_id: 1, series: [inContainer('a', 'memory', 100), inContainer('b', 'memory', 50)] },
        { statement_id: 2, series: [series('pod.1', ['time', 'last'], [1_700_000_000_000, 1])] },
      ],
    };
    expect(usageFromResults(raw, 'MESOS_TASK_ID')).toEqual({ 'pod.1': { cpuCores: 0.5, memoryBytes: 150, lastSampleAt: 1_700_000_000_000 } });
  });

  it('leaves out series without the task tag and values that are not numbers', () => {
    const raw = {
      results: [
        { statement_id: 0, series: [series('', ['time', 'cores'], [0, 3]), series(undefined, ['time', 'cores'], [0, 3]), series('web.1', ['time', 'cores'], [0, null])] },
        { statement_id: 1, series: [series('web.1', ['time', 'memory'], [0, 'lots'])] },
        { statement_id: 2 },
      ],
    };
    expect(usageFromResults(raw, 'MESOS_TASK_ID')).toEqual({});
  });

  it('keeps hostile task ids as plain keys', () => {
    const ids = ['x" OR 1=1 --', '__proto__', "a'b\"c\\d"];
    const raw = { results: [{ statement_id: 0, series: ids.map((id) => series(id, ['time', 'cores'], [0, 1])) }, { statement_id: 1 }, { statement_id: 2 }] };
    const usage = usageFromResults(raw, 'MESOS_TASK_ID');
    expect(Object.keys(usage).sort()).toEqual([...ids].sort());
    expect(Object.hasOwn(usage, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(usage)).toBe(Object.prototype);
  });

  it.each([
    { name: 'a statement error', raw: { results: [{ statement_id: 0, error: 'database not found: metrics' }, {}, {}] }, kind: 'rejected', message: 'database not found: metrics' },
    { name: 'a request error', raw: { error: 'error parsing query' }, kind: 'rejected', message: 'error parsing query' },
    { name: 'not JSON results', raw: 'oops', kind: 'invalid-response', message: 'not query results' },
    { name: 'malformed series', raw: { results: [{ series: [{ columns: 'time' }] }, {}, {}] }, kind: 'invalid-response', message: 'not query results' },
    { name: 'a missing statement', raw: { results: [{}, {}] }, kind: 'invalid-response', message: 'answered 2 statements, expected 3' },
  ])('reports $name as a MetricsError', ({ raw, kind, message }) => {
    let caught: unknown;
    try {
      usageFromResults(raw, 'MESOS_TASK_ID');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MetricsError);
    expect(caught).toMatchObject({ kind });
    expect((caught as Error).message).toContain(message);
  });
});
