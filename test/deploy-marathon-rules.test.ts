import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.js';
import { MarathonClient } from '../src/marathon/client.js';
import { runBaton } from './support/cli.js';
import { makeDeployFixture, webApp, type DeployFixture } from './support/deploy-fixture.js';

// What real Marathon 1.10 does and a deploy must get right (../shared/guide/marathon.md), on the emulator that does it too:
// scales give the app a new version while running tasks keep theirs, an agent lost is not the version's fault, Marathon
// kills tasks whose health checks fail, a version can crash right after its deployment ended, and a non-leader redirects
// the event stream.

const timings = { stagingMs: 40, healthyMs: 60, crashMs: 150, killMs: 20, backoffMs: 60 };

function imageIn(app: Record<string, unknown>): string {
  return (app.container as { docker: { image: string } }).docker.image;
}

describe('baton deploy against Marathon 1.10 semantics', () => {
  let marathon: RunningEmulator;
  let fixture: DeployFixture;
  const live = (id: string) => new MarathonClient({ url: marathon.url }).getApp(id);

  beforeAll(async () => {
    marathon = await startEmulator({ timings });
  });
  const afterAllClose: RunningEmulator[] = [];
  afterAll(async () => {
    await marathon?.close();
    for (const emulator of afterAllClose) await emulator.close();
  });
  afterEach(() => fixture?.cleanup());

  function setup(app: string, definition: Record<string, unknown>, environment: { stableSeconds?: number; url?: string } = {}) {
    fixture = makeDeployFixture({ qa: { stableSeconds: environment.stableSeconds, datacenters: { AA: { url: environment.url ?? marathon.url } } } });
    fixture.writeApp(app, { 'qa-deploy.json': definition });
  }
  const deploy = (app: string, version: string, extra: string[] = []) =>
    runBaton(['deploy', app, '--env', 'qa', '--version', version, ...extra], { env: fixture.env });

  it('a deploy whose only change is instances completes: the running tasks keep their version, the app gets a new one', async () => {
    const id = '/rules/scale-only';
    setup('scale', webApp(id, { instances: 2 }));
    expect((await deploy('scale', '1.0.0')).code).toBe(0);
    fixture.writeApp('scale', { 'qa-deploy.json': webApp(id, { instances: 3 }) });
    const result = await deploy('scale', '1.0.0', ['--timeout', '20']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('1.0.0 runs healthy');
    const app = await live(id);
    expect([app.instances, app.tasksHealthy]).toEqual([3, 3]);
    expect(new Set(app.tasks?.map((t) => t.version)).size).toBe(2);
  });

  it('an autoscaled app keeps the instances the autoscaler gave it; the diff says so, status shows no drift', async () => {
    const id = '/rules/autoscaled';
    const labels = { AUTOSCALE_MIN: '1', AUTOSCALE_MAX: '6' };
    setup('auto', webApp(id, { instances: 1, labels }));
    expect((await deploy('auto', '1.0.0')).code).toBe(0);
    await new MarathonClient({ url: marathon.url }).scaleApp(id, 4);
    const status = await runBaton(['status', 'auto', '--env', 'qa', '--json'], { env: fixture.env });
    expect(JSON.parse(status.stdout).apps[0].configDrift).toEqual([]);

    fixture.writeApp('auto', { 'qa-deploy.json': webApp(id, { instances: 1, labels, env: { LOG_LEVEL: 'debug' } }) });
    const result = await deploy('auto', '1.0.0', ['--timeout', '20']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('note: instances: kept at 4 (autoscaled, within 1..6; the file says 1)');
    const app = await live(id);
    expect([app.instances, app.tasksHealthy, (app.env as Record<string, string>).LOG_LEVEL]).toEqual([4, 4, 'debug']);
  });

  it('a task lost with its agent (TASK_LOST) is not held against the version: Marathon replaces it and the deploy succeeds', async () => {
    // Lost before it turns healthy, so the loss happens while the deployment runs.
    const slowToHealth = await startEmulator({ timings: { ...timings, healthyMs: 600, crashMs: 100 } });
    afterAllClose.push(slowToHealth);
    const live = (app: string) => new MarathonClient({ url: slowToHealth.url }).getApp(app);
    const id = '/rules/lost';
    setup('lost', webApp(id, { instances: 2 }), { url: slowToHealth.url });
    expect((await deploy('lost', '1.0.0')).code).toBe(0);
    const result = await deploy('lost', '1.1.0-lost', ['--timeout', '30']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('1.1.0-lost runs healthy');
    expect(result.stderr).toContain("(not the version's fault)");
    expect((await live(id)).lastTaskFailure).toMatchObject({ state: 'TASK_LOST' });
  });

  it("Marathon's health-check kills fail the version fast and it is rolled back (exit 5)", async () => {
    const id = '/rules/hc-kill';
    setup('hc', webApp(id, { instances: 1 }));
    expect((await deploy('hc', '1.0.0')).code).toBe(0);
    const result = await deploy('hc', '1.1.0-hc-kill', ['--timeout', '60']);
    expect(result.code, result.stdout + result.stderr).toBe(5);
    expect(result.stdout).toMatch(/failed: .*Task was killed since health check failed/);
    expect(imageIn(await live(id))).toMatch(/:1\.0\.0$/);
  });

  it('a version that crashes right after its deployment ended: exit 0 without a stable period, reverted with --stable-seconds', async () => {
    const id = '/rules/late-crash';
    setup('late', webApp(id, { instances: 1 }));
    expect((await deploy('late', '1.0.0')).code).toBe(0);
    const unwatched = await deploy('late', '1.1.0-crash-after-healthy');
    expect(unwatched.code, unwatched.stdout + unwatched.stderr).toBe(0);

    const watched = await deploy('late', '1.2.0-crash-after-healthy', ['--stable-seconds', '3']);
    expect(watched.code, watched.stdout + watched.stderr).toBe(5);
    expect(watched.stderr).toContain('watching it for 3s (stable period)');
    expect(watched.stdout).toMatch(/rolled back to 1\.1\.0-crash-after-healthy/);
    expect(fixture.auditLines().at(-1)).toMatchObject({ toVersion: '1.2.0-crash-after-healthy', outcome: 'failed-rolled-back', exitCode: 5 });
  });

  it('stableSeconds in environments.json is the default watch period', async () => {
    const id = '/rules/stable-env';
    setup('stable', webApp(id, { instances: 1 }), { stableSeconds: 3 });
    expect((await deploy('stable', '1.0.0')).code).toBe(0);
    const result = await deploy('stable', '1.1.0-crash-after-healthy');
    expect(result.code, result.stdout + result.stderr).toBe(5);
    expect(imageIn(await live(id))).toMatch(/:1\.0\.0$/);
  });
});

describe('baton deploy through a Marathon that is not the leader', () => {
  let leader: RunningEmulator;
  let follower: RunningEmulator;
  let fixture: DeployFixture;
  const credentials = { username: 'ops', password: 'leader-s3cret' };

  beforeAll(async () => {
    leader = await startEmulator({ timings, credentials });
    follower = await startEmulator({ timings, credentials, leader: leader.url });
  });
  afterAll(async () => {
    await follower?.close();
    await leader?.close();
  });
  afterEach(() => fixture?.cleanup());

  it('follows the 302 of /v2/events to the leader with the credentials: the event stream attaches, the crash is caught', async () => {
    fixture = makeDeployFixture({ qa: { datacenters: { AA: { url: follower.url, credentialsEnv: 'AA_CREDS' } } } });
    fixture.writeApp('web', { 'qa-deploy.json': webApp('/rules/follower', { instances: 1 }) });
    const env = { ...fixture.env, AA_CREDS: `${credentials.username}:${credentials.password}` };
    expect((await runBaton(['deploy', 'web', '--env', 'qa', '--version', '1.0.0'], { env })).code).toBe(0);
    const result = await runBaton(['deploy', 'web', '--env', 'qa', '--version', '1.1.0-crash'], { env });
    expect(result.code, result.stdout + result.stderr).toBe(5);
    expect(result.stdout + result.stderr).not.toContain('event stream failed');
    expect(result.stdout + result.stderr).not.toContain(credentials.password);
  });
});
