// The emulated Marathon: apps, tasks and deployments as plain records, driven by an injected clock.
// Decisions (what to kill, launch, when a step is done) come from decisions.ts; this module applies them,
// moves tasks through their Mesos states and emits Marathon's events.
import { randomUUID } from 'node:crypto';
import type { Clock } from './clock.js';
import { decide, type Goal, type TaskPicture } from './decisions.js';
import {
  behaviourOf,
  classifyChange,
  hasHealthChecks,
  hostPortCount,
  instancesOf,
  isJsonObject,
  killSelectionOf,
  normalizeDefinition,
  safePath,
  servicePortsOf,
  upgradeStrategyOf,
  type Behaviour,
  type JsonObject,
  type StoredApp,
  type VersionInfo,
} from './definition.js';
import { applyHealthResult, healthCheckRulesOf } from './health.js';
import { simulatedRunner } from './tasks/simulated-runner.js';
import type { Placement, ProbeResult, TaskExit, TaskReports, TaskRunner, TaskRunnerFactory } from './tasks/runner.js';
import {
  DEFAULT_KILL_GRACE_PERIOD_MS,
  killGracePeriodMsOf,
  type EmulatorTimings,
  type HealthRecord,
  type MesosState,
  type TaskRecord,
} from './task-record.js';

export type { EmulatorTimings, HealthRecord, MesosState, TaskRecord } from './task-record.js';
export { DEFAULT_KILL_GRACE_PERIOD_MS } from './task-record.js';

export interface AppRecord {
  stored: StoredApp;
  generation: number;
  tasks: TaskRecord[];
  /** Every stored version of the app, oldest first. */
  versions: StoredApp[];
  lastTaskFailure: JsonObject | null;
  /** Launches are held back until this time after a task failure (Marathon's launch rate limiter). */
  delay: { since: number; until: number } | null;
  cancelDelayTimer: (() => void) | null;
  /** Instances whose task failed: Marathon relaunches them as the next incarnation of the same instance. */
  rescheduled: { instanceId: string; incarnation: number }[];
}

/** Why a task ends badly; each becomes lastTaskFailure (Marathon's TaskFailure) and a status_update_event. */
type TaskEnd = { kind: 'failed'; exit: TaskExit } | { kind: 'finished' } | { kind: 'lost' } | { kind: 'health-kill'; reason: string };

export type ActionName = 'StartApplication' | 'ScaleApplication' | 'RestartApplication' | 'StopApplication';

export interface DeploymentRecord {
  id: string;
  version: string;
  appId: string;
  steps: ActionName[];
  /** 0-based index into steps. */
  stepIndex: number;
  /** The app before this deployment (null: it created the app). */
  original: StoredApp | null;
  /** The app after it (null: it deleted the app). */
  target: StoredApp | null;
}

export interface Origin {
  clientIp: string;
  uri: string;
}

export type Outcome =
  | { ok: true; deploymentId: string; version: string; created: boolean }
  | { ok: false; status: number; body: JsonObject };

/** Tasks killed without scaling: no deployment, Marathon answers the killed tasks. */
export type KillOutcome = { ok: true; killed: TaskRecord[] };

export interface ModelOptions {
  clock: Clock;
  timings: EmulatorTimings;
  emit(eventType: string, payload: JsonObject): void;
  /**
   * Marathon's Group.defaultVersion, epoch ms: fixed when the Marathon process started, given to whatever a version-less
   * updateRoot writes (the revert of DELETE /v2/deployments/{id}). Default: the clock's time when the model is made.
   */
  defaultVersion?: number;
  /** What runs the tasks (default: the simulation on the clock, with `timings`). */
  runner?: TaskRunnerFactory;
  /**
   * Marathon's `task_killing` feature: a killed task shows TASK_KILLING (status_update_event and its state) until
   * TASK_KILLED. Off by default, as in Marathon 1.10.
   */
  taskKilling?: boolean;
}

/** How a write reaches updateRoot: forced or not, from where, and with which version (default: a new one, now). */
export interface WriteOptions {
  force: boolean;
  origin: Origin;
  version?: string;
}

const AGENTS = 5;
const SLAVE_PREFIX = 'e3c1b6a2-4d2f-4c4e-9b1a-5f0e7d6c8a90';

export const LOCKED_MESSAGE =
  "App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/<DEPLOYMENT_ID>'.";

/** Behaviours whose health checks pass (the others: `unhealthy` and `hc-kill` fail them). */
function passesHealthChecks(behaviour: Behaviour): boolean {
  return behaviour !== 'unhealthy' && behaviour !== 'hc-kill';
}

export function appNotFound(appId: string, version?: string): JsonObject {
  return { message: `App '${appId}' does not exist${version ? ` in version ${version}` : ''}` };
}

/** Marathon's instance ids use time-based (v1) UUIDs. */
function timeBasedUuid(): string {
  const uuid = randomUUID();
  return `${uuid.slice(0, 14)}1${uuid.slice(15)}`;
}

export class MarathonModel {
  readonly apps = new Map<string, AppRecord>();
  readonly deployments = new Map<string, DeploymentRecord>();
  /** Tasks of deleted apps, dying under a StopApplication step. */
  private orphans: TaskRecord[] = [];
  private readonly timers = new Set<() => void>();
  private lastVersionMs: number;
  /** Group.defaultVersion (see ModelOptions): older than every version the model issues. */
  readonly defaultVersion: string;
  private nextServicePort = 10000;
  private nextAgent = 0;
  private readonly hostPorts: number[] = Array.from({ length: AGENTS }, () => 31000);
  private readonly runner: TaskRunner;

  constructor(private readonly options: ModelOptions) {
    this.lastVersionMs = options.defaultVersion ?? options.clock.now();
    this.defaultVersion = new Date(this.lastVersionMs).toISOString();
    this.runner = (options.runner ?? simulatedRunner(options.timings))(this.taskReports());
  }

  // ---------------------------------------------------------------- reads

  app(appId: string): AppRecord | undefined {
    return this.apps.get(appId);
  }

  deploymentsFor(appId: string): DeploymentRecord[] {
    return [...this.deployments.values()].filter((d) => d.appId === appId);
  }

  allTasks(): TaskRecord[] {
    return [...[...this.apps.values()].flatMap((a) => a.tasks), ...this.orphans];
  }

  /** Apps with launches held back by the failure backoff, and how many instances wait. */
  queue(): { app: AppRecord; count: number; since: number; until: number }[] {
    const now = this.options.clock.now();
    const entries: { app: AppRecord; count: number; since: number; until: number }[] = [];
    for (const app of this.apps.values()) {
      if (!app.delay || app.delay.until <= now) continue;
      const count = this.decisionFor(app.stored.definition.id as string).launch;
      if (count > 0) entries.push({ app, count, since: app.delay.since, until: app.delay.until });
    }
    return entries;
  }

  now(): number {
    return this.options.clock.now();
  }

  // ---------------------------------------------------------------- writes

  /** Apps that exist when the emulator starts: already running (and healthy), no deployment. */
  seed(appId: string, body: JsonObject): void {
    const version = this.issueVersion();
    const definition = this.normalize(body, appId, undefined);
    const stored: StoredApp = { definition, version, versionInfo: { lastScalingAt: version, lastConfigChangeAt: version } };
    const app = this.newAppRecord(stored);
    this.apps.set(appId, app);
    for (let i = 0; i < instancesOf(definition); i++) {
      // Real processes cannot be running already: they are launched (and staged) like any other task.
      if (this.runner.kind === 'processes') {
        this.launchTask(app);
        continue;
      }
      const task = this.createTask(app);
      task.state = task.behaviour === 'stuck' ? 'TASK_STAGING' : 'TASK_RUNNING';
      if (task.state !== 'TASK_RUNNING') continue;
      task.startedAt = task.stagedAt;
      this.runner.adopt(task, definition);
    }
  }

  /** Canonical form of a definition for `appId`, reusing the current app's service ports by position. */
  normalize(body: JsonObject, appId: string, current: StoredApp | undefined): JsonObject {
    return normalizeDefinition(body, appId, {
      previous: current ? servicePortsOf(current.definition) : [],
      allocate: () => this.nextServicePort++,
    });
  }

  /**
   * Create, update or scale: Marathon's updateRoot for one app. `definition` is canonical (see normalize). The kind of
   * change decides the version bookkeeping, as Marathon's GroupVersioningUtil does: a config change moves both
   * versionInfo timestamps, a scale only lastScalingAt, and no change keeps the app's version.
   */
  putApp(appId: string, definition: JsonObject, options: WriteOptions): Outcome {
    const app = this.apps.get(appId);
    if (!app) return this.createApp(appId, definition, options);
    const change = classifyChange(app.stored.definition, definition);
    if (change === 'none') return this.emptyDeployment(appId, definition, app.stored, options);
    const version = options.version ?? this.issueVersion();
    const versionInfo: VersionInfo =
      change === 'config'
        ? { lastConfigChangeAt: version, lastScalingAt: version }
        : { lastConfigChangeAt: app.stored.versionInfo.lastConfigChangeAt, lastScalingAt: version };
    return this.startDeployment(appId, {
      version,
      target: { definition, version, versionInfo },
      steps: [change === 'config' ? 'RestartApplication' : 'ScaleApplication'],
      newGeneration: change === 'config',
      force: options.force,
      origin: options.origin,
    });
  }

  restartApp(appId: string, options: { force: boolean; origin: Origin }): Outcome {
    const app = this.apps.get(appId);
    if (!app) return { ok: false, status: 404, body: appNotFound(appId) };
    const version = this.issueVersion();
    return this.startDeployment(appId, {
      version,
      target: {
        definition: app.stored.definition,
        version,
        versionInfo: { lastConfigChangeAt: app.stored.versionInfo.lastConfigChangeAt, lastScalingAt: version },
      },
      steps: ['RestartApplication'],
      newGeneration: true,
      force: options.force,
      origin: options.origin,
    });
  }

  /** PUT {"version": ts}: the stored definition of that version becomes current again. */
  rollbackApp(appId: string, toVersion: string, options: WriteOptions): Outcome {
    const app = this.apps.get(appId);
    if (!app) return { ok: false, status: 404, body: appNotFound(appId) };
    const stored = app.versions.find((v) => v.version === toVersion);
    if (!stored) return { ok: false, status: 404, body: appNotFound(appId, toVersion) };
    return this.putApp(appId, stored.definition, options);
  }

  deleteApp(appId: string, options: WriteOptions): Outcome {
    const app = this.apps.get(appId);
    if (!app) return { ok: false, status: 404, body: appNotFound(appId) };
    return this.startDeployment(appId, {
      version: options.version ?? this.issueVersion(),
      target: null,
      steps: ['StopApplication'],
      newGeneration: false,
      force: options.force,
      origin: options.origin,
    });
  }

  /**
   * Kills tasks of one app (DELETE /v2/apps/{id}/tasks..., POST /v2/tasks/delete). Without scale Marathon replaces
   * them; with scale the app shrinks by as many instances, in a ScaleApplication deployment (locked apps: 409).
   */
  killTasks(appId: string, taskIds: string[], options: { scale: boolean; force: boolean; origin: Origin }): Outcome | KillOutcome {
    const app = this.apps.get(appId);
    if (!app) return { ok: false, status: 404, body: appNotFound(appId) };
    const victims = app.tasks.filter((t) => taskIds.includes(t.id) && !t.killing);
    if (!options.scale) {
      for (const task of victims) this.killTask(task);
      this.reconcile(appId);
      return { ok: true, killed: victims };
    }
    const instances = Math.max(0, instancesOf(app.stored.definition) - victims.length);
    const target = { ...app.stored.definition, instances };
    // Locked: refused by putApp (409), which stores the version as Marathon's updateRoot does; nothing is killed.
    if (this.deploymentsFor(appId).length > 0 && !options.force) return this.putApp(appId, target, { force: false, origin: options.origin });
    for (const task of victims) this.killTask(task);
    return this.putApp(appId, target, { force: true, origin: options.origin });
  }

  /**
   * DELETE /v2/deployments/{id}. Without force: cancel it and start a deployment that restores the app as it was
   * before (Marathon's DeploymentPlanReverter). With force: cancel only. Returns null for an unknown id.
   */
  cancelDeployment(id: string, options: { force: boolean; origin: Origin }): Outcome | 'cancelled' | null {
    const deployment = this.deployments.get(id);
    if (!deployment) return null;
    this.failDeployment(deployment, 'The deployment has been cancelled');
    if (options.force) {
      this.reconcile(deployment.appId);
      return 'cancelled';
    }
    // DeploymentsResource: updateRoot(PathId.root, deployment.revert, force = true) without a version, so the revert
    // (its plan, the DELETE answer, the restored app and its tasks) gets Group.defaultVersion: older than what it undoes.
    const appId = deployment.appId;
    const original = deployment.original;
    const revert: WriteOptions = { force: true, origin: options.origin, version: this.defaultVersion };
    if (!original) return this.deleteApp(appId, revert);
    if (!this.apps.has(appId)) return this.createApp(appId, original.definition, revert);
    return this.putApp(appId, original.definition, revert);
  }

  /** Stops every timer and forgets every task's process; the model is unusable afterwards (reset() makes it usable again). */
  dispose(): void {
    for (const cancel of this.timers) cancel();
    this.timers.clear();
    this.runner.abandonAll();
  }

  /** dispose(), and waits until every task the runner started is gone. */
  async close(): Promise<void> {
    this.dispose();
    await this.runner.close();
  }

  reset(): void {
    this.dispose();
    this.apps.clear();
    this.deployments.clear();
    this.orphans = [];
  }

  // ---------------------------------------------------------------- deployments

  private createApp(appId: string, definition: JsonObject, options: WriteOptions): Outcome {
    const version = options.version ?? this.issueVersion();
    return this.startDeployment(appId, {
      version,
      target: { definition, version, versionInfo: { lastConfigChangeAt: version, lastScalingAt: version } },
      steps: ['StartApplication', 'ScaleApplication'],
      newGeneration: true,
      force: options.force,
      origin: options.origin,
    });
  }

  /** An unchanged definition: Marathon returns a new plan version and id, the app keeps its version, nothing restarts. */
  private emptyDeployment(appId: string, definition: JsonObject, stored: StoredApp, options: WriteOptions): Outcome {
    const origin = options.origin;
    const version = options.version ?? this.issueVersion();
    const deployment: DeploymentRecord = {
      id: randomUUID(),
      version,
      appId,
      steps: [],
      stepIndex: 0,
      original: stored,
      target: stored,
    };
    this.emitApiPost(origin, { ...definition, version: stored.version });
    this.event('group_change_success', { groupId: '/', version });
    this.event('deployment_success', { id: deployment.id, plan: this.planJson(deployment) });
    return { ok: true, deploymentId: deployment.id, version, created: false };
  }

  private startDeployment(
    appId: string,
    plan: {
      version: string;
      target: StoredApp | null;
      steps: ActionName[];
      newGeneration: boolean;
      force: boolean;
      origin: Origin;
    },
  ): Outcome {
    const conflicting = this.deploymentsFor(appId);
    const existing = this.apps.get(appId);
    const deployment: DeploymentRecord = {
      id: randomUUID(),
      version: plan.version,
      appId,
      steps: plan.steps,
      stepIndex: 0,
      original: existing?.stored ?? null,
      target: plan.target,
    };
    if (conflicting.length > 0 && !plan.force) {
      // GroupManagerImpl.updateRoot stores the root and app versions before it deploys: the refused version shows in
      // /versions though it never ran. The DeploymentManager gives the plan up with AppLockedException, which the
      // scheduler actor publishes as deployment_failed and the group manager as group_change_failed.
      if (existing && plan.target) this.storeVersion(existing, plan.target);
      this.event('deployment_failed', { id: deployment.id, plan: this.planJson(deployment), reason: LOCKED_MESSAGE });
      this.event('group_change_failed', { groupId: '/', version: plan.version, reason: LOCKED_MESSAGE });
      return { ok: false, status: 409, body: { message: LOCKED_MESSAGE, deployments: conflicting.map((d) => ({ id: d.id })) } };
    }
    for (const running of conflicting) this.failDeployment(running, 'The deployment has been superseded by a forced deployment');

    if (plan.target === null) {
      if (existing) {
        this.emitApiPost(plan.origin, this.definitionWithVersion(existing.stored));
        this.apps.delete(appId);
        this.clearDelay(existing);
        this.orphans.push(...existing.tasks);
      }
    } else {
      const app = existing ?? this.newAppRecord(plan.target);
      app.stored = plan.target;
      if (existing) this.storeVersion(app, plan.target);
      if (plan.newGeneration && existing) app.generation += 1;
      // A new deployment resets the launch backoff (Marathon's rateLimiter.resetDelay on deploy).
      this.clearDelay(app);
      this.apps.set(appId, app);
      this.emitApiPost(plan.origin, this.definitionWithVersion(plan.target));
    }

    this.deployments.set(deployment.id, deployment);
    this.event('group_change_success', { groupId: '/', version: plan.version });
    this.event('deployment_info', { plan: this.planJson(deployment), currentStep: this.stepJson(deployment, 0) });
    this.reconcile(appId);
    return { ok: true, deploymentId: deployment.id, version: plan.version, created: !existing };
  }

  private failDeployment(deployment: DeploymentRecord, reason: string): void {
    this.deployments.delete(deployment.id);
    this.event('deployment_failed', { id: deployment.id, plan: this.planJson(deployment), reason });
  }

  private goalFor(appId: string): { goal: Goal; deployment: DeploymentRecord | undefined } {
    const deployment = this.deploymentsFor(appId)[0];
    const app = this.apps.get(appId);
    const action = deployment?.steps[deployment.stepIndex];
    if (action === 'StopApplication' || !app) return { goal: { kind: 'stop' }, deployment };
    const definition = app.stored.definition;
    const instances = instancesOf(definition);
    switch (action) {
      case 'StartApplication':
        return { goal: { kind: 'start' }, deployment };
      case 'ScaleApplication':
        return { goal: { kind: 'scale', instances }, deployment };
      case 'RestartApplication':
        return { goal: { kind: 'restart', instances, ...upgradeStrategyOf(definition) }, deployment };
      default:
        return { goal: { kind: 'steady', instances }, deployment };
    }
  }

  private tasksOf(appId: string): TaskRecord[] {
    return this.apps.get(appId)?.tasks ?? this.orphans.filter((t) => t.appId === appId);
  }

  private decisionFor(appId: string) {
    const app = this.apps.get(appId);
    const { goal } = this.goalFor(appId);
    const pictures: TaskPicture[] = this.tasksOf(appId).map((t) => ({
      id: t.id,
      current: app ? t.generation === app.generation : false,
      ready: this.isReady(t),
      killing: t.killing,
      stagedAt: t.stagedAt,
    }));
    return decide(goal, pictures, app ? killSelectionOf(app.stored.definition) : 'YOUNGEST_FIRST');
  }

  /** Brings the app one move closer to its goal and advances its deployment when a step is done. */
  private reconcile(appId: string): void {
    for (;;) {
      const { deployment } = this.goalFor(appId);
      const app = this.apps.get(appId);
      if (!app && !deployment) return;
      const decision = this.decisionFor(appId);
      for (const id of decision.kill) {
        const task = this.tasksOf(appId).find((t) => t.id === id);
        if (task) this.killTask(task);
      }
      if (app && decision.launch > 0) {
        if (app.delay && app.delay.until > this.now()) this.armDelayTimer(app);
        else for (let i = 0; i < decision.launch; i++) this.launchTask(app);
      }
      if (!deployment || !decision.done) return;
      this.event('deployment_step_success', {
        plan: this.planJson(deployment),
        currentStep: this.stepJson(deployment, deployment.stepIndex),
      });
      deployment.stepIndex += 1;
      if (deployment.stepIndex >= deployment.steps.length) {
        this.deployments.delete(deployment.id);
        if (deployment.target === null) this.event('app_terminated_event', { appId });
        this.event('deployment_success', { id: deployment.id, plan: this.planJson(deployment) });
        return;
      }
      this.event('deployment_info', {
        plan: this.planJson(deployment),
        currentStep: this.stepJson(deployment, deployment.stepIndex),
      });
    }
  }

  // ---------------------------------------------------------------- tasks

  /** Ready for deployments. A crashing version never is, so its deployment stays open forever, as in Marathon. */
  private isReady(task: TaskRecord): boolean {
    if (task.state !== 'TASK_RUNNING' || task.behaviour === 'crash') return false;
    return !task.healthChecked || task.health?.alive === true;
  }

  private createTask(app: AppRecord): TaskRecord {
    const definition = app.stored.definition;
    const appId = definition.id as string;
    const reused = app.rescheduled.shift();
    const instanceId = reused?.instanceId ?? `${safePath(appId)}.instance-${timeBasedUuid()}`;
    const incarnation = reused?.incarnation ?? 1;
    const agent = this.nextAgent++ % AGENTS;
    const ports = Array.from({ length: hostPortCount(definition) }, () => (this.hostPorts[agent] = (this.hostPorts[agent] ?? 31000) + 1));
    const task: TaskRecord = {
      id: `${instanceId}._app.${incarnation}`,
      instanceId,
      incarnation,
      appId,
      version: app.stored.version,
      generation: app.generation,
      // Real processes decide their fate themselves: failure injection is the simulation's.
      behaviour: this.runner.kind === 'processes' ? 'normal' : behaviourOf(definition),
      healthChecked: hasHealthChecks(definition),
      state: 'TASK_STAGING',
      killing: false,
      killMessage: '',
      health: null,
      host: `agent-${agent + 1}.emulator`,
      slaveId: `${SLAVE_PREFIX}-S${agent + 1}`,
      ipAddress: `10.0.0.${agent + 1}`,
      ports,
      servicePorts: servicePortsOf(definition),
      stagedAt: this.now(),
      startedAt: null,
      cancelTimers: [],
    };
    app.tasks.push(task);
    return task;
  }

  private launchTask(app: AppRecord): void {
    const task = this.createTask(app);
    this.runner.launch(task, app.stored.definition);
  }

  /** The runner's reports, each ignored once the task is gone (killed, ended, or the model was reset). */
  private taskReports(): TaskReports {
    const known = (task: TaskRecord) => this.tasksOf(task.appId).includes(task);
    return {
      staging: (task, placement) => known(task) && this.taskStaging(task, placement),
      running: (task) => known(task) && this.taskRunning(task),
      exited: (task, exit) => known(task) && this.taskExited(task, exit),
      lost: (task) => known(task) && this.endTask(task, { kind: 'lost' }),
      simulatedHealth: (task, options) => known(task) && this.healthResult(task, options?.announce ?? true),
      probed: (task, result) => known(task) && this.healthProbed(task, result),
      after: (task, ms, run) => this.after(task, ms, run),
    };
  }

  private taskStaging(task: TaskRecord, placement: Placement | undefined): void {
    if (placement) Object.assign(task, placement);
    this.statusUpdate(task, 'TASK_STAGING');
  }

  private taskRunning(task: TaskRecord): void {
    if (task.killing) return;
    task.state = 'TASK_RUNNING';
    task.startedAt = this.now();
    this.statusUpdate(task, 'TASK_RUNNING');
    const definition = this.apps.get(task.appId)?.stored.definition;
    if (definition) this.runner.running(task, definition);
    this.reconcile(task.appId);
  }

  /** The task's command ended: the end of a kill, or a task that finished (exit 0) or failed by itself. */
  private taskExited(task: TaskRecord, exit: TaskExit): void {
    if (task.killing) {
      task.state = 'TASK_KILLED';
      this.statusUpdate(task, 'TASK_KILLED', task.killMessage);
      this.removeTask(task);
      this.reconcile(task.appId);
      return;
    }
    this.endTask(task, exit.code === 0 ? { kind: 'finished' } : { kind: 'failed', exit });
  }

  /** The simulated health of a task: its behaviour decides, the first result is final. */
  private healthResult(task: TaskRecord, announce = true): void {
    const alive = passesHealthChecks(task.behaviour);
    task.health = this.healthRecord(alive);
    if (!announce) return;
    if (!alive && task.behaviour === 'hc-kill') task.health.consecutiveFailures = this.maxConsecutiveFailures(task);
    this.healthChanged(task, alive);
    if (!alive) this.failedHealthCheck(task);
    if (alive) this.runner.ready(task);
    if (!alive && task.behaviour === 'hc-kill') this.endTask(task, { kind: 'health-kill', reason: task.health.lastFailureCause ?? 'unknown' });
    this.reconcile(task.appId);
  }

  /** A real health check answered: Marathon's HealthCheckActor rules (health.ts) decide what follows. */
  private healthProbed(task: TaskRecord, result: ProbeResult): void {
    const app = this.apps.get(task.appId);
    if (!app || task.state !== 'TASK_RUNNING' || task.killing) return;
    const wasReady = this.isReady(task);
    const outcome = applyHealthResult(task.health, result, {
      now: this.now(),
      runningSince: task.startedAt ?? task.stagedAt,
      rules: healthCheckRulesOf(app.stored.definition),
    });
    if (outcome.failedCheck) this.failedHealthCheck(task);
    if (outcome.kill) this.endTask(task, { kind: 'health-kill', reason: outcome.kill.reason });
    task.health = outcome.health;
    if (outcome.aliveChanged) this.healthChanged(task, outcome.health.alive);
    if (!wasReady && this.isReady(task)) this.runner.ready(task);
    this.reconcile(task.appId);
  }

  private healthChanged(task: TaskRecord, alive: boolean): void {
    this.event('health_status_changed_event', {
      appId: task.appId,
      instanceId: task.instanceId,
      version: task.version,
      alive,
    });
    this.event('instance_health_changed_event', {
      instanceId: task.instanceId,
      runSpecId: task.appId,
      runSpecVersion: task.version,
      healthy: alive,
    });
  }

  private failedHealthCheck(task: TaskRecord): void {
    const app = this.apps.get(task.appId);
    const healthCheck = app && Array.isArray(app.stored.definition.healthChecks) ? app.stored.definition.healthChecks[0] : undefined;
    this.event('failed_health_check_event', {
      appId: task.appId,
      taskId: task.id,
      instanceId: task.instanceId,
      healthCheck: healthCheck ?? null,
    });
  }

  private maxConsecutiveFailures(task: TaskRecord): number {
    const checks = this.apps.get(task.appId)?.stored.definition.healthChecks;
    const first = Array.isArray(checks) ? checks[0] : undefined;
    return isJsonObject(first) && typeof first.maxConsecutiveFailures === 'number' ? first.maxConsecutiveFailures : 3;
  }

  private healthRecord(alive: boolean): HealthRecord {
    const at = new Date(this.now()).toISOString();
    return {
      alive,
      consecutiveFailures: alive ? 0 : 1,
      firstSuccess: alive ? at : null,
      lastSuccess: alive ? at : null,
      lastFailure: alive ? null : at,
      lastFailureCause: alive ? null : 'AskTimeoutException: health check timed out',
    };
  }

  /**
   * A task ends by itself, and Marathon records a bad end as the app's lastTaskFailure (state/TaskFailure.scala):
   * - failed: TASK_FAILED (a failure state); the instance is relaunched as its next incarnation after the backoff.
   * - finished: TASK_FINISHED (exit 0): not a failure, but the instance is relaunched the same way (NotifyRateLimiterStep
   *   rate-limits Finished as it does Failed).
   * - lost: TASK_LOST, as when its agent is removed (a failure state too, "no matter the reason"); the instance is
   *   gone and a new one replaces it at once (no backoff: the version did nothing wrong).
   * - health-kill: HealthCheckActor publishes unhealthy_instance_kill_event (recorded by FromUnhealthyInstanceKillEvent
   *   as TASK_KILLED "Task was killed since health check failed. Reason: ...") and kills the instance; the TASK_KILLED
   *   status update itself is not a failure state, so the record stays. Relaunched after the backoff.
   */
  private endTask(task: TaskRecord, end: TaskEnd): void {
    const app = this.apps.get(task.appId);
    const now = new Date(this.now()).toISOString();
    const record = (state: MesosState, message: string): JsonObject => ({
      appId: task.appId,
      host: task.host,
      message,
      state,
      taskId: task.id,
      timestamp: now,
      version: task.version,
      slaveId: task.slaveId,
    });
    if (end.kind === 'health-kill') {
      this.event('unhealthy_instance_kill_event', {
        appId: task.appId,
        taskId: task.id,
        instanceId: task.instanceId,
        version: task.version,
        reason: end.reason,
        host: task.host,
        slaveId: task.slaveId,
      });
      if (app) app.lastTaskFailure = record('TASK_KILLED', `Task was killed since health check failed. Reason: ${end.reason}`);
      this.killTask(task, 'Command terminated with signal Terminated');
      if (app) this.backOff(app);
      return;
    }
    this.stopTimers(task);
    const state: MesosState = end.kind === 'lost' ? 'TASK_LOST' : end.kind === 'finished' ? 'TASK_FINISHED' : 'TASK_FAILED';
    const container = app !== undefined && isJsonObject(app.stored.definition.container);
    const message = end.kind === 'lost'
      ? `Agent ${task.slaveId} (${task.host}) removed: health check timed out`
      : exitMessage(container, end.kind === 'finished' ? { code: 0, signal: null } : end.exit);
    task.state = state;
    this.statusUpdate(task, state, message);
    this.removeTask(task);
    if (!app) return;
    if (end.kind !== 'finished') app.lastTaskFailure = record(state, message);
    if (end.kind !== 'lost') {
      app.rescheduled.push({ instanceId: task.instanceId, incarnation: task.incarnation + 1 });
      this.backOff(app);
    }
    this.reconcile(task.appId);
  }

  /** Marathon's launch rate limiter after a failure: launches wait backoffMs. */
  private backOff(app: AppRecord): void {
    app.delay = { since: this.now(), until: this.now() + this.options.timings.backoffMs };
    this.armDelayTimer(app);
  }

  private killTask(task: TaskRecord, message = ''): void {
    if (task.killing) return;
    task.killing = true;
    task.killMessage = message;
    this.stopTimers(task);
    if (this.options.taskKilling) {
      task.state = 'TASK_KILLING';
      this.statusUpdate(task, 'TASK_KILLING', message);
    }
    this.runner.kill(task, this.killGracePeriodMs(task));
  }

  private killGracePeriodMs(task: TaskRecord): number {
    const definition = this.apps.get(task.appId)?.stored.definition;
    return definition ? killGracePeriodMsOf(definition) : DEFAULT_KILL_GRACE_PERIOD_MS;
  }

  private removeTask(task: TaskRecord): void {
    const app = this.apps.get(task.appId);
    if (app) app.tasks = app.tasks.filter((t) => t !== task);
    this.orphans = this.orphans.filter((t) => t !== task);
  }

  private statusUpdate(task: TaskRecord, status: MesosState, message = ''): void {
    this.event('status_update_event', {
      slaveId: task.slaveId,
      taskId: task.id,
      taskStatus: status,
      message,
      appId: task.appId,
      host: task.host,
      ipAddresses: [{ ipAddress: task.ipAddress, protocol: 'IPv4' }],
      ports: task.ports,
      version: task.version,
    });
    const condition = {
      TASK_STAGING: 'Staging',
      TASK_RUNNING: 'Running',
      TASK_KILLING: 'Killing',
      TASK_FINISHED: 'Finished',
      TASK_FAILED: 'Failed',
      TASK_KILLED: 'Killed',
      TASK_LOST: 'Gone',
    }[status];
    this.event('instance_changed_event', {
      instanceId: task.instanceId,
      condition,
      runSpecId: task.appId,
      agentId: task.slaveId,
      host: task.host,
      runSpecVersion: task.version,
    });
  }

  // ---------------------------------------------------------------- timers and helpers

  private after(task: TaskRecord, ms: number, run: () => void): void {
    task.cancelTimers.push(this.schedule(ms, run));
  }

  private stopTimers(task: TaskRecord): void {
    for (const cancel of task.cancelTimers) cancel();
    task.cancelTimers = [];
  }

  private schedule(ms: number, run: () => void): () => void {
    const cancel = this.options.clock.schedule(ms, () => {
      this.timers.delete(cancel);
      run();
    });
    this.timers.add(cancel);
    return () => {
      this.timers.delete(cancel);
      cancel();
    };
  }

  private armDelayTimer(app: AppRecord): void {
    if (app.cancelDelayTimer || !app.delay) return;
    const appId = app.stored.definition.id as string;
    app.cancelDelayTimer = this.schedule(app.delay.until - this.now(), () => {
      app.cancelDelayTimer = null;
      this.reconcile(appId);
    });
  }

  private clearDelay(app: AppRecord): void {
    app.delay = null;
    app.cancelDelayTimer?.();
    app.cancelDelayTimer = null;
  }

  private newAppRecord(stored: StoredApp): AppRecord {
    return {
      stored,
      generation: 1,
      tasks: [],
      versions: [stored],
      lastTaskFailure: null,
      delay: null,
      cancelDelayTimer: null,
      rescheduled: [],
    };
  }

  /** Marathon's version store is keyed by timestamp: a second write with the same version (a second revert) replaces it. */
  private storeVersion(app: AppRecord, stored: StoredApp): void {
    const index = app.versions.findIndex((v) => v.version === stored.version);
    if (index >= 0) app.versions[index] = stored;
    else app.versions.push(stored);
  }

  /** ISO timestamps, strictly increasing even within one millisecond (Marathon versions are unique). */
  private issueVersion(): string {
    this.lastVersionMs = Math.max(this.now(), this.lastVersionMs + 1);
    return new Date(this.lastVersionMs).toISOString();
  }

  definitionWithVersion(stored: StoredApp): JsonObject {
    return { ...stored.definition, version: stored.version, versionInfo: { ...stored.versionInfo } };
  }

  planJson(deployment: DeploymentRecord): JsonObject {
    return {
      id: deployment.id,
      steps: deployment.steps.map((action) => ({ actions: [{ action, app: deployment.appId }] })),
      version: deployment.version,
    };
  }

  private stepJson(deployment: DeploymentRecord, index: number): JsonObject {
    const action = deployment.steps[index];
    return { actions: action ? [{ action, app: deployment.appId }] : [] };
  }

  private emitApiPost(origin: Origin, appDefinition: JsonObject): void {
    this.event('api_post_event', { clientIp: origin.clientIp, uri: origin.uri, appDefinition });
  }

  private event(eventType: string, fields: JsonObject): void {
    this.options.emit(eventType, { ...fields, eventType, timestamp: new Date(this.now()).toISOString() });
  }
}

/** The Mesos executor's message for a command that ended: "Command exited with status 1", "... terminated with signal Killed". */
function exitMessage(container: boolean, exit: TaskExit): string {
  const subject = container ? 'Container' : 'Command';
  if (exit.code !== null) return `${subject} exited with status ${exit.code}`;
  return `${subject} terminated with signal ${SIGNAL_NAMES[exit.signal ?? ''] ?? exit.signal ?? 'unknown'}`;
}

/** strsignal(3) names, as the Mesos executor writes them. */
const SIGNAL_NAMES: Record<string, string> = { SIGTERM: 'Terminated', SIGKILL: 'Killed', SIGINT: 'Interrupt', SIGSEGV: 'Segmentation fault', SIGABRT: 'Aborted' };
