import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.js';
import { MarathonClient } from '../src/marathon/client.js';
import { repoRoot, runBaton } from './support/cli.js';
import { makeDeployFixture, startBaton, webApp, type DeployFixture } from './support/deploy-fixture.js';
import { marathonRequests as requestsOf } from './support/emulator.js';
import { holdingProxy } from './support/holding-proxy.js';

const timings = { stagingMs: 40, healthyMs: 60, crashMs: 60, killMs: 20, backoffMs: 60 };

function imageIn(app: Record<string, unknown>): string {
  return (app.container as { docker: { image: string } }).docker.image;
}

describe('baton deploy against the Marathon emulator', () => {
  let aa: RunningEmulator;
  let bb: RunningEmulator;
  let fixture: DeployFixture;

  beforeAll(async () => {
    aa = await startEmulator({ timings });
    bb = await startEmulator({ timings });
  });
  afterAll(async () => {
    await aa?.close();
    await bb?.close();
  });
  afterEach(() => fixture?.cleanup());

  function setup(options: { confirmProd?: boolean } = {}) {
    fixture = makeDeployFixture({
      qa: { datacenters: { AA: { url: aa.url } } },
      prod: { confirm: options.confirmProd ?? true, datacenters: { AA: { url: aa.url }, BB: { url: bb.url } } },
    });
    return fixture;
  }

  it('deploys a version, waits until every task is healthy on it, and audits who did it', async () => {
    const f = setup();
    f.writeApp('web1', { 'base.json': webApp('/e2e/web1'), 'qa-deploy.json': { env: { LOG_LEVEL: 'debug' } } });
    const result = await runBaton(['deploy', 'web1', '--env', 'qa', '--version', '1.0.0'], { env: f.env });
    expect(result.stderr + result.stdout).toContain('1.0.0 runs healthy');
    expect(result.code).toBe(0);

    const app = await new MarathonClient({ url: aa.url }).getApp('/e2e/web1');
    expect(imageIn(app)).toBe('registry.example.com/shop/web:1.0.0');
    expect(app.tasksHealthy).toBe(2);
    expect((app.env as Record<string, string>).LOG_LEVEL).toBe('debug');

    const [line] = f.auditLines();
    expect(line).toMatchObject({ user: 'release-bot', app: 'web1', env: 'qa', dc: 'AA', toVersion: '1.0.0', outcome: 'succeeded' });
    expect(line?.deploymentId).toEqual(expect.any(String));
  });

  it('redeploying the same version is a no-op that sends no change', async () => {
    const f = setup();
    f.writeApp('web2', { 'qa-deploy.json': webApp('/e2e/web2', { instances: 1 }) });
    expect((await runBaton(['deploy', 'web2', '--env', 'qa', '--version', '1.0.0'], { env: f.env })).code).toBe(0);
    const before = (await requestsOf(aa.url)).length;
    const again = await runBaton(['deploy', 'web2', '--env', 'qa', '--version', '1.0.0', '--json'], { env: f.env });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('already at 1.0.0');
    const writes = (await requestsOf(aa.url)).slice(before).filter((r) => r.method !== 'GET');
    expect(writes).toEqual([]);
    expect(JSON.parse(again.stdout).datacenters[0]).toMatchObject({ outcome: 'unchanged', fromVersion: '1.0.0', toVersion: '1.0.0' });
  });

  it('a field removed from the file is a change: diff and status show the removal, a redeploy of the same version removes it', async () => {
    const f = setup();
    f.writeApp('webrm', { 'qa-deploy.json': webApp('/e2e/webrm', { instances: 1, constraints: [['hostname', 'UNIQUE']] }) });
    expect((await runBaton(['deploy', 'webrm', '--env', 'qa', '--version', '1.0.0'], { env: f.env })).code).toBe(0);
    f.writeApp('webrm', { 'qa-deploy.json': webApp('/e2e/webrm', { instances: 1 }) });

    const diff = await runBaton(['diff', 'webrm', '--env', 'qa', '--version', '1.0.0', '--exit-code'], { env: f.env });
    expect(diff.stdout).toContain('- constraints: [["hostname","UNIQUE"]]');
    expect(diff.code).toBe(1);
    const status = await runBaton(['status', 'webrm', '--env', 'qa'], { env: f.env });
    expect(status.stdout).toContain('- constraints: [["hostname","UNIQUE"]]');

    const again = await runBaton(['deploy', 'webrm', '--env', 'qa', '--version', '1.0.0', '--json'], { env: f.env });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).datacenters[0].outcome).not.toBe('unchanged');
    expect((await new MarathonClient({ url: aa.url }).getApp('/e2e/webrm')).constraints).toEqual([]);
    const none = await runBaton(['diff', 'webrm', '--env', 'qa', '--version', '1.0.0', '--exit-code'], { env: f.env });
    expect([none.code, none.stdout]).toEqual([0, expect.stringContaining('(no changes)')]);
  });

  it('one --dc syntax everywhere: a comma list or a repeated flag, in the order of environments.json; an unknown name is exit 2', async () => {
    const f = setup();
    f.writeApp('webdc', { 'prod-deploy.json': webApp('/e2e/webdc', { instances: 1 }) });
    const both = await runBaton(['deploy', 'webdc', '--env', 'prod', '--version', '1.0.0', '--yes', '--dc', 'BB', '--dc', 'AA', '--json'], { env: f.env });
    expect(both.code, both.stderr).toBe(0);
    expect(JSON.parse(both.stdout).datacenters.map((d: { datacenter: string }) => d.datacenter)).toEqual(['AA', 'BB']);
    const diff = await runBaton(['diff', 'webdc', '--env', 'prod', '--version', '1.1.0', '--dc', 'AA,BB', '--json'], { env: f.env });
    expect(JSON.parse(diff.stdout).datacenters.map((d: { datacenter: string }) => d.datacenter)).toEqual(['AA', 'BB']);
    const unknown = await runBaton(['diff', 'webdc', '--env', 'prod', '--version', '1.1.0', '--dc', 'AA,CC'], { env: f.env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--dc AA,CC: prod has no datacenter CC (expected one or more of: AA, BB, comma-separated, or all)');
  });

  it('fails fast on a crash loop, rolls back, and verifies the old version is healthy again', async () => {
    const f = setup();
    f.writeApp('web3', { 'qa-deploy.json': webApp('/e2e/web3') });
    expect((await runBaton(['deploy', 'web3', '--env', 'qa', '--version', '1.0.0'], { env: f.env })).code).toBe(0);
    const started = Date.now();
    const result = await runBaton(['deploy', 'web3', '--env', 'qa', '--version', '2.0.0-crash', '--timeout', '60', '--json'], {
      env: f.env,
    });
    expect(result.code).toBe(5);
    expect(Date.now() - started).toBeLessThan(30_000);
    const doc = JSON.parse(result.stdout);
    expect(doc.datacenters[0]).toMatchObject({ outcome: 'failed-rolled-back', fromVersion: '1.0.0', toVersion: '2.0.0-crash' });
    expect(doc.datacenters[0].rollback).toMatchObject({ outcome: 'succeeded' });
    expect(result.stderr).toMatch(/rolled back to 1\.0\.0/);
    // Progress says how long and until when, the new version's tasks apart from the old; the reason comes when found.
    expect(result.stderr).toMatch(/^AA: \d+:\d\d of 1:00 · new version \d+\/2 running, \d+ healthy/m);
    const failedAt = result.stderr.search(/^AA: failed: .*TASK_FAILED.*; rolling back$/m);
    expect(failedAt).toBeGreaterThan(-1);
    expect(failedAt).toBeLessThan(result.stderr.search(/^AA: \d+:\d\d of \d+:\d\d · rolling back: previous version/m));

    const app = await new MarathonClient({ url: aa.url }).getApp('/e2e/web3');
    expect(imageIn(app)).toBe('registry.example.com/shop/web:1.0.0');
    expect(app.tasksHealthy).toBe(2);
    expect(app.deployments).toEqual([]);
    expect(f.auditLines().at(-1)).toMatchObject({ outcome: 'failed-rolled-back', toVersion: '2.0.0-crash' });
  });

  it('times out a version that never gets healthy and rolls it back', async () => {
    const f = setup();
    f.writeApp('web4', { 'qa-deploy.json': webApp('/e2e/web4', { instances: 1 }) });
    expect((await runBaton(['deploy', 'web4', '--env', 'qa', '--version', '1.0.0'], { env: f.env })).code).toBe(0);
    const result = await runBaton(['deploy', 'web4', '--env', 'qa', '--version', '2.0.0-unhealthy', '--timeout', '1.5'], { env: f.env });
    expect(result.code).toBe(6);
    expect(result.stdout).toMatch(/timeout-rolled-back/);
    expect(result.stdout).toMatch(/not healthy within 2s|not healthy within 1\.5s/);
    const app = await new MarathonClient({ url: aa.url }).getApp('/e2e/web4');
    expect(imageIn(app)).toBe('registry.example.com/shop/web:1.0.0');
  });

  it('with --no-rollback leaves a failed deployment in place and says so', async () => {
    const f = setup();
    f.writeApp('web5', { 'qa-deploy.json': webApp('/e2e/web5', { instances: 1 }) });
    expect((await runBaton(['deploy', 'web5', '--env', 'qa', '--version', '1.0.0'], { env: f.env })).code).toBe(0);
    const result = await runBaton(['deploy', 'web5', '--env', 'qa', '--version', '2.0.0-crash', '--no-rollback'], { env: f.env });
    expect(result.code).toBe(5);
    expect(result.stdout).toContain('left as it is (--no-rollback)');
    const app = await new MarathonClient({ url: aa.url }).getApp('/e2e/web5');
    expect(imageIn(app)).toBe('registry.example.com/shop/web:2.0.0-crash');
    await fetch(`${aa.url}/v2/deployments/${app.deployments?.[0]?.id}?force=true`, { method: 'DELETE' });
  });

  it('fails fast on a locked app, naming the blocking deployment and how to proceed', async () => {
    const f = setup();
    f.writeApp('web6', { 'qa-deploy.json': webApp('/e2e/web6', { instances: 1 }) });
    const client = new MarathonClient({ url: aa.url });
    const blocking = await client.putApp(
      { ...webApp('/e2e/web6', { instances: 1 }), container: { type: 'DOCKER', docker: { image: 'x/web:0.9-stuck' } } } as never,
      { partialUpdate: false },
    );
    const result = await runBaton(['deploy', 'web6', '--env', 'qa', '--version', '1.0.0'], { env: f.env });
    expect(result.code).toBe(4);
    expect(result.stderr + result.stdout).toContain(blocking.deploymentId);
    expect(result.stderr + result.stdout).toMatch(/--force/);
    const refused = f.auditLines().at(-1);
    expect(refused).toMatchObject({ outcome: 'rejected', exitCode: 4, dc: 'AA', toVersion: '1.0.0' });
    expect(refused).not.toHaveProperty('marathonVersion');
    await client.deleteDeployment(blocking.deploymentId, { force: true });
  });

  it('rejects an invalid config before sending anything to Marathon', async () => {
    const f = setup();
    f.writeApp('broken', { 'qa-deploy.json': webApp('/e2e/broken', { instances: -1 }) });
    const before = (await requestsOf(aa.url)).length;
    const result = await runBaton(['deploy', 'broken', '--env', 'qa', '--version', '1.0.0'], { env: f.env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('qa-deploy.json');
    expect(result.stderr).toContain('/instances');
    expect((await requestsOf(aa.url)).length).toBe(before);
    expect(f.auditLines().at(-1)).toMatchObject({ outcome: 'invalid', exitCode: 2, app: 'broken', toVersion: '1.0.0', datacenters: ['AA'] });
  });

  it('refuses a confirm environment without a TTY and without --yes, sending nothing', async () => {
    const f = setup();
    f.writeApp('web7', { 'prod-deploy.json': webApp('/e2e/web7') });
    const beforeAA = (await requestsOf(aa.url)).length;
    const beforeBB = (await requestsOf(bb.url)).length;
    const result = await runBaton(['deploy', 'web7', '--env', 'prod', '--version', '1.0.0'], { env: f.env });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/--yes/);
    expect((await requestsOf(aa.url)).length).toBe(beforeAA);
    expect((await requestsOf(bb.url)).length).toBe(beforeBB);
    expect(f.auditLines().at(-1)).toMatchObject({ outcome: 'refused', exitCode: 3, env: 'prod', datacenters: ['AA', 'BB'] });
  });

  it('refuses the mutable tag latest for prod', async () => {
    const f = setup();
    f.writeApp('web8', { 'prod-deploy.json': webApp('/e2e/web8') });
    const result = await runBaton(['deploy', 'web8', '--env', 'prod', '--version', 'latest', '--yes'], { env: f.env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/mutable tag/);
    expect(f.auditLines().at(-1)).toMatchObject({ outcome: 'invalid', env: 'prod', toVersion: 'latest' });
  });

  it('deploys prod datacenters in order and stops after the first failing one, leaving the rest untouched', async () => {
    const f = setup();
    f.writeApp('web9', { 'prod-deploy.json': webApp('/e2e/web9', { instances: 1 }) });
    const ok = await runBaton(['deploy', 'web9', '--env', 'prod', '--version', '1.0.0', '--yes'], { env: f.env });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/AA\s+succeeded[\s\S]*BB\s+succeeded/);

    const beforeBB = (await requestsOf(bb.url)).length;
    const bad = await runBaton(['deploy', 'web9', '--env', 'prod', '--version', '2.0.0-crash', '--yes', '--json'], { env: f.env });
    expect(bad.code).toBe(5);
    const doc = JSON.parse(bad.stdout);
    expect(doc.datacenters.map((d: { datacenter: string; outcome: string }) => [d.datacenter, d.outcome])).toEqual([
      ['AA', 'failed-rolled-back'],
      ['BB', 'skipped'],
    ]);
    const bbWrites = (await requestsOf(bb.url)).slice(beforeBB).filter((r) => r.method !== 'GET');
    expect(bbWrites).toEqual([]);
    expect(imageIn(await new MarathonClient({ url: bb.url }).getApp('/e2e/web9'))).toBe('registry.example.com/shop/web:1.0.0');
  });

  it('still finishes when the event stream is dropped or goes silent (polling fallback)', async () => {
    const f = setup();
    f.writeApp('web10', { 'qa-deploy.json': webApp('/e2e/web10', { instances: 1 }) });
    await fetch(`${aa.url}/_emulator/events/mute`, { method: 'POST' });
    try {
      const run = startBaton(['deploy', 'web10', '--env', 'qa', '--version', '1.0.0'], f.env);
      await run.waitFor(/deployment .* started/);
      await fetch(`${aa.url}/_emulator/events/drop`, { method: 'POST' });
      expect(await run.exited).toBe(0);
      expect(run.output().stdout).toContain('1.0.0 runs healthy');
    } finally {
      await fetch(`${aa.url}/_emulator/events/unmute`, { method: 'POST' });
    }
  });

  it('on Ctrl-C stops watching, prints the deployment and how to resume or roll back, and records it', async () => {
    const f = setup();
    f.writeApp('web11', { 'qa-deploy.json': webApp('/e2e/web11', { instances: 1 }) });
    const run = startBaton(['deploy', 'web11', '--env', 'qa', '--version', '3.0.0-stuck', '--timeout', '60'], f.env);
    await run.waitFor(/deployment (\S+) started/);
    const deploymentId = /deployment (\S+) started/.exec(run.output().stdout)?.[1];
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    const { stdout } = run.output();
    expect(stdout).toContain(`Deployment ${deploymentId} goes on in Marathon`);
    expect(stdout).toContain('baton deploy web11 --env qa --dc AA --version 3.0.0-stuck');
    expect(stdout).toContain(`/v2/deployments/${deploymentId}`);
    expect(f.auditLines().at(-1)).toMatchObject({ outcome: 'interrupted', deploymentId });
    await fetch(`${aa.url}/v2/deployments/${deploymentId}?force=true`, { method: 'DELETE' });
  });

  it('Ctrl-C twice (the second while the first still shuts down) leaves exactly one interrupted record, then exits 130', async () => {
    // AA is reached through a proxy that can hold Marathon's answers: the first Ctrl-C then cannot finish its shutdown.
    const proxy = await holdingProxy(aa.url);
    try {
      const f = (fixture = makeDeployFixture({ qa: { datacenters: { AA: { url: proxy.url }, BB: { url: bb.url } } } }));
      f.writeApp('web16', { 'qa-deploy.json': webApp('/e2e/web16', { instances: 1 }) });
      const run = startBaton(['deploy', 'web16', '--env', 'qa', '--version', '3.0.0-stuck', '--timeout', '60'], f.env);
      await run.waitFor(/deployment (\S+) started/);
      const deploymentId = /deployment (\S+) started/.exec(run.output().stdout)?.[1];
      await proxy.hold();
      run.child.kill('SIGINT');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(f.auditLines()).toEqual([]);
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(130);

      const records = f.auditLines();
      expect(records.map((r) => [r.dc, r.outcome, r.exitCode])).toEqual([
        ['AA', 'interrupted', 130],
        ['BB', 'skipped', 130],
      ]);
      expect(records[0]).toMatchObject({ deploymentId, toVersion: '3.0.0-stuck', appId: '/e2e/web16', fromVersion: null });
      expect(records[0]?.message).toBe(`interrupted (SIGINT, twice) while waiting; deployment ${deploymentId} continues`);
      expect(records[1]?.message).toBe('not touched: AA interrupted');
      expect(run.output().stderr).toContain(`baton: AA: interrupted (SIGINT, twice) while waiting; deployment ${deploymentId} continues`);
      await fetch(`${aa.url}/v2/deployments/${deploymentId}?force=true`, { method: 'DELETE' });
    } finally {
      await proxy.close();
    }
  });

  describe('Ctrl-C between datacenters: no further datacenter is changed', () => {
    /** The requests BB received from `from` on that could have changed something. */
    const writesToBB = async (from: number) => (await requestsOf(bb.url)).slice(from).filter((r) => r.method !== 'GET');

    it('landing while the next datacenter is re-read before its change: it is skipped, no PUT, exit 130', async () => {
      // BB is reached through a proxy that holds its reads: the CLI is pinned in BB's re-read, after AA finished.
      const proxy = await holdingProxy(bb.url);
      try {
        const f = (fixture = makeDeployFixture({ qa: { datacenters: { AA: { url: aa.url }, BB: { url: proxy.url } } } }));
        f.writeApp('web17', { 'qa-deploy.json': webApp('/e2e/web17', { instances: 1 }) });
        const run = startBaton(['deploy', 'web17', '--env', 'qa', '--version', '1.0.0'], f.env);
        await run.waitFor(/AA: deployment (\S+) started/);
        const bbBefore = (await requestsOf(bb.url)).length;
        await proxy.hold();
        run.child.kill('SIGINT');
        await new Promise((resolve) => setTimeout(resolve, 200));
        proxy.release();
        expect(await run.exited).toBe(130);

        expect(await writesToBB(bbBefore)).toEqual([]);
        expect(await new MarathonClient({ url: bb.url }).findApp('/e2e/web17')).toBeNull();
        expect(f.auditLines().map((r) => [r.dc, r.outcome, r.exitCode, r.message])).toEqual([
          ['AA', 'succeeded', 0, expect.any(String)],
          ['BB', 'skipped', 130, 'not touched: interrupted (SIGINT) before its change was sent'],
        ]);
      } finally {
        await proxy.close();
      }
    });

    it('landing during the last check of the datacenter before: that one ends succeeded, the next is skipped, exit 130', async () => {
      // AA is reached through a proxy that holds AA's reads from the PUT on; once AA is healthy the Ctrl-C lands inside
      // the held check, which then finds AA succeeded.
      const proxy = await holdingProxy(aa.url);
      try {
        const f = (fixture = makeDeployFixture({ qa: { datacenters: { AA: { url: proxy.url }, BB: { url: bb.url } } } }));
        f.writeApp('web18', { 'qa-deploy.json': webApp('/e2e/web18', { instances: 1 }) });
        const bbBefore = (await requestsOf(bb.url)).length;
        const held = proxy.holdAfterNextWrite();
        const run = startBaton(['deploy', 'web18', '--env', 'qa', '--version', '1.0.0', '--json'], f.env);
        await held;
        const aaClient = new MarathonClient({ url: aa.url });
        for (;;) {
          const app = await aaClient.findApp('/e2e/web18');
          if (app && app.tasksHealthy === 1 && (app.deployments ?? []).length === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        run.child.kill('SIGINT');
        await new Promise((resolve) => setTimeout(resolve, 200));
        proxy.release();
        expect(await run.exited).toBe(130);

        expect(await writesToBB(bbBefore)).toEqual([]);
        expect(f.auditLines().map((r) => [r.dc, r.outcome, r.exitCode])).toEqual([
          ['AA', 'succeeded', 0],
          ['BB', 'skipped', 130],
        ]);
        const report = JSON.parse(run.output().stdout) as { ok: boolean; datacenters: { datacenter: string; outcome: string }[] };
        expect(report.ok).toBe(false);
        expect(report.datacenters.map((d) => [d.datacenter, d.outcome])).toEqual([
          ['AA', 'succeeded'],
          ['BB', 'skipped'],
        ]);
      } finally {
        await proxy.close();
      }
    });
  });

  it('reports superseded, not success or a failed rollback, when someone forces a scale over our deployment', async () => {
    const f = setup();
    f.writeApp('web13', { 'qa-deploy.json': webApp('/e2e/web13', { instances: 1 }) });
    expect((await runBaton(['deploy', 'web13', '--env', 'qa', '--version', '1.0.0'], { env: f.env })).code).toBe(0);
    const run = startBaton(['deploy', 'web13', '--env', 'qa', '--version', '2.0.0-stuck', '--timeout', '60'], f.env);
    await run.waitFor(/deployment (\S+) started/);
    const started = Date.now();
    const forced = await fetch(`${aa.url}/v2/apps/e2e/web13?force=true`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ instances: 2 }),
    });
    expect(forced.status).toBe(200);
    expect(await run.exited).toBe(9);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(run.output().stdout).toMatch(/superseded: deployment .* replaced ours/);
    const app = await new MarathonClient({ url: aa.url }).getApp('/e2e/web13');
    for (const d of app.deployments ?? []) await fetch(`${aa.url}/v2/deployments/${d.id}?force=true`, { method: 'DELETE' });
  });

  it('resuming an interrupted deploy follows the running deployment and knows what ran before it', async () => {
    const f = setup();
    f.writeApp('web14', { 'qa-deploy.json': webApp('/e2e/web14', { instances: 1 }) });
    expect((await runBaton(['deploy', 'web14', '--env', 'qa', '--version', '1.0.0'], { env: f.env })).code).toBe(0);
    const run = startBaton(['deploy', 'web14', '--env', 'qa', '--version', '2.0.0-stuck', '--timeout', '60'], f.env);
    await run.waitFor(/deployment (\S+) started/);
    const deploymentId = /deployment (\S+) started/.exec(run.output().stdout)?.[1];
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);

    const resumed = await runBaton(['deploy', 'web14', '--env', 'qa', '--version', '2.0.0-stuck', '--timeout', '1', '--json'], { env: f.env });
    expect(resumed.stderr).toContain(`already deploying 2.0.0-stuck (deployment ${deploymentId}); following it`);
    expect(resumed.code).toBe(6);
    expect(JSON.parse(resumed.stdout).datacenters[0]).toMatchObject({ outcome: 'timeout-rolled-back', fromVersion: '1.0.0', deploymentId });
    expect(resumed.stderr).toMatch(/rolled back to 1\.0\.0/);
    expect(imageIn(await new MarathonClient({ url: aa.url }).getApp('/e2e/web14'))).toBe('registry.example.com/shop/web:1.0.0');
  });

  it('Ctrl-C while the automatic rollback runs exits 130 and names the rollback deployment', async () => {
    const f = setup();
    f.writeApp('web15', { 'qa-deploy.json': webApp('/e2e/web15', { instances: 1 }) });
    // The version before never gets healthy, so the rollback to it keeps running until we interrupt it.
    expect((await runBaton(['deploy', 'web15', '--env', 'qa', '--version', '1.0.0-unhealthy', '--timeout', '0.5', '--no-rollback'], { env: f.env })).code).toBe(6);
    const run = startBaton(['deploy', 'web15', '--env', 'qa', '--version', '2.0.0-crash', '--force', '--timeout', '60'], f.env);
    await run.waitFor(/rolling back/);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    expect(run.output().stdout).toMatch(/interrupted during the rollback: stopped watching\. Rollback deployment \S+ goes on in Marathon/);
    expect(f.auditLines().at(-1)).toMatchObject({ outcome: 'interrupted', rollback: { outcome: 'interrupted' } });
    const app = await new MarathonClient({ url: aa.url }).getApp('/e2e/web15');
    for (const d of app.deployments ?? []) await fetch(`${aa.url}/v2/deployments/${d.id}?force=true`, { method: 'DELETE' });
  });

  it('deploys every shipped example app to qa, and redeploying each is a no-op', async () => {
    const f = setup();
    const shipped = path.join(repoRoot, 'deploy-configs');
    const apps = fs.readdirSync(shipped).filter((name) => fs.existsSync(path.join(shipped, name, 'qa-deploy.json')));
    expect(apps).toEqual(expect.arrayContaining(['shop-web', 'order-worker', 'baton-autoscaler']));
    for (const app of apps) {
      fs.cpSync(path.join(shipped, app), path.join(f.configDir, app), { recursive: true });
      const first = await runBaton(['deploy', app, '--env', 'qa', '--version', '7.0.0'], { env: f.env });
      expect(first.stdout, `${app}: ${first.stderr}`).toContain('7.0.0 runs healthy');
      const again = await runBaton(['deploy', app, '--env', 'qa', '--version', '7.0.0'], { env: f.env });
      expect(again.stdout, `${app}: ${again.stderr}`).toContain('already at 7.0.0');
    }
  });

  it('--dry-run shows the diff and changes nothing', async () => {
    const f = setup();
    f.writeApp('web12', { 'qa-deploy.json': webApp('/e2e/web12', { instances: 1, env: { DB_PASSWORD: 's3cret-value' } }) });
    const before = (await requestsOf(aa.url)).length;
    const result = await runBaton(['deploy', 'web12', '--env', 'qa', '--version', '1.0.0', '--dry-run'], { env: f.env });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('+ container:');
    expect(result.stdout).not.toContain('s3cret-value');
    const writes = (await requestsOf(aa.url)).slice(before).filter((r) => r.method !== 'GET');
    expect(writes).toEqual([]);
    expect(f.auditLines().at(-1)).toMatchObject({ outcome: 'dry-run' });
  });
});

describe('baton deploy with HTTP Basic auth', () => {
  let secured: RunningEmulator;
  const password = 'pa55-Very-Secret';
  beforeAll(async () => {
    secured = await startEmulator({ timings, credentials: { username: 'deployer', password } });
  });
  afterAll(async () => secured?.close());

  it('authenticates from the named env var and never prints the credential', async () => {
    const f = makeDeployFixture({ qa: { datacenters: { AA: { url: secured.url, credentialsEnv: 'MARATHON_QA_CREDS' } } } });
    try {
      f.writeApp('web', { 'qa-deploy.json': webApp('/auth/web', { instances: 1 }) });
      const ok = await runBaton(['deploy', 'web', '--env', 'qa', '--version', '1.0.0', '--json'], {
        env: { ...f.env, MARATHON_QA_CREDS: `deployer:${password}` },
      });
      expect(ok.code).toBe(0);
      const bad = await runBaton(['deploy', 'web', '--env', 'qa', '--version', '1.0.1'], {
        env: { ...f.env, MARATHON_QA_CREDS: 'deployer:wrong-Secret-42' },
      });
      expect(bad.code).toBe(4);
      expect(bad.stderr).toMatch(/401|credentials/);
      const missing = await runBaton(['deploy', 'web', '--env', 'qa', '--version', '1.0.1'], { env: f.env });
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('MARATHON_QA_CREDS');
      const everything = [ok.stdout, ok.stderr, bad.stdout, bad.stderr, JSON.stringify(f.auditLines())].join('\n');
      expect(everything).not.toContain(password);
      expect(everything).not.toContain('wrong-Secret-42');
      expect(everything).not.toContain(Buffer.from(`deployer:${password}`).toString('base64'));
    } finally {
      f.cleanup();
    }
  });
});
