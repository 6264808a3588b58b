// Marathon's two rejection layers for app bodies: 400 "Invalid JSON" (the body does not parse into the App type,
// play-json style error codes) and 422 "Object is not valid" (the App breaks a rule).
import { validateAppDefinition } from '../config/app-definition.js';
import { isJsonObject, type Json, type JsonObject } from './definition.js';

export interface ErrorDetail {
  path: string;
  errors: string[];
}

const EXPECTED: Record<string, 'jsstring' | 'jsnumber' | 'jsobject' | 'jsarray' | 'jsboolean'> = {
  id: 'jsstring',
  cmd: 'jsstring',
  user: 'jsstring',
  executor: 'jsstring',
  killSelection: 'jsstring',
  role: 'jsstring',
  version: 'jsstring',
  instances: 'jsnumber',
  cpus: 'jsnumber',
  mem: 'jsnumber',
  disk: 'jsnumber',
  gpus: 'jsnumber',
  backoffSeconds: 'jsnumber',
  backoffFactor: 'jsnumber',
  maxLaunchDelaySeconds: 'jsnumber',
  taskKillGracePeriodSeconds: 'jsnumber',
  labels: 'jsobject',
  env: 'jsobject',
  container: 'jsobject',
  upgradeStrategy: 'jsobject',
  args: 'jsarray',
  constraints: 'jsarray',
  healthChecks: 'jsarray',
  readinessChecks: 'jsarray',
  portDefinitions: 'jsarray',
  networks: 'jsarray',
  fetch: 'jsarray',
  dependencies: 'jsarray',
  requirePorts: 'jsboolean',
};

function jsonType(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'jsarray';
  const names: Record<string, string> = { string: 'jsstring', number: 'jsnumber', boolean: 'jsboolean', object: 'jsobject' };
  return names[typeof value] ?? 'unknown';
}

/** 400: the body is not an App object, or a known field has the wrong JSON type. */
export function findTypeErrors(body: Json): ErrorDetail[] {
  if (!isJsonObject(body)) return [{ path: '/', errors: ['error.expected.jsobject'] }];
  const details: ErrorDetail[] = [];
  for (const [field, expected] of Object.entries(EXPECTED)) {
    const value = body[field];
    if (value === undefined || value === null) continue;
    if (jsonType(value) !== expected) details.push({ path: `/${field}`, errors: [`error.expected.${expected}`] });
  }
  // UnreachableStrategy is an object or the string "disabled" (RAML: unreachableStrategy.raml).
  const unreachable = body.unreachableStrategy;
  if (unreachable !== undefined && unreachable !== null && unreachable !== 'disabled' && jsonType(unreachable) !== 'jsobject') {
    details.push({ path: '/unreachableStrategy', errors: ['error.expected.jsobject'] });
  }
  if (isJsonObject(body.labels)) {
    for (const [key, value] of Object.entries(body.labels)) {
      if (typeof value !== 'string') details.push({ path: `/labels/${key}`, errors: ['error.expected.jsstring'] });
    }
  }
  if (isJsonObject(body.upgradeStrategy)) {
    for (const [key, value] of Object.entries(body.upgradeStrategy)) {
      if (typeof value !== 'number') details.push({ path: `/upgradeStrategy/${key}`, errors: ['error.expected.jsnumber'] });
    }
  }
  return details;
}

const ID_PATTERN =
  /^(\/?((\.\.)|(([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9]))?($|\/))+$/;

/** The rules the emulator checks itself, with Marathon's messages; src/config/app-definition.ts adds the rest. */
function ownRules(app: JsonObject): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  const add = (path: string, message: string) => details.push({ path, errors: [message] });
  const id = typeof app.id === 'string' ? app.id : '';
  if (id === '' || id === '/' || !ID_PATTERN.test(id)) {
    add('/id', "must fully match regular expression '^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])|(\\.|\\.\\.)$'");
  }
  const minimum = (field: string, min: number) => {
    const value = app[field];
    if (typeof value === 'number' && value < min) add(`/${field}`, `got ${value}, expected ${min} or more`);
  };
  minimum('cpus', 0.001);
  minimum('mem', 0);
  minimum('disk', 0);
  minimum('gpus', 0);
  minimum('instances', 0);
  minimum('backoffFactor', 1);
  minimum('backoffSeconds', 0);
  if (typeof app.instances === 'number' && !Number.isInteger(app.instances)) add('/instances', 'error.expected.int');
  const hasCmd = app.cmd !== undefined && app.cmd !== null;
  const hasArgs = Array.isArray(app.args) && app.args.length > 0;
  if ((hasCmd && hasArgs) || (!hasCmd && !hasArgs && !isJsonObject(app.container))) {
    add('/', "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.");
  }
  if (isJsonObject(app.upgradeStrategy)) {
    for (const field of ['minimumHealthCapacity', 'maximumOverCapacity']) {
      const value = app.upgradeStrategy[field];
      if (typeof value !== 'number') continue;
      if (value > 1) add(`/upgradeStrategy/${field}`, 'is greater than 1');
      if (value < 0) add(`/upgradeStrategy/${field}`, 'is less than 0');
    }
  }
  return details;
}

/**
 * 422 details for a complete definition (after merging a partial update). The emulator's own rules carry Marathon's
 * exact wording, so they win on a path both report; the shared validator covers every other rule.
 */
export function findDefinitionErrors(app: JsonObject): ErrorDetail[] {
  const own = ownRules(app);
  const covered = new Set(own.map((d) => d.path));
  const shared = validateAppDefinition(app)
    .errors.map((issue) => ({ path: issue.path || '/', errors: [issue.message] }))
    .filter((d) => !covered.has(d.path));
  return [...own, ...shared];
}

/** A rollback body may carry only `version` (and `id`). */
export function findRollbackErrors(body: JsonObject): ErrorDetail[] {
  const extra = Object.keys(body).filter((key) => key !== 'version' && key !== 'id');
  return extra.length > 0 ? [{ path: '/', errors: ["The 'version' field may only be combined with the 'id' field."] }] : [];
}
