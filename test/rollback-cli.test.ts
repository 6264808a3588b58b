import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppInfo } from '../src/marathon/types.js';
import { runBaton } from './support/cli.js';
import { makeDeployFixture, startBaton, webApp, type DeployFixture } from './support/deploy-fixture.js';
import type { EmulatorFixture } from './support/emulator.js';
import { holdingProxy } from './support/holding-proxy.js';
import { deployAs, emulatedDatacenters } from './support/releases.js';

function imageOf(app: AppInfo): string {
  return (app.container as { docker: { image: string } }).docker.image;
}

describe('baton rollback against the emulator', () => {
  const { aa, bb } = emulatedDatacenters();
  let fixture: DeployFixture;

  beforeEach(() => {
    fixture = makeDeployFixture({
      qa: { datacenters: { AA: { url: aa.url } } },
      prod: { confirm: true, datacenters: { AA: { url: aa.url }, BB: { url: bb.url } } },
    });
    fixture.writeApp('web', { 'base.json': webApp('/shop/web', { instances: 1 }), 'qa-deploy.json': {}, 'prod-deploy.json': {} });
  });
  afterEach(() => fixture.cleanup());

  const rollback = (args: string[], user = 'rita') => runBaton(['rollback', 'web', ...args], { env: { ...fixture.env, BATON_USER: user } });
  const liveIn = (emulator: EmulatorFixture) => emulator.client().getApp('/shop/web');

  it('goes back to the previous image tag in every datacenter, PUTting the stored definition whole, and audits it', async () => {
    await deployAs(fixture, 'alice', ['web', '--env', 'prod', '--version', '1.0.0', '--yes']);
    await deployAs(fixture, 'bob', ['web', '--env', 'prod', '--version', '1.1.0', '--yes']);
    const before = (await aa.requests()).length;

    const result = await rollback(['--env', 'prod', '--yes']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/AA \(.*\) \/shop\/web: 1\.1\.0 \(Marathon version \S+\) → 1\.0\.0 \(Marathon version \S+\)/);
    expect(result.stdout).toContain('~ container.docker.image: "registry.example.com/shop/web:1.1.0" → "registry.example.com/shop/web:1.0.0"');
    expect(result.stdout).toMatch(/AA\s+succeeded\s+rolled back to 1\.0\.0: runs healthy[\s\S]*BB\s+succeeded/);

    for (const emulator of [aa, bb]) {
      const app = await liveIn(emulator);
      expect(imageOf(app)).toBe('registry.example.com/shop/web:1.0.0');
      expect(app.labels?.BATON_VERSION).toBe('1.0.0');
      expect(app.tasksHealthy).toBe(1);
    }
    const puts = (await aa.requests()).slice(before).filter((r) => r.method === 'PUT');
    expect(puts).toEqual([expect.objectContaining({ path: '/v2/apps/shop/web', query: 'partialUpdate=false' })]);

    const records = fixture.auditLines().filter((r) => r.command === 'rollback');
    expect(records).toEqual([
      expect.objectContaining({ user: 'rita', env: 'prod', dc: 'AA', fromVersion: '1.1.0', toVersion: '1.0.0', outcome: 'succeeded', marathonVersion: (await liveIn(aa)).version }),
      expect.objectContaining({ dc: 'BB', fromVersion: '1.1.0', toVersion: '1.0.0', outcome: 'succeeded' }),
    ]);

    const status = await runBaton(['status', 'web', '--env', 'prod'], { env: fixture.env });
    expect(status.stdout).not.toContain('Drift:');
  });

  it('passes over a version the audit log records as failed', async () => {
    await deployAs(fixture, 'alice', ['web', '--env', 'qa', '--version', '1.0.0']);
    await deployAs(fixture, 'bob', ['web', '--env', 'qa', '--version', '1.1.0-crash', '--no-rollback'], 5);
    // A fix forced over the broken deployment: the version before it is the broken one.
    await deployAs(fixture, 'carol', ['web', '--env', 'qa', '--version', '1.2.0', '--force']);
    const result = await rollback(['--env', 'qa']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/passed over 1\.1\.0-crash \(\S+\): the audit log says deploy by bob ended failed\n/);
    expect(result.stdout).toMatch(/1\.2\.0 \(Marathon version \S+\) → 1\.0\.0/);
    expect(imageOf(await liveIn(aa))).toBe('registry.example.com/shop/web:1.0.0');
  });

  it('never picks a tag that only failed or was superseded, not even its older stored copy after a failed rollback to it', async () => {
    await deployAs(fixture, 'alice', ['web', '--env', 'qa', '--version', '1.1.0']);
    // 5.0.0-stuck never gets healthy; a fix forced over it supersedes that deploy.
    const stuck = startBaton(['deploy', 'web', '--env', 'qa', '--version', '5.0.0-stuck', '--timeout', '60'], { ...fixture.env, BATON_USER: 'bob' });
    await stuck.waitFor(/deployment \S+ started/);
    await deployAs(fixture, 'carol', ['web', '--env', 'qa', '--version', '9.9.9', '--force']);
    expect(await stuck.exited).toBe(9);

    const first = await rollback(['--env', 'qa', '--dry-run']);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toMatch(/9\.9\.9 \(Marathon version \S+\) → 1\.1\.0 \(Marathon version \S+\)/);
    expect(first.stdout).toMatch(/passed over 5\.0\.0-stuck \(\S+\): 5\.0\.0-stuck never ran healthy here: the audit log says deploy by bob ended superseded at \S+, and no attempt with it succeeded\n/);

    // Asked for by name it is still tried (with a warning); it times out and 9.9.9 comes back.
    const named = await rollback(['--env', 'qa', '--to', '5.0.0-stuck', '--timeout', '0.5']);
    expect(named.code, named.stdout + named.stderr).toBe(6);
    expect(named.stderr + named.stdout).toContain('warning: the only stored version with 5.0.0-stuck is not known to have run healthy');
    expect(imageOf(await liveIn(aa))).toBe('registry.example.com/shop/web:9.9.9');

    const again = await rollback(['--env', 'qa', '--dry-run']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toMatch(/→ 1\.1\.0 \(Marathon version \S+\)/);
    expect(again.stdout.match(/passed over 5\.0\.0-stuck \(\S+\): /g)).toHaveLength(2);
    expect(again.stdout).not.toMatch(/→ 5\.0\.0-stuck/);

    const done = await rollback(['--env', 'qa']);
    expect(done.code, done.stdout + done.stderr).toBe(0);
    expect(imageOf(await liveIn(aa))).toBe('registry.example.com/shop/web:1.1.0');
  });

  it('goes to a named tag or a Marathon version in one datacenter, and refuses a target that does not exist', async () => {
    for (const version of ['1.0.0', '1.1.0', '1.2.0']) await deployAs(fixture, 'alice', ['web', '--env', 'prod', '--version', version, '--yes']);

    const toTag = await rollback(['--env', 'prod', '--dc', 'AA', '--to', '1.0.0', '--yes', '--json']);
    expect(toTag.code, toTag.stderr).toBe(0);
    const doc = JSON.parse(toTag.stdout);
    expect(doc).toMatchObject({ ok: true, app: 'web', appId: '/shop/web', env: 'prod' });
    expect(doc.datacenters).toEqual([
      expect.objectContaining({ datacenter: 'AA', outcome: 'succeeded', fromVersion: '1.2.0', toVersion: '1.0.0', image: 'registry.example.com/shop/web:1.0.0' }),
    ]);
    expect(imageOf(await liveIn(aa))).toBe('registry.example.com/shop/web:1.0.0');
    expect(imageOf(await liveIn(bb))).toBe('registry.example.com/shop/web:1.2.0');

    const historyDoc = JSON.parse((await runBaton(['history', 'web', '--env', 'prod', '--dc', 'BB', '--json'], { env: fixture.env })).stdout);
    const stored110 = historyDoc.datacenters[0].entries.find((e: { version: string }) => e.version === '1.1.0').marathonVersion;
    const toVersion = await rollback(['--env', 'prod', '--dc', 'BB', '--to', stored110, '--yes']);
    expect(toVersion.code, toVersion.stderr).toBe(0);
    expect(toVersion.stdout).toContain(`→ 1.1.0 (Marathon version ${stored110})`);
    expect(imageOf(await liveIn(bb))).toBe('registry.example.com/shop/web:1.1.0');

    const already = await rollback(['--env', 'prod', '--dc', 'BB', '--to', '1.1.0', '--yes']);
    expect(already.code).toBe(0);
    expect(already.stdout).toMatch(/BB\s+unchanged\s+nothing to do: 1\.1\.0 is the version running now/);

    const before = (await aa.requests()).filter((r) => r.method !== 'GET').length;
    const unknown = await rollback(['--env', 'prod', '--to', '9.9.9', '--yes']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no stored Marathon version of this app runs 9.9.9');
    const badFlag = await rollback(['--env', 'prod', '--to', 'not a tag', '--yes']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain('--to "not a tag"');
    expect((await aa.requests()).filter((r) => r.method !== 'GET').length).toBe(before);
  });

  it('refuses prod without a TTY and without --yes, sending nothing; --dry-run only reads', async () => {
    await deployAs(fixture, 'alice', ['web', '--env', 'prod', '--version', '1.0.0', '--yes']);
    await deployAs(fixture, 'alice', ['web', '--env', 'prod', '--version', '1.1.0', '--yes']);
    const before = [(await aa.requests()).length, (await bb.requests()).length];
    const result = await rollback(['--env', 'prod']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('prod needs confirmation: no terminal to ask on, and --yes was not given. Nothing was sent to Marathon.');
    expect([(await aa.requests()).length, (await bb.requests()).length]).toEqual(before);
    expect(fixture.auditLines().at(-1)).toMatchObject({ command: 'rollback', env: 'prod', outcome: 'refused', user: 'rita' });
    expect(imageOf(await liveIn(aa))).toBe('registry.example.com/shop/web:1.1.0');

    // --dry-run only reads, so it needs no confirmation.
    const writes = async () => (await Promise.all([aa.requests(), bb.requests()])).flat().filter((r) => r.method !== 'GET').length;
    const writesBefore = await writes();
    const dryRun = await rollback(['--env', 'prod', '--dry-run']);
    expect(dryRun.code, dryRun.stderr).toBe(0);
    expect(dryRun.stdout).toMatch(/BB \(.*\) \/shop\/web: 1\.1\.0 \(Marathon version \S+\) → 1\.0\.0/);
    expect(dryRun.stdout).toMatch(/AA\s+dry-run[\s\S]*BB\s+dry-run/);
    expect(await writes()).toBe(writesBefore);
    expect(fixture.auditLines().slice(-2).map((l) => l.outcome)).toEqual(['dry-run', 'dry-run']);
  });

  it('restores what ran before when the rollback target itself fails', async () => {
    await deployAs(fixture, 'alice', ['web', '--env', 'qa', '--version', '1.0.0']);
    await deployAs(fixture, 'bob', ['web', '--env', 'qa', '--version', '1.1.0-crash'], 5);
    const result = await rollback(['--env', 'qa', '--to', '1.1.0-crash', '--json']);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('warning: the only stored version with 1.1.0-crash is not known to have run healthy');
    const [dc] = JSON.parse(result.stdout).datacenters;
    expect(dc).toMatchObject({ outcome: 'failed-rolled-back', fromVersion: '1.0.0', toVersion: '1.1.0-crash', rollback: { outcome: 'succeeded' } });
    expect(dc.message).toMatch(/rollback target 1\.1\.0-crash failed: .*; restored 1\.0\.0, which ran before the rollback \(healthy again\)/);
    const app = await liveIn(aa);
    expect(imageOf(app)).toBe('registry.example.com/shop/web:1.0.0');
    expect(app.tasksHealthy).toBe(1);
    expect(fixture.auditLines().at(-1)).toMatchObject({ command: 'rollback', outcome: 'failed-rolled-back', rollback: { outcome: 'succeeded' } });
  });

  it('explains a deployment that locks the app, and overrides a stuck one with --force', async () => {
    await deployAs(fixture, 'alice', ['web', '--env', 'qa', '--version', '1.0.0']);
    await deployAs(fixture, 'bob', ['web', '--env', 'qa', '--version', '1.1.0-stuck', '--timeout', '0.3', '--no-rollback'], 6);
    const locked = await rollback(['--env', 'qa']);
    expect(locked.code).toBe(4);
    expect(locked.stdout).toMatch(/AA\s+rejected\s+AA: Marathon refused: the app is locked by 1 running deployment\(s\):/);
    const stuck = (await aa.client().getApp('/shop/web')).deployments?.[0]?.id;
    expect(locked.stdout).toContain(`  - ${stuck}: `);
    expect(locked.stdout).toContain(`curl -X DELETE ${aa.url}/v2/deployments/${stuck}`);
    expect(locked.stdout).toContain('or re-run with --force to override it');

    const forced = await rollback(['--env', 'qa', '--force']);
    expect(forced.code, forced.stdout + forced.stderr).toBe(0);
    const app = await liveIn(aa);
    expect([imageOf(app), app.tasksHealthy, app.deployments]).toEqual(['registry.example.com/shop/web:1.0.0', 1, []]);
  });

  it('Ctrl-C twice (the second while the first still shuts down) leaves exactly one interrupted record, then exits 130', async () => {
    // AA is reached through a proxy that can hold Marathon's answers: the first Ctrl-C then cannot finish its shutdown.
    const proxy = await holdingProxy(aa.url);
    try {
      fixture.cleanup();
      fixture = makeDeployFixture({ prod: { confirm: true, datacenters: { AA: { url: proxy.url }, BB: { url: bb.url } } } });
      fixture.writeApp('web', { 'base.json': webApp('/shop/web', { instances: 1 }), 'prod-deploy.json': {} });
      await deployAs(fixture, 'alice', ['web', '--env', 'prod', '--version', '1.0.0', '--yes']);
      await deployAs(fixture, 'bob', ['web', '--env', 'prod', '--version', '1.1.0', '--yes']);
      const auditedBefore = fixture.auditLines().length;

      const run = startBaton(['rollback', 'web', '--env', 'prod', '--yes'], { ...fixture.env, BATON_USER: 'rita' });
      await run.waitFor(/AA: deployment (\S+) started/);
      const deploymentId = /AA: deployment (\S+) started/.exec(run.output().stdout)?.[1];
      await proxy.hold();
      run.child.kill('SIGINT');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(fixture.auditLines().length).toBe(auditedBefore);
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(130);

      const records = fixture.auditLines().slice(auditedBefore);
      const message = `interrupted (SIGINT, twice) while waiting; deployment ${deploymentId} continues`;
      expect(records.map((r) => [r.command, r.dc, r.outcome, r.exitCode, r.fromVersion, r.toVersion, r.message])).toEqual([
        ['rollback', 'AA', 'interrupted', 130, '1.1.0', '1.0.0', message],
        ['rollback', 'BB', 'skipped', 130, '1.1.0', '1.0.0', 'not touched: AA interrupted'],
      ]);
      expect(records[0]).toMatchObject({ user: 'rita', deploymentId, appId: '/shop/web', image: 'registry.example.com/shop/web:1.0.0' });
      expect(run.output().stderr).toContain(`baton: AA: ${message}`);
      expect((await bb.requests()).filter((r) => r.method === 'PUT')).toHaveLength(2);
    } finally {
      await proxy.close();
    }
  });

  it('Ctrl-C while the next datacenter is re-read before its change: it is skipped, nothing sent to it, exit 130', async () => {
    // BB is reached through a proxy that holds its reads: the rollback is pinned in BB's re-read, after AA finished.
    const proxy = await holdingProxy(bb.url);
    try {
      fixture.cleanup();
      fixture = makeDeployFixture({ prod: { confirm: true, datacenters: { AA: { url: aa.url }, BB: { url: proxy.url } } } });
      fixture.writeApp('web', { 'base.json': webApp('/shop/web', { instances: 1 }), 'prod-deploy.json': {} });
      await deployAs(fixture, 'alice', ['web', '--env', 'prod', '--version', '1.0.0', '--yes']);
      await deployAs(fixture, 'bob', ['web', '--env', 'prod', '--version', '1.1.0', '--yes']);
      const auditedBefore = fixture.auditLines().length;
      const bbPutsBefore = (await bb.requests()).filter((r) => r.method === 'PUT').length;

      const run = startBaton(['rollback', 'web', '--env', 'prod', '--yes'], { ...fixture.env, BATON_USER: 'rita' });
      await run.waitFor(/AA: deployment (\S+) started/);
      await proxy.hold();
      run.child.kill('SIGINT');
      await new Promise((resolve) => setTimeout(resolve, 200));
      proxy.release();
      expect(await run.exited).toBe(130);

      expect((await bb.requests()).filter((r) => r.method === 'PUT')).toHaveLength(bbPutsBefore);
      expect(imageOf(await liveIn(bb))).toBe('registry.example.com/shop/web:1.1.0');
      const records = fixture.auditLines().slice(auditedBefore);
      expect(records.map((r) => [r.command, r.dc, r.outcome, r.exitCode, r.message])).toEqual([
        ['rollback', 'AA', 'succeeded', 0, expect.any(String)],
        ['rollback', 'BB', 'skipped', 130, expect.stringMatching(/: not touched: interrupted \(SIGINT\) before its change was sent$/)],
      ]);
    } finally {
      await proxy.close();
    }
  });

  it('keeps the instance count of an autoscaled app', async () => {
    fixture.writeApp('web', { 'qa-deploy.json': { labels: { AUTOSCALE_MIN: '1', AUTOSCALE_MAX: '5' } } });
    await deployAs(fixture, 'alice', ['web', '--env', 'qa', '--version', '1.0.0']);
    await deployAs(fixture, 'alice', ['web', '--env', 'qa', '--version', '1.1.0']);
    await aa.client().scaleApp('/shop/web', 3);
    const result = await rollback(['--env', 'qa']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('note: instances kept at 3 (the autoscaler manages this app; the old version had 1)');
    const app = await liveIn(aa);
    expect([imageOf(app), app.instances, app.tasksHealthy]).toEqual(['registry.example.com/shop/web:1.0.0', 3, 3]);
  });
});
