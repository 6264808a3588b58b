// The HTTP face of the emulator: Marathon's /v2 routes, /ping, and the /_emulator control routes.
// Parses and validates requests, asks the model, renders Marathon's bodies, status codes and headers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import {
  canonicalAppId,
  isJsonObject,
  mergeUpdate,
  withoutRuntimeFields,
  type Json,
  type JsonObject,
} from './definition.js';
import { pushBounded } from './bounded.js';
import { parseLabelSelector } from './label-selector.js';
import type { EventHub } from './events.js';
import { forwardToLeader, type LeaderProxy } from './leader-proxy.js';
import { appNotFound, type KillOutcome, type MarathonModel, type Origin, type Outcome } from './model.js';
import { findDefinitionErrors, findRollbackErrors, findTypeErrors, type ErrorDetail } from './validation.js';
import { appInfoJson, deploymentJson, embedsFrom, queueJson, taskJson, versionsJson } from './views.js';

export interface RequestLogEntry {
  time: string;
  method: string;
  path: string;
  query: string;
  status: number | null;
}

export interface HttpContext {
  model: MarathonModel;
  hub: EventHub;
  credentials?: { username: string; password: string };
  token?: string;
  /** host:port of this emulator, for /v2/leader, /v2/info and X-Marathon-Leader. */
  leader(): string;
  requests: RequestLogEntry[];
  reset(): void;
  /** Set when this emulator is not the leader: requests go to that leader (see leader-proxy.ts). */
  proxy?: LeaderProxy;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** AppTasksResource / TasksResource refuse the combination before killing anything. */
const SCALE_AND_WIPE = 'You cannot use scale and wipe at the same time.';

const EVENTS_405 = `<html>
<head>
<meta http-equiv="Content-Type" content="text/html;charset=ISO-8859-1"/>
<title>Error 405 </title>
</head>
<body>
<h2>HTTP ERROR: 405</h2>
<p>Problem accessing /v2/events. Reason:
<pre>    HTTP method GET is not supported by this URL</pre></p>
<hr /><a href="http://eclipse.org/jetty">Powered by Jetty:// 9.3.z-SNAPSHOT</a><hr/>
</body>
</html>
`;

class HttpAnswer {
  constructor(
    readonly status: number,
    readonly body: Json | undefined,
    readonly headers: Record<string, string> = {},
  ) {}
}

const answer = (status: number, body?: Json, headers: Record<string, string> = {}) => new HttpAnswer(status, body, headers);
const invalidJson = (details: ErrorDetail[]) => answer(400, { message: 'Invalid JSON', details: details as unknown as Json });
const notValid = (details: ErrorDetail[]) => answer(422, { message: 'Object is not valid', details: details as unknown as Json });
const notFound = () => answer(404, { message: 'HTTP 404 Not Found' });
const methodNotAllowed = () => answer(405, { message: 'HTTP 405 Method Not Allowed' });

/**
 * A boolean query parameter as Jersey reads a primitive `Boolean` (PrimitiveValueOfExtractor): the first value; absent,
 * empty or blank means the resource's @DefaultValue; anything else is `Boolean.valueOf`, i.e. true exactly when it is
 * "true" in any case (`True`, `TRUE`), and false for everything else, `yes` and `1` included (never an error).
 */
export function queryFlag(query: URLSearchParams, name: string, defaultValue: boolean): boolean {
  const value = query.get(name);
  if (value === null || value.trim() === '') return defaultValue;
  return value.toLowerCase() === 'true';
}

export function createRequestHandler(context: HttpContext) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    const url = new URL(request.url ?? '/', 'http://emulator');
    const entry: RequestLogEntry = {
      time: new Date().toISOString(),
      method: request.method ?? 'GET',
      path: url.pathname,
      query: url.search.replace(/^\?/, ''),
      status: null,
    };
    const control = url.pathname.startsWith('/_emulator/');
    if (!control) pushBounded(context.requests, entry);
    if (context.proxy && !control) {
      forwardToLeader(context.proxy, request, response, url)
        .then((status) => (entry.status = status))
        .catch(() => response.destroy());
      return;
    }
    response.setHeader('X-Marathon-Leader', `http://${context.leader()}`);
    route(context, request, response, url)
      .then((result) => {
        if (result === 'streaming') {
          entry.status = 200;
          return;
        }
        entry.status = result.status;
        write(response, result);
      })
      .catch((error: unknown) => {
        entry.status = 500;
        write(response, answer(500, { message: error instanceof Error ? error.message : String(error) }));
      });
  };
}

function write(response: ServerResponse, result: HttpAnswer): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  for (const [name, value] of Object.entries(result.headers)) response.setHeader(name, value);
  if (result.body === undefined) {
    response.writeHead(result.status).end();
  } else if (typeof result.body === 'string' && result.headers['Content-Type']) {
    response.writeHead(result.status).end(result.body);
  } else {
    response.writeHead(result.status, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify(result.body));
  }
}

async function route(
  context: HttpContext,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<HttpAnswer | 'streaming'> {
  const method = request.method ?? 'GET';
  const path = url.pathname;
  if (path === '/ping') return method === 'GET' ? answer(200, 'pong', { 'Content-Type': 'text/plain; charset=utf-8' }) : methodNotAllowed();
  if (path.startsWith('/_emulator/')) return controlRoute(context, method, path);
  if (!path.startsWith('/v2/')) return notFound();
  if (!authorized(context, request)) {
    const headers: Record<string, string> = context.credentials ? { 'WWW-Authenticate': 'Basic realm="Mesosphere Marathon"' } : {};
    return answer(401, { message: 'Invalid username or password.' }, headers);
  }

  const origin: Origin = { clientIp: request.socket.remoteAddress ?? '127.0.0.1', uri: path };
  const query = url.searchParams;
  const force = queryFlag(query, 'force', false);

  if (path === '/v2/info') return method === 'GET' ? answer(200, infoJson(context)) : methodNotAllowed();
  if (path === '/v2/leader') return method === 'GET' ? answer(200, { leader: context.leader() }) : methodNotAllowed();
  if (path === '/v2/queue') return method === 'GET' ? answer(200, queueJson(context.model)) : methodNotAllowed();
  if (path === '/v2/tasks') return method === 'GET' ? answer(200, { tasks: tasksJson(context, query.get('status')) }) : methodNotAllowed();
  if (path === '/v2/tasks/delete') return method === 'POST' ? deleteTasks(context, request, query, origin) : methodNotAllowed();
  if (path === '/v2/events') {
    if (method !== 'GET') return methodNotAllowed();
    if (!acceptsEventStream(request.headersDistinct.accept)) {
      return answer(405, EVENTS_405, { 'Content-Type': 'text/html;charset=ISO-8859-1' });
    }
    context.hub.attach(request, response, query.getAll('event_type'));
    return 'streaming';
  }
  if (path === '/v2/deployments' || path === '/v2/deployments/') {
    if (method !== 'GET') return methodNotAllowed();
    return answer(200, [...context.model.deployments.values()].map(deploymentJson));
  }
  if (path.startsWith('/v2/deployments/')) {
    if (method !== 'DELETE') return methodNotAllowed();
    return deleteDeployment(context, decodeURIComponent(path.slice('/v2/deployments/'.length)), force, origin);
  }
  if (path === '/v2/apps' || path === '/v2/apps/') {
    if (method === 'GET') return listApps(context, query);
    if (method === 'POST') return createApp(context, request, origin);
    return methodNotAllowed();
  }
  if (path.startsWith('/v2/apps/')) return appRoute(context, request, method, path.slice('/v2/apps'.length), query, origin);
  return notFound();
}

async function appRoute(
  context: HttpContext,
  request: IncomingMessage,
  method: string,
  rest: string,
  query: URLSearchParams,
  origin: Origin,
): Promise<HttpAnswer> {
  const { model } = context;
  const force = queryFlag(query, 'force', false);
  const segments = rest.split('/').filter((s) => s !== '').map(decodeURIComponent);
  const last = segments[segments.length - 1];
  const beforeLast = segments[segments.length - 2];
  const idOf = (count: number) => canonicalAppId(segments.slice(0, segments.length - count).join('/'));

  if (last === 'restart' && segments.length > 1) {
    if (method !== 'POST') return methodNotAllowed();
    return deployed(model.restartApp(idOf(1), { force, origin }));
  }
  const scale = queryFlag(query, 'scale', false);
  const killing = method === 'DELETE' && (last === 'tasks' || beforeLast === 'tasks') && segments.length > 1;
  if (killing && scale && queryFlag(query, 'wipe', false)) return answer(400, { message: SCALE_AND_WIPE });
  if (last === 'tasks' && segments.length > 1 && (method === 'GET' || method === 'DELETE')) {
    const app = model.app(idOf(1));
    if (!app) return answer(404, appNotFound(idOf(1)));
    if (method === 'GET') return answer(200, { tasks: app.tasks.map(taskJson) });
    const host = query.get('host');
    const ids = app.tasks.filter((t) => !host || host === '*' || t.host === host).map((t) => t.id);
    return killed(model.killTasks(idOf(1), ids, { scale, force, origin }), 'tasks');
  }
  if (beforeLast === 'tasks' && segments.length > 2 && method === 'DELETE' && last !== undefined) {
    const app = model.app(idOf(2));
    if (!app) return answer(404, appNotFound(idOf(2)));
    if (!app.tasks.some((t) => t.id === last)) return answer(404, { message: `Task '${last}' does not exist` });
    return killed(model.killTasks(idOf(2), [last], { scale, force, origin }), 'task');
  }
  if (last === 'versions' && segments.length > 1 && method === 'GET') {
    const app = model.app(idOf(1));
    if (!app) return answer(404, appNotFound(idOf(1)));
    return answer(200, { versions: versionsJson(app.versions.map((v) => v.version)) });
  }
  if (beforeLast === 'versions' && segments.length > 2 && method === 'GET' && last !== undefined) {
    const appId = idOf(2);
    const app = model.app(appId);
    if (!app) return answer(404, appNotFound(appId));
    const stored = app.versions.find((v) => v.version === last);
    return stored ? answer(200, model.definitionWithVersion(stored)) : answer(404, appNotFound(appId, last));
  }

  const appId = idOf(0);
  switch (method) {
    case 'GET': {
      const app = model.app(appId);
      if (!app) return answer(404, appNotFound(appId));
      return answer(200, { app: appInfoJson(model, app, embedsFrom(query.getAll('embed'), 'app.')) });
    }
    case 'PUT':
    case 'PATCH': {
      if (method === 'PATCH' && !model.app(appId)) return answer(404, appNotFound(appId));
      const partialUpdate = method === 'PATCH' || queryFlag(query, 'partialUpdate', true);
      return updateApp(context, request, appId, { partialUpdate, force, origin });
    }
    case 'DELETE':
      // Marathon's server code defaults force to true for DELETE /v2/apps/{id}, whatever the RAML says.
      return deployed(model.deleteApp(appId, { force: queryFlag(query, 'force', true), origin }));
    default:
      return methodNotAllowed();
  }
}

async function updateApp(
  context: HttpContext,
  request: IncomingMessage,
  appId: string,
  options: { partialUpdate: boolean; force: boolean; origin: Origin },
): Promise<HttpAnswer> {
  const { model } = context;
  const parsed = await readJson(request);
  if (parsed instanceof HttpAnswer) return parsed;
  const typeErrors = findTypeErrors(parsed);
  if (typeErrors.length > 0) return invalidJson(typeErrors);
  const body = parsed as JsonObject;
  if (typeof body.version === 'string') {
    const rollbackErrors = findRollbackErrors(body);
    if (rollbackErrors.length > 0) return notValid(rollbackErrors);
    return deployed(model.rollbackApp(appId, body.version, { force: options.force, origin: options.origin }));
  }
  const existing = model.app(appId);
  const raw = existing && options.partialUpdate ? mergeUpdate(existing.stored.definition, body) : withoutRuntimeFields(body);
  raw.id = appId;
  const errors = findDefinitionErrors(raw);
  if (errors.length > 0) return notValid(errors);
  const definition = model.normalize(raw, appId, existing?.stored);
  return deployed(model.putApp(appId, definition, { force: options.force, origin: options.origin }), appId);
}

async function createApp(context: HttpContext, request: IncomingMessage, origin: Origin): Promise<HttpAnswer> {
  const { model } = context;
  const parsed = await readJson(request);
  if (parsed instanceof HttpAnswer) return parsed;
  const typeErrors = findTypeErrors(parsed);
  if (typeErrors.length > 0) return invalidJson(typeErrors);
  const body = withoutRuntimeFields(parsed as JsonObject);
  if (typeof body.id !== 'string') return invalidJson([{ path: '/id', errors: ['error.path.missing'] }]);
  const appId = canonicalAppId(body.id);
  if (model.app(appId)) return answer(409, { message: `An app with id [${appId}] already exists.` });
  const raw = { ...body, id: appId };
  const errors = findDefinitionErrors(raw);
  if (errors.length > 0) return notValid(errors);
  const outcome = model.putApp(appId, model.normalize(raw, appId, undefined), { force: false, origin });
  if (!outcome.ok) return answer(outcome.status, outcome.body);
  const app = model.app(appId);
  const body201 = app
    ? appInfoJson(model, app, { tasks: true, counts: true, deployments: true, lastTaskFailure: false, readiness: false })
    : {};
  return answer(201, body201, { Location: `/v2/apps${appId}`, 'Marathon-Deployment-Id': outcome.deploymentId });
}

function deleteDeployment(context: HttpContext, id: string, force: boolean, origin: Origin): HttpAnswer {
  const outcome = context.model.cancelDeployment(id, { force, origin });
  if (outcome === null) return answer(404, { message: `DeploymentPlan ${id} does not exist` });
  if (outcome === 'cancelled') return answer(202);
  // DeploymentsResource answers the revert with deploymentResult: 200, even when the revert re-creates a deleted app.
  return deployed(outcome.ok ? { ...outcome, created: false } : outcome);
}

/** POST /v2/tasks/delete {"ids": [...]}: kills tasks of any apps; with scale, every app shrinks in its own deployment. */
async function deleteTasks(context: HttpContext, request: IncomingMessage, query: URLSearchParams, origin: Origin): Promise<HttpAnswer> {
  if (queryFlag(query, 'scale', false) && queryFlag(query, 'wipe', false)) return answer(400, { message: SCALE_AND_WIPE });
  const parsed = await readJson(request);
  if (parsed instanceof HttpAnswer) return parsed;
  const ids = isJsonObject(parsed) && Array.isArray(parsed.ids) ? parsed.ids : undefined;
  if (!ids || !ids.every((id): id is string => typeof id === 'string')) {
    return invalidJson([{ path: '/ids', errors: ['error.expected.jsarray'] }]);
  }
  const tasks = context.model.allTasks();
  const unknown = ids.find((id) => !tasks.some((t) => t.id === id));
  if (unknown !== undefined) return answer(400, { message: `Invalid task id ${unknown}` });
  const byApp = new Map<string, string[]>();
  for (const task of tasks.filter((t) => ids.includes(t.id))) byApp.set(task.appId, [...(byApp.get(task.appId) ?? []), task.id]);
  const options = { scale: queryFlag(query, 'scale', false), force: queryFlag(query, 'force', false), origin };
  const outcomes = [...byApp].map(([appId, taskIds]) => context.model.killTasks(appId, taskIds, options));
  const refused = outcomes.find((o) => !o.ok);
  if (refused && !refused.ok) return answer(refused.status, refused.body);
  const started = outcomes.find((o): o is Extract<Outcome, { ok: true }> => o.ok && 'deploymentId' in o);
  if (started) return deployed({ ...started, created: false });
  return answer(200, { tasks: outcomes.flatMap((o) => (o.ok && 'killed' in o ? o.killed.map(taskJson) : [])) });
}

/** Kill answers: the killed task(s) without scale, the deployment with scale. */
function killed(outcome: Outcome | KillOutcome, shape: 'task' | 'tasks'): HttpAnswer {
  if (!outcome.ok || !('killed' in outcome)) return deployed(outcome);
  const tasks = outcome.killed.map(taskJson);
  return shape === 'task' ? answer(200, { task: tasks[0] ?? null }) : answer(200, { tasks });
}

/** The `deployable` trait: 200/201 {deploymentId, version} with the Marathon-Deployment-Id header. */
function deployed(outcome: Outcome, createdAt?: string): HttpAnswer {
  if (!outcome.ok) return answer(outcome.status, outcome.body);
  const headers: Record<string, string> = { 'Marathon-Deployment-Id': outcome.deploymentId };
  if (outcome.created && createdAt) headers.Location = `/v2/apps${createdAt}`;
  return answer(outcome.created ? 201 : 200, { deploymentId: outcome.deploymentId, version: outcome.version }, headers);
}

function listApps(context: HttpContext, query: URLSearchParams): HttpAnswer {
  const { model } = context;
  const embeds = embedsFrom(query.getAll('embed'), 'apps.');
  const idFilter = query.get('id')?.toLowerCase();
  const cmdFilter = query.get('cmd')?.toLowerCase();
  const labelFilter = query.get('label');
  const selector = labelFilter ? parseLabelSelector(labelFilter) : undefined;
  if (selector === null) return answer(400, { message: `Invalid label selector query: ${labelFilter}` });
  const apps = [...model.apps.values()]
    .filter((app) => {
      const definition = app.stored.definition;
      if (idFilter && !String(definition.id).toLowerCase().includes(idFilter)) return false;
      if (cmdFilter && !(typeof definition.cmd === 'string' && definition.cmd.toLowerCase().includes(cmdFilter))) return false;
      if (selector && !selector(isJsonObject(definition.labels) ? definition.labels : {})) return false;
      return true;
    })
    .sort((a, b) => String(a.stored.definition.id).localeCompare(String(b.stored.definition.id)))
    .map((app) => appInfoJson(model, app, embeds));
  return answer(200, { apps });
}

function tasksJson(context: HttpContext, status: string | null): Json[] {
  const wanted = status === 'running' ? 'TASK_RUNNING' : status === 'staging' ? 'TASK_STAGING' : undefined;
  return context.model
    .allTasks()
    .filter((t) => !wanted || t.state === wanted)
    .map(taskJson);
}

function infoJson(context: HttpContext): JsonObject {
  const leader = context.leader();
  return {
    name: 'marathon',
    version: '1.10.26',
    buildref: 'baton-emulator',
    elected: true,
    leader,
    frameworkId: 'e3c1b6a2-4d2f-4c4e-9b1a-5f0e7d6c8a90-0000',
    marathon_config: {
      features: [],
      framework_name: 'marathon',
      ha: false,
      hostname: leader.split(':')[0] ?? '127.0.0.1',
      local_port_min: 10000,
      local_port_max: 20000,
      master: 'emulated',
      mesos_role: '*',
      mesos_user: 'root',
      webui_url: `http://${leader}`,
    },
    zookeeper_config: {},
    http_config: { http_port: Number(leader.split(':')[1] ?? 0) },
  };
}

async function controlRoute(context: HttpContext, method: string, path: string): Promise<HttpAnswer> {
  const { hub } = context;
  const route = `${method} ${path.replace(/\/+$/, '')}`;
  switch (route) {
    case 'GET /_emulator/requests':
      return answer(200, { requests: context.requests as unknown as Json[] });
    case 'GET /_emulator/events':
      return answer(200, { events: hub.log() as unknown as Json[] });
    case 'POST /_emulator/events/drop':
      return answer(200, { dropped: hub.drop() });
    case 'POST /_emulator/events/mute':
      hub.setMuted(true);
      return answer(200, { muted: true });
    case 'POST /_emulator/events/unmute':
      hub.setMuted(false);
      return answer(200, { muted: false });
    case 'POST /_emulator/reset':
      context.reset();
      return answer(200, { reset: true });
    default:
      return answer(404, { message: `unknown emulator control route ${method} ${path}` });
  }
}

/** EventSourceServlet.doGet: some Accept header value must equal "text/event-stream" exactly; otherwise HttpServlet's 405. */
function acceptsEventStream(accept: string[] | undefined): boolean {
  return (accept ?? []).some((value) => value === 'text/event-stream');
}

function authorized(context: HttpContext, request: IncomingMessage): boolean {
  if (!context.credentials && !context.token) return true;
  const header = request.headers.authorization ?? '';
  if (context.token && safeEqual(header, `token=${context.token}`)) return true;
  if (context.credentials && header.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice('Basic '.length).trim(), 'base64').toString('utf8');
    const { username, password } = context.credentials;
    return safeEqual(decoded, `${username}:${password}`);
  }
  return false;
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

async function readJson(request: IncomingMessage): Promise<Json | HttpAnswer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return answer(413, { message: 'Request entity too large' });
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as Json;
  } catch (error) {
    const reason = text.trim() === '' ? 'No content to map due to end-of-input' : (error as Error).message;
    return invalidJson([{ path: '/', errors: [reason] }]);
  }
}
