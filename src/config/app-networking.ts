import type { App, PortDefinition, PortMapping } from './app-schema.js';
import { childPointer, type Issue } from './issue.js';

// Networking and ports, the way Marathon 1.10 sees them: the deprecated fields (container.docker.network,
// ipAddress, container.docker.portMappings, ports) are translated to the 1.5 API first (AppNormalization.forDeprecated),
// then the canonical rules apply. Marathon silently drops port mappings in host mode and port definitions in
// container modes; those cases are warnings because Marathon accepts them but the config does not do what it says.

export type NetworkMode = 'host' | 'container' | 'container/bridge';

export interface EffectiveNetwork {
  mode: NetworkMode;
  name?: string;
}

export interface PortList<T> {
  /** Where the list comes from in the definition (for messages); undefined for Marathon's default port. */
  pointer?: string;
  items: T[];
}

export interface EffectiveNetworking {
  /** Networks after translating deprecated fields; empty means the default, host networking. */
  networks: EffectiveNetwork[];
  /** The pointer of the field the networks came from. */
  networksPointer: string;
  hostMode: boolean;
  engine: 'DOCKER' | 'MESOS' | undefined;
  portMappings?: PortList<PortMapping>;
  portDefinitions?: PortList<PortDefinition>;
  /** The ports health checks index into (portIndex) and readiness checks name (portName). */
  ports: { name?: string | null }[];
}

const defaultPort = { name: 'default' };

export function effectiveNetworking(app: App): EffectiveNetworking {
  const { networks, networksPointer } = translateNetworks(app);
  const hostMode = !networks.some((network) => network.mode !== 'host');
  const container = app.container;
  const hasContainer = container != null || app.ipAddress != null;
  const engine = container != null ? (container.type ?? 'DOCKER') : app.ipAddress != null ? 'MESOS' : undefined;

  const declaredDefinitions: PortList<PortDefinition> | undefined =
    app.portDefinitions != null
      ? { pointer: '/portDefinitions', items: app.portDefinitions }
      : app.ports != null
        ? { pointer: '/ports', items: app.ports.map((port) => ({ port })) }
        : undefined;
  const portDefinitions = hostMode ? (declaredDefinitions ?? { items: [defaultPort] }) : undefined;

  let portMappings = declaredPortMappings(app);
  if (hostMode) portMappings = undefined;
  else if (hasContainer) {
    portMappings ??= { items: [{ containerPort: 0, ...defaultPort }] };
    const missing = (declaredDefinitions?.items.length ?? 0) - portMappings.items.length;
    if (missing > 0) portMappings = { ...portMappings, items: [...portMappings.items, ...Array.from({ length: missing }, () => ({}))] };
  } else portMappings = undefined;

  const ports = portMappings?.items ?? portDefinitions?.items ?? [];
  return { networks, networksPointer, hostMode, engine, portMappings, portDefinitions, ports };
}

function translateNetworks(app: App): { networks: EffectiveNetwork[]; networksPointer: string } {
  if (app.networks != null && app.networks.length > 0) {
    return {
      networks: app.networks.map((network) => ({ mode: network.mode ?? 'container', name: network.name ?? undefined })),
      networksPointer: '/networks',
    };
  }
  const dockerNetwork = app.container?.docker?.network;
  const ipNetworkName = app.ipAddress?.networkName ?? undefined;
  switch (dockerNetwork) {
    case 'HOST':
      return { networks: [{ mode: 'host' }], networksPointer: '/container/docker/network' };
    case 'BRIDGE':
      return { networks: [{ mode: 'container/bridge' }], networksPointer: '/container/docker/network' };
    case 'USER':
      return { networks: [{ mode: 'container', name: ipNetworkName }], networksPointer: '/container/docker/network' };
    case 'NONE':
      return { networks: [], networksPointer: '/container/docker/network' };
    default:
      if (app.ipAddress != null) return { networks: [{ mode: 'container', name: ipNetworkName }], networksPointer: '/ipAddress' };
      return { networks: [], networksPointer: '/networks' };
  }
}

/** container.portMappings, else the deprecated docker.portMappings, else (Mesos containers) ipAddress.discovery.ports. */
function declaredPortMappings(app: App): PortList<PortMapping> | undefined {
  const container = app.container;
  if (container?.portMappings != null) return { pointer: '/container/portMappings', items: container.portMappings };
  if (container?.docker?.portMappings != null) return { pointer: '/container/docker/portMappings', items: container.docker.portMappings };
  const discovered = app.ipAddress?.discovery?.ports;
  if (discovered != null && discovered.length > 0 && (container?.type ?? (container ? 'DOCKER' : 'MESOS')) === 'MESOS') {
    return {
      pointer: '/ipAddress/discovery/ports',
      items: discovered.map((port) => ({ containerPort: port.number, name: port.name, protocol: port.protocol, labels: port.labels })),
    };
  }
  return undefined;
}

export interface RuleResult {
  errors: Issue[];
  warnings: Issue[];
}

/** Rules for the deprecated networking fields and how they mix with the new ones (AppValidation.validateOldAppAPI). */
export function checkLegacyNetworking(app: App): RuleResult {
  const errors: Issue[] = [];
  const warnings: Issue[] = [];
  const container = app.container;
  const docker = container?.docker;
  const hasNetworks = app.networks != null && app.networks.length > 0;

  if (docker?.network != null && hasNetworks) {
    errors.push({ path: '/container/docker/network', message: 'cannot be combined with networks: remove it and keep networks' });
  }
  if (app.ipAddress != null && hasNetworks) {
    errors.push({ path: '/ipAddress', message: 'cannot be combined with networks: remove it and keep networks' });
  }
  const isDocker = container != null && (container.type ?? 'DOCKER') === 'DOCKER';
  const discoveryPorts = app.ipAddress?.discovery?.ports ?? [];
  if (app.ipAddress?.discovery != null && isDocker) {
    errors.push({
      path: '/ipAddress/discovery',
      message: 'is not allowed for Docker containers: use networks and container.portMappings instead',
    });
  } else if (discoveryPorts.length > 0 && container?.portMappings != null) {
    errors.push({ path: '/ipAddress/discovery/ports', message: 'cannot be combined with container.portMappings: keep only container.portMappings' });
  }
  if (app.ipAddress != null && ((app.ports?.length ?? 0) > 0 || (app.portDefinitions?.length ?? 0) > 0)) {
    errors.push({ path: '/ipAddress', message: 'cannot be combined with ports or portDefinitions: a task with its own IP address declares ports in container.portMappings' });
  }
  if (app.ports != null && app.portDefinitions != null && app.ports.length > 0 && app.portDefinitions.length > 0) {
    const same = app.ports.length === app.portDefinitions.length && app.ports.every((port, i) => (app.portDefinitions![i]!.port ?? 0) === port);
    if (!same) errors.push({ path: '/ports', message: 'cannot be combined with portDefinitions: keep only portDefinitions' });
  }
  const fixedPorts = (app.ports ?? []).filter((port) => port !== 0);
  if (new Set(fixedPorts).size !== fixedPorts.length) errors.push({ path: '/ports', message: 'contains the same port twice: ports must be unique' });
  if ((app.uris?.length ?? 0) > 0 && (app.fetch?.length ?? 0) > 0) {
    errors.push({ path: '/uris', message: 'cannot be combined with fetch: move the URIs into fetch' });
  }
  if (container?.portMappings != null && (docker?.portMappings?.length ?? 0) > 0) {
    errors.push({
      path: '/container/docker/portMappings',
      message: 'cannot be combined with container.portMappings: keep only container.portMappings',
    });
  }
  if (docker?.credential != null) {
    errors.push({ path: '/container/docker/credential', message: 'is no longer supported: use container.docker.pullConfig with a secret' });
  }
  if (docker != null && container?.type === 'MESOS') {
    for (const field of ['network', 'portMappings', 'parameters'] as const) {
      const value = docker[field];
      if (value != null && !(Array.isArray(value) && value.length === 0)) {
        errors.push({
          path: `/container/docker/${field}`,
          message: `is not supported by the MESOS containerizer: ${field === 'parameters' ? 'use container.type DOCKER' : 'use networks and container.portMappings'}`,
        });
      }
    }
  }
  return { errors, warnings };
}

/** Canonical networking rules (NetworkValidation, AppValidation) on the translated networks and ports. */
export function checkNetworking(app: App, view: EffectiveNetworking): RuleResult {
  const errors: Issue[] = [];
  const warnings: Issue[] = [];
  const { networks, networksPointer } = view;

  if (app.networks != null) {
    app.networks.forEach((network, index) => {
      const mode = network.mode ?? 'container';
      if (mode === 'host' && (network.name != null || (network.labels != null && Object.keys(network.labels).length > 0))) {
        errors.push({ path: `/networks/${index}`, message: 'a host network cannot have a name or labels' });
      }
      if (mode === 'container/bridge' && network.name != null) {
        errors.push({ path: `/networks/${index}/name`, message: 'a container/bridge network cannot have a name' });
      }
    });
  }
  const counts = { host: 0, container: 0, 'container/bridge': 0 };
  for (const network of networks) counts[network.mode]++;
  const mixed = (counts.host > 0 ? 1 : 0) + (counts.container > 0 ? 1 : 0) + (counts['container/bridge'] > 0 ? 1 : 0) > 1;
  if (mixed || counts.host > 1 || counts['container/bridge'] > 1) {
    errors.push({
      path: networksPointer,
      message: 'mixes network modes: use a single host network, a single container/bridge network, or one or more container networks',
    });
  }
  const containerNetworks = networks.filter((network) => network.mode === 'container');
  const names = containerNetworks.map((network) => network.name).filter((name): name is string => name !== undefined);
  if (new Set(names).size !== names.length || containerNetworks.length - names.length > 1) {
    errors.push({ path: networksPointer, message: 'lists the same network twice: duplicate networks are not allowed' });
  }
  if (view.engine === 'DOCKER' && containerNetworks.length > 1) {
    errors.push({ path: networksPointer, message: 'has several container networks: the Docker containerizer supports only one' });
  }

  const declaredMappings = declaredPortMappings(app);
  if (declaredMappings?.pointer && declaredMappings.items.length > 0 && view.hostMode && declaredMappings.pointer !== '/ipAddress/discovery/ports') {
    warnings.push({
      path: declaredMappings.pointer,
      message:
        'is ignored with host networking (Marathon drops it): declare ports in portDefinitions, or join a network, ' +
        'e.g. "networks": [{"mode": "container/bridge"}]',
    });
  }
  if (!view.hostMode && (app.portDefinitions?.length ?? 0) > 0) {
    warnings.push({
      path: '/portDefinitions',
      message: 'is ignored with container networking (Marathon drops it): declare ports in container.portMappings',
    });
  }

  // Marathon drops port mappings in host mode before it validates them; the deprecated docker ones it checks first.
  if (declaredMappings?.pointer && (!view.hostMode || declaredMappings.pointer === '/container/docker/portMappings')) {
    const pointer = declaredMappings.pointer;
    errors.push(...duplicateNames(declaredMappings.items, pointer));
    declaredMappings.items.forEach((mapping, index) => {
      (mapping.networkNames ?? []).forEach((networkName, nameIndex) => {
        if (!names.includes(networkName)) {
          errors.push({
            path: childPointer(pointer, index, 'networkNames', nameIndex),
            message: `names network "${networkName}" that the app does not join: expected one of ${names.length ? names.map((n) => `"${n}"`).join(', ') : '(no named container networks)'}`,
          });
        }
      });
      if (containerNetworks.length > 1 && mapping.hostPort != null && (mapping.networkNames?.length ?? 0) !== 1) {
        errors.push({
          path: childPointer(pointer, index),
          message: 'sets hostPort while the app joins several container networks: networkNames must name exactly one of them',
        });
      }
    });
  }
  if (app.portDefinitions != null) {
    errors.push(...duplicateNames(app.portDefinitions, '/portDefinitions'));
    const fixed = app.portDefinitions.map((definition) => definition.port ?? 0).filter((port) => port !== 0);
    if (new Set(fixed).size !== fixed.length) {
      errors.push({ path: '/portDefinitions', message: 'contains the same port twice: ports must be unique (0 means "any port")' });
    }
  }
  return { errors, warnings };
}

function duplicateNames(items: { name?: string | null }[], pointer: string): Issue[] {
  const seen = new Set<string>();
  const issues: Issue[] = [];
  items.forEach((item, index) => {
    if (item.name == null) return;
    if (seen.has(item.name)) issues.push({ path: childPointer(pointer, index, 'name'), message: `repeats the port name "${item.name}": port names must be unique` });
    seen.add(item.name);
  });
  return issues;
}
