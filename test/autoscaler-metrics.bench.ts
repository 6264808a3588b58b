/**
 * fetchUsage() at scale: 5,000 tasks × 5 min of cAdvisor samples every 10 s, against a real InfluxDB.
 * Run: npx vitest bench --run test/autoscaler-metrics.bench.ts
 */
import { afterAll, bench, describe } from 'vitest';
import { InfluxMetricsSource, buildUsageQueries, usageFromResults } from '../autoscaler/metrics/index.js';
import { cadvisorLines, startInfluxDb, type InfluxDbServer } from './support/influxdb.js';

const TASKS = 5_000;
const WINDOW_SECONDS = 300;
const STEP_SECONDS = 10;
const DB = 'cadvisor';
const options = { taskIdTag: 'MESOS_TASK_ID', windowSeconds: WINDOW_SECONDS };

let influx: InfluxDbServer;
let source: InfluxMetricsSource;
let seeded: Promise<void> | undefined;
let rawAnswer: unknown;

describe(`fetchUsage: ${TASKS} tasks × ${WINDOW_SECONDS / 60} min at ${STEP_SECONDS} s`, () => {
  // Seeded on first use: a bench file runs its hooks differently from a test file.
  const seed = async () => {
    influx = await startInfluxDb();
    source = new InfluxMetricsSource({ url: influx.url, database: DB, requestTimeoutMs: 60_000 });
    const now = Date.now();
    const started = performance.now();
    let lines = '';
    for (let i = 0; i < TASKS; i++) {
      lines += cadvisorLines({
        taskId: `app-${i % 250}.${i.toString(16).padStart(8, '0')}-task`,
        containerName: `mesos-${i}`,
        machine: `agent-${i % 40}`,
        cpuCoresUsed: (i % 100) / 50,
        memoryBytes: 100_000_000 + i,
        from: now - (WINDOW_SECONDS - 5) * 1000,
        to: now - 5000,
        stepSeconds: STEP_SECONDS,
      });
    }
    await influx.writePoints(lines, DB);
    const usage = await source.fetchUsage(options);
    const body = new URLSearchParams({ db: DB, q: buildUsageQueries(options).join(';'), epoch: 'ms' });
    rawAnswer = await (await fetch(`${influx.url}/query`, { method: 'POST', body })).json();
    console.log(
      `seeded ${lines.split('\n').length - 1} points in ${Math.round(performance.now() - started)} ms; ` +
        `fetchUsage sees ${Object.keys(usage).length} tasks`,
    );
  };

  afterAll(async () => {
    await influx?.stop();
  });

  bench('fetchUsage (one request, three statements)', async () => {
    await (seeded ??= seed());
    await source.fetchUsage(options);
  }, { time: 0, iterations: 5, warmupIterations: 1 });

  bench('usageFromResults alone (validate and join the answer in Node)', async () => {
    await (seeded ??= seed());
    usageFromResults(rawAnswer);
  }, { time: 0, iterations: 5, warmupIterations: 1 });

  for (const [index, name] of ['cpu subquery', 'memory max', 'freshness last'].entries()) {
    bench(`statement alone: ${name}`, async () => {
      await (seeded ??= seed());
      const q = buildUsageQueries(options)[index] as string;
      const response = await fetch(`${influx.url}/query`, { method: 'POST', body: new URLSearchParams({ db: DB, q, epoch: 'ms' }) });
      await response.text();
    }, { time: 0, iterations: 5, warmupIterations: 1 });
  }
});
