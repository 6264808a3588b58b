import { beforeEach, describe, expect, it } from 'vitest';
import { appendAuditRecord } from '../src/audit/log.js';
import type { MarathonClient } from '../src/marathon/client.js';
import { runBaton } from './support/cli.js';
import { webApp, type DeployFixture } from './support/deploy-fixture.js';
import { deployAs, qaAndProdWithOneDown } from './support/releases.js';

interface Entry {
  marathonVersion: string;
  version?: string;
  current: boolean;
  change: string;
  audit?: { user: string; command: string; outcome: string; matchedBy: string };
}

describe('baton history against the emulator', () => {
  const dcs = qaAndProdWithOneDown();
  const { aa } = dcs;
  let fixture: DeployFixture;
  beforeEach(() => {
    fixture = dcs.fixture;
    fixture.writeApp('web', { 'base.json': webApp('/shop/web', { instances: 1 }), 'qa-deploy.json': {}, 'prod-deploy.json': {} });
  });

  const history = (args: string[]) => runBaton(['history', 'web', ...args], { env: fixture.env });

  it('lists the versions after several deploys, newest first, with who deployed each and how it ended', async () => {
    await deployAs(fixture, 'alice', ['web', '--env', 'qa', '--version', '1.0.0']);
    await deployAs(fixture, 'bob', ['web', '--env', 'qa', '--version', '1.1.0']);
    await deployAs(fixture, 'carol', ['web', '--env', 'qa', '--dc', 'AA', '--version', '1.2.0-crash'], 5);
    await aa.client().scaleApp('/shop/web', 2);
    await waitForNoDeployments(aa.client());

    const result = await history(['--env', 'qa', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout) as { appId: string; datacenters: { datacenter: string; totalVersions: number; entries: Entry[] }[] };
    expect(doc.appId).toBe('/shop/web');
    const [inAA, inBB] = doc.datacenters;
    const summary = (e: Entry) => [e.version, e.change, e.current, e.audit?.user ?? null, e.audit?.outcome ?? null];
    expect(inAA?.entries.map(summary)).toEqual([
      ['1.1.0', 'scale', true, null, null],
      ['1.1.0', 'config', false, 'carol', 'restored after 1.2.0-crash failed-rolled-back'],
      ['1.2.0-crash', 'config', false, 'carol', 'failed-rolled-back'],
      ['1.1.0', 'config', false, 'bob', 'succeeded'],
      ['1.0.0', 'config', false, 'alice', 'succeeded'],
    ]);
    expect(inAA?.entries[3]?.audit?.matchedBy).toBe('marathon-version');
    expect(inBB?.entries.map(summary)).toEqual([
      ['1.1.0', 'config', true, 'bob', 'succeeded'],
      ['1.0.0', 'config', false, 'alice', 'succeeded'],
    ]);
    const times = inAA!.entries.map((e) => Date.parse(e.marathonVersion));
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    const table = await history(['--env', 'qa', '--dc', 'AA', '--limit', '3']);
    expect(table.code).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toBe(`web qa/AA (/shop/web on ${aa.url}) (newest 3 of 5; --limit for more)`);
    expect(lines[1]).toMatch(/^\s+MARATHON VERSION\s+VERSION\s+CHANGE\s+DEPLOYED BY\s+COMMAND\s+OUTCOME$/);
    expect(lines[2]).toMatch(/^\s+\*\s+\S+Z\s+1\.1\.0\s+scale\s+-\s+-\s+-$/);
    expect(lines[3]).toMatch(/^\s+\S+Z\s+1\.1\.0\s+config\s+carol\s+deploy \(automatic rollback\)\s+restored after 1\.2\.0-crash/);
    expect(lines[4]).toMatch(/^\s+\S+Z\s+1\.2\.0-crash\s+config\s+carol\s+deploy\s+failed-rolled-back$/);
    expect(lines.filter((l) => /Z\s/.test(l))).toHaveLength(3);
  });

  it('joins audit records without a Marathon version by tag and time, and leaves unknown changes unattributed', async () => {
    const client = aa.client();
    const put = async (tag: string) => {
      const app = { ...webApp('/shop/web', { instances: 1 }), container: { type: 'DOCKER', docker: { image: `registry.example.com/shop/web:${tag}` } } };
      const started = await client.putApp(app as never, { partialUpdate: false });
      await waitForNoDeployments(client);
      return started.version;
    };
    const v1 = await put('0.9.0');
    await put('0.9.1');
    // An older Baton recorded the first release without Marathon's version; nobody recorded the second.
    appendAuditRecord(
      { time: new Date(Date.parse(v1) + 2_000).toISOString(), user: 'old-ci', command: 'deploy', app: 'web', env: 'qa', dc: 'AA', toVersion: '0.9.0', outcome: 'succeeded', durationMs: 5_000 },
      fixture.auditLog,
    );
    appendAuditRecord(
      { time: new Date(Date.parse(v1) + 2_000).toISOString(), user: 'elsewhere', command: 'deploy', app: 'web', env: 'qa', dc: 'BB', toVersion: '0.9.0', outcome: 'succeeded', durationMs: 5_000 },
      fixture.auditLog,
    );

    const doc = JSON.parse((await history(['--env', 'qa', '--dc', 'AA', '--json'])).stdout);
    expect(doc.datacenters[0].entries.map((e: Entry) => [e.version, e.audit?.user ?? null, e.audit?.matchedBy ?? null])).toEqual([
      ['0.9.1', null, null],
      ['0.9.0', 'old-ci', 'version-and-time'],
    ]);
  });

  it('shows a datacenter that is down and one where the app is not deployed, and exits 1 for the unreachable one', async () => {
    await deployAs(fixture, 'alice', ['web', '--env', 'prod', '--dc', 'AA', '--version', '1.0.0', '--yes']);
    const result = await history(['--env', 'prod']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/web prod\/AA [\s\S]*\*\s+\S+Z\s+1\.0\.0\s+config\s+alice\s+deploy\s+succeeded/);
    expect(result.stdout).toMatch(new RegExp(`web prod/BB \\(/shop/web on ${dcs.down}\\)\\n  BB: unreachable: .*ECONNREFUSED`));

    const notThere = await history(['--env', 'qa', '--dc', 'BB']);
    expect(notThere.code).toBe(0);
    expect(notThere.stdout).toContain('not deployed in this datacenter');

    const bad = await history(['--env', 'qa', '--limit', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--limit');
  });
});

async function waitForNoDeployments(client: MarathonClient): Promise<void> {
  const until = Date.now() + 10_000;
  while ((await client.listDeployments()).length > 0) {
    if (Date.now() > until) throw new Error('deployments did not finish');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
