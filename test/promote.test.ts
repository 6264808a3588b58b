import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBaton } from './support/cli.js';
import {
  MEDIA_TYPES,
  freePort,
  headManifestDigest,
  loopbackResolverOptions,
  manifestMediaType,
  pushManifestList,
  pushTestImage,
  request,
  startRegistry,
  type RunningRegistry,
} from './support/registry.js';

let registry: RunningRegistry;
let scratch: string;

beforeAll(async () => {
  registry = await startRegistry();
  scratch = await mkdtemp(path.join(os.tmpdir(), 'baton-promote-'));
});

afterAll(async () => {
  await registry?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const promote = (args: string[], env: Record<string, string> = {}) => runBaton(['promote', ...args], { env });
const parseJson = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;

describe('baton promote against a real registry', () => {
  it('copies the source manifest byte for byte under the release tag', async () => {
    const pushed = await pushTestImage(registry.url, 'shop/web', 'latest');
    expect(await headManifestDigest(registry.url, 'shop/web', '1.0.0')).toBeNull();

    const result = await promote([`${registry.host}/shop/web`, '--to', '1.0.0']);

    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`promoted ${registry.host}/shop/web:1.0.0 → ${pushed.digest} (from latest)\n`);
    expect(await headManifestDigest(registry.url, 'shop/web', '1.0.0')).toBe(pushed.digest);
    const copied = await request(`${registry.url}/v2/shop/web/manifests/1.0.0`, { headers: { Accept: MEDIA_TYPES.dockerManifest } });
    expect(copied.body.equals(pushed.bytes)).toBe(true);
    expect(copied.headers['content-type']).toBe(MEDIA_TYPES.dockerManifest);
  });

  it('succeeds as a no-op when the release tag already points at the source digest', async () => {
    const pushed = await pushTestImage(registry.url, 'shop/noop', 'latest');
    expect((await promote([`${registry.host}/shop/noop`, '--to', '2.0.0'])).code).toBe(0);

    const again = await promote([`${registry.host}/shop/noop`, '--to', '2.0.0', '--json']);

    expect(again.code).toBe(0);
    expect(parseJson(again.stdout)).toEqual({
      image: `${registry.host}/shop/noop`,
      from: 'latest',
      to: '2.0.0',
      digest: pushed.digest,
      outcome: 'unchanged',
    });
    const human = await promote([`${registry.host}/shop/noop`, '--to', '2.0.0']);
    expect(human.stdout).toBe(`unchanged ${registry.host}/shop/noop:2.0.0 already points at ${pushed.digest}\n`);
  });

  it('refuses to move a release tag held by another digest, and moves it with --force', async () => {
    const released = await pushTestImage(registry.url, 'shop/api', 'latest', { seed: 'one' });
    const next = await pushTestImage(registry.url, 'shop/api', 'rc', { seed: 'two' });
    expect(released.digest).not.toBe(next.digest);
    expect((await promote([`${registry.host}/shop/api`, '--to', '3.0.0'])).code).toBe(0);

    const refused = await promote([`${registry.host}/shop/api`, '--from', 'rc', '--to', '3.0.0']);
    expect(refused.code).toBe(11);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(released.digest);
    expect(refused.stderr).toContain(next.digest);
    expect(refused.stderr).toMatch(/immutable.*--force/);
    expect(await headManifestDigest(registry.url, 'shop/api', '3.0.0')).toBe(released.digest);

    const refusedJson = await promote([`${registry.host}/shop/api`, '--from', 'rc', '--to', '3.0.0', '--json']);
    expect(refusedJson.code).toBe(11);
    expect(parseJson(refusedJson.stdout)).toMatchObject({
      error: 'tag-held-by-other-digest',
      to: '3.0.0',
      digest: next.digest,
      existingDigest: released.digest,
    });

    const forced = await promote([`${registry.host}/shop/api`, '--from', 'rc', '--to', '3.0.0', '--force', '--json']);
    expect(forced.code).toBe(0);
    expect(parseJson(forced.stdout)).toEqual({
      image: `${registry.host}/shop/api`,
      from: 'rc',
      to: '3.0.0',
      digest: next.digest,
      outcome: 'moved',
      previousDigest: released.digest,
    });
    expect(await headManifestDigest(registry.url, 'shop/api', '3.0.0')).toBe(next.digest);
  });

  it('exits 10 when the source tag or the repository does not exist, creating nothing', async () => {
    await pushTestImage(registry.url, 'shop/missing', 'latest');

    const missingTag = await promote([`${registry.host}/shop/missing`, '--from', 'nightly', '--to', '1.0.0']);
    expect(missingTag.code).toBe(10);
    expect(missingTag.stderr).toMatch(/source tag nightly not found: shop\/missing:nightly does not exist/);
    expect(await headManifestDigest(registry.url, 'shop/missing', '1.0.0')).toBeNull();

    const missingRepo = await promote([`${registry.host}/shop/nowhere`, '--to', '1.0.0', '--json']);
    expect(missingRepo.code).toBe(10);
    expect(parseJson(missingRepo.stdout)).toMatchObject({ error: 'source-tag-missing', from: 'latest' });
    // Distribution answers MANIFEST_UNKNOWN for a repository it never saw; others say NAME_UNKNOWN.
    expect(missingRepo.stderr).toMatch(/shop\/nowhere(:latest)? does not exist/);
    expect(await headManifestDigest(registry.url, 'shop/nowhere', '1.0.0')).toBeNull();
  });

  it('copies a multi-arch manifest list as a list', async () => {
    const amd64 = { architecture: 'amd64', os: 'linux' };
    const arm64 = { architecture: 'arm64', os: 'linux' };
    const imageAmd64 = await pushTestImage(registry.url, 'shop/multi', 'build-amd64', { platform: amd64 });
    const imageArm64 = await pushTestImage(registry.url, 'shop/multi', 'build-arm64', { platform: arm64 });
    const list = await pushManifestList(registry.url, 'shop/multi', 'latest', [
      { manifest: imageAmd64, platform: amd64 },
      { manifest: imageArm64, platform: arm64 },
    ]);

    const result = await promote([`${registry.host}/shop/multi`, '--to', '1.0.0']);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`→ ${list.digest} (multi-arch list)`);
    expect(await headManifestDigest(registry.url, 'shop/multi', '1.0.0')).toBe(list.digest);
    expect(await manifestMediaType(registry.url, 'shop/multi', '1.0.0')).toBe(MEDIA_TYPES.dockerList);
  });

  it('copies OCI manifests and OCI indexes with their media types', async () => {
    const platform = { architecture: 'amd64', os: 'linux' };
    const oci = await pushTestImage(registry.url, 'shop/oci', 'latest', { format: 'oci', platform });
    const index = await pushManifestList(registry.url, 'shop/oci', 'index', [{ manifest: oci, platform }], { format: 'oci' });

    expect((await promote([`${registry.host}/shop/oci`, '--to', '1.0.0'])).code).toBe(0);
    expect((await promote([`${registry.host}/shop/oci`, '--from', 'index', '--to', '1.0.0-index'])).code).toBe(0);

    expect(await headManifestDigest(registry.url, 'shop/oci', '1.0.0')).toBe(oci.digest);
    expect(await manifestMediaType(registry.url, 'shop/oci', '1.0.0')).toBe(MEDIA_TYPES.ociManifest);
    expect(await headManifestDigest(registry.url, 'shop/oci', '1.0.0-index')).toBe(index.digest);
    expect(await manifestMediaType(registry.url, 'shop/oci', '1.0.0-index')).toBe(MEDIA_TYPES.ociIndex);
  });

  it('promotes from a digest', async () => {
    const pushed = await pushTestImage(registry.url, 'shop/bydigest', 'latest', { seed: 'digest' });
    const result = await promote([`${registry.host}/shop/bydigest`, '--from', pushed.digest, '--to', '1.0.0', '--json']);
    expect(result.code).toBe(0);
    expect(parseJson(result.stdout)).toMatchObject({ from: pushed.digest, digest: pushed.digest, outcome: 'promoted' });
    expect(await headManifestDigest(registry.url, 'shop/bydigest', '1.0.0')).toBe(pushed.digest);
  });

  it.each([
    ['a tag in <image>', ['REG/shop/web:1.0', '--to', '1.0.1'], /image "127\.0\.0\.1:\d+\/shop\/web:1\.0" must not carry a tag or digest/],
    ['an upper-case repository', ['REG/Shop/web', '--to', '1.0.1'], /invalid image reference ".*\/Shop\/web": the repository name must be lowercase/],
    ['a bad --to', ['REG/shop/web', '--to', '.hidden'], /--to "\.hidden" is not a valid tag/],
    ['a bad --from', ['REG/shop/web', '--from', 'a b', '--to', '1.0.1'], /--from "a b" is neither a tag nor a digest/],
    ['no --to', ['REG/shop/web'], /required option '--to <tag>' not specified/],
  ])('exits 2 for %s, naming it', async (_name, args, message) => {
    const result = await promote(args.map((arg) => arg.replace('REG', registry.host)));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('exits 13 when nothing answers', async () => {
    const port = await freePort();
    const result = await promote([`127.0.0.1:${port}/shop/web`, '--to', '1.0.0', '--json']);
    expect(result.code).toBe(13);
    expect(result.stderr).toMatch(new RegExp(`cannot reach registry 127\\.0\\.0\\.1:${port} at http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    expect(parseJson(result.stdout)).toMatchObject({ error: 'registry-unreachable' });
  });

  it('speaks HTTPS to a registry that is not loopback, unless BATON_INSECURE_REGISTRIES lists it', async () => {
    const pushed = await pushTestImage(registry.url, 'shop/named', 'latest', { seed: 'named' });
    // registry.baton.test resolves to 127.0.0.1 in the child process only: a name that is not loopback.
    const nodeOptions = [process.env.NODE_OPTIONS, await loopbackResolverOptions(scratch)].filter(Boolean).join(' ');
    const named = `registry.baton.test:${registry.port}`;

    const overHttps = await promote([`${named}/shop/named`, '--to', '1.0.0'], { NODE_OPTIONS: nodeOptions });
    expect(overHttps.code).toBe(13);
    expect(overHttps.stderr).toContain(`cannot reach registry ${named} at https://${named}`);
    expect(overHttps.stderr).toContain(`if ${named} speaks plain HTTP, list it in BATON_INSECURE_REGISTRIES`);

    for (const listed of [named, 'registry.baton.test']) {
      const tag = listed === named ? '1.0.0' : '1.0.1';
      const overHttp = await promote([`${named}/shop/named`, '--to', tag], {
        NODE_OPTIONS: nodeOptions,
        BATON_INSECURE_REGISTRIES: `other.example:5000, ${listed}`,
      });
      expect(overHttp.code).toBe(0);
      expect(await headManifestDigest(registry.url, 'shop/named', tag)).toBe(pushed.digest);
    }
  });
});
