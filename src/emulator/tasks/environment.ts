// The environment a Mesos agent gives a task Marathon launched (mesosphere/mesos/TaskBuilder.commandInfo,
// EnvironmentHelper.portsEnv and labelsToEnvVars), and the command it runs. Pure functions over the app definition.
import { isJsonObject, type Json, type JsonObject } from '../definition.js';

export interface TaskContext {
  taskId: string;
  /** The app version the task was launched from. */
  version: string;
  host: string;
  /** Host ports by index (null: a port mapping without a host port). */
  hostPorts: (number | null)[];
}

interface PortRequest {
  name: string | undefined;
  /** A container port (with port mappings) or else the port of the port definition; 0 = any. */
  port: number;
}

const MAX_ENV_LENGTH = 512;
const LABEL_PREFIX = 'MARATHON_APP_LABEL_';

/** Every variable Marathon puts into the task's CommandInfo: task context, labels, ports, HOST, then the app's `env`. */
export function taskEnvironment(definition: JsonObject, context: TaskContext, random: () => number = Math.random): Record<string, string> {
  const env: Record<string, string> = {
    ...taskContextEnv(definition, context),
    ...portsEnv(declaredPorts(definition), context.hostPorts, random),
    HOST: context.host,
  };
  // Only plain strings: {"secret": ...} values are secret references, which the emulator does not resolve.
  if (isJsonObject(definition.env)) for (const [key, value] of Object.entries(definition.env)) if (typeof value === 'string') env[key] = value;
  return env;
}

function taskContextEnv(definition: JsonObject, context: TaskContext): Record<string, string> {
  const env: Record<string, string> = {
    MESOS_TASK_ID: context.taskId,
    MARATHON_APP_ID: String(definition.id),
    MARATHON_APP_VERSION: context.version,
    MARATHON_APP_RESOURCE_CPUS: scalaDouble(definition.cpus, 1),
    MARATHON_APP_RESOURCE_MEM: scalaDouble(definition.mem, 128),
    MARATHON_APP_RESOURCE_DISK: scalaDouble(definition.disk, 0),
    MARATHON_APP_RESOURCE_GPUS: String(typeof definition.gpus === 'number' ? definition.gpus : 0),
    MARATHON_APP_ENFORCE_GROUP_ROLE: 'FALSE',
  };
  const image = dockerImageOf(definition);
  if (image !== undefined) env.MARATHON_APP_DOCKER_IMAGE = image;
  return { ...env, ...labelsEnv(isJsonObject(definition.labels) ? definition.labels : {}) };
}

/** Scala's Double.toString: 1 → "1.0", 0.25 → "0.25". */
function scalaDouble(value: Json | undefined, fallback: number): string {
  const number = typeof value === 'number' ? value : fallback;
  return Number.isInteger(number) ? `${number}.0` : String(number);
}

export function dockerImageOf(definition: JsonObject): string | undefined {
  const container = definition.container;
  if (!isJsonObject(container) || !isJsonObject(container.docker)) return undefined;
  return typeof container.docker.image === 'string' ? container.docker.image : undefined;
}

/** EnvironmentHelper.labelsToEnvVars: names escaped to [A-Z0-9_], labels too long for the environment left out. */
function labelsEnv(labels: JsonObject): Record<string, string> {
  const escape = (name: string) => name.replace(/[^a-zA-Z0-9_]+/g, '_').toUpperCase();
  const valid = Object.entries(labels).flatMap(([key, value]) =>
    typeof value === 'string' && key.length < MAX_ENV_LENGTH - LABEL_PREFIX.length && value.length < MAX_ENV_LENGTH
      ? [[escape(key), value] as const]
      : [],
  );
  const env: Record<string, string> = { MARATHON_APP_LABELS: valid.map(([key]) => key).join(' ') };
  for (const [key, value] of valid) env[`${LABEL_PREFIX}${key}`] = value;
  return env;
}

/** Port mappings when the container has any, else the port definitions. */
function declaredPorts(definition: JsonObject): PortRequest[] {
  const container = definition.container;
  const request = (item: Json, field: string): PortRequest => {
    const object = isJsonObject(item) ? item : {};
    return { name: typeof object.name === 'string' ? object.name : undefined, port: typeof object[field] === 'number' ? object[field] : 0 };
  };
  if (isJsonObject(container) && Array.isArray(container.portMappings) && container.portMappings.length > 0) {
    return container.portMappings.map((mapping) => request(mapping, 'containerPort'));
  }
  return Array.isArray(definition.portDefinitions) ? definition.portDefinitions.map((port) => request(port, 'port')) : [];
}

/** EnvironmentHelper.portsEnv: PORT<i>, PORT_<requested port>, PORT_<NAME>, PORT and PORTS. */
export function portsEnv(requested: PortRequest[], hostPorts: (number | null)[], random: () => number = Math.random): Record<string, string> {
  if (hostPorts.length === 0) return {};
  const env: Record<string, string> = {};
  const consumed = new Set<number>([...requested.map((r) => r.port), ...hostPorts.filter((p): p is number => p !== null)]);
  const generated = new Map<number, number>();
  const nextContainerPort = (): number => {
    for (;;) {
      const port = Math.floor(random() * (65535 - 1024)) + 1025;
      if (!consumed.has(port)) {
        consumed.add(port);
        return port;
      }
    }
  };
  hostPorts.forEach((hostPort, index) => {
    const request = requested[index];
    if (hostPort !== null) env[`PORT${index}`] = String(hostPort);
    else if (request && request.port === 0) {
      const port = nextContainerPort();
      generated.set(index, port);
      env[`PORT${index}`] = String(port);
    } else if (request) env[`PORT${index}`] = String(request.port);
  });
  const effective = (index: number): number | undefined => hostPorts[index] ?? generated.get(index) ?? requested[index]?.port;
  requested.forEach((request, index) => {
    if (index >= hostPorts.length) return;
    const port = effective(index);
    if (port === undefined) return;
    env[`PORT_${request.port !== 0 ? request.port : port}`] = String(port);
  });
  requested.forEach((request, index) => {
    if (index >= hostPorts.length || request.name === undefined) return;
    const port = effective(index);
    if (port !== undefined) env[`PORT_${request.name.toUpperCase()}`] = String(port);
  });
  const assigned = [...hostPorts.filter((p): p is number => p !== null), ...generated.values()];
  if (assigned[0] !== undefined) env.PORT = String(assigned[0]);
  env.PORTS = assigned.join(',');
  return env;
}

/** Which host ports a task asks for: a fixed port, 0 for any free one, null for a port mapping without a host port. */
export function hostPortRequests(definition: JsonObject): (number | null)[] {
  if (Array.isArray(definition.portDefinitions)) {
    const fixed = definition.requirePorts === true;
    return definition.portDefinitions.map((item) => (fixed && isJsonObject(item) && typeof item.port === 'number' ? item.port : 0));
  }
  const container = definition.container;
  if (!isJsonObject(container) || !Array.isArray(container.portMappings)) return [];
  return container.portMappings.map((mapping) =>
    isJsonObject(mapping) && typeof mapping.hostPort === 'number' ? mapping.hostPort : null,
  );
}

export type TaskCommand = { argv: string[] } | { error: string };

/**
 * What the task runs, as Mesos' command executor would: `cmd` through `sh -c`, or `args` as argv. A Docker image
 * cannot run here: `imageCommand` (run through `sh -c`, the app's `args` appended) stands in for `docker run <image>`.
 */
export function taskCommand(definition: JsonObject, imageCommand: string | undefined): TaskCommand {
  const args = Array.isArray(definition.args) ? definition.args.filter((a): a is string => typeof a === 'string') : [];
  const cmd = typeof definition.cmd === 'string' && definition.cmd !== '' ? definition.cmd : undefined;
  const image = dockerImageOf(definition);
  if (image !== undefined) {
    if (cmd !== undefined) return { argv: ['sh', '-c', cmd] };
    if (imageCommand === undefined) {
      return { error: `cannot run the Docker image ${image} here: give the emulator an image command (--image-command) that stands in for it` };
    }
    return { argv: ['sh', '-c', `${imageCommand} "$@"`, 'image-command', ...args] };
  }
  if (args.length > 0) return { argv: args };
  if (cmd !== undefined) return { argv: ['sh', '-c', cmd] };
  return { error: 'the app has neither cmd nor args nor a Docker image' };
}
