#!/usr/bin/env node
// Speed of `baton-autoscaler backtest` (npm run bench:backtest): a real InfluxDB holding a month of one app's cAdvisor
// data (4 tasks, a sample a minute, weekday peaks), the Marathon emulator holding its definition; the backtest runs as
// a process at 15 s steps over the whole month, reactive only, then with schedules and a predictive floor.
//
// Options (environment): BENCH_DAYS (28), BENCH_TASKS (4), BENCH_RUNS (3).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DAYS = Number(process.env.BENCH_DAYS ?? 28);
const TASKS = Number(process.env.BENCH_TASKS ?? 4);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const DAY_MS = 24 * 3600_000;
const MIB = 1024 * 1024;
const say = (message) => process.stderr.write(`[bench] ${message}\n`);

async function helpers() {
  say('compiling the CLI, the emulator and the test helpers');
  const out = path.join(repoRoot, 'node_modules', '.cache', 'bench-backtest');
  await rm(out, { recursive: true, force: true });
  const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc');
  spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--outDir', out, '--noEmit', 'false', '--sourceMap', 'false'], { cwd: repoRoot, stdio: 'ignore' });
  spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: repoRoot, stdio: 'ignore' });
  const loaded = {};
  for (const file of ['test/support/influxdb.js', 'test/support/autoscaler.js', 'src/emulator/index.js']) {
    if (!existsSync(path.join(out, file))) throw new Error(`compilation did not produce ${file}`);
    Object.assign(loaded, await import(pathToFileURL(path.join(out, file)).href));
  }
  return loaded;
}

/** Total cores: 1 at night, 6 on weekdays 09:00–17:00 UTC, with a deterministic ±20 % wobble. */
function cores(at) {
  const day = new Date(at);
  const hour = day.getUTCHours();
  const weekday = day.getUTCDay() >= 1 && day.getUTCDay() <= 5;
  const base = weekday && hour >= 9 && hour < 17 ? 6 : 1;
  return base * (1 + 0.2 * Math.sin(at / 600_000));
}

function monthOfData(lineProtocolTag, from, to) {
  const chunks = [];
  for (let n = 1; n <= TASKS; n++) {
    const taskId = `shop_web.instance-0000000${n}-0000-11ee-8000-000000000000._app.1`;
    const tags = `container_name=${lineProtocolTag(`mesos-${n}`)},machine=agent-${n},MESOS_TASK_ID=${lineProtocolTag(taskId)}`;
    let nanoseconds = 0;
    const lines = [];
    for (let at = from; at < to; at += 60_000) {
      nanoseconds += Math.round((cores(at) / TASKS) * 60e9);
      lines.push(`cpu_usage_total,${tags} value=${nanoseconds}i ${at}000000`, `memory_working_set,${tags} value=${200 * MIB}i ${at}000000`);
    }
    chunks.push(lines.join('\n'));
  }
  return chunks.join('\n') + '\n';
}

function runChild(command, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main() {
  const { startInfluxDb, lineProtocolTag, testConfig, makeTempDir, startEmulator } = await helpers();
  const influx = await startInfluxDb();
  const temp = await makeTempDir('baton-bench-backtest-');
  const emulator = await startEmulator({ apps: [{ id: '/shop/web', instances: TASKS, cpus: 1, mem: 512, cmd: 'sleep 1000' }] });
  try {
    const to = Math.floor((Date.now() - DAY_MS) / DAY_MS) * DAY_MS;
    const from = to - DAYS * DAY_MS;
    const historyFrom = from - 2 * 7 * DAY_MS;
    say(`writing ${DAYS + 14} days × ${TASKS} tasks of minute samples into InfluxDB`);
    const writeStartedAt = performance.now();
    await influx.writePoints(monthOfData(lineProtocolTag, historyFrom, to), 'cadvisor');
    say(`written in ${((performance.now() - writeStartedAt) / 1000).toFixed(1)} s`);
    const stateFile = path.join(temp.dir, 'state.json');
    const configFile = path.join(temp.dir, 'autoscaler.json');
    await writeFile(configFile, JSON.stringify({ ...testConfig({ marathonUrl: emulator.url, influxUrl: influx.url, stateFile, intervalSeconds: 15 }), metrics: { taskIdTag: 'MESOS_TASK_ID', windowSeconds: 300, freshnessSeconds: 180 }, defaults: { tolerance: 0.1, scaleDownStabilizationSeconds: 300, warmupSeconds: 60 } }));
    const base = { appId: '/shop/web', minInstances: 2, maxInstances: 30, targetCpu: 0.6 };
    const variants = {
      reactive: base,
      'schedules + predictive': {
        ...base,
        schedules: [{ cron: '0 9 * * 1-5', durationMinutes: 480, minInstances: 8 }],
        predictive: { lookbackWeeks: 2, leadMinutes: 10, quantile: 0.9 },
      },
    };
    const results = [];
    for (const [name, policy] of Object.entries(variants)) {
      const policyFile = path.join(temp.dir, `${name.replace(/\W+/g, '-')}.json`);
      await writeFile(policyFile, JSON.stringify(policy));
      const runs = [];
      for (let run = 0; run < RUNS; run++) {
        const startedAt = performance.now();
        // Not spawnSync: the emulator answering the backtest runs in this process.
        const child = await runChild(
          process.execPath,
          [path.join(repoRoot, 'bin/baton-autoscaler'), 'backtest', '--config', configFile, '--app', '/shop/web', '--from', new Date(from).toISOString(), '--to', new Date(to).toISOString(), '--step', '15', '--policy', policyFile, '--json'],
        );
        const wallMs = performance.now() - startedAt;
        if (child.status !== 0) throw new Error(`backtest failed (${child.status}): ${child.stderr}`);
        const report = JSON.parse(child.stdout);
        runs.push({ wallMs, queryMs: report.timings.queryMs, replayMs: report.timings.replayMs, cycles: report.cycles, actions: report.actions.length });
      }
      const result = {
        variant: name,
        days: DAYS,
        tasks: TASKS,
        cycles: runs[0].cycles,
        scaleActions: runs[0].actions,
        wallSeconds: +(median(runs.map((r) => r.wallMs)) / 1000).toFixed(2),
        influxQuerySeconds: +(median(runs.map((r) => r.queryMs)) / 1000).toFixed(2),
        replaySeconds: +(median(runs.map((r) => r.replayMs)) / 1000).toFixed(2),
        runs: RUNS,
      };
      results.push(result);
      console.log(JSON.stringify(result));
    }
  } finally {
    await emulator.close();
    await influx.stop();
    await temp.remove();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
