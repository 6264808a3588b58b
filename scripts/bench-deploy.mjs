#!/usr/bin/env node
// `npm run bench:deploy`: how fast Baton notices a finished deployment, how fast it starts, and what it adds to a deploy.
// Runs against the embedded Marathon emulator; prints medians and p95s. Figures go into the README.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { startEmulator } = await import(path.join(root, 'dist/src/emulator/index.js'));
const runs = Number(process.env.BENCH_RUNS ?? 15);
const bin = path.join(root, 'bin/baton');

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const fmt = (values) => `median ${quantile(values, 0.5).toFixed(0)} ms, p95 ${quantile(values, 0.95).toFixed(0)} ms (n=${values.length})`;

// 1. Start-up: `baton --help`, and bare Node for reference.
const startup = [];
const bareNode = [];
for (let i = 0; i < runs; i++) {
  let t = performance.now();
  spawnSync(process.execPath, [bin, '--help'], { stdio: 'ignore' });
  startup.push(performance.now() - t);
  t = performance.now();
  spawnSync(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  bareNode.push(performance.now() - t);
}

// 2. Deploys: time from the emulator emitting deployment_success to the CLI exiting, and Baton's overhead on top of the
// emulator's own task timings (total CLI wall time minus the deployment's own duration inside the emulator).
const timings = { stagingMs: 100, healthyMs: 200, crashMs: 100, killMs: 50, backoffMs: 100 };
const emulator = await startEmulator({ timings });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-bench-'));
const configDir = path.join(work, 'deploy-configs');
fs.mkdirSync(path.join(configDir, 'bench'), { recursive: true });
fs.writeFileSync(
  path.join(configDir, 'environments.json'),
  JSON.stringify({ environments: { qa: { confirm: false, imageCheck: false, datacenters: { AA: { marathon: emulator.url } } } } }),
);
fs.writeFileSync(
  path.join(configDir, 'bench', 'qa-deploy.json'),
  JSON.stringify({
    id: '/bench/web',
    instances: 3,
    cpus: 0.1,
    mem: 64,
    container: { type: 'DOCKER', docker: { image: 'registry.example.com/bench/web:0' }, portMappings: [{ containerPort: 80 }] },
    networks: [{ mode: 'container/bridge' }],
    healthChecks: [{ protocol: 'MESOS_HTTP', path: '/', portIndex: 0 }],
  }),
);
const env = { ...process.env, BATON_CONFIG_DIR: configDir, BATON_AUDIT_LOG: path.join(work, 'audit.jsonl'), CI: 'true', NO_COLOR: '1' };

/** Every event the emulator emitted: { emittedAt (epoch ms), eventType, data }. */
async function emittedEvents() {
  return (await (await fetch(`${emulator.url}/_emulator/events`)).json()).events;
}

const successToExit = [];
const overhead = [];
const total = [];
for (let i = 1; i <= runs; i++) {
  const began = Date.now();
  const exitAt = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'deploy', 'bench', '--env', 'qa', '--version', `1.0.${i}`, '--json'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      const at = Date.now();
      if (code !== 0) reject(new Error(`deploy exited ${code}: ${out}`));
      else resolve({ at, doc: JSON.parse(out) });
    });
  });
  const deploymentId = exitAt.doc.datacenters[0].deploymentId;
  const events = await emittedEvents();
  const ofDeployment = (type) => events.find((e) => e.eventType === type && (e.data.id === deploymentId || e.data.plan?.id === deploymentId));
  const success = ofDeployment('deployment_success');
  const posted = ofDeployment('deployment_info');
  if (!success) throw new Error(`no deployment_success for ${deploymentId} in the emulator's event log`);
  const successAt = success.emittedAt;
  const postedAt = posted ? posted.emittedAt : began;
  successToExit.push(exitAt.at - successAt);
  total.push(exitAt.at - began);
  overhead.push(exitAt.at - began - (successAt - postedAt));
}
await emulator.close();
fs.rmSync(work, { recursive: true, force: true });

console.log(`baton --help start-up:                 ${fmt(startup)}`);
console.log(`bare node -e 0 (reference):            ${fmt(bareNode)}`);
console.log(`deployment_success → CLI exit:         ${fmt(successToExit)}`);
console.log(`deploy wall time (3 tasks, emulated):  ${fmt(total)}`);
console.log(`Baton overhead beyond emulated tasks:  ${fmt(overhead)}`);
