import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBaton } from './support/cli.js';
import { makeDeployFixture, webApp, type DeployFixture } from './support/deploy-fixture.js';
import { fastTimings, marathonRequests, startEmulator, type RunningEmulator } from './support/emulator.js';
import { deployAs } from './support/releases.js';

interface Entry {
  kind: 'version' | 'attempt';
  marathonVersion: string | null;
  time?: string;
  version?: string;
  current: boolean | null;
  abandoned: boolean | null;
  change: string | null;
  audit?: { user: string; command: string; outcome: string; exitCode?: number; message?: string };
}

interface Datacenter {
  datacenter: string;
  source: string;
  reachable: boolean;
  reason?: string;
  notAsked?: boolean;
  deployed: boolean | null;
  currentVersion?: string | null;
  totalVersions: number | null;
  auditedVersions?: number;
  totalAttempts: number;
  entries: Entry[];
}

/** Newest first: kind, Marathon version known?, tag, who, outcome and exit code. */
const row = (e: Entry) => [e.kind, e.marathonVersion === null ? null : 'known', e.version ?? null, e.audit?.user ?? null, `${e.audit?.outcome} ${e.audit?.exitCode}`];

describe('baton history while one datacenter is down', () => {
  // BB goes down after the deploys: its Marathon is closed, so its port is free and nothing answers there.
  let aa: RunningEmulator;
  let bb: RunningEmulator;
  let fixture: DeployFixture;
  const password = 'pa55-Outage-Secret';
  const creds = { MARATHON_BB_CREDS: `deployer:${password}` };
  beforeAll(async () => {
    aa = await startEmulator({ timings: fastTimings });
    bb = await startEmulator({ timings: fastTimings, credentials: { username: 'deployer', password } });
    fixture = makeDeployFixture({ qa: { datacenters: { AA: { url: aa.url }, BB: { url: bb.url, credentialsEnv: 'MARATHON_BB_CREDS' } } } });
    fixture.writeApp('web', { 'base.json': webApp('/shop/web', { instances: 1 }), 'qa-deploy.json': {} });
    fixture.env = { ...fixture.env, ...creds };
  });
  afterAll(async () => {
    fixture?.cleanup();
    await aa?.close();
    await bb?.close().catch(() => undefined);
  });

  it('lists the audited deploys and attempts of the datacenter that is down, marked as from the audit log only, and exits 1', async () => {
    await deployAs(fixture, 'alice', ['web', '--env', 'qa', '--version', '1.0.0']);
    await deployAs(fixture, 'bob', ['web', '--env', 'qa', '--dc', 'BB', '--version', '1.1.0-crash'], 5);
    await deployAs(fixture, 'carol', ['web', '--env', 'qa', '--version', '1.1.0']);
    await deployAs(fixture, 'dave', ['web', '--env', 'qa', '--version', '1.2.0', '--timeout', 'soon'], 2);
    await bb.close();
    // During the outage: nothing reaches BB, and the record says so.
    await deployAs(fixture, 'erin', ['web', '--env', 'qa', '--dc', 'BB', '--version', '1.2.0'], 8);

    const json = await runBaton(['history', 'web', '--env', 'qa', '--json'], { env: fixture.env });
    expect(json.code, json.stderr).toBe(1);
    const [inAA, inBB] = (JSON.parse(json.stdout) as { datacenters: Datacenter[] }).datacenters;
    expect(inAA).toMatchObject({ datacenter: 'AA', source: 'marathon-and-audit-log', reachable: true, deployed: true, totalVersions: 2 });
    expect(inAA?.entries.map(row)).toEqual([
      ['attempt', null, '1.2.0', 'dave', 'invalid 2'],
      ['version', 'known', '1.1.0', 'carol', 'succeeded 0'],
      ['version', 'known', '1.0.0', 'alice', 'succeeded 0'],
    ]);

    expect(inBB).toMatchObject({
      datacenter: 'BB',
      source: 'audit-log-only',
      reachable: false,
      deployed: null,
      currentVersion: null,
      totalVersions: null,
      auditedVersions: 3,
      totalAttempts: 2,
    });
    expect(inBB?.reason).toMatch(/^BB: unreachable: .*ECONNREFUSED/);
    expect(inBB?.entries.map(row)).toEqual([
      ['attempt', null, '1.2.0', 'erin', 'unreachable 8'],
      ['attempt', null, '1.2.0', 'dave', 'invalid 2'],
      ['version', 'known', '1.1.0', 'carol', 'succeeded 0'],
      ['version', 'known', '1.1.0-crash', 'bob', 'failed-rolled-back 5'],
      ['version', 'known', '1.0.0', 'alice', 'succeeded 0'],
    ]);
    // Only Marathon could say which runs now, which were reverted and what each changed.
    for (const entry of inBB!.entries.filter((e) => e.kind === 'version')) {
      expect([entry.current, entry.abandoned, entry.change]).toEqual([null, null, null]);
    }
    // What the audit log recorded is what BB's Marathon held when it was up.
    const recorded = fixture.auditLines().filter((r) => r.dc === 'BB' && r.marathonVersion);
    expect(inBB!.entries.filter((e) => e.kind === 'version').map((e) => e.marathonVersion)).toEqual(recorded.map((r) => r.marathonVersion).reverse());

    const table = await runBaton(['history', 'web', '--env', 'qa'], { env: fixture.env });
    expect(table.code).toBe(1);
    const lines = table.stdout.split('\n');
    const bbAt = lines.indexOf(`web qa/BB (/shop/web on ${bb.url})`);
    expect(bbAt, table.stdout).toBeGreaterThan(0);
    expect(lines[bbAt + 1]).toMatch(new RegExp(`^  from the audit log only; Marathon ${bb.url} could not be asked: BB: unreachable: .*ECONNREFUSED`));
    expect(lines[bbAt + 2]).toMatch(/^\s+MARATHON VERSION\s+VERSION\s+CHANGE\s+DEPLOYED BY\s+COMMAND\s+OUTCOME$/);
    expect(lines[bbAt + 3]).toMatch(/^\s+- \(\S+ \S+Z\)\s+1\.2\.0\s+none\s+erin\s+deploy\s+unreachable \(exit 8\): BB: unreachable/);
    expect(lines[bbAt + 5]).toMatch(/^\s+\S+Z\s+1\.1\.0\s+\?\s+carol\s+deploy\s+succeeded \(exit 0\)/);
    expect(lines[bbAt + 6]).toMatch(/^\s+\S+Z\s+1\.1\.0-crash\s+\?\s+bob\s+deploy\s+failed-rolled-back \(exit 5\)/);
    expect(lines[bbAt + 7]).toMatch(/^\s+\S+Z\s+1\.0\.0\s+\?\s+alice\s+deploy\s+succeeded \(exit 0\)/);
    // AA answered: its table is the joined one, with the running version marked.
    expect(table.stdout).toMatch(/web qa\/AA [^\n]*\n[^\n]*MARATHON VERSION[^\n]*\n\s+- \(\S+ \S+Z\)\s+1\.2\.0\s+none\s+dave[^\n]*\n\s+\*\s+\S+Z\s+1\.1\.0\s+config\s+carol/);

    const cut = await runBaton(['history', 'web', '--env', 'qa', '--dc', 'BB', '--limit', '2'], { env: fixture.env });
    expect(cut.code).toBe(1);
    expect(cut.stdout.split('\n')[0]).toBe(`web qa/BB (/shop/web on ${bb.url}) (newest 2 of 5; --limit for more)`);

    const everything = [json.stdout, json.stderr, table.stdout, table.stderr, cut.stdout, JSON.stringify(fixture.auditLines())].join('\n');
    expect(everything).not.toContain(password);
    expect(everything).not.toContain(Buffer.from(`deployer:${password}`).toString('base64'));
  });
});

describe('baton history when a datacenter\'s credential variable is unset', () => {
  let aa: RunningEmulator;
  let bb: RunningEmulator;
  let fixture: DeployFixture;
  const password = 'pa55-Unset-Secret';
  beforeAll(async () => {
    aa = await startEmulator({ timings: fastTimings });
    bb = await startEmulator({ timings: fastTimings, credentials: { username: 'deployer', password } });
    fixture = makeDeployFixture({ qa: { datacenters: { AA: { url: aa.url }, BB: { url: bb.url, credentialsEnv: 'MARATHON_BB_CREDS' } } } });
    fixture.writeApp('web', { 'base.json': webApp('/shop/web', { instances: 1 }), 'qa-deploy.json': {} });
  });
  afterAll(async () => {
    fixture?.cleanup();
    await aa?.close();
    await bb?.close();
  });

  it('lists that datacenter from the audit log only, naming the variable, asks the others, and exits 1', async () => {
    const withCreds = { ...fixture, env: { ...fixture.env, MARATHON_BB_CREDS: `deployer:${password}` } };
    await deployAs(withCreds, 'alice', ['web', '--env', 'qa', '--version', '1.0.0']);
    await deployAs(withCreds, 'bob', ['web', '--env', 'qa', '--version', '1.1.0-crash', '--dc', 'BB'], 5);
    const bbRequestsBefore = (await marathonRequests(bb.url)).length;

    // The variable is unset for history (fixture.env never had it); an empty value counts as unset.
    for (const env of [fixture.env, { ...fixture.env, MARATHON_BB_CREDS: '' }]) {
      const json = await runBaton(['history', 'web', '--env', 'qa', '--json'], { env });
      expect(json.code, json.stderr).toBe(1);
      const [inAA, inBB] = (JSON.parse(json.stdout) as { datacenters: Datacenter[] }).datacenters;
      expect(inAA).toMatchObject({ datacenter: 'AA', source: 'marathon-and-audit-log', reachable: true, totalVersions: 1 });
      expect(inAA).not.toHaveProperty('notAsked');
      expect(inBB).toMatchObject({ datacenter: 'BB', source: 'audit-log-only', reachable: false, notAsked: true, deployed: null, auditedVersions: 2 });
      expect(inBB?.reason).toMatch(/^datacenter BB: environment variable MARATHON_BB_CREDS \(.*credentialsEnv\) is not set: export MARATHON_BB_CREDS=<user>:<password> first/);
      expect(inBB?.entries.map(row)).toEqual([
        ['version', 'known', '1.1.0-crash', 'bob', 'failed-rolled-back 5'],
        ['version', 'known', '1.0.0', 'alice', 'succeeded 0'],
      ]);
    }

    const table = await runBaton(['history', 'web', '--env', 'qa', '--dc', 'BB'], { env: fixture.env });
    expect(table.code, table.stderr).toBe(1);
    expect(table.stderr).toBe('');
    const lines = table.stdout.split('\n');
    expect(lines[0]).toBe(`web qa/BB (/shop/web on ${bb.url})`);
    expect(lines[1]).toBe(
      `  from the audit log only; Marathon ${bb.url} not asked (datacenter config): datacenter BB: environment variable MARATHON_BB_CREDS (user:password for HTTP Basic, named by credentialsEnv) is not set: export MARATHON_BB_CREDS=<user>:<password> first, or remove credentialsEnv from environments.json if that Marathon needs none`,
    );
    expect(lines[3]).toMatch(/^\s+\S+Z\s+1\.1\.0-crash\s+\?\s+bob\s+deploy\s+failed-rolled-back \(exit 5\)/);
    // Not asked means no request at all, not an anonymous one.
    expect((await marathonRequests(bb.url)).length).toBe(bbRequestsBefore);

    // Invalid input is still exit 2.
    const unknownEnv = await runBaton(['history', 'web', '--env', 'nope'], { env: fixture.env });
    expect(unknownEnv.code).toBe(2);
    const badLimit = await runBaton(['history', 'web', '--env', 'qa', '--limit', '0'], { env: fixture.env });
    expect(badLimit.code).toBe(2);

    // With the variable set, BB is asked again and its value never shows.
    const asked = await runBaton(['history', 'web', '--env', 'qa', '--json'], { env: withCreds.env });
    expect(asked.code, asked.stderr).toBe(0);
    expect([asked.stdout, asked.stderr, table.stdout].join('\n')).not.toContain(password);
  });
});
