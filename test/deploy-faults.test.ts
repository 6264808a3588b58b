import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.js';
import { MarathonClient } from '../src/marathon/client.js';
import { batonBin, runBaton, runProcess } from './support/cli.js';
import { makeDeployFixture, startBaton, webApp, type DeployFixture } from './support/deploy-fixture.js';
import { faultProxy, type FaultProxy } from './support/fault-proxy.js';

const timings = { stagingMs: 40, healthyMs: 60, crashMs: 60, killMs: 20, backoffMs: 60 };
const APP = '/faults/web';

function imageIn(app: Record<string, unknown>): string {
  return (app.container as { docker: { image: string } }).docker.image;
}

// Rule: Baton never reports "nothing happened" unless it read that nothing happened, and never leaves a failed version
// running without saying so. Each fault is injected by a proxy in front of the emulator.
describe('baton deploy under faults', () => {
  let marathon: RunningEmulator;
  let proxy: FaultProxy;
  let fixture: DeployFixture;

  beforeAll(async () => {
    marathon = await startEmulator({ timings });
  });
  afterAll(async () => {
    await marathon?.close();
  });
  afterEach(async () => {
    fixture?.cleanup();
    await proxy?.close();
  });

  async function setup() {
    proxy = await faultProxy(marathon.url);
    fixture = makeDeployFixture({ qa: { datacenters: { AA: { url: proxy.url } } } });
    const id = `${APP}-${Math.random().toString(36).slice(2, 8)}`;
    fixture.writeApp('web', { 'qa-deploy.json': webApp(id, { instances: 2 }) });
    expect((await runBaton(['deploy', 'web', '--env', 'qa', '--version', '1.0.0'], { env: fixture.env })).code).toBe(0);
    return id;
  }
  const live = (id: string) => new MarathonClient({ url: marathon.url }).getApp(id);
  const deploy = (version: string, extra: string[] = []) => runBaton(['deploy', 'web', '--env', 'qa', '--version', version, ...extra], { env: fixture.env });
  const lastRecord = () => fixture.auditLines().at(-1);

  it('a PUT whose answer is lost is read back; the crashing version Marathon started is watched and rolled back (exit 5)', async () => {
    const id = await setup();
    proxy.inject({ method: 'PUT', path: /^\/v2\/apps\//, fault: { kind: 'lose-answer' } });
    const result = await deploy('1.1.0-crash');
    expect(result.stderr + result.stdout).toContain("Marathon's answer to the change was lost");
    expect(result.stdout).toContain('read back after the lost answer: Marathon applied it');
    expect(result.code, result.stdout + result.stderr).toBe(5);
    expect(result.stdout).toMatch(/rolled back to 1\.0\.0 \(healthy again\)/);
    const app = await live(id);
    expect(imageIn(app)).toMatch(/:1\.0\.0$/);
    expect(app.tasksHealthy).toBe(2);
    expect(lastRecord()).toMatchObject({ dc: 'AA', toVersion: '1.1.0-crash', outcome: 'failed-rolled-back', exitCode: 5 });
  });

  it('a lost answer for a good version: followed to the end, exit 0', async () => {
    const id = await setup();
    proxy.inject({ method: 'PUT', path: /^\/v2\/apps\//, fault: { kind: 'replace-answer', status: 504, body: '<html>Gateway Timeout</html>', contentType: 'text/html' } });
    const result = await deploy('1.1.0');
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('1.1.0 runs healthy');
    expect(imageIn(await live(id))).toMatch(/:1\.1\.0$/);
    expect(lastRecord()).toMatchObject({ outcome: 'succeeded', exitCode: 0, deploymentId: expect.any(String) });
  });

  it('a 503 that Marathon really refused: read back unchanged, reported as not applied (exit 15), nothing changed', async () => {
    const id = await setup();
    proxy.inject({ method: 'PUT', path: /^\/v2\/apps\//, fault: { kind: 'answer', status: 503, body: '{"message":"Futures timed out"}' } });
    const result = await deploy('1.1.0');
    expect(result.code, result.stdout + result.stderr).toBe(15);
    expect(result.stdout).toContain('Marathon failed (503)');
    expect(result.stdout).toContain('read back: the change was not applied');
    expect(imageIn(await live(id))).toMatch(/:1\.0\.0$/);
    expect(lastRecord()).toMatchObject({ outcome: 'marathon-error', exitCode: 15 });
  });

  it('unreadable answers while waiting (truncated, HTML with 200, a 401, a redirect) are failed reads, not the end of the run', async () => {
    const id = await setup();
    const appPath = new RegExp(`^/v2/apps${id.replace(/\//g, '\\/')}`);
    proxy.inject({ method: 'PUT', path: /^\/v2\/apps\//, fault: { kind: 'delay', ms: 1 } });
    // The plan's read and the re-read right before the change pass; the reads while waiting meet the faults.
    proxy.inject({ method: 'GET', path: appPath, fault: { kind: 'delay', ms: 1 }, times: 2 });
    proxy.inject({ method: 'GET', path: appPath, fault: { kind: 'truncate' } });
    proxy.inject({ method: 'GET', path: appPath, fault: { kind: 'replace-answer', status: 200, body: '<html>login</html>', contentType: 'text/html' } });
    proxy.inject({ method: 'GET', path: /^\/v2\/deployments/, fault: { kind: 'answer', status: 401, body: '{"message":"Unauthorized"}' } });
    proxy.inject({ method: 'GET', path: appPath, fault: { kind: 'answer', status: 302, body: '', headers: { location: 'http://127.0.0.1:1/' } } });
    const result = await deploy('1.2.0');
    expect(result.stderr).not.toContain('internal error');
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).toContain('still waiting');
    expect(imageIn(await live(id))).toMatch(/:1\.2\.0$/);
    expect(proxy.faulted.length).toBeGreaterThanOrEqual(6);
  });

  it('a 503 on DELETE /v2/deployments during the rollback is retried: the app is verified back on the old version (exit 5)', async () => {
    const id = await setup();
    proxy.inject({ method: 'DELETE', path: /^\/v2\/deployments\//, fault: { kind: 'answer', status: 503, body: '<html>Service Unavailable</html>', contentType: 'text/html' } });
    const result = await deploy('1.1.0-crash');
    expect(result.code, result.stdout + result.stderr).toBe(5);
    expect(result.stderr).toContain('reading the deployments again before retrying');
    expect(proxy.faulted).toEqual([expect.stringMatching(/^DELETE \/v2\/deployments\//)]);
    const app = await live(id);
    expect(imageIn(app)).toMatch(/:1\.0\.0$/);
    expect(lastRecord()).toMatchObject({ outcome: 'failed-rolled-back', rollback: { outcome: 'succeeded' } });
  });

  it('an unwritable audit log is found before anything is sent (exit 2 naming it)', async () => {
    const id = await setup();
    const blocked = path.join(path.dirname(fixture.auditLog), 'not-a-dir');
    fs.writeFileSync(blocked, 'a file where a directory is needed');
    const result = await runBaton(['deploy', 'web', '--env', 'qa', '--version', '1.1.0'], {
      env: { ...fixture.env, BATON_AUDIT_LOG: path.join(blocked, 'audit.jsonl') },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`the audit log ${path.join(blocked, 'audit.jsonl')} cannot be written`);
    expect(result.stderr).toContain('Nothing was sent');
    expect(imageIn(await live(id))).toMatch(/:1\.0\.0$/);
  });

  it('writes a started record before the first change, tied to the outcome record by the run id', async () => {
    await setup();
    expect((await deploy('1.1.0')).code).toBe(0);
    const lines = fixture.allAuditLines().slice(-2);
    expect(lines.map((l) => l.outcome)).toEqual(['started', 'succeeded']);
    expect(lines[0]).toMatchObject({ user: 'release-bot', toVersion: '1.1.0', datacenters: ['AA'] });
    expect(lines[0]?.message).toMatch(/deploy started: AA 1\.0\.0 → 1\.1\.0/);
    expect(lines[0]?.run).toEqual(lines[1]?.run);
    // The started record of a finished run is not shown twice: the outcome speaks for it.
    expect(fixture.auditLines().filter((l) => l.outcome === 'started')).toEqual([]);
  });

  it('a reader closing stdout (| head -3) does not end the deploy: it finishes, rolls back and exits with the true code', async () => {
    const id = await setup();
    const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
    const baton = [process.execPath, batonBin, 'deploy', 'web', '--env', 'qa', '--version', '1.1.0-crash'].map(quote).join(' ');
    const piped = await runProcess('bash', ['-c', `${baton} | head -3; exit \${PIPESTATUS[0]}`], { direct: true, env: fixture.env });
    expect(piped.stdout.trim().split('\n')).toHaveLength(3);
    expect(piped.code, piped.stderr).toBe(5);
    const app = await live(id);
    expect(imageIn(app)).toMatch(/:1\.0\.0$/);
    expect(lastRecord()).toMatchObject({ outcome: 'failed-rolled-back', exitCode: 5 });
  });

  it('--rollback-on-interrupt: Ctrl-C reverts the running deployment and verifies it (exit 130)', async () => {
    const id = await setup();
    const run = startBaton(['deploy', 'web', '--env', 'qa', '--version', '1.1.0-stuck', '--rollback-on-interrupt'], fixture.env);
    await run.waitFor(/deployment \S+ started/);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    expect(run.output().stdout).toMatch(/interrupted; rolled back to 1\.0\.0 \(healthy again\)/);
    const app = await live(id);
    expect(imageIn(app)).toMatch(/:1\.0\.0$/);
    expect(app.deployments).toEqual([]);
    expect(lastRecord()).toMatchObject({ outcome: 'interrupted', exitCode: 130, rollback: { outcome: 'succeeded' } });
  });
});

// A Marathon that is not the leader answers /v2/events with a 302 to the leader (LeaderProxyFilter); behind a load
// balancer over all masters, a deploy that does not follow it loses its event stream.
describe('baton deploy behind a non-leader Marathon', () => {
  const credentials = { username: 'ops', password: 'events-s3cret' };
  let marathon: RunningEmulator;
  let proxy: FaultProxy;
  let fixture: DeployFixture;

  beforeAll(async () => {
    // Slow enough to turn healthy that the stream's fate is seen before the deploy ends.
    marathon = await startEmulator({ timings: { ...timings, healthyMs: 1_500 }, credentials });
  });
  afterAll(async () => {
    await marathon?.close();
  });
  afterEach(async () => {
    fixture?.cleanup();
    await proxy?.close();
  });

  async function deployThroughRedirect(leaderUrl: string) {
    proxy = await faultProxy(marathon.url);
    proxy.inject({
      method: 'GET',
      path: /^\/v2\/events/,
      fault: { kind: 'answer', status: 302, body: '', headers: { Location: `${leaderUrl}/v2/events` } },
      times: 1000,
    });
    fixture = makeDeployFixture({ qa: { datacenters: { AA: { url: proxy.url, credentialsEnv: 'MARATHON_AA_CREDENTIALS' } } } });
    const id = `${APP}-${Math.random().toString(36).slice(2, 8)}`;
    fixture.writeApp('web', { 'qa-deploy.json': webApp(id, { instances: 1 }) });
    const env = { ...fixture.env, MARATHON_AA_CREDENTIALS: `${credentials.username}:${credentials.password}` };
    return runBaton(['deploy', 'web', '--env', 'qa', '--version', '1.0.0'], { env });
  }

  it('follows the 302 to the leader that Marathon names in /v2/leader, with the credentials: the stream attaches', async () => {
    const result = await deployThroughRedirect(marathon.url);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(proxy.faulted.some((request) => request.startsWith('GET /v2/events'))).toBe(true);
    expect(result.stdout + result.stderr).not.toContain('event stream');
  });

  it('sends no credentials to a host that is not the leader Marathon names: the stream fails, polling carries the deploy', async () => {
    const elsewhere = marathon.url.replace('127.0.0.1', 'localhost');
    const result = await deployThroughRedirect(elsewhere);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout + result.stderr).toMatch(/event stream failed \(Invalid username or password/);
    expect(result.stdout + result.stderr).not.toContain(credentials.password);
    expect(result.stdout + result.stderr).not.toContain(Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64'));
  });
});

describe('baton --debug', () => {
  it('prints each HTTP request to Marathon with its status on stderr, anywhere on the command line, never a credential', async () => {
    const credentials = { username: 'ops', password: 'debug-s3cret' };
    const marathon = await startEmulator({ timings, credentials });
    const fixture = makeDeployFixture({ qa: { datacenters: { AA: { url: marathon.url, credentialsEnv: 'AA_CREDS' } } } });
    try {
      fixture.writeApp('web', { 'qa-deploy.json': webApp('/debug/web', { instances: 1 }) });
      const env = { ...fixture.env, AA_CREDS: `${credentials.username}:${credentials.password}` };
      const result = await runBaton(['deploy', 'web', '--env', 'qa', '--version', '1.0.0', '--debug'], { env });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(new RegExp(`baton: debug: AA: PUT ${marathon.url}/v2/apps/debug/web\\?partialUpdate=false → 201 \\(\\d+ ms\\)`));
      expect(result.stderr).toMatch(new RegExp(`baton: debug: AA: GET ${marathon.url}/v2/apps/debug/web → (200|404)`));
      expect(result.stdout + result.stderr).not.toContain(credentials.password);
      expect(result.stdout + result.stderr).not.toContain(Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64'));
      const quiet = await runBaton(['status', 'web', '--env', 'qa'], { env });
      expect(quiet.stderr).not.toContain('debug:');
    } finally {
      fixture.cleanup();
      await marathon.close();
    }
  });
});
