import { appHealthOf, taskCountsOf, type AppHealth, type TaskCounts } from '../marathon/app-health.js';
import type { DiffEntry } from '../deploy/diff.js';
import { splitImage } from '../deploy/image.js';
import { imageOf, versionOf } from '../deploy/render.js';
import type { AppDefinition, AppInfo, Deployment } from '../marathon/types.js';
import { autoscalerOf, configDrift, type AutoscalerSettings } from './drift.js';
import { coloursOf, deploymentGroupOf, liveColourOf, ZDD_LABELS, type Colour } from '../blue-green/colours.js';

/** One app in one environment as deploy-configs describes it. */
export interface ConfiguredApp {
  app: string;
  env: string;
  /** The merged definition; null when the config could not be loaded (then `configError` says why). */
  definition: AppDefinition | null;
  configError?: string;
}

/** One datacenter of one environment. Several may share a Marathon (and one request, when they also share credentials). */
export interface DatacenterRef {
  env: string;
  dc: string;
  marathon: string;
}

/**
 * What one Marathon said: its apps (one GET /v2/apps with embeds) and running deployments, or why it did not answer.
 * `notAsked`: no request was sent because the datacenter's config cannot be used (e.g. its credential variable is unset).
 */
export type MarathonAnswer =
  | { reachable: true; apps: AppInfo[]; deployments: Deployment[] }
  | { reachable: false; reason: string; notAsked?: boolean };

export interface StatusInput {
  apps: ConfiguredApp[];
  /** Every datacenter of the environments shown, in config order. */
  datacenters: DatacenterRef[];
  /** By datacenter (datacenterKey): datacenters sharing a Marathon may still differ in credentials, and so in answers. */
  answers: ReadonlyMap<string, MarathonAnswer>;
}

export type Health = AppHealth | 'not-deployed' | 'unknown';

export type { TaskCounts } from '../marathon/app-health.js';

export interface StatusCell {
  app: string;
  env: string;
  dc: string;
  appId: string;
  marathon: string;
  reachable: boolean;
  /** Why the datacenter could not be asked. */
  reason?: string;
  /** Nothing was sent: the datacenter's config cannot be used (see `reason`). */
  notAsked?: boolean;
  deployed: boolean;
  health: Health;
  image?: string;
  /** Baton's version label, else the image tag. */
  version?: string;
  tag?: string;
  digest?: string;
  marathonVersion?: string;
  lastConfigChangeAt?: string;
  lastScalingAt?: string;
  tasks?: TaskCounts;
  deployment?: { id: string; step?: string } | null;
  autoscaler: AutoscalerSettings | null;
  lastTaskFailure?: { message?: string; state?: string; timestamp?: string } | null;
  /** How the live app differs from deploy-configs; null when that cannot be told (config broken, app not live). */
  configDrift: DiffEntry[] | null;
  configError?: string;
  /** Another datacenter of the same environment runs a different version (or none). */
  versionDrift: boolean;
  /** A blue/green app: its colours as Marathon holds them, and the one marathon-lb routes users to (the row shows that one). */
  blueGreen?: { live: Colour | null; colours: ColourSummary[] };
}

export interface ColourSummary {
  colour: Colour;
  appId: string;
  version?: string;
  instances: number;
  tasks: TaskCounts;
  live: boolean;
}

export interface VersionDrift {
  app: string;
  env: string;
  /** By datacenter; null where the app is not deployed. Unreachable datacenters are left out (unknown). */
  versions: Record<string, string | null>;
}

export interface StatusMatrix {
  cells: StatusCell[];
  versionDrift: VersionDrift[];
  datacenters: (DatacenterRef & { reachable: boolean; reason?: string; notAsked?: boolean })[];
  /** Every Marathon answered. */
  complete: boolean;
}

/** The key of a datacenter's answer in StatusInput.answers. */
export function datacenterKey(dc: Pick<DatacenterRef, 'env' | 'dc'>): string {
  return `${dc.env}/${dc.dc}`;
}

/** app × environment × datacenter, from what the Marathons answered and what deploy-configs says. Pure. */
export function buildStatusMatrix(input: StatusInput): StatusMatrix {
  const cells: StatusCell[] = [];
  const versionDrift: VersionDrift[] = [];
  for (const configured of input.apps) {
    const inEnv = input.datacenters.filter((d) => d.env === configured.env);
    const row = inEnv.map((dc) => cellFor(configured, dc, input.answers.get(datacenterKey(dc))));
    const drift = versionDriftOf(configured, row);
    if (drift) {
      versionDrift.push(drift);
      for (const cell of row) if (cell.reachable) cell.versionDrift = true;
    }
    cells.push(...row);
  }
  const datacenters = input.datacenters.map((d) => {
    const answer = input.answers.get(datacenterKey(d));
    if (answer?.reachable) return { ...d, reachable: true };
    return { ...d, reachable: false, reason: answer?.reason ?? 'not asked', ...(answer?.notAsked ? { notAsked: true } : {}) };
  });
  return { cells, versionDrift, datacenters, complete: datacenters.every((d) => d.reachable) };
}

function cellFor(configured: ConfiguredApp, dc: DatacenterRef, answer: MarathonAnswer | undefined): StatusCell {
  const appId = absoluteId(configured.definition?.id ?? configured.app);
  const base: StatusCell = {
    app: configured.app,
    env: configured.env,
    dc: dc.dc,
    appId,
    marathon: dc.marathon,
    reachable: false,
    deployed: false,
    health: 'unknown',
    autoscaler: autoscalerOf(configured.definition),
    configDrift: null,
    versionDrift: false,
    ...(configured.configError ? { configError: configured.configError } : {}),
  };
  if (!answer || !answer.reachable) return { ...base, reason: answer?.reason ?? 'not asked', ...(answer?.notAsked ? { notAsked: true } : {}) };
  const plain = answer.apps.find((a) => absoluteId(a.id) === appId);
  const colours = plain ? [] : coloursOf(answer.apps, appId, deploymentGroupOf(configured.definition ?? { id: appId }));
  const serving = liveColourOf(colours);
  // A blue/green app is shown by the colour users reach (or, with none serving, the one there is).
  const live = plain ?? withoutColour(serving?.app ?? colours[0]?.app, appId);
  if (!live) return { ...base, reachable: true, health: 'not-deployed' };
  const blueGreen =
    colours.length > 0
      ? {
          live: serving?.colour ?? null,
          colours: colours.map((c) => ({
            colour: c.colour,
            appId: absoluteId(c.app.id),
            ...(versionOf(c.app) ? { version: versionOf(c.app) } : {}),
            instances: c.app.instances ?? 0,
            tasks: taskCountsOf(c.app),
            live: c.colour === serving?.colour,
          })),
        }
      : undefined;

  const image = imageOf(live);
  const parts = image ? splitImage(image) : undefined;
  const tasks = taskCountsOf(live);
  const deployment = deploymentOf(live, answer.deployments);
  return {
    ...base,
    reachable: true,
    deployed: true,
    health: appHealthOf(tasks, deployment !== null),
    image,
    version: versionOf(live),
    tag: parts?.tag,
    digest: parts?.digest,
    marathonVersion: live.version,
    lastConfigChangeAt: live.versionInfo?.lastConfigChangeAt,
    lastScalingAt: live.versionInfo?.lastScalingAt,
    tasks,
    deployment,
    autoscaler: autoscalerOf(live),
    lastTaskFailure: live.lastTaskFailure
      ? { message: live.lastTaskFailure.message, state: live.lastTaskFailure.state, timestamp: live.lastTaskFailure.timestamp }
      : null,
    configDrift: configured.definition ? configDrift(live, configured.definition) : null,
    ...(blueGreen ? { blueGreen } : {}),
  };
}

/** A colour's app as the app it is a colour of: its base id, without the labels and service port blue/green gives it. */
function withoutColour(app: AppInfo | undefined, appId: string): AppInfo | undefined {
  if (!app) return undefined;
  const zdd = new Set<string>(Object.values(ZDD_LABELS));
  const labels = Object.fromEntries(Object.entries(app.labels ?? {}).filter(([key]) => !zdd.has(key)));
  return { ...app, id: appId, labels };
}

/** The running deployment that affects the app, with its step from /v2/deployments; the app's own embed as a fallback. */
function deploymentOf(app: AppInfo, deployments: Deployment[]): { id: string; step?: string } | null {
  const id = absoluteId(app.id);
  const full = deployments.find((d) => d.affectedApps.some((a) => absoluteId(a) === id));
  if (full) return { id: full.id, step: describeStep(full) };
  const embedded = app.deployments?.[0];
  return embedded ? { id: embedded.id } : null;
}

export function describeStep(deployment: Deployment): string | undefined {
  if (deployment.totalSteps <= 0) return undefined;
  const actions = [...new Set(deployment.currentActions.map((a) => a.action))];
  return `step ${deployment.currentStep}/${deployment.totalSteps}${actions.length ? `: ${actions.join(', ')}` : ''}`;
}

function versionDriftOf(configured: ConfiguredApp, row: StatusCell[]): VersionDrift | null {
  const known = row.filter((c) => c.reachable);
  const versions = new Set(known.map((c) => (c.deployed ? (c.version ?? c.image ?? '?') : null)));
  if (versions.size <= 1) return null;
  return {
    app: configured.app,
    env: configured.env,
    versions: Object.fromEntries(known.map((c) => [c.dc, c.deployed ? (c.version ?? c.image ?? '?') : null])),
  };
}

export function absoluteId(id: string): string {
  const trimmed = id.replace(/\/+$/, '');
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}
