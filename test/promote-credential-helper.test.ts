// Docker credential helpers (credsStore / credHelpers in the docker config), driven through the CLI as a process against
// a real docker-registry. The helpers are small sh scripts on the CLI's PATH that record how they were asked.
import { access, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.js';
import { runCredentialHelper } from '../src/registry/credential-helper-process.js';
import { expectNoSecrets as expectNone, runBaton, type CliResult } from './support/cli.js';
import { makeDeployFixture, webApp } from './support/deploy-fixture.js';
import {
  basicAuthorization,
  headManifestDigest,
  pushTestImage,
  startRegistry,
  startTokenServer,
  type RunningRegistry,
  type TokenServer,
} from './support/registry.js';

const user = 'release-bot';
const password = 'pw-Helper-83!never-print-me';
const wrongPassword = 'pw-Stale-19!never-print-me';
const identityToken = 'idt-Refresh-5521-never-print-me';
const secrets = [password, wrongPassword, identityToken, Buffer.from(`${user}:${password}`).toString('base64')];

let scratch: string;
let binDir: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'baton-credential-helper-'));
  binDir = path.join(scratch, 'bin');
  await mkdir(binDir);
});
afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/**
 * bin/docker-credential-<name>: appends "<arguments> <stdin, byte for byte>" and a record separator to calls-<name>,
 * then runs `body` with the server address it was given in $asked.
 */
async function helper(name: string, body: string): Promise<void> {
  const file = path.join(binDir, `docker-credential-${name}`);
  const record = `cat > "$0.stdin"\nasked=$(cat "$0.stdin")\n{ printf '%s ' "$*"; cat "$0.stdin"; printf '\\036'; } >> "${callsFile(name)}"`;
  await writeFile(file, `#!/bin/sh\n${record}\n${body}\n`);
  await chmod(file, 0o755);
}
const answering = (username: string, secret: string) =>
  `printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}\\n' "$asked" '${username}' '${secret}'`;
const callsFile = (name: string) => path.join(binDir, `calls-${name}`);
const calls = async (name: string): Promise<string[]> => {
  try {
    return (await readFile(callsFile(name), 'utf8')).split('\u001e').filter(Boolean);
  } catch {
    return [];
  }
};

/** A DOCKER_CONFIG directory holding `config`; returns the directory and its config.json. */
async function dockerConfig(name: string, config: unknown): Promise<{ dir: string; file: string }> {
  const dir = path.join(scratch, 'config', name);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'config.json');
  await writeFile(file, JSON.stringify(config));
  return { dir, file };
}

const withHelpers = (configDir: string, extra: Record<string, string> = {}) => ({
  PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}`,
  DOCKER_CONFIG: configDir,
  ...extra,
});
const promote = (args: string[], env: Record<string, string>) => runBaton(['promote', ...args], { env });

const expectNoSecrets = (result: CliResult) => expectNone(result, secrets);

const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('baton promote with a docker credential helper (htpasswd registry)', () => {
  let registry: RunningRegistry;
  let digest: string;
  let image: string;
  const authorization = basicAuthorization(user, password);

  beforeAll(async () => {
    registry = await startRegistry({ htpasswd: { user, password } });
    digest = (await pushTestImage(registry.url, 'shop/web', 'latest', { authorization })).digest;
    image = `${registry.host}/shop/web`;
    await helper('good', answering(user, password));
    await helper('stale', answering(user, wrongPassword));
    await helper('empty', `echo 'credentials not found in native keychain'; exit 1`);
    await helper('locked', `echo 'pass store is locked: gpg-agent is not running'; echo 'details on stderr' >&2; exit 3`);
    await helper('leaky', `${answering(user, password)}; exit 1`);
    await helper('token', answering('<token>', identityToken));
  });
  afterAll(async () => registry?.stop());

  const tagged = (tag: string) => headManifestDigest(registry.url, 'shop/web', tag, { authorization });

  it('promotes with what the credsStore helper answers, asking it the way docker does', async () => {
    const config = await dockerConfig('store', { auths: { [registry.host]: {} }, credsStore: 'good' });
    const result = await promote([image, '--to', '1.0.0', '--json'], withHelpers(config.dir));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ digest, outcome: 'promoted' });
    expect(await tagged('1.0.0')).toBe(digest);
    // `get`, and the host:port on stdin with nothing after it.
    expect(await calls('good')).toEqual([`get ${registry.host}`]);
    expectNoSecrets(result);
  });

  it('asks credHelpers.<registry> rather than credsStore, and credsStore for registries credHelpers does not name', async () => {
    const own = await dockerConfig('own-helper', { credsStore: 'stale', credHelpers: { [registry.host]: 'good' } });
    const ownResult = await promote([image, '--to', '1.1.0'], withHelpers(own.dir));
    expect(ownResult.code).toBe(0);
    expect(ownResult.stdout).toMatch(new RegExp(`^promoted ${escaped(image)}:1\\.1\\.0 → ${digest}`));
    expect(await calls('stale')).toEqual([]);

    const other = await dockerConfig('other-helper', { credsStore: 'stale', credHelpers: { 'registry.example.com': 'good' } });
    const otherResult = await promote([image, '--to', '1.1.1'], withHelpers(other.dir));
    expect(otherResult.code).toBe(12);
    expect(otherResult.stderr).toContain(`refused the credentials from docker-credential-stale (credsStore in ${other.file})`);
    expect(await calls('stale')).toEqual([`get ${registry.host}`]);
    expect(await tagged('1.1.1')).toBeNull();
    expectNoSecrets(otherResult);
  });

  it('does not run any helper when BATON_REGISTRY_USER/BATON_REGISTRY_PASSWORD are set', async () => {
    await helper('unwanted', `exit 9`);
    const config = await dockerConfig('env-wins', { credsStore: 'unwanted', credHelpers: { [registry.host]: 'unwanted' } });
    const result = await promote([image, '--to', '1.2.0'], withHelpers(config.dir, { BATON_REGISTRY_USER: user, BATON_REGISTRY_PASSWORD: password }));
    expect(result.code).toBe(0);
    expect(await calls('unwanted')).toEqual([]);
  });

  it('goes anonymous when the helper has no credentials, and exits 12 when the registry wants some', async () => {
    const config = await dockerConfig('not-found', { credsStore: 'empty' });
    const result = await promote([image, '--to', '1.3.0', '--json'], withHelpers(config.dir));
    expect(result.code).toBe(12);
    expect(result.stderr).toContain(
      `registry ${registry.host} requires credentials, but docker-credential-empty (credsStore in ${config.file}) has none for ${registry.host}: run docker login ${registry.host}, or set BATON_REGISTRY_USER and BATON_REGISTRY_PASSWORD`,
    );
    expect(JSON.parse(result.stdout)).toMatchObject({ error: 'registry-auth-refused' });
    expect(await calls('empty')).toEqual([`get ${registry.host}`]);
    expect(await tagged('1.3.0')).toBeNull();
  });

  it('exits 2 naming the missing executable and the config key that asked for it', async () => {
    const store = await dockerConfig('missing-store', { credsStore: 'absent' });
    const fromStore = await promote([image, '--to', '1.4.0', '--json'], withHelpers(store.dir));
    expect(fromStore.code).toBe(2);
    expect(fromStore.stderr).toContain(
      `${store.file}: credsStore asks for the credential helper docker-credential-absent, which is not installed (not found on PATH)`,
    );
    expect(JSON.parse(fromStore.stdout)).toMatchObject({ error: 'invalid-input', file: store.file, helper: 'docker-credential-absent' });

    const helpers = await dockerConfig('missing-helper', { credsStore: 'good', credHelpers: { [registry.host]: 'ecr-login-absent' } });
    const fromHelpers = await promote([image, '--to', '1.4.0'], withHelpers(helpers.dir));
    expect(fromHelpers.code).toBe(2);
    expect(fromHelpers.stderr).toContain(
      `${helpers.file}: credHelpers["${registry.host}"] asks for the credential helper docker-credential-ecr-login-absent, which is not installed`,
    );
    expect(await tagged('1.4.0')).toBeNull();
  });

  it('exits 12 when the helper fails, naming it and the config file with what it said', async () => {
    const config = await dockerConfig('failing', { credsStore: 'locked' });
    const result = await promote([image, '--to', '1.5.0', '--json'], withHelpers(config.dir));
    expect(result.code).toBe(12);
    expect(result.stderr).toContain(
      `credential helper docker-credential-locked (credsStore in ${config.file}) failed with exit status 3: pass store is locked: gpg-agent is not running`,
    );
    expect(result.stderr).not.toContain('details on stderr');
    expect(JSON.parse(result.stdout)).toMatchObject({ error: 'registry-auth-refused', file: config.file, helper: 'docker-credential-locked' });
    expect(await tagged('1.5.0')).toBeNull();
  });

  it('never prints what a helper answered: refused, failing with credentials in its output, or an identity token', async () => {
    const stale = await dockerConfig('stale', { credsStore: 'stale' });
    const refused = await promote([image, '--to', '1.6.0', '--json'], withHelpers(stale.dir));
    expect(refused.code).toBe(12);
    expect(JSON.parse(refused.stdout)).toMatchObject({
      error: 'registry-auth-refused',
      message: `registry ${registry.host} refused the credentials from docker-credential-stale (credsStore in ${stale.file}) for pull,push on shop/web`,
    });
    expectNoSecrets(refused);

    const leaky = await dockerConfig('leaky', { credsStore: 'leaky' });
    for (const args of [['--json'], []]) {
      const result = await promote([image, '--to', '1.6.0', ...args], withHelpers(leaky.dir));
      expect(result.code).toBe(12);
      expect(result.stderr).toContain('docker-credential-leaky (credsStore in');
      expect(result.stderr).toContain('its output is not shown: it may hold a secret');
      expectNoSecrets(result);
    }

    const token = await dockerConfig('identity-token', { credHelpers: { [registry.host]: 'token' } });
    const basic = await promote([image, '--to', '1.6.0', '--json'], withHelpers(token.dir));
    expect(basic.code).toBe(12);
    expect(basic.stderr).toContain(
      `registry ${registry.host} asks for Basic auth, but the credentials from docker-credential-token (credHelpers["${registry.host}"] in ${token.file}) are an identity token`,
    );
    expectNoSecrets(basic);
    expect(await tagged('1.6.0')).toBeNull();
  });
});

describe('baton promote with an identity token from a credential helper (registry token flow)', () => {
  let tokens: TokenServer;
  let registry: RunningRegistry;
  let digest: string;

  beforeAll(async () => {
    tokens = await startTokenServer({ refreshTokens: { [identityToken]: user } });
    registry = await startRegistry({ tokenAuth: tokens.registryAuth });
    digest = (await pushTestImage(registry.url, 'shop/web', 'latest', { authorization: `Bearer ${tokens.mint('shop/web', ['pull', 'push'])}` })).digest;
    await helper('oauth', answering('<token>', identityToken));
    await helper('oauth-revoked', answering('<token>', 'idt-revoked-never-print-me'));
  });
  afterAll(async () => {
    await registry?.stop();
    await tokens?.close();
  });

  it('trades the identity token for a registry token (OAuth2 refresh_token grant) and promotes', async () => {
    const config = await dockerConfig('oauth', { credsStore: 'oauth' });
    const before = tokens.requests.length;
    const result = await promote([`${registry.host}/shop/web`, '--to', '2.0.0', '--json'], withHelpers(config.dir));
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ digest, outcome: 'promoted' });
    expect(tokens.requests.slice(before)).toEqual([
      { service: 'baton-test-registry', scopes: ['repository:shop/web:pull,push'], user, granted: true, grantType: 'refresh_token' },
    ]);
    expect(await headManifestDigest(registry.url, 'shop/web', '2.0.0', { authorization: `Bearer ${tokens.mint('shop/web', ['pull'])}` })).toBe(digest);
    expectNoSecrets(result);
  });

  it('exits 12 when the token server refuses the identity token', async () => {
    const config = await dockerConfig('oauth-revoked', { credsStore: 'oauth-revoked' });
    const result = await promote([`${registry.host}/shop/web`, '--to', '2.1.0'], withHelpers(config.dir));
    expect(result.code).toBe(12);
    expect(result.stderr).toMatch(
      new RegExp(`token server http://127\\.0\\.0\\.1:\\d+ refused the identity token from docker-credential-oauth-revoked \\(credsStore in ${escaped(config.file)}\\)`),
    );
    expect(result.stderr).not.toContain('idt-revoked-never-print-me');
  });
});

describe('baton deploy with a docker credential helper', () => {
  let registry: RunningRegistry;
  let marathon: RunningEmulator;
  const authorization = basicAuthorization(user, password);

  beforeAll(async () => {
    registry = await startRegistry({ htpasswd: { user, password } });
    marathon = await startEmulator({ timings: { stagingMs: 30, healthyMs: 50, crashMs: 50, killMs: 20, backoffMs: 50 } });
    await helper('deploy', answering(user, password));
  });
  afterAll(async () => {
    await marathon?.close();
    await registry?.stop();
  });

  it('checks the image and --promote tags it with the helper’s credentials, running the helper once', async () => {
    const pushed = await pushTestImage(registry.url, 'shop/deployed', 'latest', { authorization });
    const fixture = makeDeployFixture({ qa: { imageCheck: true, datacenters: { AA: { url: marathon.url } } } });
    try {
      const definition = webApp('/helper/deployed', { instances: 1 });
      (definition.container as { docker: { image: string } }).docker.image = `${registry.host}/shop/deployed:latest`;
      fixture.writeApp('deployed', { 'qa-deploy.json': definition });
      const config = await dockerConfig('deploy', { credsStore: 'deploy' });
      const result = await runBaton(['deploy', 'deployed', '--env', 'qa', '--version', '3.0.0', '--promote', '--json'], {
        env: { ...fixture.env, ...withHelpers(config.dir) },
      });
      expect(result.code).toBe(0);
      expect(result.stderr).toContain(`registry: promoted ${registry.host}/shop/deployed:3.0.0 → ${pushed.digest}`);
      expect(await headManifestDigest(registry.url, 'shop/deployed', '3.0.0', { authorization })).toBe(pushed.digest);
      // Two existence checks and the promotion share one lookup.
      expect(await calls('deploy')).toEqual([`get ${registry.host}`]);
      expectNoSecrets(result);
      for (const line of fixture.auditLines()) for (const secret of secrets) expect(JSON.stringify(line)).not.toContain(secret);
    } finally {
      fixture.cleanup();
    }
  });
});

describe('runCredentialHelper (the process adapter)', () => {
  const env = () => ({ ...process.env, PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}` });

  it('passes `get` and the address on stdin, and reports stdout, stderr and the exit status', async () => {
    await helper('echo', `printf 'out:'; cat "$0.stdin"; printf 'err' >&2; exit 4`);
    expect(await runCredentialHelper('docker-credential-echo', 'r.example.com:5000', env())).toEqual({
      outcome: 'exited',
      exitCode: 4,
      signal: null,
      stdout: 'out:r.example.com:5000',
      stderr: 'err',
    });
  });

  it('reports a helper that is not on PATH, or not executable', async () => {
    expect(await runCredentialHelper('docker-credential-nowhere', 'r', env())).toEqual({ outcome: 'not-installed' });
    const file = path.join(binDir, 'docker-credential-noexec');
    await writeFile(file, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    await access(file);
    expect(await runCredentialHelper(file, 'r', env())).toEqual({ outcome: 'not-started', reason: 'EACCES (it is not executable)' });
  });

  it('kills a helper that does not answer in time, even when a child of it holds the output open', async () => {
    await helper('stuck', 'sleep 5; echo late');
    const started = Date.now();
    expect(await runCredentialHelper('docker-credential-stuck', 'r', env(), 300)).toEqual({ outcome: 'timed-out', timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('does not trip over a helper that exits without reading its input', async () => {
    const file = path.join(binDir, 'docker-credential-deaf');
    await writeFile(file, `#!/bin/sh\nexec 0<&-\n${answering(user, password)}\n`);
    await chmod(file, 0o755);
    const answer = await runCredentialHelper('docker-credential-deaf', 'x'.repeat(1024 * 1024), env());
    expect(answer).toMatchObject({ outcome: 'exited', exitCode: 0 });
  });
});
