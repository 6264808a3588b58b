import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.js';
import { MarathonClient } from '../src/marathon/client.js';
import { baseEnv, batonBin, repoRoot } from './support/cli.js';
import { makeDeployFixture, webApp } from './support/deploy-fixture.js';

/**
 * Runs baton on a real pseudo-terminal (util-linux `script`), as a release manager at a terminal would, typing `answer`
 * once the prompt shows.
 */
function runOnTty(args: string[], env: Record<string, string>, answer: string): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, batonBin, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: repoRoot,
      env: { ...baseEnv(), ...env, CI: '', TERM: 'dumb' } as NodeJS.ProcessEnv,
    });
    let screen = '';
    let answered = false;
    child.stdout.on('data', (d) => {
      screen += d;
      if (!answered && screen.includes('to continue:')) {
        answered = true;
        child.stdin.write(`${answer}\r`);
      }
    });
    child.on('close', (code) => resolve({ code, screen }));
  });
}

describe('baton deploy on a terminal', () => {
  let aa: RunningEmulator;
  beforeAll(async () => {
    aa = await startEmulator({ timings: { stagingMs: 30, healthyMs: 50, crashMs: 50, killMs: 20, backoffMs: 50 } });
  });
  afterAll(async () => aa?.close());

  it('asks for "yes <env>" in a confirm environment; "y" is not enough and nothing is sent', async () => {
    const f = makeDeployFixture({ prod: { confirm: true, datacenters: { AA: { url: aa.url } } } });
    try {
      f.writeApp('web', { 'prod-deploy.json': webApp('/tty/web', { instances: 1 }) });
      const declined = await runOnTty(['deploy', 'web', '--env', 'prod', '--version', '1.0.0'], f.env, 'y');
      expect(declined.screen).toContain('Deploy web 1.0.0 to prod (AA)? Type "yes prod" to continue:');
      expect(declined.code).toBe(3);
      expect(await new MarathonClient({ url: aa.url }).findApp('/tty/web')).toBeNull();

      const confirmed = await runOnTty(['deploy', 'web', '--env', 'prod', '--version', '1.0.0'], f.env, 'yes prod');
      expect(confirmed.code).toBe(0);
      expect(confirmed.screen).toContain('1.0.0 runs healthy');
      // On a TTY progress rewrites one line (carriage return + erase) instead of printing a line per change.
      expect(confirmed.screen).toMatch(/\r\u001b\[2KAA: .*running/);
      expect(f.auditLines().map((l) => l.outcome)).toEqual(['refused', 'succeeded']);
    } finally {
      f.cleanup();
    }
  });
});
