// `baton emulator` as a user runs it: a process that serves Marathon until SIGTERM/SIGINT.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MarathonClient } from '../src/marathon/client.js';
import { baseEnv, batonBin, repoRoot, runBaton } from './support/cli.js';
import { startEmulator, startEmulatorProcess } from './support/emulator.js';

describe('baton emulator', () => {
  it('starts, answers /ping and the API, and exits 0 on SIGTERM after closing', async () => {
    const emulator = await startEmulatorProcess(['--port', '0', '--staging-ms', '5', '--healthy-ms', '5']);
    expect(emulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${emulator.url}/ping`)).text()).toBe('pong');
    const client = new MarathonClient({ url: emulator.url });
    await client.putApp({ id: '/cli/web', cmd: 'sleep 1', instances: 1 });
    expect((await client.getApp('/cli/web')).id).toBe('/cli/web');
    emulator.child.kill('SIGTERM');
    expect(await emulator.exited).toEqual({ code: 0, signal: null });
  });

  it('--leader makes it a non-leader: /v2/events redirects (302) to the leader, the API is proxied to it', async () => {
    const leader = await startEmulator();
    const follower = await startEmulatorProcess(['--leader', `${leader.url}/ignored/path`]);
    try {
      const events = await fetch(`${follower.url}/v2/events?event_type=x`, { redirect: 'manual', headers: { Accept: 'text/event-stream' } });
      expect(events.status).toBe(302);
      expect(events.headers.get('location')).toBe(`${leader.url}/v2/events?event_type=x`);
      expect(await (await fetch(`${follower.url}/v2/leader`)).json()).toEqual({ leader: `127.0.0.1:${leader.port}` });
    } finally {
      follower.child.kill('SIGTERM');
      await follower.exited;
      await leader.close();
    }
  });

  it('prints the sentence without --json, requires Basic auth with --credentials-env, seeds --apps, stops on SIGINT', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-emulator-'));
    const appsFile = path.join(dir, 'apps.json');
    fs.writeFileSync(appsFile, JSON.stringify([{ id: '/seeded/web', cmd: 'sleep 1', instances: 2 }]));
    try {
      const child = spawn(process.execPath, [batonBin, 'emulator', '--credentials-env', 'EMU_CREDS', '--apps', appsFile], {
        cwd: repoRoot,
        env: { ...baseEnv(), EMU_CREDS: 'ops:s3cret' } as NodeJS.ProcessEnv,
      });
      let stdout = '';
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          stdout += d;
          const match = /^Marathon emulator listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(stdout);
          if (match?.[1]) resolve(match[1]);
        });
        child.on('close', () => reject(new Error(`exited early: ${stderr}`)));
      });
      expect((await fetch(`${url}/v2/apps`)).status).toBe(401);
      const app = await new MarathonClient({ url, auth: { basic: 'ops:s3cret' } }).getApp('/seeded/web');
      expect(app.tasksRunning).toBe(2);
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(stderr).toContain('Marathon emulator stopped (SIGINT)');
      expect(stdout + stderr).not.toContain('s3cret');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [['--port', 'eighty'], /--port must be a whole number/],
    [['--staging-ms', '-5'], /--staging-ms must be a whole number of milliseconds/],
    [['--credentials-env', 'EMU_UNSET_VARIABLE'], /--credentials-env EMU_UNSET_VARIABLE: the variable must be set to "user:password"/],
    [['--apps', '/nonexistent/apps.json'], /--apps \/nonexistent\/apps.json: ENOENT/],
    [['--leader', 'ftp://10.0.0.1'], /--leader must be the leader's http\(s\) URL/],
    [['--leader', 'leader:8080/x'], /--leader must be the leader's http\(s\) URL/],
    [['--image-command', 'node service.mjs'], /--image-command needs --run-tasks/],
  ])('rejects %j with exit code 2 and a message naming the flag', async (args, message) => {
    const result = await runBaton(['emulator', ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('has --help with examples', async () => {
    const result = await runBaton(['emulator', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Examples:');
    expect(result.stdout).toContain('EMULATOR_BEHAVIOUR');
  });
});
