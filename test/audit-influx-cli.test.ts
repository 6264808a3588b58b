import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expectNoSecrets, runBaton } from './support/cli.js';
import { makeDeployFixture, startBaton, webApp, type DeployFixture } from './support/deploy-fixture.js';
import { holdingProxy } from './support/holding-proxy.js';
import { faultProxy } from './support/fault-proxy.js';
import { startInfluxDb, type InfluxDbServer } from './support/influxdb.js';
import { closedPortUrl, deployAs, emulatedDatacenters } from './support/releases.js';

// The shared audit trail against a real InfluxDB 1.x and the real CLI: one machine deploys, another (its own config dir and
// an empty local audit log, the same InfluxDB) sees who deployed what and rolls back to the same target.

const DB = 'baton_audit_test';
const SECRET = 'influx-s3cret-pw';
const CREDENTIALS = { BATON_INFLUX_CREDENTIALS: `auditor:${SECRET}` };

let influx: InfluxDbServer;
beforeAll(async () => {
  influx = await startInfluxDb();
}, 120_000);
afterAll(async () => {
  await influx?.stop();
});

interface Series {
  name: string;
  columns: string[];
  values: unknown[][];
}

async function influxQuery(q: string): Promise<Series[]> {
  const response = await fetch(`${influx.url}/query?${new URLSearchParams({ db: DB, q, epoch: 'ms' })}`);
  const body = (await response.json()) as { results: { series?: Series[]; error?: string }[] };
  if (body.results[0]?.error) throw new Error(body.results[0].error);
  return body.results[0]?.series ?? [];
}

/** Every point as an object of its columns (tags and fields), oldest first. */
async function auditPoints(where = ''): Promise<Record<string, unknown>[]> {
  const series = await influxQuery(`SELECT * FROM "baton_audit"${where}`);
  return series.flatMap((s) => s.values.map((row) => Object.fromEntries(s.columns.map((c, i) => [c, row[i]]))));
}

describe('the shared audit trail in InfluxDB', () => {
  const dcs = emulatedDatacenters();
  let machines: DeployFixture[] = [];
  /** A machine of its own: its deploy-configs (same environments, same InfluxDB) and an empty local audit log. */
  const machine = (audit: unknown = { influx: { url: influx.url, database: DB, credentialsEnv: 'BATON_INFLUX_CREDENTIALS' } }) => {
    const fixture = makeDeployFixture({ qa: { datacenters: { AA: { url: dcs.aa.url }, BB: { url: dcs.bb.url } } } }, { audit });
    fixture.writeApp('web', { 'base.json': webApp('/shop/web', { instances: 1 }), 'qa-deploy.json': {} });
    Object.assign(fixture.env, CREDENTIALS);
    machines.push(fixture);
    return fixture;
  };
  beforeEach(async () => {
    await fetch(`${influx.url}/query`, { method: 'POST', body: new URLSearchParams({ q: `DROP DATABASE "${DB}"` }) });
  });
  afterEach(() => {
    for (const m of machines) m.cleanup();
    machines = [];
  });

  it('writes every local record to InfluxDB, tagged for queries, with the record as JSON and its time in ms', async () => {
    const deployer = machine();
    const result = await deployAs(deployer, 'alice', ['web', '--env', 'qa', '--version', '1.0.0']);
    expectNoSecrets(result, [SECRET]);
    expect(result.stderr).not.toMatch(/shared audit trail/);

    const local = deployer.allAuditLines();
    expect(local.map((r) => [r.outcome, r.dc ?? null])).toEqual([
      ['started', null],
      ['succeeded', 'AA'],
      ['succeeded', 'BB'],
    ]);
    const points = await auditPoints();
    expect(points).toHaveLength(3);
    for (const [i, point] of points.entries()) {
      const record = local[i]!;
      expect(JSON.parse(point.record as string)).toEqual(record);
      expect(point.time).toBe(Date.parse(record.time as string));
      expect(point).toMatchObject({ app: 'web', env: 'qa', user: 'alice', command: 'deploy', outcome: record.outcome, dc: record.dc ?? null });
    }
    expect(points[1]).toMatchObject({ exitCode: 0, text: 'deploy web ? → 1.0.0 in qa/AA: succeeded (exit 0) by alice: 1.0.0 runs healthy' });
    expect(fs.readFileSync(deployer.auditLog, 'utf8')).not.toContain(SECRET);
  });

  it('carries names line protocol must escape (spaces, commas, =, quotes, backslashes) through to another machine', async () => {
    const user = 'jenkins:Deploy only, prod=1 "quoted" \\back';
    const deployer = machine();
    await deployAs(deployer, user, ['web', '--env', 'qa', '--dc', 'AA', '--version', '1.0.0']);
    expect((await auditPoints()).map((p) => p.user)).toEqual([user, user]);
    expect(await auditPoints(` WHERE "user" = '${user.replace(/[\\']/g, (c) => `\\${c}`)}'`)).toHaveLength(2);
    const history = await runBaton(['history', 'web', '--env', 'qa', '--dc', 'AA', '--json'], { env: machine().env });
    expect(JSON.parse(history.stdout).datacenters[0].entries[0].audit.user).toBe(user);
  });

  it('a Grafana annotation query returns the text of each deploy', async () => {
    const deployer = machine();
    const debug = await deployAs(deployer, 'alice', ['web', '--env', 'qa', '--dc', 'AA', '--version', '1.0.0', '--debug']);
    expect(debug.stderr).toMatch(new RegExp(`^baton: debug: audit trail: POST ${influx.url}/write\\?db=${DB}&precision=ms → 204 \\(\\d+ ms\\)$`, 'm'));
    expectNoSecrets(debug, [SECRET, 'auditor']);
    const read = await runBaton(['history', 'web', '--env', 'qa', '--debug'], { env: deployer.env });
    expect(read.stderr).toMatch(new RegExp(`^baton: debug: audit trail: GET ${influx.url}/query\\?db=${DB}&epoch=ms → 200 \\(\\d+ ms\\)$`, 'm'));
    // What Grafana sends for `SELECT "text" FROM "baton_audit" WHERE $timeFilter AND "app" = 'web'`.
    const series = await influxQuery(`SELECT "text" FROM "baton_audit" WHERE time > now() - 1h AND "app" = 'web'`);
    const texts = series.flatMap((s) => s.values.map((row) => row[1]));
    expect(texts).toEqual([
      'deploy web ? → 1.0.0 in qa/AA: started by alice: deploy started: AA none → 1.0.0',
      'deploy web ? → 1.0.0 in qa/AA: succeeded (exit 0) by alice: 1.0.0 runs healthy',
    ]);
    expect(await influxQuery(`SELECT "text" FROM "baton_audit" WHERE time > now() - 1h AND "app" = 'other'`)).toEqual([]);
  });

  it('another machine with an empty local log sees who deployed what, and rolls back to the same target', async () => {
    const first = machine();
    await deployAs(first, 'alice', ['web', '--env', 'qa', '--version', '1.0.0']);
    await deployAs(first, 'bob', ['web', '--env', 'qa', '--version', '1.1.0-crash', '--no-rollback'], 5);
    await deployAs(first, 'carol', ['web', '--env', 'qa', '--version', '1.2.0', '--force']);

    const second = machine();
    expect(second.allAuditLines()).toEqual([]);
    const history = await runBaton(['history', 'web', '--env', 'qa', '--json'], { env: second.env });
    expect(history.code, history.stderr).toBe(0);
    expectNoSecrets(history, [SECRET]);
    expect(history.stderr).toBe('');
    const doc = JSON.parse(history.stdout) as { datacenters: { entries: { version?: string; audit?: { user: string; outcome: string } }[] }[] };
    // BB was skipped once AA failed: an attempt there, a version in AA.
    for (const [i, dc] of doc.datacenters.entries()) {
      expect(dc.entries.map((e) => [e.version, e.audit?.user ?? null, e.audit?.outcome ?? null])).toEqual([
        ['1.2.0', 'carol', 'succeeded'],
        ['1.1.0-crash', 'bob', i === 0 ? 'failed' : 'skipped'],
        ['1.0.0', 'alice', 'succeeded'],
      ]);
    }
    const table = await runBaton(['history', 'web', '--env', 'qa', '--dc', 'AA'], { env: second.env });
    expect(table.stdout).toMatch(/1\.0\.0\s+config\s+alice\s+deploy\s+succeeded/);

    // Where it merges with the first machine's local log, each record counts once.
    const onFirst = await runBaton(['history', 'web', '--env', 'qa', '--json'], { env: first.env });
    expect(JSON.parse(onFirst.stdout)).toEqual(doc);

    const picks = await Promise.all([first, second].map((m) => runBaton(['rollback', 'web', '--env', 'qa', '--dry-run'], { env: { ...m.env, BATON_USER: 'rita' } })));
    for (const pick of picks) {
      expect(pick.code, pick.stdout + pick.stderr).toBe(0);
      expect(pick.stdout).toMatch(/passed over 1\.1\.0-crash \(\S+\): the audit log says deploy by bob ended failed\n/);
      expect(pick.stdout).toMatch(/1\.2\.0 \(Marathon version \S+\) → 1\.0\.0/);
    }
    const targets = picks.map((p) => p.stdout.split('\n').filter((l) => l.includes('→')));
    expect(targets[1]).toEqual(targets[0]);
    // Without the shared trail that machine would not know 1.1.0-crash failed.
    const alone = makeDeployFixture({ qa: { datacenters: { AA: { url: dcs.aa.url }, BB: { url: dcs.bb.url } } } });
    alone.writeApp('web', { 'base.json': webApp('/shop/web', { instances: 1 }), 'qa-deploy.json': {} });
    machines.push(alone);
    const blind = await runBaton(['rollback', 'web', '--env', 'qa', '--dry-run'], { env: alone.env });
    expect(blind.stdout).toMatch(/1\.2\.0 \(Marathon version \S+\) → 1\.1\.0-crash/);
  });

  it('InfluxDB down during a deploy: same exit code, one warning line, and the local log says what the trail missed', async () => {
    const down = await closedPortUrl();
    const deployer = machine({ influx: { url: down, database: DB, credentialsEnv: 'BATON_INFLUX_CREDENTIALS' } });
    const started = Date.now();
    const ok = await deployAs(deployer, 'alice', ['web', '--env', 'qa', '--version', '1.0.0']);
    const failed = await deployAs(deployer, 'bob', ['web', '--env', 'qa', '--version', '1.1.0-crash'], 5);
    expect(Date.now() - started).toBeLessThan(20_000);
    for (const result of [ok, failed]) {
      expectNoSecrets(result, [SECRET, 'auditor']);
      const warnings = result.stderr.split('\n').filter((l) => l.includes('shared audit trail'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toBe(
        `baton: warning: the shared audit trail (InfluxDB ${down} (database "${DB}")) could not be written (ECONNREFUSED): 3 records of this run are in the local audit log only (${deployer.auditLog})`,
      );
    }
    const lines = deployer.allAuditLines();
    const notes = lines.filter((l) => l.auditSinkMissed);
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatchObject({ user: 'alice', command: 'deploy', app: 'web', env: 'qa', auditSinkMissed: { sink: `InfluxDB ${down} (database "${DB}")`, reason: 'ECONNREFUSED' } });
    const firstRun = lines.filter((l) => l.run === notes[0]!.run && !l.auditSinkMissed);
    expect((notes[0]!.auditSinkMissed as { records: unknown[] }).records).toEqual(
      firstRun.map((r) => ({ time: r.time, ...(r.dc ? { dc: r.dc } : {}), outcome: r.outcome })),
    );
    expect(JSON.stringify(lines)).not.toContain(SECRET);

    // history and rollback read the local log then, with a warning, and exit as they would.
    const history = await runBaton(['history', 'web', '--env', 'qa', '--json'], { env: deployer.env });
    expect(history.code).toBe(0);
    expect(history.stderr).toBe(
      `baton: warning: the shared audit trail (InfluxDB ${down} (database "${DB}")) could not be read (ECONNREFUSED): using the local audit log only\n`,
    );
    const doc = JSON.parse(history.stdout) as { datacenters: { entries: { audit?: { user: string } }[] }[] };
    expect(doc.datacenters[0]!.entries.map((e) => e.audit?.user)).toContain('alice');
  });

  it('a moment of 503 is retried; an InfluxDB that never answers holds the end of the process a few seconds at most', async () => {
    const proxy = await faultProxy(influx.url);
    try {
      const deployer = machine({ influx: { url: proxy.url, database: DB, credentialsEnv: 'BATON_INFLUX_CREDENTIALS' } });
      proxy.inject({ method: 'POST', path: /^\/write/, fault: { kind: 'answer', status: 503, body: '{"error":"overloaded"}', contentType: 'application/json' } });
      const retried = await deployAs(deployer, 'alice', ['web', '--env', 'qa', '--version', '1.0.0']);
      expect(retried.stderr).not.toMatch(/shared audit trail/);
      expect(proxy.faulted.length).toBeGreaterThanOrEqual(1);
      expect((await auditPoints()).map((p) => p.outcome)).toEqual(['started', 'succeeded', 'succeeded']);

      proxy.inject({ method: 'POST', path: /^\/write/, fault: { kind: 'delay', ms: 60_000 }, times: 1000 });
      const started = Date.now();
      const stalled = await deployAs(deployer, 'bob', ['web', '--env', 'qa', '--version', '1.1.0']);
      const elapsed = Date.now() - started;
      expect(stalled.stdout).toMatch(/1\.1\.0 runs healthy/);
      expect(stalled.stderr).toMatch(/^baton: warning: the shared audit trail \(InfluxDB .* \(database "baton_audit_test"\)\) could not be written \(no answer (within 1500 ms|before the exit deadline)\): 3 records of this run are in the local audit log only/m);
      // The deploy itself takes well under a second against the emulator; the wait at the end is capped at 3 s.
      expect(elapsed).toBeLessThan(9000);
      expect(deployer.allAuditLines().filter((l) => l.auditSinkMissed)).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it('Ctrl-C before anything was sent, and Ctrl-C twice while waiting: the interrupted records reach InfluxDB too', async () => {
    const proxy = await holdingProxy(dcs.aa.url);
    try {
      const deployer = machine();
      const environments = JSON.parse(fs.readFileSync(path.join(deployer.configDir, 'environments.json'), 'utf8'));
      environments.environments.qa.datacenters.AA.marathon = proxy.url;
      fs.writeFileSync(path.join(deployer.configDir, 'environments.json'), JSON.stringify(environments));

      // Pinned in the first read of AA: nothing sent yet.
      const held = proxy.hold();
      const early = startBaton(['deploy', 'web', '--env', 'qa', '--version', '1.0.0'], deployer.env);
      await held;
      early.child.kill('SIGINT');
      expect(await early.exited).toBe(130);
      proxy.release();
      const local = deployer.auditLines();
      expect(local.map((r) => r.outcome)).toEqual(['interrupted']);
      const points = await auditPoints();
      expect(points.map((p) => JSON.parse(p.record as string))).toContainEqual(local[0]);

      // Ctrl-C while waiting for a stuck deployment, then again while the first one's shutdown is held.
      const run = startBaton(['deploy', 'web', '--env', 'qa', '--version', '3.0.0-stuck', '--timeout', '60'], deployer.env);
      await run.waitFor(/deployment (\S+) started/);
      const deploymentId = /deployment (\S+) started/.exec(run.output().stdout)?.[1];
      await proxy.hold();
      run.child.kill('SIGINT');
      await new Promise((resolve) => setTimeout(resolve, 300));
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(130);
      proxy.release();
      const owed = deployer.auditLines().slice(1);
      expect(owed.map((r) => [r.dc, r.outcome])).toEqual([
        ['AA', 'interrupted'],
        ['BB', 'skipped'],
      ]);
      const stored = (await auditPoints()).map((p) => JSON.parse(p.record as string));
      for (const record of owed) expect(stored).toContainEqual(record);
      expect(run.output().stderr).not.toMatch(/shared audit trail/);
      await fetch(`${dcs.aa.url}/v2/deployments/${deploymentId}?force=true`, { method: 'DELETE' });
    } finally {
      await proxy.close();
    }
  });

  it('an unset credential variable: the deploy goes on, the warning names the variable, never a value', async () => {
    const deployer = machine();
    const result = await runBaton(['deploy', 'web', '--env', 'qa', '--version', '1.0.0'], { env: { ...deployer.env, BATON_INFLUX_CREDENTIALS: undefined } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/shared audit trail \(InfluxDB .*\) could not be written \(BATON_INFLUX_CREDENTIALS \(audit\.influx\.credentialsEnv\) is unset\)/);
    expect(deployer.allAuditLines().filter((l) => l.auditSinkMissed)).toHaveLength(1);
  });

  it('refuses bad audit config naming the file, the JSON path and what is expected, never echoing a URL with credentials', async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ influx: { url: `http://admin:${SECRET}@influx.example.com:8086`, database: DB } }, '/audit/influx/url', /contains credentials \(user:password@\).*credentialsEnv/],
      [{ influx: { url: 'influx.example.com', database: DB } }, '/audit/influx/url', /is not a URL/],
      [{ influx: { url: 'http://influx.example.com:8086' } }, '/audit/influx/database', /is required: expected the InfluxDB database name/],
      [{ influx: { url: 'http://i:8086', database: DB, credentialsEnv: `admin:${SECRET}` } }, '/audit/influx/credentialsEnv', /is not an environment variable name/],
      [{ influxdb: {} }, '/audit/influxdb', /is not a known field/],
      [{ influx: 'http://i:8086' }, '/audit/influx', /expected an object, e\.g\. \{"url"/],
    ];
    for (const [audit, pointer, message] of cases) {
      const m = machine(audit);
      const result = await runBaton(['history', 'web', '--env', 'qa'], { env: m.env });
      expect(result.code, JSON.stringify(audit)).toBe(2);
      const file = path.join(m.configDir, 'environments.json');
      expect(result.stderr).toContain(`${file}: ${pointer}: `);
      expect(result.stderr).toMatch(message);
      expectNoSecrets(result, [SECRET]);
    }
  });
});

describe('the shared audit trail in an InfluxDB with authentication on', () => {
  const admin = { username: 'auditor', password: SECRET };
  let secured: InfluxDbServer;
  beforeAll(async () => {
    secured = await startInfluxDb({ admin });
  }, 120_000);
  afterAll(async () => {
    await secured?.stop();
  });
  const dcs = emulatedDatacenters();
  let machines: DeployFixture[] = [];
  const machine = (credentials: string) => {
    const fixture = makeDeployFixture(
      { qa: { datacenters: { AA: { url: dcs.aa.url } } } },
      { audit: { influx: { url: secured.url, database: DB, credentialsEnv: 'BATON_INFLUX_CREDENTIALS' } } },
    );
    fixture.writeApp('web', { 'base.json': webApp('/shop/web', { instances: 1 }), 'qa-deploy.json': {} });
    fixture.env.BATON_INFLUX_CREDENTIALS = credentials;
    machines.push(fixture);
    return fixture;
  };
  afterEach(() => {
    for (const m of machines) m.cleanup();
    machines = [];
  });

  it('sends credentials from credentialsEnv; refused ones get a warning with InfluxDB\'s answer, never the secret', async () => {
    const deployer = machine(`auditor:${SECRET}`);
    const ok = await deployAs(deployer, 'alice', ['web', '--env', 'qa', '--version', '1.0.0']);
    expect(ok.stderr).not.toMatch(/shared audit trail/);
    const reader = machine(`auditor:${SECRET}`);
    const history = await runBaton(['history', 'web', '--env', 'qa', '--json'], { env: reader.env });
    expect(history.stderr).toBe('');
    expect(JSON.parse(history.stdout).datacenters[0].entries[0].audit.user).toBe('alice');

    const wrong = machine('auditor:not-the-password');
    const refused = await deployAs(wrong, 'bob', ['web', '--env', 'qa', '--version', '1.1.0']);
    expect(refused.stderr).toMatch(/^baton: warning: the shared audit trail \(InfluxDB .* \(database "baton_audit_test"\)\) could not be written \(HTTP 401: authorization failed\): 2 records/m);
    const blind = await runBaton(['history', 'web', '--env', 'qa', '--json'], { env: wrong.env });
    expect(blind.code).toBe(0);
    expect(blind.stderr).toMatch(/could not be read \(HTTP 401: authorization failed\): using the local audit log only\n$/);
    for (const result of [ok, history, refused, blind]) expectNoSecrets(result, [SECRET, 'not-the-password']);
    for (const m of machines) expect(JSON.stringify(m.allAuditLines())).not.toMatch(/not-the-password|influx-s3cret/);
  });
});
