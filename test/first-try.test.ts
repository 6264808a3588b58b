import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, batonBin, repoRoot, runBaton } from './support/cli.js';
import { startEmulator } from '../src/emulator/index.js';
import { makeDeployFixture, webApp } from './support/deploy-fixture.js';

// What a new user meets first: the shipped `local` environment on `baton emulator --port 8080`, and the two errors that
// stopped a first try (registry unreachable, credential variable unset) saying what to do next.

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer().once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

describe('trying baton by hand', () => {
  let emulator: ChildProcess | undefined;
  let configDir = path.join(repoRoot, 'deploy-configs');
  let work: string;

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-first-try-'));
    // The README's port; when this machine already uses it, the shipped configs are copied with another one.
    let port = 8080;
    if (!(await portIsFree(port))) {
      port = 18080 + Math.floor(Math.random() * 1000);
      configDir = path.join(work, 'deploy-configs');
      fs.cpSync(path.join(repoRoot, 'deploy-configs'), configDir, { recursive: true });
      const file = path.join(configDir, 'environments.json');
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('http://127.0.0.1:8080', `http://127.0.0.1:${port}`));
    }
    emulator = spawn(process.execPath, [batonBin, 'emulator', '--port', String(port), '--healthy-ms', '100', '--staging-ms', '50'], {
      env: baseEnv() as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve) => emulator!.stdout!.once('data', () => resolve()));
  });
  afterAll(() => {
    emulator?.kill('SIGTERM');
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('the shipped local environment deploys shop-web to `baton emulator --port 8080`, with no credentials or registry', async () => {
    const env = { BATON_CONFIG_DIR: configDir, BATON_AUDIT_LOG: path.join(work, 'audit.jsonl') };
    const result = await runBaton(['deploy', 'shop-web', '--env', 'local', '--version', '1.0.0'], { env });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('LOCAL  succeeded            1.0.0 runs healthy');
    const status = await runBaton(['status', 'shop-web', '--env', 'local'], { env });
    expect(status.stdout).toMatch(/shop-web\s+local\s+LOCAL\s+1\.0\.0\s+2\/2\/2\s+healthy/);
  });
});

describe('the errors of a first try say what to do next', () => {
  it('a registry this machine cannot reach: names --no-image-check and the local environment (exit 13)', async () => {
    const marathon = await startEmulator();
    const f = makeDeployFixture({ qa: { imageCheck: true, datacenters: { AA: { url: marathon.url } } } });
    try {
      f.writeApp('web', { 'qa-deploy.json': webApp('/first/web', { container: { type: 'DOCKER', docker: { image: '127.0.0.1:9/shop/web:latest' } } }) });
      const result = await runBaton(['deploy', 'web', '--env', 'qa', '--version', '1.0.0'], { env: f.env });
      expect(result.code).toBe(13);
      expect(result.stderr).toContain('--no-image-check (or "imageCheck": false in environments.json)');
      expect(result.stderr).toContain('`baton emulator --port 8080 &`, then `baton deploy <app> --env local --version 1.0.0`');
    } finally {
      f.cleanup();
      await marathon.close();
    }
  });

  it('an unset credential variable: says which to export, in which form (exit 2)', async () => {
    const result = await runBaton(['deploy', 'shop-web', '--env', 'qa', '--version', '1.4.2', '--no-image-check'], {
      env: { BATON_MARATHON_QA_AA: '', BATON_AUDIT_LOG: path.join(os.tmpdir(), `baton-first-try-${process.pid}.jsonl`) },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('environment variable BATON_MARATHON_QA_AA (user:password for HTTP Basic, named by credentialsEnv) is not set: export BATON_MARATHON_QA_AA=<user>:<password> first');
  });
});
