// What a user does with the package: `npm pack` (from a copy of this checkout, so the pack's own build is what ships),
// `npm install -g --prefix <tmp> <tarball> --omit=dev`, then the installed `baton` and `baton-autoscaler` run from
// another directory. npm install can take a while on a busy machine: the hook timeout only keeps a hang from blocking CI.
import { cp, mkdir, mkdtemp, readdir, readFile, realpath, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.js';
import { startDaemon, testConfig, waitFor, type DaemonProcess } from './support/autoscaler.js';
import { repoRoot, runProcess, type CliResult } from './support/cli.js';

const INSTALL_TIMEOUT_MS = 600_000;

let work: string;
let tarball: string;
let tarballFiles: string[];
let prefix: string;
let installedRoot: string;

/** What differs from a user's shell: nothing `npm test` passes down to its children (npm_config_*, npm_lifecycle_*). */
function userEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const key of Object.keys(process.env)) if (/^npm_/i.test(key)) env[key] = undefined;
  // The bins start with `#!/usr/bin/env node`: the node running these tests comes first on PATH.
  env.PATH = [path.dirname(process.execPath), process.env.PATH].filter(Boolean).join(path.delimiter);
  return env;
}

const run = (command: string, args: string[], options: { cwd: string; timeoutMs?: number }): Promise<CliResult> =>
  runProcess(command, args, { ...options, env: userEnv(), direct: true });

async function runOk(command: string, args: string[], options: { cwd: string; timeoutMs?: number }): Promise<CliResult> {
  const result = await run(command, args, options);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.code ?? result.signal}:\n${result.stderr}\n${result.stdout}`);
  return result;
}

const packageVersion = async () => (JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

const installedBin = (name: string) => path.join(prefix, 'bin', name);

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'baton-package-test-'));
  // A checkout without dist/: `npm pack` must build it (the `prepare` script) before packing.
  const checkout = path.join(work, 'checkout');
  const skip = new Set(['node_modules', 'dist', '.git', '.baton-tmp']);
  await cp(repoRoot, checkout, {
    recursive: true,
    filter: (source) => {
      const relative = path.relative(repoRoot, source);
      return relative === '' || (!skip.has(relative.split(path.sep)[0]!) && !relative.endsWith('.tgz'));
    },
  });
  await symlink(await realpath(path.join(repoRoot, 'node_modules')), path.join(checkout, 'node_modules'), 'dir');
  const packs = path.join(work, 'packs');
  await mkdir(packs);
  await runOk('npm', ['pack', '--pack-destination', packs, '--loglevel', 'warn'], { cwd: checkout, timeoutMs: INSTALL_TIMEOUT_MS });
  const tgz = (await readdir(packs)).filter((name) => name.endsWith('.tgz'));
  expect(tgz).toHaveLength(1);
  tarball = path.join(packs, tgz[0]!);
  tarballFiles = (await runOk('tar', ['-tzf', tarball], { cwd: work })).stdout.split('\n').filter(Boolean);

  prefix = path.join(work, 'prefix');
  await runOk(
    'npm',
    ['install', '-g', '--prefix', prefix, tarball, '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel', 'warn'],
    { cwd: work, timeoutMs: INSTALL_TIMEOUT_MS },
  );
  installedRoot = path.join(prefix, 'lib', 'node_modules', 'baton');
}, INSTALL_TIMEOUT_MS * 2);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the npm package', () => {
  test('the tarball holds the compiled program, the bins and the examples, and no tests or scripts', () => {
    for (const file of [
      'package/package.json',
      'package/README.md',
      'package/bin/baton',
      'package/bin/baton-autoscaler',
      'package/dist/src/cli/main.js',
      'package/dist/autoscaler/main.js',
      'package/deploy-configs/environments.json',
      'package/autoscaler/example-config.json',
    ]) {
      expect(tarballFiles).toContain(file);
    }
    expect(tarballFiles.filter((file) => /^package\/(test|scripts|src|dist\/test)\//.test(file))).toEqual([]);
    expect(tarballFiles.filter((file) => /\.test\.|\.ts$|\.map$/.test(file))).toEqual([]);
  });

  test('installed with --omit=dev: production dependencies only', async () => {
    const installed = await readdir(path.join(installedRoot, 'node_modules'));
    const manifest = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    for (const dependency of Object.keys(manifest.dependencies)) expect(installed).toContain(dependency);
    for (const dependency of Object.keys(manifest.devDependencies)) expect(installed).not.toContain(dependency.split('/')[0]);
  });

  test('baton --help and --version from another directory', async () => {
    const help = await runOk(installedBin('baton'), ['--help'], { cwd: os.tmpdir() });
    expect(help.stdout).toMatch(/^Usage: baton /m);
    expect(help.stdout).toContain('validate');
    const version = await runOk(installedBin('baton'), ['--version'], { cwd: os.tmpdir() });
    expect(version.stdout.trim()).toBe(await packageVersion());
  });

  test('baton validate on the shipped deploy-configs, run from another directory', async () => {
    const configDir = path.join(installedRoot, 'deploy-configs');
    const result = await run(installedBin('baton'), ['validate', '--config-dir', configDir], { cwd: os.tmpdir() });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ok +shop-web\/prod +\(base\.json \+ prod-deploy\.json\)$/m);
    expect(result.stdout).toMatch(/^valid: \d+ apps, \d+ app\/environment pairs checked, 0 with errors, \d+ warnings$/m);
  });

  test('baton-autoscaler --help and --version', async () => {
    const help = await runOk(installedBin('baton-autoscaler'), ['--help'], { cwd: os.tmpdir() });
    expect(help.stdout).toMatch(/^Usage: baton-autoscaler /m);
    expect(help.stdout).toContain('--config');
    const version = await runOk(installedBin('baton-autoscaler'), ['--version'], { cwd: os.tmpdir() });
    expect(version.stdout.trim()).toBe(await packageVersion());
  });

  test('baton-autoscaler starts against Marathon (InfluxDB unreachable) and answers /healthz', async () => {
    let emulator: RunningEmulator | undefined;
    let daemon: DaemonProcess | undefined;
    try {
      emulator = await startEmulator({ apps: [] });
      // Port 9 (discard) on loopback: nothing listens, the connection is refused; liveness does not depend on InfluxDB.
      const config = testConfig({ marathonUrl: emulator.url, influxUrl: 'http://127.0.0.1:9', stateFile: path.join(work, 'state.json') });
      daemon = await startDaemon(config, { dir: work, bin: installedBin('baton-autoscaler'), cwd: os.tmpdir() });
      const health = await waitFor('GET /healthz 200', async () => {
        const response = await daemon!.request('GET', '/healthz');
        return response.status === 200 ? response : undefined;
      });
      expect(health.body).toMatchObject({ live: true });
      expect(daemon.logs().some((entry) => entry.msg === 'listening')).toBe(true);
    } finally {
      await daemon?.stop();
      await emulator?.close();
    }
  });
});
