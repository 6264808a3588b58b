import type { MarathonClient } from '../marathon/client.js';
import { MarathonError } from '../marathon/errors.js';
import type { DeploymentResult } from '../marathon/types.js';
import type { RolloutAssessment, RolloutProgress } from './rollout-state.js';
import { watchRollout, type WatchResult } from './watch.js';

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
  method: 'cancel-deployment' | 'previous-version';
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
  waitMs: number;
  eventStreamDrops: number;
}

export interface RolloutOptions {
  client: MarathonClient;
  appId: string;
  /** What Marathon started for our change (the PUT already happened). */
  started: DeploymentResult;
  /** The app's Marathon version before our change; null when the change created the app. */
  previousVersion: string | null;
  knownFailure?: { taskId?: string; timestamp?: string } | null;
  timeoutMs: number;
  /** Deadline for the revert; defaults to timeoutMs. A short --timeout must not doom the rollback too. */
  rollbackTimeoutMs?: number;
  rollback: boolean;
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
  if (watched.outcome === 'succeeded' || watched.outcome === 'superseded' || watched.outcome === 'interrupted') {
    return { ...base, outcome: watched.outcome, waitMs: waitMs() };
  }
  const failedOutcome = watched.outcome === 'timeout' ? 'timeout' : 'failed';
  const reason = watched.outcome === 'timeout' ? `not healthy within ${formatSeconds(options.timeoutMs)}` : watched.reason;
  if (!options.rollback) return { ...base, reason, outcome: failedOutcome, waitMs: waitMs() };

  const rollback = await revert(options, now);
  const outcome: RolloutOutcome =
    rollback.outcome === 'succeeded'
      ? failedOutcome === 'timeout'
        ? 'timeout-rolled-back'
        : 'failed-rolled-back'
      : rollback.outcome === 'interrupted'
        ? 'interrupted'
        : 'rollback-failed';
  return { ...base, reason, outcome, rollback, waitMs: waitMs() };
}

/**
 * Cancels our deployment without force, so Marathon itself starts a deployment back to the previous definition, then holds
 * that to the same completion rule. When the deployment is already gone, the previous version is PUT back instead.
 */
async function revert(options: RolloutOptions, now: () => number): Promise<RollbackReport> {
  const began = now();
  let started: DeploymentResult | null = null;
  let method: RollbackReport['method'] = 'cancel-deployment';
  try {
    started = await options.client.deleteDeployment(options.started.deploymentId);
  } catch (error) {
    if (!(error instanceof MarathonError && error.kind === 'not-found')) {
      return { method, outcome: 'failed', reason: describe(error), durationMs: now() - began };
    }
  }
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

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))}s`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
