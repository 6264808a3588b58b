import type { MarathonClient } from '../marathon/client.js';
import { MarathonError } from '../marathon/errors.js';
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
const FAILED_TASK_STATES = new Set(['TASK_FAILED', 'TASK_ERROR']);

export interface WatchOptions {
  client: MarathonClient;
  appId: string;
  deploymentId: string;
  targetVersions: string[];
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
      FAILED_TASK_STATES.has(String(data.taskStatus)) &&
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
    if (error instanceof MarathonError && (error.kind === 'unreachable' || error.kind === 'server')) {
      onNotice?.(`${error.message}; still waiting`);
      return null;
    }
    throw error;
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

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
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
