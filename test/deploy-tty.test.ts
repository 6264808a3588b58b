import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.js';
import { MarathonClient } from '../src/marathon/client.js';
import { runOnTty } from './support/tty.js';
import { makeDeployFixture, webApp } from './support/deploy-fixture.js';

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
      const declined = await runOnTty(['deploy', 'web', '--env', 'prod', '--version', '1.0.0'], f.env, { answer: 'y' });
      expect(declined.screen).toMatch(/Deploy web to prod: AA \S+ → 1\.0\.0\? Type "yes prod" to continue:/);
      expect(declined.code).toBe(3);
      expect(await new MarathonClient({ url: aa.url }).findApp('/tty/web')).toBeNull();

      const confirmed = await runOnTty(['deploy', 'web', '--env', 'prod', '--version', '1.0.0'], f.env, { answer: 'yes prod' });
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
