#!/usr/bin/env node
// `npm run bench:zero-downtime`: what users see during a deploy. One emulator whose tasks are real processes (the test
// service, test/support/test-service.mjs), marathon-lb with a real HAProxy in front of it, and steady HTTP traffic
// through HAProxy while a 4-task app goes from 1.0.0 to a new version: Baton's rolling deploy, Baton's blue/green
// (when this CLI has `--strategy blue-green`), and marathon-lb's own zdd.py — each for a good version and for one
// that crashes after becoming healthy. Prints a table: requests sent and failed during the deploy, p99 latency, the
// time until the command was done (or had restored the old version), its exit code, and what serves afterwards.
// Figures go into docs/benchmarks.md. Needs `npm run build` first (bin/ runs dist/).
//
// Options (environment): BENCH_RATE (requests per second, default 200), BENCH_INSTANCES (4), BENCH_CASES (a comma list
// of rolling,blue-green,zdd; default all), BENCH_DEPLOY_TIMEOUT_SECONDS (a deploy still running after this is stopped
// and reported as not done; default 150), BENCH_STABLE_SECONDS (Baton's watch after healthy, and blue/green's watch of
// the candidate; default 8).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RATE = Number(process.env.BENCH_RATE ?? 200);
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 4);
const STRATEGIES = String(process.env.BENCH_CASES ?? 'rolling,blue-green,zdd').split(',').map((s) => s.trim());
const DEPLOY_TIMEOUT_MS = Number(process.env.BENCH_DEPLOY_TIMEOUT_SECONDS ?? 150) * 1000;
const STABLE_SECONDS = Number(process.env.BENCH_STABLE_SECONDS ?? 8);
const OLD = '1.0.0';
const VERSIONS = [
  { label: 'good', version: '2.0.0' },
  { label: 'crash after healthy', version: '2.0.0-crash-after-healthy' },
];
const batonBin = path.join(root, 'bin/baton');
const say = (message) => process.stderr.write(`[bench] ${message}\n`);

if (!existsSync(path.join(root, 'dist/src/emulator/index.js'))) {
  console.error('dist/ is missing: run `npm run build` first.');
  process.exit(2);
}

const work = await mkdtemp(path.join(os.tmpdir(), 'baton-bench-zdd-'));
const cleanups = [() => rm(work, { recursive: true, force: true })];
try {
  const harness = await loadHarness(['debian', 'free-port', 'supervised', 'marathon-lb', 'load', 'process-emulator']);
  const emulator = await harness.startProcessEmulator({}, path.join(root, 'test/support/test-service.mjs'));
  cleanups.unshift(() => emulator.close());
  const lb = await harness.startMarathonLb({ marathonUrl: emulator.url, marathonLbDir: harness.marathonLbDir(root) });
  cleanups.unshift(() => lb.stop());
  const blueGreen = await blueGreenAvailable();
  const configDir = path.join(work, 'deploy-configs');
  await mkdir(configDir);
  await writeFile(
    path.join(configDir, 'environments.json'),
    JSON.stringify({
      environments: {
        bench: { confirm: false, imageCheck: false, stableSeconds: STABLE_SECONDS, datacenters: { local: { marathon: emulator.url, ...(blueGreen ? { loadBalancer: 'http://127.0.0.1' } : {}) } } },
      },
    }),
  );
  // zdd.py cannot parse HAProxy 2.6's stats CSV as it is (see withoutModuleColumns): it reads it through this proxy.
  const zddStats = await harness.startLegacyStatsProxy(lb.statsUrl);
  cleanups.unshift(() => zddStats.close());
  const context = { harness, emulator, lb, zddStatsUrl: zddStats.url, configDir, env: { ...process.env, BATON_CONFIG_DIR: configDir, BATON_AUDIT_LOG: path.join(work, 'audit.jsonl'), BATON_USER: 'bench', CI: 'true', NO_COLOR: '1' } };

  const rows = [];
  for (const strategy of STRATEGIES) {
    for (const { label, version } of VERSIONS) {
      if (strategy === 'blue-green' && !blueGreen) {
        rows.push({ strategy, label, notAvailable: 'not available: this baton has no --strategy blue-green' });
        continue;
      }
      say(`${strategy}, ${label} (${OLD} → ${version})`);
      rows.push({ strategy, label, ...(await runCase(context, strategy, version)) });
    }
  }
  printTable(rows, await loadAverage());
} finally {
  for (const cleanup of cleanups) await cleanup().catch((error) => say(`cleanup: ${error.message}`));
}

/** The test harness is TypeScript with only node: imports: strip its types into a temp dir instead of duplicating it. */
async function loadHarness(modules) {
  const dir = path.join(work, 'harness');
  await mkdir(dir);
  for (const name of modules) {
    const source = await readFile(path.join(root, 'test/support', `${name}.ts`), 'utf8');
    const output = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    await writeFile(path.join(dir, `${name}.js`), output.replaceAll('../../src/', pathToFileURL(path.join(root, 'dist/src/')).href));
  }
  let all = {};
  for (const name of modules) all = { ...all, ...(await import(pathToFileURL(path.join(dir, `${name}.js`)).href)) };
  return all;
}

async function blueGreenAvailable() {
  const help = await runCommand(process.execPath, [batonBin, 'deploy', '--help'], { timeoutMs: 20_000 });
  return help.stdout.includes('--strategy') && help.stdout.includes('blue-green');
}

/** One deploy under load: the app starts at 1.0.0 (set up the same way, not measured), then goes to `version`. */
async function runCase(context, strategy, version) {
  const { harness, emulator, lb } = context;
  const name = `${strategy}-${version.includes('crash') ? 'crash' : 'good'}`;
  const servicePort = await harness.freePort();
  const altPort = await harness.freePort();
  const appId = `/bench/${name}`;
  const deploy = deployerFor(strategy, { context, name, appId, servicePort, altPort });
  const setup = await deploy(OLD);
  if (setup.code !== 0) throw new Error(`setting up ${appId} at ${OLD} failed (exit ${setup.code}):\n${setup.stdout}\n${setup.stderr}`);
  await lb.waitForBackends(servicePort, (servers) => servers.filter((s) => s.state === 'UP').length === INSTANCES, 60_000);

  const load = harness.startLoad({ url: lb.frontendUrl(servicePort), rate: RATE, expected: [harness.serviceAnswer(OLD), harness.serviceAnswer(version)] });
  const started = performance.now();
  const result = await deploy(version);
  const doneMs = performance.now() - started;
  if (result.code !== 0) say(`${name} exited ${result.timedOut ? 'killed' : result.code}; its last output:\n${(result.stdout + result.stderr).split('\n').slice(-12).join('\n')}`);
  const counts = await load.stop();
  const after = await servingNow(harness, lb, servicePort, [OLD, version]);
  const apps = await appsOf(emulator.url, appId);
  await Promise.all(apps.map((app) => fetch(`${emulator.url}/v2/apps${app.id}?force=true`, { method: 'DELETE' })));
  return { counts, doneMs, code: result.timedOut ? 'killed' : result.code, timedOut: result.timedOut, after, apps };
}

/** How the case deploys a version: Baton (rolling or blue/green) through its CLI, or zdd.py with an app JSON. */
function deployerFor(strategy, { context, name, appId, servicePort, altPort }) {
  const definition = (version) => ({
    id: appId,
    instances: INSTANCES,
    cpus: 0.1,
    mem: 64,
    container: {
      type: 'DOCKER',
      docker: { image: `registry.example.com/bench/web:${version}` },
      portMappings: [{ containerPort: 8080, hostPort: 0, servicePort, name: 'http' }],
    },
    networks: [{ mode: 'container/bridge' }],
    healthChecks: [{ protocol: 'MESOS_HTTP', path: '/', portIndex: 0, gracePeriodSeconds: 15, intervalSeconds: 1, timeoutSeconds: 1, maxConsecutiveFailures: 2 }],
    upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
    labels: {
      HAPROXY_GROUP: 'external',
      ...(strategy === 'rolling' ? {} : { HAPROXY_DEPLOYMENT_GROUP: `bench-${name}`, HAPROXY_DEPLOYMENT_ALT_PORT: String(altPort) }),
    },
  });
  if (strategy === 'zdd') {
    return async (version) => {
      const file = path.join(work, `${name}-${version}.json`);
      await writeFile(file, JSON.stringify(definition(version)));
      const zdd = path.join(context.harness.marathonLbDir(root), 'zdd.py');
      // --step-delay 1 (default 5): zdd polls HAProxy's stats once per step; 5 s would make it look slower than it is.
      return runCommand('/usr/bin/python3', [zdd, '--json', file, '--marathon', context.emulator.url, '--marathon-lb', context.zddStatsUrl, '--force', '--step-delay', '1', '--syslog-socket', '/dev/null', '--log-level', 'INFO'], {
        cwd: path.dirname(zdd),
        timeoutMs: DEPLOY_TIMEOUT_MS,
      });
    };
  }
  return async (version) => {
    const dir = path.join(context.configDir, name);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'bench-deploy.json'), JSON.stringify(definition('latest')));
    if (strategy === 'blue-green') {
      await writeFile(path.join(dir, 'baton.json'), JSON.stringify({ strategy: 'blue-green', blueGreen: { publicPort: servicePort, altPort, watchSeconds: STABLE_SECONDS } }));
    }
    const args = ['deploy', name, '--env', 'bench', '--version', version, ...(strategy === 'blue-green' ? ['--strategy', 'blue-green'] : [])];
    return runCommand(process.execPath, [batonBin, ...args], { env: context.env, timeoutMs: DEPLOY_TIMEOUT_MS });
  };
}

/** After the deploy: 100 requests through HAProxy, and what answered them. */
async function servingNow(harness, lb, servicePort, versions) {
  const probe = harness.startLoad({ url: lb.frontendUrl(servicePort), rate: 100, expected: versions.map((v) => harness.serviceAnswer(v)) });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return probe.stop();
}

async function appsOf(marathonUrl, appId) {
  const body = await (await fetch(`${marathonUrl}/v2/apps?embed=apps.tasks`)).json();
  return body.apps
    .filter((app) => app.id === appId || app.id.startsWith(`${appId}-`))
    .map((app) => ({ id: app.id, image: app.container?.docker?.image?.split(':').pop(), instances: app.instances, healthy: app.tasksHealthy, running: app.tasksRunning }));
}

function runCommand(bin, args, { env = process.env, cwd = root, timeoutMs }) {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

async function loadAverage() {
  return (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
}

function printTable(rows, load) {
  const lines = [
    `Zero-downtime deploys of a ${INSTANCES}-task app under ${RATE} req/s through marathon-lb + HAProxy (${new Date().toISOString().slice(0, 10)}, load average after the run ${load}):`,
    '',
    '| strategy | new version | sent | failed | p99 ms | done after | exit | serving afterwards |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    if (row.notAvailable) {
      lines.push(`| ${row.strategy} | ${row.label} | — | — | — | — | — | ${row.notAvailable} |`);
      continue;
    }
    const { counts, after } = row;
    const kinds = Object.entries(counts.failedBy).filter(([, n]) => n > 0).map(([kind, n]) => `${kind} ${n}`).join(', ');
    const serving = Object.entries(after.bodies).map(([body, n]) => `${body} ${n}%`).join(', ') || 'nothing';
    const failedAfter = after.failed > 0 ? `, ${after.failed}% failing` : '';
    const apps = row.apps.map((a) => `${a.id} ${a.image} ${a.healthy}/${a.instances}`).join('; ');
    lines.push(
      `| ${row.strategy} | ${row.label} | ${counts.sent} | ${counts.failed}${kinds ? ` (${kinds})` : ''} | ${counts.p99Ms} | ${(row.doneMs / 1000).toFixed(1)} s${row.timedOut ? ' (not done: stopped)' : ''} | ${row.code} | ${serving}${failedAfter}; ${apps} |`,
    );
  }
  console.log(lines.join('\n'));
}
