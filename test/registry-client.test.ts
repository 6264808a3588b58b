import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient, RegistryError, promoteTag, resolveImageDigest } from '../src/registry/index.js';
import {
  MEDIA_TYPES,
  basicAuthorization,
  freePort,
  headManifestDigest,
  pushManifestList,
  pushTestImage,
  startRegistry,
  type PushedManifest,
  type RunningRegistry,
} from './support/registry.js';

// In-process calls of the library functions deploy uses, against a real registry. No BATON_* or DOCKER_CONFIG from the
// developer's shell may leak in: every call passes its own env.
const cleanEnv = { HOME: '/nonexistent-baton-home' };

async function rejection(promise: Promise<unknown>): Promise<RegistryError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RegistryError) return error;
    throw error;
  }
  throw new Error('expected a RegistryError, got success');
}

describe('registry library against a real registry', () => {
  let registry: RunningRegistry;
  let web: PushedManifest;

  beforeAll(async () => {
    registry = await startRegistry();
    web = await pushTestImage(registry.url, 'shop/web', 'latest');
    await pushTestImage(registry.url, 'shop/web', '1.4.2', { seed: 'release' });
  });
  afterAll(async () => registry?.stop());

  describe('resolveImageDigest (deploy\'s existence check)', () => {
    it('returns the digest of an existing tag, "latest" when none is named', async () => {
      expect(await resolveImageDigest(`${registry.host}/shop/web:latest`, cleanEnv)).toBe(web.digest);
      expect(await resolveImageDigest(`${registry.host}/shop/web`, cleanEnv)).toBe(web.digest);
      const release = await resolveImageDigest(`${registry.host}/shop/web:1.4.2`, cleanEnv);
      expect(release).toBe(await headManifestDigest(registry.url, 'shop/web', '1.4.2'));
      expect(release).not.toBe(web.digest);
    });

    it('returns null for a missing tag, a missing repository or an unknown digest', async () => {
      expect(await resolveImageDigest(`${registry.host}/shop/web:9.9.9`, cleanEnv)).toBeNull();
      expect(await resolveImageDigest(`${registry.host}/shop/nowhere:1.0.0`, cleanEnv)).toBeNull();
      expect(await resolveImageDigest(`${registry.host}/shop/web@sha256:${'0'.repeat(64)}`, cleanEnv)).toBeNull();
    });

    it('confirms a pinned digest', async () => {
      expect(await resolveImageDigest(`${registry.host}/shop/web@${web.digest}`, cleanEnv)).toBe(web.digest);
    });

    it('throws unreachable, auth and invalid errors instead of answering null', async () => {
      const port = await freePort();
      expect((await rejection(resolveImageDigest(`127.0.0.1:${port}/shop/web:1.0.0`, cleanEnv))).kind).toBe('unreachable');
      expect((await rejection(resolveImageDigest(`${registry.host}/Shop/web:1.0.0`, cleanEnv))).kind).toBe('invalid');

      const locked = await startRegistry({ htpasswd: { user: 'deploy', password: 'deploy-pw' } });
      try {
        await pushTestImage(locked.url, 'shop/web', '1.0.0', { authorization: basicAuthorization('deploy', 'deploy-pw') });
        expect((await rejection(resolveImageDigest(`${locked.host}/shop/web:1.0.0`, cleanEnv))).kind).toBe('auth');
        const env = { ...cleanEnv, BATON_REGISTRY_USER: 'deploy', BATON_REGISTRY_PASSWORD: 'deploy-pw' };
        expect(await resolveImageDigest(`${locked.host}/shop/web:1.0.0`, env)).toMatch(/^sha256:[0-9a-f]{64}$/);
        expect(await resolveImageDigest(`${locked.host}/shop/web:2.0.0`, env)).toBeNull();
      } finally {
        await locked.stop();
      }
    });
  });

  describe('promoteTag', () => {
    it('reports promoted, then unchanged, refuses a moving tag, and moves it when forced', async () => {
      const image = `${registry.host}/shop/lib`;
      const first = await pushTestImage(registry.url, 'shop/lib', 'latest', { seed: 'lib-1' });
      const second = await pushTestImage(registry.url, 'shop/lib', 'rc', { seed: 'lib-2' });

      expect(await promoteTag({ image, from: 'latest', to: '1.0.0', env: cleanEnv })).toEqual({
        image,
        from: 'latest',
        to: '1.0.0',
        digest: first.digest,
        outcome: 'promoted',
        mediaType: MEDIA_TYPES.dockerManifest,
      });
      expect((await promoteTag({ image, from: 'latest', to: '1.0.0', env: cleanEnv })).outcome).toBe('unchanged');

      const conflict = await rejection(promoteTag({ image, from: 'rc', to: '1.0.0', env: cleanEnv }));
      expect(conflict.kind).toBe('conflict');
      expect(conflict.detail).toMatchObject({ digest: second.digest, existingDigest: first.digest });

      const moved = await promoteTag({ image, from: 'rc', to: '1.0.0', force: true, env: cleanEnv });
      expect(moved).toMatchObject({ outcome: 'moved', digest: second.digest, previousDigest: first.digest });
      expect(await resolveImageDigest(`${image}:1.0.0`, cleanEnv)).toBe(second.digest);
    });

    it('throws not-found for a missing source and invalid for a tagged image', async () => {
      const missing = await rejection(promoteTag({ image: `${registry.host}/shop/web`, from: 'nope', to: '1.0.0', env: cleanEnv }));
      expect(missing.kind).toBe('not-found');
      const tagged = await rejection(promoteTag({ image: `${registry.host}/shop/web:1.0.0`, from: 'latest', to: '1.0.1', env: cleanEnv }));
      expect(tagged.kind).toBe('invalid');
    });
  });

  describe('RegistryClient', () => {
    it('gets the exact bytes with their media type and verified digest, and puts them back unchanged', async () => {
      const client = new RegistryClient({ apiBase: registry.url, registry: registry.host });
      const amd64 = { architecture: 'amd64', os: 'linux' };
      const list = await pushManifestList(registry.url, 'shop/web', 'multi', [{ manifest: web, platform: amd64 }]);

      const manifest = await client.getManifest('shop/web', 'multi');
      expect(manifest).toEqual({ mediaType: MEDIA_TYPES.dockerList, bytes: list.bytes, digest: list.digest });
      expect(await client.getManifest('shop/web', list.digest)).toEqual(manifest);
      expect(await client.headManifest('shop/web', 'multi')).toBe(list.digest);
      expect(await client.headManifest('shop/web', 'multi-copy')).toBeNull();

      expect(await client.putManifest('shop/web', 'multi-copy', manifest.mediaType, manifest.bytes)).toBe(list.digest);
      expect(await headManifestDigest(registry.url, 'shop/web', 'multi-copy')).toBe(list.digest);
    });

    it('turns a manifest the registry rejects into a protocol error with the registry\'s reason', async () => {
      const client = new RegistryClient({ apiBase: registry.url, registry: registry.host });
      const bogus = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA_TYPES.dockerManifest,
          config: { mediaType: MEDIA_TYPES.dockerConfig, size: 1, digest: `sha256:${'1'.repeat(64)}` },
          layers: [],
        }),
      );
      const error = await rejection(client.putManifest('shop/web', 'bogus', MEDIA_TYPES.dockerManifest, bogus));
      expect(error.kind).toBe('protocol');
      expect(error.status).toBe(400);
      expect(error.message).toMatch(/answered 400 to PUT \/v2\/shop\/web\/manifests\/bogus: MANIFEST_BLOB_UNKNOWN/);
    });
  });
});
