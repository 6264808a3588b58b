import { constraintOperators, isExternalVolume, isPersistentVolume, isSecretVolume, type App, type Volume } from './app-schema.js';
import { checkLegacyNetworking, checkNetworking, effectiveNetworking, type EffectiveNetworking, type RuleResult } from './app-networking.js';
import { childPointer, type Issue } from './issue.js';

// Rules that involve more than one field, as Marathon 1.10 applies them (AppValidation, SchedulingValidation,
// EnvVarValidation, NetworkValidation, AppNormalization). They run on a definition whose shape already passed
// app-schema.ts, so every field has its declared type here.

export function checkAppRules(app: App): RuleResult {
  const legacy = checkLegacyNetworking(app);
  const view = effectiveNetworking(app);
  const networking = checkNetworking(app, view);
  const errors: Issue[] = [
    ...legacy.errors,
    ...networking.errors,
    ...checkId(app),
    ...checkCommand(app),
    ...checkContainer(app),
    ...checkSecretReferences(app),
    ...checkHealthChecks(app, view),
    ...checkReadinessChecks(app, view),
    ...checkConstraints(app),
    ...checkUpgradeStrategy(app),
    ...checkMisc(app),
  ];
  return { errors, warnings: [...legacy.warnings, ...networking.warnings] };
}

function checkId(app: App): Issue[] {
  if (/^\/+$/.test(app.id)) return [{ path: '/id', message: 'is the root group "/": expected an app id such as "/shop/web"' }];
  return [];
}

/** Exactly one of cmd and args, unless a container image provides the command; never both. */
function checkCommand(app: App): Issue[] {
  const hasCmd = app.cmd != null;
  const hasArgs = app.args != null && app.args.length > 0;
  const hasImage = app.container?.docker != null;
  if (hasCmd && hasArgs) return [{ path: '/args', message: 'cannot be combined with cmd: set either cmd (a shell command line) or args (an argv array)' }];
  if (!hasCmd && !hasArgs && !hasImage) {
    return [{ path: '/', message: 'has nothing to run: expected cmd, args, or a container with a Docker image (container.docker.image)' }];
  }
  return [];
}

function checkContainer(app: App): Issue[] {
  const container = app.container;
  if (container == null) return [];
  const issues: Issue[] = [];
  const engine = container.type ?? 'DOCKER';
  const docker = container.docker;
  if (engine === 'DOCKER' && docker == null) {
    issues.push({ path: '/container/docker', message: 'is required for container.type DOCKER (the default): expected {"image": "<image>"}' });
  }
  if (docker?.pullConfig != null) {
    if (engine === 'DOCKER') {
      issues.push({ path: '/container/docker/pullConfig', message: 'is not supported by the DOCKER containerizer: use container.type MESOS' });
    } else if (app.secrets?.[docker.pullConfig.secret] == null) {
      issues.push({ path: '/container/docker/pullConfig/secret', message: undefinedSecret(docker.pullConfig.secret) });
    }
  }
  if ((app.gpus ?? 0) > 0 && engine === 'DOCKER') {
    issues.push({ path: '/gpus', message: 'GPU resources only work with the Mesos containerizer: set container.type MESOS' });
  }
  const volumes = container.volumes ?? [];
  const externalNames = new Set<string>();
  volumes.forEach((volume, index) => {
    const pointer = `/container/volumes/${index}`;
    const kinds = (['persistent', 'external', 'secret', 'hostPath'] as const).filter((kind) => kind in volume && (volume as Record<string, unknown>)[kind] != null);
    if (kinds.length > 1) {
      issues.push({ path: pointer, message: `combines ${kinds.join(' and ')}: a volume is exactly one of host, persistent, external or secret` });
      return;
    }
    issues.push(...checkVolume(app, volume, pointer));
    if (isExternalVolume(volume) && volume.external.name != null) {
      if (externalNames.has(volume.external.name)) {
        issues.push({ path: `${pointer}/external/name`, message: `repeats the volume name "${volume.external.name}": external volume names must be unique` });
      }
      externalNames.add(volume.external.name);
    }
  });
  return issues;
}

function checkVolume(app: App, volume: Volume, pointer: string): Issue[] {
  const issues: Issue[] = [];
  if (isPersistentVolume(volume)) {
    const info = volume.persistent;
    if (volume.containerPath.includes('/') || volume.containerPath === '.' || volume.containerPath === '..') {
      issues.push({ path: `${pointer}/containerPath`, message: 'is not a plain directory name: a persistent volume path must not contain "/" (it is relative to the sandbox)' });
    }
    if (volume.mode !== 'RW') issues.push({ path: `${pointer}/mode`, message: `is "${volume.mode}": persistent volumes must be "RW"` });
    if (info.size <= 0) issues.push({ path: `${pointer}/persistent/size`, message: `is ${info.size}: expected a size in MiB greater than 0` });
    if (info.maxSize != null && info.type !== 'mount') {
      issues.push({ path: `${pointer}/persistent/maxSize`, message: 'is only allowed for persistent volumes of type "mount"' });
    }
    if (info.maxSize != null && info.maxSize <= info.size) {
      issues.push({ path: `${pointer}/persistent/maxSize`, message: `is ${info.maxSize}: expected a number greater than size (${info.size})` });
    }
    const constraints = info.constraints ?? [];
    if (constraints.length > 0 && (info.type ?? 'root') === 'root') {
      issues.push({ path: `${pointer}/persistent/constraints`, message: 'are not supported on root volumes: set persistent.type to "path" or "mount"' });
    }
    constraints.forEach((constraint, index) => {
      const at = `${pointer}/persistent/constraints/${index}`;
      const [field, operator, value] = constraint;
      if (field !== 'path' || value === undefined) {
        issues.push({ path: at, message: 'is not supported: expected ["path", "LIKE" or "UNLIKE", "<regular expression>"]' });
      } else if (operator !== 'LIKE' && operator !== 'UNLIKE') {
        issues.push({ path: `${at}/1`, message: `is "${operator}": expected "LIKE" or "UNLIKE"` });
      } else {
        const problem = regexProblem(value);
        if (problem) issues.push({ path: `${at}/2`, message: `is not a valid regular expression: ${problem}` });
      }
    });
  } else if (isExternalVolume(volume)) {
    const info = volume.external;
    if (!info.name) issues.push({ path: `${pointer}/external/name`, message: 'is required: expected the name of the external volume' });
    if (!info.provider) issues.push({ path: `${pointer}/external/provider`, message: 'is required: expected the volume provider, e.g. "dvdi"' });
    if (info.provider === 'dvdi' && (app.instances ?? 1) > 1) {
      issues.push({ path: '/instances', message: `is ${app.instances}: an app with a DVDI external volume may have at most 1 instance` });
    }
  } else if (isSecretVolume(volume)) {
    if (app.secrets?.[volume.secret] == null) issues.push({ path: `${pointer}/secret`, message: undefinedSecret(volume.secret) });
  }
  return issues;
}

function undefinedSecret(name: string): string {
  return `refers to the secret "${name}" that is not declared: add it under "secrets" ({"${name}": {"source": "..."}})`;
}

function checkSecretReferences(app: App): Issue[] {
  const issues: Issue[] = [];
  for (const [name, value] of Object.entries(app.env ?? {})) {
    if (typeof value === 'object' && value !== null && app.secrets?.[value.secret] == null) {
      issues.push({ path: childPointer('/env', name, 'secret'), message: undefinedSecret(value.secret) });
    }
  }
  return issues;
}

const marathonProtocols = new Set(['HTTP', 'HTTPS', 'TCP']);
const mesosProtocols = new Set(['MESOS_HTTP', 'MESOS_HTTPS', 'MESOS_TCP']);

function checkHealthChecks(app: App, view: EffectiveNetworking): Issue[] {
  const issues: Issue[] = [];
  const checks = app.healthChecks ?? [];
  const isDocker = view.engine === 'DOCKER';
  let mesosChecks = 0;
  checks.forEach((check, index) => {
    const pointer = `/healthChecks/${index}`;
    const protocol = check.protocol ?? 'HTTP';
    if (protocol === 'COMMAND' && check.command == null) {
      issues.push({ path: `${pointer}/command`, message: 'is required for protocol COMMAND: expected {"value": "<shell command>"}' });
    }
    if (check.command == null && mesosProtocols.has(protocol)) mesosChecks++;
    if (check.command == null && marathonProtocols.has(protocol) && check.port == null) {
      const portIndex = check.portIndex ?? 0;
      if (portIndex >= view.ports.length) {
        issues.push({
          path: check.portIndex != null ? `${pointer}/portIndex` : pointer,
          message:
            view.ports.length === 0
              ? 'has no port to check: the app declares no ports; set "port", or declare ports (portDefinitions or container.portMappings)'
              : `${check.portIndex != null ? `is ${portIndex}` : 'defaults to portIndex 0'}: expected an index into the app's ${view.ports.length} port(s) (0..${view.ports.length - 1})`,
        });
      }
    }
    if ((check.ipProtocol ?? 'IPv4') === 'IPv6' && !(mesosProtocols.has(protocol) && isDocker)) {
      issues.push({ path: `${pointer}/ipProtocol`, message: 'is IPv6: only MESOS_HTTP, MESOS_HTTPS and MESOS_TCP checks of DOCKER containers support IPv6' });
    }
  });
  if (mesosChecks > 1) {
    issues.push({ path: '/healthChecks', message: `has ${mesosChecks} Mesos health checks (MESOS_HTTP, MESOS_HTTPS, MESOS_TCP): at most one is allowed` });
  }
  const appCheck = app.check;
  if (appCheck != null) {
    const kinds = (['http', 'tcp', 'exec'] as const).filter((kind) => appCheck[kind] != null);
    if (kinds.length !== 1) issues.push({ path: '/check', message: `specifies ${kinds.length === 0 ? 'no' : kinds.join(' and ')} check: expected exactly one of http, tcp or exec` });
  }
  return issues;
}

function checkReadinessChecks(app: App, view: EffectiveNetworking): Issue[] {
  const checks = app.readinessChecks ?? [];
  const issues: Issue[] = [];
  if (checks.length > 1) issues.push({ path: '/readinessChecks', message: `has ${checks.length} readiness checks: at most one is allowed` });
  const portNames = view.ports.map((port) => port.name).filter((name): name is string => name != null);
  checks.forEach((check, index) => {
    const pointer = `/readinessChecks/${index}`;
    const portName = check.portName ?? 'http-api';
    if (!portNames.includes(portName)) {
      issues.push({
        path: check.portName != null ? `${pointer}/portName` : pointer,
        message: `${check.portName != null ? `is "${portName}"` : 'defaults to portName "http-api"'}: expected the name of one of the app's ports (${portNames.length ? portNames.map((n) => `"${n}"`).join(', ') : 'none are named'})`,
      });
    }
    const timeout = check.timeoutSeconds ?? 10;
    const interval = check.intervalSeconds ?? 30;
    if (timeout >= interval) {
      issues.push({ path: `${pointer}/timeoutSeconds`, message: `is ${timeout}: expected less than intervalSeconds (${interval})` });
    }
  });
  return issues;
}

const integerPattern = /^[+-]?\d+$/;
const isInt32 = (text: string) => integerPattern.test(text) && Math.abs(Number(text)) <= 2 ** 31;

/** [field, OPERATOR, value?] as SchedulingValidation.complyWithConstraintRules checks them. */
function checkConstraints(app: App): Issue[] {
  const issues: Issue[] = [];
  (app.constraints ?? []).forEach((constraint, index) => {
    const pointer = `/constraints/${index}`;
    const [field, rawOperator, value] = constraint;
    if (!field) {
      issues.push({ path: `${pointer}/0`, message: 'is empty: expected the attribute to constrain on, e.g. "hostname"' });
      return;
    }
    const operator = (rawOperator ?? '').toUpperCase();
    if (!(constraintOperators as readonly string[]).includes(operator)) {
      issues.push({ path: `${pointer}/1`, message: `is "${rawOperator}": expected one of ${constraintOperators.join(', ')}` });
      return;
    }
    const valuePointer = `${pointer}/2`;
    switch (operator) {
      case 'UNIQUE':
        if (value !== undefined) issues.push({ path: valuePointer, message: 'is not allowed: UNIQUE takes no value' });
        break;
      case 'GROUP_BY':
        if (value !== undefined && !isInt32(value)) {
          issues.push({ path: valuePointer, message: `is "${value}": GROUP_BY takes an integer (how many distinct values to expect) or no value` });
        }
        break;
      case 'MAX_PER':
        if (value === undefined || !isInt32(value)) {
          issues.push({ path: value === undefined ? pointer : valuePointer, message: `${value === undefined ? 'has no value' : `is "${value}"`}: MAX_PER requires an integer value, e.g. "2"` });
        }
        break;
      case 'LIKE':
      case 'UNLIKE': {
        if (value === undefined) {
          issues.push({ path: pointer, message: `has no value: ${operator} requires a regular expression, e.g. "rack-[1-3]"` });
          break;
        }
        const problem = regexProblem(value);
        if (problem) issues.push({ path: valuePointer, message: `is not a valid regular expression: ${problem}` });
        break;
      }
      case 'IS':
        if (!/^[a-zA-Z0-9_/.-]*$/.test(value ?? '')) {
          issues.push({ path: valuePointer, message: `is "${value}": IS only supports Mesos text and scalar values (letters, digits, "_", "/", ".", "-")` });
        }
        break;
      default:
        break;
    }
  });
  return issues;
}

/**
 * Marathon compiles these with java.util.regex. JavaScript's RegExp understands nearly the same syntax; the Java-only
 * constructs (inline flags, possessive quantifiers, atomic groups) are rewritten so they do not count as errors.
 */
export function regexProblem(pattern: string): string | undefined {
  const portable = pattern
    .replace(/\(\?[idmsuxU-]+\)/g, '')
    .replace(/\(\?[idmsuxU-]+:/g, '(?:')
    .replace(/\(\?>/g, '(?:')
    .replace(/([*+?}])\+/g, '$1');
  try {
    new RegExp(portable);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message.replace(/^Invalid regular expression: /, '') : String(error);
  }
}

function checkUpgradeStrategy(app: App): Issue[] {
  const issues: Issue[] = [];
  const strategy = app.upgradeStrategy;
  const singleInstance = app.labels?.MARATHON_SINGLE_INSTANCE_APP === 'true';
  const volumes = app.container?.volumes ?? [];
  const persistent = volumes.some(isPersistentVolume);
  const dvdi = volumes.some((volume) => isExternalVolume(volume) && volume.external.provider === 'dvdi');
  const resident = persistent || app.residency != null;

  if (singleInstance && (app.instances ?? 1) > 1) {
    issues.push({ path: '/instances', message: `is ${app.instances}: an app labelled MARATHON_SINGLE_INSTANCE_APP=true may have at most 1 instance` });
  }
  if (strategy == null) return issues;
  const maximumOverCapacity = strategy.maximumOverCapacity ?? 1;
  const minimumHealthCapacity = strategy.minimumHealthCapacity ?? 1;
  const describe = (field: string, value: number) => (strategy[field as keyof typeof strategy] == null ? `is not set (defaults to ${value})` : `is ${value}`);
  if (singleInstance) {
    if (minimumHealthCapacity !== 0) {
      issues.push({ path: '/upgradeStrategy/minimumHealthCapacity', message: `${describe('minimumHealthCapacity', minimumHealthCapacity)}: must be 0 for an app labelled MARATHON_SINGLE_INSTANCE_APP=true` });
    }
    if (maximumOverCapacity !== 0) {
      issues.push({ path: '/upgradeStrategy/maximumOverCapacity', message: `${describe('maximumOverCapacity', maximumOverCapacity)}: must be 0 for an app labelled MARATHON_SINGLE_INSTANCE_APP=true` });
    }
  } else if ((resident || dvdi) && maximumOverCapacity !== 0) {
    issues.push({
      path: '/upgradeStrategy/maximumOverCapacity',
      message: `${describe('maximumOverCapacity', maximumOverCapacity)}: must be 0 for an app with ${resident ? 'persistent volumes' : 'a DVDI external volume'} (old and new tasks cannot share the volume)`,
    });
  }
  return issues;
}

function checkMisc(app: App): Issue[] {
  const issues: Issue[] = [];
  const volumes = app.container?.volumes ?? [];
  const resident = app.residency != null || volumes.some(isPersistentVolume);
  if (resident && app.unreachableStrategy != null && app.unreachableStrategy !== 'disabled') {
    issues.push({ path: '/unreachableStrategy', message: 'must be "disabled" for an app with persistent volumes' });
  }
  const unreachable = app.unreachableStrategy;
  if (unreachable != null && unreachable !== 'disabled') {
    const inactive = unreachable.inactiveAfterSeconds ?? 0;
    const expunge = unreachable.expungeAfterSeconds ?? 0;
    if (inactive > expunge) {
      issues.push({ path: '/unreachableStrategy/inactiveAfterSeconds', message: `is ${inactive}: expected at most expungeAfterSeconds (${expunge})` });
    }
  }
  if (app.acceptedResourceRoles != null && app.acceptedResourceRoles.length === 0) {
    issues.push({ path: '/acceptedResourceRoles', message: 'is empty: expected at least one role (e.g. ["*"]), or leave the field out' });
  }
  const labels = app.labels ?? {};
  if (labels.DCOS_MIGRATION_API_VERSION) {
    if (labels.DCOS_MIGRATION_API_VERSION !== 'v1' || !labels.DCOS_PACKAGE_FRAMEWORK_NAME || !labels.DCOS_MIGRATION_API_PATH) {
      issues.push({
        path: '/labels/DCOS_MIGRATION_API_VERSION',
        message: 'needs the value "v1" and the labels DCOS_PACKAGE_FRAMEWORK_NAME and DCOS_MIGRATION_API_PATH',
      });
    }
  }
  return issues;
}
