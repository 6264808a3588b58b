import { Command, Option } from 'commander';
import { auditLogPath, readAuditRecords, type AuditOutcome, type AuditRecord } from '../../audit/log.js';
import { auditTrail, type AuditFields } from '../../audit/trail.js';
import type { DatacenterConfig, EnvironmentConfig } from '../../config/environments.js';
import { resolveConfigDir } from '../../config/load.js';
import { diffDefinitions, formatDiff, maskEntry, type DiffEntry } from '../../deploy/diff.js';
import { imageOf, versionOf } from '../../deploy/render.js';
import { followRollout, type RolloutReport } from '../../deploy/rollout.js';
import { describeProgress } from '../../deploy/rollout-state.js';
import { defaultTimeoutSeconds } from '../../deploy/timeout.js';
import type { MarathonClient } from '../../marathon/client.js';
import { MarathonError } from '../../marathon/errors.js';
import type { AppDefinition, AppInfo, DeploymentResult, JsonObject } from '../../marathon/types.js';
import { joinHistory, type HistoryEntry, type MarathonVersion } from '../../status/history.js';
import { absoluteId } from '../../status/matrix.js';
import {
  healthierTargetMayBeOlder,
  parseRollbackTo,
  pickRollbackTarget,
  rollbackDefinition,
  tagVerdicts,
  type RollbackPick,
  type RollbackRequest,
} from '../../status/rollback-target.js';
import { readVersionDefinitions } from '../../marathon/version-definitions.js';
import { appDefinitionOf, environmentNamed, environmentsOf } from '../../config/for-command.js';
import { parseTimeoutFlag, summaryLines } from '../datacenter-summary.js';
import { confirmByTyping, stdinIsInteractive } from '../confirm.js';
import { exitCodeFor, lineWriter, marathonCliError, recordOwedBeforeForcedExit, selectDatacenters, type InFlightDeploy } from '../deploy-run.js';
import { CliError } from '../../outcome/cli-error.js';
import { ExitCode, type ExitCodeValue } from '../../outcome/exit-codes.js';
import { notTouchedAfterInterrupt, whileInterruptible } from '../../rollout/interrupt.js';
import { marathonFor } from '../../marathon/for-datacenter.js';
import { createTerminal, paint, type Terminal } from '../../terminal/output.js';

interface RollbackFlags {
  env: string;
  dc?: string;
  to?: string;
  yes?: boolean;
  timeout?: string;
  force?: boolean;
  rollback: boolean;
  dryRun?: boolean;
  json?: boolean;
  configDir?: string;
}

/** Versions read per round while looking for the target: the previous tag is nearly always among the newest few. */
const VERSIONS_PER_ROUND = 10;
const MAX_VERSIONS_SEARCHED = 100;

/** One datacenter before anything is changed: where it is, where it goes back to, and what that changes. */
interface RollbackPlan {
  dc: DatacenterConfig;
  client: MarathonClient;
  live: AppInfo;
  pick: RollbackPick;
  target?: { entry: HistoryEntry; definition: AppDefinition; notes: string[] };
  diff: DiffEntry[];
}

export interface RollbackResult {
  datacenter: string;
  marathon: string;
  appId: string;
  outcome: AuditOutcome;
  message?: string;
  fromVersion: string | null;
  fromMarathonVersion?: string;
  toVersion: string | null;
  /** The stored Marathon version whose definition was put back. */
  targetMarathonVersion?: string;
  image?: string;
  deploymentId?: string;
  /** The new Marathon version the rollback created. */
  marathonVersion?: string;
  changes: DiffEntry[];
  notes: string[];
  durations: { totalMs: number; waitMs?: number; rollbackMs?: number };
  rollback?: RolloutReport['rollback'];
  marathonError?: Record<string, unknown>;
}

export function register(program: Command): void {
  program
    .command('rollback')
    .description('Put an earlier version of an app back (default: the previous image tag), wait until it runs healthy, recover if it does not')
    .argument('<app>', 'app folder in the config dir')
    .requiredOption('-e, --env <env>', 'environment from environments.json')
    .option('--dc <dc>', 'one datacenter, or "all" (default: all, in the order listed)')
    .option('--to <tag|marathon-version>', 'an image tag, or a Marathon version from `baton history` (default: the previous tag)')
    .option('-y, --yes', 'confirm a confirm-environment (prod) without asking; required without a TTY')
    .option('--timeout <seconds>', 'give up and restore what ran before after this long (default: derived from the health checks)')
    .option('--force', 'override a deployment that locks the app (Marathon force=true; e.g. a stuck deploy)')
    .option('--no-rollback', 'if the rollback target itself fails, leave it as it is')
    .option('--dry-run', 'show what would be put back and stop; sends nothing that changes Marathon')
    .option('--json', 'print one JSON document with the per-datacenter result on stdout')
    .addOption(new Option('--config-dir <dir>', 'deploy-configs directory').env('BATON_CONFIG_DIR'))
    .addHelpText(
      'after',
      `
Examples:
  baton rollback shop-web --env qa                                  # back to the previous image tag
  baton rollback shop-web --env prod --to 1.4.1 --yes               # CI: a named tag, prod confirmed
  baton rollback shop-web --env prod --dc AA --to 2024-05-02T09:14:03.512Z
  baton rollback shop-web --env prod --dry-run                      # show the target and the diff only

The target's definition is read from Marathon's stored versions and PUT whole (partialUpdate=false), labels included.
The default skips versions whose image tag the audit log shows failing (failed, timeout, rollback-failed, superseded,
interrupted) and never succeeding, prefers tags it shows running healthy (succeeded, unchanged), and prints each
version it passed over and why. instances stays as it is for autoscaled apps.
Then Baton waits exactly like deploy; if the target fails too, it restores what ran before the rollback.

Exit codes: 0 every datacenter healthy on the target (or already at it) · 2 invalid input, no such target
  3 not confirmed · 4 rejected by Marathon · 5 target failed, restored · 6 timeout (restored) · 7 restoring failed
  8 Marathon unreachable · 9 superseded by another change · 130 interrupted (Ctrl-C)

Ctrl-C while waiting stops watching (the deployment goes on in Marathon), prints how to watch or revert it, and exits 130;
a second Ctrl-C exits at once, after writing the audit record (waiting at most 2 s for the disk). Once Ctrl-C was
pressed no further datacenter is changed: the rest are audited skipped.`,
    )
    .action(async (app: string, flags: RollbackFlags) => {
      process.exitCode = await runRollback(app, flags);
    });
}

async function runRollback(app: string, flags: RollbackFlags): Promise<number> {
  const terminal = createTerminal({ stream: process.stderr });
  const say = lineWriter(flags.json);
  const trail = auditTrail('rollback', app, flags);
  let stage = 'before anything was sent to Marathon';
  const stopExitingOnInterrupt = trail.recordInterrupts(() => stage);
  try {
    let prepared: Awaited<ReturnType<typeof prepareRollback>>;
    const known: { appId?: string } = {};
    try {
      prepared = await prepareRollback(app, flags, say, terminal, { trail, known });
    } catch (error) {
      // Every attempt is on record, those that ended before any datacenter was changed included.
      trail.endedBefore(error, known.appId ? { appId: known.appId } : {});
      throw error;
    }
    const { env, appId, plans, timeoutSeconds } = prepared;

    if (flags.dryRun) {
      const results = plans.map((p) => resultOf(p, appId, 'dry-run', Date.now()));
      for (const r of results) trail.record(auditFields(r, ExitCode.ok));
      finish(results, app, appId, env, say, terminal, flags.json);
      return ExitCode.ok;
    }

    const changing = plans.filter((p) => p.target);
    if (env.confirm && !flags.yes && changing.length > 0) {
      const what = changing.map((p) => `${p.dc.name} ${versionOf(p.live) ?? '?'} → ${p.target?.entry.version ?? '?'}`).join(', ');
      stage = 'at the confirmation prompt: nothing was sent to Marathon';
      const answer = await confirmByTyping(`Roll back ${app} in ${env.name} (${what})?`, `yes ${env.name}`);
      if (answer !== 'confirmed') throw trail.notConfirmed(answer, env.name, { appId });
    }

    const results: RollbackResult[] = [];
    let exitCode: ExitCodeValue = ExitCode.ok;
    stopExitingOnInterrupt();
    let inFlight: InFlightDeploy | undefined;
    const targetOf = (plan: RollbackPlan) => {
      const { fromVersion, toVersion, image } = resultOf(plan, appId, 'skipped', Date.now());
      return { fromVersion, ...(toVersion ? { toVersion } : {}), ...(image ? { image } : {}) };
    };
    const beforeForcedExit = recordOwedBeforeForcedExit(
      trail,
      {
        appId,
        version: undefined,
        image: undefined,
        datacenters: plans.map((p) => p.dc.name),
        skippedFields: (dc) => targetOf(plans.find((p) => p.dc.name === dc)!),
      },
      () => inFlight,
    );
    const skipFrom = (index: number, message: string) => {
      for (const skipped of plans.slice(index)) {
        const r = { ...resultOf(skipped, appId, 'skipped', Date.now()), message };
        results.push(r);
        trail.record(auditFields(r, exitCode));
      }
    };
    await whileInterruptible(async (signal) => {
      for (const [index, plan] of plans.entries()) {
        // As in deploy: a Ctrl-C that lands after a datacenter finished stops the rollback there.
        if (signal.aborted) {
          exitCode = ExitCode.interrupted;
          skipFrom(index, notTouchedAfterInterrupt(signal));
          break;
        }
        inFlight = { datacenter: plan.dc.name, ...targetOf(plan), fromVersion: versionOf(plan.live) ?? null, phase: 'sending', startedAt: Date.now() };
        const result = await rollBackDatacenter(plan, appId, flags, timeoutSeconds, terminal, say, signal, inFlight);
        if (result === 'interrupted-before-change') {
          exitCode = ExitCode.interrupted;
          skipFrom(index, notTouchedAfterInterrupt(signal));
          break;
        }
        results.push(result);
        exitCode = exitCodeFor(result.outcome);
        trail.record(auditFields(result, exitCode));
        if (exitCode === ExitCode.ok) continue;
        skipFrom(index + 1, `not touched: ${result.datacenter} ${result.outcome}`);
        break;
      }
      inFlight = undefined;
    }, { beforeForcedExit });
    finish(results, app, appId, env, say, terminal, flags.json);
    return exitCode;
  } finally {
    stopExitingOnInterrupt();
  }
}

/** Reads configs and each datacenter's app and history, and picks the targets: nothing is changed here. */
async function prepareRollback(
  app: string,
  flags: RollbackFlags,
  say: (line: string) => void,
  terminal: Terminal,
  context: { trail: ReturnType<typeof auditTrail>; known: { appId?: string } },
): Promise<{ env: EnvironmentConfig; appId: string; plans: RollbackPlan[]; timeoutSeconds: number | undefined }> {
  const request = parseRollbackTo(flags.to);
  if (request.kind === 'invalid') throw new CliError(request.reason, ExitCode.invalidInput, 'invalid-flag', { flag: '--to' });
  const timeoutSeconds = parseTimeoutFlag(flags.timeout);
  const configDir = resolveConfigDir(flags.configDir);
  const env = environmentNamed(await environmentsOf(configDir), flags.env, configDir);
  const datacenters = selectDatacenters(env, flags.dc);
  context.trail.aimAt(datacenters.map((dc) => dc.name));
  const { definition: configured } = await appDefinitionOf(configDir, app, env.name);
  const appId = absoluteId(configured.id);
  context.known.appId = appId;

  // Refuse before any request: a confirm environment without a way to confirm must not even be read.
  if (env.confirm && !flags.yes && !flags.dryRun && !stdinIsInteractive()) {
    const message = `${env.name} needs confirmation: no terminal to ask on, and --yes was not given. Nothing was sent to Marathon.`;
    throw new CliError(message, ExitCode.notConfirmed, 'not-confirmed', { environment: env.name });
  }

  const auditRecords = readAuditRecords(auditLogPath());
  const plans: RollbackPlan[] = [];
  for (const dc of datacenters) {
    const plan = await planRollback(dc, { app, env: env.name, appId, request, audit: auditRecords });
    showPlan(plan, say, terminal);
    plans.push(plan);
  }
  const missing = plans.find((p) => p.pick.kind === 'not-found');
  if (missing && missing.pick.kind === 'not-found') {
    throw new CliError(
      `${missing.dc.name}: nothing to roll back to: ${missing.pick.reason}. See \`baton history ${app} --env ${env.name}\`; \`--to\` takes a tag or a Marathon version.`,
      ExitCode.invalidInput,
      'no-rollback-target',
      { datacenter: missing.dc.name },
    );
  }
  return { env, appId, plans, timeoutSeconds };
}

/** Reads the live app and as much of its history as it takes to find the target. Changes nothing. */
async function planRollback(
  dc: DatacenterConfig,
  context: { app: string; env: string; appId: string; request: RollbackRequest; audit: AuditRecord[] },
): Promise<RollbackPlan> {
  const client = marathonFor(dc);
  try {
    const live = await client.findApp(context.appId);
    if (!live) {
      throw new CliError(`${dc.name}: ${context.appId} is not deployed there: nothing to roll back`, ExitCode.invalidInput, 'not-deployed', {
        datacenter: dc.name,
      });
    }
    const all = await client.listVersions(context.appId);
    const tags = tagVerdicts(context.audit, { app: context.app, env: context.env, dc: dc.name });
    const request = context.request;
    const wanted = request.kind === 'marathon-version' ? all.filter((v) => v === request.marathonVersion || v === live.version) : all;
    const read: MarathonVersion[] = [];
    let pick: RollbackPick = { kind: 'not-found', reason: 'Marathon stores no other version of this app', skipped: [] };
    let entries: HistoryEntry[] = [];
    while (read.length < Math.min(wanted.length, MAX_VERSIONS_SEARCHED)) {
      read.push(...(await readVersionDefinitions(client, context.appId, wanted.slice(read.length, read.length + VERSIONS_PER_ROUND))));
      entries = joinHistory({
        app: context.app,
        env: context.env,
        dc: dc.name,
        currentVersion: live.version,
        versions: read,
        olderExist: wanted.length > read.length,
        audit: context.audit,
      });
      pick = pickRollbackTarget(entries, { marathonVersion: live.version, version: versionOf(live) }, context.request, tags);
      if (pick.kind !== 'not-found' && !healthierTargetMayBeOlder(pick, entries, tags, versionOf(live))) break;
    }
    if (pick.kind !== 'target') return { dc, client, live, pick, diff: [] };
    const stored = read.find((v) => v.marathonVersion === pick.entry.marathonVersion)?.definition as JsonObject;
    const { definition, notes } = rollbackDefinition(stored, live);
    return { dc, client, live, pick, target: { entry: pick.entry, definition, notes }, diff: diffDefinitions(live, definition) };
  } catch (error) {
    throw marathonCliError(error, dc);
  }
}

function showPlan(plan: RollbackPlan, say: (line: string) => void, terminal: Terminal): void {
  const from = `${versionOf(plan.live) ?? 'unknown'} (Marathon version ${plan.live.version ?? '?'})`;
  const head = (text: string) => say(paint(terminal.color, 'bold', `${plan.dc.name} (${plan.client.baseUrl}) ${plan.live.id}: ${text}`));
  if (plan.pick.kind === 'already') return head(`${from}: already there (${plan.pick.reason})`);
  if (plan.pick.kind === 'not-found') return head(`${from}: ${plan.pick.reason}`);
  const target = plan.pick.entry;
  head(`${from} → ${target.version ?? '?'} (Marathon version ${target.marathonVersion})`);
  for (const s of plan.pick.skipped) say(`  passed over ${s.entry.version ?? '?'} (${s.entry.marathonVersion}): ${s.why}`);
  if (plan.pick.warning) say(paint(terminal.color, 'yellow', `  warning: ${plan.pick.warning}`));
  for (const note of plan.target?.notes ?? []) say(`  note: ${note}`);
  for (const line of formatDiff(plan.diff, terminal.color)) say(line);
}

async function rollBackDatacenter(
  plan: RollbackPlan,
  appId: string,
  flags: RollbackFlags,
  timeoutSeconds: number | undefined,
  terminal: Terminal,
  say: (line: string) => void,
  signal: AbortSignal,
  inFlight: InFlightDeploy,
): Promise<RollbackResult | 'interrupted-before-change'> {
  const began = Date.now();
  const { client, dc, target } = plan;
  const result = resultOf(plan, appId, 'succeeded', began);
  const label = `${dc.name}:`;
  if (!target || plan.diff.length === 0) {
    const why = plan.pick.kind === 'already' ? plan.pick.reason : 'the target definition equals the live one';
    return { ...result, outcome: 'unchanged', message: `nothing to do: ${why}` };
  }

  // Read again right before changing anything: the prompt may have taken minutes, and the target was chosen against this version.
  let live: AppInfo | null;
  try {
    live = await client.findApp(appId);
  } catch (error) {
    return failWith(result, marathonCliError(error, dc), began);
  }
  if (!live || live.version !== plan.live.version) {
    return {
      ...result,
      outcome: 'superseded',
      message: `the app changed while this rollback was prepared (now ${live ? `at Marathon version ${live.version}` : 'gone'}): nothing sent; run it again`,
      durations: { totalMs: Date.now() - began },
    };
  }

  // The re-read above may have taken the Ctrl-C: then nothing is sent here.
  if (signal.aborted) return 'interrupted-before-change';
  let started: DeploymentResult;
  try {
    started = await client.putApp(target.definition, { partialUpdate: false, force: flags.force });
  } catch (error) {
    const rejected = marathonCliError(error, dc);
    const blocking = error instanceof MarathonError ? error.deploymentIds.join(', ') : '';
    const hint =
      rejected.code === 'locked'
        ? `\nDeployment ${blocking || '(unknown)'} locks the app: wait for it, or re-run with --force to override it (e.g. a stuck deploy).`
        : '';
    return failWith(result, new CliError(`${rejected.message}${hint}`, rejected.exitCode, rejected.code, rejected.detail), began);
  }
  say(`${label} deployment ${started.deploymentId} started (Marathon version ${started.version})`);
  result.deploymentId = started.deploymentId;
  result.marathonVersion = started.version;
  Object.assign(inFlight, { deploymentId: started.deploymentId, marathonVersion: started.version, phase: 'waiting' });

  const report = await followRollout({
    client,
    appId,
    started,
    previousVersion: live.version ?? null,
    knownFailure: live.lastTaskFailure ?? null,
    timeoutMs: (timeoutSeconds ?? defaultTimeoutSeconds(target.definition)) * 1000,
    rollback: flags.rollback,
    signal,
    onProgress: (assessment, phase) => {
      if (phase === 'rollback') inFlight.phase = 'rollback';
      terminal.progress(`${label} ${phase === 'rollback' ? `restoring ${result.fromVersion ?? 'the previous version'}: ` : ''}${describeProgress(assessment.progress)}`);
    },
    onNotice: (message) => terminal.info(`${label} ${message}`),
  });
  terminal.endProgress();
  result.outcome = report.outcome;
  result.rollback = report.rollback;
  result.durations = { totalMs: Date.now() - began, waitMs: report.waitMs, rollbackMs: report.rollback?.durationMs };
  result.message = outcomeMessage(report, result, dc);
  if (report.outcome === 'interrupted') {
    say(`${label} interrupted: stopped watching. Deployment ${started.deploymentId} goes on in Marathon.`);
    say(`  watch it:   baton status ${plan.live.id} --env ${flags.env}`);
    say(`  revert it:  curl -X DELETE ${client.baseUrl}/v2/deployments/${started.deploymentId}   (Marathon restores ${result.fromVersion ?? 'the previous version'})`);
  }
  return result;
}

function outcomeMessage(report: RolloutReport, result: RollbackResult, dc: DatacenterConfig): string {
  const to = result.toVersion ?? 'the target';
  const from = result.fromVersion ?? 'the previous version';
  const back = report.rollback;
  const restored = back
    ? back.outcome === 'succeeded'
      ? `restored ${from}, which ran before the rollback (healthy again)`
      : `RESTORING ${from} ${back.outcome.toUpperCase()}: ${back.reason ?? ''} — the app in ${dc.name} needs attention now`
    : '';
  switch (report.outcome) {
    case 'succeeded':
      return `rolled back to ${to}: runs healthy`;
    case 'superseded':
      return `superseded: ${report.reason}`;
    case 'interrupted':
      return `interrupted while waiting; deployment ${report.deploymentId} continues`;
    case 'failed':
    case 'timeout':
      return `rollback target ${to} ${report.outcome === 'timeout' ? report.reason : `failed: ${report.reason}`}; left as it is (--no-rollback)`;
    default:
      return `rollback target ${to} ${report.outcome.startsWith('timeout') ? report.reason : `failed: ${report.reason}`}; ${restored}`.trim();
  }
}

function resultOf(plan: RollbackPlan, appId: string, outcome: AuditOutcome, began: number): RollbackResult {
  const target = plan.target;
  return {
    datacenter: plan.dc.name,
    marathon: plan.client.baseUrl,
    appId,
    outcome,
    fromVersion: versionOf(plan.live) ?? null,
    fromMarathonVersion: plan.live.version,
    toVersion: target ? (target.entry.version ?? null) : (versionOf(plan.live) ?? null),
    ...(target ? { targetMarathonVersion: target.entry.marathonVersion, image: imageOf(target.definition) } : {}),
    changes: plan.diff.map(maskEntry),
    notes: target?.notes ?? [],
    durations: { totalMs: Date.now() - began },
  };
}

function failWith(result: RollbackResult, error: CliError, began: number): RollbackResult {
  const outcome: AuditOutcome = error.exitCode === ExitCode.unreachable ? 'unreachable' : 'rejected';
  return { ...result, outcome, message: error.message, marathonError: error.detail, durations: { totalMs: Date.now() - began } };
}

function auditFields(r: RollbackResult, exitCode: number): AuditFields {
  const target = r.targetMarathonVersion ? `to Marathon version ${r.targetMarathonVersion}` : undefined;
  return {
    dc: r.datacenter,
    appId: r.appId,
    fromVersion: r.fromVersion,
    ...(r.toVersion ? { toVersion: r.toVersion } : {}),
    ...(r.image ? { image: r.image } : {}),
    ...(r.deploymentId ? { deploymentId: r.deploymentId } : {}),
    ...(r.marathonVersion ? { marathonVersion: r.marathonVersion } : {}),
    outcome: r.outcome,
    exitCode,
    message: [target, r.message].filter(Boolean).join(': ') || undefined,
    durationMs: r.durations.totalMs,
    ...(r.rollback ? { rollback: { deploymentId: r.rollback.deploymentId, outcome: r.rollback.outcome } } : {}),
  };
}

function finish(
  results: RollbackResult[],
  app: string,
  appId: string,
  env: EnvironmentConfig,
  say: (line: string) => void,
  terminal: Terminal,
  json: boolean | undefined,
): void {
  terminal.endProgress();
  for (const line of summaryLines(results, terminal.color)) say(line);
  if (json) {
    const ok = results.every((r) => exitCodeFor(r.outcome) === ExitCode.ok);
    process.stdout.write(`${JSON.stringify({ ok, app, appId, env: env.name, datacenters: results }, null, 2)}\n`);
  }
}
