// App definitions as Marathon 1.10 stores and returns them: defaults filled, deprecated fields migrated, unknown
// fields dropped (Marathon ignores them), dynamic service ports assigned. Pure functions over plain JSON.
import { isDeepStrictEqual } from 'node:util';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Fields of Marathon's App type (v2/types/app.raml). Anything else in a request is silently ignored, as Marathon does. */
const APP_FIELDS = new Set([
  'id', 'acceptedResourceRoles', 'args', 'backoffFactor', 'backoffSeconds', 'cmd', 'constraints', 'container', 'cpus',
  'dependencies', 'disk', 'env', 'executor', 'executorResources', 'fetch', 'healthChecks', 'check', 'instances', 'labels',
  'maxLaunchDelaySeconds', 'mem', 'gpus', 'ipAddress', 'networks', 'ports', 'portDefinitions', 'readinessChecks',
  'residency', 'resourceLimits', 'requirePorts', 'secrets', 'taskKillGracePeriodSeconds', 'upgradeStrategy', 'uris',
  'user', 'killSelection', 'unreachableStrategy', 'tty', 'role',
]);

/** Fields Marathon adds to what GET returns; a PUT body never sets them (a `version` means "roll back"). */
export const RUNTIME_FIELDS = new Set([
  'version', 'versionInfo', 'tasks', 'tasksStaged', 'tasksRunning', 'tasksHealthy', 'tasksUnhealthy', 'deployments',
  'lastTaskFailure', 'tasksStats', 'taskStats', 'readinessCheckResults',
]);

export type Behaviour = 'normal' | 'crash' | 'unhealthy' | 'stuck' | 'lost' | 'hc-kill' | 'crash-after-healthy';

/** Every injected behaviour, longest first: a tag is matched against them in this order (`crash-after-healthy` before `crash`). */
export const BEHAVIOURS = ['crash-after-healthy', 'unhealthy', 'hc-kill', 'crash', 'stuck', 'lost'] as const;

export interface VersionInfo {
  lastScalingAt: string;
  lastConfigChangeAt: string;
}

/** A stored app: the canonical definition plus its version bookkeeping. */
export interface StoredApp {
  definition: JsonObject;
  version: string;
  versionInfo: VersionInfo;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `shop/web/` → `/shop/web`. Marathon ids are absolute paths. */
export function canonicalAppId(raw: string): string {
  const parts = raw.split('/').filter((part) => part !== '');
  return `/${parts.join('/')}`;
}

/** Marathon's PathId.safePath, used in task and instance ids: `/shop/web` → `shop_web`. */
export function safePath(appId: string): string {
  return canonicalAppId(appId).slice(1).replace(/\//g, '_');
}

/** The body of a PUT/PATCH without the read-only fields of a GET answer. */
export function withoutRuntimeFields(value: JsonObject): JsonObject {
  const result: JsonObject = {};
  for (const [key, field] of Object.entries(value)) if (!RUNTIME_FIELDS.has(key)) result[key] = field;
  return result;
}

/** partialUpdate=true: every top-level field of the update replaces the live one (Marathon's AppUpdate merge). */
export function mergeUpdate(current: JsonObject, update: JsonObject): JsonObject {
  return { ...current, ...withoutRuntimeFields(update) };
}

export interface ServicePortContext {
  /** Service ports of the app's previous definition, reused by position so an unchanged file stays unchanged. */
  previous: number[];
  allocate(): number;
}

/** Fills Marathon's defaults and migrates deprecated fields, so that equal intents compare equal. */
export function normalizeDefinition(raw: JsonObject, appId: string, ports: ServicePortContext): JsonObject {
  const source: JsonObject = {};
  for (const [key, value] of Object.entries(raw)) if (APP_FIELDS.has(key)) source[key] = value;

  const container = isJsonObject(source.container) ? normalizeContainer(source.container) : undefined;
  const networks = normalizeNetworks(source);
  const hostMode = networks.every((n) => isJsonObject(n) && n.mode === 'host');

  const app: JsonObject = {
    id: canonicalAppId(appId),
    backoffFactor: source.backoffFactor ?? 1.15,
    backoffSeconds: source.backoffSeconds ?? 1,
    constraints: source.constraints ?? [],
    cpus: source.cpus ?? 1,
    disk: source.disk ?? 0,
    env: source.env ?? {},
    executor: source.executor ?? '',
    fetch: source.fetch ?? fetchFromUris(source.uris),
    gpus: source.gpus ?? 0,
    healthChecks: Array.isArray(source.healthChecks) ? source.healthChecks.map(normalizeHealthCheck) : [],
    instances: source.instances ?? 1,
    killSelection: source.killSelection ?? 'YOUNGEST_FIRST',
    labels: source.labels ?? {},
    maxLaunchDelaySeconds: source.maxLaunchDelaySeconds ?? 300,
    mem: source.mem ?? 128,
    networks,
    requirePorts: source.requirePorts ?? false,
    role: source.role ?? '*',
    unreachableStrategy: source.unreachableStrategy ?? { inactiveAfterSeconds: 0, expungeAfterSeconds: 0 },
    upgradeStrategy: {
      minimumHealthCapacity: 1,
      maximumOverCapacity: 1,
      ...(isJsonObject(source.upgradeStrategy) ? source.upgradeStrategy : {}),
    },
  };
  for (const key of ['cmd', 'args', 'user', 'acceptedResourceRoles', 'dependencies', 'readinessChecks', 'secrets',
    'taskKillGracePeriodSeconds', 'check', 'resourceLimits', 'executorResources', 'tty', 'residency']) {
    const value = source[key];
    if (value !== undefined) app[key] = value;
  }
  if (container) app.container = container;

  let portIndex = 0;
  const servicePort = (requested: Json | undefined): number => {
    const reused = ports.previous[portIndex++];
    if (typeof requested === 'number' && requested !== 0) return requested;
    return reused ?? ports.allocate();
  };
  if (hostMode) {
    const definitions = Array.isArray(source.portDefinitions)
      ? source.portDefinitions
      : Array.isArray(source.ports)
        ? source.ports.map((port) => ({ port }))
        : [{ port: 0, name: 'default' }];
    app.portDefinitions = definitions.map((definition) => {
      const d = isJsonObject(definition) ? definition : {};
      return { protocol: 'tcp', ...d, port: servicePort(d.port) };
    });
  } else if (container && Array.isArray(container.portMappings)) {
    container.portMappings = container.portMappings.map((mapping) => {
      const m = isJsonObject(mapping) ? mapping : {};
      return { protocol: 'tcp', hostPort: 0, ...m, servicePort: servicePort(m.servicePort) };
    });
  }
  return sortKeys(app) as JsonObject;
}

function normalizeContainer(raw: JsonObject): JsonObject {
  const container: JsonObject = { type: 'DOCKER', volumes: [], ...raw };
  if (isJsonObject(raw.docker)) {
    const { network: _network, portMappings, ...docker } = raw.docker;
    container.docker = { forcePullImage: false, parameters: [], privileged: false, ...docker };
    // Deprecated docker.portMappings move to container.portMappings (Marathon's 1.5 migration).
    if (Array.isArray(portMappings) && container.portMappings === undefined) container.portMappings = portMappings;
  }
  return container;
}

function normalizeNetworks(source: JsonObject): Json[] {
  if (Array.isArray(source.networks) && source.networks.length > 0) return source.networks;
  const legacy = isJsonObject(source.container) && isJsonObject(source.container.docker)
    ? source.container.docker.network
    : undefined;
  if (legacy === 'BRIDGE') return [{ mode: 'container/bridge' }];
  if (legacy === 'USER' || isJsonObject(source.ipAddress)) {
    const name = isJsonObject(source.ipAddress) ? source.ipAddress.networkName : undefined;
    return [typeof name === 'string' ? { mode: 'container', name } : { mode: 'container' }];
  }
  return [{ mode: 'host' }];
}

function fetchFromUris(uris: Json | undefined): Json[] {
  if (!Array.isArray(uris)) return [];
  return uris.map((uri) => ({ uri, extract: true, executable: false, cache: false }));
}

function normalizeHealthCheck(raw: Json): Json {
  if (!isJsonObject(raw)) return raw;
  const protocol = typeof raw.protocol === 'string' ? raw.protocol : 'HTTP';
  const check: JsonObject = {
    gracePeriodSeconds: 300,
    intervalSeconds: 60,
    maxConsecutiveFailures: 3,
    timeoutSeconds: 20,
    delaySeconds: 15,
    ...raw,
    protocol,
  };
  if (['HTTP', 'HTTPS', 'MESOS_HTTP', 'MESOS_HTTPS'].includes(protocol) && check.path === undefined) check.path = '/';
  if (protocol !== 'COMMAND' && check.port === undefined && check.portIndex === undefined) check.portIndex = 0;
  return check;
}

function sortKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isJsonObject(value)) return value;
  const sorted: JsonObject = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys(value[key] as Json);
  return sorted;
}

/** The service ports a canonical definition holds, in order (portDefinitions or container.portMappings). */
export function servicePortsOf(definition: JsonObject): number[] {
  const fromList = (list: Json | undefined, field: string): number[] =>
    Array.isArray(list)
      ? list.flatMap((item) => (isJsonObject(item) && typeof item[field] === 'number' ? [item[field] as number] : []))
      : [];
  if (Array.isArray(definition.portDefinitions)) return fromList(definition.portDefinitions, 'port');
  const container = definition.container;
  return isJsonObject(container) ? fromList(container.portMappings, 'servicePort') : [];
}

/** How many host ports each task gets. */
export function hostPortCount(definition: JsonObject): number {
  if (Array.isArray(definition.portDefinitions)) return definition.portDefinitions.length;
  const container = definition.container;
  if (isJsonObject(container) && Array.isArray(container.portMappings)) {
    return container.portMappings.filter((m) => isJsonObject(m) && m.hostPort !== undefined).length;
  }
  return 0;
}

/** Marathon's AppDefinition.isUpgrade / isOnlyScaleChange, over canonical definitions. */
export type ChangeKind = 'none' | 'scale' | 'config';

export function classifyChange(from: JsonObject, to: JsonObject): ChangeKind {
  const { instances: fromInstances, ...fromConfig } = from;
  const { instances: toInstances, ...toConfig } = to;
  if (!isDeepStrictEqual(fromConfig, toConfig)) return 'config';
  return fromInstances === toInstances ? 'none' : 'scale';
}

export function instancesOf(definition: JsonObject): number {
  return typeof definition.instances === 'number' ? definition.instances : 1;
}

export function hasHealthChecks(definition: JsonObject): boolean {
  return Array.isArray(definition.healthChecks) && definition.healthChecks.length > 0;
}

export interface UpgradeStrategy {
  minimumHealthCapacity: number;
  maximumOverCapacity: number;
}

export function upgradeStrategyOf(definition: JsonObject): UpgradeStrategy {
  const strategy = isJsonObject(definition.upgradeStrategy) ? definition.upgradeStrategy : {};
  return {
    minimumHealthCapacity: typeof strategy.minimumHealthCapacity === 'number' ? strategy.minimumHealthCapacity : 1,
    maximumOverCapacity: typeof strategy.maximumOverCapacity === 'number' ? strategy.maximumOverCapacity : 1,
  };
}

export function killSelectionOf(definition: JsonObject): 'YOUNGEST_FIRST' | 'OLDEST_FIRST' {
  return definition.killSelection === 'OLDEST_FIRST' ? 'OLDEST_FIRST' : 'YOUNGEST_FIRST';
}

export const BEHAVIOUR_LABEL = 'EMULATOR_BEHAVIOUR';

/**
 * Failure injection, chosen by the definition so a real deploy can trigger it: the EMULATOR_BEHAVIOUR label wins,
 * otherwise the Docker image tag (after the last ':' of the last path segment) containing one of BEHAVIOURS.
 */
export function behaviourOf(definition: JsonObject): Behaviour {
  const labels = isJsonObject(definition.labels) ? definition.labels : {};
  const label = labels[BEHAVIOUR_LABEL];
  const named = BEHAVIOURS.find((behaviour) => behaviour === label);
  if (named) return named;
  const container = isJsonObject(definition.container) ? definition.container : {};
  const image = isJsonObject(container.docker) && typeof container.docker.image === 'string' ? container.docker.image : '';
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  const tag = colon >= 0 ? lastSegment.slice(colon + 1).split('@')[0] ?? '' : '';
  return BEHAVIOURS.find((behaviour) => tag.includes(behaviour)) ?? 'normal';
}
