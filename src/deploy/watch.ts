import type { MarathonClient } from '../marathon/client.js';
import { MarathonError } from '../marathon/errors.js';
import { isOwnFailure } from '../marathon/task-states.js';
import type { AppInfo, Deployment, MarathonEvent } from '../marathon/types.js';
import { assessRollout, type RolloutAssessment, type RolloutProgress } from './rollout-state.js';

const WATCHED_EVENTS = [
  'deployment_success',
  'deployment_failed',
  'deployment_info',
  'deployment_step_success',
  'deployment_step_failure',
  'status_update_event',
  'instance_changed_event',
  'health_status_changed_event',
  'instance_health_changed_event',
];
const COALESCE_MS = 20;

export interface WatchOptions {
  client: MarathonClient;
  appId: string;
  deploymentId: string;
  targetVersions: string[];
  /** See RolloutObservation.tasksAtOrAfter (a restart's version). */
  tasksAtOrAfter?: string;
  knownFailure?: { taskId?: string; timestamp?: string } | null;
  /** Epoch ms after which the watch gives up with outcome "timeout". */
  deadline: number;
  failureThreshold?: number;
  /** Fallback polling period; events make it poll at once. */
  pollIntervalMs?: number;
  signal?: AbortSignal;
  onProgress?: (assessment: RolloutAssessment) => void;
  onNotice?: (message: string) => void;
  now?: () => number;
}

export interface WatchResult {
  outcome: 'succeeded' | 'failed' | 'superseded' | 'timeout' | 'interrupted';
  reason?: string;
  progress?: RolloutProgress;
  /** How the watch learned things: whether the event stream was attached at the end, and how often it dropped. */
  events: { drops: number; received: number };
}

/**
 * Follows one deployment until the completion rule says it is over. The event stream only makes us look sooner; every decision
 * is taken on a fresh read of the app and the deployment list, so a dropped or stalled stream costs at most one poll interval.
 */
export async function watchRollout(options: WatchOptions): Promise<WatchResult> {
  const now = options.now ?? Date.now;
  const pollInterval = options.pollIntervalMs ?? 1000;
  const appId = options.appId.startsWith('/') ? options.appId : `/${options.appId}`;
  const failedTaskIds = new Set<string>();
  const targets = new Set(options.targetVersions);
  const events = { drops: 0, received: 0 };
  let wake: (() => void) | undefined;
  // An event that arrives while we are reading must not wait for the next poll: remember it.
  let pending = false;
  const poke = () => {
    if (wake) wake();
    else pending = true;
  };
  let finished = false;

  const onEvent = (event: MarathonEvent) => {
    if (!concernsApp(event, appId, options.deploymentId)) return;
    events.received += 1;
    const data = event.data;
    if (
      event.eventType === 'status_update_event' &&
      isOwnFailure(String(data.taskStatus), typeof data.message === 'string' ? data.message : undefined) &&
      typeof data.version === 'string' &&
      targets.has(data.version) &&
      typeof data.taskId === 'string'
    ) {
      failedTaskIds.add(data.taskId);
    }
    poke();
  };

  let stream = options.client.streamEvents(onEvent, WATCHED_EVENTS);
  const keepStreaming = async () => {
    let backoff = 250;
    while (!finished) {
      const ended = await stream.ended;
      if (finished) return;
      events.drops += 1;
      options.onNotice?.(`event stream ${ended.reason === 'error' ? `failed (${ended.error?.message ?? 'error'})` : 'dropped'}; polling continues, reconnecting`);
      await sleep(backoff, options.signal);
      backoff = Math.min(backoff * 2, 5000);
      if (finished) return;
      stream = options.client.streamEvents(onEvent, WATCHED_EVENTS);
    }
  };
  const streaming = keepStreaming();

  const abort = () => poke();
  options.signal?.addEventListener('abort', abort);
  let last: RolloutAssessment | undefined;
  try {
    for (;;) {
      if (options.signal?.aborted) return { outcome: 'interrupted', progress: last?.progress, events };
      pending = false;
      const observed = await observe(options.client, appId, options.onNotice);
      if (observed) {
        last = assessRollout({
          deploymentId: options.deploymentId,
          targetVersions: options.targetVersions,
          tasksAtOrAfter: options.tasksAtOrAfter,
          knownFailure: options.knownFailure,
          app: observed.app,
          deployments: observed.deployments,
          failedTaskIds,
          failureThreshold: options.failureThreshold ?? 1,
        });
        options.onProgress?.(last);
        if (last.state === 'succeeded') return { outcome: 'succeeded', progress: last.progress, events };
        if (last.state === 'failed' || last.state === 'superseded') {
          return { outcome: last.state, reason: last.reason, progress: last.progress, events };
        }
      }
      if (options.signal?.aborted) return { outcome: 'interrupted', progress: last?.progress, events };
      const remaining = options.deadline - now();
      if (remaining <= 0) return { outcome: 'timeout', progress: last?.progress, events };
      // Events come in bursts (one per task): coalesce them into one read shortly after, instead of one read each.
      const wait = pending ? Math.min(COALESCE_MS, remaining) : Math.min(pollInterval, remaining);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    finished = true;
    options.signal?.removeEventListener('abort', abort);
    stream.close();
    await streaming.catch(() => undefined);
  }
}

async function observe(
  client: MarathonClient,
  appId: string,
  onNotice?: (message: string) => void,
): Promise<{ app: AppInfo | null; deployments: Deployment[] } | null> {
  try {
    const [app, deployments] = await Promise.all([client.findApp(appId), client.listDeployments()]);
    return { app, deployments: deployments.filter((d) => d.affectedApps.includes(appId)) };
  } catch (error) {
    // Any answer that could not be used (network, 5xx, a 3xx, HTML or truncated JSON, a passing 401/403 from a proxy) is a
    // failed read: retried on the next poll, and only the deadline ends the wait. Never an internal error mid-deploy.
    if (error instanceof MarathonError) {
      onNotice?.(`${error.message}; still waiting`);
      return null;
    }
    onNotice?.(`reading Marathon failed (${error instanceof Error ? error.message : String(error)}); still waiting`);
    return null;
  }
}

function concernsApp(event: MarathonEvent, appId: string, deploymentId: string): boolean {
  const data = event.data;
  if (data.appId === appId) return true;
  if (data.id === deploymentId) return true;
  const plan = data.plan as { id?: string } | undefined;
  if (plan?.id === deploymentId) return true;
  if (event.eventType.startsWith('deployment_')) return true;
  return false;
}

/** Waits `ms`, or less when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done);
  });
}

export interface StableWatchOptions {
  client: MarathonClient;
  appId: string;
  /** The versions of the change (a task failure of one of these counts). */
  targetVersions: string[];
  /** lastTaskFailure as it was when the deployment ended: only a newer one counts. */
  knownFailure?: { taskId?: string; timestamp?: string } | null;
  stableMs: number;
  pollIntervalMs?: number;
  signal?: AbortSignal;
  onProgress?: (remainingMs: number) => void;
  onNotice?: (message: string) => void;
  now?: () => number;
}

/** What the watch period after a deployment saw. */
export type StableVerdict = { state: 'stable' } | { state: 'unstable'; reason: string } | { state: 'interrupted' };

/**
 * Marathon ends a deployment once each new task was healthy once, so a version that crashes seconds later "succeeded".
 * After the deployment this keeps looking for `stableMs`: a new-version task failing, a task turning unhealthy or the
 * running count dropping is a failed deploy. Failed reads are retried; they never end the watch by themselves.
 */
export async function watchStable(options: StableWatchOptions): Promise<StableVerdict> {
  const now = options.now ?? Date.now;
  const end = now() + options.stableMs;
  const targets = new Set(options.targetVersions);
  const known = options.knownFailure;
  for (;;) {
    if (options.signal?.aborted) return { state: 'interrupted' };
    const observed = await observe(options.client, options.appId.startsWith('/') ? options.appId : `/${options.appId}`, options.onNotice);
    const app = observed?.app;
    if (observed && !app) return { state: 'unstable', reason: 'the app no longer exists in Marathon' };
    if (app) {
      const verdict = stabilityOf(app, targets, known);
      if (verdict) return { state: 'unstable', reason: verdict };
    }
    const remaining = end - now();
    if (remaining <= 0) return { state: 'stable' };
    options.onProgress?.(remaining);
    await sleep(Math.min(options.pollIntervalMs ?? 1000, remaining), options.signal);
  }
}

/** Why the app is not stable on the new version, or undefined when it is. Pure. */
export function stabilityOf(app: AppInfo, targets: ReadonlySet<string>, known?: { taskId?: string; timestamp?: string } | null): string | undefined {
  const failure = app.lastTaskFailure;
  const isOld = Boolean(known && failure && known.taskId === failure.taskId && known.timestamp === failure.timestamp);
  if (failure && !isOld && failure.version && targets.has(failure.version) && isOwnFailure(failure.state, failure.message)) {
    return `a task of the new version failed after the deployment ended (${failure.state}${failure.message ? `: ${failure.message}` : ''})`;
  }
  const instances = app.instances ?? 0;
  const hasHealthChecks = Array.isArray(app.healthChecks) && app.healthChecks.length > 0;
  if ((app.tasksUnhealthy ?? 0) > 0) return `${app.tasksUnhealthy} task(s) turned unhealthy after the deployment ended`;
  if ((app.deployments ?? []).length === 0 && (app.tasksRunning ?? 0) < instances) {
    return `only ${app.tasksRunning ?? 0}/${instances} tasks running after the deployment ended`;
  }
  if (hasHealthChecks && (app.deployments ?? []).length === 0 && (app.tasksHealthy ?? 0) < instances) {
    return `only ${app.tasksHealthy ?? 0}/${instances} tasks healthy after the deployment ended`;
  }
  return undefined;
}
