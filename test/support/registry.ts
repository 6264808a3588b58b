// A real Docker Distribution registry (Debian's docker-registry) for tests, plus helpers that push images through the
// registry API without Docker, a token server for the Bearer flow, and TLS material. Everything listens on 127.0.0.1.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey, randomBytes, sign } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { ensureCommand } from './debian.js';
import { freePort } from './free-port.js';

const run = promisify(execFile);

export interface TokenAuthConfig {
  realm: string;
  service: string;
  issuer: string;
  /** PEM file with the certificate(s) whose keys sign the tokens. */
  rootcertbundle: string;
}

export interface StartRegistryOptions {
  /** Basic auth with one user (the registry's htpasswd mode). */
  htpasswd?: { user: string; password: string };
  /** The token flow: the registry answers 401 with a Bearer challenge and accepts tokens signed by the bundle's keys. */
  tokenAuth?: TokenAuthConfig;
  /** Serve HTTPS with this certificate and key (PEM files). */
  tls?: { certificate: string; key: string };
  /** How long to wait for `GET /v2/` to answer. */
  readyTimeoutMs?: number;
}

export interface RunningRegistry {
  /** "http://127.0.0.1:PORT" (https with tls). */
  url: string;
  /** "127.0.0.1:PORT": the registry part of image references. */
  host: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export { freePort };

/** Starts `docker-registry serve` on a free 127.0.0.1 port with storage in a temp dir. Stop it with stop(). */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<RunningRegistry> {
  await ensureCommand('docker-registry', 'docker-registry');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'baton-registry-'));
  let auth: Record<string, unknown> | undefined;
  if (options.htpasswd) {
    await ensureCommand('htpasswd', 'apache2-utils');
    const { stdout } = await run('htpasswd', ['-Bbn', options.htpasswd.user, options.htpasswd.password]);
    await writeFile(path.join(dir, 'htpasswd'), stdout.trim() + '\n');
    auth = { htpasswd: { realm: 'baton-test', path: path.join(dir, 'htpasswd') } };
  } else if (options.tokenAuth) {
    auth = { token: { ...options.tokenAuth } };
  }

  // The port is free when asked but could be taken before the registry binds it: try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freePort();
    const config = {
      version: '0.1',
      log: { level: 'warn', accesslog: { disabled: true } },
      storage: { filesystem: { rootdirectory: path.join(dir, 'data') }, delete: { enabled: true } },
      http: {
        addr: `127.0.0.1:${port}`,
        secret: randomBytes(16).toString('hex'),
        draintimeout: '1s',
        ...(options.tls && { tls: { certificate: options.tls.certificate, key: options.tls.key } }),
      },
      ...(auth && { auth }),
    };
    // JSON is YAML: no quoting surprises in paths.
    const configPath = path.join(dir, 'config.yml');
    await writeFile(configPath, JSON.stringify(config, null, 2));
    const child = spawn('docker-registry', ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-8000);
    });
    const url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    try {
      await waitUntilReady(child, url, options.tls?.certificate, options.readyTimeoutMs ?? 10_000, () => stderr);
    } catch (error) {
      lastError = error;
      await stopProcess(child);
      continue;
    }
    return {
      url,
      host: `127.0.0.1:${port}`,
      port,
      pid: child.pid!,
      stop: async () => {
        await stopProcess(child);
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}

async function waitUntilReady(
  child: ChildProcess,
  url: string,
  caFile: string | undefined,
  timeoutMs: number,
  stderr: () => string,
): Promise<void> {
  const ca = caFile ? await readFile(caFile) : undefined;
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`docker-registry exited (${child.exitCode ?? child.signalCode}): ${stderr()}`);
    }
    try {
      const { status } = await request(`${url}/v2/`, { ca });
      // An auth-enabled registry answers 401: it is up all the same.
      if (status === 200 || status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 200);
  }
  throw new Error(`docker-registry did not answer GET ${url}/v2/ within ${timeoutMs} ms: ${stderr()}`);
}

/** SIGTERM by PID, then wait; SIGKILL if it lingers. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid!, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
  }, 5_000);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------------------------------
// Plain HTTP(S) requests with an optional CA, for pushing and checking state independently of the code under test.

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Extra CA (PEM) for an HTTPS registry with a test certificate. */
  ca?: Buffer | string | undefined;
}

export function request(url: string, options: RequestOptions = {}): Promise<HttpAnswer> {
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      target,
      {
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        agent: false,
        ...(options.ca !== undefined && { ca: options.ca }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

// ---------------------------------------------------------------------------------------------------------------------
// Pushing images through the registry API (no Docker).

export const MEDIA_TYPES = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

export interface PushedManifest {
  digest: string;
  mediaType: string;
  /** The exact bytes pushed (their sha256 is the digest). */
  bytes: Buffer;
}

export interface PushOptions {
  /** Authorization header value ("Basic …" or "Bearer …") for a registry with auth. */
  authorization?: string;
  /** docker (schema2, default) or oci. */
  format?: 'docker' | 'oci';
  /** Different seeds make different images (different digests); the same seed the same image. */
  seed?: string;
  platform?: { architecture: string; os: string };
  ca?: Buffer | string;
}

export function sha256Digest(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Uploads a config blob and a gzipped tar layer, then a manifest under `tag`. */
export async function pushTestImage(registryUrl: string, repo: string, tag: string, options: PushOptions = {}): Promise<PushedManifest> {
  const seed = options.seed ?? 'baton';
  const platform = options.platform ?? { architecture: 'amd64', os: 'linux' };
  const oci = options.format === 'oci';
  const tar = tarOf(`hello-${seed}.txt`, Buffer.from(`hello from ${seed} on ${platform.os}/${platform.architecture}\n`));
  const layer = gzipSync(tar);
  const config = Buffer.from(
    JSON.stringify({
      architecture: platform.architecture,
      os: platform.os,
      config: { Cmd: ['/hello'] },
      rootfs: { type: 'layers', diff_ids: [sha256Digest(tar)] },
    }),
  );
  await uploadBlob(registryUrl, repo, config, options);
  await uploadBlob(registryUrl, repo, layer, options);
  const manifest = {
    schemaVersion: 2,
    mediaType: oci ? MEDIA_TYPES.ociManifest : MEDIA_TYPES.dockerManifest,
    config: { mediaType: oci ? MEDIA_TYPES.ociConfig : MEDIA_TYPES.dockerConfig, size: config.length, digest: sha256Digest(config) },
    layers: [{ mediaType: oci ? MEDIA_TYPES.ociLayer : MEDIA_TYPES.dockerLayer, size: layer.length, digest: sha256Digest(layer) }],
  };
  return putManifest(registryUrl, repo, tag, manifest.mediaType, manifestBytes(manifest), options);
}

/** A multi-arch list (or OCI index) over manifests already pushed to `repo`. */
export async function pushManifestList(
  registryUrl: string,
  repo: string,
  tag: string,
  entries: { manifest: PushedManifest; platform: { architecture: string; os: string } }[],
  options: PushOptions = {},
): Promise<PushedManifest> {
  const mediaType = options.format === 'oci' ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.dockerList;
  const list = {
    schemaVersion: 2,
    mediaType,
    manifests: entries.map(({ manifest, platform }) => ({
      mediaType: manifest.mediaType,
      size: manifest.bytes.length,
      digest: manifest.digest,
      platform,
    })),
  };
  return putManifest(registryUrl, repo, tag, mediaType, manifestBytes(list), options);
}

/** The digest the registry holds for a tag (HEAD with every manifest type accepted), or null. */
export async function headManifestDigest(
  registryUrl: string,
  repo: string,
  reference: string,
  options: { authorization?: string; ca?: Buffer | string } = {},
): Promise<string | null> {
  const answer = await request(`${registryUrl}/v2/${repo}/manifests/${reference}`, {
    method: 'HEAD',
    headers: { Accept: Object.values(MEDIA_TYPES).join(', '), ...(options.authorization && { Authorization: options.authorization }) },
    ca: options.ca,
  });
  if (answer.status === 404) return null;
  if (answer.status !== 200) throw new Error(`HEAD ${repo}:${reference} answered ${answer.status}`);
  return String(answer.headers['docker-content-digest']);
}

/** The media type the registry serves a manifest with. */
export async function manifestMediaType(registryUrl: string, repo: string, reference: string, options: { authorization?: string } = {}) {
  const answer = await request(`${registryUrl}/v2/${repo}/manifests/${reference}`, {
    headers: { Accept: Object.values(MEDIA_TYPES).join(', '), ...(options.authorization && { Authorization: options.authorization }) },
  });
  if (answer.status !== 200) throw new Error(`GET ${repo}:${reference} answered ${answer.status}`);
  return String(answer.headers['content-type']);
}

// Unusual indentation on purpose: any re-serialization on the way would change the digest.
function manifestBytes(manifest: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 3)}\n`);
}

async function uploadBlob(registryUrl: string, repo: string, blob: Buffer, options: PushOptions): Promise<void> {
  const auth: Record<string, string> = options.authorization ? { Authorization: options.authorization } : {};
  const started = await request(`${registryUrl}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: auth, ca: options.ca });
  if (started.status !== 202) throw new Error(`blob upload start answered ${started.status}: ${started.body.toString()}`);
  const location = new URL(String(started.headers.location), registryUrl);
  location.searchParams.set('digest', sha256Digest(blob));
  const done = await request(location.toString(), {
    method: 'PUT',
    headers: { ...auth, 'Content-Type': 'application/octet-stream', 'Content-Length': String(blob.length) },
    body: blob,
    ca: options.ca,
  });
  if (done.status !== 201) throw new Error(`blob upload answered ${done.status}: ${done.body.toString()}`);
}

async function putManifest(
  registryUrl: string,
  repo: string,
  tag: string,
  mediaType: string,
  bytes: Buffer,
  options: PushOptions,
): Promise<PushedManifest> {
  const answer = await request(`${registryUrl}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'Content-Type': mediaType, ...(options.authorization && { Authorization: options.authorization }) },
    body: bytes,
    ca: options.ca,
  });
  if (answer.status !== 201) throw new Error(`manifest PUT answered ${answer.status}: ${answer.body.toString()}`);
  const digest = sha256Digest(bytes);
  if (answer.headers['docker-content-digest'] !== digest) throw new Error(`registry stored ${String(answer.headers['docker-content-digest'])}, expected ${digest}`);
  return { digest, mediaType, bytes };
}

/** A one-file ustar archive. */
function tarOf(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const field = (value: string, offset: number) => header.write(value, offset, 'ascii');
  field(name, 0);
  field('0000644\0', 100);
  field('0000000\0', 108);
  field('0000000\0', 116);
  field(`${content.length.toString(8).padStart(11, '0')}\0`, 124);
  field('00000000000\0', 136);
  field('        ', 148);
  field('0', 156);
  field('ustar\0', 257);
  field('00', 263);
  const checksum = header.reduce((sum, byte) => sum + byte, 0);
  field(`${checksum.toString(8).padStart(6, '0')}\0 `, 148);
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, padding, Buffer.alloc(1024)]);
}

// ---------------------------------------------------------------------------------------------------------------------
// TLS material and the token flow.

export interface Certificate {
  certificate: string;
  key: string;
  certificatePem: string;
  keyPem: string;
}

/** A self-signed EC P-256 certificate (also its own CA) written to `dir`, made with the openssl CLI. */
export async function createCertificate(dir: string, name: string, subjectAltName?: string): Promise<Certificate> {
  await ensureCommand('openssl', 'openssl');
  const certificate = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  args.push('-keyout', key, '-out', certificate, '-days', '2', '-subj', `/CN=${name}`);
  if (subjectAltName) args.push('-addext', `subjectAltName=${subjectAltName}`);
  await run('openssl', args);
  return { certificate, key, certificatePem: await readFile(certificate, 'utf8'), keyPem: await readFile(key, 'utf8') };
}

export interface TokenRequestRecord {
  service: string | null;
  scopes: string[];
  /** The user who authenticated, or null for anonymous. Never the password. */
  user: string | null;
  granted: boolean;
  /** "refresh_token" for an OAuth2 POST with an identity token; absent for the GET with Basic credentials. */
  grantType?: string;
}

export interface TokenServer {
  /** Pass to startRegistry({ tokenAuth }). */
  registryAuth: TokenAuthConfig;
  /** Every token request seen, in order. */
  requests: TokenRequestRecord[];
  /** A token for direct use (e.g. pushing test images). */
  mint(repository: string, actions: string[]): string;
  close(): Promise<void>;
}

export interface TokenServerOptions {
  /** user → password accepted with Basic auth. */
  users?: Record<string, string>;
  /** identity (refresh) token → user, accepted by the OAuth2 POST with grant_type=refresh_token. */
  refreshTokens?: Record<string, string>;
  /** Hand out tokens without credentials too. */
  anonymous?: boolean;
  service?: string;
  issuer?: string;
  /** Which of the requested actions a user gets (default: all of them). */
  grant?: (user: string | null, requested: string[]) => string[];
}

/**
 * A minimal Docker token server: GET /token?service=…&scope=… with optional Basic credentials → `{ token }`, an ES256
 * JWT whose `x5c` header carries the signing certificate, which the registry checks against its rootcertbundle. Also the
 * OAuth2 form POST /token with grant_type=refresh_token (how docker uses an identity token) → `{ access_token }`.
 */
export async function startTokenServer(options: TokenServerOptions = {}): Promise<TokenServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'baton-token-'));
  const service = options.service ?? 'baton-test-registry';
  const issuer = options.issuer ?? 'baton-test-issuer';
  const cert = await createCertificate(dir, 'token-signer');
  const privateKey = createPrivateKey(cert.keyPem);
  const x5c = cert.certificatePem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  const requests: TokenRequestRecord[] = [];

  const mintFor = (subject: string, access: { type: string; name: string; actions: string[] }[]): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'ES256', x5c: [x5c] };
    const claims = { iss: issuer, sub: subject, aud: service, exp: now + 300, nbf: now - 5, iat: now, jti: randomBytes(8).toString('hex'), access };
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(signingInput), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    return `${signingInput}.${base64url(signature)}`;
  };

  const answer = (req: http.IncomingMessage, res: http.ServerResponse, form: URLSearchParams | null) => {
    const url = new URL(req.url ?? '/', 'http://token');
    if (form) {
      const grantType = form.get('grant_type') ?? '';
      const user = grantType === 'refresh_token' ? (options.refreshTokens?.[form.get('refresh_token') ?? ''] ?? null) : null;
      const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
      requests.push({ service: form.get('service'), scopes, user, granted: user !== null, grantType });
      if (url.pathname !== '/token' || user === null) {
        res.writeHead(400, { 'Content-Type': 'application/json' }).end('{"error":"invalid_grant"}');
        return;
      }
      const token = mintFor(user, scopes.map((scope) => access(user, scope)));
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ access_token: token, expires_in: 300 }));
      return;
    }
    const scopes = url.searchParams.getAll('scope');
    const user = basicUser(req.headers.authorization, options.users ?? {});
    const granted = user !== null || (options.anonymous === true && !req.headers.authorization);
    requests.push({ service: url.searchParams.get('service'), scopes, user: user === null ? null : user, granted });
    if (url.pathname !== '/token' || !granted) {
      res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"details":"unauthorized"}');
      return;
    }
    const token = mintFor(user ?? 'anonymous', scopes.map((scope) => access(user, scope)));
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300 }));
  };
  const access = (user: string | null, scope: string) => {
    const [type = '', name = '', actions = ''] = splitScope(scope);
    const requested = actions.split(',').filter(Boolean);
    return { type, name, actions: options.grant ? options.grant(user, requested) : requested };
  };

  const server = http.createServer((req, res) => {
    if (req.method !== 'POST') {
      answer(req, res, null);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => answer(req, res, new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;

  return {
    registryAuth: { realm: `http://127.0.0.1:${port}/token`, service, issuer, rootcertbundle: cert.certificate },
    requests,
    mint: (repository, actions) => mintFor('test-setup', [{ type: 'repository', name: repository, actions }]),
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** "repository:shop/web:pull,push" → type, name, actions (names may hold ":" only for a registry with a port). */
function splitScope(scope: string): string[] {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  return [scope.slice(0, first), scope.slice(first + 1, last), scope.slice(last + 1)];
}

function basicUser(header: string | undefined, users: Record<string, string>): string | null {
  if (!header?.startsWith('Basic ')) return null;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = decoded.slice(0, colon);
  return colon > 0 && users[user] !== undefined && users[user] === decoded.slice(colon + 1) ? user : null;
}

function base64url(input: string | Buffer): string {
  return Buffer.from(input).toString('base64url');
}

/**
 * Writes a preload module that resolves every `*.test` host name to 127.0.0.1, and returns the NODE_OPTIONS value that
 * loads it: lets a child process reach a loopback registry under a name that is not loopback (so HTTPS is used).
 */
export async function loopbackResolverOptions(dir: string): Promise<string> {
  const file = path.join(dir, 'resolve-test-hosts-to-loopback.mjs');
  await writeFile(
    file,
    `import { createRequire } from 'node:module';
const dns = createRequire(import.meta.url)('node:dns');
const lookup = dns.lookup;
dns.lookup = function (host, options, callback) {
  return lookup.call(this, String(host).endsWith('.test') ? '127.0.0.1' : host, options, callback);
};
`,
  );
  return `--import=${file}`;
}

export function basicAuthorization(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
