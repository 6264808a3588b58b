import http from 'node:http';
import https from 'node:https';
import axios, { AxiosError, type AxiosInstance, type AxiosResponse } from 'axios';
import { z } from 'zod';
import type { RegistryCredentials } from './credentials.js';
import { RegistryError } from './errors.js';
import { MANIFEST_ACCEPT, MANIFEST_MEDIA_TYPES, bareMediaType, digestOf, type Manifest } from './manifest.js';
import { isPlainHttpRegistry } from './reference.js';
import { parseWwwAuthenticate, type AuthChallenge } from './www-authenticate.js';

export type RegistryAction = 'pull' | 'push';

export interface RegistryClientOptions {
  /** Where the v2 API lives: "http://127.0.0.1:5000", "https://registry.example.com". */
  apiBase: string;
  /** The registry as users name it, for messages: "127.0.0.1:5000". */
  registry: string;
  credentials?: RegistryCredentials | null;
  /** Why no credentials were found, and what to do, after "requires credentials, but" (CredentialLookup.note). */
  credentialsNote?: string;
  /** The access asked of a token server for each repository. Default pull and push. */
  actions?: readonly RegistryAction[];
  /** BATON_INSECURE_REGISTRIES: besides loopback, the hosts that may receive credentials over plain HTTP. */
  insecureRegistries?: readonly string[];
  /** Per-request timeout. */
  timeoutMs?: number;
  /** How many times a request is retried on a network error or 5xx (every request Baton makes here is idempotent). */
  retries?: number;
  retryBaseDelayMs?: number;
}

interface RegistryRequest {
  method: 'GET' | 'HEAD' | 'PUT';
  path: string;
  repository: string;
  headers?: Record<string, string>;
  data?: Buffer;
}

const errorBodySchema = z.object({
  errors: z.array(z.object({ code: z.string().optional(), message: z.string().optional() }).passthrough()).min(1),
});
const tokenResponseSchema = z
  .object({ token: z.string().min(1).optional(), access_token: z.string().min(1).optional() })
  .passthrough()
  .refine((body) => body.token ?? body.access_token, { message: 'neither "token" nor "access_token" is present' });

// Manifests are small; distribution refuses anything over 4 MiB.
const maxManifestBytes = 4 * 1024 * 1024;
const keepAliveHttp = new http.Agent({ keepAlive: true });
const keepAliveHttps = new https.Agent({ keepAlive: true });
const tlsTrustCodes = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/;

/**
 * The Docker Registry HTTP API v2, limited to manifests. Handles anonymous access, Basic, and the token flow
 * (401 + `WWW-Authenticate: Bearer` → token from the realm → `Authorization: Bearer`), caching one token per scope for
 * the client's life. Never puts a credential or a token into an error, a message or a log.
 */
export class RegistryClient {
  readonly registry: string;
  readonly apiBase: string;
  private readonly http: AxiosInstance;
  private readonly credentials: RegistryCredentials | null;
  private readonly credentialsNote: string | undefined;
  private readonly actions: readonly RegistryAction[];
  private readonly insecureRegistries: readonly string[];
  private readonly retries: number;
  private readonly retryBaseDelayMs: number;
  private readonly tokens = new Map<string, string>();
  private readonly transient = new WeakSet<RegistryError>();
  private basicChallenged = false;

  constructor(options: RegistryClientOptions) {
    this.registry = options.registry;
    this.apiBase = options.apiBase.replace(/\/+$/, '');
    this.credentials = options.credentials ?? null;
    this.credentialsNote = options.credentialsNote;
    this.actions = options.actions ?? ['pull', 'push'];
    this.insecureRegistries = options.insecureRegistries ?? [];
    this.retries = options.retries ?? 2;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 200;
    this.http = axios.create({
      timeout: options.timeoutMs ?? 15_000,
      httpAgent: keepAliveHttp,
      httpsAgent: keepAliveHttps,
      validateStatus: () => true,
      responseType: 'arraybuffer',
      // The digest is over the exact bytes: nothing may parse or re-encode them on the way.
      transformRequest: [(data: unknown) => data],
      transformResponse: [(data: unknown) => data],
      maxContentLength: maxManifestBytes,
      maxBodyLength: maxManifestBytes,
      maxRedirects: 5,
    });
  }

  /** GET a manifest by tag or digest: its media type, exact bytes and digest (checked against the bytes). */
  async getManifest(repository: string, reference: string): Promise<Manifest> {
    const request = manifestRead('GET', repository, reference);
    const response = await this.send(request);
    if (response.status === 404) throw this.notFound(repository, reference, response);
    this.expectSuccess(request, response);
    const mediaType = bareMediaType(header(response, 'content-type'));
    if (!(MANIFEST_MEDIA_TYPES as readonly string[]).includes(mediaType)) {
      throw new RegistryError(
        'protocol',
        `registry ${this.registry} answered ${repository}:${reference} with media type "${mediaType || '(none)'}"; promote copies only ${MANIFEST_MEDIA_TYPES.join(', ')}`,
        { repository, reference, mediaType },
      );
    }
    const bytes = Buffer.from(response.data as ArrayBuffer);
    const digest = this.verifiedDigest(request, bytes, header(response, 'docker-content-digest'));
    if (reference.includes(':') && reference !== digest) {
      throw new RegistryError('protocol', `registry ${this.registry} answered ${reference} with a manifest whose digest is ${digest}`);
    }
    return { mediaType, bytes, digest };
  }

  /** The digest a tag or digest points at, or null when it does not exist. */
  async headManifest(repository: string, reference: string): Promise<string | null> {
    const request = manifestRead('HEAD', repository, reference);
    const response = await this.send(request);
    if (response.status === 404) return null;
    this.expectSuccess(request, response);
    const digest = header(response, 'docker-content-digest');
    // Some registries omit the header on HEAD: the body's hash is the answer then.
    return digest ?? (await this.getManifest(repository, reference)).digest;
  }

  /** PUT the exact bytes under `tag` with their media type; returns the digest the registry stored. */
  async putManifest(repository: string, tag: string, mediaType: string, bytes: Buffer): Promise<string> {
    const request: RegistryRequest = {
      method: 'PUT',
      path: manifestPath(repository, tag),
      repository,
      headers: { 'Content-Type': mediaType },
      data: bytes,
    };
    const response = await this.send(request);
    this.expectSuccess(request, response);
    return this.verifiedDigest(request, bytes, header(response, 'docker-content-digest'));
  }

  private async send(request: RegistryRequest): Promise<AxiosResponse> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        const response = await this.sendAuthenticated(request);
        if (response.status >= 500) throw this.serverFailure(request, response);
        return response;
      } catch (error) {
        const retry = error instanceof RegistryError && this.transient.has(error) && attempt < this.retries;
        if (!retry) throw error;
        await sleep(this.retryBaseDelayMs * 2 ** attempt * (0.5 + Math.random() / 2));
      }
    }
  }

  /** One request, answering a 401 once by authenticating the way the registry's challenge asks. */
  private async sendAuthenticated(request: RegistryRequest): Promise<AxiosResponse> {
    const first = await this.exchange(request);
    if (first.status !== 401) return this.refuseForbidden(request, first);
    await this.authenticate(request.repository, parseWwwAuthenticate(header(first, 'www-authenticate') ?? ''));
    const second = await this.exchange(request);
    if (second.status !== 401) return this.refuseForbidden(request, second);
    const challenges = parseWwwAuthenticate(header(second, 'www-authenticate') ?? '');
    if (challenges.some((c) => c.params.error === 'insufficient_scope')) {
      const whose = this.credentials ? `for the credentials from ${this.credentials.source}` : 'given anonymously';
      throw new RegistryError(
        'auth',
        `registry ${this.registry} denied ${request.method} on ${request.repository}: the token ${whose} does not grant ${this.actions.join(',')}`,
        { repository: request.repository },
        401,
      );
    }
    throw this.refused(request.repository);
  }

  private async exchange(request: RegistryRequest): Promise<AxiosResponse> {
    const authorization = this.authorizationFor(request.repository);
    try {
      return await this.http.request({
        method: request.method,
        url: this.apiBase + request.path,
        headers: { ...request.headers, ...(authorization && { Authorization: authorization }) },
        ...(request.data && { data: request.data }),
      });
    } catch (error) {
      throw this.unreachable(`registry ${this.registry} at ${this.apiBase}`, error);
    }
  }

  private authorizationFor(repository: string): string | undefined {
    const token = this.tokens.get(this.scope(repository));
    if (token) return `Bearer ${token}`;
    if (this.basicChallenged && this.credentials?.kind === 'password') return basicAuthorization(this.credentials);
    return undefined;
  }

  private async authenticate(repository: string, challenges: AuthChallenge[]): Promise<void> {
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer) {
      this.tokens.set(this.scope(repository), await this.fetchToken(bearer, repository));
      return;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      if (!this.credentials) throw this.needsCredentials(`registry ${this.registry}`);
      if (this.credentials.kind === 'identity-token') {
        throw new RegistryError(
          'auth',
          `registry ${this.registry} asks for Basic auth, but the credentials from ${this.credentials.source} are an identity token, which Baton gives only to a registry token server, never as a password: log in with a username and password, or set BATON_REGISTRY_USER and BATON_REGISTRY_PASSWORD`,
          {},
          401,
        );
      }
      if (this.basicChallenged) throw this.refused(repository);
      this.basicChallenged = true;
      return;
    }
    const schemes = challenges.map((c) => c.scheme).join(', ') || 'none';
    throw new RegistryError('auth', `registry ${this.registry} asks for authentication Baton does not speak (scheme: ${schemes})`);
  }

  private async fetchToken(challenge: AuthChallenge, repository: string): Promise<string> {
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm ?? '');
      if (realm.protocol !== 'https:' && realm.protocol !== 'http:') throw new Error('not http(s)');
    } catch {
      throw new RegistryError('protocol', `registry ${this.registry} sent a Bearer challenge without a usable realm URL`);
    }
    const credentials = this.credentials;
    if (credentials && realm.protocol === 'http:' && !isPlainHttpRegistry(realm.host, this.insecureRegistries)) {
      throw new RegistryError(
        'auth',
        `token server ${realm.origin} is plain HTTP: refusing to send the credentials from ${credentials.source} to it (list ${realm.host} in BATON_INSECURE_REGISTRIES if that is intended)`,
      );
    }
    const { service } = challenge.params;
    const scope = this.scope(repository);
    let response: AxiosResponse;
    try {
      if (credentials?.kind === 'identity-token') {
        // The OAuth2 refresh-token grant, as docker does it with an identity token (distribution's token spec).
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credentials.identityToken, client_id: 'baton', scope });
        if (service) form.set('service', service);
        response = await this.http.post(realm.toString(), Buffer.from(form.toString()), {
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        });
      } else {
        if (service) realm.searchParams.set('service', service);
        realm.searchParams.set('scope', scope);
        response = await this.http.get(realm.toString(), {
          headers: credentials ? { Authorization: basicAuthorization(credentials) } : {},
        });
      }
    } catch (error) {
      throw this.unreachable(`token server ${realm.origin}`, error);
    }
    // An OAuth2 server answers 400 (invalid_grant) to a refresh token it does not accept.
    const refusals = credentials?.kind === 'identity-token' ? [400, 401, 403] : [401, 403];
    if (refusals.includes(response.status)) {
      if (!credentials) throw this.needsCredentials(`token server ${realm.origin}`);
      const what = credentials.kind === 'identity-token' ? 'identity token' : 'credentials';
      throw new RegistryError('auth', `token server ${realm.origin} refused the ${what} from ${credentials.source}`, {}, response.status);
    }
    let body: unknown;
    try {
      body = response.status === 200 ? JSON.parse(Buffer.from(response.data as ArrayBuffer).toString('utf8')) : undefined;
    } catch {
      body = undefined;
    }
    const parsed = tokenResponseSchema.safeParse(body);
    if (!parsed.success) {
      throw new RegistryError('protocol', `token server ${realm.origin} answered ${response.status} without a token`, {}, response.status);
    }
    return (parsed.data.token ?? parsed.data.access_token)!;
  }

  private scope(repository: string): string {
    return `repository:${repository}:${this.actions.join(',')}`;
  }

  private refuseForbidden(request: RegistryRequest, response: AxiosResponse): AxiosResponse {
    if (response.status !== 403) return response;
    throw new RegistryError(
      'auth',
      `registry ${this.registry} denied ${request.method} on ${request.repository} ${this.who()}${registryMessage(response)}`,
      { repository: request.repository },
      403,
    );
  }

  private refused(repository: string): RegistryError {
    const what = this.credentials ? `refused the credentials from ${this.credentials.source}` : 'refused anonymous access';
    return new RegistryError('auth', `registry ${this.registry} ${what} for ${this.actions.join(',')} on ${repository}`, { repository }, 401);
  }

  private needsCredentials(who: string): RegistryError {
    const what = this.credentialsNote
      ? `, but ${this.credentialsNote}`
      : `: set BATON_REGISTRY_USER and BATON_REGISTRY_PASSWORD, or add auths["${this.registry}"] to the docker config ($DOCKER_CONFIG/config.json or ~/.docker/config.json)`;
    return new RegistryError('auth', `${who} requires credentials${what}`, {}, 401);
  }

  private who(): string {
    return this.credentials ? `with the credentials from ${this.credentials.source}` : 'anonymously';
  }

  private notFound(repository: string, reference: string, response: AxiosResponse): RegistryError {
    const code = registryErrorCode(response);
    const what = code === 'NAME_UNKNOWN' ? `repository ${repository} does not exist` : `${repository}:${reference} does not exist`;
    return new RegistryError('not-found', `${what} in ${this.registry}`, { repository, reference, ...(code && { code }) }, 404);
  }

  private expectSuccess(request: RegistryRequest, response: AxiosResponse): void {
    if (response.status >= 200 && response.status < 300) return;
    throw new RegistryError(
      'protocol',
      `registry ${this.registry} answered ${response.status} to ${request.method} ${request.path}${registryMessage(response)}`,
      { repository: request.repository, ...(registryErrorCode(response) && { code: registryErrorCode(response) }) },
      response.status,
    );
  }

  private verifiedDigest(request: RegistryRequest, bytes: Buffer, announced: string | undefined): string {
    const computed = digestOf(bytes, announced ?? 'sha256:');
    if (announced && computed && announced !== computed) {
      throw new RegistryError(
        'protocol',
        `registry ${this.registry} announced digest ${announced} for ${request.method} ${request.path}, but the bytes hash to ${computed}`,
      );
    }
    const digest = announced ?? computed;
    if (!digest) throw new RegistryError('protocol', `registry ${this.registry} sent no usable digest for ${request.path}`);
    return digest;
  }

  private serverFailure(request: RegistryRequest, response: AxiosResponse): RegistryError {
    const error = new RegistryError(
      'unreachable',
      `registry ${this.registry} failed with ${response.status} on ${request.method} ${request.path}${registryMessage(response)}`,
      {},
      response.status,
    );
    this.transient.add(error);
    return error;
  }

  private unreachable(where: string, cause: unknown): RegistryError {
    const code = cause instanceof AxiosError ? cause.code : undefined;
    const reason = cause instanceof Error ? cause.message : String(cause);
    let hint = '';
    if (code && tlsTrustCodes.test(code)) {
      hint = ': its TLS certificate is not trusted (point NODE_EXTRA_CA_CERTS at the CA certificate, PEM)';
    } else if (/wrong version number|EPROTO/i.test(`${code} ${reason}`)) {
      hint = `: if ${this.registry} speaks plain HTTP, list it in BATON_INSECURE_REGISTRIES`;
    }
    const why = code && !reason.includes(code) ? `${code}${reason ? ` (${reason})` : ''}` : reason || code || 'unknown error';
    const error = new RegistryError('unreachable', `cannot reach ${where}: ${why}${hint}`, {
      registry: this.registry,
    });
    if (!hint) this.transient.add(error);
    return error;
  }
}

/** Reads always list every manifest type Baton copies: without that a v2 registry may convert to schema1 (another digest). */
function manifestRead(method: 'GET' | 'HEAD', repository: string, reference: string): RegistryRequest {
  return { method, path: manifestPath(repository, reference), repository, headers: { Accept: MANIFEST_ACCEPT } };
}

export function manifestPath(repository: string, reference: string): string {
  return `/v2/${repository}/manifests/${encodeURIComponent(reference).replace(/%3A/gi, ':')}`;
}

function basicAuthorization(credentials: Extract<RegistryCredentials, { kind: 'password' }>): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

function header(response: AxiosResponse, name: string): string | undefined {
  const value: unknown = response.headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function registryErrors(response: AxiosResponse): { code?: string; message?: string }[] {
  if (!response.data || (response.data as ArrayBuffer).byteLength === 0) return [];
  try {
    const parsed = errorBodySchema.safeParse(JSON.parse(Buffer.from(response.data as ArrayBuffer).toString('utf8')));
    return parsed.success ? parsed.data.errors : [];
  } catch {
    return [];
  }
}

function registryErrorCode(response: AxiosResponse): string | undefined {
  return registryErrors(response)[0]?.code;
}

function registryMessage(response: AxiosResponse): string {
  const first = registryErrors(response)[0];
  if (!first) return '';
  return `: ${[first.code, first.message].filter(Boolean).join(' ')}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
