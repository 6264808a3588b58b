import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.js';
import { expectNoSecrets, runBaton, type CliResult } from './support/cli.js';
import { makeDeployFixture, startBaton, webApp, type DeployFixture } from './support/deploy-fixture.js';
import { marathonRequests } from './support/emulator.js';

const timings = { stagingMs: 40, healthyMs: 60, crashMs: 60, killMs: 20, backoffMs: 60 };
// A Slack-style webhook URL: the token is in the path, so neither may show anywhere but in the request itself.
const token = 'fakeT0kenXYZ123';
const hookPath = `/services/T000/B000/${token}`;
const marathonPassword = 'marathonS3cret';

interface Recorded {
  method: string;
  url: string;
  contentType: string | undefined;
  body: Record<string, unknown>;
}

/** A webhook receiver that records each request and answers with the next status of `statuses` (then 200; 'hang': never). */
async function webhookServer(statuses: (number | 'hang')[] = []): Promise<{ url: string; requests: Recorded[]; close(): Promise<void> }> {
  const requests: Recorded[] = [];
  const hanging: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], body: JSON.parse(text) as Record<string, unknown> });
      const status = statuses[requests.length - 1] ?? 200;
      if (status === 'hang') hanging.push(res);
      else res.writeHead(status, { 'Content-Type': 'text/plain' }).end(status === 200 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${hookPath}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A URL on which nothing listens: connections are refused. */
async function refusingUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}${hookPath}`;
}

function warningsIn(result: CliResult): string[] {
  return result.stderr.split('\n').filter((line) => line.startsWith('baton: warning:'));
}

describe('notify: webhooks told the result of deploy and rollback', () => {
  let aa: RunningEmulator;
  let fixture: DeployFixture;
  let closeHook: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    aa = await startEmulator({ timings, credentials: { username: 'deployer', password: marathonPassword } });
  });
  afterAll(async () => {
    await aa?.close();
  });
  afterEach(async () => {
    fixture?.cleanup();
    await closeHook?.();
    closeHook = undefined;
  });

  function setup(app: string, hookUrl: string | undefined) {
    fixture = makeDeployFixture({
      qa: { notify: [{ webhook: { urlEnv: 'DEPLOY_WEBHOOK_URL' } }], datacenters: { AA: { url: aa.url, credentialsEnv: 'BATON_MARATHON_QA_AA' } } },
    });
    fixture.writeApp(app, { 'qa-deploy.json': webApp(`/notify/${app}`, { instances: 1 }) });
    const env: Record<string, string | undefined> = { ...fixture.env, BATON_MARATHON_QA_AA: `deployer:${marathonPassword}`, DEPLOY_WEBHOOK_URL: hookUrl };
    const secrets = [token, hookUrl ?? hookPath, marathonPassword];
    /** Nothing printed and nothing in the audit log holds the webhook URL, its token or the Marathon password. */
    const expectClean = (result: CliResult) => {
      expectNoSecrets(result, secrets);
      const audit = fs.existsSync(fixture.auditLog) ? fs.readFileSync(fixture.auditLog, 'utf8') : '';
      for (const secret of secrets) expect(audit).not.toContain(secret);
    };
    return { env, expectClean };
  }

  it('a deploy posts its --json result once, with a Slack-compatible text line, and no credential', async () => {
    const hook = await webhookServer();
    closeHook = hook.close;
    const { env, expectClean } = setup('n1', hook.url);
    const result = await runBaton(['deploy', 'n1', '--env', 'qa', '--version', '1.0.0', '--json'], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(hook.requests).toHaveLength(1);
    const [request] = hook.requests;
    expect(request).toMatchObject({ method: 'POST', url: hookPath, contentType: 'application/json' });
    const printed = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(request!.body).toEqual({
      ...printed,
      command: 'deploy',
      user: 'release-bot',
      text: 'deploy n1 1.0.0 to qa by release-bot: ok — AA new → 1.0.0 succeeded',
    });
    expect(request!.body).toMatchObject({ ok: true, app: 'n1', env: 'qa', version: '1.0.0', datacenters: [{ datacenter: 'AA', outcome: 'succeeded' }] });
    expect(JSON.stringify(request!.body)).not.toContain(marathonPassword);
    expect(warningsIn(result)).toEqual([]);
    expectClean(result);

    // A redeploy of the same version changes nothing: nobody is told; nor is a dry run.
    expect((await runBaton(['deploy', 'n1', '--env', 'qa', '--version', '1.0.0'], { env })).code).toBe(0);
    expect((await runBaton(['deploy', 'n1', '--env', 'qa', '--version', '1.1.0', '--dry-run'], { env })).code).toBe(0);
    expect(hook.requests).toHaveLength(1);
  });

  it('a crashed deploy, rolled back, posts failed-rolled-back and still exits 5; a rollback posts too', async () => {
    const hook = await webhookServer();
    closeHook = hook.close;
    const { env, expectClean } = setup('n2', hook.url);
    expect((await runBaton(['deploy', 'n2', '--env', 'qa', '--version', '1.0.0'], { env })).code).toBe(0);
    const result = await runBaton(['deploy', 'n2', '--env', 'qa', '--version', '2.0.0-crash', '--timeout', '60'], { env });
    expect(result.code).toBe(5);
    expect(hook.requests).toHaveLength(2);
    expect(hook.requests[1]!.body).toMatchObject({ ok: false, version: '2.0.0-crash', datacenters: [{ datacenter: 'AA', outcome: 'failed-rolled-back' }] });
    expect(hook.requests[1]!.body.text).toBe('deploy n2 2.0.0-crash to qa by release-bot: FAILED — AA 1.0.0 → 2.0.0-crash failed-rolled-back');
    expectClean(result);

    expect((await runBaton(['deploy', 'n2', '--env', 'qa', '--version', '1.1.0'], { env })).code).toBe(0);
    const rollback = await runBaton(['rollback', 'n2', '--env', 'qa', '--to', '1.0.0'], { env });
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(hook.requests).toHaveLength(4);
    expect(hook.requests[3]!.body).toMatchObject({ command: 'rollback', ok: true, datacenters: [{ outcome: 'succeeded', fromVersion: '1.1.0', toVersion: '1.0.0' }] });
    expect(hook.requests[3]!.body.text).toBe('rollback n2 in qa by release-bot: ok — AA 1.1.0 → 1.0.0 succeeded');
    expectClean(rollback);
  });

  it('a webhook answering 500 then 200 gets the retry: two requests, no warning', async () => {
    const hook = await webhookServer([500]);
    closeHook = hook.close;
    const { env, expectClean } = setup('n3', hook.url);
    const result = await runBaton(['deploy', 'n3', '--env', 'qa', '--version', '1.0.0'], { env });
    expect(result.code).toBe(0);
    expect(hook.requests).toHaveLength(2);
    expect(hook.requests[1]!.body).toEqual(hook.requests[0]!.body);
    expect(warningsIn(result)).toEqual([]);
    expectClean(result);
  });

  it('a webhook that never answers: the exit code stands, one warning naming the variable, within a few seconds', async () => {
    const hook = await webhookServer(['hang', 'hang', 'hang']);
    closeHook = hook.close;
    const { env, expectClean } = setup('n4', hook.url);
    const started = Date.now();
    const result = await runBaton(['deploy', 'n4', '--env', 'qa', '--version', '2.0.0-crash', '--timeout', '60'], { env });
    expect(result.code).toBe(5);
    expect(Date.now() - started).toBeLessThan(25_000);
    expect(hook.requests.length).toBeGreaterThanOrEqual(2);
    expect(warningsIn(result)).toEqual([expect.stringMatching(/^baton: warning: the webhook in DEPLOY_WEBHOOK_URL was not notified \(no answer within [\d.]+s, 3 attempts\)/)]);
    expectClean(result);
  });

  it('a webhook that refuses connections: the exit code stands, one warning without the URL', async () => {
    const { env, expectClean } = setup('n5', await refusingUrl());
    const result = await runBaton(['deploy', 'n5', '--env', 'qa', '--version', '1.0.0', '--json'], { env });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true });
    expect(warningsIn(result)).toEqual([
      'baton: warning: the webhook in DEPLOY_WEBHOOK_URL was not notified (connection refused, 3 attempts); the result and exit code are unaffected',
    ]);
    expectClean(result);
  });

  it('Ctrl-C while waiting: the interrupted result is posted, and the run still exits 130', async () => {
    const hook = await webhookServer();
    closeHook = hook.close;
    const { env, expectClean } = setup('n7', hook.url);
    const run = startBaton(['deploy', 'n7', '--env', 'qa', '--version', '3.0.0-stuck', '--timeout', '60'], env);
    await run.waitFor(/deployment (\S+) started/);
    const deploymentId = /deployment (\S+) started/.exec(run.output().stdout)?.[1];
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    expect(hook.requests).toHaveLength(1);
    expect(hook.requests[0]!.body).toMatchObject({ ok: false, datacenters: [{ outcome: 'interrupted', deploymentId }] });
    expectClean({ code: 130, signal: null, ...run.output() });
    await fetch(`${aa.url}/v2/deployments/${deploymentId}?force=true`, {
      method: 'DELETE',
      headers: { Authorization: `Basic ${Buffer.from(`deployer:${marathonPassword}`).toString('base64')}` },
    });
  });

  it('an unset webhook variable is refused with exit 2 before anything is sent, like an unset credential', async () => {
    const { env, expectClean } = setup('n6', undefined);
    const before = (await marathonRequests(aa.url)).length;
    const result = await runBaton(['deploy', 'n6', '--env', 'qa', '--version', '1.0.0'], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('environment variable DEPLOY_WEBHOOK_URL (the webhook URL, named by notify[0].webhook.urlEnv of environment qa in environments.json) is not set');
    expect((await marathonRequests(aa.url)).slice(before)).toEqual([]);
    expect(fixture.auditLines().at(-1)).toMatchObject({ outcome: 'invalid', exitCode: 2 });
    expectClean(result);
    // diff never notifies, so it does not need the variable.
    expect((await runBaton(['diff', 'n6', '--env', 'qa', '--version', '1.0.0'], { env })).code).toBe(0);
  });
});
