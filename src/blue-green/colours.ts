import type { AppDefinition, AppInfo, JsonObject } from '../marathon/types.js';

// The two Marathon apps of a blue/green app, as marathon-lb reads them (marathon_lb.py get_apps) and zdd.py writes them.
// Pure: Marathon's app JSON in, decisions out.

export type Colour = 'blue' | 'green';

/** marathon-lb's deployment labels, as zdd.py sets them. */
export const ZDD_LABELS = {
  group: 'HAPROXY_DEPLOYMENT_GROUP',
  altPort: 'HAPROXY_DEPLOYMENT_ALT_PORT',
  colour: 'HAPROXY_DEPLOYMENT_COLOUR',
  startedAt: 'HAPROXY_DEPLOYMENT_STARTED_AT',
  targetInstances: 'HAPROXY_DEPLOYMENT_TARGET_INSTANCES',
  newInstances: 'HAPROXY_DEPLOYMENT_NEW_INSTANCES',
  publicPort: 'HAPROXY_0_PORT',
  appId: 'HAPROXY_APP_ID',
  backendHead: 'HAPROXY_0_BACKEND_HEAD',
} as const;

/** marathon-lb's default HAPROXY_BACKEND_HEAD template (config.py), which the label replaces. */
const DEFAULT_BACKEND_HEAD = '\nbackend {backend}\n  balance {balance}\n  mode {mode}\n';
const SERVER_STATE_LINE = '  load-server-state-from-file none\n';

/**
 * The colour's backend head: the app's own HAPROXY_0_BACKEND_HEAD (else marathon-lb's default) with its server state not
 * loaded across reloads. marathon-lb keeps a drained colour's servers in maintenance, where HAProxy checks nothing; with
 * the state file they would come back DOWN at the switch until checked, leaving no UP server for a moment. Without it
 * HAProxy takes them UP at each reload until a check fails. marathon-lb writes the backend from the draining colour's
 * labels, so both colours carry it. A `load-server-state-from-file` line of the app's own is replaced.
 */
export function backendHeadOf(ownHead: string | undefined): string {
  const head = (ownHead ?? DEFAULT_BACKEND_HEAD).split('\n').filter((line) => !/^\s*load-server-state-from-file\b/.test(line)).join('\n');
  return `${head.endsWith('\n') ? head : `${head}\n`}${SERVER_STATE_LINE}`;
}

export function otherColour(colour: Colour): Colour {
  return colour === 'blue' ? 'green' : 'blue';
}

/** `/shop/web` → `/shop/web-blue`, as zdd.py's set_app_ids names them. */
export function colourAppId(baseId: string, colour: Colour): string {
  const id = baseId.replace(/\/+$/, '');
  return `${id.startsWith('/') ? id : `/${id}`}-${colour}`;
}

/** The group marathon-lb merges the colours into: the definition's own label, else the app id without its leading "/". */
export function deploymentGroupOf(definition: AppDefinition): string {
  const label = labelsOf(definition)[ZDD_LABELS.group];
  return label && label !== '' ? label : definition.id.replace(/^\/+/, '').replace(/\/+$/, '');
}

export interface ColourApp {
  colour: Colour;
  app: AppInfo;
}

/** The colours of a group among Marathon's apps: `<id>-blue`/`<id>-green`, or apps carrying the group's label (zdd.py's). */
export function coloursOf(apps: readonly AppInfo[], baseId: string, group: string): ColourApp[] {
  const found: ColourApp[] = [];
  for (const colour of ['blue', 'green'] as const) {
    const id = colourAppId(baseId, colour);
    const app =
      apps.find((a) => absolute(a.id) === id) ??
      apps.find((a) => sameGroup(labelsOf(a)[ZDD_LABELS.group], group) && labelsOf(a)[ZDD_LABELS.colour] === colour);
    if (app) found.push({ colour, app });
  }
  return found;
}

/**
 * The colour users reach: the one marathon-lb treats as "new" in the group, whose healthy tasks drain the other's. A colour
 * at 0 instances serves nothing. Of two, "new" is the later HAPROXY_DEPLOYMENT_STARTED_AT; when "new" carries
 * HAPROXY_DEPLOYMENT_NEW_INSTANCES (any value: marathon-lb's `int(label != 0)` is always 1) and the other colour was scaled
 * later (versionInfo.lastScalingAt), the other one is "new". So with both labelled, the colour scaled last serves.
 */
export function liveColourOf(colours: readonly ColourApp[]): ColourApp | null {
  const serving = colours.filter((c) => (c.app.instances ?? 0) > 0);
  if (serving.length <= 1) return serving[0] ?? null;
  const [a, b] = serving as [ColourApp, ColourApp];
  const started = (c: ColourApp) => instant(labelsOf(c.app)[ZDD_LABELS.startedAt]);
  const scaled = (c: ColourApp) => instant(c.app.versionInfo?.lastScalingAt);
  let [older, newer] = started(a) < started(b) ? [a, b] : started(b) < started(a) ? [b, a] : scaled(a) <= scaled(b) ? [a, b] : [b, a];
  if (ZDD_LABELS.newInstances in labelsOf(newer.app) && scaled(older) > scaled(newer)) [older, newer] = [newer, older];
  return newer;
}

export interface ColourPorts {
  /** The port users connect to on the load balancer (HAPROXY_0_PORT). */
  publicPort: number;
  /** The other service port the colours alternate with, so Marathon never sees one service port twice. */
  altPort: number;
}

/** The Marathon service port of an app: the first port mapping's servicePort, else the first port definition's port. */
export function servicePortOf(app: JsonObject): number | undefined {
  const container = asObject(app.container);
  const mappings = asArray(container?.portMappings) ?? asArray(asObject(container?.docker)?.portMappings);
  const fromMapping = asObject(mappings?.[0])?.servicePort;
  if (typeof fromMapping === 'number' && fromMapping > 0) return fromMapping;
  const fromDefinition = asObject(asArray(app.portDefinitions)?.[0])?.port;
  if (typeof fromDefinition === 'number' && fromDefinition > 0) return fromDefinition;
  const port = asArray(app.ports)?.[0];
  return typeof port === 'number' && port > 0 ? port : undefined;
}

/** The candidate's service port: the one the live colour does not use (zdd.py's select_next_port). */
export function nextServicePort(live: AppInfo | null, ports: ColourPorts): number {
  if (!live) return ports.publicPort;
  return servicePortOf(live) === ports.altPort ? ports.publicPort : ports.altPort;
}

/**
 * The candidate colour's definition: the rendered app under the colour's id, with marathon-lb's labels as zdd.py's
 * prepare_deploy sets them, at full size. STARTED_AT is written as zdd.py writes it (Python's naive
 * `datetime.now().isoformat()`): marathon-lb compares the two colours' values, and Python cannot compare a naive time
 * with one that has an offset, so a pair mixing zdd.py's and Baton's colours would break its config generation.
 */
export function colourDefinition(
  rendered: AppDefinition,
  input: { colour: Colour; group: string; ports: ColourPorts; servicePort: number; instances: number; targetInstances?: number; startedAt: Date },
): AppDefinition {
  const definition = structuredClone(rendered) as AppDefinition;
  definition.id = colourAppId(rendered.id, input.colour);
  definition.instances = input.instances;
  definition.labels = {
    ...labelsOf(rendered),
    [ZDD_LABELS.appId]: absolute(rendered.id),
    [ZDD_LABELS.group]: input.group,
    [ZDD_LABELS.altPort]: String(input.ports.altPort),
    [ZDD_LABELS.colour]: input.colour,
    [ZDD_LABELS.startedAt]: pythonLocalIsoformat(input.startedAt),
    [ZDD_LABELS.targetInstances]: String(input.targetInstances ?? input.instances),
    [ZDD_LABELS.newInstances]: '0',
    [ZDD_LABELS.publicPort]: String(input.ports.publicPort),
    [ZDD_LABELS.backendHead]: backendHeadOf(labelsOf(rendered)[ZDD_LABELS.backendHead]),
  };
  setServicePort(definition, input.servicePort);
  return definition;
}

/** The size the group is meant to have: the TARGET_INSTANCES label, else the app's instances. */
export function targetInstancesOf(app: AppInfo): number {
  const label = Number(labelsOf(app)[ZDD_LABELS.targetInstances]);
  return Number.isInteger(label) && label > 0 ? label : (app.instances ?? 0);
}

function setServicePort(definition: AppDefinition, port: number): void {
  const container = asObject(definition.container);
  const mappings = asArray(container?.portMappings) ?? asArray(asObject(container?.docker)?.portMappings);
  const first = asObject(mappings?.[0]);
  if (first) {
    first.servicePort = port;
    return;
  }
  const definitions = asArray(definition.portDefinitions);
  const firstDefinition = asObject(definitions?.[0]);
  if (firstDefinition) {
    firstDefinition.port = port;
    return;
  }
  definition.portDefinitions = [{ port, protocol: 'tcp' }];
}

/** `2026-12-04T23:05:23.123000`: local time, microseconds, no offset. */
export function pythonLocalIsoformat(date: Date): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `.${pad(date.getMilliseconds(), 3)}000`
  );
}

export function labelsOf(app: JsonObject): Record<string, string> {
  const labels = asObject(app.labels);
  return (labels ?? {}) as Record<string, string>;
}

function sameGroup(label: string | undefined, group: string): boolean {
  return label !== undefined && label.replace(/^\/+/, '') === group.replace(/^\/+/, '');
}

/** Epoch ms; a missing or unreadable time is the earliest (as marathon-lb's datetime.min). */
function instant(value: string | undefined): number {
  const at = value === undefined ? Number.NaN : Date.parse(value);
  return Number.isFinite(at) ? at : Number.NEGATIVE_INFINITY;
}

function absolute(id: string): string {
  const trimmed = id.replace(/\/+$/, '');
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

function asObject(value: unknown): JsonObject | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

function asArray(value: unknown): unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}
