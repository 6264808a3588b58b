import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import axios, { AxiosError, type AxiosInstance, type AxiosRequestConfig } from 'axios';
import { z } from 'zod';
import { MarathonError, kindForStatus } from './errors.js';
import { JsonArrayElements } from './json-elements.js';
import { parseServerSentEvents } from './sse.js';
import type {
  AppDefinition,
  AppInfo,
  Deployment,
  DeploymentResult,
  MarathonErrorDetail,
  MarathonEvent,
} from './types.js';

export interface MarathonAuth {
  /** "user:password" for HTTP Basic (open-source Marathon's --http_credentials). */
  basic?: string;
  /** A DC/OS ACS token, sent as `Authorization: token=<token>`. */
  token?: string;
}

export interface MarathonClientOptions {
  /** Base URL, e.g. http://marathon.aa.example:8080. userinfo in the URL is used as Basic credentials and never printed. */
  url: string;
  auth?: MarathonAuth;
  /** Per-request timeout for ordinary calls. */
  timeoutMs?: number;
  /** How many times an idempotent read is retried on a network error or 5xx. */
  readRetries?: number;
  /** Base delay of the exponential backoff between read retries. */
  retryBaseDelayMs?: number;
  /** Told one line per HTTP exchange (method, URL without credentials, status, time); never headers or bodies. */
  trace?: (line: string) => void;
}

export interface PutAppOptions {
  force?: boolean;
  /** Marathon's default is true (merge onto the live app). Deploys send false so the file is the whole truth. */
  partialUpdate?: boolean;
}

export interface PutAppResult extends DeploymentResult {
  created: boolean;
}

export interface EventStreamHandle {
  /** Resolves when the stream ends for any reason (closed by us, dropped by the server, network error). */
  readonly ended: Promise<{ reason: 'closed' | 'dropped' | 'error'; error?: Error }>;
  close(): void;
}

const errorBodySchema = z
  .object({
    message: z.string().optional(),
    details: z
      .array(
        z.object({
          path: z.string().optional(),
          errors: z.array(z.string()).optional(),
        }),
      )
      .optional(),
    deployments: z.array(z.object({ id: z.string() })).optional(),
  })
  .passthrough();

const deploymentResultSchema = z.object({ deploymentId: z.string(), version: z.string() }).passthrough();
const appEnvelopeSchema = z.object({ app: z.object({ id: z.string() }).passthrough() });
const deploymentsSchema = z.array(
  z
    .object({
      id: z.string(),
      version: z.string(),
      affectedApps: z.array(z.string()).default([]),
      currentActions: z.array(z.object({ action: z.string(), app: z.string().optional() }).passthrough()).default([]),
      currentStep: z.number().default(0),
      totalSteps: z.number().default(0),
    })
    .passthrough(),
);
const versionsSchema = z.object({ versions: z.array(z.string()) });

const keepAliveHttp = new http.Agent({ keepAlive: true });
const keepAliveHttps = new https.Agent({ keepAlive: true });

/** Marathon's REST API, for both the deploy CLI and the autoscaler. */
export class MarathonClient {
  readonly baseUrl: string;
  private readonly http: AxiosInstance;
  private readonly authHeader: string | undefined;
  private readonly readRetries: number;
  private readonly timeoutMs: number;
  private readonly retryBaseDelayMs: number;

  constructor(options: MarathonClientOptions) {
    const parsed = new URL(options.url);
    let basic = options.auth?.basic;
    if (parsed.username && !basic) {
      basic = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
    }
    parsed.username = '';
    parsed.password = '';
    this.baseUrl = parsed.toString().replace(/\/+$/, '');
    if (options.auth?.token) this.authHeader = `token=${options.auth.token}`;
    else if (basic) this.authHeader = `Basic ${Buffer.from(basic).toString('base64')}`;
    this.readRetries = options.readRetries ?? 3;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 200;
    this.http = axios.create({
      baseURL: this.baseUrl,
      timeout: this.timeoutMs,
      httpAgent: keepAliveHttp,
      httpsAgent: keepAliveHttps,
      // Status handling is ours: every non-2xx becomes a MarathonError with Marathon's message.
      validateStatus: () => true,
      headers: { Accept: 'application/json' },
      maxRedirects: 0,
    });
    if (options.trace) traceExchanges(this.http, options.trace);
  }

  /** GET /v2/apps with the embeds the autoscaler and status need, in one request. */
  async listApps(embed: string[] = ['apps.tasks', 'apps.counts', 'apps.deployments', 'apps.lastTaskFailure']): Promise<AppInfo[]> {
    const params = new URLSearchParams();
    for (const e of embed) params.append('embed', e);
    const body = await this.read(`/v2/apps?${params.toString()}`);
    return appsOf(body);
  }

  /**
   * GET /v2/apps like `listApps`, but each app is handed to `visit` as soon as its bytes have arrived and is not kept:
   * the whole list (megabytes with thousands of tasks) is never in memory at once. For a caller that keeps a few
   * fields of each app every few seconds (the autoscaler). Returns how many apps there were.
   * Retried like any read until the answer starts; a failure while the apps are being read is not (visit has seen
   * some of them): it is thrown, as 'unreachable' when the connection broke and 'protocol' when the JSON is wrong.
   */
  async visitApps(embed: string[], visit: (app: AppInfo) => void): Promise<number> {
    const params = new URLSearchParams();
    for (const e of embed) params.append('embed', e);
    const path = `/v2/apps?${params.toString()}`;
    const body = await this.retryRead(async () => {
      let response;
      try {
        response = await this.http.request({ method: 'GET', url: path, headers: this.headers(), responseType: 'stream' });
      } catch (error) {
        throw this.toMarathonError('GET', path, error);
      }
      if (response.status >= 200 && response.status < 300) return response.data as AsyncIterable<Buffer>;
      throw this.errorFor('GET', path, response.status, await readSmallBody(response.data as AsyncIterable<Buffer>));
    });
    let visitError: unknown;
    const fail = (where: string, expected: string) =>
      new MarathonError('protocol', `unexpected answer to GET /v2/apps: ${where}: ${expected}`, { method: 'GET', url: '/v2/apps' });
    const elements = new JsonArrayElements(
      'apps',
      (text, index) => {
        let app: unknown;
        try {
          app = JSON.parse(text);
        } catch (error) {
          throw fail(`apps.${index}`, `valid JSON (${error instanceof Error ? error.message : String(error)})`);
        }
        if (!isJsonObject(app)) throw fail(`apps.${index}`, 'expected an object');
        if (typeof app.id !== 'string') throw fail(`apps.${index}.id`, 'expected a string');
        try {
          visit(app as AppInfo);
        } catch (error) {
          visitError = error;
          throw error;
        }
      },
      fail,
    );
    // axios's timeout ends once the headers are in: a Marathon (or proxy) that stops sending halfway would hold the
    // caller forever. No bytes for timeoutMs ends the read.
    const stalled = () =>
      (body as Readable).destroy(
        new MarathonError('unreachable', `Marathon at ${this.baseUrl} sent no data for ${Math.round(this.timeoutMs / 1000)}s while answering GET /v2/apps`, {
          method: 'GET',
          url: this.baseUrl + path,
        }),
      );
    let idle = setTimeout(stalled, this.timeoutMs);
    try {
      for await (const chunk of body) {
        clearTimeout(idle);
        idle = setTimeout(stalled, this.timeoutMs);
        elements.push(chunk);
      }
    } catch (error) {
      // The caller's own failure, or a wrong answer, as it is; anything else is the connection breaking mid-answer.
      if (error === visitError || error instanceof MarathonError) throw error;
      throw this.toMarathonError('GET', path, error);
    } finally {
      clearTimeout(idle);
    }
    return elements.end();
  }

  /** GET /v2/apps/{id}: the app with tasks, counts, deployments and lastTaskFailure. */
  async getApp(appId: string): Promise<AppInfo> {
    const body = await this.read(`/v2/apps${normalizeAppId(appId)}`);
    return parseWith(appEnvelopeSchema, body, `GET /v2/apps${normalizeAppId(appId)}`).app as AppInfo;
  }

  /** Like getApp, but an app that does not exist yet is `null` rather than an error. */
  async findApp(appId: string): Promise<AppInfo | null> {
    try {
      return await this.getApp(appId);
    } catch (error) {
      if (error instanceof MarathonError && error.kind === 'not-found') return null;
      throw error;
    }
  }

  async listVersions(appId: string): Promise<string[]> {
    const body = await this.read(`/v2/apps${normalizeAppId(appId)}/versions`);
    return parseWith(versionsSchema, body, 'GET versions').versions;
  }

  async getAppVersion(appId: string, version: string): Promise<AppInfo> {
    const body = await this.read(`/v2/apps${normalizeAppId(appId)}/versions/${encodeURIComponent(version)}`);
    return parseWith(z.object({ id: z.string() }).passthrough(), body, 'GET app version') as AppInfo;
  }

  async listDeployments(): Promise<Deployment[]> {
    const body = await this.read('/v2/deployments');
    return parseWith(deploymentsSchema, body, 'GET /v2/deployments') as Deployment[];
  }

  /** PUT /v2/apps/{id}: create or replace. Never retried: a lost answer may still have started a deployment. */
  async putApp(definition: AppDefinition, options: PutAppOptions = {}): Promise<PutAppResult> {
    const params = new URLSearchParams();
    params.set('partialUpdate', String(options.partialUpdate ?? true));
    if (options.force) params.set('force', 'true');
    const path = `/v2/apps${normalizeAppId(definition.id)}?${params.toString()}`;
    const response = await this.send({ method: 'PUT', url: path, data: definition });
    const result = parseWith(deploymentResultSchema, response.data, `PUT ${path}`);
    return { deploymentId: result.deploymentId, version: result.version, created: response.status === 201 };
  }

  /** Sets only `instances` (a ScaleApplication deployment, no restart). Forced only on request (it cancels what runs). */
  async scaleApp(appId: string, instances: number, options: { force?: boolean } = {}): Promise<DeploymentResult> {
    const path = `/v2/apps${normalizeAppId(appId)}${options.force ? '?force=true' : ''}`;
    const response = await this.send({ method: 'PUT', url: path, data: { instances } });
    return parseWith(deploymentResultSchema, response.data, `PUT ${path}`);
  }

  /** DELETE /v2/apps/{id}: kills its tasks and removes the app (a deployment). */
  async deleteApp(appId: string): Promise<DeploymentResult> {
    const path = `/v2/apps${normalizeAppId(appId)}`;
    const response = await this.send({ method: 'DELETE', url: path });
    return parseWith(deploymentResultSchema, response.data, `DELETE ${path}`);
  }

  /** Makes an earlier version current again: PUT {"version": ts}. */
  async rollbackToVersion(appId: string, version: string, options: { force?: boolean } = {}): Promise<DeploymentResult> {
    const path = `/v2/apps${normalizeAppId(appId)}${options.force ? '?force=true' : ''}`;
    const response = await this.send({ method: 'PUT', url: path, data: { version } });
    return parseWith(deploymentResultSchema, response.data, `PUT ${path}`);
  }

  async restartApp(appId: string, options: { force?: boolean } = {}): Promise<DeploymentResult> {
    const path = `/v2/apps${normalizeAppId(appId)}/restart${options.force ? '?force=true' : ''}`;
    const response = await this.send({ method: 'POST', url: path });
    return parseWith(deploymentResultSchema, response.data, `POST ${path}`);
  }

  /**
   * DELETE /v2/deployments/{id}. Without force Marathon starts a new deployment that reverts the change (200 with its id);
   * with force it only stops the deployment (202, nothing reverted) and this returns null.
   */
  async deleteDeployment(deploymentId: string, options: { force?: boolean } = {}): Promise<DeploymentResult | null> {
    const path = `/v2/deployments/${encodeURIComponent(deploymentId)}${options.force ? '?force=true' : ''}`;
    const response = await this.send({ method: 'DELETE', url: path });
    if (response.status === 202 || options.force) return null;
    return parseWith(deploymentResultSchema, response.data, `DELETE ${path}`);
  }

  /**
   * Opens GET /v2/events (server-sent events), optionally filtered by event type. Events reach `onEvent` in arrival order.
   * The caller must not depend on the stream alone: Marathon drops streams and does not order events.
   */
  streamEvents(onEvent: (event: MarathonEvent) => void, eventTypes: string[] = []): EventStreamHandle {
    const params = new URLSearchParams();
    for (const t of eventTypes) params.append('event_type', t);
    const path = `/v2/events${eventTypes.length ? `?${params.toString()}` : ''}`;
    const controller = new AbortController();
    let closedByUs = false;
    let attached = false;
    const ended = (async (): Promise<{ reason: 'closed' | 'dropped' | 'error'; error?: Error }> => {
      try {
        let url = this.baseUrl + path;
        let withCredentials = true;
        let response;
        for (let redirects = 0; ; redirects++) {
          response = await this.http.request({
            method: 'GET',
            url,
            headers: { ...(withCredentials ? this.headers() : {}), Accept: 'text/event-stream' },
            responseType: 'stream',
            timeout: 0,
            signal: controller.signal,
          });
          const location = response.headers.location as unknown;
          if (!isRedirect(response.status) || typeof location !== 'string') break;
          (response.data as Readable).destroy();
          if (redirects >= MAX_EVENT_REDIRECTS) {
            return { reason: 'error', error: new MarathonError('protocol', `GET ${path} was redirected more than ${MAX_EVENT_REDIRECTS} times`, { method: 'GET', url: this.baseUrl + path }) };
          }
          const target = new URL(location, url);
          target.username = '';
          target.password = '';
          url = target.toString();
          withCredentials = await this.mayReceiveCredentials(target);
        }
        if (response.status !== 200) {
          const body = await readSmallBody(response.data as AsyncIterable<Buffer>);
          return { reason: 'error', error: this.errorFor('GET', path, response.status, body) };
        }
        attached = true;
        for await (const message of parseServerSentEvents(response.data as AsyncIterable<Buffer>)) {
          if (message.data === '') continue;
          let payload: unknown;
          try {
            payload = JSON.parse(message.data);
          } catch {
            continue;
          }
          if (payload && typeof payload === 'object') {
            const data = payload as Record<string, unknown>;
            const eventType = typeof data.eventType === 'string' ? data.eventType : message.event ?? 'message';
            onEvent({ eventType, data });
          }
        }
        return { reason: closedByUs ? 'closed' : 'dropped' };
      } catch (error) {
        if (closedByUs) return { reason: 'closed' };
        // Once attached, a broken connection is the server (or a proxy) dropping the stream, not a failure to connect.
        return { reason: attached ? 'dropped' : 'error', error: this.toMarathonError('GET', path, error) };
      }
    })();
    return {
      ended,
      close: () => {
        closedByUs = true;
        controller.abort();
      },
    };
  }

  /**
   * A Marathon that is not the leader answers /v2/events with a 302 to the leader (LeaderProxyFilter). Our credentials go
   * only where they were configured for, or to the leader that the configured Marathon itself names in /v2/leader, and
   * never from https down to http: a redirect alone never learns them.
   */
  private async mayReceiveCredentials(target: URL): Promise<boolean> {
    const configured = new URL(this.baseUrl);
    if (target.origin === configured.origin) return true;
    if (configured.protocol === 'https:' && target.protocol !== 'https:') return false;
    try {
      const body = await this.read('/v2/leader');
      const leader = isJsonObject(body) && typeof body.leader === 'string' ? body.leader : undefined;
      return leader !== undefined && leader.toLowerCase() === target.host.toLowerCase();
    } catch {
      return false;
    }
  }

  private headers(): Record<string, string> {
    return this.authHeader ? { Authorization: this.authHeader } : {};
  }

  /** An idempotent GET: retried with exponential backoff on network errors and 5xx. */
  private async read(path: string): Promise<unknown> {
    return this.retryRead(async () => (await this.send({ method: 'GET', url: path })).data);
  }

  /** Runs an idempotent read, again after a network error or a 5xx, with exponential backoff and jitter. */
  private async retryRead<T>(attemptRead: () => Promise<T>): Promise<T> {
    let attempt = 0;
    for (;;) {
      try {
        return await attemptRead();
      } catch (error) {
        const retryable = error instanceof MarathonError && (error.kind === 'unreachable' || error.kind === 'server');
        if (!retryable || attempt >= this.readRetries) throw error;
        const delay = this.retryBaseDelayMs * 2 ** attempt * (0.5 + Math.random() / 2);
        attempt += 1;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private async send(config: AxiosRequestConfig & { method: string; url: string }) {
    let response;
    try {
      response = await this.http.request({ ...config, headers: { ...this.headers(), ...(config.headers as object) } });
    } catch (error) {
      throw this.toMarathonError(config.method, config.url, error);
    }
    if (response.status >= 200 && response.status < 300) return response;
    throw this.errorFor(config.method, config.url, response.status, response.data);
  }

  private errorFor(method: string, path: string, status: number, body: unknown): MarathonError {
    const parsed = errorBodySchema.safeParse(body);
    const details: MarathonErrorDetail[] = [];
    let message = `Marathon answered ${status}`;
    let deploymentIds: string[] = [];
    if (parsed.success) {
      if (parsed.data.message) message = parsed.data.message;
      for (const d of parsed.data.details ?? []) details.push({ path: d.path ?? '/', errors: d.errors ?? [] });
      deploymentIds = (parsed.data.deployments ?? []).map((d) => d.id);
    } else if (typeof body === 'string' && body.trim()) {
      message = `Marathon answered ${status}: ${body.trim().slice(0, 300)}`;
    }
    return new MarathonError(
      kindForStatus(status, deploymentIds.length > 0),
      message,
      { method, url: this.baseUrl + path },
      status,
      details,
      deploymentIds,
    );
  }

  private toMarathonError(method: string, path: string, error: unknown): MarathonError {
    if (error instanceof MarathonError) return error;
    const code = error instanceof AxiosError ? error.code : undefined;
    const reason = error instanceof Error ? error.message : String(error);
    const plain: Record<string, string> = {
      ECONNABORTED: `no answer within ${Math.round(this.timeoutMs / 1000)}s`,
      ETIMEDOUT: `no answer within ${Math.round(this.timeoutMs / 1000)}s`,
      ECONNREFUSED: 'connection refused',
      ENOTFOUND: 'host not found',
    };
    const why = code ? `${plain[code] ?? reason} (${code})` : reason;
    return new MarathonError(
      'unreachable',
      `cannot reach Marathon at ${this.baseUrl}: ${why}`,
      { method, url: this.baseUrl + path },
    );
  }
}

/** `GET http://marathon/v2/apps/x → 200 (12 ms)`: the base URL holds no credentials (they were taken out of it). */
function traceExchanges(http: AxiosInstance, trace: (line: string) => void): void {
  const began = new WeakMap<object, number>();
  const target = (config: AxiosRequestConfig) => {
    const raw = config.url ?? '';
    const url = new URL(/^https?:\/\//.test(raw) ? raw : `${config.baseURL ?? ''}${raw}`);
    url.username = '';
    url.password = '';
    return `${(config.method ?? 'get').toUpperCase()} ${url.toString()}`;
  };
  http.interceptors.request.use((config) => {
    began.set(config, Date.now());
    return config;
  });
  http.interceptors.response.use(
    (response) => {
      trace(`${target(response.config)} → ${response.status} (${Date.now() - (began.get(response.config) ?? Date.now())} ms)`);
      return response;
    },
    (error: unknown) => {
      const config = error instanceof AxiosError ? error.config : undefined;
      if (config) trace(`${target(config)} → ${error instanceof AxiosError ? (error.code ?? 'error') : 'error'} (${Date.now() - (began.get(config) ?? Date.now())} ms)`);
      return Promise.reject(error);
    },
  );
}

const MAX_EVENT_REDIRECTS = 3;

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** Marathon ids are absolute paths; config files may omit the leading slash. */
export function normalizeAppId(appId: string): string {
  const trimmed = appId.replace(/\/+$/, '');
  const absolute = trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
  return absolute
    .split('/')
    .map((part) => encodeURIComponent(part))
    .join('/');
}

/** Reads an error answer of a streamed request (at most 64 KiB), as JSON when it parses. */
async function readSmallBody(stream: AsyncIterable<Buffer> | undefined): Promise<unknown> {
  if (!stream) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    chunks.push(chunk);
    size += chunk.length;
    if (size > 65_536) break;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The apps of a GET /v2/apps answer, checked in place: the envelope and each app's id. The list holds every app with
 * its tasks (megabytes with thousands of tasks): a schema's copy of it would double the work and the garbage.
 */
function appsOf(body: unknown): AppInfo[] {
  const fail = (path: string, expected: string) =>
    new MarathonError('protocol', `unexpected answer to GET /v2/apps: ${path}: ${expected}`, { method: 'GET', url: '/v2/apps' });
  if (!isJsonObject(body)) throw fail('(root)', 'expected an object');
  const apps = body.apps;
  if (!Array.isArray(apps)) throw fail('apps', 'expected an array');
  for (let index = 0; index < apps.length; index++) {
    const app: unknown = apps[index];
    if (!isJsonObject(app)) throw fail(`apps.${index}`, 'expected an object');
    if (typeof app.id !== 'string') throw fail(`apps.${index}.id`, 'expected a string');
  }
  return apps as AppInfo[];
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseWith<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    const first = result.error.issues[0];
    throw new MarathonError(
      'protocol',
      `unexpected answer to ${what}: ${first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'invalid'}`,
      { method: what.split(' ')[0] ?? 'GET', url: what.split(' ')[1] ?? '' },
    );
  }
  return result.data;
}
