import type { DeploymentResult, AppInfo } from '../../src/marathon/types.js';
import { MarathonError } from '../../src/marathon/errors.js';
import type { UsageQueryOptions } from '../metrics/index.js';
import { activeScheduleFloor, decide, explainDecision } from '../policy/decide.js';
import type { AppView, Decision, Recommendation, ScaleEvent, ScalingPolicy, TaskUsage } from '../policy/types.js';
import { SCALE_UP_PERIOD_SECONDS } from '../policy/limits.js';
import { registrationFromLabels, type LabelRegistration } from '../registry/labels.js';
import { toPolicy, type PolicyDefaults, type Registration } from '../registry/registration.js';
import type { Logger } from '../telemetry/logger.js';
import { HistoryCache, type HistoryCachePolicy } from '../forecast/cache.js';
import { toAppView } from './app-view.js';
import { isPredictive, predictedFloorFor, refreshHistories, type HistoryPort } from './predictive.js';

/** Marathon as the cycle uses it: the one list request, read app by app, and scaling. (MarathonClient fits.) */
export interface MarathonPort {
  visitApps(embed: string[], visit: (app: AppInfo) => void): Promise<number>;
  scaleApp(appId: string, instances: number): Promise<DeploymentResult>;
}

/** InfluxDB as the cycle uses it: one request for every task's usage. (InfluxMetricsSource fits.) */
export interface MetricsPort {
  /** Rejects when `signal` is aborted (the cycle no longer needs the answer). */
  fetchUsage(options: UsageQueryOptions, signal?: AbortSignal): Promise<Record<string, TaskUsage>>;
}

export interface Clock {
  now(): number;
}

/**
 * Asked right before each scale request, with the app's memory as it will be once the request is applied. Rejects
 * when this instance may no longer scale (it lost the leadership): the request is then not sent, nor any other this
 * cycle. (Without it, as with a single instance, every request is sent.)
 */
export interface ScaleGuard {
  beforeScale(appId: string, after: AppMemory): Promise<void>;
}

export interface CycleDeps {
  marathon: MarathonPort;
  metrics: MetricsPort;
  /** The usage history of predictive apps; without it no app gets a predicted floor. */
  history?: HistoryPort;
  clock: Clock;
  logger: Logger;
  guard?: ScaleGuard;
}

export interface CycleSettings {
  dryRun: boolean;
  usageQuery: UsageQueryOptions;
  freshnessSeconds: number;
  defaults: PolicyDefaults;
  /** Where and how predictive apps' history is read (autoscaler/forecast). */
  forecast?: { retentionPolicy?: string; bucketMinutes: number };
}

/** What the daemon remembers about one app between cycles (in memory only; registrations are persisted elsewhere). */
export interface AppMemory {
  recommendations: Recommendation[];
  /** The `instances` we last saw or set: a different value next cycle means someone else changed it. */
  baseline?: number;
  /** Scalings applied within the last scale-up period, oldest first: the rate limit is per period, not per cycle. */
  scaleEvents?: ScaleEvent[];
  /** Why the app was skipped last cycle: a skip is logged when it starts, not every cycle. */
  skippedFor?: string;
}

export interface CycleState {
  apps: Map<string, AppMemory>;
  consecutiveMetricFailures: number;
  /** Each app's AUTOSCALE_* labels as last parsed, by app id. */
  labels: Map<string, { key: string; parsed: LabelRegistration; fresh: boolean }>;
  /** Predictive apps' usage history, read once an hour (one request for the apps due, at most one a cycle). */
  histories: HistoryCache;
}

/** A history read serves the forecasts of the next hour; a failed one is tried again after five minutes. */
export const DEFAULT_HISTORY_CACHE: HistoryCachePolicy = { cacheMs: 60 * 60_000, retryMs: 5 * 60_000, appsPerQuery: 10 };

export function newCycleState(historyCache: HistoryCachePolicy = DEFAULT_HISTORY_CACHE): CycleState {
  return { apps: new Map(), consecutiveMetricFailures: 0, labels: new Map(), histories: new HistoryCache(historyCache) };
}

export type ErrorSource = 'marathon' | 'influxdb';
export type Outcome = 'applied' | 'dry-run' | 'failed' | 'locked' | 'unchanged' | 'not-leader';

/**
 * A decision as the daemon keeps it for /decisions: the pure function's answer plus what the daemon did with it.
 * Built with every field in place (absent ones `undefined`), so the thousands made each cycle share one shape.
 */
export interface DecisionRecord extends Decision {
  source: ScalingPolicy['source'];
  outcome: Outcome;
  /** Set when `instances` was changed by someone else since we last looked; it became the new baseline. */
  adopted: { from: number; to: number } | undefined;
  error: string | undefined;
  /** The app's resources: utilization = usage / these. */
  resources: { cpus: number; memMiB: number };
  /** When the first of a run of identical decisions was made, and how many there were (the log folds repeats). */
  firstAt: number;
  repeated: number;
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
  /** Wall time of each phase, for the cycle log line and the benchmark (historyQuery: predictive apps' history). */
  phasesMs: { marathonList: number; influxQuery: number; historyQuery: number; decide: number; scale: number };
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
    phasesMs: { marathonList: 0, influxQuery: 0, historyQuery: 0, decide: 0, scale: 0 },
  };
  const finish = () => {
    result.finishedAt = clock.now();
    return result;
  };

  // The usage query does not depend on the list's answer (it reads every task's usage): when the previous cycle had apps
  // to decide for, it runs alongside the list, so the cycle waits for the slower of the two instead of their sum. Its
  // answer is used only if the list succeeds and names managed apps; otherwise it is aborted and neither counted nor
  // reported, as when it is not sent (the first cycle, or none managed last time: then it follows the list as before).
  const early = state.apps.size > 0 ? startUsageRead(deps, settings) : undefined;

  let views: Map<string, AppView>;
  result.requests.marathon += 1;
  try {
    // Each app is reduced to what the cycle needs as it arrives: the raw list (megabytes with thousands of tasks) is
    // never alive at once, so it neither grows the young generation nor gets promoted to be collected by a full GC.
    const collector = new ManagedAppsCollector(registrations, settings.defaults, state);
    await deps.marathon.visitApps(LIST_EMBEDS, (app) => collector.visit(app));
    views = collector.finish(result);
    result.phasesMs.marathonList = clock.now() - startedAt;
  } catch (error) {
    early?.abort();
    const message = describeError(error);
    result.ok = false;
    result.errors.push({ source: 'marathon', message });
    logger.warn('cycle held: cannot list Marathon apps, nothing is scaled this cycle', { error: message });
    return finish();
  }
  for (const issue of result.labelIssues) {
    if (state.labels.get(issue.appId)?.fresh) {
      logger.warn('invalid autoscaling labels: app not managed', { appId: issue.appId, errors: issue.errors });
    }
  }

  const present = result.managed.filter((m) => m.inMarathon);
  for (const missing of result.managed.filter((m) => !m.inMarathon)) {
    result.skipped.push({ appId: missing.appId, reason: 'app-not-found' });
  }
  forgetUnmanaged(state, result.managed);

  let usage: Record<string, TaskUsage> = {};
  let metricsAvailable = true;
  if (present.length === 0) early?.abort();
  else {
    result.requests.influxdb += 1;
    const read = await (early ?? startUsageRead(deps, settings)).outcome;
    result.phasesMs.influxQuery = read.ms;
    if (read.usage !== undefined) {
      usage = read.usage;
      state.consecutiveMetricFailures = 0;
    } else {
      metricsAvailable = false;
      result.ok = false;
      state.consecutiveMetricFailures += 1;
      const message = describeError(read.error);
      result.errors.push({ source: 'influxdb', message });
      logger.warn('cycle held: cannot read metrics from InfluxDB, nothing is scaled this cycle', {
        error: message,
        consecutiveFailures: state.consecutiveMetricFailures,
      });
    }
  }

  if (metricsAvailable) await readDueHistories(deps, state, settings, present, result);

  let marathonReachable = true;
  let mayScale = true;
  let scaleMs = 0;
  const decideStartedAt = clock.now();
  for (const managed of present) {
    const view = views.get(managed.appId) as AppView;
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

    const policy: ScalingPolicy = settings.dryRun && !managed.policy.dryRun ? { ...managed.policy, dryRun: true } : managed.policy;
    let decision: Decision;
    try {
      decision = decide({
        now,
        policy,
        app: view,
        // decide() looks tasks up by id: the whole map is passed, no per-app copy (objects keyed by task ids would
        // each grow their own hidden classes).
        usage,
        freshnessSeconds: settings.freshnessSeconds,
        recommendations: memory.recommendations,
        scaleEvents: forgetOldScaleEvents(memory, now),
        scheduleFloor: activeScheduleFloor(policy.schedules, new Date(now)),
        predictedFloor: predictedFloorFor(policy, view, state.histories, now),
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
      rememberRecommendation(memory, { at: now, desired: decision.recommendation }, policy.scaleDownStabilizationSeconds);
    }

    const record = toRecord(decision, managed.source, view);
    if (adopted) {
      record.adopted = adopted;
      record.rules = [...record.rules, 'adopted-manual-change'];
    }
    result.decisions.push(record);

    if (decision.action === 'skip' || decision.action === 'hold') {
      result.skipped.push({ appId: managed.appId, reason: decision.rules[0] ?? decision.action });
      const skipReason = decision.rules.join(',');
      if (decision.action === 'skip' && memory.skippedFor !== skipReason) {
        logger.info('app skipped', { appId: managed.appId, reason: explainDecision(decision) });
      }
      memory.skippedFor = decision.action === 'skip' ? skipReason : undefined;
      continue;
    }
    memory.skippedFor = undefined;
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
    const event: ScaleEvent = { at: now, change: decision.desired - decision.current };
    if (mayScale && deps.guard) {
      try {
        await deps.guard.beforeScale(managed.appId, { ...memory, baseline: decision.desired, scaleEvents: [...(memory.scaleEvents ?? []), event] });
      } catch (error) {
        mayScale = false;
        logger.warn('scaling stopped: this instance no longer leads', { appId: managed.appId, error: describeError(error) });
      }
    }
    if (!mayScale) {
      record.outcome = 'not-leader';
      record.error = 'this instance no longer leads: another one scales';
      result.skipped.push({ appId: managed.appId, reason: 'not-leader' });
      continue;
    }
    const scaleStartedAt = clock.now();
    try {
      const deployment = await deps.marathon.scaleApp(managed.appId, decision.desired);
      scaleMs += clock.now() - scaleStartedAt;
      result.requests.marathon += 1;
      record.outcome = 'applied';
      memory.baseline = decision.desired;
      (memory.scaleEvents ??= []).push(event);
      result.actions.push({
        appId: managed.appId,
        direction,
        from: decision.current,
        to: decision.desired,
        deploymentId: deployment.deploymentId,
      });
      logger.info(direction === 'up' ? 'scaled up' : 'scaled down', { ...logFields(decision), deploymentId: deployment.deploymentId });
    } catch (error) {
      scaleMs += clock.now() - scaleStartedAt;
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
  result.phasesMs.scale = scaleMs;
  result.phasesMs.decide = clock.now() - decideStartedAt - scaleMs;
  return finish();
}

/**
 * The one extra InfluxDB request of a cycle, and not of most: the history of the predictive apps whose cached history
 * is due (once an hour each). A failure costs those apps their floor until it is read (reactive scaling goes on).
 */
async function readDueHistories(deps: CycleDeps, state: CycleState, settings: CycleSettings, present: ManagedApp[], result: CycleResult): Promise<void> {
  const policies = present.map((managed) => managed.policy).filter(isPredictive);
  if (deps.history === undefined) return;
  const query = { taskIdTag: settings.usageQuery.taskIdTag, bucketMinutes: settings.forecast?.bucketMinutes ?? 5 };
  const retentionPolicy = settings.forecast?.retentionPolicy;
  const refresh = await refreshHistories(
    deps.history,
    state.histories,
    policies,
    deps.clock.now(),
    retentionPolicy === undefined ? query : { ...query, retentionPolicy },
    () => deps.clock.now(),
  );
  if (refresh === undefined) return;
  result.requests.influxdb += 1;
  result.phasesMs.historyQuery = refresh.ms;
  if (refresh.error === undefined) deps.logger.debug('usage history read for predictive floors', { apps: refresh.apps });
  else {
    deps.logger.warn('cannot read the usage history of predictive apps: no predicted floor for them until it is read', {
      apps: refresh.apps,
      error: describeError(refresh.error),
    });
  }
}

interface UsageRead {
  /** Never rejects: the usage, or the error, and how long the query took. */
  outcome: Promise<{ usage: Record<string, TaskUsage>; error?: undefined; ms: number } | { usage?: undefined; error: unknown; ms: number }>;
  abort(): void;
}

/** Sends the usage query now. */
function startUsageRead(deps: CycleDeps, settings: CycleSettings): UsageRead {
  const controller = new AbortController();
  const startedAt = deps.clock.now();
  const outcome = deps.metrics.fetchUsage(settings.usageQuery, controller.signal).then(
    (usage) => ({ usage, ms: deps.clock.now() - startedAt }),
    (error: unknown) => ({ error, ms: deps.clock.now() - startedAt }),
  );
  return { outcome, abort: () => controller.abort() };
}

/**
 * Which apps are managed this cycle: REST registrations (they win), then apps registering by AUTOSCALE_* labels.
 * Sees Marathon's apps one at a time and keeps the decision function's view of the managed ones only. Nothing reaches
 * the cycle's result or state before `finish`: a list that fails halfway changes nothing.
 */
class ManagedAppsCollector {
  private readonly restById: Map<string, Registration>;
  private readonly views = new Map<string, AppView>();
  private readonly labelled: ManagedApp[] = [];
  private readonly labelIssues: CycleResult['labelIssues'] = [];
  private readonly seenLabels: CycleState['labels'] = new Map();

  constructor(
    private readonly registrations: Registration[],
    private readonly defaults: PolicyDefaults,
    private readonly state: CycleState,
  ) {
    this.restById = new Map(registrations.map((registration) => [registration.appId, registration]));
  }

  visit(app: AppInfo): void {
    if (this.restById.has(app.id)) {
      this.views.set(app.id, toAppView(app));
      return;
    }
    const parsed = cachedLabelRegistration(this.state, this.seenLabels, app);
    if (parsed.kind === 'none') return;
    if (parsed.kind === 'invalid') {
      this.labelIssues.push({ appId: app.id, errors: parsed.errors });
      return;
    }
    const view = toAppView(app);
    this.labelled.push({
      appId: app.id,
      source: 'labels',
      policy: toPolicy(parsed.registration, this.defaults, 'labels'),
      inMarathon: true,
      instances: view.instances,
    });
    this.views.set(app.id, view);
  }

  /** Fills result.managed and result.labelIssues; returns the view of each managed app that is in Marathon. */
  finish(result: CycleResult): Map<string, AppView> {
    for (const registration of this.registrations) {
      const view = this.views.get(registration.appId);
      const managed: ManagedApp = {
        appId: registration.appId,
        source: 'rest',
        policy: toPolicy(registration, this.defaults, 'rest'),
        inMarathon: view !== undefined,
      };
      if (view) managed.instances = view.instances;
      result.managed.push(managed);
    }
    for (const managed of this.labelled) result.managed.push(managed);
    result.managed.sort((a, b) => (a.appId < b.appId ? -1 : a.appId > b.appId ? 1 : 0));
    result.labelIssues.push(...this.labelIssues);
    this.state.labels = this.seenLabels;
    return this.views;
  }
}

/** Labels rarely change between cycles: parse an app's AUTOSCALE_* labels again only when they did. */
function cachedLabelRegistration(
  state: CycleState,
  seen: CycleState['labels'],
  app: AppInfo,
): LabelRegistration {
  const labels = app.labels ?? {};
  let key = '';
  for (const name in labels) if (name.startsWith('AUTOSCALE_')) key += `${name}\u0000${labels[name]}\u0000`;
  if (key === '') return { kind: 'none' };
  const cached = state.labels.get(app.id);
  if (cached && cached.key === key) {
    seen.set(app.id, { key, parsed: cached.parsed, fresh: false });
    return cached.parsed;
  }
  const parsed = registrationFromLabels(app.id, labels);
  seen.set(app.id, { key, parsed, fresh: true });
  return parsed;
}

function toRecord(decision: Decision, source: ScalingPolicy['source'], view: AppView): DecisionRecord {
  return {
    appId: decision.appId,
    at: decision.at,
    current: decision.current,
    desired: decision.desired,
    recommendation: decision.recommendation,
    action: decision.action,
    rules: decision.rules,
    inputs: decision.inputs,
    dryRun: decision.dryRun,
    metrics: decision.metrics,
    notes: decision.notes,
    source,
    outcome: 'unchanged',
    adopted: undefined,
    error: undefined,
    resources: { cpus: view.cpus, memMiB: view.mem },
    firstAt: decision.at,
    repeated: 1,
  };
}

function logFields(decision: Decision): Record<string, unknown> {
  return {
    appId: decision.appId,
    from: decision.current,
    to: decision.desired,
    reason: explainDecision(decision),
    rules: decision.rules,
  };
}

/**
 * The stabilization window only ever asks for the highest recommendation since a cutoff, so an earlier entry that is
 * not higher than a later one can never be the answer: dropping those keeps the history short (a decreasing run)
 * instead of one entry per cycle for the whole window.
 */
export function rememberRecommendation(memory: AppMemory, recommendation: Recommendation, stabilizationSeconds: number): void {
  const history = memory.recommendations;
  while (history.length > 0 && (history[history.length - 1] as Recommendation).desired <= recommendation.desired) history.pop();
  history.push(recommendation);
  const keepAfter = recommendation.at - stabilizationSeconds * 1000 - 1000;
  while (history.length > 1 && (history[0] as Recommendation).at < keepAfter) history.shift();
}

/** Drops the scale events no period reaches any more; returns the rest. */
function forgetOldScaleEvents(memory: AppMemory, now: number): ScaleEvent[] {
  const events = memory.scaleEvents;
  if (events === undefined) return [];
  const since = now - SCALE_UP_PERIOD_SECONDS * 1000;
  while (events.length > 0 && (events[0] as ScaleEvent).at <= since) events.shift();
  return events;
}

function forgetUnmanaged(state: CycleState, managed: ManagedApp[]): void {
  if (state.apps.size === 0) return;
  const ids = new Set(managed.map((m) => m.appId));
  for (const id of state.apps.keys()) if (!ids.has(id)) state.apps.delete(id);
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
