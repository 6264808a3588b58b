// A blue/green deploy under real traffic: the emulator runs the test service as real processes, marathon-lb configures a
// real HAProxy from it, and a load generator sends GETs through HAProxy's frontend while `baton deploy --strategy
// blue-green` runs. A version that crashes after becoming healthy is caught while its colour is still drained, and undone;
// a good version is switched to in one step (both colours' backend head loads no server state, so the candidate's servers
// leave maintenance UP rather than DOWN until checked): not one failed request either way.
import { describe, expect, it } from 'vitest';
import { runBaton } from './support/cli.js';
import { makeDeployFixture } from './support/deploy-fixture.js';
import { freePort } from './support/free-port.js';
import { describeLoad, startLoad } from './support/load.js';
import { serviceAnswer } from './support/process-emulator.js';
import { withTrafficStack } from './support/traffic-stack.js';

const INSTANCES = 2;

function servedApp(id: string, group: string): Record<string, unknown> {
  return {
    id,
    instances: INSTANCES,
    cpus: 0.1,
    mem: 64,
    container: { type: 'DOCKER', docker: { image: 'registry.example.com/traffic/web:latest' }, portMappings: [{ containerPort: 8080, hostPort: 0, name: 'http' }] },
    networks: [{ mode: 'container/bridge' }],
    healthChecks: [{ protocol: 'MESOS_HTTP', path: '/health', portIndex: 0, gracePeriodSeconds: 15, intervalSeconds: 1, timeoutSeconds: 1, maxConsecutiveFailures: 2 }],
    labels: { HAPROXY_GROUP: 'external', HAPROXY_DEPLOYMENT_GROUP: group },
  };
}

describe('a blue/green deploy under traffic through marathon-lb and HAProxy', () => {
  const stack = withTrafficStack();

  async function servedColours(id: string) {
    const body = (await (await fetch(`${stack.emulator.url}/v2/apps?embed=apps.tasks`)).json()) as { apps: { id: string; instances: number; tasksHealthy: number; labels: Record<string, string> }[] };
    return body.apps.filter((a) => a.id.startsWith(`${id}-`)).map((a) => ({ id: a.id, version: a.labels.BATON_VERSION, instances: a.instances, healthy: a.tasksHealthy }));
  }

  it.each([
    { case: 'a good version: users move to it', version: '2.0.0', code: 0, after: '2.0.0', colour: 'green' },
    { case: 'a version that crashes after becoming healthy: caught unseen, the old colour kept, not one failed request', version: '2.0.0-crash-after-healthy', code: 5, after: '1.0.0', colour: 'blue' },
  ])('$case', { timeout: 120_000 }, async ({ version, code, after, colour }) => {
    const name = version.includes('crash') ? 'crash' : 'good';
    const [publicPort, altPort] = [await freePort(), await freePort()];
    const f = stack.use(makeDeployFixture({ qa: { datacenters: { AA: { url: stack.emulator.url, loadBalancer: 'http://127.0.0.1' } } } }));
    const { lb } = stack;
    f.writeApp(name, {
      'qa-deploy.json': servedApp(`/traffic/${name}`, `traffic-${name}`),
      'baton.json': {
        strategy: 'blue-green',
        blueGreen: { publicPort, altPort, watchSeconds: 5, settleSeconds: 2 },
        // Through HAProxy, as users: the switch must have reached it.
        postIntegration: { command: `test "$(curl -fsS "$BATON_PROXY_URL/")" = "$BATON_VERSION"`, timeoutSeconds: 20 },
      },
    });
    const first = await runBaton(['deploy', name, '--env', 'qa', '--version', '1.0.0'], { env: f.env, timeoutMs: 90_000 });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    await lb.waitForBackends(publicPort, INSTANCES);

    const load = startLoad({ url: lb.frontendUrl(publicPort), expected: [serviceAnswer('1.0.0'), serviceAnswer(version)] });
    const result = await runBaton(['deploy', name, '--env', 'qa', '--version', version], { env: f.env, timeoutMs: 120_000 });
    const during = await load.stop();
    console.log(`blue/green ${version} under load: ${describeLoad(during)}`, during.failures.slice(0, 5));

    expect(result.code, result.stdout + result.stderr).toBe(code);
    expect(during.failed).toBe(0);
    expect(during.failedBy.wrongBody).toBe(0);
    expect(during.bodies[serviceAnswer('1.0.0')]).toBeGreaterThan(0);
    if (after !== '1.0.0') expect(during.bodies[serviceAnswer(after)]).toBeGreaterThan(0);
    expect(await servedColours(`/traffic/${name}`)).toEqual([{ id: `/traffic/${name}-${colour}`, version: after, instances: INSTANCES, healthy: INSTANCES }]);
    const served = startLoad({ url: lb.frontendUrl(publicPort), rate: 100, expected: [serviceAnswer(after)] });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const afterwards = await served.stop();
    expect(afterwards.failed).toBe(0);
    expect(f.auditLines().at(-1)).toMatchObject({ toVersion: version, strategy: 'blue-green', exitCode: code });
  });
});
