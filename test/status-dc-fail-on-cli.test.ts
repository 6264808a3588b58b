import { describe, expect, it } from 'vitest';
import { runBaton } from './support/cli.js';
import { makeDeployFixture, webApp } from './support/deploy-fixture.js';
import type { EmulatorFixture } from './support/emulator.js';
import { deployAs, qaAndProdWithOneDown } from './support/releases.js';

type Row = { app: string; env: string; dc: string; failedConditions?: string[] };

describe('baton status --dc and --fail-on against emulated datacenters', () => {
  const dcs = qaAndProdWithOneDown();
  const { aa, bb } = dcs;

  const status = (args: string[]) => runBaton(['status', ...args], { env: dcs.fixture.env });
  /** What `run` returned, and the Marathon requests it caused on one emulator. */
  async function withRequests<T>(emulator: EmulatorFixture, run: () => Promise<T>): Promise<{ result: T; asked: string[] }> {
    const before = (await emulator.requests()).length;
    const result = await run();
    return { result, asked: (await emulator.requests()).slice(before).map((r) => `${r.method} ${r.path}`).sort() };
  }
  /** Runs status with web1 configured for qa, expecting exit 2 before any Marathon is asked. */
  async function refusedBeforeAsking(args: string[]) {
    dcs.fixture.writeApp('web1', { 'qa-deploy.json': webApp('/shop/web1', { instances: 1 }) });
    const { result, asked } = await withRequests(aa, () => status(['--env', 'qa', ...args]));
    expect(asked).toEqual([]);
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stdout).toBe('');
    return result;
  }
  const rowsOf = (stdout: string) => (JSON.parse(stdout) as { apps: Row[] }).apps;

  it('--dc shows and asks only the named datacenters, and "versions" drift compares only those', async () => {
    const fixture = dcs.fixture;
    fixture.writeApp('web1', { 'qa-deploy.json': webApp('/shop/web1', { instances: 1 }) });
    await deployAs(fixture, 'alice', ['web1', '--env', 'qa', '--version', '1.0.0']);
    await deployAs(fixture, 'alice', ['web1', '--env', 'qa', '--dc', 'BB', '--version', '1.1.0']);

    const { result: inBB, asked: askedAA } = await withRequests(aa, () => withRequests(bb, () => status(['--env', 'qa', '--dc', 'BB'])));
    const { result: onlyBB, asked: askedBB } = inBB;
    expect(askedAA).toEqual([]);
    expect(askedBB).toEqual(['GET /v2/apps', 'GET /v2/deployments']);
    expect(onlyBB.code, onlyBB.stderr).toBe(0);
    expect(onlyBB.stdout).toMatch(/^web1\s+qa\s+BB\s+1\.1\.0\s.*\s-$/m);
    expect(onlyBB.stdout).not.toMatch(/^web1\s+qa\s+AA/m);
    expect(onlyBB.stdout).not.toContain('Drift:');

    // Both named (comma-separated or repeated, the same): the versions differ between them.
    for (const args of [['--dc', 'AA,BB'], ['--dc', 'AA', '--dc', 'BB'], ['--dc', 'all']]) {
      const both = await status(['--env', 'qa', ...args]);
      expect(both.code).toBe(0);
      expect(both.stdout, args.join(' ')).toContain('web1 qa: versions differ between datacenters: AA 1.0.0, BB 1.1.0');
    }
    const doc = JSON.parse((await status(['--env', 'qa', '--dc', 'BB', '--json'])).stdout);
    expect(doc.datacenters.map((d: { env: string; dc: string }) => `${d.env}/${d.dc}`)).toEqual(['qa/BB']);
    expect(doc.versionDrift).toEqual([]);
  });

  it('--dc leaves a datacenter that is down unasked: prod AA alone answers in full', async () => {
    const fixture = dcs.fixture;
    fixture.writeApp('web1', { 'base.json': webApp('/shop/web1', { instances: 1 }), 'prod-deploy.json': {}, 'qa-deploy.json': {} });
    await deployAs(fixture, 'alice', ['web1', '--env', 'prod', '--dc', 'AA', '--version', '1.0.0', '--yes']);
    const all = await status(['--env', 'prod']);
    expect(all.code).toBe(1);
    expect(all.stdout).toContain('Unreachable:');

    const onlyAA = await status(['--env', 'prod', '--dc', 'AA']);
    expect(onlyAA.code, onlyAA.stdout + onlyAA.stderr).toBe(0);
    expect(onlyAA.stdout).toMatch(/^web1\s+prod\s+AA\s+1\.0\.0\s.*healthy/m);
    expect(onlyAA.stdout).not.toContain('BB');
    expect(onlyAA.stdout).not.toContain('Unreachable');

    // Without --env, AA means AA in every environment the app is configured for; BB in prod is still not asked.
    const everyAA = rowsOf((await status(['web1', '--dc', 'AA', '--json'])).stdout);
    expect(everyAA.map((r) => `${r.env}/${r.dc}`)).toEqual(['qa/AA', 'prod/AA']);
  });

  it('an unknown datacenter is exit 2 naming the datacenters of the shown environments, and nothing is asked', async () => {
    const unknown = await refusedBeforeAsking(['--dc', 'AA,CC']);
    expect(unknown.stderr).toContain('baton: --dc CC: no such datacenter in qa (known: AA, BB, or all)');

    const json = await status(['--env', 'qa', '--dc', 'CC', '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: 'unknown-datacenter', flag: '--dc', unknown: ['CC'], known: ['AA', 'BB'] });

    const empty = await status(['--env', 'qa', '--dc', ',']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('--dc: expected datacenter names, comma-separated, or all');

    // Without --env, the environments shown are those the app has a config for: another environment's datacenter is unknown.
    const own = makeDeployFixture({ qa: { datacenters: { AA: { url: aa.url } } }, yz: { datacenters: { CC: { url: bb.url } } } });
    try {
      own.writeApp('web1', { 'qa-deploy.json': webApp('/shop/web1', { instances: 1 }) });
      const elsewhere = await runBaton(['status', 'web1', '--dc', 'CC'], { env: own.env });
      expect(elsewhere.code).toBe(2);
      expect(elsewhere.stderr).toContain('--dc CC: no such datacenter in qa (known: AA, or all)');
    } finally {
      own.cleanup();
    }
  });

  it('--fail-on drift: exit 14 naming the rows and conditions; conditions not listed do not count; --dc narrows the gate', async () => {
    const fixture = dcs.fixture;
    fixture.writeApp('web1', { 'qa-deploy.json': webApp('/shop/web1', { instances: 1 }) });
    fixture.writeApp('web2', { 'qa-deploy.json': webApp('/shop/web2', { instances: 1 }) });
    await deployAs(fixture, 'alice', ['web1', '--env', 'qa', '--version', '1.0.0']);
    await deployAs(fixture, 'alice', ['web2', '--env', 'qa', '--version', '2.0.0']);

    const clean = await status(['--env', 'qa', '--fail-on', 'drift,unhealthy']);
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
    expect(clean.stdout.trimEnd().split('\n').at(-1)).toBe('--fail-on drift,unhealthy: passed (4 rows)');
    const cleanDoc = JSON.parse((await status(['--env', 'qa', '--fail-on', 'drift,unhealthy', '--json'])).stdout);
    expect(cleanDoc).toMatchObject({ ok: true, failOn: { conditions: ['drift', 'unhealthy'], result: 'passed' } });
    expect(cleanDoc.apps.map((r: Row) => r.failedConditions)).toEqual([[], [], [], []]);

    await aa.client().putApp({ id: '/shop/web1', mem: 256 });
    const drifted = await status(['--env', 'qa', '--fail-on', 'unhealthy', '--fail-on', 'drift']);
    expect(drifted.code, drifted.stdout + drifted.stderr).toBe(14);
    expect(drifted.stdout).toMatch(/^web1\s+qa\s+AA\s.*config \(1\)$/m);
    expect(drifted.stdout).toMatch(/\n\nFailed --fail-on unhealthy,drift \(exit 14\):\n {2}web1 qa\/AA: drift\n$/);

    const doc = JSON.parse((await status(['--env', 'qa', '--fail-on', 'config-drift,version-drift', '--json'])).stdout);
    expect(doc).toMatchObject({ ok: false, complete: true, failOn: { conditions: ['config-drift', 'version-drift'], result: 'failed' } });
    expect(doc.apps.map((r: Row) => [r.app, r.dc, r.failedConditions])).toEqual([
      ['web1', 'AA', ['config-drift']],
      ['web1', 'BB', []],
      ['web2', 'AA', []],
      ['web2', 'BB', []],
    ]);
    // Without --fail-on the document keeps its old shape.
    const plain = JSON.parse((await status(['--env', 'qa', '--json'])).stdout);
    expect(plain.failOn).toBeUndefined();
    expect(plain.apps[0]).not.toHaveProperty('failedConditions');

    expect((await status(['--env', 'qa', '--fail-on', 'unhealthy,version-drift'])).code).toBe(0);
    expect((await status(['--env', 'qa', '--dc', 'BB', '--fail-on', 'drift'])).code).toBe(0);
  });

  it('--fail-on deploying, unhealthy and not-deployed tell a running deployment, a degraded app and a missing one apart', async () => {
    const fixture = dcs.fixture;
    fixture.writeApp('web1', { 'qa-deploy.json': webApp('/shop/web1', { instances: 1 }) });
    await deployAs(fixture, 'alice', ['web1', '--env', 'qa', '--dc', 'AA', '--version', '1.0.0']);

    const missing = await status(['--env', 'qa', '--fail-on', 'not-deployed']);
    expect(missing.code).toBe(14);
    expect(missing.stdout).toContain('Failed --fail-on not-deployed (exit 14):\n  web1 qa/BB: not-deployed\n');

    await deployAs(fixture, 'alice', ['web1', '--env', 'qa', '--dc', 'AA', '--version', '1.1.0-stuck', '--timeout', '0.5', '--no-rollback'], 6);
    const gate = (conditions: string) => status(['--env', 'qa', '--dc', 'AA', '--fail-on', conditions, '--json']);
    const deploying = await gate('unhealthy,deploying');
    expect(deploying.code).toBe(14);
    expect(rowsOf(deploying.stdout).map((r) => r.failedConditions)).toEqual([['deploying']]);
    expect((await gate('unhealthy')).code).toBe(0);

    // The deployment is cancelled by force: the stuck task stays staging, so the app is degraded, no longer deploying.
    for (const d of await aa.client().listDeployments()) await aa.client().deleteDeployment(d.id, { force: true });
    const degraded = await gate('unhealthy,deploying');
    expect(degraded.code).toBe(14);
    expect(rowsOf(degraded.stdout)).toMatchObject([{ health: 'degraded', failedConditions: ['unhealthy'] }]);
  });

  it('a condition seen in one datacenter wins over another being unreachable (14); nothing seen failing but one down is 1', async () => {
    const fixture = dcs.fixture;
    fixture.writeApp('web1', { 'base.json': webApp('/shop/web1', { instances: 1 }), 'prod-deploy.json': {} });
    await deployAs(fixture, 'alice', ['web1', '--env', 'prod', '--dc', 'AA', '--version', '1.0.0', '--yes']);

    const incomplete = await status(['--env', 'prod', '--fail-on', 'drift,unhealthy']);
    expect(incomplete.code).toBe(1);
    expect(incomplete.stdout).toContain('Unreachable:\n  prod/BB');
    expect(incomplete.stdout.trimEnd().split('\n').at(-1)).toBe(
      '--fail-on drift,unhealthy: no row shown fails, but not every datacenter answered or config loaded (exit 1)',
    );
    const incompleteDoc = JSON.parse((await status(['--env', 'prod', '--fail-on', 'drift,unhealthy', '--json'])).stdout);
    expect(incompleteDoc).toMatchObject({ ok: false, complete: false, failOn: { result: 'incomplete' } });

    await aa.client().putApp({ id: '/shop/web1', env: { LOG_LEVEL: 'debug' } });
    const both = await status(['--env', 'prod', '--fail-on', 'drift,unhealthy']);
    expect(both.code).toBe(14);
    expect(both.stdout).toContain('Unreachable:\n  prod/BB');
    expect(both.stdout).toContain('Failed --fail-on drift,unhealthy (exit 14):\n  web1 prod/AA: drift\n');
    const doc = JSON.parse((await status(['--env', 'prod', '--fail-on', 'drift,unhealthy', '--json'])).stdout);
    expect(doc).toMatchObject({ ok: false, complete: false, failOn: { result: 'failed' } });
    expect(doc.apps.map((r: Row) => [r.dc, r.failedConditions])).toEqual([
      ['AA', ['drift']],
      ['BB', []],
    ]);
  });

  it('an unknown --fail-on condition is exit 2 listing the known ones, before any Marathon is asked', async () => {
    const bad = await refusedBeforeAsking(['--fail-on', 'drift,sick']);
    expect(bad.stderr).toContain(
      'baton: --fail-on sick: no such condition (expected one or more of unhealthy, deploying, not-deployed, drift, config-drift, version-drift, comma-separated)',
    );
    const empty = await status(['--env', 'qa', '--fail-on', '']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('baton: --fail-on: expected one or more of');
  });
});
