import fs from 'node:fs';
import path from 'node:path';
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
      expect(declined.screen).toMatch(/Deploy web to prod: AA new → 1\.0\.0 \(\d+ changes\)\? Type "yes prod" to continue:/);
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

describe('colour is decided per stream', () => {
  let aa: RunningEmulator;
  beforeAll(async () => {
    aa = await startEmulator({ timings: { stagingMs: 30, healthyMs: 50, crashMs: 50, killMs: 20, backoffMs: 50 } });
  });
  afterAll(async () => aa?.close());

  const ESC = '\u001b[';
  async function deployWith(term: string, extraEnv: Record<string, string> = {}) {
    const f = makeDeployFixture({ qa: { datacenters: { AA: { url: aa.url } } } });
    const log = path.join(f.dir, 'deploy.log');
    try {
      f.writeApp('web', { 'qa-deploy.json': webApp(`/tty/colour-${Math.random().toString(36).slice(2, 8)}`, { instances: 1 }) });
      const run = await runOnTty(['deploy', 'web', '--env', 'qa', '--version', '1.0.0'], { ...f.env, NO_COLOR: '', FORCE_COLOR: '', ...extraEnv }, { stdoutTo: log, term });
      return { ...run, log: fs.readFileSync(log, 'utf8') };
    } finally {
      f.cleanup();
    }
  }

  it('`> log` with stderr on a colour terminal: the log gets no escape codes, the terminal keeps its live line', async () => {
    const run = await deployWith('xterm-256color');
    expect(run.code).toBe(0);
    expect(run.log).toContain('+ container: ');
    expect(run.log).not.toContain(ESC);
    expect(run.screen).toMatch(/\r\u001b\[2KAA: /);
  });

  it('FORCE_COLOR colours the redirected lines; TERM=dumb and NO_COLOR do not', async () => {
    expect((await deployWith('xterm-256color', { FORCE_COLOR: '1' })).log).toContain(`${ESC}32m  + container: `);
    expect((await deployWith('dumb', { FORCE_COLOR: '' })).log).not.toContain(ESC);
    expect((await deployWith('xterm-256color', { FORCE_COLOR: '1', NO_COLOR: '1' })).log).not.toContain(ESC);
  });
});

describe('the prod prompt with output piped to tee', () => {
  let aa: RunningEmulator;
  beforeAll(async () => {
    aa = await startEmulator({ timings: { stagingMs: 30, healthyMs: 50, crashMs: 50, killMs: 20, backoffMs: 50 } });
  });
  afterAll(async () => aa?.close());

  it('`baton deploy … 2>&1 | tee log` still asks on the terminal and deploys once confirmed', async () => {
    const f = makeDeployFixture({ prod: { confirm: true, datacenters: { AA: { url: aa.url } } } });
    const log = path.join(f.dir, 'deploy.log');
    try {
      f.writeApp('web', { 'prod-deploy.json': webApp('/tty/tee', { instances: 1 }) });
      const run = await runOnTty(['deploy', 'web', '--env', 'prod', '--version', '1.0.0'], f.env, { answer: 'yes prod', teeTo: log });
      expect(run.screen).toMatch(/Deploy web to prod: AA new → 1\.0\.0 \(\d+ changes\)\? Type "yes prod" to continue:/);
      expect(run.code).toBe(0);
      expect(fs.readFileSync(log, 'utf8')).toContain('1.0.0 runs healthy');
      expect((await new MarathonClient({ url: aa.url }).getApp('/tty/tee')).tasksHealthy).toBe(1);
    } finally {
      f.cleanup();
    }
  });
});
