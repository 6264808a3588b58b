#!/usr/bin/env node
// `npm run demo`: Baton's main job end to end on the embedded Marathon emulator (two datacenters), no network needed.
// Deploys the example app to qa, then to prod (--yes), shows what runs where, then deploys a crashing version that
// Baton detects and rolls back.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// As baton itself: colour only on a terminal that has it, never with NO_COLOR or into a pipe or file.
const boldOnStdout = !process.env.NO_COLOR && (process.env.FORCE_COLOR ? process.env.FORCE_COLOR !== '0' : Boolean(process.stdout.isTTY) && process.env.TERM !== 'dumb');

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { startEmulator } = await import(path.join(root, 'dist/src/emulator/index.js'));

const timings = { stagingMs: 400, healthyMs: 900, crashMs: 500, killMs: 150, backoffMs: 500 };
const emulators = [];
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-demo-'));
const configDir = path.join(work, 'deploy-configs');
fs.cpSync(path.join(root, 'deploy-configs'), configDir, { recursive: true });
const environments = JSON.parse(fs.readFileSync(path.join(configDir, 'environments.json'), 'utf8'));
// Every datacenter of every environment gets its own emulated Marathon, as in real life.
// The demo has no registry to ask whether registry.example.com/shop/web:<version> exists.
for (const [name, env] of Object.entries(environments.environments)) {
  env.imageCheck = false;
  for (const dc of Object.keys(env.datacenters)) {
    const emulator = await startEmulator({ timings });
    emulators.push({ name: `${name}/${dc}`, emulator });
    env.datacenters[dc] = { marathon: emulator.url };
  }
}
fs.writeFileSync(path.join(configDir, 'environments.json'), JSON.stringify(environments, null, 2));
const env = { ...process.env, BATON_CONFIG_DIR: configDir, BATON_AUDIT_LOG: path.join(work, 'audit.jsonl') };

function baton(args) {
  const command = `$ baton ${args.join(' ')}`;
  console.log(`\n${boldOnStdout ? `\u001b[1m${command}\u001b[0m` : command}`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'bin/baton'), ...args], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('close', (code) => resolve(code));
  });
}

const app = 'shop-web';
let ok = true;
try {
  for (const { name, emulator } of emulators) console.log(`Marathon emulator for ${name}: ${emulator.url}`);
  ok &&= (await baton(['deploy', app, '--env', 'qa', '--version', '1.4.2'])) === 0;
  ok &&= (await baton(['deploy', app, '--env', 'prod', '--version', '1.4.2', '--yes'])) === 0;
  ok &&= (await baton(['deploy', app, '--env', 'prod', '--version', '1.4.2', '--yes'])) === 0; // already there: a no-op
  if (fs.existsSync(path.join(root, 'dist/src/cli/commands/status.js'))) await baton(['status', app]);
  const failing = await baton(['deploy', app, '--env', 'qa', '--version', '1.5.0-crash', '--timeout', '60']);
  console.log(`\nThe crashing version exited with ${failing} (5 = failed and rolled back), as it should.`);
  ok &&= failing === 5;
  console.log(`\nAudit log (${path.join(work, 'audit.jsonl')}):`);
  console.log(fs.readFileSync(path.join(work, 'audit.jsonl'), 'utf8').trim());
} finally {
  for (const { emulator } of emulators) await emulator.close();
  fs.rmSync(work, { recursive: true, force: true });
}
console.log(ok ? '\nDemo finished as expected.' : '\nDemo did NOT behave as expected.');
process.exitCode = ok ? 0 : 1;
