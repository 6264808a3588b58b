import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.js';
import { MarathonClient } from '../src/marathon/client.js';
import { runBaton } from './support/cli.js';
import { makeDeployFixture, webApp, type DeployFixture } from './support/deploy-fixture.js';
import { marathonWrites } from './support/emulator.js';
import { headManifestDigest, pushTestImage, startRegistry, type RunningRegistry } from './support/registry.js';

const timings = { stagingMs: 30, healthyMs: 50, crashMs: 50, killMs: 20, backoffMs: 50 };

describe('baton deploy with a real registry', () => {
  let registry: RunningRegistry;
  let marathon: RunningEmulator;
  let fixture: DeployFixture;

  beforeAll(async () => {
    registry = await startRegistry();
    marathon = await startEmulator({ timings });
  });
  afterAll(async () => {
    await marathon?.close();
    await registry?.stop();
  });
  afterEach(() => fixture?.cleanup());

  function setup(app: string, repo: string) {
    fixture = makeDeployFixture({ qa: { imageCheck: true, datacenters: { AA: { url: marathon.url } } } });
    const definition = webApp(`/reg/${app}`, { instances: 1 });
    (definition.container as { docker: { image: string } }).docker.image = `${registry.host}/${repo}:latest`;
    fixture.writeApp(app, { 'qa-deploy.json': definition });
    return fixture;
  }

  it('fails early, before Marathon hears of it, when the version does not exist in the registry', async () => {
    const f = setup('missing', 'shop/missing');
    await pushTestImage(registry.url, 'shop/missing', '1.0.0');
    const before = (await marathonWrites(marathon.url)).length;
    const result = await runBaton(['deploy', 'missing', '--env', 'qa', '--version', '1.0.1'], { env: f.env });
    expect(result.code).toBe(10);
    expect(result.stderr).toContain(`${registry.host}/shop/missing:1.0.1 does not exist in the registry`);
    expect((await marathonWrites(marathon.url)).length).toBe(before);
    expect(await new MarathonClient({ url: marathon.url }).findApp('/reg/missing')).toBeNull();

    const skipped = await runBaton(['deploy', 'missing', '--env', 'qa', '--version', '1.0.0'], { env: f.env });
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toMatch(/registry: .*shop\/missing:1\.0\.0 is sha256:/);
  });

  it('--promote tags latest as the version, then deploys it', async () => {
    const f = setup('promoted', 'shop/promoted');
    const pushed = await pushTestImage(registry.url, 'shop/promoted', 'latest');
    const result = await runBaton(['deploy', 'promoted', '--env', 'qa', '--version', '2.0.0', '--promote', '--json'], { env: f.env });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`registry: promoted ${registry.host}/shop/promoted:2.0.0 → ${pushed.digest}`);
    expect(await headManifestDigest(registry.url, 'shop/promoted', '2.0.0')).toBe(pushed.digest);
    const app = await new MarathonClient({ url: marathon.url }).getApp('/reg/promoted');
    expect((app.container as { docker: { image: string } }).docker.image).toBe(`${registry.host}/shop/promoted:2.0.0`);
    expect(JSON.parse(result.stdout).datacenters[0]).toMatchObject({ outcome: 'succeeded', digest: pushed.digest });
  });

  it('--promote refuses to move a release tag that already points at other bits', async () => {
    const f = setup('held', 'shop/held');
    await pushTestImage(registry.url, 'shop/held', 'latest', { seed: 'new build' });
    const old = await pushTestImage(registry.url, 'shop/held', '3.0.0', { seed: 'old build' });
    const result = await runBaton(['deploy', 'held', '--env', 'qa', '--version', '3.0.0', '--promote'], { env: f.env });
    expect(result.code).toBe(11);
    expect(result.stderr).toContain(old.digest);
    expect(await headManifestDigest(registry.url, 'shop/held', '3.0.0')).toBe(old.digest);
  });

  it('--pin-digest deploys image@sha256 so every datacenter runs the same bits', async () => {
    const f = setup('pinned', 'shop/pinned');
    const pushed = await pushTestImage(registry.url, 'shop/pinned', '4.0.0');
    const result = await runBaton(['deploy', 'pinned', '--env', 'qa', '--version', '4.0.0', '--pin-digest'], { env: f.env });
    expect(result.code).toBe(0);
    const app = await new MarathonClient({ url: marathon.url }).getApp('/reg/pinned');
    expect((app.container as { docker: { image: string } }).docker.image).toBe(`${registry.host}/shop/pinned@${pushed.digest}`);
    expect((app.labels as Record<string, string>).BATON_VERSION).toBe('4.0.0');
  });
});
