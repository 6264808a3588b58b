import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { liveColourOf, type ColourApp } from '../src/blue-green/colours.js';
import { repoRoot, runBaton } from './support/cli.js';
import { makeDeployFixture, startBaton, webApp, type DeployFixture } from './support/deploy-fixture.js';
import { marathonWrites, withEmulator } from './support/emulator.js';
import { ensureMarathonLbInstalled, marathonLbDir } from './support/marathon-lb.js';

// `baton deploy --strategy blue-green` as a process against the emulator: the final Marathon state, the exit code and the
// audit records, for a good version, failing tests, a crashing candidate, a dry run, a SIGKILL mid-deploy and zdd.py's pair.

const marathon = withEmulator();
let fixture: DeployFixture | undefined;
afterEach(() => fixture?.cleanup());

/** A test command that records its environment, fails for versions naming its phase, and waits while `hold` exists. */
const testCommand = (phase: 'pre' | 'post', dir: string) =>
  `env | grep '^BATON_' | sort > ${dir}/${phase}-$BATON_VERSION.env; while [ -f ${dir}/hold ]; do sleep 0.05; done; ` +
  `case $BATON_VERSION in *${phase}fail*) echo "${phase} check failed for $BATON_COLOUR"; exit 3;; esac; echo ok`;

function setup(app: string, id: string, settings: Record<string, unknown> = {}): DeployFixture {
  const f = makeDeployFixture({ qa: { datacenters: { AA: { url: marathon.url, loadBalancer: 'http://127.0.0.1:9090' } } } });
  fixture = f;
  f.writeApp(app, {
    'qa-deploy.json': webApp(id),
    'baton.json': {
      strategy: 'blue-green',
      blueGreen: { publicPort: 10000, altPort: 10001, settleSeconds: 0 },
      preIntegration: { command: testCommand('pre', f.dir), timeoutSeconds: 20 },
      postIntegration: { command: testCommand('post', f.dir), timeoutSeconds: 20 },
      ...settings,
    },
  });
  return f;
}

async function colours(id: string): Promise<ColourApp[]> {
  const client = marathon.client();
  const found: ColourApp[] = [];
  for (const colour of ['blue', 'green'] as const) {
    const app = await client.findApp(`${id}-${colour}`);
    if (app) found.push({ colour, app });
  }
  return found;
}

function summary(found: ColourApp[]) {
  return found.map((c) => ({ colour: c.colour, version: c.app.labels?.BATON_VERSION, instances: c.app.instances, healthy: c.app.tasksHealthy }));
}

const deploy = (f: DeployFixture, app: string, version: string, extra: string[] = []) =>
  runBaton(['deploy', app, '--env', 'qa', '--version', version, ...extra], { env: f.env, timeoutMs: 30_000 });

describe('baton deploy --strategy blue-green', () => {
  it('starts the new colour beside the old, tests it directly and through the proxy, switches, removes the old; status shows it', async () => {
    const f = setup('web-good', '/bg/good');
    expect((await deploy(f, 'web-good', '1.0.0')).code).toBe(0);
    const result = await deploy(f, 'web-good', '1.1.0');
    expect(result.stdout).toContain('1.1.0 runs healthy as green, users routed to it; blue removed');
    expect(result.code).toBe(0);

    const final = await colours('/bg/good');
    expect(summary(final)).toEqual([{ colour: 'green', version: '1.1.0', instances: 2, healthy: 2 }]);
    expect(final[0]!.app.labels).toMatchObject({
      HAPROXY_DEPLOYMENT_GROUP: 'bg/good',
      HAPROXY_DEPLOYMENT_COLOUR: 'green',
      HAPROXY_DEPLOYMENT_ALT_PORT: '10001',
      HAPROXY_0_PORT: '10000',
      HAPROXY_DEPLOYMENT_TARGET_INSTANCES: '2',
      HAPROXY_DEPLOYMENT_NEW_INSTANCES: '0',
      HAPROXY_APP_ID: '/bg/good',
    });
    expect(final[0]!.app.labels?.HAPROXY_DEPLOYMENT_STARTED_AT).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);

    const pre = fs.readFileSync(path.join(f.dir, 'pre-1.1.0.env'), 'utf8');
    expect(pre).toMatch(/^BATON_APP=web-good$/m);
    expect(pre).toMatch(/^BATON_COLOUR=green$/m);
    expect(pre).toMatch(/^BATON_DATACENTER=AA$/m);
    expect(pre).toMatch(/^BATON_TASK_ENDPOINTS=[^,\s]+:\d+,[^,\s]+:\d+$/m);
    expect(fs.readFileSync(path.join(f.dir, 'post-1.1.0.env'), 'utf8')).toMatch(/^BATON_PROXY_URL=http:\/\/127\.0\.0\.1:10000$/m);

    const records = f.allAuditLines().filter((r) => r.toVersion === '1.1.0' && r.outcome === 'step');
    expect(records.map((r) => (r.step as { name: string }).name)).toEqual([
      'start',
      'serve',
      'wait-healthy',
      'pre-integration',
      'serve',
      'settle',
      'post-integration',
      'check',
      'retire',
    ]);
    expect(f.auditLines().at(-1)).toMatchObject({ outcome: 'succeeded', strategy: 'blue-green', fromVersion: '1.0.0', toVersion: '1.1.0', exitCode: 0 });

    const status = await runBaton(['status', 'web-good', '--env', 'qa', '--json'], { env: f.env });
    const row = (JSON.parse(status.stdout) as { apps: { version: string; blueGreen: { live: string; colours: { colour: string }[] } }[] }).apps[0]!;
    expect(row.version).toBe('1.1.0');
    expect(row.blueGreen.live).toBe('green');
    expect(row.blueGreen.colours.map((c) => c.colour)).toEqual(['green']);
  });

  it.each([
    { case: 'a pre-integration test fails', version: '2.0.0-prefail', code: 17, outcome: 'tests-failed-rolled-back', step: 'pre-integration' },
    { case: 'a post-integration test fails after the switch', version: '2.0.0-postfail', code: 17, outcome: 'tests-failed-rolled-back', step: 'post-integration' },
    { case: 'the candidate crashes', version: '2.0.0-crash', code: 5, outcome: 'failed-rolled-back', step: 'wait-healthy' },
    // Its crash comes 30 ms after it is healthy: seen by the wait (on a busy machine) or by the watch.
    { case: 'the candidate crashes after becoming healthy (watched)', version: '2.0.0-crash-after-healthy', code: 5, outcome: 'failed-rolled-back', step: 'wait-healthy|watch' },
  ])('$case: the old colour serves at full size again, the candidate is gone', async ({ version, code, outcome, step }) => {
    const name = version.slice('2.0.0-'.length);
    const app = `web-${name}`;
    const id = `/bg/${name}`;
    const f = setup(app, id, { blueGreen: { publicPort: 10000, altPort: 10001, settleSeconds: 0, watchSeconds: 1 } });
    expect((await deploy(f, app, '1.0.0')).code).toBe(0);
    const result = await deploy(f, app, version);
    expect(result.stdout).toMatch(/restored blue \(1\.0\.0\) serving at full size, green removed \(verified\)/);
    expect(result.code).toBe(code);

    const final = await colours(id);
    expect(summary(final)).toEqual([{ colour: 'blue', version: '1.0.0', instances: 2, healthy: 2 }]);
    expect(liveColourOf(final)?.colour).toBe('blue');
    const steps = f.allAuditLines().filter((r) => r.toVersion === version && r.outcome === 'step');
    expect(steps.find((r) => step.split('|').includes((r.step as { name: string }).name) && (r.step as { result: string }).result === 'failed')).toBeDefined();
    expect(steps.at(-1)?.step).toMatchObject({ name: 'restore', result: 'done' });
    expect(f.auditLines().at(-1)).toMatchObject({ outcome, exitCode: code, rollback: { outcome: 'succeeded' } });
    if (step.endsWith('integration')) expect(JSON.stringify(steps)).toContain('check failed for green');
  });

  it('a dry run prints the colours, the steps and the tests and sends nothing', async () => {
    const f = setup('web-dry', '/bg/dry');
    expect((await deploy(f, 'web-dry', '1.0.0')).code).toBe(0);
    const writes = (await marathonWrites(marathon.url)).length;
    const result = await deploy(f, 'web-dry', '1.1.0', ['--dry-run']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('/bg/dry: blue/green, blue 1.0.0 → green 1.1.0');
    expect(result.stdout).toMatch(/1\. start green \(\/bg\/dry-green\) at 2 instances/);
    expect(result.stdout).toMatch(/4\. pre-integration test \(limit 20s\)/);
    expect(result.stdout).toMatch(/9\. delete blue/);
    expect(result.stdout).toContain('post-integration tests reach http://127.0.0.1:10000');
    expect((await marathonWrites(marathon.url)).length).toBe(writes);
  });

  it('a re-run after a SIGKILL mid-deploy finds the healthy candidate in Marathon and finishes from the tests', async () => {
    const f = setup('web-kill', '/bg/kill');
    expect((await deploy(f, 'web-kill', '1.0.0')).code).toBe(0);
    fs.writeFileSync(path.join(f.dir, 'hold'), '');
    const run = startBaton(['deploy', 'web-kill', '--env', 'qa', '--version', '1.1.0'], f.env);
    await run.waitFor(/pre-integration: /);
    run.child.kill('SIGKILL');
    await run.exited;
    fs.rmSync(path.join(f.dir, 'hold'));
    expect(summary(await colours('/bg/kill'))).toEqual([
      { colour: 'blue', version: '1.0.0', instances: 2, healthy: 2 },
      { colour: 'green', version: '1.1.0', instances: 2, healthy: 2 },
    ]);

    const result = await deploy(f, 'web-kill', '1.1.0');
    expect(result.stdout).toContain('found a deploy cut short: green runs 1.1.0 healthy (2 tasks) beside blue; continuing from the pre-integration tests');
    expect(result.code).toBe(0);
    expect(summary(await colours('/bg/kill'))).toEqual([{ colour: 'green', version: '1.1.0', instances: 2, healthy: 2 }]);
  });

  it("switches as marathon-lb's own code sees it: the candidate drained during the pre-integration test, the old colour during the post", async () => {
    await ensureMarathonLbInstalled();
    const f = setup('web-mlb', '/bg/mlb');
    // Run as the tests of the deploy: what marathon-lb would drain at that moment, from its own get_apps.
    const draining = (phase: string) =>
      `/usr/bin/python3 ${path.join(repoRoot, 'test/support/marathon-lb-draining.py')} ${marathonLbDir(repoRoot)} ${marathon.url} > ${f.dir}/${phase}-draining.json`;
    f.writeApp('web-mlb', {
      'baton.json': {
        blueGreen: { publicPort: 10000, altPort: 10001, settleSeconds: 0 },
        preIntegration: { command: draining('pre') },
        postIntegration: { command: draining('post') },
      },
    });
    expect((await deploy(f, 'web-mlb', '1.0.0')).code).toBe(0);
    const result = await deploy(f, 'web-mlb', '1.1.0');
    expect(result.code).toBe(0);
    const drained = (phase: string) => {
      const tasks = JSON.parse(fs.readFileSync(path.join(f.dir, `${phase}-draining.json`), 'utf8')) as Record<string, boolean>;
      const of = (colour: string) => Object.entries(tasks).filter(([id]) => id.startsWith(`bg_mlb-${colour}.`)).map(([, d]) => d);
      return { blue: of('blue'), green: of('green') };
    };
    expect(drained('pre')).toEqual({ blue: [false, false], green: [true, true] });
    expect(drained('post')).toEqual({ blue: [true, true], green: [false, false] });
  });

  it('baton rollback: instantly back to a colour kept at 0; else a blue/green deploy of the tag the audit log shows before', async () => {
    const f = setup('web-back', '/bg/back', { blueGreen: { publicPort: 10000, altPort: 10001, settleSeconds: 0, keepOldColour: true } });
    expect((await deploy(f, 'web-back', '1.0.0')).code).toBe(0);
    expect((await deploy(f, 'web-back', '1.1.0')).code).toBe(0);
    expect(summary(await colours('/bg/back'))).toEqual([
      { colour: 'blue', version: '1.0.0', instances: 0, healthy: 0 },
      { colour: 'green', version: '1.1.0', instances: 2, healthy: 2 },
    ]);
    const instant = await runBaton(['rollback', 'web-back', '--env', 'qa'], { env: f.env, timeoutMs: 30_000 });
    expect(instant.stdout).toContain('blue (1.0.0) is kept at 0 instances beside green: scaling it back and switching to it');
    expect(instant.code).toBe(0);
    let now = await colours('/bg/back');
    expect(summary(now)).toEqual([
      { colour: 'blue', version: '1.0.0', instances: 2, healthy: 2 },
      { colour: 'green', version: '1.1.0', instances: 0, healthy: 0 },
    ]);
    expect(liveColourOf(now)?.colour).toBe('blue');

    f.writeApp('web-back', { 'baton.json': { blueGreen: { publicPort: 10000, altPort: 10001, settleSeconds: 0 } } });
    expect((await deploy(f, 'web-back', '1.2.0')).code).toBe(0);
    const redeploy = await runBaton(['rollback', 'web-back', '--env', 'qa'], { env: f.env, timeoutMs: 30_000 });
    expect(redeploy.stdout).toContain('/bg/back: blue/green, green 1.2.0 → blue 1.0.0');
    expect(redeploy.code).toBe(0);
    now = await colours('/bg/back');
    expect(summary(now)).toEqual([{ colour: 'blue', version: '1.0.0', instances: 2, healthy: 2 }]);
    expect(f.auditLines().at(-1)).toMatchObject({ command: 'rollback', outcome: 'succeeded', fromVersion: '1.2.0', toVersion: '1.0.0', strategy: 'blue-green' });
  });

  it('takes over a pair zdd.py left half-done: the live colour back to full size, the other started over, then switched', async () => {
    const f = setup('web-zdd', '/bg/zdd');
    const client = marathon.client();
    const zddColour = (colour: string, version: string, instances: number, port: number, startedAt: string) => ({
      ...webApp(`/bg/zdd-${colour}`, { instances }),
      id: `/bg/zdd-${colour}`,
      container: { type: 'DOCKER', docker: { image: `registry.example.com/shop/web:${version}` }, portMappings: [{ containerPort: 8080, hostPort: 0, servicePort: port }] },
      labels: {
        HAPROXY_APP_ID: '/bg/zdd',
        HAPROXY_DEPLOYMENT_GROUP: 'bg/zdd',
        HAPROXY_DEPLOYMENT_ALT_PORT: '10001',
        HAPROXY_0_PORT: '10000',
        HAPROXY_DEPLOYMENT_COLOUR: colour,
        HAPROXY_DEPLOYMENT_STARTED_AT: startedAt,
        HAPROXY_DEPLOYMENT_TARGET_INSTANCES: '2',
        HAPROXY_DEPLOYMENT_NEW_INSTANCES: '0',
      },
    });
    // zdd.py's state of its issue 221: the old colour scaled down to 1, the new one up to 1 of 2, then it stopped.
    await client.putApp(zddColour('blue', '1.0.0', 1, 10000, '2026-01-01T10:00:00.000000'));
    await client.putApp(zddColour('green', '1.5.0', 1, 10001, '2026-01-01T11:00:00.000000'));
    await waitUntil(async () => (await colours('/bg/zdd')).every((c) => c.app.tasksHealthy === 1));
    expect(liveColourOf(await colours('/bg/zdd'))?.colour).toBe('green');

    const result = await deploy(f, 'web-zdd', '2.0.0');
    expect(result.stdout).toMatch(/found a deploy cut short: blue runs 1\.0\.0 \(1\/1 healthy\) beside green, which users are routed to; blue is started over/);
    expect(result.code).toBe(0);
    const final = await colours('/bg/zdd');
    expect(summary(final)).toEqual([{ colour: 'blue', version: '2.0.0', instances: 2, healthy: 2 }]);
    expect(final[0]!.app.labels).toMatchObject({ HAPROXY_DEPLOYMENT_GROUP: 'bg/zdd', HAPROXY_0_PORT: '10000', HAPROXY_DEPLOYMENT_COLOUR: 'blue' });
  });
});

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
