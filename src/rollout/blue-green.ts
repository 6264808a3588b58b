import { coloursOf, colourAppId, liveColourOf, type ColourApp } from '../blue-green/colours.js';
import { planBlueGreen, planRestore, restoredProblem, type BlueGreenPlan, type BlueGreenRequest, type RestoreRequest, type Step } from '../blue-green/plan.js';
import { describeTestRun, runTestCommand } from '../blue-green/test-command.js';
import type { DatacenterConfig } from '../config/environments.js';
import { versionOf } from '../deploy/render.js';
import { describeProgress } from '../deploy/rollout-state.js';
import { defaultTimeoutSeconds } from '../deploy/timeout.js';
import { sleep, stabilityOf, watchRollout, watchStable } from '../deploy/watch.js';
import { isAppHealthy } from '../marathon/app-health.js';
import type { MarathonClient } from '../marathon/client.js';
import type { AppInfo, DeploymentResult } from '../marathon/types.js';
import type { CliError } from '../outcome/cli-error.js';
import { ExitCode } from '../outcome/exit-codes.js';
import type { ChangeContext, ChangeResult } from './change.js';
import { answerMayHaveBeenLost, failed, readBackLostChange } from './engine.js';
import { notTouchedAfterInterrupt } from './interrupt.js';
import { marathonCliError } from './marathon-errors.js';

// The shell of a blue/green deploy in one datacenter: reads the colours from Marathon, plans (src/blue-green/plan.ts),
// runs the steps through the Marathon client, and when one fails runs the restore steps and reads Marathon back to verify.

export interface BlueGreenTarget extends Omit<BlueGreenRequest, 'now'> {
  app: string;
  env: string;
  dc: DatacenterConfig;
  client: MarathonClient;
  /** Where post-integration tests reach the app: the datacenter's load balancer at the public port. */
  proxyUrl?: string;
  /** What to do from the colours read right before (default: a deploy); a string: nothing to do, and why. */
  planner?: (colours: ColourApp[], now: Date) => BlueGreenPlan | string;
}

type StepFailure = {
  kind: 'failed' | 'timeout' | 'tests-failed' | 'interrupted' | 'marathon';
  reason: string;
  error?: CliError;
  step: Step;
};

/** What the colours look like in Marathon now: `<id>-blue` and `<id>-green`, each read with its tasks. */
export async function readColours(client: MarathonClient, baseId: string, group: string): Promise<ColourApp[]> {
  const apps = await Promise.all((['blue', 'green'] as const).map((colour) => client.findApp(colourAppId(baseId, colour))));
  return coloursOf(apps.filter((a): a is AppInfo => a !== null), baseId, group);
}

export async function executeBlueGreen(target: BlueGreenTarget, ctx: ChangeContext): Promise<ChangeResult | 'interrupted-before-change'> {
  const began = ctx.now();
  const result: ChangeResult = { ...ctx.result, strategy: 'blue-green' };
  const ended = (outcome: ChangeResult['outcome'], message: string): ChangeResult => ({ ...result, outcome, message, durations: { totalMs: ctx.now() - began } });
  let colours: ColourApp[];
  try {
    colours = await readColours(target.client, target.baseId, target.group);
  } catch (error) {
    return failed(result, marathonCliError(error, target.dc), began, ctx.now);
  }
  if (ctx.signal.aborted) return 'interrupted-before-change';
  const planned = target.planner ? target.planner(colours, new Date(ctx.now())) : planBlueGreen(colours, { ...target, now: new Date(ctx.now()) });
  if (typeof planned === 'string') return ended('superseded', planned);
  const plan = planned;
  result.fromVersion = plan.live ? (versionOf(plan.live.app) ?? null) : null;
  for (const line of plan.found) {
    ctx.say(line);
    ctx.recordStep({ name: 'found', result: 'found' }, { message: line });
  }
  const runner = new StepRunner(target, ctx);
  const failure = await runner.run(plan.steps, ctx.signal);
  ctx.endProgress();
  result.deploymentId = runner.started?.deploymentId;
  result.marathonVersion = runner.started?.version;
  if (!failure) {
    const kept = plan.live && target.settings.keepOldColour ? `; ${plan.live.colour} kept at 0 instances` : plan.live ? `; ${plan.live.colour} removed` : '';
    return ended('succeeded', plan.doneMessage ?? `${target.version} runs healthy as ${plan.candidate}, users routed to it${kept}`);
  }

  const at = `${failure.step.kind === 'test' ? `${failure.step.phase}-integration test` : `step ${failure.step.kind}`} (${'colour' in failure.step ? failure.step.colour : 'pause'})`;
  const what = failure.step.kind === 'test' ? `${target.version} on ${failure.step.colour}: ${failure.reason}` : `${target.version} ${failure.reason} at ${at}`;
  // Marathon refused the candidate (400/422, 409, credentials): nothing was created, nothing is to restore.
  if (failure.step.kind === 'start' && failure.error?.exitCode === ExitCode.rejected) return failed(result, failure.error, began, ctx.now);
  // A failure once the old colour is being retired comes after every test passed: the candidate serves; a re-run finishes.
  if (failure.step.kind === 'retire' && failure.step.colour !== plan.candidate) {
    const message = `${plan.candidate} serves ${target.version} and passed its tests, but retiring ${failure.step.colour} failed: ${failure.reason}. Run the same deploy again to finish it.`;
    return failure.error ? { ...failed(result, failure.error, began, ctx.now), message } : ended('failed', message);
  }
  if (failure.kind === 'interrupted' && !ctx.rollbackOnInterrupt) {
    const message =
      `interrupted during ${at}: stopped. Marathon holds ${describeColours(await readColours(target.client, target.baseId, target.group).catch(() => null))}. ` +
      `Run the same deploy again to finish it (a healthy candidate of that version is kept, another is started over), or \`baton rollback\` to undo it.`;
    ctx.say(message);
    return ended('interrupted', message);
  }
  if (failure.kind !== 'interrupted' && !ctx.rollbackOnFailure) {
    return failure.error
      ? { ...failed(result, failure.error, began, ctx.now), message: `${failure.error.message}\n(left as it is: --no-rollback)` }
      : ended(failure.kind === 'marathon' ? 'failed' : failure.kind, `${what}; left as it is (--no-rollback)`);
  }

  ctx.info(`${failure.kind === 'interrupted' ? 'interrupted' : `failed at ${at}: ${failure.reason}`}; restoring ${plan.restoreTo ? `${plan.restoreTo.colour} at ${plan.restoreTo.instances} instances` : 'the state before (no colour)'}`);
  ctx.inFlight({ phase: 'rollback' });
  const restoreBegan = ctx.now();
  const restore = await restoreBefore(plan, target, ctx);
  ctx.endProgress();
  const restored = restore === undefined;
  result.rollback = {
    method: 'restore-colour',
    outcome: restored ? 'succeeded' : 'failed',
    ...(restored ? { reason: plan.restoreTo ? `${plan.restoreTo.colour} serves at ${plan.restoreTo.instances} instances, ${plan.candidate} removed` : `${plan.candidate} removed` } : { reason: restore }),
    durationMs: ctx.now() - restoreBegan,
  };
  ctx.recordStep({ name: 'restore', result: restored ? 'done' : 'failed' }, { message: result.rollback.reason ?? '', durationMs: result.rollback.durationMs });
  const back = restored
    ? `restored ${plan.restoreTo ? `${plan.restoreTo.colour} (${result.fromVersion ?? 'the previous version'}) serving at full size` : 'the state before (no colour)'}, ${plan.candidate} removed (verified)`
    : `RESTORE FAILED: ${restore} — the app in ${target.dc.name} needs attention now`;
  if (!restored) return ended('rollback-failed', `${what}; ${back}`);
  if (failure.kind === 'interrupted') return ended('interrupted', `interrupted during ${at}; ${back}`);
  if (failure.kind === 'marathon' && failure.error) return { ...failed(result, failure.error, began, ctx.now), message: `${failure.error.message}\n${back}`, rollback: result.rollback };
  const outcome = failure.kind === 'tests-failed' ? 'tests-failed-rolled-back' : failure.kind === 'timeout' ? 'timeout-rolled-back' : 'failed-rolled-back';
  return ended(outcome, `${what}; ${back}`);
}

/** Runs the restore steps planned from what Marathon holds now, then reads it back: undefined when restored, else why not. */
async function restoreBefore(plan: BlueGreenPlan, target: BlueGreenTarget, ctx: ChangeContext): Promise<string | undefined> {
  const request: RestoreRequest = { baseId: target.baseId, old: plan.restoreTo, candidate: plan.candidate, settleSeconds: target.settings.settleSeconds };
  const runner = new StepRunner(target, ctx, 'restore');
  for (let attempt = 1; attempt <= 2; attempt++) {
    let colours: ColourApp[];
    try {
      colours = await readColours(target.client, target.baseId, target.group);
    } catch (error) {
      return marathonCliError(error, target.dc).message;
    }
    const problem = restoredProblem(colours, request);
    if (!problem) return undefined;
    if (attempt === 2) return problem;
    // The first Ctrl-C asked for the restore, or a failure did: it runs to the end (a second Ctrl-C still exits at once).
    const failure = await runner.run(planRestore(colours, request), undefined);
    if (failure) return `${failure.step.kind} ${'colour' in failure.step ? failure.step.colour : ''}: ${failure.reason}`;
  }
  return undefined;
}

function describeColours(colours: ColourApp[] | null): string {
  if (!colours) return 'an unknown state (it could not be read)';
  if (colours.length === 0) return 'no colour';
  return colours.map((c) => `${c.colour} ${versionOf(c.app) ?? '?'} (${c.app.tasksHealthy ?? 0}/${c.app.instances ?? 0} healthy)`).join(' and ');
}

const DELETE_POLL_MS = 200;

/** Runs steps one after the other; the first that fails stops them. */
class StepRunner {
  /** The candidate's start: its deployment and version (the datacenter's record names them). */
  started: DeploymentResult | undefined;
  private readonly changes = new Map<string, DeploymentResult & { knownFailure: AppInfo['lastTaskFailure'] | null }>();

  constructor(
    private readonly target: BlueGreenTarget,
    private readonly ctx: ChangeContext,
    private readonly phase: 'deploy' | 'restore' = 'deploy',
  ) {}

  async run(steps: Step[], signal: AbortSignal | undefined): Promise<StepFailure | undefined> {
    for (const step of steps) {
      if (signal?.aborted) return { kind: 'interrupted', reason: notTouchedAfterInterrupt(signal), step };
      const began = this.ctx.now();
      let failure: StepFailure | undefined;
      try {
        failure = await this.runStep(step, signal);
      } catch (error) {
        const cliError = marathonCliError(error, this.target.dc);
        failure = { kind: 'marathon', reason: cliError.message, error: cliError, step };
      }
      this.ctx.endProgress();
      const name = step.kind === 'test' ? `${step.phase}-integration` : this.phase === 'restore' ? `restore-${step.kind}` : step.kind;
      if (step.kind !== 'test') {
        this.ctx.recordStep(
          { name, ...('colour' in step ? { colour: step.colour } : {}), result: failure ? (failure.kind === 'timeout' ? 'timeout' : failure.kind === 'interrupted' ? 'interrupted' : 'failed') : 'done' },
          { ...('appId' in step ? { appId: step.appId } : {}), message: failure?.reason ?? describeDone(step), durationMs: this.ctx.now() - began, ...this.deploymentOf(step) },
        );
      }
      if (failure) return failure;
    }
    return undefined;
  }

  private deploymentOf(step: Step): { deploymentId?: string; marathonVersion?: string } {
    const change = 'appId' in step ? this.changes.get(step.appId) : undefined;
    return change && step.kind !== 'settle' && step.kind !== 'test' ? { deploymentId: change.deploymentId, marathonVersion: change.version } : {};
  }

  private async runStep(step: Step, signal: AbortSignal | undefined): Promise<StepFailure | undefined> {
    const { client } = this.target;
    switch (step.kind) {
      case 'start': {
        const before = await client.findApp(step.appId);
        this.ctx.info(`starting ${step.colour} (${step.appId}) at ${step.definition.instances ?? 1} instances`);
        this.ctx.inFlight({ phase: 'sending' });
        let started: DeploymentResult;
        try {
          started = await client.putApp(step.definition, { partialUpdate: false, force: this.ctx.force });
        } catch (error) {
          if (!answerMayHaveBeenLost(error)) throw error;
          this.ctx.info(`Marathon's answer to the change was lost (${(error as Error).message}); reading ${step.appId} back`);
          const startedAt = step.definition.labels as Record<string, string>;
          const ours = (app: AppInfo) => (app.labels ?? {})['HAPROXY_DEPLOYMENT_STARTED_AT'] === startedAt['HAPROXY_DEPLOYMENT_STARTED_AT'];
          const sent = await readBackLostChange(client, step.appId, before?.version ?? null, ours, error);
          if (!('started' in sent)) throw error;
          started = sent.started;
        }
        this.started = started;
        this.changes.set(step.appId, { ...started, knownFailure: before?.lastTaskFailure ?? null });
        this.ctx.inFlight({ deploymentId: started.deploymentId, marathonVersion: started.version, phase: 'waiting' });
        this.ctx.say(`${step.colour}: deployment ${started.deploymentId} started (Marathon version ${started.version})`);
        return undefined;
      }
      case 'scale': {
        const before = await client.findApp(step.appId);
        const started = await client.scaleApp(step.appId, step.instances);
        this.changes.set(step.appId, { ...started, knownFailure: before?.lastTaskFailure ?? null });
        return undefined;
      }
      case 'wait-healthy':
        return this.waitHealthy(step, signal);
      case 'watch': {
        const app = await client.findApp(step.appId);
        const change = this.changes.get(step.appId);
        this.ctx.info(`${step.colour} is healthy; watching it for ${step.seconds}s`);
        const verdict = await watchStable({
          client,
          appId: step.appId,
          targetVersions: [...(change ? [change.version] : []), ...(app?.versionInfo?.lastConfigChangeAt ? [app.versionInfo.lastConfigChangeAt] : [])],
          knownFailure: app?.lastTaskFailure ?? null,
          stableMs: step.seconds * 1000,
          signal,
          onNotice: (line) => this.ctx.info(line),
        });
        if (verdict.state === 'interrupted') return { kind: 'interrupted', reason: 'interrupted', step };
        if (verdict.state === 'unstable') return { kind: 'failed', reason: `failed while watched: ${verdict.reason}`, step };
        return undefined;
      }
      case 'serve':
        return this.serve(step, signal);
      case 'test':
        return this.test(step, signal);
      case 'settle':
        if (step.seconds > 0) await sleep(step.seconds * 1000, signal);
        return signal?.aborted ? { kind: 'interrupted', reason: 'interrupted', step } : undefined;
      case 'check': {
        const app = await client.findApp(step.appId);
        if (!app) return { kind: 'failed', reason: `${step.appId} no longer exists`, step };
        const change = this.changes.get(step.appId);
        const versions = new Set([...(change ? [change.version] : []), ...(app.versionInfo?.lastConfigChangeAt ? [app.versionInfo.lastConfigChangeAt] : [])]);
        // A candidate started by an earlier run is judged by its health now; one started here also by its failures since.
        const problem = change ? stabilityOf(app, versions, change.knownFailure) : isAppHealthy(app) ? undefined : `${app.tasksHealthy ?? 0}/${app.instances ?? 0} tasks healthy`;
        return problem ? { kind: 'failed', reason: `failed after users were routed to it: ${problem}`, step } : undefined;
      }
      case 'retire':
        return this.retire(step, signal);
    }
  }

  private async waitHealthy(step: Extract<Step, { kind: 'wait-healthy' }>, signal: AbortSignal | undefined): Promise<StepFailure | undefined> {
    const change = this.changes.get(step.appId);
    if (!change) return undefined;
    const app = await this.target.client.findApp(step.appId);
    const timeoutMs = (this.ctx.timeoutSeconds ?? defaultTimeoutSeconds(app ?? this.target.rendered)) * 1000;
    const began = this.ctx.now();
    const watched = await watchRollout({
      client: this.target.client,
      appId: step.appId,
      deploymentId: change.deploymentId,
      targetVersions: [change.version],
      knownFailure: change.knownFailure,
      deadline: began + timeoutMs,
      signal,
      onProgress: (a) => this.ctx.progress(`${this.phase === 'restore' ? 'restoring ' : ''}${describeProgress(a.progress, step.colour)}`, this.ctx.now() - began, timeoutMs),
      onNotice: (line) => this.ctx.info(line),
    });
    switch (watched.outcome) {
      case 'succeeded':
        return undefined;
      case 'interrupted':
        return { kind: 'interrupted', reason: 'interrupted', step };
      case 'timeout':
        return { kind: 'timeout', reason: `not healthy within ${Math.round(timeoutMs / 1000)}s`, step };
      default:
        return { kind: 'failed', reason: `failed: ${watched.reason ?? 'unknown reason'}`, step };
    }
  }

  /**
   * marathon-lb routes to the colour scaled last (both carry HAPROXY_DEPLOYMENT_NEW_INSTANCES): one more instance and at
   * once back (forced, so the extra task, still staging and never routed, is killed youngest-first) moves lastScalingAt
   * and restarts nothing. Then Marathon is read back: the colour must be the one marathon-lb picks.
   */
  private async serve(step: Extract<Step, { kind: 'serve' }>, signal: AbortSignal | undefined): Promise<StepFailure | undefined> {
    const { client } = this.target;
    this.ctx.info(`routing users to ${step.colour}`);
    await client.scaleApp(step.appId, step.instances + 1);
    const back = await client.scaleApp(step.appId, step.instances, { force: true });
    this.changes.set(step.appId, { ...back, knownFailure: (await client.findApp(step.appId))?.lastTaskFailure ?? null });
    const waited = await this.waitHealthy({ kind: 'wait-healthy', colour: step.colour, appId: step.appId }, signal);
    if (waited) return waited;
    const picked = liveColourOf(await readColours(client, this.target.baseId, this.target.group))?.colour;
    if (picked !== step.colour) return { kind: 'failed', reason: `the switch did not take: marathon-lb would route to ${picked ?? 'no colour'}, not ${step.colour}`, step };
    return undefined;
  }

  private async test(step: Extract<Step, { kind: 'test' }>, signal: AbortSignal | undefined): Promise<StepFailure | undefined> {
    const name = `${step.phase}-integration`;
    const env: Record<string, string> = {
      BATON_APP: this.target.app,
      BATON_ENV: this.target.env,
      BATON_DATACENTER: this.target.dc.name,
      BATON_VERSION: this.target.version,
      BATON_COLOUR: step.colour,
    };
    if (step.phase === 'pre') {
      const app = await this.target.client.findApp(step.appId);
      env.BATON_TASK_ENDPOINTS = (app?.tasks ?? [])
        .filter((t) => t.state === 'TASK_RUNNING' && t.host && t.ports?.length)
        .map((t) => `${t.host}:${t.ports![0]}`)
        .join(',');
    } else if (this.target.proxyUrl) {
      env.BATON_PROXY_URL = this.target.proxyUrl;
    }
    this.ctx.say(`${name}: ${step.test.command}`);
    const run = await runTestCommand(step.test, env, { signal, onLine: (line) => this.ctx.say(`  ${name} | ${line}`), now: this.ctx.now });
    const verdict = describeTestRun(run, step.test);
    this.ctx.say(`${name}: ${verdict}`);
    this.ctx.recordStep(
      { name, colour: step.colour, result: run.passed ? 'passed' : run.interrupted ? 'interrupted' : run.timedOut ? 'timeout' : 'failed', ...(run.tail ? { output: run.tail } : {}) },
      { appId: step.appId, message: `${step.test.command}: ${verdict}`, durationMs: run.durationMs },
    );
    if (run.interrupted) return { kind: 'interrupted', reason: 'interrupted', step };
    return run.passed ? undefined : { kind: 'tests-failed', reason: `${name} test ${verdict}`, step };
  }

  private async retire(step: Extract<Step, { kind: 'retire' }>, signal: AbortSignal | undefined): Promise<StepFailure | undefined> {
    const { client } = this.target;
    const app = await client.findApp(step.appId);
    if (!app) return undefined;
    if (step.keep) {
      this.ctx.info(`scaling ${step.colour} to 0 (kept for baton rollback)`);
      const started = await client.scaleApp(step.appId, 0, { force: true });
      this.changes.set(step.appId, { ...started, knownFailure: app.lastTaskFailure ?? null });
      return this.waitHealthy({ kind: 'wait-healthy', colour: step.colour, appId: step.appId }, signal);
    }
    this.ctx.info(`deleting ${step.colour} (${step.appId})`);
    const deleted = await client.deleteApp(step.appId);
    this.changes.set(step.appId, { ...deleted, knownFailure: null });
    const timeoutMs = (this.ctx.timeoutSeconds ?? defaultTimeoutSeconds(app)) * 1000;
    const deadline = this.ctx.now() + timeoutMs;
    while ((await client.findApp(step.appId)) !== null) {
      if (this.ctx.now() > deadline) return { kind: 'timeout', reason: `${step.appId} still exists ${Math.round(timeoutMs / 1000)}s after its deletion`, step };
      await sleep(DELETE_POLL_MS);
    }
    return undefined;
  }
}

function describeDone(step: Step): string {
  switch (step.kind) {
    case 'start':
      return `${step.colour} started`;
    case 'wait-healthy':
      return `${step.colour} healthy`;
    case 'watch':
      return `${step.colour} stayed healthy for ${step.seconds}s`;
    case 'serve':
      return `users routed to ${step.colour}`;
    case 'scale':
      return `${step.colour} scaled to ${step.instances}`;
    case 'settle':
      return `paused ${step.seconds}s`;
    case 'check':
      return `${step.colour} still healthy`;
    case 'retire':
      return step.keep ? `${step.colour} scaled to 0` : `${step.colour} deleted`;
    case 'test':
      return `${step.phase}-integration test`;
  }
}
