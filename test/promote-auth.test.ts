import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoSecrets as expectNone, runBaton, type CliResult } from './support/cli.js';
import {
  basicAuthorization,
  createCertificate,
  headManifestDigest,
  loopbackResolverOptions,
  pushTestImage,
  startRegistry,
  startTokenServer,
  type RunningRegistry,
  type TokenServer,
} from './support/registry.js';

const user = 'release-bot';
const password = 'pw-Zq81!never-print-me';
const identityToken = 'idt-Login-7731-never-print-me';
const revokedToken = 'idt-Revoked-0912-never-print-me';
const secrets = [password, Buffer.from(`${user}:${password}`).toString('base64'), identityToken, revokedToken];

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'baton-promote-auth-'));
});
afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const promote = (args: string[], env: Record<string, string> = {}) => runBaton(['promote', ...args], { env });
const envCredentials = (pw = password) => ({ BATON_REGISTRY_USER: user, BATON_REGISTRY_PASSWORD: pw });

const expectNoSecrets = (result: CliResult, extra: string[] = []) => expectNone(result, [...secrets, ...extra]);

/** A DOCKER_CONFIG directory whose config.json holds `auths` for `host`. */
async function dockerConfig(name: string, config: unknown): Promise<string> {
  const dir = path.join(scratch, name);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

const authEntry = (pw: string) => ({ auth: Buffer.from(`${user}:${pw}`).toString('base64') });

describe('baton promote with Basic auth (htpasswd registry)', () => {
  let registry: RunningRegistry;
  let digest: string;
  const authorization = basicAuthorization(user, password);

  beforeAll(async () => {
    registry = await startRegistry({ htpasswd: { user, password } });
    digest = (await pushTestImage(registry.url, 'shop/web', 'latest', { authorization })).digest;
  });
  afterAll(async () => registry?.stop());

  it('exits 12 without credentials, saying how to give them', async () => {
    const result = await promote([`${registry.host}/shop/web`, '--to', '0.9.0']);
    expect(result.code).toBe(12);
    expect(result.stderr).toMatch(/registry 127\.0\.0\.1:\d+ requires credentials: set BATON_REGISTRY_USER and BATON_REGISTRY_PASSWORD/);
    expect(await headManifestDigest(registry.url, 'shop/web', '0.9.0', { authorization })).toBeNull();
  });

  it('promotes with BATON_REGISTRY_USER/BATON_REGISTRY_PASSWORD', async () => {
    const result = await promote([`${registry.host}/shop/web`, '--to', '1.0.0', '--json'], envCredentials());
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ digest, outcome: 'promoted' });
    expect(await headManifestDigest(registry.url, 'shop/web', '1.0.0', { authorization })).toBe(digest);
    expectNoSecrets(result);
  });

  it('promotes with auths.<host>.auth from $DOCKER_CONFIG/config.json', async () => {
    const config = await dockerConfig('basic-good', { auths: { [`http://${registry.host}`]: authEntry(password) } });
    const result = await promote([`${registry.host}/shop/web`, '--to', '1.1.0'], { DOCKER_CONFIG: config });
    expect(result.code).toBe(0);
    expect(await headManifestDigest(registry.url, 'shop/web', '1.1.0', { authorization })).toBe(digest);
    expectNoSecrets(result);
  });

  it('exits 12 when the registry refuses the credentials, naming where they came from but not them', async () => {
    const wrong = 'wrong-Pw-77';
    const fromEnv = await promote([`${registry.host}/shop/web`, '--to', '1.2.0', '--json'], envCredentials(wrong));
    expect(fromEnv.code).toBe(12);
    expect(fromEnv.stderr).toMatch(/refused the credentials from BATON_REGISTRY_USER\/BATON_REGISTRY_PASSWORD/);
    expect(JSON.parse(fromEnv.stdout)).toMatchObject({ error: 'registry-auth-refused' });
    expectNoSecrets(fromEnv, [wrong, Buffer.from(`${user}:${wrong}`).toString('base64')]);

    const config = await dockerConfig('basic-wrong', { auths: { [registry.host]: authEntry(wrong) } });
    const fromFile = await promote([`${registry.host}/shop/web`, '--to', '1.2.0'], { DOCKER_CONFIG: config });
    expect(fromFile.code).toBe(12);
    expect(fromFile.stderr).toContain(`refused the credentials from ${path.join(config, 'config.json')}`);
    expectNoSecrets(fromFile, [wrong]);
    expect(await headManifestDigest(registry.url, 'shop/web', '1.2.0', { authorization })).toBeNull();
  });

  it('exits 12 for an auths identitytoken, which it never sends as a password', async () => {
    const config = await dockerConfig('basic-identity', { auths: { [registry.host]: { ...authEntry(password), identitytoken: identityToken } } });
    const result = await promote([`${registry.host}/shop/web`, '--to', '1.3.0', '--json'], { DOCKER_CONFIG: config });
    expect(result.code).toBe(12);
    expect(result.stderr).toContain(
      `registry ${registry.host} asks for Basic auth, but the credentials from auths["${registry.host}"].identitytoken in ${path.join(config, 'config.json')} are an identity token`,
    );
    expect(JSON.parse(result.stdout)).toMatchObject({ error: 'registry-auth-refused' });
    expectNoSecrets(result);
    expect(await headManifestDigest(registry.url, 'shop/web', '1.3.0', { authorization })).toBeNull();
  });

  it('exits 2 for a broken docker config, naming the file', async () => {
    const config = await dockerConfig('broken', {});
    await writeFile(path.join(config, 'config.json'), `{"auths": {"${registry.host}": {"auth": "${secrets[1]}"`);
    const result = await promote([`${registry.host}/shop/web`, '--to', '1.4.0'], { DOCKER_CONFIG: config });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${path.join(config, 'config.json')} is not valid JSON`);
    expectNoSecrets(result);
  });
});

describe('baton promote with the registry token flow', () => {
  let tokens: TokenServer;
  let registry: RunningRegistry;
  let digest: string;
  let authorization: string;

  beforeAll(async () => {
    // auths.<host>.identitytoken (what docker login stores for OAuth2 registries) goes to the same server: the user's
    // password works there too, so only the grant type shows which credential a promotion sent.
    tokens = await startTokenServer({ users: { [user]: password }, refreshTokens: { [identityToken]: user } });
    registry = await startRegistry({ tokenAuth: tokens.registryAuth });
    authorization = `Bearer ${tokens.mint('shop/web', ['pull', 'push'])}`;
    digest = (await pushTestImage(registry.url, 'shop/web', 'latest', { authorization })).digest;
  });
  afterAll(async () => {
    await registry?.stop();
    await tokens?.close();
  });

  it('gets one pull,push token for the repository and promotes with it', async () => {
    const before = tokens.requests.length;
    const result = await promote([`${registry.host}/shop/web`, '--to', '1.0.0', '--json'], envCredentials());

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ digest, outcome: 'promoted' });
    expect(await headManifestDigest(registry.url, 'shop/web', '1.0.0', { authorization })).toBe(digest);
    // GET source, HEAD destination and PUT all ride on one cached token.
    expect(tokens.requests.slice(before)).toEqual([
      { service: 'baton-test-registry', scopes: ['repository:shop/web:pull,push'], user, granted: true },
    ]);
    expectNoSecrets(result);
  });

  it('exits 12 when the token server refuses the credentials or none are given', async () => {
    const refused = await promote([`${registry.host}/shop/web`, '--to', '1.1.0'], envCredentials('nope-nope'));
    expect(refused.code).toBe(12);
    expect(refused.stderr).toMatch(/token server http:\/\/127\.0\.0\.1:\d+ refused the credentials from BATON_REGISTRY_USER\/BATON_REGISTRY_PASSWORD/);
    expectNoSecrets(refused, ['nope-nope']);

    const anonymous = await promote([`${registry.host}/shop/web`, '--to', '1.1.0']);
    expect(anonymous.code).toBe(12);
    expect(anonymous.stderr).toMatch(/token server http:\/\/127\.0\.0\.1:\d+ requires credentials/);
    expect(await headManifestDigest(registry.url, 'shop/web', '1.1.0', { authorization })).toBeNull();
  });

  it('exits 12 when the token grants pull but not push, leaving the tag alone', async () => {
    const pullOnly = await startTokenServer({ users: { [user]: password }, grant: () => ['pull'] });
    const strict = await startRegistry({ tokenAuth: pullOnly.registryAuth });
    try {
      await pushTestImage(strict.url, 'shop/web', 'latest', { authorization: `Bearer ${pullOnly.mint('shop/web', ['pull', 'push'])}` });
      const result = await promote([`${strict.host}/shop/web`, '--to', '1.0.0'], envCredentials());
      expect(result.code).toBe(12);
      expect(result.stderr).toMatch(/registry 127\.0\.0\.1:\d+ denied PUT on shop\/web: the token for the credentials from BATON_REGISTRY_USER\/BATON_REGISTRY_PASSWORD does not grant pull,push/);
      expect(await headManifestDigest(strict.url, 'shop/web', '1.0.0', { authorization: `Bearer ${pullOnly.mint('shop/web', ['pull'])}` })).toBeNull();
      expectNoSecrets(result);
    } finally {
      await strict.stop();
      await pullOnly.close();
    }
  });

  it('trades the identity token at the token server (refresh_token grant), also over a full auth in the same entry', async () => {
    const entries = [
      ['3.0.0', 'alone', { identitytoken: identityToken }],
      ['3.0.1', 'with docker login’s "user:" auth', { auth: Buffer.from(`${user}:`).toString('base64'), identitytoken: identityToken }],
      ['3.0.2', 'with a working auth', { ...authEntry(password), identitytoken: identityToken }],
    ] as const;
    for (const [tag, name, entry] of entries) {
      const config = await dockerConfig(`identity-${tag}`, { auths: { [registry.host]: entry } });
      const before = tokens.requests.length;
      const result = await promote([`${registry.host}/shop/web`, '--to', tag, '--json'], { DOCKER_CONFIG: config });
      expect(result.code, name).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ digest, outcome: 'promoted' });
      expect(tokens.requests.slice(before), name).toEqual([
        { service: 'baton-test-registry', scopes: ['repository:shop/web:pull,push'], user, granted: true, grantType: 'refresh_token' },
      ]);
      expect(await headManifestDigest(registry.url, 'shop/web', tag, { authorization })).toBe(digest);
      expectNoSecrets(result);
    }
  });

  it('exits 12 when the token server refuses the identity token, naming the config entry but never the token', async () => {
    const config = await dockerConfig('identity-revoked', { auths: { [registry.host]: { ...authEntry(password), identitytoken: revokedToken } } });
    const file = path.join(config, 'config.json');
    for (const json of [true, false]) {
      const result = await promote([`${registry.host}/shop/web`, '--to', '3.1.0', ...(json ? ['--json'] : [])], { DOCKER_CONFIG: config });
      expect(result.code).toBe(12);
      const message = `token server ${new URL(tokens.registryAuth.realm).origin} refused the identity token from auths["${registry.host}"].identitytoken in ${file}`;
      expect(result.stderr).toContain(message);
      if (json) expect(JSON.parse(result.stdout)).toMatchObject({ error: 'registry-auth-refused', message });
      expectNoSecrets(result);
    }
    expect(await headManifestDigest(registry.url, 'shop/web', '3.1.0', { authorization })).toBeNull();
  });
});

describe('baton promote over HTTPS', () => {
  let registry: RunningRegistry;
  let caFile: string;
  let nodeOptions: string;
  const name = 'registry.baton.test';

  beforeAll(async () => {
    const cert = await createCertificate(scratch, name, `DNS:${name},IP:127.0.0.1`);
    caFile = cert.certificate;
    registry = await startRegistry({ tls: { certificate: cert.certificate, key: cert.key } });
    nodeOptions = [process.env.NODE_OPTIONS, await loopbackResolverOptions(scratch)].filter(Boolean).join(' ');
    await pushTestImage(registry.url, 'shop/web', 'latest', { ca: cert.certificatePem });
  });
  afterAll(async () => registry?.stop());

  it('trusts a private CA given with NODE_EXTRA_CA_CERTS', async () => {
    const image = `${name}:${registry.port}/shop/web`;
    const result = await promote([image, '--to', '1.0.0'], { NODE_OPTIONS: nodeOptions, NODE_EXTRA_CA_CERTS: caFile });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^promoted ${image.replace(/\./g, '\\.')}:1\\.0\\.0 → sha256:`));
  });

  it('exits 13 with a hint when the certificate is not trusted', async () => {
    const result = await promote([`${name}:${registry.port}/shop/web`, '--to', '1.1.0'], { NODE_OPTIONS: nodeOptions });
    expect(result.code).toBe(13);
    expect(result.stderr).toMatch(/its TLS certificate is not trusted \(point NODE_EXTRA_CA_CERTS at the CA certificate, PEM\)/);
  });
});
