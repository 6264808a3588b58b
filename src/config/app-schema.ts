import { z } from 'zod';

// The shape of a Marathon 1.10 app definition, field by field as the RAML types declare it
// (v1.10.26/raml/v2/types: app.raml, appContainer.raml, network.raml, healthCheck.raml, ...).
// Objects are loose: Marathon ignores unknown fields, so they are warnings (see unknown-fields.ts), not errors.
// Optional fields accept null because Marathon's JSON reader treats null as absent.
// Rules that involve more than one field live in app-rules.ts.

const optional = <T extends z.ZodType>(schema: T) => schema.nullish();
const object = <S extends z.ZodRawShape>(shape: S) => z.looseObject(shape);

function bounded(schema: z.ZodNumber, what: string, min?: number, max?: number): z.ZodNumber {
  const expected =
    min !== undefined && max !== undefined
      ? `expected ${what} between ${min} and ${max}`
      : min !== undefined
        ? `expected ${what} >= ${min}`
        : `expected ${what} <= ${max}`;
  let result = schema;
  if (min !== undefined) result = result.min(min, { error: `is less than ${min}: ${expected}` });
  if (max !== undefined) result = result.max(max, { error: `is greater than ${max}: ${expected}` });
  return result;
}

const number = (min?: number, max?: number) => bounded(z.number(), 'a number', min, max);
const integer = (min?: number, max?: number) => bounded(z.int(), 'an integer', min, max);
const port = bounded(z.int(), 'a port number', 0, 65535);
const string = z.string();
const nonEmptyString = z.string().min(1);
const boolean = z.boolean();

export const pathIdPattern =
  /^(\/?((\.\.)|(([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9]))?($|\/))+$/;

export const pathId = z
  .string()
  .min(1)
  .regex(pathIdPattern, {
    error:
      'is not a valid id: expected names of lowercase letters, digits, dashes and dots separated by "/", ' +
      'each starting and ending with a letter or digit (e.g. "/shop/web")',
  });

const nameRule = 'lowercase letters, digits and dashes, starting and ending with a letter or digit';
const legacyName = z.string().min(1).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { error: `is not a valid name: expected ${nameRule} (e.g. "http")` });
const name = legacyName.max(63);
const networkName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9_]*[a-z0-9])?$/, { error: `is not a valid network name: expected ${nameRule} or underscores` });
const uri = z.string().min(1).max(1024);
const labels = z.record(z.string(), z.string());
const networkProtocol = z.enum(['tcp', 'udp', 'udp,tcp']);
const readMode = z.enum(['RO', 'RW']);
const httpScheme = z.enum(['HTTP', 'HTTPS']);

export const healthCheckProtocols = ['HTTP', 'HTTPS', 'TCP', 'COMMAND', 'MESOS_TCP', 'MESOS_HTTP', 'MESOS_HTTPS'] as const;
export const constraintOperators = ['UNIQUE', 'CLUSTER', 'GROUP_BY', 'LIKE', 'UNLIKE', 'MAX_PER', 'IS'] as const;

const portMapping = object({
  containerPort: optional(port),
  hostPort: optional(port),
  labels: optional(labels),
  name: optional(legacyName),
  protocol: optional(networkProtocol),
  servicePort: optional(port),
  networkNames: optional(z.array(name)),
});

const dockerContainer = object({
  credential: optional(object({ principal: string, secret: optional(string) })),
  pullConfig: optional(object({ secret: nonEmptyString })),
  forcePullImage: optional(boolean),
  image: nonEmptyString,
  network: optional(z.enum(['BRIDGE', 'HOST', 'NONE', 'USER'])),
  parameters: optional(z.array(object({ key: nonEmptyString, value: string }))),
  portMappings: optional(z.array(portMapping)),
  privileged: optional(boolean),
});

const persistentVolumeInfo = object({
  type: optional(z.enum(['root', 'path', 'mount'])),
  size: integer(0),
  maxSize: optional(integer(0)),
  profileName: optional(string),
  constraints: optional(z.array(z.array(string))),
});

const persistentVolume = object({ containerPath: nonEmptyString, persistent: persistentVolumeInfo, mode: readMode });
const externalVolume = object({
  containerPath: nonEmptyString,
  external: object({
    size: optional(integer(0)),
    name: optional(string),
    provider: optional(string),
    options: optional(labels),
    shared: optional(boolean),
  }),
  mode: readMode,
});
const secretVolume = object({ containerPath: nonEmptyString, secret: nonEmptyString });
const hostVolume = object({ containerPath: nonEmptyString, hostPath: nonEmptyString, mode: readMode });

const volume = z.union([persistentVolume, externalVolume, secretVolume, hostVolume], {
  error:
    'is not a volume: expected {containerPath, hostPath, mode} (host), {containerPath, persistent: {size}, mode} ' +
    '(persistent), {containerPath, external: {...}, mode} (external) or {containerPath, secret} (secret)',
});

const container = object({
  type: optional(z.enum(['DOCKER', 'MESOS'])),
  docker: optional(dockerContainer),
  linuxInfo: optional(
    object({
      seccomp: optional(object({ profileName: optional(string), unconfined: optional(boolean) })),
      ipcInfo: optional(object({ mode: z.enum(['PRIVATE', 'SHARE_PARENT']), shmSize: optional(integer(0)) })),
    }),
  ),
  volumes: optional(z.array(volume)),
  portMappings: optional(z.array(portMapping)),
});

const network = object({
  name: optional(networkName),
  mode: optional(z.enum(['container', 'container/bridge', 'host'])),
  labels: optional(labels),
});

const ipAddress = object({
  discovery: optional(
    object({
      ports: optional(
        z.array(object({ number: optional(port), name: legacyName, protocol: optional(networkProtocol), labels: optional(labels) })),
      ),
    }),
  ),
  groups: optional(z.array(string)),
  labels: optional(labels),
  networkName: optional(nonEmptyString),
});

const portDefinition = object({
  port: optional(port),
  labels: optional(labels),
  name: optional(legacyName),
  protocol: optional(networkProtocol),
});

const healthCheck = object({
  command: optional(object({ value: string })),
  gracePeriodSeconds: optional(integer(0)),
  ignoreHttp1xx: optional(boolean),
  intervalSeconds: optional(integer(0)),
  maxConsecutiveFailures: optional(integer(0)),
  path: optional(string),
  port: optional(port),
  portIndex: optional(port),
  protocol: optional(z.enum(healthCheckProtocols)),
  ipProtocol: optional(z.enum(['IPv4', 'IPv6'])),
  timeoutSeconds: optional(integer(0)),
  delaySeconds: optional(integer(0)),
});

const mesosCommand = z.union([object({ shell: nonEmptyString }), object({ argv: z.array(string).min(1) })], {
  error: 'expected {"shell": "<command line>"} or {"argv": ["<executable>", ...]}',
});

const check = object({
  http: optional(object({ portIndex: optional(port), port: optional(port), path: optional(uri), scheme: optional(httpScheme) })),
  tcp: optional(object({ portIndex: optional(port), port: optional(port) })),
  exec: optional(object({ command: mesosCommand })),
  intervalSeconds: optional(integer(0)),
  timeoutSeconds: optional(integer(0)),
  delaySeconds: optional(integer(0)),
});

const readinessCheck = object({
  name: optional(nonEmptyString),
  protocol: optional(httpScheme),
  path: optional(uri),
  portName: optional(legacyName),
  intervalSeconds: optional(integer(0)),
  timeoutSeconds: optional(integer(1)),
  // RAML says minItems 1, but Marathon's normalization turns [] into its default ([200]).
  httpStatusCodesForReady: optional(z.array(bounded(z.int(), 'an HTTP status code', 100, 999))),
  preserveLastResponse: optional(boolean),
});

const resourceLimit = z.union([z.literal('unlimited'), z.number()], { error: 'expected a number or "unlimited"' });

export const upgradeStrategySchema = object({
  maximumOverCapacity: optional(number(0, 1)),
  minimumHealthCapacity: optional(number(0, 1)),
});

const envValue = z.union([z.string(), object({ secret: string })], {
  error: 'expected a string or {"secret": "<name of an entry in secrets>"}',
});

export const appSchema = object({
  id: pathId,
  acceptedResourceRoles: optional(z.array(string)),
  args: optional(z.array(string)),
  backoffFactor: optional(number(1)),
  backoffSeconds: optional(integer(0)),
  check: optional(check),
  cmd: optional(nonEmptyString),
  constraints: optional(
    z.array(
      z
        .array(string)
        .min(2, { error: 'expected [field, operator] or [field, operator, value]' })
        .max(3, { error: 'expected [field, operator] or [field, operator, value]' }),
    ),
  ),
  container: optional(container),
  cpus: optional(number(0.001)),
  dependencies: optional(z.array(pathId)),
  disk: optional(number(0)),
  env: optional(z.record(z.string(), envValue)),
  executor: optional(
    z.string().regex(/^(\/\/cmd|\/?[^/]+(\/[^/]+)*|)$/, { error: 'is not a valid executor: expected "//cmd", a path or ""' }),
  ),
  executorResources: optional(object({ cpus: optional(number(0.1)), mem: optional(number(32)), disk: optional(number(10)) })),
  fetch: optional(
    z.array(
      object({
        uri,
        extract: optional(boolean),
        executable: optional(boolean),
        cache: optional(boolean),
        destPath: optional(uri),
      }),
    ),
  ),
  gpus: optional(integer(0)),
  healthChecks: optional(z.array(healthCheck)),
  instances: optional(integer(0)),
  ipAddress: optional(ipAddress),
  killSelection: optional(z.enum(['YOUNGEST_FIRST', 'OLDEST_FIRST'])),
  labels: optional(labels),
  maxLaunchDelaySeconds: optional(integer(0)),
  mem: optional(number(0)),
  networks: optional(z.array(network)),
  portDefinitions: optional(z.array(portDefinition)),
  ports: optional(z.array(port)),
  readinessChecks: optional(z.array(readinessCheck)),
  requirePorts: optional(boolean),
  residency: optional(
    object({
      relaunchEscalationTimeoutSeconds: optional(integer(0)),
      taskLostBehavior: optional(z.enum(['WAIT_FOREVER', 'RELAUNCH_AFTER_TIMEOUT'])),
    }),
  ),
  resourceLimits: optional(object({ cpus: optional(resourceLimit), mem: optional(resourceLimit) })),
  role: optional(nonEmptyString),
  secrets: optional(z.record(z.string(), object({ source: nonEmptyString }))),
  taskKillGracePeriodSeconds: optional(integer(0)),
  tty: optional(boolean),
  unreachableStrategy: optional(
    z.union(
      [
        z.literal('disabled'),
        object({ inactiveAfterSeconds: optional(integer(0)), expungeAfterSeconds: optional(integer(0)) }),
      ],
      { error: 'expected "disabled" or {"inactiveAfterSeconds": <seconds>, "expungeAfterSeconds": <seconds>}' },
    ),
  ),
  upgradeStrategy: optional(upgradeStrategySchema),
  uris: optional(z.array(uri)),
  user: optional(string),
  version: optional(string),
  versionInfo: optional(object({ lastScalingAt: optional(string), lastConfigChangeAt: optional(string) })),
});

export type App = z.infer<typeof appSchema>;
export type AppContainer = NonNullable<App['container']>;
export type PortMapping = z.infer<typeof portMapping>;
export type PortDefinition = z.infer<typeof portDefinition>;
export type Network = z.infer<typeof network>;
export type HealthCheck = z.infer<typeof healthCheck>;
export type Volume = z.infer<typeof volume>;
export type PersistentVolume = z.infer<typeof persistentVolume>;
export type ExternalVolume = z.infer<typeof externalVolume>;
export type SecretVolume = z.infer<typeof secretVolume>;

// Loose objects carry an index signature, so `in` cannot tell the volume kinds apart for TypeScript.
export const isPersistentVolume = (volume: Volume): volume is PersistentVolume => volume.persistent != null;
export const isExternalVolume = (volume: Volume): volume is ExternalVolume => volume.external != null;
export const isSecretVolume = (volume: Volume): volume is SecretVolume => typeof volume.secret === 'string';
