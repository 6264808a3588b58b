import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LivenessReport, ReadinessReport } from '../controller/controller.js';
import type { CycleResult } from '../cycle/run-cycle.js';
import type { DecisionLog, LoggedDecision } from '../decisions/log.js';
import { decisionView, type DecisionView } from '../decisions/view.js';
import { standalone, type Leadership } from '../leadership/election.js';
import { ZooKeeperError } from '../leadership/zookeeper-session.js';
import { explainDecision } from '../policy/decide.js';
import { isValidAppId, registrationSchema, toPolicy, type PolicyDefaults, type Registration } from '../registry/registration.js';
import { StateFileError, type RegistrationStore } from '../registry/store.js';
import type { Logger } from '../telemetry/logger.js';
import type { Scrub } from '../telemetry/scrub.js';
import type { AutoscalerMetrics } from '../telemetry/prometheus.js';

export const MAX_BODY_BYTES = 64 * 1024;

export interface ApiDeps {
  store: RegistrationStore;
  status: { lastResult(): CycleResult | null; liveness(): LivenessReport; readiness(): ReadinessReport };
  decisions: DecisionLog;
  metrics: AutoscalerMetrics;
  defaults: PolicyDefaults;
  /** Checks a registration beyond its shape (e.g. that its cron expressions parse); returns problems by JSON path. */
  checkRegistration?: (registration: Registration) => { path: string; message: string }[];
  auth: { token?: string; readOnly: boolean };
  logger: Logger;
  /** Applied to every answer: no credential leaves the daemon, whatever an upstream error message carried. */
  scrub: Scrub;
  /** Who leads: named in every answer's headers and in /apps and /decisions (default: this instance alone). */
  leadership?: Leadership;
}

export const LEADER_HEADER = 'X-Baton-Autoscaler-Leader';
export const ROLE_HEADER = 'X-Baton-Autoscaler-Role';

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The daemon's HTTP API: /apps (registrations), /decisions, /metrics, /healthz (liveness), /readyz (readiness). */
export function createApiServer(deps: ApiDeps): http.Server {
  return http.createServer((request, response) => {
    handle(deps, request, response).catch((error: unknown) => {
      if (error instanceof StateFileError) {
        // Disk full, read-only, ...: the store rolled the change back; say so, and why.
        deps.logger.error('state file not saved', { method: request.method, path: safePath(request.url), error: error.message });
        const status = error.code === 'ENOSPC' || error.code === 'EDQUOT' ? 507 : 503;
        sendJson(deps.scrub, response, status, { error: 'state-not-saved', message: error.message });
        return;
      }
      if (error instanceof ZooKeeperError) {
        // Registrations live in ZooKeeper: without it nothing can be changed here. Another instance may have a session.
        deps.logger.warn('registration not changed: ZooKeeper unavailable', { method: request.method, path: safePath(request.url), error: error.message });
        sendJson(deps.scrub, response, 503, { error: 'zookeeper-unavailable', message: error.message, leader: leaderView(deps) }, { 'Retry-After': '1' });
        return;
      }
      if (error instanceof HttpError) {
        sendJson(deps.scrub, response, error.status, { error: error.code, message: error.message, ...error.extra }, error.headers);
        if (error.status === 413) request.destroy();
        return;
      }
      deps.logger.error('request failed', { method: request.method, path: safePath(request.url), error });
      sendJson(deps.scrub, response, 500, { error: 'internal', message: 'internal error' });
    });
  });
}

export function listen(server: http.Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

async function handle(deps: ApiDeps, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const method = request.method ?? 'GET';
  const path = url.pathname;
  const leader = leaderView(deps);
  response.setHeader(ROLE_HEADER, leader.role);
  if (leader.url) response.setHeader(LEADER_HEADER, leader.url);

  if (path === '/healthz') {
    allow(method, ['GET', 'HEAD']);
    const liveness = deps.status.liveness();
    return sendJson(deps.scrub, response, liveness.live ? 200 : 503, liveness);
  }
  if (path === '/readyz') {
    allow(method, ['GET', 'HEAD']);
    const readiness = deps.status.readiness();
    return sendJson(deps.scrub, response, readiness.ready ? 200 : 503, readiness);
  }
  if (path === '/metrics') {
    allow(method, ['GET']);
    const { contentType, body } = await deps.metrics.render();
    response.writeHead(200, { 'Content-Type': contentType });
    response.end(deps.scrub(body));
    return;
  }
  if (path === '/decisions') {
    allow(method, ['GET']);
    const appId = url.searchParams.get('appId') ?? undefined;
    if (appId !== undefined && !isValidAppId(appId)) throw new HttpError(400, 'invalid-app-id', 'appId: expected a Marathon app id like /shop/web');
    const limit = parseLimit(url.searchParams.get('limit'));
    const options: { appId?: string; limit: number } = { limit };
    if (appId) options.appId = appId;
    return sendJson(deps.scrub, response, 200, { leader, decisions: deps.decisions.list(options).map(decisionView) });
  }
  if (path === '/apps') {
    allow(method, ['GET', 'POST']);
    if (method === 'POST') return registerApp(deps, request, response);
    return sendJson(deps.scrub, response, 200, { leader, ...listApps(deps) });
  }
  if (path.startsWith('/apps/')) {
    allow(method, ['GET', 'DELETE']);
    const appId = appIdFromPath(path.slice('/apps/'.length));
    if (method === 'DELETE') return unregisterApp(deps, request, response, appId);
    const view = listApps(deps);
    const app = view.apps.find((a) => a.appId === appId);
    if (app) return sendJson(deps.scrub, response, 200, app);
    const issue = view.labelIssues.find((i) => i.appId === appId);
    throw new HttpError(404, 'not-managed', `${appId} is not managed by the autoscaler`, issue ? { labelErrors: issue.errors } : {});
  }
  throw new HttpError(404, 'not-found', 'no such endpoint (try /apps, /decisions, /metrics, /healthz, /readyz)');
}

/**
 * Who leads, for clients: this instance's role and the leader's advertised address (`self` when it is this one).
 * `/decisions` and the instances in `/apps` are the ones this instance saw while it led: ask the leader for current ones.
 */
function leaderView(deps: ApiDeps): { role: string; url: string | null; self: boolean } {
  const leadership = deps.leadership ?? standalone;
  const leader = leadership.leader();
  return { role: leadership.role(), url: leader?.url ?? null, self: leader?.self ?? false };
}

interface AppEntry {
  appId: string;
  source: 'rest' | 'labels';
  policy: ReturnType<typeof toPolicy>;
  inMarathon: boolean | null;
  instances: number | null;
  lastDecision: Pick<DecisionView, 'at' | 'action' | 'current' | 'desired' | 'reason' | 'outcome' | 'rules'> | null;
  /** Labels of an app registered by REST are ignored (REST wins); shown so nobody wonders why they have no effect. */
  labelsOverridden?: boolean;
}

function listApps(deps: ApiDeps): { apps: AppEntry[]; labelIssues: { appId: string; errors: string[] }[] } {
  const last = deps.status.lastResult();
  const seen = new Map((last?.managed ?? []).map((m) => [m.appId, m]));
  const entries = new Map<string, AppEntry>();
  // REST registrations come from the store, so a registration shows at once, before the next cycle.
  for (const registration of deps.store.list()) {
    const managed = seen.get(registration.appId);
    entries.set(registration.appId, {
      appId: registration.appId,
      source: 'rest',
      policy: toPolicy(registration, deps.defaults, 'rest'),
      inMarathon: managed ? managed.inMarathon : null,
      instances: managed?.instances ?? null,
      lastDecision: summary(deps.decisions.latest(registration.appId)),
    });
  }
  for (const managed of last?.managed ?? []) {
    if (managed.source !== 'labels' || entries.has(managed.appId)) continue;
    entries.set(managed.appId, {
      appId: managed.appId,
      source: 'labels',
      policy: managed.policy,
      inMarathon: managed.inMarathon,
      instances: managed.instances ?? null,
      lastDecision: summary(deps.decisions.latest(managed.appId)),
    });
  }
  const apps = [...entries.values()].sort((a, b) => a.appId.localeCompare(b.appId));
  return { apps, labelIssues: last?.labelIssues ?? [] };
}

function summary(decision: LoggedDecision | undefined): AppEntry['lastDecision'] {
  if (!decision) return null;
  const { at, action, current, desired, outcome, rules } = decision;
  return { at, action, current, desired, reason: explainDecision(decision), outcome, rules };
}

async function registerApp(deps: ApiDeps, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  authorize(deps, request);
  const body = await readJsonBody(request);
  const parsed = registrationSchema.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(root)', message: issue.message }));
    throw new HttpError(400, 'invalid-registration', issues.map((i) => `${i.path}: ${i.message}`).join('; '), { issues });
  }
  const problems = deps.checkRegistration?.(parsed.data) ?? [];
  if (problems.length > 0) {
    throw new HttpError(400, 'invalid-registration', problems.map((i) => `${i.path}: ${i.message}`).join('; '), { issues: problems });
  }
  const created = await deps.store.put(parsed.data);
  deps.logger.info(created ? 'app registered' : 'app registration replaced', { appId: parsed.data.appId });
  sendJson(deps.scrub, response, created ? 201 : 200, {
    appId: parsed.data.appId,
    registration: parsed.data,
    policy: toPolicy(parsed.data, deps.defaults, 'rest'),
  });
}

async function unregisterApp(
  deps: ApiDeps,
  request: http.IncomingMessage,
  response: http.ServerResponse,
  appId: string,
): Promise<void> {
  authorize(deps, request);
  if (await deps.store.remove(appId)) {
    deps.logger.info('app unregistered', { appId });
    response.writeHead(204);
    response.end();
    return;
  }
  const viaLabels = deps.status.lastResult()?.managed.some((m) => m.appId === appId && m.source === 'labels');
  if (viaLabels) {
    throw new HttpError(409, 'registered-by-labels', `${appId} is registered by its AUTOSCALE_* labels; remove them from its deploy config`);
  }
  throw new HttpError(404, 'not-registered', `${appId} has no REST registration`);
}

function authorize(deps: ApiDeps, request: http.IncomingMessage): void {
  if (deps.auth.readOnly) throw new HttpError(403, 'read-only', 'this autoscaler runs read-only: registrations cannot be changed');
  const header = request.headers.authorization ?? '';
  const match = /^Bearer\s+(.+)$/i.exec(header);
  if (!deps.auth.token || !match || !sameSecret(match[1] as string, deps.auth.token)) {
    throw new HttpError(401, 'unauthorized', 'writes need "Authorization: Bearer <token>"', {}, { 'WWW-Authenticate': 'Bearer' });
  }
}

function sameSecret(given: string, expected: string): boolean {
  // Hash both so the comparison takes the same time whatever the lengths.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

async function readJsonBody(request: http.IncomingMessage): Promise<unknown> {
  const type = request.headers['content-type'];
  if (type !== undefined && !/^application\/(.+\+)?json\s*(;|$)/i.test(type)) {
    throw new HttpError(415, 'unsupported-media-type', 'send the body as application/json');
  }
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new HttpError(413, 'body-too-large', `the body must be at most ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'body-too-large', `the body must be at most ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid-json', 'the body is not valid JSON');
  }
}

function appIdFromPath(rest: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    throw new HttpError(400, 'invalid-app-id', 'the app id in the path is not valid percent-encoding');
  }
  const appId = decoded.startsWith('/') ? decoded : `/${decoded}`;
  if (!isValidAppId(appId)) throw new HttpError(400, 'invalid-app-id', 'expected a Marathon app id like /shop/web (URL-encoded)');
  return appId;
}

function parseLimit(value: string | null): number {
  if (value === null) return 100;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new HttpError(400, 'invalid-limit', 'limit: expected an integer 1..10000');
  return limit;
}

function allow(method: string, methods: string[]): void {
  if (!methods.includes(method)) {
    throw new HttpError(405, 'method-not-allowed', `use ${methods.join(' or ')}`, {}, { Allow: methods.join(', ') });
  }
}

function sendJson(scrub: Scrub, response: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (response.headersSent) return;
  const text = scrub(JSON.stringify(body));
  response.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  });
  response.end(text);
}

/** The path without its query, and cut short: request paths are user input. */
function safePath(url: string | undefined): string {
  return (url ?? '').split('?')[0]?.slice(0, 200) ?? '';
}
