import type { AuditTrail } from '../audit/trail.js';
import type { ConfirmAnswer } from '../terminal/confirm-answer.js';
import type { EnvironmentConfig } from '../config/environments.js';
import { diffDefinitions } from '../deploy/diff.js';
import { versionOf } from '../deploy/render.js';
import { followRollout, type RolloutReport } from '../deploy/rollout.js';
import { describeProgress } from '../deploy/rollout-state.js';
import { defaultTimeoutSeconds } from '../deploy/timeout.js';
import type { MarathonClient } from '../marathon/client.js';
import { MarathonError } from '../marathon/errors.js';
import type { AppInfo, DeploymentResult } from '../marathon/types.js';
import { CliError } from '../outcome/cli-error.js';
import { ExitCode, type ExitCodeValue } from '../outcome/exit-codes.js';
import { exitCodeFor, OUTCOMES } from '../outcome/outcomes.js';
import type { Terminal } from '../terminal/output.js';
import type { ChangeContext, ChangeResult, PlannedChange, SendDecision } from './change.js';
import { notTouchedAfterInterrupt, whileInterruptible } from './interrupt.js';
import { auditFieldsOf, RolloutLedger } from './ledger.js';
import { describeRejection, marathonCliError } from './marathon-errors.js';

/** How a strategy words its results; deploy and rollback say the same things differently. */
export interface RolloutWording {
  /** The dry-run line for one datacenter. */
  dryRun(change: PlannedChange): string | undefined;
  /** The result line once the wait (and any revert) is over. */
  outcome(report: RolloutReport, result: ChangeResult): string;
  /** The live line while waiting: `phase` rollback is Baton restoring what ran before. */
  progress(phase: 'deploy' | 'rollback', progress: string, result: ChangeResult): string;
  /** What to tell the person who pressed Ctrl-C while our deployment (or its revert) goes on in Marathon. */
  interrupted(report: RolloutReport, result: ChangeResult, change: PlannedChange): string[];
}

export interface RolloutRun {
  command: 'deploy' | 'rollback';
  env: EnvironmentConfig;
  appId: string;
  /** The version every datacenter goes to, when it is one (deploy). */
  version?: string;
  changes: PlannedChange[];
  dryRun: boolean;
  /** Asked before the first change when set (a confirm environment without --yes). */
  confirmQuestion?: string;
  /** A step after confirmation and before the first datacenter (the registry promotion); it fails the whole run. */
  beforeFirstChange?: () => Promise<void>;
  force: boolean;
  /** Revert a failed or timed-out change (--no-rollback turns it off). */
  rollbackOnFailure: boolean;
  /** Revert the running change on Ctrl-C/SIGTERM instead of leaving it running. */
  rollbackOnInterrupt: boolean;
  /** After the deployment ended, how long new tasks must stay healthy (0: no watch period). */
  stableSeconds: number;
  timeoutSeconds?: number;
  wording: RolloutWording;
}

export interface RolloutIo {
  trail: AuditTrail;
  say(line: string): void;
  terminal: Terminal;
  confirm(question: string, phrase: string): Promise<ConfirmAnswer>;
  /** Where the run stands before changes begin, for the record a Ctrl-C there writes. */
  setStage(stage: string): void;
  /** Called once changes begin: from then on Ctrl-C means "stop" (or revert), not "exit". */
  changesBegin(): void;
  now?: () => number;
}

/**
 * Runs a planned rollout: dry run or confirmation, then one datacenter after the other, each changed, waited for and, when it
 * fails, reverted and verified; the first failure stops the rest. Deploy and rollback are its two planners.
 */
export async function runRollout(run: RolloutRun, io: RolloutIo): Promise<{ results: ChangeResult[]; exitCode: ExitCodeValue }> {
  const now = io.now ?? Date.now;
  const { trail, changes } = { trail: io.trail, changes: run.changes };
  if (run.dryRun) {
    const results = changes.map((change) => ({ ...baseResult(change, 'dry-run', now()), message: run.wording.dryRun(change) }));
    for (const r of results) trail.record(auditFieldsOf(r, ExitCode.ok));
    return { results, exitCode: ExitCode.ok };
  }

  if (run.confirmQuestion) {
    io.setStage('at the confirmation prompt: nothing was sent to Marathon');
    const answer = await io.confirm(run.confirmQuestion, `yes ${run.env.name}`);
    if (answer !== 'confirmed') throw trail.notConfirmed(answer, run.env.name, { appId: run.appId, ...(run.version ? { toVersion: run.version } : {}) });
  }

  try {
    await run.beforeFirstChange?.();
  } catch (error) {
    trail.record({
      appId: run.appId,
      ...(run.version ? { toVersion: run.version } : {}),
      outcome: 'rejected',
      exitCode: error instanceof CliError ? error.exitCode : ExitCode.internal,
      message: (error as Error).message,
    });
    throw error;
  }

  // Written before the first change, so a run killed without a chance to record (kill -9, a lost machine) still says who
  // started what; the datacenters' own records follow.
  trail.record({
    appId: run.appId,
    ...(run.version ? { toVersion: run.version } : {}),
    outcome: 'started',
    message: `${run.command} started: ${changes.map((c) => `${c.dc.name} ${c.fromVersion ?? 'none'} → ${c.toVersion ?? '?'}`).join(', ')}`,
  });

  const results: ChangeResult[] = [];
  let exitCode: ExitCodeValue = ExitCode.ok;
  io.changesBegin();
  const ledger = new RolloutLedger(
    trail,
    {
      appId: run.appId,
      version: run.version,
      image: run.version ? changes[0]?.image : undefined,
      datacenters: changes.map((c) => c.dc.name),
      skippedFields: (dc) => {
        const change = changes.find((c) => c.dc.name === dc)!;
        return { fromVersion: change.fromVersion, ...(change.toVersion ? { toVersion: change.toVersion } : {}), ...(change.image ? { image: change.image } : {}) };
      },
    },
    now,
  );
  const skipFrom = (index: number, message: string) => {
    const skipped = changes.slice(index).map((change) => ({ ...baseResult(change, 'skipped', now()), message }));
    results.push(...skipped);
    ledger.skip(skipped, exitCode);
  };
  await whileInterruptible(
    async (signal) => {
      for (const [index, change] of changes.entries()) {
        // A Ctrl-C that lands after a datacenter finished (its last check, or just after) stops the rollout there: the
        // release manager expects no further datacenter to be touched.
        if (signal.aborted) {
          exitCode = ExitCode.interrupted;
          skipFrom(index, notTouchedAfterInterrupt(signal));
          break;
        }
        ledger.begin(change);
        const result = change.execute
          ? await change.execute(strategyContext(change, run, io, signal, ledger, now))
          : await changeDatacenter(change, run, io, signal, ledger, now);
        if (result === 'interrupted-before-change') {
          exitCode = ExitCode.interrupted;
          skipFrom(index, notTouchedAfterInterrupt(signal));
          break;
        }
        results.push(result);
        exitCode = exitCodeFor(result.outcome);
        ledger.finish(result, exitCode);
        if (exitCode !== ExitCode.ok) {
          skipFrom(index + 1, `not touched: ${result.datacenter} ${result.outcome}`);
          break;
        }
      }
    },
    { beforeForcedExit: ledger.beforeForcedExit },
  );
  return { results, exitCode };
}

export function baseResult(change: PlannedChange, outcome: ChangeResult['outcome'], began: number): ChangeResult {
  return {
    datacenter: change.dc.name,
    marathon: change.client.baseUrl,
    appId: change.appId,
    outcome,
    fromVersion: change.fromVersion,
    ...(change.live?.version ? { fromMarathonVersion: change.live.version } : {}),
    toVersion: change.toVersion,
    ...(change.targetMarathonVersion ? { targetMarathonVersion: change.targetMarathonVersion } : {}),
    ...(change.image !== undefined ? { image: change.image } : {}),
    ...(change.digest ? { digest: change.digest } : {}),
    changes: change.diff,
    ...(change.notes ? { notes: change.notes } : {}),
    durations: { totalMs: Date.now() - began },
  };
}

/** What a strategy that runs its own change (blue/green) gets from the engine: the same terminal, records and rules. */
function strategyContext(change: PlannedChange, run: RolloutRun, io: RolloutIo, signal: AbortSignal, ledger: RolloutLedger, now: () => number): ChangeContext {
  const label = `${change.dc.name}:`;
  return {
    result: baseResult(change, 'succeeded', now()),
    signal,
    rollbackOnFailure: run.rollbackOnFailure,
    rollbackOnInterrupt: run.rollbackOnInterrupt,
    stableSeconds: run.stableSeconds,
    ...(run.timeoutSeconds !== undefined ? { timeoutSeconds: run.timeoutSeconds } : {}),
    force: run.force,
    say: (line) => io.say(`${label} ${line}`),
    info: (line) => io.terminal.info(`${label} ${line}`),
    progress: (line, elapsedMs, deadlineMs) => io.terminal.progress(`${label} ${clockTime(elapsedMs)} of ${clockTime(deadlineMs)} · ${line}`, `${label} ${line}`),
    endProgress: () => io.terminal.endProgress(),
    recordStep: (step, fields = {}) =>
      io.trail.record({
        dc: change.dc.name,
        appId: fields.appId ?? change.appId,
        ...(change.toVersion ? { toVersion: change.toVersion } : {}),
        ...(fields.deploymentId ? { deploymentId: fields.deploymentId } : {}),
        ...(fields.marathonVersion ? { marathonVersion: fields.marathonVersion } : {}),
        outcome: 'step',
        strategy: 'blue-green',
        step,
        ...(fields.message ? { message: fields.message } : {}),
        ...(fields.durationMs !== undefined ? { durationMs: fields.durationMs } : {}),
      }),
    inFlight: (patch) => ledger.update(patch),
    now,
  };
}

/** One datacenter: re-read, decide, send, follow, revert on failure. */
async function changeDatacenter(
  change: PlannedChange,
  run: RolloutRun,
  io: RolloutIo,
  signal: AbortSignal,
  ledger: RolloutLedger,
  now: () => number,
): Promise<ChangeResult | 'interrupted-before-change'> {
  const began = now();
  const { client, dc } = change;
  const result = baseResult(change, 'succeeded', began);
  const label = `${dc.name}:`;
  const ended = (outcome: ChangeResult['outcome'], message: string, extra: Partial<ChangeResult> = {}): ChangeResult => ({
    ...result,
    ...extra,
    outcome,
    message,
    durations: { totalMs: now() - began },
  });

  // Read again right before changing anything: the plan may be minutes old (a prompt, an earlier datacenter's wait).
  let live: AppInfo | null;
  try {
    live = await client.findApp(change.appId);
  } catch (error) {
    return failed(result, marathonCliError(error, dc), began, now);
  }
  result.fromVersion = live ? (versionOf(live) ?? null) : null;
  const decision = change.decide!(live);
  if (decision.kind === 'none') return ended(decision.outcome, decision.message);

  let started: DeploymentResult;
  let previousVersion = live?.version ?? null;
  if (decision.kind === 'follow') {
    started = { deploymentId: decision.deploymentId, version: live!.version! };
    const before = await versionBefore(client, change.appId, live!.version!);
    previousVersion = before?.marathonVersion ?? null;
    result.fromVersion = before?.version ?? null;
    io.say(`${label} ${change.appId} is already deploying ${change.toVersion ?? 'this version'} (deployment ${started.deploymentId}); following it`);
  } else {
    // The re-read above may have taken the Ctrl-C: then nothing is sent here.
    if (signal.aborted) return 'interrupted-before-change';
    const sent = await send(client, change, decision, live, run.force, io, label);
    if ('error' in sent) {
      if (sent.readBack === 'unknown') {
        const why = marathonCliError(sent.error, dc).message;
        return ended(
          'unreachable',
          `${why}\nMarathon's answer to the change was lost and the app could not be read back: the change MAY be running. Check with: baton status ${change.appId} --env ${run.env.name}`,
          { marathonError: marathonCliError(sent.error, dc).detail },
        );
      }
      if (sent.readBack === 'other-change') {
        return ended('superseded', `Marathon's answer to the change was lost, and the app now holds another change (Marathon version ${sent.app?.version ?? '?'}): not ours`);
      }
      return failed(result, await describeRejection(sent.error, client, dc), began, now, sent.readBack === 'not-applied' ? 'read back: the change was not applied' : undefined);
    }
    started = sent.started;
    io.say(`${label} deployment ${started.deploymentId} started (Marathon version ${started.version})${sent.recovered ? ` — ${sent.recovered}` : ''}`);
  }
  result.deploymentId = started.deploymentId;
  result.marathonVersion = started.version;
  ledger.update({ deploymentId: started.deploymentId, marathonVersion: started.version, fromVersion: result.fromVersion, phase: 'waiting' });

  const definitionTimeout = defaultTimeoutSeconds(change.definition ?? live ?? {});
  const timeoutMs = (run.timeoutSeconds ?? definitionTimeout) * 1000;
  const report = await followRollout({
    client,
    appId: change.appId,
    started,
    restart: decision.kind === 'restart',
    previousVersion,
    knownFailure: live?.lastTaskFailure ?? null,
    timeoutMs,
    rollbackTimeoutMs: Math.max(timeoutMs, definitionTimeout * 1000),
    rollback: run.rollbackOnFailure,
    rollbackOnInterrupt: run.rollbackOnInterrupt,
    stableMs: run.stableSeconds * 1000,
    signal,
    onProgress: (assessment, phase) => {
      if (phase === 'rollback') ledger.update({ phase: 'rollback' });
      const clock = `${clockTime(now() - began)} of ${clockTime(phase === 'rollback' ? Math.max(timeoutMs, definitionTimeout * 1000) : timeoutMs)}`;
      const tasks = describeProgress(assessment.progress, phase === 'rollback' ? 'previous version' : 'new version');
      const state = run.wording.progress(phase, tasks, result);
      io.terminal.progress(`${label} ${clock} · ${state}`, `${label} ${state}`);
    },
    onNotice: (message) => io.terminal.info(`${label} ${message}`),
  });
  io.terminal.endProgress();
  result.outcome = report.outcome;
  result.rollback = report.rollback;
  result.durations = { totalMs: now() - began, waitMs: report.waitMs, rollbackMs: report.rollback?.durationMs, ...(report.stableMs !== undefined ? { stableMs: report.stableMs } : {}) };
  result.message = run.wording.outcome(report, result);
  if (report.outcome === 'interrupted' && !(report.rollback?.outcome === 'succeeded')) {
    for (const line of run.wording.interrupted(report, result, change)) io.say(`${label} ${line}`);
  }
  return result;
}

export type Sent =
  | { started: DeploymentResult; recovered?: string }
  | { error: unknown; readBack: 'not-needed' | 'not-applied' | 'unknown' | 'other-change'; app?: AppInfo | null };

/** How long to keep reading the app back after a change whose answer was lost, before deciding it was not applied. */
const READ_BACK_MS = 6_000;
const READ_BACK_PAUSE_MS = 500;

/**
 * Sends the change. Marathon may have applied a change whose answer was lost (reset, a gateway's 504, a 503 from a busy
 * leader, an answer that is not JSON): the app is then read back, and if it holds our change, the deployment of it is
 * followed as if the answer had arrived. Only an app read back unchanged means nothing happened.
 */
async function send(
  client: MarathonClient,
  change: PlannedChange,
  decision: Exclude<SendDecision, { kind: 'none' } | { kind: 'follow' }>,
  before: AppInfo | null,
  force: boolean,
  io: RolloutIo,
  label: string,
): Promise<Sent> {
  try {
    const started =
      decision.kind === 'restart'
        ? await client.restartApp(change.appId, { force })
        : await client.putApp(decision.definition, { partialUpdate: false, force });
    return { started };
  } catch (error) {
    if (!answerMayHaveBeenLost(error)) return { error, readBack: 'not-needed' };
    io.terminal.info(`${label} Marathon's answer to the change was lost (${(error as Error).message}); reading the app back`);
    const ours = (app: AppInfo) => decision.kind === 'restart' || diffDefinitions(app, decision.definition).length === 0;
    return readBackLostChange(client, change.appId, before?.version ?? null, ours, error);
  }
}

/**
 * After a change whose answer was lost: reads the app back until READ_BACK_MS. Changed and `ours`: the change was applied
 * (its deployment is followed as if the answer had arrived); changed otherwise: someone else's; unchanged: not applied.
 */
export async function readBackLostChange(
  client: MarathonClient,
  appId: string,
  beforeVersion: string | null,
  ours: (app: AppInfo) => boolean,
  error: unknown,
): Promise<Sent> {
  const deadline = Date.now() + READ_BACK_MS;
  let read = false;
  for (;;) {
    try {
      const [app, deployments] = await Promise.all([client.findApp(appId), client.listDeployments()]);
      read = true;
      const changed = (app?.version ?? null) !== beforeVersion;
      if (app && changed) {
        if (!ours(app)) return { error, readBack: 'other-change', app };
        const running = deployments.find((d) => d.affectedApps.includes(app.id) || d.affectedApps.includes(appId));
        return {
          started: { deploymentId: running?.id ?? app.deployments?.[0]?.id ?? '(answer lost)', version: app.version! },
          recovered: `read back after the lost answer: Marathon applied it`,
        };
      }
    } catch {
      // still unreadable: try again until the deadline
    }
    if (Date.now() >= deadline) return { error, readBack: read ? 'not-applied' : 'unknown' };
    await new Promise((resolve) => setTimeout(resolve, READ_BACK_PAUSE_MS));
  }
}

function statusOf(detail: unknown): number | undefined {
  const marathon = typeof detail === 'object' && detail !== null ? (detail as { marathon?: { status?: unknown } }).marathon : undefined;
  return typeof marathon?.status === 'number' ? marathon.status : undefined;
}

/** m:ss (h:mm:ss past an hour): elapsed time and deadline on the progress line. */
export function clockTime(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const [h, m, s] = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
  const mmss = `${h > 0 ? `${h}:${String(m).padStart(2, '0')}` : m}:${String(s).padStart(2, '0')}`;
  return mmss;
}

/** Whether Marathon may have acted on a change although Baton got no usable answer. A 4xx is Marathon's word: not applied. */
export function answerMayHaveBeenLost(error: unknown): boolean {
  return error instanceof MarathonError && (error.kind === 'unreachable' || error.kind === 'server' || error.kind === 'protocol');
}

export function failed(result: ChangeResult, error: CliError, began: number, now: () => number, note?: string): ChangeResult {
  const outcome: ChangeResult['outcome'] =
    error.exitCode === ExitCode.unreachable
      ? 'unreachable'
      : error.exitCode === ExitCode.marathonError
        ? 'marathon-error'
        : error.exitCode === ExitCode.tooManyDeployments
          ? 'too-many-deployments'
          : 'rejected';
  return {
    ...result,
    outcome,
    message: note ? `${error.message}\n(${note})` : error.message,
    marathonError: error.detail,
    ...(statusOf(error.detail) !== undefined ? { marathonStatus: statusOf(error.detail) } : {}),
    durations: { totalMs: now() - began },
  };
}

/** The Baton version and Marathon version that ran before `current`, from Marathon's stored versions (in no fixed order). */
async function versionBefore(
  client: MarathonClient,
  appId: string,
  current: string,
): Promise<{ marathonVersion: string; version: string | null } | null> {
  try {
    const versions = await client.listVersions(appId);
    const older = versions.filter((v) => Date.parse(v) < Date.parse(current)).sort((a, b) => Date.parse(b) - Date.parse(a));
    const running = versionOf(await client.getAppVersion(appId, current)) ?? null;
    // Scales and restarts make versions too: the one before is the newest older version of another Baton version.
    for (const marathonVersion of older.slice(0, 20)) {
      const version = versionOf(await client.getAppVersion(appId, marathonVersion)) ?? null;
      if (version !== running) return { marathonVersion, version };
    }
    return null;
  } catch {
    return null;
  }
}

/** Whether every datacenter ended as asked (a skipped one did not). */
export function allOk(results: ChangeResult[]): boolean {
  return results.every((r) => OUTCOMES[r.outcome].tone === 'ok');
}
