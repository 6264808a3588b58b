// JSON bodies exactly as Marathon 1.10 renders them (v2/types/app.raml AppInfo, task.raml Task, deployments.json).
import type { JsonObject } from './definition.js';
import type { AppRecord, DeploymentRecord, MarathonModel, TaskRecord } from './model.js';

export interface Embeds {
  tasks: boolean;
  counts: boolean;
  deployments: boolean;
  lastTaskFailure: boolean;
  readiness: boolean;
}

/** GET /v2/apps always embeds counts and deployments; `prefix` is "apps." there and "app." on /v2/apps/{id}. */
export function embedsFrom(values: string[], prefix: 'apps.' | 'app.'): Embeds {
  const has = (name: string) => values.includes(`apps.${name}`) || values.includes(`app.${name}`);
  const failures = has('failures');
  if (prefix === 'app.') return { tasks: true, counts: true, deployments: true, lastTaskFailure: true, readiness: has('readiness') };
  return {
    tasks: has('tasks') || failures,
    counts: true,
    deployments: true,
    lastTaskFailure: has('lastTaskFailure') || failures,
    readiness: has('readiness'),
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

export function taskJson(task: TaskRecord): JsonObject {
  const json: JsonObject = {
    id: task.id,
    appId: task.appId,
    host: task.host,
    ipAddresses: [{ ipAddress: task.ipAddress, protocol: 'IPv4' }],
    ports: task.ports,
    servicePorts: task.servicePorts,
    slaveId: task.slaveId,
    state: task.state,
    stagedAt: iso(task.stagedAt),
    version: task.version,
    localVolumes: [],
    role: '*',
  };
  if (task.startedAt !== null) json.startedAt = iso(task.startedAt);
  if (task.healthChecked) {
    json.healthCheckResults = task.health ? [{ ...task.health, instanceId: task.instanceId }] : [];
  }
  return json;
}

export function countsOf(app: AppRecord): { tasksStaged: number; tasksRunning: number; tasksHealthy: number; tasksUnhealthy: number } {
  return {
    tasksStaged: app.tasks.filter((t) => t.state === 'TASK_STAGING').length,
    tasksRunning: app.tasks.filter((t) => t.state === 'TASK_RUNNING').length,
    tasksHealthy: app.tasks.filter((t) => t.healthChecked && t.health?.alive === true).length,
    tasksUnhealthy: app.tasks.filter((t) => t.healthChecked && t.health?.alive === false).length,
  };
}

export function appInfoJson(model: MarathonModel, app: AppRecord, embeds: Embeds): JsonObject {
  const appId = app.stored.definition.id as string;
  const json: JsonObject = model.definitionWithVersion(app.stored);
  if (embeds.counts) Object.assign(json, countsOf(app));
  if (embeds.deployments) json.deployments = model.deploymentsFor(appId).map((d) => ({ id: d.id }));
  if (embeds.tasks) json.tasks = app.tasks.map(taskJson);
  if (embeds.lastTaskFailure && app.lastTaskFailure) json.lastTaskFailure = app.lastTaskFailure;
  if (embeds.readiness) json.readinessCheckResults = [];
  return json;
}

/**
 * GET /v2/apps/{id}/versions: Marathon answers in no fixed order (the ZooKeeper store lists children unordered and the
 * cache builds a set). The emulator picks a fixed, deliberately unhelpful order: oldest first for one or two versions,
 * and from three on the sorted list rotated by one (second-oldest first, oldest last), which is neither ascending nor
 * descending — so a client that assumes either order breaks, deterministically.
 */
export function versionsJson(versions: string[]): string[] {
  const ascending = [...new Set(versions)].sort();
  if (ascending.length < 3) return ascending;
  return [...ascending.slice(1), ...ascending.slice(0, 1)];
}

export function deploymentJson(deployment: DeploymentRecord): JsonObject {
  const current = deployment.steps[deployment.stepIndex];
  return {
    id: deployment.id,
    version: deployment.version,
    affectedApps: [deployment.appId],
    affectedPods: [],
    steps: deployment.steps.map((action) => ({ actions: [{ action, app: deployment.appId }] })),
    currentActions: current ? [{ action: current, app: deployment.appId, readinessCheckResults: [] }] : [],
    currentStep: deployment.stepIndex + 1,
    totalSteps: deployment.steps.length,
  };
}

export function queueJson(model: MarathonModel): JsonObject {
  const now = model.now();
  return {
    queue: model.queue().map((entry) => ({
      app: model.definitionWithVersion(entry.app.stored),
      count: entry.count,
      role: '*',
      // Marathon reports whole seconds; rounded up so a sub-second emulated backoff still shows as "backing off".
      delay: { timeLeftSeconds: Math.ceil((entry.until - now) / 1000), overdue: false },
      since: iso(entry.since),
      processedOffersSummary: {
        processedOffersCount: 0,
        unusedOffersCount: 0,
        rejectSummaryLastOffers: [],
        rejectSummaryLaunchAttempt: [],
      },
    })),
  };
}
