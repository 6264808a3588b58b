import type { AuditOutcome } from '../audit/log.js';
import { auditTrail, type AuditFields, type AuditTrail } from '../audit/trail.js';
import { resolveConfigDir } from '../config/load.js';
import { appDefinitionOf, environmentNamed, environmentsOf } from '../config/for-command.js';
import { parseTimeoutFlag, summaryLines } from './datacenter-summary.js';
import { notTouchedAfterInterrupt, whileInterruptible } from '../rollout/interrupt.js';
import type { DatacenterConfig, EnvironmentConfig } from '../config/environments.js';
import { diffDefinitions, formatDiff, maskEntry, type DiffEntry } from '../deploy/diff.js';
import { splitImage, TAG_PATTERN } from '../deploy/image.js';
import { imageOf, renderDefinition, versionOf } from '../deploy/render.js';
import { followRollout, type RolloutReport } from '../deploy/rollout.js';
import { describeProgress } from '../deploy/rollout-state.js';
import { defaultTimeoutSeconds } from '../deploy/timeout.js';
import type { MarathonClient } from '../marathon/client.js';
import { MarathonError } from '../marathon/errors.js';
import type { AppDefinition, AppInfo, DeploymentResult } from '../marathon/types.js';
import { confirmByTyping, stdinIsInteractive } from './confirm.js';
import { CliError } from '../outcome/cli-error.js';
import { ExitCode, type ExitCodeValue } from '../outcome/exit-codes.js';
import { marathonFor } from '../marathon/for-datacenter.js';
import { createTerminal, paint, type Terminal } from '../terminal/output.js';

export interface DeployFlags {
  env: string;
  version: string;
  dc?: string;
  yes?: boolean;
  timeout?: string;
  force?: boolean;
  rollback: boolean;
  dryRun?: boolean;
  restart?: boolean;
  json?: boolean;
  configDir?: string;
  promote?: boolean;
  promoteFrom?: string;
  pinDigest?: boolean;
  imageCheck?: boolean;
}

/** One datacenter as prepared before anything is changed: the live app and what a PUT would change. */
export interface PreparedDatacenter {
  dc: DatacenterConfig;
  client: MarathonClient;
  live: AppInfo | null;
  diff: DiffEntry[];
}

export interface PreparedDeploy {
  app: string;
  env: EnvironmentConfig;
  version: string;
  definition: AppDefinition;
  warnings: string[];
  datacenters: PreparedDatacenter[];
  /** The digest image:version resolves to (or will, after the promotion), when the registry was asked. */
  digest?: string;
  /** A registry promotion to make after confirmation and before the first datacenter. */
  promotion?: { image: string; from: string; to: string; digest: string; needed: boolean };
}

export type DatacenterOutcome = AuditOutcome;

export interface DatacenterResult {
  datacenter: string;
  marathon: string;
  appId: string;
  outcome: DatacenterOutcome;
  message?: string;
  fromVersion: string | null;
  toVersion: string;
  image: string;
  /** The registry digest of the image, when the registry was asked (always with --pin-digest). */
  digest?: string;
  deploymentId?: string;
  marathonVersion?: string;
  changes: DiffEntry[];
  durations: { totalMs: number; waitMs?: number; rollbackMs?: number };
  rollback?: RolloutReport['rollback'];
  marathonError?: Record<string, unknown>;
}

export async function runDeploy(app: string, flags: DeployFlags): Promise<number> {
  const terminal = createTerminal({ stream: process.stderr });
  const say = lineWriter(flags.json);
  const startedAt = Date.now();
  const trail = auditTrail('deploy', app, flags);
  let stage = 'before anything was sent to Marathon';
  const stopExitingOnInterrupt = trail.recordInterrupts(() => stage, { toVersion: flags.version });
  try {
    let prepared: PreparedDeploy;
    let timeoutSeconds: number | undefined;
    try {
      timeoutSeconds = parseTimeoutFlag(flags.timeout);
      checkFlags(flags);
      prepared = await prepareDeploy(app, flags, say, terminal, (datacenters) => trail.aimAt(datacenters.map((dc) => dc.name)));
    } catch (error) {
      // Every attempt is on record, those refused before any datacenter was touched included.
      trail.endedBefore(error, { toVersion: flags.version });
      throw error;
    }
    const { env, definition } = prepared;

    if (flags.dryRun) {
      for (const p of prepared.datacenters) {
        trail.record({
          dc: p.dc.name,
          appId: definition.id,
          fromVersion: liveVersion(p.live),
          toVersion: flags.version,
          image: imageOf(definition),
          outcome: 'dry-run',
          exitCode: ExitCode.ok,
        });
      }
      const results = prepared.datacenters.map((p) => ({
        ...baseResult(p, prepared, 'dry-run', startedAt),
        message: p.diff.length ? `would change ${p.diff.length} field(s); nothing sent` : `no changes: already at ${flags.version}`,
      }));
      finish(app, results, flags, say, terminal);
      return ExitCode.ok;
    }

    if (env.confirm && !flags.yes) {
      const names = prepared.datacenters.map((p) => p.dc.name).join(', ');
      stage = 'at the confirmation prompt: nothing was sent to Marathon';
      const answer = await confirmByTyping(`Deploy ${app} ${flags.version} to ${env.name} (${names})?`, `yes ${env.name}`);
      if (answer !== 'confirmed') throw trail.notConfirmed(answer, env.name, { appId: definition.id, toVersion: flags.version });
    }

    try {
      if (prepared.promotion?.needed) {
        stage = `during the registry promotion of ${prepared.promotion.image}:${prepared.promotion.to}: nothing was sent to Marathon`;
      }
      await promoteIfNeeded(prepared.promotion, say);
    } catch (error) {
      trail.record({
        appId: definition.id,
        toVersion: flags.version,
        outcome: 'rejected',
        exitCode: error instanceof CliError ? error.exitCode : ExitCode.internal,
        message: (error as Error).message,
      });
      throw error;
    }

    const results: DatacenterResult[] = [];
    let exitCode: ExitCodeValue = ExitCode.ok;
    stopExitingOnInterrupt();
    let inFlight: InFlightDeploy | undefined;
    const beforeForcedExit = recordOwedBeforeForcedExit(
      trail,
      { appId: definition.id, version: flags.version, image: imageOf(definition), datacenters: prepared.datacenters.map((p) => p.dc.name) },
      () => inFlight,
    );
    const skipFrom = (index: number, message: string) => {
      for (const skipped of prepared.datacenters.slice(index)) {
        results.push({ ...baseResult(skipped, prepared, 'skipped', Date.now()), message });
        trail.record({ dc: skipped.dc.name, appId: definition.id, toVersion: flags.version, outcome: 'skipped', exitCode, message });
      }
    };
    await whileInterruptible(async (signal) => {
      for (const [index, target] of prepared.datacenters.entries()) {
        // A Ctrl-C that lands after a datacenter finished (its last check, or just after) stops the rollout there: the
        // release manager expects no further datacenter to be touched.
        if (signal.aborted) {
          exitCode = ExitCode.interrupted;
          skipFrom(index, notTouchedAfterInterrupt(signal));
          break;
        }
        inFlight = { datacenter: target.dc.name, fromVersion: liveVersion(target.live), phase: 'sending', startedAt: Date.now() };
        const result = await deployToDatacenter(target, prepared, flags, timeoutSeconds, terminal, say, signal, inFlight);
        if (result === 'interrupted-before-change') {
          exitCode = ExitCode.interrupted;
          skipFrom(index, notTouchedAfterInterrupt(signal));
          break;
        }
        results.push(result);
        exitCode = exitCodeFor(result.outcome);
        trail.record({
          dc: result.datacenter,
          appId: result.appId,
          fromVersion: result.fromVersion,
          toVersion: result.toVersion,
          image: result.image,
          deploymentId: result.deploymentId,
          marathonVersion: result.marathonVersion,
          outcome: result.outcome,
          exitCode,
          message: result.message,
          durationMs: result.durations.totalMs,
          rollback: result.rollback ? { deploymentId: result.rollback.deploymentId, outcome: result.rollback.outcome } : undefined,
        });
        if (exitCode !== ExitCode.ok) {
          skipFrom(index + 1, `not touched: ${result.datacenter} ${result.outcome}`);
          break;
        }
      }
      inFlight = undefined;
    }, { beforeForcedExit });
    finish(app, results, flags, say, terminal);
    return exitCode;
  } finally {
    stopExitingOnInterrupt();
  }
}

function checkFlags(flags: DeployFlags): void {
  if (!TAG_PATTERN.test(flags.version)) {
    throw new CliError(
      `--version "${flags.version}" is not a valid image tag: expected letters, digits, "_", "." or "-" (at most 128, not starting with "." or "-")`,
      ExitCode.invalidInput,
      'invalid-flag',
      { flag: '--version' },
    );
  }
  if (flags.promote && flags.promoteFrom !== undefined) {
    throw new CliError('--promote and --promote-from are alternatives: --promote means --promote-from latest', ExitCode.invalidInput, 'invalid-flag', {
      flag: '--promote-from',
    });
  }
}

/** Loads, validates and renders, checks confirmation rules, and reads each datacenter's live app: no change is made here. */
export async function prepareDeploy(
  app: string,
  flags: Pick<DeployFlags, 'env' | 'version' | 'dc' | 'yes' | 'configDir' | 'json' | 'dryRun' | 'promote' | 'promoteFrom' | 'pinDigest' | 'imageCheck'>,
  say: (line: string) => void,
  terminal: Terminal,
  onDatacenters?: (datacenters: DatacenterConfig[]) => void,
): Promise<PreparedDeploy> {
  const configDir = resolveConfigDir(flags.configDir);
  const env = environmentNamed(await environmentsOf(configDir), flags.env, configDir);
  const datacenters = selectDatacenters(env, flags.dc);
  onDatacenters?.(datacenters);
  const loaded = await appDefinitionOf(configDir, app, flags.env);
  const warnings = loaded.warnings.map((w) => `${w.path}: ${w.message}`);
  for (const w of warnings) say(paint(terminal.color, 'yellow', `warning: ${app}/${flags.env}: ${w}`));

  if (env.confirm && env.mutableTags.includes(flags.version)) {
    throw new CliError(
      `--version ${flags.version} is a mutable tag and ${env.name} requires confirmed, immutable versions: deploy a release tag (e.g. 1.4.2)`,
      ExitCode.invalidInput,
      'mutable-tag',
      { flag: '--version', environment: env.name },
    );
  }
  // Refuse before any request: a confirm environment without a way to confirm must not even be read.
  if (env.confirm && !flags.yes && !flags.dryRun && !stdinIsInteractive()) {
    throw new CliError(
      `${env.name} needs confirmation: no terminal to ask on, and --yes was not given. Nothing was sent to Marathon.`,
      ExitCode.notConfirmed,
      'not-confirmed',
      { environment: env.name },
    );
  }

  const fileImage = imageOf(loaded.definition);
  if (!fileImage) {
    throw new CliError(`${loaded.files.at(-1) ?? app}: /container/docker/image is required to deploy a version`, ExitCode.invalidInput, 'invalid-config');
  }
  const { digest, promotion } = await checkRegistry(splitImage(fileImage).name, env, flags, say);
  const definition = renderDefinition(loaded.definition, { version: flags.version, digest: flags.pinDigest ? digest : undefined });

  const prepared: PreparedDatacenter[] = [];
  for (const dc of datacenters) {
    const client = marathonFor(dc);
    let live: AppInfo | null;
    try {
      live = await client.findApp(definition.id);
    } catch (error) {
      throw marathonCliError(error, dc);
    }
    const diff = diffDefinitions(live, definition);
    say(paint(terminal.color, 'bold', `${dc.name} (${client.baseUrl}) ${definition.id}: ${live ? `${liveVersion(live) ?? 'unknown'} → ${flags.version}` : `new app at ${flags.version}`}`));
    for (const line of formatDiff(diff, terminal.color)) say(line);
    prepared.push({ dc, client, live, diff });
  }
  return { app, env, version: flags.version, definition, warnings, datacenters: prepared, digest, promotion };
}

/**
 * Before Marathon hears of it: the image:version must exist (a typo would otherwise become a crash-looping deployment), or,
 * with --promote, the source tag must exist and the release tag must be free or already the same. Reads only; the promotion
 * itself waits for the confirmation.
 */
async function checkRegistry(
  imageName: string,
  env: EnvironmentConfig,
  flags: Pick<DeployFlags, 'version' | 'promote' | 'promoteFrom' | 'pinDigest' | 'imageCheck'>,
  say: (line: string) => void,
): Promise<{ digest?: string; promotion?: PreparedDeploy['promotion'] }> {
  const from = flags.promoteFrom ?? (flags.promote ? 'latest' : undefined);
  const checking = flags.imageCheck !== false && env.imageCheck;
  if (!from && !checking && !flags.pinDigest) return {};
  const [{ resolveImageDigest, RegistryError }, { registryCliError }] = await Promise.all([
    import('../registry/index.js'),
    import('../registry/exit-codes.js'),
  ]);
  const target = `${imageName}:${flags.version}`;
  try {
    const existing = await resolveImageDigest(target);
    if (from) {
      const source = await resolveImageDigest(`${imageName}:${from}`);
      if (!source) {
        throw new CliError(`cannot promote: ${imageName}:${from} does not exist in the registry`, ExitCode.sourceTagMissing, 'source-tag-missing', {
          image: imageName,
          from,
        });
      }
      if (existing && existing !== source) {
        throw new CliError(
          `cannot promote ${from} → ${flags.version}: ${target} already points at ${existing}, ${imageName}:${from} at ${source}. ` +
            'Release tags are immutable: deploy the existing tag without --promote, or move it explicitly with baton promote --force.',
          ExitCode.tagHeldByOtherDigest,
          'tag-held-by-other-digest',
          { image: imageName, existingDigest: existing, sourceDigest: source },
        );
      }
      say(`registry: ${imageName}:${from} is ${source}${existing ? `; ${flags.version} already points at it` : `; will be promoted to ${flags.version}`}`);
      return { digest: source, promotion: { image: imageName, from, to: flags.version, digest: source, needed: !existing } };
    }
    if (!existing) {
      throw new CliError(
        `${target} does not exist in the registry: check --version, or promote it first (--promote copies latest to it). ` +
          'For a registry this machine cannot reach, skip the check with --no-image-check or "imageCheck": false in environments.json.',
        ExitCode.sourceTagMissing,
        'image-not-found',
        { image: target },
      );
    }
    say(`registry: ${target} is ${existing}`);
    return { digest: existing };
  } catch (error) {
    if (error instanceof RegistryError) throw registryCliError(error, `registry check of ${target}: `);
    throw error;
  }
}

/** Makes the promotion that was checked in prepareDeploy; idempotent when the tag already points at the digest. */
async function promoteIfNeeded(promotion: PreparedDeploy['promotion'], say: (line: string) => void): Promise<void> {
  if (!promotion?.needed) return;
  const [{ promoteTag, RegistryError }, { registryCliError }] = await Promise.all([
    import('../registry/index.js'),
    import('../registry/exit-codes.js'),
  ]);
  try {
    const result = await promoteTag({ image: promotion.image, from: promotion.from, to: promotion.to });
    say(`registry: ${result.outcome} ${promotion.image}:${promotion.to} → ${result.digest} (from ${promotion.from})`);
  } catch (error) {
    if (error instanceof RegistryError) throw registryCliError(error, 'promotion failed: ');
    throw error;
  }
}

export function selectDatacenters(env: EnvironmentConfig, dcFlag: string | undefined): DatacenterConfig[] {
  if (!dcFlag || dcFlag === 'all') return env.datacenters;
  const dc = env.datacenters.find((d) => d.name === dcFlag);
  if (!dc) {
    throw new CliError(
      `--dc ${dcFlag}: ${env.name} has no such datacenter (expected one of: ${env.datacenters.map((d) => d.name).join(', ')}, or all)`,
      ExitCode.invalidInput,
      'unknown-datacenter',
      { flag: '--dc' },
    );
  }
  return [dc];
}

async function deployToDatacenter(
  target: PreparedDatacenter,
  prepared: PreparedDeploy,
  flags: DeployFlags,
  timeoutSeconds: number | undefined,
  terminal: Terminal,
  say: (line: string) => void,
  signal: AbortSignal,
  inFlight: InFlightDeploy,
): Promise<DatacenterResult | 'interrupted-before-change'> {
  const began = Date.now();
  const { client, dc } = target;
  const { definition } = prepared;
  const result = baseResult(target, prepared, 'succeeded', began);
  const label = `${dc.name}:`;

  // Read again right before changing anything: the prepare phase may be minutes old (a prompt).
  let live: AppInfo | null;
  try {
    live = await client.findApp(definition.id);
  } catch (error) {
    return failWith(result, marathonCliError(error, dc), began);
  }
  result.fromVersion = liveVersion(live);
  const changes = diffDefinitions(live, definition);
  const running = live?.deployments ?? [];

  let started: DeploymentResult;
  let resumed = false;
  let previousVersion = live?.version ?? null;
  if (live && changes.length === 0 && running.length > 0 && live.version) {
    // Our exact definition is already being rolled out (an earlier run was interrupted): follow it instead of a 409.
    started = { deploymentId: running[0]!.id, version: live.version };
    resumed = true;
    const before = await versionBefore(client, definition.id, live.version);
    previousVersion = before?.marathonVersion ?? null;
    result.fromVersion = before?.version ?? null;
    say(`${label} ${definition.id} is already deploying ${prepared.version} (deployment ${started.deploymentId}); following it`);
  } else if (live && changes.length === 0 && !flags.restart) {
    const healthy = isHealthyAt(live);
    return {
      ...result,
      outcome: healthy ? 'unchanged' : 'failed',
      message: healthy
        ? `already at ${prepared.version}: nothing restarted`
        : `already at ${prepared.version} but not healthy (${live.tasksHealthy ?? 0}/${live.instances ?? 0} healthy); use --restart to roll the tasks`,
      durations: { totalMs: Date.now() - began },
    };
  } else {
    // The re-read above may have taken the Ctrl-C: then nothing is sent here.
    if (signal.aborted) return 'interrupted-before-change';
    try {
      started =
        live && changes.length === 0
          ? await client.restartApp(definition.id, { force: flags.force })
          : await client.putApp(definition, { partialUpdate: false, force: flags.force });
    } catch (error) {
      return failWith(result, await describeRejection(error, client, dc), began);
    }
    say(`${label} deployment ${started.deploymentId} started (Marathon version ${started.version})`);
  }
  result.deploymentId = started.deploymentId;
  result.marathonVersion = started.version;
  Object.assign(inFlight, { deploymentId: started.deploymentId, marathonVersion: started.version, fromVersion: result.fromVersion, phase: 'waiting' });

  const timeoutMs = (timeoutSeconds ?? defaultTimeoutSeconds(definition)) * 1000;
  const report = await followRollout({
    client,
    appId: definition.id,
    started,
    previousVersion,
    knownFailure: live?.lastTaskFailure ?? null,
    timeoutMs,
    rollbackTimeoutMs: Math.max(timeoutMs, defaultTimeoutSeconds(definition) * 1000),
    rollback: flags.rollback,
    signal,
    onProgress: (assessment, phase) => {
      if (phase === 'rollback') inFlight.phase = 'rollback';
      terminal.progress(
        phase === 'rollback'
          ? `${label} rolling back: ${describeProgress(assessment.progress, 'previous version')}`
          : `${label} ${describeProgress(assessment.progress)}`,
      );
    },
    onNotice: (message) => terminal.info(`${label} ${message}`),
  });
  terminal.endProgress();
  result.outcome = report.outcome;
  result.rollback = report.rollback;
  result.durations = { totalMs: Date.now() - began, waitMs: report.waitMs, rollbackMs: report.rollback?.durationMs };
  result.message = outcomeMessage(report, prepared.version, result.fromVersion, dc);
  if (report.outcome === 'interrupted' && report.rollback) {
    const id = report.rollback.deploymentId ?? '(not started)';
    say(`${label} interrupted during the rollback: stopped watching. Rollback deployment ${id} goes on in Marathon.`);
    say(`  check it:         baton status ${prepared.app} --env ${prepared.env.name}`);
    say(`  or in Marathon:   curl ${client.baseUrl}/v2/deployments${authHint(dc)}`);
  } else if (report.outcome === 'interrupted') {
    const deleteUrl = `${client.baseUrl}/v2/deployments/${started.deploymentId}`;
    say(`${label} interrupted: stopped watching. Deployment ${started.deploymentId} goes on in Marathon.`);
    say(`  resume watching:  baton deploy ${prepared.app} --env ${prepared.env.name} --dc ${dc.name} --version ${prepared.version}${prepared.env.confirm ? ' --yes' : ''}`);
    say(`  roll it back:     curl -X DELETE ${deleteUrl}${authHint(dc)}   (Marathon reverts to the previous version)`);
  }
  return result;
}

/**
 * Where a deploy (or rollback) stands in the datacenter it is changing: what a forced exit (a second Ctrl-C) still has to
 * record.
 */
export interface InFlightDeploy {
  datacenter: string;
  fromVersion: string | null;
  /** What this datacenter is being changed to, when it differs from the run's version (a rollback picks one per datacenter). */
  toVersion?: string;
  image?: string;
  /** sending: Marathon has not answered the change yet; waiting: our deployment runs; rollback: the automatic rollback runs. */
  phase: 'sending' | 'waiting' | 'rollback';
  deploymentId?: string;
  marathonVersion?: string;
  startedAt: number;
}

/**
 * The records a deploy still owes when a second Ctrl-C ends it without waiting: the datacenter in flight as interrupted,
 * and the ones after it as skipped, as the first Ctrl-C would have recorded them. Pure.
 */
export function recordsOwedOnForcedExit(input: OwedOnForcedExit & { inFlight: InFlightDeploy | undefined; signal: string; now: number }): AuditFields[] {
  const { inFlight } = input;
  if (!inFlight) return [];
  const how = `interrupted (${input.signal}, twice)`;
  const toVersion = inFlight.toVersion ?? input.version;
  const image = inFlight.image ?? input.image;
  const message =
    inFlight.phase === 'sending' || !inFlight.deploymentId
      ? `${how} before Marathon answered the change: it may have started a deployment (baton status shows it)`
      : inFlight.phase === 'rollback'
        ? `${toVersion ?? 'the change'} failed; ${how} while rolling back (deployment ${inFlight.deploymentId} was cancelled; the rollback continues)`
        : `${how} while waiting; deployment ${inFlight.deploymentId} continues`;
  const interrupted: AuditFields = {
    dc: inFlight.datacenter,
    appId: input.appId,
    fromVersion: inFlight.fromVersion,
    ...(toVersion ? { toVersion } : {}),
    ...(image ? { image } : {}),
    ...(inFlight.deploymentId ? { deploymentId: inFlight.deploymentId } : {}),
    ...(inFlight.marathonVersion ? { marathonVersion: inFlight.marathonVersion } : {}),
    outcome: 'interrupted',
    exitCode: ExitCode.interrupted,
    message,
    durationMs: input.now - inFlight.startedAt,
  };
  const after = input.datacenters.slice(input.datacenters.indexOf(inFlight.datacenter) + 1);
  const skipped = after.map(
    (dc): AuditFields => ({
      dc,
      appId: input.appId,
      ...(input.version ? { toVersion: input.version } : {}),
      ...input.skippedFields?.(dc),
      outcome: 'skipped',
      exitCode: ExitCode.interrupted,
      message: `not touched: ${inFlight.datacenter} interrupted`,
    }),
  );
  return [interrupted, ...skipped];
}

/** What a run knows up front for the records a forced exit owes. */
export interface OwedOnForcedExit {
  appId: string;
  /** The version every datacenter is changed to (deploy); a rollback has one per datacenter, in InFlightDeploy and skippedFields. */
  version: string | undefined;
  image: string | undefined;
  /** Every datacenter of the run, in order. */
  datacenters: string[];
  /** More of what a skipped datacenter's record says (its own target, for a rollback). */
  skippedFields?: (dc: string) => Pick<AuditFields, 'fromVersion' | 'toVersion' | 'image'>;
}

/**
 * The `beforeForcedExit` of a deploy or rollback run (see whileInterruptible): names the datacenter in flight on stderr and
 * writes the records the run still owes about it and the datacenters after it. A second Ctrl-C does not wait for the first
 * to finish, only for these.
 */
export function recordOwedBeforeForcedExit(
  trail: AuditTrail,
  run: OwedOnForcedExit,
  inFlight: () => InFlightDeploy | undefined,
): (signal: NodeJS.Signals) => Promise<void> {
  return (signal) => {
    const owed = recordsOwedOnForcedExit({ ...run, inFlight: inFlight(), signal, now: Date.now() });
    const interrupted = owed.find((r) => r.outcome === 'interrupted');
    if (interrupted) process.stderr.write(`baton: ${interrupted.dc}: ${interrupted.message}\n`);
    return trail.recordBeforeExit(owed);
  };
}

/** How to authenticate the printed curl command, without printing the credential. */
function authHint(dc: DatacenterConfig): string {
  if (dc.credentialsEnv) return ` -u "$${dc.credentialsEnv}"`;
  if (dc.tokenEnv) return ` -H "Authorization: token=$${dc.tokenEnv}"`;
  return '';
}

/** The Baton version and Marathon version that ran before `current`, from Marathon's stored versions. */
async function versionBefore(
  client: MarathonClient,
  appId: string,
  current: string,
): Promise<{ marathonVersion: string; version: string | null } | null> {
  try {
    const versions = await client.listVersions(appId);
    const older = versions.filter((v) => v < current).sort().reverse();
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

function outcomeMessage(report: RolloutReport, version: string, from: string | null, dc: DatacenterConfig): string {
  const back = report.rollback;
  const rolled = back
    ? back.outcome === 'succeeded'
      ? `rolled back to ${from ?? 'the previous state'} (healthy again)`
      : `ROLLBACK ${back.outcome.toUpperCase()}: ${back.reason ?? 'no reason given'} — the app in ${dc.name} needs attention now`
    : undefined;
  switch (report.outcome) {
    case 'succeeded':
      return `${version} runs healthy`;
    case 'superseded':
      return `superseded: ${report.reason}`;
    case 'interrupted':
      return report.rollback
        ? `${version} failed (${report.reason ?? 'see above'}); interrupted while rolling back (deployment ${report.rollback.deploymentId ?? '?'} continues)`
        : `interrupted while waiting; deployment ${report.deploymentId} continues`;
    case 'failed':
      return `${version} failed: ${report.reason}; left as it is (--no-rollback)`;
    case 'timeout':
      return `${version} ${report.reason}; left as it is (--no-rollback)`;
    default:
      return `${version} ${report.outcome.startsWith('timeout') ? report.reason : `failed: ${report.reason}`}; ${rolled ?? ''}`.trim();
  }
}

async function describeRejection(error: unknown, client: MarathonClient, dc: DatacenterConfig): Promise<CliError> {
  if (error instanceof MarathonError && error.kind === 'locked') {
    const running = await client.listDeployments().catch(() => []);
    const blocking = error.deploymentIds.map((id) => {
      const d = running.find((r) => r.id === id);
      const doing = d
        ? `${[...new Set(d.currentActions.map((a) => `${a.action} ${a.app ?? ''}`.trim()))].join(', ') || 'running'} (step ${d.currentStep}/${d.totalSteps}, affects ${d.affectedApps.join(', ')})`
        : 'finished meanwhile';
      return `  - ${id}: ${doing}`;
    });
    return new CliError(
      [
        `${dc.name}: Marathon refused: the app is locked by ${error.deploymentIds.length} running deployment(s):`,
        ...blocking,
        'Wait for it to finish and run the same command again, cancel it (curl -X DELETE <marathon>/v2/deployments/<id>),',
        'or re-run with --force to override it (Marathon cancels it; old and new tasks may end up mixed).',
      ].join('\n'),
      ExitCode.rejected,
      'locked',
      { datacenter: dc.name, marathon: error.toJSON() },
    );
  }
  return marathonCliError(error, dc);
}

export function marathonCliError(error: unknown, dc: DatacenterConfig): CliError {
  if (!(error instanceof MarathonError)) return error instanceof CliError ? error : new CliError(String(error), ExitCode.internal, 'internal');
  const details = error.details.map((d) => `  - ${d.path}: ${d.errors.join('; ')}`);
  const code = error.kind === 'unreachable' ? ExitCode.unreachable : error.kind === 'protocol' ? ExitCode.internal : ExitCode.rejected;
  const what =
    error.kind === 'unreachable'
      ? 'unreachable'
      : `Marathon ${error.kind === 'unauthorized' || error.kind === 'forbidden' ? 'refused the credentials' : 'rejected the request'} (${error.status ?? '?'})`;
  return new CliError([`${dc.name}: ${what}: ${error.message}`, ...details].join('\n'), code, error.kind, {
    datacenter: dc.name,
    marathon: error.toJSON(),
  });
}

function failWith(result: DatacenterResult, error: CliError, began: number): DatacenterResult {
  const outcome: DatacenterOutcome = error.exitCode === ExitCode.unreachable ? 'unreachable' : 'rejected';
  return { ...result, outcome, message: error.message, marathonError: error.detail, durations: { totalMs: Date.now() - began } };
}

function baseResult(p: PreparedDatacenter, prepared: PreparedDeploy, outcome: DatacenterOutcome, began: number): DatacenterResult {
  return {
    datacenter: p.dc.name,
    marathon: p.client.baseUrl,
    appId: prepared.definition.id,
    outcome,
    fromVersion: liveVersion(p.live),
    toVersion: prepared.version,
    image: imageOf(prepared.definition) ?? '',
    ...(prepared.digest ? { digest: prepared.digest } : {}),
    changes: p.diff.map(maskEntry),
    durations: { totalMs: Date.now() - began },
  };
}

function isHealthyAt(app: AppInfo): boolean {
  const instances = app.instances ?? 0;
  const hasHealthChecks = Array.isArray(app.healthChecks) && app.healthChecks.length > 0;
  return (
    (app.deployments ?? []).length === 0 &&
    (app.tasksRunning ?? 0) === instances &&
    (!hasHealthChecks || (app.tasksHealthy ?? 0) === instances)
  );
}

function liveVersion(live: AppInfo | null): string | null {
  return live ? (versionOf(live) ?? null) : null;
}

export function exitCodeFor(outcome: DatacenterOutcome): ExitCodeValue {
  switch (outcome) {
    case 'succeeded':
    case 'unchanged':
    case 'dry-run':
      return ExitCode.ok;
    case 'rejected':
      return ExitCode.rejected;
    case 'unreachable':
      return ExitCode.unreachable;
    case 'timeout':
    case 'timeout-rolled-back':
      return ExitCode.timeout;
    case 'rollback-failed':
      return ExitCode.rollbackFailed;
    case 'superseded':
      return ExitCode.superseded;
    case 'interrupted':
      return ExitCode.interrupted;
    default:
      return ExitCode.failedRolledBack;
  }
}

function finish(appName: string, results: DatacenterResult[], flags: DeployFlags, say: (line: string) => void, terminal: Terminal): void {
  terminal.endProgress();
  for (const line of summaryLines(results, terminal.color)) say(line);
  if (flags.json) {
    const ok = results.every((r) => exitCodeFor(r.outcome) === ExitCode.ok);
    process.stdout.write(`${JSON.stringify({ ok, app: appName, appId: results[0]?.appId, env: flags.env, version: flags.version, datacenters: results }, null, 2)}\n`);
  }
}

/** Human output goes to stdout, or to stderr when --json owns stdout. */
export function lineWriter(json: boolean | undefined): (line: string) => void {
  const stream = json ? process.stderr : process.stdout;
  return (line) => void stream.write(`${line}\n`);
}
