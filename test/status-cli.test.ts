import { beforeEach, describe, expect, it } from 'vitest';
import { runBaton } from './support/cli.js';
import { makeDeployFixture, webApp, type DeployFixture } from './support/deploy-fixture.js';
import { deployAs, qaAndProdWithOneDown } from './support/releases.js';

describe('baton status against two emulated datacenters', () => {
  const dcs = qaAndProdWithOneDown();
  const { aa } = dcs;
  let fixture: DeployFixture;
  beforeEach(() => {
    fixture = dcs.fixture;
  });

  const status = (args: string[], env: Record<string, string | undefined> = {}) =>
    runBaton(['status', ...args], { env: { ...fixture.env, ...env } });

  it('shows several apps with one datacenter down: the rest is printed, the reason given, exit 1, one request per Marathon', async () => {
    fixture.writeApp('web1', { 'base.json': webApp('/shop/web1'), 'prod-deploy.json': {} });
    fixture.writeApp('web2', { 'base.json': webApp('/shop/web2', { instances: 1 }), 'prod-deploy.json': {} });
    await deployAs(fixture, 'alice', ['web1', '--env', 'prod', '--dc', 'AA', '--version', '1.4.2', '--yes']);
    await deployAs(fixture, 'alice', ['web2', '--env', 'prod', '--dc', 'AA', '--version', '2.0.1', '--yes']);
    const before = (await aa.requests()).length;

    const result = await status(['--env', 'prod']);
    expect(result.code).toBe(1);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^APP\s+ENV\s+DC\s+VERSION\s+TASKS\s+HEALTH\s+DEPLOYMENT\s+CONFIG CHANGED\s+AUTOSCALER\s+DRIFT$/);
    expect(lines).toContainEqual(expect.stringMatching(/^web1\s+prod\s+AA\s+1\.4\.2\s+2\/2\/2\s+healthy\s+-\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+-\s+-$/));
    expect(lines).toContainEqual(expect.stringMatching(/^web2\s+prod\s+AA\s+2\.0\.1\s+1\/1\/1\s+healthy\s/));
    expect(lines).toContainEqual(expect.stringMatching(/^web1\s+prod\s+BB\s+unreachable\s+-\s+\?\s/));
    expect(result.stdout).toMatch(new RegExp(`Unreachable:\\n  prod/BB \\(${dcs.down.replace(/\./g, '\\.')}\\): .*ECONNREFUSED`));
    expect(result.stdout).not.toContain('\u001b[');

    const asked = (await aa.requests()).slice(before);
    expect(asked.map((r) => `${r.method} ${r.path}`).sort()).toEqual(['GET /v2/apps', 'GET /v2/deployments']);
    expect(asked.find((r) => r.path === '/v2/apps')?.query).toBe(
      'embed=apps.tasks&embed=apps.counts&embed=apps.deployments&embed=apps.lastTaskFailure',
    );

    const json = await status(['--env', 'prod', '--json']);
    expect(json.code).toBe(1);
    const doc = JSON.parse(json.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.datacenters).toEqual([
      { env: 'prod', dc: 'AA', marathon: aa.url, reachable: true },
      { env: 'prod', dc: 'BB', marathon: dcs.down, reachable: false, reason: expect.stringContaining('ECONNREFUSED') },
    ]);
    expect(doc.apps.find((c: { app: string; dc: string }) => c.app === 'web1' && c.dc === 'AA')).toMatchObject({
      appId: '/shop/web1',
      image: 'registry.example.com/shop/web:1.4.2',
      version: '1.4.2',
      health: 'healthy',
      tasks: { healthy: 2, running: 2, target: 2 },
      deployment: null,
      configDrift: [],
      lastConfigChangeAt: expect.stringMatching(/^\d{4}-/),
    });
  });

  it('exits 0 when every Marathon answers, and shows one app on its own with --env', async () => {
    fixture.writeApp('web1', { 'qa-deploy.json': webApp('/shop/web1', { instances: 1 }) });
    fixture.writeApp('other', { 'qa-deploy.json': webApp('/shop/other', { instances: 1 }) });
    await deployAs(fixture, 'alice', ['web1', '--env', 'qa', '--version', '1.0.0']);
    const result = await status(['web1', '--env', 'qa']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^web1\s+qa\s+AA\s+1\.0\.0\s+1\/1\/1\s+healthy/m);
    expect(result.stdout).toMatch(/^web1\s+qa\s+BB\s+1\.0\.0\s+1\/1\/1\s+healthy/m);
    expect(result.stdout).not.toContain('other');
    expect(result.stdout).not.toContain('Drift:');

    const unknown = await status(['nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('nope: no such app');
  });

  it('asks only the environments the app has a config for: another environment being down does not count', async () => {
    fixture.writeApp('regapp', { 'qa-deploy.json': webApp('/shop/regapp', { instances: 1 }) });
    await deployAs(fixture, 'alice', ['regapp', '--env', 'qa', '--version', '1.0.0']);
    const result = await status(['regapp']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^regapp\s+qa\s+AA\s+1\.0\.0\s/m);
    expect(result.stdout).not.toContain('prod');
    expect(result.stdout).not.toContain('Unreachable');
    const doc = JSON.parse((await status(['regapp', '--json'])).stdout);
    expect(doc.datacenters.map((d: { env: string; dc: string }) => `${d.env}/${d.dc}`)).toEqual(['qa/AA', 'qa/BB']);

    // Naming the environment asks it, app or not.
    const named = await status(['--env', 'prod']);
    expect(named.code).toBe(1);
    expect(named.stdout).toContain('No apps are configured for the selected environments.');
  });

  it('shares a request between datacenters on one Marathon only when they use the same credentials', async () => {
    const own = makeDeployFixture({
      qa: { datacenters: { AA: { url: aa.url } } },
      yz: { datacenters: { AA: { url: aa.url, credentialsEnv: 'NOPE_UNSET' } } },
      zz: { datacenters: { AA: { url: aa.url, credentialsEnv: 'BATON_TEST_ZZ_CREDENTIALS' } } },
    });
    try {
      own.writeApp('web', { 'base.json': webApp('/shop/web', { instances: 1 }), 'qa-deploy.json': {}, 'yz-deploy.json': {}, 'zz-deploy.json': {} });
      await deployAs(own, 'alice', ['web', '--env', 'qa', '--version', '1.0.0']);
      const env = { ...own.env, NOPE_UNSET: undefined, BATON_TEST_ZZ_CREDENTIALS: 'zz:secret-zz' };
      const before = (await aa.requests()).length;
      const result = await runBaton(['status', 'web'], { env });
      expect(result.code, result.stdout + result.stderr).toBe(1);
      expect(result.stdout).toMatch(/^web\s+qa\s+AA\s+1\.0\.0\s.*healthy/m);
      expect(result.stdout).toMatch(/^web\s+zz\s+AA\s+1\.0\.0\s.*healthy/m);
      expect(result.stdout).toMatch(/^web\s+yz\s+AA\s+error\s+-\s+\?\s/m);
      expect(result.stdout).toContain(`Not asked (datacenter config):\n  yz/AA (${aa.url}): datacenter AA: environment variable NOPE_UNSET`);
      expect(result.stdout).not.toContain('Unreachable');
      expect(result.stdout + result.stderr).not.toContain('secret-zz');
      // qa (anonymous) and zz (its own credentials) each get their own request; yz none.
      const asked = (await aa.requests()).slice(before).filter((r) => r.path === '/v2/apps');
      expect(asked).toHaveLength(2);

      const doc = JSON.parse((await runBaton(['status', 'web', '--json'], { env })).stdout);
      expect(doc.datacenters.find((d: { env: string }) => d.env === 'yz')).toEqual({
        env: 'yz',
        dc: 'AA',
        marathon: aa.url,
        reachable: false,
        notAsked: true,
        reason: expect.stringContaining('NOPE_UNSET'),
      });
    } finally {
      own.cleanup();
    }
  });

  it('flags config drift (but not the tag or autoscaled instances) and versions that differ between datacenters', async () => {
    fixture.writeApp('web1', { 'qa-deploy.json': webApp('/shop/web1', { instances: 1 }) });
    const autoscaled = webApp('/shop/scaled', { instances: 1, labels: { AUTOSCALE_MIN: '1', AUTOSCALE_MAX: '4', AUTOSCALE_TARGET_CPU: '0.5' } });
    fixture.writeApp('scaled', { 'qa-deploy.json': autoscaled });
    await deployAs(fixture, 'alice', ['web1', '--env', 'qa', '--version', '1.0.0']);
    await deployAs(fixture, 'alice', ['scaled', '--env', 'qa', '--version', '3.0.0']);
    await deployAs(fixture, 'bob', ['web1', '--env', 'qa', '--dc', 'BB', '--version', '1.1.0']);
    // Someone edits AA by hand (Marathon's default partial update), and the autoscaler scales the other app.
    const clientAA = aa.client();
    await clientAA.putApp({ id: '/shop/web1', mem: 256, env: { LOG_LEVEL: 'info', DEBUG: '1' } });
    await clientAA.scaleApp('/shop/scaled', 3);

    const result = await status(['--env', 'qa']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^web1\s+qa\s+AA\s+1\.0\.0\s.*config \(2\), versions$/m);
    expect(result.stdout).toMatch(/^web1\s+qa\s+BB\s+1\.1\.0\s.*\s+versions$/m);
    expect(result.stdout).toMatch(/^scaled\s+qa\s+AA\s+3\.0\.0\s.*\s1-4 cpu 0\.5\s+-$/m);
    const drift = result.stdout.slice(result.stdout.indexOf('Drift:'));
    expect(drift).toContain('web1 qa: versions differ between datacenters: AA 1.0.0, BB 1.1.0');
    expect(drift).toContain('web1 qa/AA (/shop/web1) differs from deploy-configs; a deploy would change:');
    expect(drift).toContain('~ mem: 256 → 128');
    expect(drift).toContain('- env.DEBUG: "1"');
    expect(drift).not.toContain('scaled');

    const doc = JSON.parse((await status(['--env', 'qa', '--json'])).stdout);
    const scaled = doc.apps.find((c: { app: string; dc: string }) => c.app === 'scaled' && c.dc === 'AA');
    expect(scaled).toMatchObject({ tasks: { target: 3 }, autoscaler: { min: '1', max: '4', targetCpu: '0.5' }, configDrift: [] });
    expect(doc.versionDrift).toEqual([{ app: 'web1', env: 'qa', versions: { AA: '1.0.0', BB: '1.1.0' } }]);
  });

  it('shows a deployment in progress with its step', async () => {
    fixture.writeApp('web1', { 'qa-deploy.json': webApp('/shop/web1', { instances: 1 }) });
    await deployAs(fixture, 'alice', ['web1', '--env', 'qa', '--dc', 'AA', '--version', '1.0.0']);
    await deployAs(fixture, 'alice', ['web1', '--env', 'qa', '--dc', 'AA', '--version', '1.1.0-stuck', '--timeout', '0.5', '--no-rollback'], 6);
    const result = await status(['web1', '--env', 'qa', '--json']);
    const cell = JSON.parse(result.stdout).apps.find((c: { dc: string }) => c.dc === 'AA');
    expect(cell).toMatchObject({ health: 'deploying', version: '1.1.0-stuck', deployment: { id: expect.any(String), step: expect.stringMatching(/^step 1\/1: \w+/) } });
    const table = await status(['web1', '--env', 'qa']);
    expect(table.stdout).toMatch(/^web1\s+qa\s+AA\s+1\.1\.0-stuck\s+1\/1\/1\s+deploying\s+step 1\/1: \w+/m);
    await aa.client().deleteDeployment(cell.deployment.id, { force: true });
  });

  it('fits the table to the width and paints only when colour is wanted', async () => {
    fixture.writeApp('a-rather-long-application-name', { 'qa-deploy.json': webApp('/shop/long', { instances: 1 }) });
    await deployAs(fixture, 'alice', ['a-rather-long-application-name', '--env', 'qa', '--version', '1.0.0-with-a-long-build-suffix']);
    const narrow = await status(['--env', 'qa'], { COLUMNS: '60' });
    expect(narrow.code).toBe(0);
    const tableLines = narrow.stdout.split('\n').filter((l) => /^(APP|a-rather)/.test(l));
    expect(tableLines).toHaveLength(3);
    for (const line of tableLines) expect(line.length).toBeLessThanOrEqual(60);
    expect(tableLines[0]).not.toContain('AUTOSCALER');
    expect(tableLines[1]).toContain('…');

    const wide = await status(['--env', 'qa']);
    expect(wide.stdout).toContain('a-rather-long-application-name  qa');
    expect(wide.stdout).not.toContain('\u001b[');
    const coloured = await status(['--env', 'qa'], { NO_COLOR: undefined, FORCE_COLOR: '1' });
    expect(coloured.stdout).toContain('\u001b[32mhealthy');
  });
});
