import type { MarathonClient } from '../marathon/client.js';
import { MarathonError } from '../marathon/errors.js';
import type { DeploymentResult } from '../marathon/types.js';
import type { RolloutAssessment, RolloutProgress } from './rollout-state.js';
import { watchRollout, watchStable, type WatchResult } from './watch.js';

export type RolloutOutcome =
  | 'succeeded'
  | 'superseded'
  | 'failed'
  | 'failed-rolled-back'
  | 'timeout'
  | 'timeout-rolled-back'
  | 'rollback-failed'
  | 'interrupted';

export interface RollbackReport {
  /** The deployment Marathon started to revert ours (DELETE /v2/deployments/{id}), or the PUT of the previous version. */
  deploymentId?: string;
  /**
   * The version the revert gave the app, from Marathon's answer. A cancelled deployment restores the app with a version
   * older than the one it undid (Marathon's start time), so only this tells history which stored version is the restore.
   */
  marathonVersion?: string;
  method: 'cancel-deployment' | 'previous-version' | 'restore-colour';
  outcome: 'succeeded' | 'failed' | 'timeout' | 'superseded' | 'interrupted' | 'not-possible';
  reason?: string;
  progress?: RolloutProgress;
  durationMs: number;
}

export interface RolloutReport {
  outcome: RolloutOutcome;
  deploymentId: string;
  marathonVersion: string;
  reason?: string;
  progress?: RolloutProgress;
  rollback?: RollbackReport;
  /** The rollback was Baton reverting on Ctrl-C/SIGTERM (rollbackOnInterrupt), not on a failure. */
  revertedOnInterrupt?: boolean;
  waitMs: number;
  /** How long the watch period after the deployment lasted, when there was one. */
  stableMs?: number;
  eventStreamDrops: number;
}

export interface RolloutOptions {
  client: MarathonClient;
  appId: string;
  /** What Marathon started for our change (the PUT already happened). */
  started: DeploymentResult;
  /** The change was a restart: tasks must be at or after its version, not only after the last config change. */
  restart?: boolean;
  /** The app's Marathon version before our change; null when the change created the app. */
  previousVersion: string | null;
  knownFailure?: { taskId?: string; timestamp?: string } | null;
  timeoutMs: number;
  /** Deadline for the revert; defaults to timeoutMs. A short --timeout must not doom the rollback too. */
  rollbackTimeoutMs?: number;
  rollback: boolean;
  /** On `signal`, revert our deployment and verify it instead of leaving it running. */
  rollbackOnInterrupt?: boolean;
  /** After the deployment ended healthy, how long new tasks must stay healthy; 0 or absent: no watch period. */
  stableMs?: number;
  failureThreshold?: number;
  pollIntervalMs?: number;
  signal?: AbortSignal;
  onProgress?: (assessment: RolloutAssessment, phase: 'deploy' | 'rollback') => void;
  onNotice?: (message: string) => void;
  now?: () => number;
}

/** Waits for a started deployment to finish healthy; on failure or timeout reverts it and verifies the revert. */
export async function followRollout(options: RolloutOptions): Promise<RolloutReport> {
  const now = options.now ?? Date.now;
  const started = now();
  const watched = await watchRollout({
    client: options.client,
    appId: options.appId,
    deploymentId: options.started.deploymentId,
    targetVersions: [options.started.version],
    ...(options.restart ? { tasksAtOrAfter: options.started.version } : {}),
    knownFailure: options.knownFailure,
    deadline: started + options.timeoutMs,
    failureThreshold: options.failureThreshold,
    pollIntervalMs: options.pollIntervalMs,
    signal: options.signal,
    onProgress: (a) => options.onProgress?.(a, 'deploy'),
    onNotice: options.onNotice,
    now,
  });
  const base = {
    deploymentId: options.started.deploymentId,
    marathonVersion: options.started.version,
    reason: watched.reason,
    progress: watched.progress,
    eventStreamDrops: watched.events.drops,
  };
  const waitMs = () => now() - started;
  if (watched.outcome === 'interrupted' && options.rollbackOnInterrupt) {
    // The first Ctrl-C asked for the revert: it runs to the end (a second Ctrl-C still exits at once).
    const rollback = await revert({ ...options, signal: undefined }, now);
    return { ...base, outcome: 'interrupted', rollback, revertedOnInterrupt: true, waitMs: waitMs() };
  }
  let stableMs: number | undefined;
  let unstable: string | undefined;
  if (watched.outcome === 'succeeded' && options.stableMs) {
    const began = now();
    const app = await options.client.findApp(options.appId).catch(() => null);
    options.onNotice?.(`deployment ended healthy; watching it for ${formatSeconds(options.stableMs)} (stable period)`);
    const verdict = await watchStable({
      client: options.client,
      appId: options.appId,
      targetVersions: [options.started.version, ...(app?.versionInfo?.lastConfigChangeAt ? [app.versionInfo.lastConfigChangeAt] : [])],
      knownFailure: app?.lastTaskFailure ?? options.knownFailure,
      stableMs: options.stableMs,
      pollIntervalMs: options.pollIntervalMs,
      signal: options.signal,
      onNotice: options.onNotice,
      now,
    });
    stableMs = now() - began;
    if (verdict.state === 'interrupted') return { ...base, outcome: 'interrupted', waitMs: waitMs(), stableMs };
    if (verdict.state === 'unstable') unstable = verdict.reason;
  }
  if (!unstable && (watched.outcome === 'succeeded' || watched.outcome === 'superseded' || watched.outcome === 'interrupted')) {
    return { ...base, outcome: watched.outcome, waitMs: waitMs(), ...(stableMs !== undefined ? { stableMs } : {}) };
  }
  const failedOutcome = watched.outcome === 'timeout' ? 'timeout' : 'failed';
  const reason = unstable ?? (watched.outcome === 'timeout' ? `not healthy within ${formatSeconds(options.timeoutMs)}` : watched.reason);
  // Said when it is found, not only in the summary: the revert that follows can take minutes.
  options.onNotice?.(`${failedOutcome === 'timeout' ? 'timed out' : 'failed'}: ${reason ?? 'unknown reason'}; ${options.rollback ? 'rolling back' : 'left as it is (--no-rollback)'}`);
  if (!options.rollback) return { ...base, reason, outcome: failedOutcome, waitMs: waitMs(), ...(stableMs !== undefined ? { stableMs } : {}) };

  const rollback = await revert(options, now);
  const outcome: RolloutOutcome =
    rollback.outcome === 'succeeded'
      ? failedOutcome === 'timeout'
        ? 'timeout-rolled-back'
        : 'failed-rolled-back'
      : rollback.outcome === 'interrupted'
        ? 'interrupted'
        : 'rollback-failed';
  return { ...base, reason, outcome, rollback, waitMs: waitMs(), ...(stableMs !== undefined ? { stableMs } : {}) };
}

/**
 * Cancels our deployment without force, so Marathon itself starts a deployment back to the previous definition, then holds
 * that to the same completion rule. When the deployment is already gone, the previous version is PUT back instead.
 */
async function revert(options: RolloutOptions, now: () => number): Promise<RollbackReport> {
  const began = now();
  let started: DeploymentResult | null = null;
  let method: RollbackReport['method'] = 'cancel-deployment';
  const cancelled = await cancelDeployment(options, now() + (options.rollbackTimeoutMs ?? options.timeoutMs));
  if ('error' in cancelled) return { method, outcome: 'failed', reason: describe(cancelled.error), durationMs: now() - began };
  started = cancelled.started;
  if (!started) {
    if (!options.previousVersion) {
      return {
        method,
        outcome: 'not-possible',
        reason: 'the deployment is gone and the app did not exist before this deploy',
        durationMs: now() - began,
      };
    }
    method = 'previous-version';
    try {
      started = await options.client.rollbackToVersion(options.appId, options.previousVersion);
    } catch (error) {
      return { method, outcome: 'failed', reason: describe(error), durationMs: now() - began };
    }
  }
  const app = await options.client.findApp(options.appId).catch(() => null);
  const targets = [started.version, ...(options.previousVersion ? [options.previousVersion] : [])];
  const watched: WatchResult = await watchRollout({
    client: options.client,
    appId: options.appId,
    deploymentId: started.deploymentId,
    targetVersions: targets,
    knownFailure: app?.lastTaskFailure ?? null,
    deadline: now() + (options.rollbackTimeoutMs ?? options.timeoutMs),
    failureThreshold: options.failureThreshold,
    pollIntervalMs: options.pollIntervalMs,
    signal: options.signal,
    onProgress: (a) => options.onProgress?.(a, 'rollback'),
    onNotice: options.onNotice,
    now,
  });
  // Reverting a deploy that created the app removes the app again: that is the previous state.
  const removedAsBefore = !options.previousVersion && watched.outcome === 'superseded' && /no longer exists/.test(watched.reason ?? '');
  return {
    deploymentId: started.deploymentId,
    marathonVersion: started.version,
    method,
    outcome: removedAsBefore ? 'succeeded' : watched.outcome,
    reason: removedAsBefore
      ? 'the app did not exist before this deploy and was removed again'
      : watched.outcome === 'timeout'
        ? `the previous version was not healthy within ${formatSeconds(options.rollbackTimeoutMs ?? options.timeoutMs)}`
        : watched.outcome === 'interrupted'
          ? 'interrupted while the rollback ran'
          : watched.reason,
    progress: watched.progress,
    durationMs: now() - began,
  };
}

const CANCEL_ATTEMPTS = 5;

/**
 * DELETE /v2/deployments/{id} without force, retried on a lost or failed answer: before each retry the deployment list is
 * read, since the lost answer may have started the revert already (then that revert is the one to follow). `started` null:
 * our deployment is gone and no revert runs.
 */
async function cancelDeployment(options: RolloutOptions, deadline: number): Promise<{ started: DeploymentResult | null } | { error: unknown }> {
  const id = options.started.deploymentId;
  const appId = options.appId.startsWith('/') ? options.appId : `/${options.appId}`;
  for (let attempt = 1; ; attempt++) {
    try {
      return { started: await options.client.deleteDeployment(id) };
    } catch (error) {
      if (error instanceof MarathonError && error.kind === 'not-found') return { started: null };
      const retryable = error instanceof MarathonError && (error.kind === 'unreachable' || error.kind === 'server' || error.kind === 'protocol');
      if (!retryable || attempt >= CANCEL_ATTEMPTS || Date.now() >= deadline) return { error };
      options.onNotice?.(`cancelling deployment ${id} failed (${describe(error)}); reading the deployments again before retrying`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** attempt, 4000)));
      const deployments = await options.client.listDeployments().catch(() => null);
      if (deployments && !deployments.some((d) => d.id === id)) {
        const reverting = deployments.find((d) => d.affectedApps.includes(appId));
        if (!reverting) return { started: null };
        const app = await options.client.findApp(appId).catch(() => null);
        return { started: { deploymentId: reverting.id, version: app?.version ?? reverting.version } };
      }
    }
  }
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))}s`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
