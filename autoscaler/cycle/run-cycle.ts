import type { DeploymentResult, AppInfo } from '../../src/marathon/types.js';
import { MarathonError } from '../../src/marathon/errors.js';
import type { UsageQueryOptions } from '../metrics/index.js';
import { activeScheduleFloor, decide } from '../policy/decide.js';
import type { Decision, Recommendation, ScalingPolicy, TaskUsage } from '../policy/types.js';
import { registrationFromLabels } from '../registry/labels.js';
import { toPolicy, type PolicyDefaults, type Registration } from '../registry/registration.js';
import type { Logger } from '../telemetry/logger.js';
import { toAppView } from './app-view.js';

/** Marathon as the cycle uses it: the one list request, and scaling. (MarathonClient fits.) */
export interface MarathonPort {
  listApps(embed: string[]): Promise<AppInfo[]>;
  scaleApp(appId: string, instances: number): Promise<DeploymentResult>;
}

/** InfluxDB as the cycle uses it: one request for every task's usage. (InfluxMetricsSource fits.) */
export interface MetricsPort {
  fetchUsage(options: UsageQueryOptions): Promise<Record<string, TaskUsage>>;
}

export interface Clock {
  now(): number;
}

export interface CycleDeps {
  marathon: MarathonPort;
  metrics: MetricsPort;
  clock: Clock;
  logger: Logger;
}

export interface CycleSettings {
  dryRun: boolean;
  usageQuery: UsageQueryOptions;
  freshnessSeconds: number;
  defaults: PolicyDefaults;
}

/** What the daemon remembers about one app between cycles (in memory only; registrations are persisted elsewhere). */
export interface AppMemory {
  recommendations: Recommendation[];
  /** The `instances` we last saw or set: a different value next cycle means someone else changed it. */
  baseline?: number;
  lastScaleUpAt?: number;
  lastScaleDownAt?: number;
}

export interface CycleState {
  apps: Map<string, AppMemory>;
  consecutiveMetricFailures: number;
}

export function newCycleState(): CycleState {
  return { apps: new Map(), consecutiveMetricFailures: 0 };
}

export type ErrorSource = 'marathon' | 'influxdb';
export type Outcome = 'applied' | 'dry-run' | 'failed' | 'locked' | 'unchanged';

/** A decision as /decisions shows it: the pure function's answer plus what the daemon did with it. */
export interface DecisionRecord extends Decision {
  source: ScalingPolicy['source'];
  outcome: Outcome;
  /** Set when `instances` was changed by someone else since we last looked; it became the new baseline. */
  adopted?: { from: number; to: number };
  error?: string;
}

export interface ManagedApp {
  appId: string;
  source: ScalingPolicy['source'];
  policy: ScalingPolicy;
  inMarathon: boolean;
  instances?: number;
}

export interface CycleResult {
  /** False when Marathon or InfluxDB could not be read: nothing was scaled. */
  ok: boolean;
  startedAt: number;
  finishedAt: number;
  managed: ManagedApp[];
  labelIssues: { appId: string; errors: string[] }[];
  decisions: DecisionRecord[];
  actions: { appId: string; direction: 'up' | 'down'; from: number; to: number; deploymentId: string }[];
  skipped: { appId: string; reason: string }[];
  errors: { source: ErrorSource; message: string; appId?: string }[];
  requests: { marathon: number; influxdb: number };
}

const LIST_EMBEDS = ['apps.tasks', 'apps.deployments'];

/**
 * One autoscaling cycle: one Marathon list, one InfluxDB query, a pure decision per app, Marathon-aware actuation.
 * Any failure to read Marathon or InfluxDB means no scaling this cycle.
 */
export async function runCycle(
  deps: CycleDeps,
  state: CycleState,
  settings: CycleSettings,
  registrations: Registration[],
): Promise<CycleResult> {
  const { logger, clock } = deps;
  const startedAt = clock.now();
  const result: CycleResult = {
    ok: true,
    startedAt,
    finishedAt: startedAt,
    managed: [],
    labelIssues: [],
    decisions: [],
    actions: [],
    skipped: [],
    errors: [],
    requests: { marathon: 0, influxdb: 0 },
  };
  const finish = () => {
    result.finishedAt = clock.now();
    return result;
  };

  let apps: AppInfo[];
  result.requests.marathon += 1;
  try {
    apps = await deps.marathon.listApps(LIST_EMBEDS);
  } catch (error) {
    const message = describeError(error);
    result.ok = false;
    result.errors.push({ source: 'marathon', message });
    logger.warn('cycle held: cannot list Marathon apps, nothing is scaled this cycle', { error: message });
    return finish();
  }

  const byId = new Map(apps.map((app) => [app.id, app]));
  const restIds = new Set(registrations.map((r) => r.appId));
  for (const registration of registrations) {
    const app = byId.get(registration.appId);
    const managed: ManagedApp = {
      appId: registration.appId,
      source: 'rest',
      policy: toPolicy(registration, settings.defaults, 'rest'),
      inMarathon: app !== undefined,
    };
    if (app) managed.instances = app.instances ?? 0;
    result.managed.push(managed);
  }
  for (const app of apps) {
    const fromLabels = registrationFromLabels(app.id, app.labels);
    if (fromLabels.kind === 'none' || restIds.has(app.id)) continue;
    if (fromLabels.kind === 'invalid') {
      result.labelIssues.push({ appId: app.id, errors: fromLabels.errors });
      continue;
    }
    result.managed.push({
      appId: app.id,
      source: 'labels',
      policy: toPolicy(fromLabels.registration, settings.defaults, 'labels'),
      inMarathon: true,
      instances: app.instances ?? 0,
    });
  }
  result.managed.sort((a, b) => a.appId.localeCompare(b.appId));
  for (const issue of result.labelIssues) {
    logger.warn('invalid autoscaling labels: app not managed', { appId: issue.appId, errors: issue.errors });
  }

  const present = result.managed.filter((m) => m.inMarathon);
  for (const missing of result.managed.filter((m) => !m.inMarathon)) {
    result.skipped.push({ appId: missing.appId, reason: 'app-not-found' });
  }
  forgetUnmanaged(state, result.managed);

  let usage: Record<string, TaskUsage> = {};
  let metricsAvailable = true;
  if (present.length > 0) {
    result.requests.influxdb += 1;
    try {
      usage = await deps.metrics.fetchUsage(settings.usageQuery);
      state.consecutiveMetricFailures = 0;
    } catch (error) {
      metricsAvailable = false;
      result.ok = false;
      state.consecutiveMetricFailures += 1;
      const message = describeError(error);
      result.errors.push({ source: 'influxdb', message });
      logger.warn('cycle held: cannot read metrics from InfluxDB, nothing is scaled this cycle', {
        error: message,
        consecutiveFailures: state.consecutiveMetricFailures,
      });
    }
  }

  let marathonReachable = true;
  for (const managed of present) {
    const app = byId.get(managed.appId) as AppInfo;
    const view = toAppView(app);
    const now = clock.now();
    let memory = state.apps.get(managed.appId);
    if (!memory) {
      // First sight (new registration or a daemon restart): the current count counts as a recommendation, so nothing
      // is scaled down before a whole stabilization window of evidence.
      memory = { recommendations: [{ at: now, desired: view.instances }] };
      state.apps.set(managed.appId, memory);
    }

    let adopted: DecisionRecord['adopted'];
    if (!view.deploymentInProgress) {
      if (memory.baseline !== undefined && memory.baseline !== view.instances) {
        // Someone else changed instances: that is the new baseline. Seeding the history with it makes a scale-down
        // wait a whole stabilization window instead of undoing the change at once.
        adopted = { from: memory.baseline, to: view.instances };
        memory.recommendations = [{ at: now, desired: view.instances }];
        logger.info('instances changed outside the autoscaler: adopted as the new baseline', { appId: managed.appId, ...adopted });
      }
      memory.baseline = view.instances;
    }

    const policy: ScalingPolicy = { ...managed.policy, dryRun: managed.policy.dryRun || settings.dryRun };
    const taskIds = new Set(view.tasks.map((t) => t.id));
    const appUsage: Record<string, TaskUsage> = {};
    for (const id of taskIds) {
      const u = usage[id];
      if (u) appUsage[id] = u;
    }
    let decision: Decision;
    try {
      decision = decide({
        now,
        policy,
        app: view,
        usage: appUsage,
        freshnessSeconds: settings.freshnessSeconds,
        recommendations: memory.recommendations,
        scheduleFloor: activeScheduleFloor(policy.schedules, new Date(now)),
        metricsAvailable,
        consecutiveMetricFailures: state.consecutiveMetricFailures,
      });
    } catch (error) {
      // A bug or a bad schedule in one app's policy must not stop the others.
      const message = describeError(error);
      logger.error('decision failed', { appId: managed.appId, error: message });
      result.skipped.push({ appId: managed.appId, reason: 'decision-error' });
      continue;
    }
    if (decision.action === 'scale-up' || decision.action === 'scale-down' || decision.action === 'none') {
      memory.recommendations.push({ at: now, desired: decision.recommendation });
      trimHistory(memory, now, policy.scaleDownStabilizationSeconds);
    }

    const record: DecisionRecord = { ...decision, source: managed.source, outcome: 'unchanged' };
    if (adopted) {
      record.adopted = adopted;
      record.rules = [...record.rules, 'adopted-manual-change'];
    }
    result.decisions.push(record);

    if (decision.action === 'skip' || decision.action === 'hold') {
      result.skipped.push({ appId: managed.appId, reason: decision.rules[0] ?? decision.action });
      if (decision.action === 'skip') logger.info('app skipped', { appId: managed.appId, reason: decision.reason });
      continue;
    }
    if (decision.action === 'none' || decision.desired === decision.current) continue;

    const direction = decision.desired > decision.current ? 'up' : 'down';
    if (decision.dryRun) {
      record.outcome = 'dry-run';
      result.skipped.push({ appId: managed.appId, reason: 'dry-run' });
      logger.info('dry run: would scale', logFields(decision));
      continue;
    }
    if (!marathonReachable) {
      record.outcome = 'failed';
      record.error = 'Marathon became unreachable earlier in this cycle';
      continue;
    }
    try {
      const deployment = await deps.marathon.scaleApp(managed.appId, decision.desired);
      result.requests.marathon += 1;
      record.outcome = 'applied';
      memory.baseline = decision.desired;
      if (direction === 'up') memory.lastScaleUpAt = now;
      else memory.lastScaleDownAt = now;
      result.actions.push({
        appId: managed.appId,
        direction,
        from: decision.current,
        to: decision.desired,
        deploymentId: deployment.deploymentId,
      });
      logger.info(direction === 'up' ? 'scaled up' : 'scaled down', { ...logFields(decision), deploymentId: deployment.deploymentId });
    } catch (error) {
      result.requests.marathon += 1;
      const message = describeError(error);
      record.error = message;
      if (error instanceof MarathonError && error.kind === 'locked') {
        // A deployment started after our list: leave the app alone, never force.
        record.outcome = 'locked';
        result.skipped.push({ appId: managed.appId, reason: 'deployment-in-progress' });
        logger.info('app skipped: a deployment started meanwhile (409), not forcing', { appId: managed.appId });
        continue;
      }
      record.outcome = 'failed';
      result.errors.push({ source: 'marathon', message, appId: managed.appId });
      logger.warn('scaling failed', { ...logFields(decision), error: message });
      if (error instanceof MarathonError && error.kind === 'unreachable') marathonReachable = false;
    }
  }
  return finish();
}

function logFields(decision: Decision): Record<string, unknown> {
  return {
    appId: decision.appId,
    from: decision.current,
    to: decision.desired,
    reason: decision.reason,
    rules: decision.rules,
  };
}

function trimHistory(memory: AppMemory, now: number, stabilizationSeconds: number): void {
  const keepAfter = now - stabilizationSeconds * 1000 - 1000;
  if (memory.recommendations.length > 0 && (memory.recommendations[0] as Recommendation).at < keepAfter) {
    memory.recommendations = memory.recommendations.filter((r) => r.at >= keepAfter);
  }
}

function forgetUnmanaged(state: CycleState, managed: ManagedApp[]): void {
  if (state.apps.size === 0) return;
  const ids = new Set(managed.map((m) => m.appId));
  for (const id of state.apps.keys()) if (!ids.has(id)) state.apps.delete(id);
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
