import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.js';
import { MarathonClient } from '../src/marathon/client.js';
import { repoRoot, runProcess } from './support/cli.js';
import { makeDeployFixture, webApp, type DeployFixture } from './support/deploy-fixture.js';
import { headManifestDigest, pushTestImage, startRegistry, type RunningRegistry } from './support/registry.js';

// examples/: the Jenkins "Deploy_only" job and its GitLab twin. Both run examples/deploy-only.sh and a `baton diff`
// line; the test runs exactly those, against a real registry and the emulator.

const read = (file: string) => fs.readFileSync(path.join(repoRoot, 'examples', file), 'utf8');

/** Runs `script` with bash, baton on the PATH, as a CI job's shell step would. */
const shell = (script: string, env: Record<string, string>, cwd: string) =>
  runProcess('bash', ['-c', script], { direct: true, cwd, env: { ...env, PATH: `${path.join(repoRoot, 'bin')}:${process.env.PATH}` } });

describe('CI recipes (examples/)', () => {
  let registry: RunningRegistry;
  let marathon: RunningEmulator;
  let fixture: DeployFixture;

  beforeAll(async () => {
    registry = await startRegistry();
    marathon = await startEmulator({ timings: { stagingMs: 30, healthyMs: 50, crashMs: 50, killMs: 20, backoffMs: 50 } });
  });
  afterAll(async () => {
    await marathon?.close();
    await registry?.stop();
  });
  afterEach(() => fixture?.cleanup());

  function setup(repo: string) {
    fixture = makeDeployFixture({ qa: { imageCheck: true, datacenters: { AA: { url: marathon.url } } } });
    const definition = webApp(`/ci/${repo}`, { instances: 1 });
    (definition.container as { docker: { image: string } }).docker.image = `${registry.host}/shop/${repo}:latest`;
    fixture.writeApp('web', { 'qa-deploy.json': definition });
    return { ...fixture.env, APP: 'web', DEPLOY_ENV: 'qa', DEPLOY_DC: 'AA', BATON_RESULT: path.join(fixture.dir, 'baton-result.json') };
  }

  it('deploy-only.sh promotes the built tag to the release tag, deploys it and leaves the JSON result (exit 0)', async () => {
    const env = setup('ci-ok');
    const built = await pushTestImage(registry.url, 'shop/ci-ok', 'build-42');
    const run = await shell('examples/deploy-only.sh', { ...env, RELEASE_VERSION: '1.4.2', GEN_DOCKER_VERSION: 'build-42' }, repoRoot);
    expect(run.code, run.stderr).toBe(0);
    expect(await headManifestDigest(registry.url, 'shop/ci-ok', '1.4.2')).toBe(built.digest);
    const app = await new MarathonClient({ url: marathon.url }).getApp('/ci/ci-ok');
    expect((app.container as { docker: { image: string } }).docker.image).toBe(`${registry.host}/shop/ci-ok:1.4.2`);
    expect(JSON.parse(fs.readFileSync(env.BATON_RESULT, 'utf8'))).toMatchObject({ ok: true, datacenters: [{ datacenter: 'AA', outcome: 'succeeded' }] });
  });

  it('deploy-only.sh exits with baton’s code: a crashing release is rolled back (exit 5)', async () => {
    const env = setup('ci-crash');
    await pushTestImage(registry.url, 'shop/ci-crash', 'latest');
    expect((await shell('examples/deploy-only.sh', { ...env, RELEASE_VERSION: '1.0.0' }, repoRoot)).code).toBe(0);
    const run = await shell('examples/deploy-only.sh', { ...env, RELEASE_VERSION: '1.1.0-crash' }, repoRoot);
    expect(run.code).toBe(5);
    expect(JSON.parse(fs.readFileSync(env.BATON_RESULT, 'utf8')).datacenters[0].outcome).toBe('failed-rolled-back');
  });

  it('the Jenkinsfile and .gitlab-ci.yml run deploy-only.sh and a baton diff line that works as written', async () => {
    const jenkins = read('Jenkinsfile');
    const gitlab = read('.gitlab-ci.yml');
    for (const parameter of ['DeployEnv', 'DeployDC', 'ReleaseVersion', 'GenDockerVersion']) expect(jenkins).toContain(`name: '${parameter}'`);
    expect(jenkins).toContain('examples/deploy-only.sh');
    expect(jenkins).toMatch(/input message: .*prod/);
    expect(gitlab).toContain('- examples/deploy-only.sh');
    expect(gitlab).toMatch(/DEPLOY_ENV == "prod"'\n\s+when: manual/);

    const env = setup('ci-diff');
    await pushTestImage(registry.url, 'shop/ci-diff', 'latest');
    const jenkinsDiff = /sh '(baton diff [^']+)'/.exec(jenkins)?.[1];
    const gitlabDiff = /- (baton diff .+)$/m.exec(gitlab)?.[1];
    const variables = { ...env, DeployEnv: 'qa', DeployDC: 'AA', ReleaseVersion: '1.0.0', RELEASE_VERSION: '1.0.0' };
    for (const line of [jenkinsDiff, gitlabDiff]) {
      expect(line).toBeDefined();
      const run = await shell(line!, variables, repoRoot);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain('new app at 1.0.0');
    }
  });
});
