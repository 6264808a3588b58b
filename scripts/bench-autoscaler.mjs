#!/usr/bin/env node
// Benchmark of baton-autoscaler (npm run bench:autoscaler): a real InfluxDB seeded with cAdvisor-shaped data for
// 1,000 apps x 5 tasks over the metrics window, the Marathon emulator with the same apps, and the daemon as a child
// process. Counting proxies in front of both servers give the requests per cycle; /proc gives the daemon's CPU and RSS.
//
// Options (environment): BENCH_APPS (a comma list of sizes measured one after the other in this run, default
// 1000,5000,10000), BENCH_TASKS (5), BENCH_CYCLES (10), BENCH_INTERVAL_SECONDS (by default 0.8 s per 1,000 apps, at least 2).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SIZES = String(process.env.BENCH_APPS ?? '1000,5000,10000').split(',').map((size) => Number(size.trim()));
const TASKS = Number(process.env.BENCH_TASKS ?? 5);
const CYCLES = Number(process.env.BENCH_CYCLES ?? 10);
const intervalFor = (apps) => Number(process.env.BENCH_INTERVAL_SECONDS ?? Math.max(2, Math.ceil(apps / 1000) * 0.8));
const WINDOW_SECONDS = 300;
const STEP_SECONDS = 10;
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim() || 100);

const say = (message) => process.stderr.write(`[bench] ${message}\n`);

async function main() {
  const helpers = await compile();
  const results = [];
  for (const apps of SIZES) {
    const result = await runSize(helpers, apps, intervalFor(apps));
    printReport(result);
    results.push(result);
  }
  if (results.length > 1) printSideBySide(results);
}

async function compile() {
    say('compiling the daemon, the emulator and the test helpers');
    // Inside the checkout, so that the compiled files resolve the packages in node_modules.
    const build = path.join(repoRoot, 'node_modules', '.cache', 'bench-autoscaler');
    await rm(build, { recursive: true, force: true });
    // The whole project (test helpers included) compiled once to a temp dir; the daemon itself runs from bin/ (dist/).
    spawnSync(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--outDir', build, '--noEmit', 'false', '--sourceMap', 'false'], {
      cwd: repoRoot,
      stdio: 'ignore',
    });
    spawnSync(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: repoRoot, stdio: 'ignore' });
    for (const file of ['test/support/influxdb.js', 'test/support/autoscaler.js', 'src/emulator/index.js']) {
      if (!existsSync(path.join(build, file))) throw new Error(`compilation did not produce ${file}`);
    }
    const load = (file) => import(pathToFileURL(path.join(build, file)).href);
    return {
      ...(await load('test/support/influxdb.js')),
      ...(await load('test/support/autoscaler.js')),
      ...(await load('src/emulator/index.js')),
    };
}

async function runSize(helpers, APPS, INTERVAL_SECONDS) {
  const { startInfluxDb, cadvisorLines, startSwitchableProxy, startDaemon, waitFor, startEmulator } = helpers;
  const work = await mkdtemp(path.join(os.tmpdir(), 'baton-bench-autoscaler-'));
  const cleanups = [() => rm(work, { recursive: true, force: true })];
  try {

    say(`starting the emulator with ${APPS} apps x ${TASKS} tasks`);
    const apps = [];
    for (let i = 0; i < APPS; i++) {
      const id = `/bench/team-${String(i % 20).padStart(2, '0')}/app-${String(i).padStart(4, '0')}`;
      const labelled = i % 2 === 1;
      apps.push({
        id,
        instances: TASKS,
        cpus: 1,
        mem: 256,
        cmd: 'sleep 1000',
        ...(labelled ? { labels: { AUTOSCALE_MIN: '1', AUTOSCALE_MAX: '20', AUTOSCALE_TARGET_CPU: '0.5', AUTOSCALE_TARGET_MEMORY: '0.8' } } : {}),
      });
    }
    const emulator = await startEmulator({ apps, timings: { stagingMs: 10, healthyMs: 10, killMs: 10, crashMs: 50, backoffMs: 50 } });
    cleanups.push(() => emulator.close());
    const listed = await waitFor(
      'every task running',
      async () => {
        const body = await (await fetch(`${emulator.url}/v2/apps?embed=apps.tasks`)).json();
        const running = body.apps.reduce((n, a) => n + (a.tasks ?? []).filter((t) => t.state === 'TASK_RUNNING').length, 0);
        return running === APPS * TASKS ? body.apps : undefined;
      },
      120_000 + APPS * 30,
      500,
    );

    say('starting InfluxDB and seeding cAdvisor-shaped data');
    const influx = await startInfluxDb();
    cleanups.push(() => influx.stop());
    const now = Date.now();
    const seedStarted = Date.now();
    let points = 0;
    let batch = [];
    for (const [index, app] of listed.entries()) {
      // Most apps sit at their target; every tenth is busy (scales out), every tenth idle (a scale-in candidate).
      const cores = index % 10 === 0 ? 0.9 : index % 10 === 5 ? 0.1 : 0.5;
      for (const [taskIndex, task] of app.tasks.entries()) {
        batch.push(
          cadvisorLines({
            taskId: task.id,
            containerName: `mesos-${index}-${taskIndex}`,
            machine: `agent-${taskIndex % 50}`,
            cpuCoresUsed: cores * (0.9 + 0.2 * ((taskIndex * 7) % 5) / 4),
            memoryBytes: 150 * 1024 * 1024,
            from: now - WINDOW_SECONDS * 1000,
            to: now,
            stepSeconds: STEP_SECONDS,
          }),
        );
        points += 2 * (WINDOW_SECONDS / STEP_SECONDS + 1);
      }
      if (batch.length >= 500) {
        await influx.writePoints(batch.join(''), 'cadvisor');
        batch = [];
      }
    }
    if (batch.length) await influx.writePoints(batch.join(''), 'cadvisor');
    say(`seeded ${points} points in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`);
    // After a bulk load InfluxDB may still be snapshotting its cache or compacting, which would slow the first cycles'
    // queries (in a hand-run test at 10,000 apps the same query took 4.4 s right after the load and 1.8 s a minute
    // later): the cycles are measured once influxd has used < 5 % of a core for 2 s (at most 180 s of waiting).
    const settled = await influxSettled(180_000);
    say(`influxd settled after ${(settled / 1000).toFixed(0)} s`);

    const marathonProxy = await startSwitchableProxy(emulator.url);
    const influxProxy = await startSwitchableProxy(influx.url);
    cleanups.push(() => marathonProxy.close(), () => influxProxy.close());

    // Half the apps registered over REST (as the state file the daemon loads), half by labels.
    const stateFile = path.join(work, 'state.json');
    const registrations = apps
      .filter((_, i) => i % 2 === 0)
      .map((a) => ({ appId: a.id, minInstances: 1, maxInstances: 20, targetCpu: 0.5, dryRun: false, schedules: [] }));
    await writeFile(stateFile, JSON.stringify({ version: 1, registrations }));

    const config = {
      marathon: { url: marathonProxy.url, timeoutSeconds: 10 },
      // A query that times out holds the cycle and measures nothing: at 10,000 apps InfluxDB alone takes ≈ 5 s idle,
      // more than the default 10 s under load. BENCH_INFLUX_TIMEOUT_SECONDS sets it (default 30).
      influx: { url: influxProxy.url, database: 'cadvisor', timeoutSeconds: Number(process.env.BENCH_INFLUX_TIMEOUT_SECONDS ?? 30) },
      listen: { host: '127.0.0.1', port: 0 },
      stateFile,
      intervalSeconds: INTERVAL_SECONDS,
      metrics: { taskIdTag: 'MESOS_TASK_ID', windowSeconds: WINDOW_SECONDS, freshnessSeconds: WINDOW_SECONDS },
      defaults: { tolerance: 0.1, scaleDownStabilizationSeconds: 300, warmupSeconds: 0 },
    };
    say(`starting baton-autoscaler (interval ${INTERVAL_SECONDS} s), measuring ${CYCLES} cycles after one warm-up cycle`);
    // BENCH_CPU_PROF=<dir> writes a V8 CPU profile of the daemon there (open it in Chrome DevTools).
    // The daemon runs with the NODE_OPTIONS its production deploy config sets (as deployed); BENCH_NODE_ARGS replaces
    // them, e.g. BENCH_NODE_ARGS="" for plain node or BENCH_NODE_ARGS="--max-semi-space-size=8" to try V8 flags.
    const daemonNodeArgs = process.env.BENCH_NODE_ARGS ?? (await deployedNodeOptions());
    const nodeArgs = [
      ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_CPU_PROF)}`] : []),
      ...daemonNodeArgs.split(/\s+/).filter(Boolean),
      ...(process.env.BENCH_HEAP_SNAPSHOT ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${path.resolve(process.env.BENCH_HEAP_SNAPSHOT)}`] : []),
    ];
    for (const dir of [process.env.BENCH_CPU_PROF, process.env.BENCH_HEAP_SNAPSHOT]) if (dir) await mkdir(path.resolve(dir), { recursive: true });
    const daemon = await startDaemon(config, { dir: work, name: 'bench', bin: path.join(repoRoot, 'bin/baton-autoscaler'), nodeArgs });
    cleanups.push(() => daemon.stop());
    const pid = daemon.child.pid;
    const cycleLines = () => daemon.logs().filter((l) => l.msg === 'cycle');

    await waitFor('the warm-up cycle', () => cycleLines().length >= 1, 60_000, 20);
    const cpuBefore = await cpuTicks(pid);
    const requestsBefore = counts(marathonProxy, influxProxy);
    await waitFor(`${CYCLES} cycles`, () => cycleLines().length >= CYCLES + 1, (CYCLES + 5) * INTERVAL_SECONDS * 1000 + 60_000, 20);
    const cpuAfter = await cpuTicks(pid);
    const requestsAfter = counts(marathonProxy, influxProxy);
    const promText = await (await fetch(`${daemon.url}/metrics`)).text();
    const gauge = (name) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(promText)?.[1] ?? NaN);
    const heap = {
      usedMb: Math.round(gauge('baton_autoscaler_nodejs_heap_size_used_bytes') / 1048576),
      totalMb: Math.round(gauge('baton_autoscaler_nodejs_heap_size_total_bytes') / 1048576),
      externalMb: Math.round(gauge('baton_autoscaler_nodejs_external_memory_bytes') / 1048576),
    };
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    const peakKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    const influxRss = await influxRssMb();

    if (process.env.BENCH_HEAP_SNAPSHOT) {
      // BENCH_HEAP_SNAPSHOT=<dir>: a heap snapshot of the daemon after the measured cycles (written into <dir>).
      daemon.child.kill('SIGUSR2');
      await new Promise((resolve) => setTimeout(resolve, 15_000));
    }
    await daemon.stop();
    say('measuring the floor: the same two requests and their parsing alone, in a fresh process');
    // A floor that cannot be measured (InfluxDB's query timing out on a loaded machine) must not lose the run's figures.
    const floor = await measureFloor(marathonProxy.url, influxProxy.url, WINDOW_SECONDS).catch((error) => {
      say(`the floor could not be measured: ${error?.message ?? error}`);
      return { marathonList: NaN, fetchUsage: NaN };
    });

    const measured = cycleLines().slice(1, CYCLES + 1);
    const durations = measured.map((l) => l.durationMs).sort((a, b) => a - b);
    const firstCycle = cycleLines()[0];
    const overlaps = daemon.logs().filter((l) => l.msg === 'tick skipped: the previous cycle is still running').length;
    const result = {
      apps: APPS,
      tasks: APPS * TASKS,
      managedApps: firstCycle.apps,
      cycles: measured.length,
      marathonListRequestsPerCycle: (requestsAfter.marathonList - requestsBefore.marathonList) / measured.length,
      marathonScaleRequests: requestsAfter.marathonPut - requestsBefore.marathonPut,
      influxRequestsPerCycle: (requestsAfter.influx - requestsBefore.influx) / measured.length,
      cycleWallMs: { p50: percentile(durations, 0.5), p95: percentile(durations, 0.95), max: durations[durations.length - 1] },
      phaseP50Ms: Object.fromEntries(
        ['marathonList', 'influxQuery', 'decide', 'scale'].map((phase) => [
          phase,
          percentile(measured.map((l) => l.phasesMs?.[phase] ?? 0).sort((a, b) => a - b), 0.5),
        ]),
      ),
      firstCycle: { durationMs: firstCycle.durationMs, scaled: firstCycle.scaled },
      cpuMsPerCycle: Math.round(((cpuAfter - cpuBefore) / CLOCK_TICKS) * 1000 / measured.length),
      cpuMsInCycleP50: percentile(measured.map((l) => l.cpuMs ?? 0).sort((a, b) => a - b), 0.5),
      rssMb: Math.round(rssKb / 1024),
      peakRssMb: Math.round(peakKb / 1024),
      heap,
      overlappingTicksSkipped: overlaps,
      floorCpuMsPerCycle: floor,
      intervalSeconds: INTERVAL_SECONDS,
      influxRssMb: influxRss,
      influxSettleWaitSeconds: Math.round(settled / 1000),
      machine: { cpus: os.cpus().length, node: process.version },
      daemonNodeArgs,
    };
    return result;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  }
}

/** CPU per iteration of MarathonClient.visitApps (apps dropped) and InfluxMetricsSource.fetchUsage alone, in a child process. */
function measureFloor(marathonUrl, influxUrl, windowSeconds) {
  const script = `
    const { MarathonClient } = await import(${JSON.stringify(pathToFileURL(path.join(repoRoot, 'dist/src/marathon/client.js')).href)});
    const { InfluxMetricsSource } = await import(${JSON.stringify(pathToFileURL(path.join(repoRoot, 'dist/autoscaler/metrics/index.js')).href)});
    const marathon = new MarathonClient({ url: ${JSON.stringify(marathonUrl)} });
    const influx = new InfluxMetricsSource({ url: ${JSON.stringify(influxUrl)}, database: 'cadvisor', requestTimeoutMs: 60000 });
    const options = { taskIdTag: 'MESOS_TASK_ID', windowSeconds: ${windowSeconds} };
    const drop = () => undefined;
    await marathon.visitApps(['apps.tasks', 'apps.deployments'], drop);
    await influx.fetchUsage(options);
    let list = 0, usage = 0;
    const n = 5;
    for (let i = 0; i < n; i++) {
      let c = process.cpuUsage();
      await marathon.visitApps(['apps.tasks', 'apps.deployments'], drop);
      c = process.cpuUsage(c); list += (c.user + c.system) / 1000;
      c = process.cpuUsage();
      await influx.fetchUsage(options);
      c = process.cpuUsage(c); usage += (c.user + c.system) / 1000;
    }
    process.stdout.write(JSON.stringify({ marathonList: Math.round(list / n), fetchUsage: Math.round(usage / n) }));
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`floor measurement exited with ${code}`))));
  });
}

/** NODE_OPTIONS of the daemon's production app definition (deploy-configs/baton-autoscaler/prod-deploy.json). */
async function deployedNodeOptions() {
  const file = path.join(repoRoot, 'deploy-configs/baton-autoscaler/prod-deploy.json');
  const options = JSON.parse(await readFile(file, 'utf8')).env?.NODE_OPTIONS;
  return typeof options === 'string' ? options : '';
}

function counts(marathonProxy, influxProxy) {
  return {
    marathonList: marathonProxy.requests.filter((r) => r.method === 'GET' && r.path === '/v2/apps').length,
    marathonPut: marathonProxy.requests.filter((r) => r.method === 'PUT').length,
    influx: influxProxy.requests.filter((r) => r.path === '/query').length,
  };
}

async function cpuTicks(pid) {
  // /proc/<pid>/stat: fields 14 and 15 are utime and stime in clock ticks (the command name may hold spaces).
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** Waits until the newest influxd used < 5 % of a core over 2 s; returns how long that took (ms). */
async function influxSettled(limitMs) {
  const started = Date.now();
  const pid = spawnSync('sh', ['-c', 'pgrep -n -x influxd || true']).stdout?.toString().trim();
  if (!pid) return 0;
  let before = await cpuTicks(pid).catch(() => NaN);
  while (Date.now() - started < limitMs) {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const now = await cpuTicks(pid).catch(() => NaN);
    if (!(now - before > 0.1 * CLOCK_TICKS)) break;
    before = now;
  }
  return Date.now() - started;
}

/** RSS of the benchmark's influxd (the newest one this process started), in MB; NaN if it cannot be read. */
async function influxRssMb() {
  const found = spawnSync('sh', ['-c', 'pgrep -n -x influxd || true']).stdout?.toString().trim();
  if (!found) return NaN;
  const status = await readFile(`/proc/${found}/status`, 'utf8').catch(() => '');
  return Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024);
}

function printSideBySide(results) {
  const row = (label, value) => `  ${label.padEnd(36)}${results.map((r) => String(value(r)).padStart(16)).join('')}`;
  const lines = [
    `side by side (${results[0].tasks / results[0].apps} tasks per app, ${results[0].cycles} cycles each)`,
    row('apps', (r) => r.apps),
    row('interval (s)', (r) => r.intervalSeconds),
    row('cycle wall p50 / p95 (ms)', (r) => `${r.cycleWallMs.p50} / ${r.cycleWallMs.p95}`),
    row('  InfluxDB / Marathon / decide p50', (r) => `${r.phaseP50Ms.influxQuery}/${r.phaseP50Ms.marathonList}/${r.phaseP50Ms.decide}`),
    row('daemon CPU per cycle (ms)', (r) => r.cpuMsPerCycle),
    row('daemon RSS now / peak (MB)', (r) => `${r.rssMb} / ${r.peakRssMb}`),
    row('influxd peak RSS (MB)', (r) => r.influxRssMb),
    row('requests per cycle (Marathon/Influx)', (r) => `${r.marathonListRequestsPerCycle}/${r.influxRequestsPerCycle}`),
    row('overlapping ticks skipped', (r) => r.overlappingTicksSkipped),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

function printReport(r) {
  const verdict = (ok) => (ok ? 'ok' : 'MISSED');
  const lines = [
    `baton-autoscaler benchmark: ${r.apps} apps x ${r.tasks / r.apps} tasks (${r.managedApps} managed), ${r.cycles} cycles, ${r.machine.cpus} CPUs, Node ${r.machine.node}`,
    `  daemon node options: ${r.daemonNodeArgs || '(none)'}`,
    `  Marathon list requests per cycle  ${r.marathonListRequestsPerCycle}   (target 1)  ${verdict(r.marathonListRequestsPerCycle === 1)}`,
    `  InfluxDB requests per cycle       ${r.influxRequestsPerCycle}   (target 1)  ${verdict(r.influxRequestsPerCycle === 1)}`,
    `  cycle wall time p50 / p95 / max   ${r.cycleWallMs.p50} / ${r.cycleWallMs.p95} / ${r.cycleWallMs.max} ms   (target p50 < 1500 ms)  ${verdict(r.cycleWallMs.p50 < 1500)}`,
    `    phases p50: Marathon list ${r.phaseP50Ms.marathonList} ms, InfluxDB query ${r.phaseP50Ms.influxQuery} ms, decisions ${r.phaseP50Ms.decide} ms, scaling ${r.phaseP50Ms.scale} ms`,
    `  own CPU time per cycle            ${r.cpuMsPerCycle} ms   (target < 150 ms)  ${verdict(r.cpuMsPerCycle < 150)}`,
    `    while a cycle runs (p50)        ${r.cpuMsInCycleP50} ms; the rest is between cycles (GC, timers)`,
    `    of which the floor (Marathon list + InfluxDB query, HTTP and JSON, nothing else): ${r.floorCpuMsPerCycle.marathonList} + ${r.floorCpuMsPerCycle.fetchUsage} ms`,
    `  RSS now / peak                    ${r.rssMb} / ${r.peakRssMb} MB   (target < 150 MB)  ${verdict(r.peakRssMb < 150)}`,
    `    V8 heap used / total ${r.heap.usedMb} / ${r.heap.totalMb} MB, external ${r.heap.externalMb} MB`,
    `  first cycle                       ${r.firstCycle.durationMs} ms, ${r.firstCycle.scaled} apps scaled; later scale requests: ${r.marathonScaleRequests}`,
    `  overlapping ticks skipped         ${r.overlappingTicksSkipped}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  process.stdout.write(JSON.stringify(r) + '\n');
}

main().catch((error) => {
  process.stderr.write(`bench-autoscaler failed: ${error?.stack ?? error}\n`);
  process.exit(1);
});
