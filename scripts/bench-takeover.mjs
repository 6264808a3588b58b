#!/usr/bin/env node
// Takeover time of baton-autoscaler with leader election (npm run bench:takeover): a real ZooKeeper and InfluxDB, the
// Marathon emulator with one registered app, two daemons as child processes. Each run kills the leader with SIGKILL
// (no clean session close: ZooKeeper must expire its session) and measures, from the kill, when the follower says it
// leads and when it finishes its first cycle as leader; then a fresh daemon joins as the next follower.
//
// Options (environment): BENCH_RUNS (5), BENCH_SESSION_TIMEOUT_MS (3000), BENCH_INTERVAL_SECONDS (2), BENCH_SIGNAL
// (KILL, or TERM: a clean stop, which closes the session).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SESSION_TIMEOUT_MS = Number(process.env.BENCH_SESSION_TIMEOUT_MS ?? 3000);
const INTERVAL_SECONDS = Number(process.env.BENCH_INTERVAL_SECONDS ?? 2);
const SIGNAL = process.env.BENCH_SIGNAL === 'TERM' ? 'TERM' : 'KILL';
const say = (message) => process.stderr.write(`[bench] ${message}\n`);

async function helpers() {
  say('compiling the daemon, the emulator and the test helpers');
  const out = path.join(repoRoot, 'node_modules', '.cache', 'bench-takeover');
  await rm(out, { recursive: true, force: true });
  const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc');
  spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--outDir', out, '--noEmit', 'false', '--sourceMap', 'false'], { cwd: repoRoot, stdio: 'ignore' });
  spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: repoRoot, stdio: 'ignore' });
  const modules = ['test/support/influxdb.js', 'test/support/zookeeper.js', 'test/support/autoscaler.js', 'src/emulator/index.js'];
  const loaded = {};
  for (const file of modules) {
    if (!existsSync(path.join(out, file))) throw new Error(`compilation did not produce ${file}`);
    Object.assign(loaded, await import(pathToFileURL(path.join(out, file)).href));
  }
  return loaded;
}

async function main() {
  const { startInfluxDb, cadvisorLines, startZooKeeper, startDaemon, testConfig, makeTempDir, waitFor, startEmulator } = await helpers();
  const [influx, zk] = await Promise.all([startInfluxDb(), startZooKeeper()]);
  const temp = await makeTempDir('baton-bench-takeover-');
  const emulator = await startEmulator({ apps: [{ id: '/shop/web', instances: 2, cpus: 1, mem: 256, cmd: 'sleep 1000' }] });
  const daemons = [];
  let started = 0;
  const start = async () => {
    const index = started++;
    const config = testConfig({ marathonUrl: emulator.url, influxUrl: influx.url, stateFile: path.join(temp.dir, `unused-${index}.json`), intervalSeconds: INTERVAL_SECONDS });
    const daemon = await startDaemon(
      {
        ...config,
        influx: { url: influx.url, database: 'cadvisor' },
        zookeeper: { connect: zk.connect, path: '/baton-bench', sessionTimeoutMs: SESSION_TIMEOUT_MS },
        health: { maxCycleAgeSeconds: 60 },
      },
      { dir: temp.dir, name: `daemon-${index}`, bin: path.join(repoRoot, 'bin/baton-autoscaler') },
    );
    daemons.push(daemon);
    return daemon;
  };
  const role = async (daemon) => (await daemon.request('GET', '/readyz')).body?.role;
  const results = [];
  try {
    await start();
    await start();
    let leader = await waitFor('a leader', async () => {
      for (const daemon of daemons) if ((await role(daemon)) === 'leader') return daemon;
      return undefined;
    }, 60_000);
    const register = await leader.request('POST', '/apps', { body: { appId: '/shop/web', minInstances: 2, maxInstances: 2, targetCpu: 0.5 } });
    if (register.status !== 201) throw new Error(`registration failed: ${register.text}`);
    for (let run = 1; run <= RUNS; run++) {
      // Fresh usage for every run, so each cycle reads InfluxDB as a real one does.
      const tasks = (await (await fetch(`${emulator.url}/v2/apps/shop/web?embed=app.tasks`)).json()).app.tasks ?? [];
      const now = Date.now();
      const lines = tasks
        .map((task, i) => cadvisorLines({ taskId: task.id, containerName: `c-${i}`, machine: 'm', cpuCoresUsed: 0.5, memoryBytes: 1 << 26, from: now - 50_000, to: now, stepSeconds: 5 }))
        .join('');
      await influx.writePoints(lines, 'cadvisor');
      const follower = daemons.find((d) => d !== leader && d.child.exitCode === null && d.child.signalCode === null);
      await waitFor('the follower follows', async () => (await role(follower)) === 'follower', 60_000);
      // Mid-interval, as a crash comes at any time.
      await new Promise((resolve) => setTimeout(resolve, (INTERVAL_SECONDS * 1000) / 2));
      const killedAt = Date.now();
      await (SIGNAL === 'TERM' ? leader.stop() : leader.kill());
      const leadingAt = await waitFor('the follower leads', () => {
        const line = follower.logs().find((l) => l.msg === 'leading: this instance scales');
        return line ? Date.parse(line.time) : undefined;
      }, 120_000, 20);
      const firstCycleAt = await waitFor('its first cycle', () => {
        const line = follower.logs().find((l) => l.msg === 'cycle' && Date.parse(l.time) >= leadingAt);
        return line ? Date.parse(line.time) : undefined;
      }, 120_000, 20);
      const result = { run, electedMs: leadingAt - killedAt, firstCycleMs: firstCycleAt - killedAt };
      say(`run ${run}: leading after ${result.electedMs} ms, first cycle done after ${result.firstCycleMs} ms`);
      results.push(result);
      leader = follower;
      await start();
    }
  } finally {
    for (const daemon of daemons) await daemon.kill().catch(() => undefined);
    await emulator.close();
    await Promise.all([influx.stop(), zk.stop()]);
    await temp.remove();
  }
  const stats = (values) => {
    const sorted = [...values].sort((a, b) => a - b);
    return { median: sorted[Math.floor((sorted.length - 1) / 2)], max: sorted[sorted.length - 1] };
  };
  const elected = stats(results.map((r) => r.electedMs));
  const cycled = stats(results.map((r) => r.firstCycleMs));
  const bound = SESSION_TIMEOUT_MS + INTERVAL_SECONDS * 1000;
  process.stdout.write(
    `takeover after SIG${SIGNAL} to the leader, ${RUNS} runs, session timeout ${SESSION_TIMEOUT_MS} ms, interval ${INTERVAL_SECONDS} s ` +
      `(bound: ${bound} ms)\n` +
      `  new leader elected:        median ${elected.median} ms, max ${elected.max} ms\n` +
      `  its first cycle finished:  median ${cycled.median} ms, max ${cycled.max} ms\n` +
      `  load average: ${(await import('node:os')).default.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`,
  );
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exitCode = 1;
});
