import type { JsonObject } from './types.js';

/**
 * What Marathon 1.10 stores for a field an app definition leaves out (the defaults of its RAML App type, from which
 * its model is generated, and AppDefinition.scala). A full PUT (partialUpdate=false) resets every field the body leaves
 * out to these, so they are what "removed from the file" means on the live app. Fields whose default depends on the
 * cluster (role, acceptedResourceRoles, user) are not here: leaving them out is never shown as a change.
 */
const APP_DEFAULTS: JsonObject = {
  instances: 1,
  cpus: 1,
  mem: 128,
  disk: 0,
  gpus: 0,
  executor: '',
  backoffSeconds: 1,
  backoffFactor: 1.15,
  maxLaunchDelaySeconds: 300,
  requirePorts: false,
  killSelection: 'YOUNGEST_FIRST',
  constraints: [],
  env: {},
  labels: {},
  secrets: {},
  healthChecks: [],
  readinessChecks: [],
  dependencies: [],
  fetch: [],
  upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
  unreachableStrategy: { inactiveAfterSeconds: 0, expungeAfterSeconds: 0 },
};

const HEALTH_CHECK_DEFAULTS: JsonObject = {
  gracePeriodSeconds: 300,
  intervalSeconds: 60,
  maxConsecutiveFailures: 3,
  timeoutSeconds: 20,
  delaySeconds: 15,
};

/** HTTP-style checks also default their path, port index and IP protocol (AppHealthCheck in the RAML). */
const HTTP_HEALTH_CHECK_DEFAULTS: JsonObject = { path: '/', ipProtocol: 'IPv4' };

const DOCKER_DEFAULTS: JsonObject = { forcePullImage: false, privileged: false, parameters: [] };

/** Top-level fields whose default is empty: leaving one out of the file removes what the live app has there. */
export function hasEmptyDefault(field: string): boolean {
  const value = APP_DEFAULTS[field];
  return (Array.isArray(value) && value.length === 0) || (isObject(value) && Object.keys(value).length === 0) || value === '';
}

/** Whether Marathon has a default for this top-level field, so that leaving it out is a change to that default. */
export function hasMarathonDefault(field: string): boolean {
  return field in APP_DEFAULTS;
}

/**
 * The definition with Marathon's defaults filled in where it leaves a field out, the way Marathon stores it. Applied to
 * both sides of a comparison, a field absent from the file and at its default live is no change, and a field removed
 * from the file becomes a change back to its default.
 */
export function withMarathonDefaults(definition: JsonObject): JsonObject {
  const filled: JsonObject = { ...definition };
  const resident = isResident(definition);
  for (const [field, value] of Object.entries(APP_DEFAULTS)) {
    // Deprecated `uris` are stored as `fetch`: the file's fetch is then not empty.
    if (field === 'fetch' && definition.uris !== undefined) continue;
    // Apps with persistent volumes get other strategy defaults (UpgradeStrategy.forResidentTasks, unreachable disabled).
    if (resident && (field === 'upgradeStrategy' || field === 'unreachableStrategy')) continue;
    const current = filled[field];
    if (current === undefined || current === null) filled[field] = structuredClone(value);
    else if (isObject(value) && isObject(current) && field !== 'env' && field !== 'labels' && field !== 'secrets') {
      filled[field] = { ...value, ...current };
    }
  }
  if (Array.isArray(filled.healthChecks)) filled.healthChecks = filled.healthChecks.map(withHealthCheckDefaults);
  if (isObject(filled.container)) filled.container = withContainerDefaults(filled.container);
  if (Array.isArray(filled.portDefinitions)) filled.portDefinitions = filled.portDefinitions.map(withProtocolDefault);
  return filled;
}

function isResident(definition: JsonObject): boolean {
  const container = definition.container;
  const volumes = isObject(container) && Array.isArray(container.volumes) ? container.volumes : [];
  return volumes.some((volume) => isObject(volume) && volume.persistent !== undefined && volume.persistent !== null);
}

function withHealthCheckDefaults(check: unknown): unknown {
  if (!isObject(check)) return check;
  const protocol = typeof check.protocol === 'string' ? check.protocol : 'HTTP';
  const httpStyle = protocol === 'HTTP' || protocol === 'HTTPS' || protocol === 'MESOS_HTTP' || protocol === 'MESOS_HTTPS';
  const portDefault = check.port === undefined && protocol !== 'COMMAND' ? { portIndex: 0 } : {};
  return { ...HEALTH_CHECK_DEFAULTS, ...(httpStyle ? HTTP_HEALTH_CHECK_DEFAULTS : {}), ...portDefault, protocol, ...check };
}

function withContainerDefaults(container: JsonObject): JsonObject {
  const filled: JsonObject = { type: 'DOCKER', volumes: [], ...container };
  if (isObject(filled.docker)) filled.docker = { ...DOCKER_DEFAULTS, ...filled.docker };
  if (Array.isArray(filled.portMappings)) filled.portMappings = filled.portMappings.map(withProtocolDefault);
  return filled;
}

function withProtocolDefault(port: unknown): unknown {
  return isObject(port) ? { protocol: 'tcp', ...port } : port;
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
