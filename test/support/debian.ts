// The project's machines start without the servers the tests run for real (InfluxDB, the registry, HAProxy,
// ZooKeeper, promtool): the test setup installs their Debian packages on first use.
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const installs = new Map<string, Promise<void>>();

/**
 * Makes `check` (a shell command) succeed, installing `packages` with apt-get when it does not. Test workers run in
 * parallel: one lock file serializes the installs, and `check` runs again once the lock is held. A fresh machine may
 * have no package lists yet: `apt-get update` once, then try again. Needs root, as the project's machines run tests.
 */
export function ensureInstalled(check: string, packages: readonly string[]): Promise<void> {
  const key = `${check}\0${packages.join(' ')}`;
  let installation = installs.get(key);
  if (!installation) {
    installation = install(check, packages);
    installs.set(key, installation);
    installation.catch(() => installs.delete(key));
  }
  return installation;
}

/** `command` on PATH, from Debian's package `debianPackage`. */
export function ensureCommand(command: string, debianPackage: string): Promise<void> {
  return ensureInstalled(`command -v ${command}`, [debianPackage]);
}

async function install(check: string, packages: readonly string[]): Promise<void> {
  if (await succeeds(check)) return;
  const list = packages.join(' ');
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error(`"${check}" fails and these tests are not running as root: install it with \`apt-get install -y ${list}\``);
  }
  const aptInstall = `apt-get -o DPkg::Lock::Timeout=300 -y -q install --no-install-recommends ${list}`;
  const script = `(${check}) >/dev/null 2>&1 || ${aptInstall} || (apt-get -o DPkg::Lock::Timeout=300 -q update && ${aptInstall})`;
  const lock = path.join(os.tmpdir(), 'baton-apt-install.lock');
  try {
    await run('flock', [lock, 'sh', '-c', script], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 600_000,
    });
  } catch (error) {
    throw new Error(`could not install ${list} with apt-get: ${(error as Error).message.slice(-2000)}`);
  }
  if (!(await succeeds(check))) throw new Error(`installed ${list} but "${check}" still fails`);
}

async function succeeds(check: string): Promise<boolean> {
  try {
    await run('sh', ['-c', check]);
    return true;
  } catch {
    return false;
  }
}
