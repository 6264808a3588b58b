import { describe, expect, it } from 'vitest';
import {
  credentialsFromEnv,
  credentialsFromHelper,
  dockerConfigPath,
  findDockerConfigCredentials,
  type CredentialHelperAnswer,
  type CredentialHelperCall,
} from '../src/registry/credentials.js';
import { RegistryError } from '../src/registry/errors.js';
import { planPromotion } from '../src/registry/plan.js';
import { isPlainHttpRegistry, parseImageReference, parseInsecureRegistries } from '../src/registry/reference.js';
import { parseWwwAuthenticate } from '../src/registry/www-authenticate.js';

const digestA = `sha256:${'a'.repeat(64)}`;
const digestB = `sha256:${'b'.repeat(64)}`;

describe('parseImageReference', () => {
  it.each([
    ['127.0.0.1:5000/shop/web', { registry: '127.0.0.1:5000', repository: 'shop/web', apiBase: 'http://127.0.0.1:5000', insecure: true }],
    ['localhost/shop/web', { registry: 'localhost', repository: 'shop/web', apiBase: 'http://localhost', insecure: true }],
    ['localhost:5000/web', { registry: 'localhost:5000', repository: 'web', apiBase: 'http://localhost:5000', insecure: true }],
    ['[::1]:5000/shop/web', { registry: '[::1]:5000', repository: 'shop/web', apiBase: 'http://[::1]:5000', insecure: true }],
    ['registry.example.com/shop/web', { registry: 'registry.example.com', repository: 'shop/web', apiBase: 'https://registry.example.com', insecure: false }],
    ['registry.example.com:8443/a/b/c', { registry: 'registry.example.com:8443', repository: 'a/b/c', apiBase: 'https://registry.example.com:8443' }],
    ['registry.example.com/shop/web:1.4.2', { registry: 'registry.example.com', repository: 'shop/web', tag: '1.4.2' }],
    [`registry.example.com/shop/web@${digestA}`, { repository: 'shop/web', digest: digestA }],
    [`registry.example.com/shop/web:rc@${digestA}`, { repository: 'shop/web', digest: digestA, tag: 'rc' }],
    ['nginx', { registry: 'docker.io', repository: 'library/nginx', apiBase: 'https://registry-1.docker.io', insecure: false }],
    ['nginx:1.25', { registry: 'docker.io', repository: 'library/nginx', tag: '1.25' }],
    ['shop/web', { registry: 'docker.io', repository: 'shop/web', apiBase: 'https://registry-1.docker.io' }],
    ['docker.io/nginx', { registry: 'docker.io', repository: 'library/nginx' }],
    ['index.docker.io/library/nginx', { registry: 'docker.io', repository: 'library/nginx' }],
    ['registry-1.docker.io/shop/web', { registry: 'docker.io', repository: 'shop/web' }],
    ['my_org/web-app.v2__x', { registry: 'docker.io', repository: 'my_org/web-app.v2__x' }],
  ])('%s', (input, expected) => {
    expect(parseImageReference(input)).toMatchObject(expected);
  });

  it.each([
    ['reg.internal:5000/shop/web', ['reg.internal:5000'], true],
    ['reg.internal:5000/shop/web', ['reg.internal'], true],
    ['reg.internal:5000/shop/web', ['reg.internal:6000'], false],
    ['reg.internal/shop/web', ['REG.INTERNAL'], true],
    ['other.internal/shop/web', ['reg.internal'], false],
    ['nginx', ['docker.io'], false],
  ])('%s with BATON_INSECURE_REGISTRIES %j → plain HTTP %s', (input, insecureRegistries, insecure) => {
    const reference = parseImageReference(input, { insecureRegistries });
    expect(reference.insecure).toBe(insecure);
    expect(reference.apiBase.startsWith(insecure ? 'http://' : 'https://')).toBe(true);
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['registry.example.com/Shop/web', /must be lowercase/],
    ['registry.example.com/shop/web:-bad', /tag "-bad" is not valid/],
    ['registry.example.com/shop/web:', /tag "" is not valid/],
    ['registry.example.com/shop/web@sha256:xyz', /is not a digest/],
    ['registry.example.com/', /repository name is missing/],
    ['registry.example.com/shop//web', /"" is not a valid repository path component/],
    ['registry.example.com/shop/-web', /"-web" is not a valid repository path component/],
    ['bad_host.example.com/shop/web', /"bad_host.example.com" is not a registry host/],
    [`registry.example.com/${'a'.repeat(260)}`, /longer than 255/],
  ])('rejects %j', (input, message) => {
    let caught: unknown;
    try {
      parseImageReference(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RegistryError);
    expect((caught as RegistryError).kind).toBe('invalid');
    expect((caught as RegistryError).message).toMatch(message);
    expect((caught as RegistryError).message).toContain(`"${input}"`);
  });
});

describe('isPlainHttpRegistry / parseInsecureRegistries', () => {
  it.each([
    ['localhost:5000', [], true],
    ['127.0.0.1:5000', [], true],
    ['127.1.2.3', [], true],
    ['[::1]:5000', [], true],
    ['registry.example.com', [], false],
    ['localhost.example.com', [], false],
    ['10.0.0.5:5000', ['10.0.0.5'], true],
  ])('%s %j → %s', (host, list, expected) => {
    expect(isPlainHttpRegistry(host, list)).toBe(expected);
  });

  it.each([
    [undefined, []],
    ['', []],
    ['a:5000, b  c', ['a:5000', 'b', 'c']],
    ['https://d.example/,http://e:1', ['d.example', 'e:1']],
  ])('%j → %j', (value, expected) => {
    expect(parseInsecureRegistries(value)).toEqual(expected);
  });
});

describe('parseWwwAuthenticate', () => {
  it.each([
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"',
      [{ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull' } }],
    ],
    [
      'Bearer realm="http://127.0.0.1:1/token",service="svc",scope="repository:shop/web:pull,push",error="insufficient_scope"',
      [{ scheme: 'bearer', params: { realm: 'http://127.0.0.1:1/token', service: 'svc', scope: 'repository:shop/web:pull,push', error: 'insufficient_scope' } }],
    ],
    ['Basic realm="Registry Realm"', [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]],
    [
      'Basic realm="a", Bearer realm="b",service="c"',
      [
        { scheme: 'basic', params: { realm: 'a' } },
        { scheme: 'bearer', params: { realm: 'b', service: 'c' } },
      ],
    ],
    ['Bearer realm="say \\"hi\\", twice"', [{ scheme: 'bearer', params: { realm: 'say "hi", twice' } }]],
    ['bearer REALM=https://x.example/token, service=reg', [{ scheme: 'bearer', params: { realm: 'https://x.example/token', service: 'reg' } }]],
    ['Bearer', [{ scheme: 'bearer', params: {} }]],
    ['', []],
  ])('%s', (header, expected) => {
    expect(parseWwwAuthenticate(header)).toEqual(expected);
  });
});

describe('planPromotion', () => {
  it.each([
    ['destination absent', null, false, { action: 'put', outcome: 'promoted' }],
    ['destination absent, forced', null, true, { action: 'put', outcome: 'promoted' }],
    ['destination holds the source digest', { digest: digestA }, false, { action: 'noop', outcome: 'unchanged' }],
    ['destination holds the source digest, forced', { digest: digestA }, true, { action: 'noop', outcome: 'unchanged' }],
    ['destination holds another digest', { digest: digestB }, false, { action: 'refuse', existingDigest: digestB }],
    ['destination holds another digest, forced', { digest: digestB }, true, { action: 'put', outcome: 'moved', previousDigest: digestB }],
  ] as const)('%s', (_name, existing, force, expected) => {
    expect(planPromotion({ digest: digestA }, existing, force)).toEqual(expected);
  });
});

describe('docker config credentials', () => {
  const auth = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');

  it.each([
    ['host key', { auths: { '127.0.0.1:5000': { auth: auth('ci', 'pw') } } }, '127.0.0.1:5000', { username: 'ci', password: 'pw' }],
    ['URL key', { auths: { 'http://127.0.0.1:5000': { auth: auth('ci', 'pw') } } }, '127.0.0.1:5000', { username: 'ci', password: 'pw' }],
    ['https URL key with path', { auths: { 'https://Reg.Example.com/v2/': { auth: auth('ci', 'pw') } } }, 'reg.example.com', { username: 'ci', password: 'pw' }],
    ['Docker Hub legacy key', { auths: { 'https://index.docker.io/v1/': { auth: auth('hub', 'pw') } } }, 'docker.io', { username: 'hub', password: 'pw' }],
    ['password with colons', { auths: { r: { auth: auth('ci', 'a:b:c') } } }, 'r', { username: 'ci', password: 'a:b:c' }],
    ['username/password fields', { auths: { r: { username: 'ci', password: 'pw' } } }, 'r', { username: 'ci', password: 'pw' }],
  ])('%s', (_name, config, registry, expected) => {
    expect(findDockerConfigCredentials(config, registry, 'cfg.json')).toEqual({
      from: 'auths',
      credentials: { kind: 'password', ...expected, source: 'cfg.json' },
    });
  });

  it.each([
    ['no file content', {}, 'r'],
    ['other host', { auths: { 'other:5000': { auth: auth('ci', 'pw') } } }, 'r:5000'],
    ['same host other port', { auths: { 'r:5001': { auth: auth('ci', 'pw') } } }, 'r:5000'],
    ['entry without secret', { auths: { r: {} } }, 'r'],
    ['a helper for another host only', { credHelpers: { other: 'ecr-login' } }, 'r'],
    ['empty helper names', { credsStore: '', credHelpers: { r: '' } }, 'r'],
  ])('none for %s', (_name, config, registry) => {
    expect(findDockerConfigCredentials(config, registry)).toEqual({ from: 'none' });
  });

  const hub = 'https://index.docker.io/v1/';
  it.each([
    ['credsStore', { credsStore: 'desktop' }, 'reg.example.com', ['docker-credential-desktop', 'credsStore', 'reg.example.com']],
    ['credHelpers for the host', { credHelpers: { 'reg.example.com': 'ecr-login' } }, 'reg.example.com', ['docker-credential-ecr-login', 'credHelpers["reg.example.com"]', 'reg.example.com']],
    ['credHelpers wins over credsStore', { credsStore: 'desktop', credHelpers: { 'r:5000': 'pass' } }, 'r:5000', ['docker-credential-pass', 'credHelpers["r:5000"]', 'r:5000']],
    ['credsStore when credHelpers names other hosts', { credsStore: 'desktop', credHelpers: { 'r:5001': 'pass', r: 'pass' } }, 'r:5000', ['docker-credential-desktop', 'credsStore', 'r:5000']],
    ['credsStore when the credHelpers entry is empty', { credsStore: 'desktop', credHelpers: { r: '' } }, 'r', ['docker-credential-desktop', 'credsStore', 'r']],
    ['the address as the credHelpers key writes it', { credHelpers: { 'https://Reg.Example.com:8443/': 'gcloud' } }, 'reg.example.com:8443', ['docker-credential-gcloud', 'credHelpers["https://Reg.Example.com:8443/"]', 'Reg.Example.com:8443']],
    ['the address docker login recorded in auths', { credsStore: 'osxkeychain', auths: { 'https://R.example.com': {} } }, 'r.example.com', ['docker-credential-osxkeychain', 'credsStore', 'R.example.com']],
    ['Docker Hub from credsStore', { credsStore: 'desktop.exe' }, 'docker.io', ['docker-credential-desktop.exe', 'credsStore', hub]],
    ['Docker Hub from credHelpers', { credsStore: 'desktop', credHelpers: { [hub]: 'secretservice' } }, 'docker.io', ['docker-credential-secretservice', `credHelpers["${hub}"]`, hub]],
    ['Docker Hub from an auths placeholder', { credsStore: 'desktop', auths: { 'index.docker.io': {} } }, 'docker.io', ['docker-credential-desktop', 'credsStore', hub]],
  ])('asks the helper %s names', (_name, config, registry, [executable, configKey, serverAddress]) => {
    expect(findDockerConfigCredentials(config, registry, 'cfg.json')).toEqual({
      from: 'helper',
      helper: { executable, configKey, serverAddress, file: 'cfg.json' },
    });
  });

  const token = 'idt-Unit-40-never-print-me';
  const identityToken = (key: string) => ({ kind: 'identity-token', identityToken: token, source: `auths["${key}"].identitytoken in cfg.json` });
  it.each([
    ['identitytoken alone', { auths: { r: { identitytoken: token } } }, 'r', identityToken('r')],
    ['identitytoken with the "user:" auth docker login writes', { auths: { r: { auth: auth('ci', ''), identitytoken: token } } }, 'r', identityToken('r')],
    ['identitytoken over a full auth', { auths: { r: { auth: auth('ci', 'pw'), identitytoken: token } } }, 'r', identityToken('r')],
    ['identitytoken over username/password', { auths: { r: { username: 'ci', password: 'pw', identitytoken: token } } }, 'r', identityToken('r')],
    ['identitytoken over any helper', { auths: { r: { identitytoken: token } }, credsStore: 'desktop', credHelpers: { r: 'pass' } }, 'r', identityToken('r')],
    ['Docker Hub identitytoken', { auths: { 'https://index.docker.io/v1/': { identitytoken: token } } }, 'docker.io', identityToken('https://index.docker.io/v1/')],
    ['auth when identitytoken is empty', { auths: { r: { auth: auth('ci', 'pw'), identitytoken: '' } } }, 'r', { kind: 'password', username: 'ci', password: 'pw', source: 'cfg.json' }],
  ])('takes %s', (_name, config, registry, credentials) => {
    expect(findDockerConfigCredentials(config, registry, 'cfg.json')).toEqual({ from: 'auths', credentials });
  });

  it.each([
    ['an identitytoken of another host', { auths: { other: { identitytoken: token } } }, 'r', { from: 'none' }],
    ['an empty identitytoken', { auths: { r: { identitytoken: '' } }, credsStore: 'desktop' }, 'r', { from: 'helper', helper: { executable: 'docker-credential-desktop', configKey: 'credsStore', serverAddress: 'r', file: 'cfg.json' } }],
  ])('passes over %s', (_name, config, registry, expected) => {
    expect(findDockerConfigCredentials(config, registry, 'cfg.json')).toEqual(expected);
  });

  it('prefers a secret in auths over any helper (as Baton always did), BATON_REGISTRY_* over both', () => {
    const config = { auths: { r: { auth: auth('ci', 'pw') } }, credsStore: 'desktop', credHelpers: { r: 'pass' } };
    expect(findDockerConfigCredentials(config, 'r')).toMatchObject({ from: 'auths', credentials: { username: 'ci' } });
  });

  it.each([
    ['credsStore', { credsStore: '../../bin/sh' }, /cfg\.json: credsStore "\.\.\/\.\.\/bin\/sh" is not a credential helper name/],
    ['credHelpers', { credHelpers: { r: 'a b' } }, /cfg\.json: credHelpers\["r"\] "a b" is not a credential helper name/],
    ['a credHelpers value that is not a string', { credHelpers: { r: 7 } }, /cfg\.json: credHelpers\.r: /],
  ])('rejects a helper name in %s that could run something else', (_name, config, message) => {
    expect(() => findDockerConfigCredentials(config, 'r', 'cfg.json')).toThrow(message);
  });

  it.each([
    ['auths not an object', { auths: [] }, /cfg\.json: auths: /],
    ['auth not a string', { auths: { r: { auth: 42 } } }, /cfg\.json: auths\.r\.auth: /],
    ['auth without a colon', { auths: { r: { auth: Buffer.from('hunter2secret').toString('base64') } } }, /auths\["r"\]\.auth must be base64 of "user:password"/],
    ['auth without a colon next to an identitytoken', { auths: { r: { auth: Buffer.from('hunter2secret').toString('base64'), identitytoken: 'hunter2secret' } } }, /auths\["r"\]\.auth must be base64 of "user:password"/],
    ['identitytoken not a string', { auths: { r: { identitytoken: 7 } } }, /cfg\.json: auths\.r\.identitytoken: /],
  ])('rejects %s naming the field, without the secret', (_name, config, message) => {
    let caught: unknown;
    try {
      findDockerConfigCredentials(config, 'r', 'cfg.json');
    } catch (error) {
      caught = error;
    }
    expect((caught as RegistryError).kind).toBe('invalid');
    expect((caught as RegistryError).message).toMatch(message);
    expect((caught as RegistryError).message).not.toContain('hunter2secret');
  });

  it('reads BATON_REGISTRY_USER/BATON_REGISTRY_PASSWORD, both or neither', () => {
    expect(credentialsFromEnv({})).toBeNull();
    expect(credentialsFromEnv({ BATON_REGISTRY_USER: 'ci', BATON_REGISTRY_PASSWORD: 'pw' })).toMatchObject({ kind: 'password', username: 'ci', password: 'pw' });
    expect(() => credentialsFromEnv({ BATON_REGISTRY_USER: 'ci' })).toThrow(/BATON_REGISTRY_PASSWORD is not set/);
    expect(() => credentialsFromEnv({ BATON_REGISTRY_PASSWORD: 'pw' })).toThrow(/BATON_REGISTRY_USER is not set/);
  });

  it('finds the config in DOCKER_CONFIG, else under HOME', () => {
    expect(dockerConfigPath({ DOCKER_CONFIG: '/etc/ci-docker', HOME: '/home/ci' })).toBe('/etc/ci-docker/config.json');
    expect(dockerConfigPath({ HOME: '/home/ci' })).toBe('/home/ci/.docker/config.json');
  });
});

describe('credential helper answers', () => {
  const call: CredentialHelperCall = { executable: 'docker-credential-test', configKey: 'credsStore', serverAddress: 'r:5000', file: 'cfg.json' };
  const source = 'docker-credential-test (credsStore in cfg.json)';
  const exited = (exitCode: number | null, stdout: string, stderr = '', signal: NodeJS.Signals | null = null): CredentialHelperAnswer => ({
    outcome: 'exited',
    exitCode,
    signal,
    stdout,
    stderr,
  });
  const secret = 'Hx7-never-print-this';
  const failure = (answer: CredentialHelperAnswer): RegistryError => {
    try {
      credentialsFromHelper(call, answer);
    } catch (error) {
      return error as RegistryError;
    }
    throw new Error('expected the answer to be refused');
  };

  it('takes Username and Secret as a username and password', () => {
    const answer = exited(0, JSON.stringify({ ServerURL: 'r:5000', Username: 'ci', Secret: secret }) + '\n');
    expect(credentialsFromHelper(call, answer)).toEqual({ credentials: { kind: 'password', username: 'ci', password: secret, source } });
  });

  it('takes Username "<token>" as an identity token, never as a password', () => {
    const answer = exited(0, JSON.stringify({ ServerURL: 'r:5000', Username: '<token>', Secret: secret }));
    expect(credentialsFromHelper(call, answer)).toEqual({ credentials: { kind: 'identity-token', identityToken: secret, source } });
  });

  it.each([
    ['"credentials not found"', exited(1, 'credentials not found in native keychain\n'), /^docker-credential-test \(credsStore in cfg\.json\) has none for r:5000: run docker login r:5000, or set BATON_REGISTRY_USER/],
    ['an empty Secret', exited(0, '{"ServerURL":"r:5000","Username":"","Secret":""}'), /answered an empty Secret for r:5000: run docker login r:5000/],
  ])('means anonymous access on %s, with a note for the "requires credentials" message', (_name, answer, note) => {
    const lookup = credentialsFromHelper(call, answer);
    expect(lookup.credentials).toBeNull();
    expect(lookup.note).toMatch(note);
  });

  it.each([
    ['not installed', { outcome: 'not-installed' } as const, 'invalid', /^cfg\.json: credsStore asks for the credential helper docker-credential-test, which is not installed \(not found on PATH\)/],
    ['not executable', { outcome: 'not-started', reason: 'EACCES (it is not executable)' } as const, 'invalid', /^credential helper docker-credential-test \(credsStore in cfg\.json\) cannot be run: EACCES/],
    ['too slow', { outcome: 'timed-out', timeoutMs: 10_000 } as const, 'auth', /did not answer within 10 s \(killed\)$/],
    ['failing', exited(1, 'pass store is locked\nsecond line\n'), 'auth', /\(credsStore in cfg\.json\) failed with exit status 1: pass store is locked$/],
    ['failing on stderr only', exited(2, '', 'gpg: decryption failed\n'), 'auth', /failed with exit status 2: gpg: decryption failed$/],
    ['failing silently', exited(1, ''), 'auth', /failed with exit status 1: it printed nothing$/],
    ['killed', exited(null, '', '', 'SIGTERM'), 'auth', /was killed by SIGTERM: it printed nothing$/],
    ['printing terminal escapes', exited(1, '\u001b[31mred alert\u001b[0m'), 'auth', /exit status 1: \[31mred alert \[0m$/],
    ['printing a long line', exited(1, 'x'.repeat(500)), 'auth', /exit status 1: x{200}…$/],
  ])('refuses a helper that is %s, naming it and the config file', (_name, answer, kind, message) => {
    const error = failure(answer);
    expect(error).toBeInstanceOf(RegistryError);
    expect(error.kind).toBe(kind);
    expect(error.message).toMatch(message);
    expect(error.detail).toEqual({ file: 'cfg.json', helper: 'docker-credential-test' });
  });

  it.each([
    ['failing with credentials in its output', exited(1, JSON.stringify({ Username: 'ci', Secret: secret })), /exit status 1: its output is not shown: it may hold a secret$/],
    ['failing with a password in its message', exited(1, `bad config: password=${secret}`), /its output is not shown/],
    ['answering something other than JSON', exited(0, `Username: ci Secret ${secret}`), /answered something other than JSON \{"ServerURL","Username","Secret"\} \(not shown/],
    ['answering JSON without a Secret', exited(0, JSON.stringify({ Username: 'ci', Password: secret })), /answered something other than JSON/],
    ['answering a Secret without a Username', exited(0, JSON.stringify({ Username: '', Secret: secret })), /answered an empty Username for r:5000$/],
  ])('never repeats what a helper %s', (_name, answer, message) => {
    const error = failure(answer);
    expect(error.kind).toBe('auth');
    expect(error.message).toMatch(message);
    expect(JSON.stringify(error.toJSON())).not.toContain(secret);
  });
});
