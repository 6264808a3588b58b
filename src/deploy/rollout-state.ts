import { isAgentProblem, isOwnFailure } from '../marathon/task-states.js';
import type { AppInfo, Deployment, MarathonTask } from '../marathon/types.js';

export interface RolloutProgress {
  target: number;
  running: number;
  healthy: number;
  staged: number;
  unhealthy: number;
  /** Tasks already running the new version. */
  updated: number;
  /** Of those, healthy (every health check alive); 0 without health checks. */
  updatedHealthy: number;
  /** Tasks of an older version still running. */
  old: number;
  hasHealthChecks: boolean;
  /** e.g. "step 1/2: StartApplication" while the deployment runs. */
  step?: string;
  /** A task of the new version ended for a cluster reason (agent lost): Marathon replaces it; shown, not held against it. */
  agentProblem?: string;
}

export interface RolloutObservation {
  deploymentId: string;
  /**
   * The Marathon versions every task must end up on: the one our change returned, and for a revert also the version it restores
   * (Marathon keeps an app's own version when a deployment is cancelled).
   */
  targetVersions: readonly string[];
  /** null when the app does not exist (a reverted creation, or someone deleted it). */
  app: AppInfo | null;
  /** Running deployments that affect this app, from /v2/deployments. */
  deployments: Deployment[];
  /** Own failures (TASK_FAILED, TASK_ERROR, health-check kills) seen in the event stream for tasks of the target version. */
  failedTaskIds: ReadonlySet<string>;
  /**
   * Tasks must be at or after this version as well as after the app's last config change: a restart makes new tasks of an
   * unchanged config, so for a restart it is the restart's version.
   */
  tasksAtOrAfter?: string;
  /** lastTaskFailure as it was before we started: an old failure is not evidence against this change. */
  knownFailure?: { taskId?: string; timestamp?: string } | null;
  /** How many failed tasks of the new version mean "crash loop" (Marathon itself would retry forever). */
  failureThreshold: number;
}

export type RolloutAssessment =
  | { state: 'in-progress'; progress: RolloutProgress }
  | { state: 'succeeded'; progress: RolloutProgress }
  | { state: 'failed'; reason: string; progress: RolloutProgress }
  | { state: 'superseded'; reason: string; progress: RolloutProgress };

/**
 * Decides whether a deployment is finished. Marathon's word alone is not enough: its deployment ends when it was cancelled
 * or superseded too, and it never ends for a version that crashes. Done means: our deployment is gone, our definition is still
 * the current one, nothing is staging, every task runs it, the count is right, and (with health checks) all are healthy.
 */
export function assessRollout(observation: RolloutObservation): RolloutAssessment {
  const { app, deploymentId } = observation;
  const targets = new Set(observation.targetVersions);
  const ours = observation.deployments.find((d) => d.id === deploymentId);
  const progress = progressOf(app, ours, observation.tasksAtOrAfter);
  if (!app) {
    if (ours) return { state: 'in-progress', progress };
    return { state: 'superseded', reason: 'the app no longer exists in Marathon', progress };
  }

  const failures = new Set(observation.failedTaskIds);
  const lastFailure = app.lastTaskFailure;
  const known = observation.knownFailure;
  const isOld = Boolean(known && lastFailure && known.taskId === lastFailure.taskId && known.timestamp === lastFailure.timestamp);
  const onTarget = Boolean(lastFailure?.version && targets.has(lastFailure.version) && !isOld);
  // An agent lost or drained mid-deploy is the cluster's problem: Marathon replaces the task, the version is not to blame.
  const failedOnTarget = onTarget && isOwnFailure(lastFailure?.state, lastFailure?.message);
  if (lastFailure && failedOnTarget && lastFailure.taskId) failures.add(lastFailure.taskId);
  if (onTarget && isAgentProblem(lastFailure?.state)) progress.agentProblem = `${lastFailure?.state} on ${lastFailure?.host ?? 'an agent'}`;
  if (failures.size >= observation.failureThreshold) {
    const what = failedOnTarget && lastFailure?.message ? `: ${lastFailure.message}` : '';
    return {
      state: 'failed',
      reason: `${failures.size} task(s) of the new version failed (${failedOnTarget ? (lastFailure?.state ?? 'TASK_FAILED') : 'TASK_FAILED'}${what})`,
      progress,
    };
  }

  if (ours) return { state: 'in-progress', progress };

  const configVersion = app.versionInfo?.lastConfigChangeAt ?? app.version;
  // Marathon answers a PUT that changes nothing in its normalized view with a version the app never takes: the app keeps
  // an older one. Only a newer version means someone else's change replaced ours.
  const unchangedByMarathon = [...targets].every((target) => (app.version ?? '') < target);
  if (!targets.has(configVersion ?? '') && !targets.has(app.version ?? '') && !unchangedByMarathon) {
    return {
      state: 'superseded',
      reason: `another change replaced ours: the app is now at Marathon version ${app.version ?? 'unknown'}`,
      progress,
    };
  }
  // Ours is gone while another runs on the app: someone's forced change (a scale, say) cancelled it and took over.
  if (observation.deployments.length > 0) {
    return {
      state: 'superseded',
      reason: `deployment ${observation.deployments.map((d) => d.id).join(', ')} replaced ours (a forced change by someone else)`,
      progress,
    };
  }

  const instances = app.instances ?? 0;
  const tasks = app.tasks ?? [];
  const converged =
    (app.tasksStaged ?? 0) === 0 &&
    (app.tasksRunning ?? 0) === instances &&
    tasks.length === instances &&
    tasks.every((t) => isCurrentTask(t, app, observation.tasksAtOrAfter)) &&
    (!progress.hasHealthChecks || (app.tasksHealthy ?? 0) === instances);
  return converged ? { state: 'succeeded', progress } : { state: 'in-progress', progress };
}

/**
 * Whether a task runs the app's current configuration. Marathon gives the app a new version on every change, a scale
 * included, but only a config change restarts tasks: a task is current when its version is at or after the app's
 * `versionInfo.lastConfigChangeAt` (and, after a restart, at or after the restart's version). Versions are instants.
 */
export function isCurrentTask(task: Pick<MarathonTask, 'version'>, app: Pick<AppInfo, 'version' | 'versionInfo'>, atOrAfter?: string): boolean {
  if (task.version === undefined) return false;
  const bounds = [instant(app.versionInfo?.lastConfigChangeAt ?? app.version), instant(atOrAfter)].filter(Number.isFinite);
  const at = instant(task.version);
  return Number.isFinite(at) && bounds.every((since) => at >= since);
}

function instant(version: string | undefined): number {
  return version === undefined ? Number.NaN : Date.parse(version);
}

function progressOf(app: AppInfo | null, deployment: Deployment | undefined, atOrAfter: string | undefined): RolloutProgress {
  const tasks = app?.tasks ?? [];
  const step =
    deployment && deployment.totalSteps > 0
      ? `step ${deployment.currentStep}/${deployment.totalSteps}${
          deployment.currentActions.length ? `: ${[...new Set(deployment.currentActions.map((a) => a.action))].join(', ')}` : ''
        }`
      : undefined;
  return {
    target: app?.instances ?? 0,
    running: app?.tasksRunning ?? 0,
    healthy: app?.tasksHealthy ?? 0,
    staged: app?.tasksStaged ?? 0,
    unhealthy: app?.tasksUnhealthy ?? 0,
    updated: app ? tasks.filter((t) => t.state === 'TASK_RUNNING' && isCurrentTask(t, app, atOrAfter)).length : 0,
    updatedHealthy: app ? tasks.filter((t) => t.state === 'TASK_RUNNING' && isCurrentTask(t, app, atOrAfter) && isTaskHealthy(t)).length : 0,
    old: app ? tasks.filter((t) => t.state === 'TASK_RUNNING' && !isCurrentTask(t, app, atOrAfter)).length : 0,
    hasHealthChecks: Array.isArray(app?.healthChecks) && (app?.healthChecks?.length ?? 0) > 0,
    step,
  };
}

function isTaskHealthy(task: MarathonTask): boolean {
  const results = task.healthCheckResults ?? [];
  return results.length > 0 && results.every((r) => r.alive === true);
}

/**
 * One line for people, the tasks of the version being rolled out apart from the old ones still running; `targetName` is
 * what the tasks are moving to ("new version", or "previous version" in a rollback).
 */
export function describeProgress(progress: RolloutProgress, targetName = 'new version'): string {
  const health = progress.hasHealthChecks ? `, ${progress.updatedHealthy} healthy` : '';
  const old = progress.old ? ` · ${progress.old} old still running` : '';
  const staged = progress.staged ? ` · ${progress.staged} staging` : '';
  const unhealthy = progress.unhealthy ? ` · ${progress.unhealthy} unhealthy` : '';
  const agent = progress.agentProblem ? ` · ${progress.agentProblem} (not the version's fault)` : '';
  return `${targetName} ${progress.updated}/${progress.target} running${health}${old}${staged}${unhealthy}${agent}${
    progress.step ? ` (${progress.step})` : ''
  }`;
}
