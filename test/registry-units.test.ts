import { describe, expect, it } from 'vitest';
import { credentialsFromEnv, dockerConfigPath, findDockerConfigCredentials } from '../src/registry/credentials.js';
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
    expect(findDockerConfigCredentials(config, registry, 'cfg.json').credentials).toEqual({ ...expected, source: 'cfg.json' });
  });

  it.each([
    ['no file content', {}, 'r'],
    ['other host', { auths: { 'other:5000': { auth: auth('ci', 'pw') } } }, 'r:5000'],
    ['same host other port', { auths: { 'r:5001': { auth: auth('ci', 'pw') } } }, 'r:5000'],
    ['entry without secret', { auths: { r: {} } }, 'r'],
  ])('none for %s', (_name, config, registry) => {
    expect(findDockerConfigCredentials(config, registry)).toEqual({ credentials: null });
  });

  it('explains a credential helper Baton does not run', () => {
    expect(findDockerConfigCredentials({ credsStore: 'desktop' }, 'r', 'cfg.json').note).toMatch(/docker-credential-desktop.*BATON_REGISTRY_USER/);
    expect(findDockerConfigCredentials({ credHelpers: { r: 'ecr-login' } }, 'r').note).toMatch(/docker-credential-ecr-login/);
    expect(findDockerConfigCredentials({ credHelpers: { other: 'ecr-login' } }, 'r').note).toBeUndefined();
  });

  it.each([
    ['auths not an object', { auths: [] }, /cfg\.json: auths: /],
    ['auth not a string', { auths: { r: { auth: 42 } } }, /cfg\.json: auths\.r\.auth: /],
    ['auth without a colon', { auths: { r: { auth: Buffer.from('hunter2secret').toString('base64') } } }, /auths\["r"\]\.auth must be base64 of "user:password"/],
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
    expect(credentialsFromEnv({ BATON_REGISTRY_USER: 'ci', BATON_REGISTRY_PASSWORD: 'pw' })).toMatchObject({ username: 'ci', password: 'pw' });
    expect(() => credentialsFromEnv({ BATON_REGISTRY_USER: 'ci' })).toThrow(/BATON_REGISTRY_PASSWORD is not set/);
    expect(() => credentialsFromEnv({ BATON_REGISTRY_PASSWORD: 'pw' })).toThrow(/BATON_REGISTRY_USER is not set/);
  });

  it('finds the config in DOCKER_CONFIG, else under HOME', () => {
    expect(dockerConfigPath({ DOCKER_CONFIG: '/etc/ci-docker', HOME: '/home/ci' })).toBe('/etc/ci-docker/config.json');
    expect(dockerConfigPath({ HOME: '/home/ci' })).toBe('/home/ci/.docker/config.json');
  });
});
