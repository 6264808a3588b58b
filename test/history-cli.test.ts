import net from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { appendAuditRecord } from '../src/audit/log.js';
import type { MarathonClient } from '../src/marathon/client.js';
import { runBaton } from './support/cli.js';
import { makeDeployFixture, startBaton, webApp, type DeployFixture } from './support/deploy-fixture.js';
import { startEmulator, type RunningEmulator } from './support/emulator.js';
import { deployAs, qaAndProdWithOneDown } from './support/releases.js';
import { runOnTty } from './support/tty.js';

interface Entry {
  kind: 'version' | 'attempt';
  marathonVersion: string | null;
  time?: string;
  version?: string;
  current: boolean;
  change: string;
  audit?: { user: string; command: string; outcome: string; exitCode?: number; message?: string; time: string; matchedBy: string };
}

/** Newest first: ["version", tag, who, outcome] or ["attempt", tag, who, "outcome exit-code"]. */
const timelineRow = (e: Entry) =>
  e.kind === 'version'
    ? ['version', e.version, e.audit?.user ?? null, e.audit?.outcome ?? null]
    : ['attempt', e.version ?? null, e.audit?.user, `${e.audit?.outcome} ${e.audit?.exitCode}`];

/** An attempt row of the table: "- (2024-05-02 10:25:13Z)" where versions show their Marathon version. */
const ATTEMPT = String.raw`^\s+- \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\)\s+`;

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
    // Marathon gives the version a revert restores its process start time: older than what it undid, listed where it became current.
    const [scaled, restored, crashed] = inAA!.entries.map((e) => Date.parse(e.marathonVersion ?? ''));
    expect(restored).toBeLessThan(crashed!);
    expect(scaled).toBeGreaterThan(crashed!);

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

  it('lists every audited attempt that created no Marathon version among the versions: who, when, outcome, exit code, message', async () => {
    await deployAs(fixture, 'alice', ['web', '--env', 'qa', '--version', '1.0.0']);
    await deployAs(fixture, 'bob', ['web', '--env', 'qa', '--dc', 'AA', '--version', '1.1.0-stuck', '--timeout', '0.3', '--no-rollback'], 6);
    // Marathon answers 409: bob's deployment still locks the app in AA; BB is then skipped.
    const lockedFrom = Date.now();
    await deployAs(fixture, 'carol', ['web', '--env', 'qa', '--version', '1.2.0'], 4);
    const lockedUntil = Date.now();
    const stuck = (await aa.client().getApp('/shop/web')).deployments?.[0]?.id;
    // Refused before anything was read: aimed at AA only.
    await deployAs(fixture, 'dave', ['web', '--env', 'qa', '--dc', 'AA', '--version', '1.2.0', '--timeout', 'soon'], 2);
    // Ctrl-C while the registry check waits for a registry that never answers.
    const registry = await silentServer();
    try {
      fixture.writeApp('web', { 'qa-deploy.json': { container: { docker: { image: `${registry.host}/shop/web:latest` } } } });
      const run = startBaton(['deploy', 'web', '--env', 'qa', '--version', '1.3.0', '--pin-digest'], { ...fixture.env, BATON_USER: 'erin' });
      await registry.connected;
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(130);
      expect(run.output().stderr).toContain('baton: interrupted (SIGINT) before anything was sent to Marathon');
    } finally {
      await registry.close();
    }

    const result = await history(['--env', 'qa', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const [inAA, inBB] = (JSON.parse(result.stdout) as { datacenters: { totalVersions: number; totalAttempts: number; entries: Entry[] }[] }).datacenters;
    expect(inAA?.entries.map(timelineRow)).toEqual([
      ['attempt', '1.3.0', 'erin', 'interrupted 130'],
      ['attempt', '1.2.0', 'dave', 'invalid 2'],
      // Marathon stores the version of a PUT it refuses with 409: listed, credited to the refused attempt, never ran.
      ['version', '1.2.0', 'carol', 'rejected'],
      ['version', '1.1.0-stuck', 'bob', 'timeout'],
      ['version', '1.0.0', 'alice', 'succeeded'],
    ]);
    expect(inBB?.entries.map(timelineRow)).toEqual([
      ['attempt', '1.3.0', 'erin', 'interrupted 130'],
      ['attempt', '1.2.0', 'carol', 'skipped 4'],
      ['version', '1.0.0', 'alice', 'succeeded'],
    ]);
    const refused = inAA!.entries[2]!;
    expect(refused).toMatchObject({ kind: 'version', neverRan: true, current: false, abandoned: false, audit: { command: 'deploy', exitCode: 4 } });
    expect(refused.audit?.message).toContain(`AA: Marathon refused: the app is locked by 1 running deployment(s):\n  - ${stuck}:`);
    expect(Date.parse(refused.marathonVersion!)).toBeGreaterThanOrEqual(lockedFrom);
    expect(Date.parse(refused.marathonVersion!)).toBeLessThanOrEqual(lockedUntil);
    expect(inBB?.entries[1]?.audit?.message).toBe('not touched: AA rejected');
    expect([inAA?.totalVersions, inAA?.totalAttempts]).toEqual([3, 2]);

    const table = await history(['--env', 'qa', '--dc', 'AA']);
    expect(table.code).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toBe(`web qa/AA (/shop/web on ${aa.url})`);
    expect(lines[2]).toMatch(new RegExp(`${ATTEMPT}1\\.3\\.0\\s+none\\s+erin\\s+deploy\\s+interrupted \\(exit 130\\): interrupted \\(SIGINT\\) before anything was sent to Marathon$`));
    expect(lines[3]).toMatch(new RegExp(`${ATTEMPT}1\\.2\\.0\\s+none\\s+dave\\s+deploy\\s+invalid \\(exit 2\\): --timeout "soon": expected a positive duration: seconds \\(300\\) or with a unit \\(90s, 5m, 1h\\)$`));
    // Marathon's multi-line answer becomes one line.
    expect(lines[4]).toMatch(new RegExp(`^\\s+\\S+Z\\s+1\\.2\\.0\\s+config, never ran\\s+carol\\s+deploy\\s+rejected \\(exit 4\\): AA: Marathon refused: the app is locked by 1 running deployment\\(s\\): - ${stuck}: .* or re-run with --force`));
    expect(lines[5]).toMatch(/^\s+\*\s+\S+Z\s+1\.1\.0-stuck\s+config\s+bob\s+deploy\s+timeout$/);
    expect(lines[6]).toMatch(/^\s+\S+Z\s+1\.0\.0\s+config\s+alice\s+deploy\s+succeeded$/);

    // COLUMNS=120 (or a 120-column terminal): every line fits, the long outcomes cut with "…".
    const narrow = await runBaton(['history', 'web', '--env', 'qa', '--dc', 'AA'], { env: { ...fixture.env, COLUMNS: '120' } });
    const narrowLines = narrow.stdout.split('\n').filter(Boolean);
    expect(narrowLines.length).toBeGreaterThan(5);
    for (const line of narrowLines) expect([...line].length, line).toBeLessThanOrEqual(120);
    expect(narrow.stdout).toContain('…');

    const cut = await history(['--env', 'qa', '--dc', 'AA', '--limit', '2']);
    expect(cut.stdout.split('\n')[0]).toBe(`web qa/AA (/shop/web on ${aa.url}) (newest 2 of 5; --limit for more)`);
  });

  it('shows the attempts for an app Marathon never created, e.g. when its first deploy was refused', async () => {
    await deployAs(fixture, 'alice', ['web', '--env', 'prod', '--version', '1.0.0'], 3);
    const result = await history(['--env', 'prod', '--dc', 'AA']);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[1]).toBe('  not deployed in this datacenter');
    expect(lines[3]).toMatch(
      new RegExp(`${ATTEMPT}1\\.0\\.0\\s+none\\s+alice\\s+deploy\\s+refused \\(exit 3\\): prod needs confirmation: no terminal to ask on`),
    );
    const doc = JSON.parse((await history(['--env', 'prod', '--dc', 'AA', '--json'])).stdout);
    expect(doc.datacenters[0]).toMatchObject({ deployed: false, totalVersions: 0, totalAttempts: 1, entries: [{ kind: 'attempt', version: '1.0.0' }] });
  });

  it('shows a datacenter that is down and one where the app is not deployed, and exits 1 for the unreachable one', async () => {
    await deployAs(fixture, 'alice', ['web', '--env', 'prod', '--dc', 'AA', '--version', '1.0.0', '--yes']);
    const result = await history(['--env', 'prod']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/web prod\/AA [\s\S]*\*\s+\S+Z\s+1\.0\.0\s+config\s+alice\s+deploy\s+succeeded/);
    expect(result.stdout).toMatch(
      new RegExp(`web prod/BB \\(/shop/web on ${dcs.down}\\)\\n  from the audit log only; Marathon ${dcs.down} could not be asked: BB: unreachable: .*ECONNREFUSED\\)\\n  no audited deploys or rollbacks here\\n`),
    );

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

/** A TCP server that accepts connections and never answers (a registry that hangs). */
async function silentServer(): Promise<{ host: string; connected: Promise<void>; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let connected!: () => void;
  const first = new Promise<void>((resolve) => (connected = resolve));
  const server = net.createServer((socket) => {
    sockets.add(socket);
    connected();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    connected: first,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('baton history with credentials and at the prompt', () => {
  let secured: RunningEmulator;
  let fixture: DeployFixture;
  const password = 'pa55-History-Secret';
  const good = { MARATHON_PROD_CREDS: `deployer:${password}` };
  beforeAll(async () => {
    secured = await startEmulator({ credentials: { username: 'deployer', password } });
    fixture = makeDeployFixture({ prod: { confirm: true, datacenters: { AA: { url: secured.url, credentialsEnv: 'MARATHON_PROD_CREDS' } } } });
    fixture.writeApp('web', { 'prod-deploy.json': webApp('/secure/web', { instances: 1 }) });
  });
  afterAll(async () => {
    fixture?.cleanup();
    await secured?.close();
  });

  it('shows a deploy Marathon refused for its credentials, one declined with Ctrl-C at the prompt and a failed rollback, never the credential', async () => {
    const as = (user: string, extra: Record<string, string> = good) => ({ env: { ...fixture.env, ...extra, BATON_USER: user } });
    expect((await runBaton(['deploy', 'web', '--env', 'prod', '--version', '1.0.0', '--yes'], as('alice'))).code).toBe(0);
    const denied = await runBaton(['deploy', 'web', '--env', 'prod', '--version', '1.1.0', '--yes'], as('mallory', { MARATHON_PROD_CREDS: 'deployer:wrong-Secret-42' }));
    expect(denied.code).toBe(4);
    const prompt = await runOnTty(['deploy', 'web', '--env', 'prod', '--version', '1.1.0'], { ...fixture.env, ...good, BATON_USER: 'bob' }, { answer: '\u0003' });
    expect(prompt.code, prompt.screen).toBe(3);
    const rollback = await runBaton(['rollback', 'web', '--env', 'prod', '--yes'], as('carol'));
    expect(rollback.code, rollback.stderr).toBe(2);

    const json = await runBaton(['history', 'web', '--env', 'prod', '--json'], as('reader'));
    expect(json.code, json.stderr).toBe(0);
    const entries = JSON.parse(json.stdout).datacenters[0].entries as Entry[];
    expect(entries.map(timelineRow)).toEqual([
      ['attempt', null, 'carol', 'invalid 2'],
      ['attempt', '1.1.0', 'bob', 'refused 3'],
      ['attempt', '1.1.0', 'mallory', 'rejected 4'],
      ['version', '1.0.0', 'alice', 'succeeded'],
    ]);
    expect(entries[0]?.audit).toMatchObject({ command: 'rollback', message: expect.stringContaining('nothing to roll back to') });
    expect(entries[1]?.audit?.message).toBe('not confirmed: interrupted (Ctrl-C) at the prompt');
    expect(entries[2]?.audit?.message).toMatch(/^AA: Marathon refused the credentials \(401\)/);

    const table = await runBaton(['history', 'web', '--env', 'prod'], as('reader'));
    expect(table.stdout).toMatch(/- \(\S+ \S+Z\)\s+1\.1\.0\s+none\s+mallory\s+deploy\s+rejected \(exit 4\): AA: Marathon refused the credentials \(401\)/);
    const everything = [denied.stdout, denied.stderr, json.stdout, table.stdout, table.stderr, JSON.stringify(fixture.auditLines())].join('\n');
    expect(everything).not.toContain(password);
    expect(everything).not.toContain('wrong-Secret-42');
    expect(everything).not.toContain(Buffer.from('deployer:wrong-Secret-42').toString('base64'));
  });
});
