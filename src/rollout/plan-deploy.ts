import type { AuditSinkConfig, EnvironmentConfig } from '../config/environments.js';
import { appDefinitionOf, appDeploySettingsOf, environmentNamed, environmentsOf, selectDatacenters } from '../config/for-command.js';
import type { StrategyName } from '../config/deploy-strategy.js';
import { planBlueGreenChanges } from './plan-blue-green.js';
import { resolveConfigDir } from '../config/load.js';
import { diffDefinitions, formatDiff, maskEntry } from '../deploy/diff.js';
import { splitImage } from '../deploy/image.js';
import { imageOf, renderDefinition, versionOf } from '../deploy/render.js';
import type { RolloutReport } from '../deploy/rollout.js';
import { instancesToDeploy } from '../autoscale/labels.js';
import { isAppHealthy } from '../marathon/app-health.js';
import { marathonFor } from '../marathon/for-datacenter.js';
import { webhooksOf, type Webhook } from '../notify/webhook.js';
import type { AppDefinition, AppInfo } from '../marathon/types.js';
import { CliError } from '../outcome/cli-error.js';
import { ExitCode } from '../outcome/exit-codes.js';
import { paint, type Terminal } from '../terminal/output.js';
import type { ChangeResult, PlannedChange, SendDecision } from './change.js';
import type { RolloutWording } from './engine.js';
import { authHint, marathonCliError } from './marathon-errors.js';

export interface DeployRequest {
  env: string;
  version: string;
  dc?: string;
  yes?: boolean;
  configDir?: string;
  dryRun?: boolean;
  restart?: boolean;
  promote?: boolean;
  promoteFrom?: string;
  pinDigest?: boolean;
  imageCheck?: boolean;
  /** Whether a person can answer a prompt here (a TTY on stdin and stderr). */
  interactive: boolean;
  /** Whether the run tells the environment's webhooks (deploy does, diff does not): their variables are then checked. */
  notify?: boolean;
  /** --strategy; absent: the app's baton.json, else rolling. */
  strategy?: StrategyName;
  /** --stable-seconds, when given: a blue/green candidate is watched this long unless baton.json says watchSeconds. */
  stableSeconds?: number;
}

export interface DeployPlan {
  app: string;
  env: EnvironmentConfig;
  version: string;
  definition: AppDefinition;
  warnings: string[];
  changes: PlannedChange[];
  /** The digest image:version resolves to (or will, after the promotion), when the registry was asked. */
  digest?: string;
  /** A registry promotion to make after confirmation and before the first datacenter. */
  promotion?: { image: string; from: string; to: string; digest: string; needed: boolean };
  /** Where to tell the result (the environment's notify, URLs read from their variables). */
  webhooks: Webhook[];
  strategy: StrategyName;
}

/**
 * The deploy planner: loads, validates and renders the config, checks the registry and the confirmation rules, reads each
 * datacenter's live app and what a PUT would change. Changes nothing.
 */
export async function planDeploy(
  app: string,
  request: DeployRequest,
  say: (line: string) => void,
  terminal: Terminal,
  onDatacenters?: (names: string[]) => void,
  onAuditSink?: (sink: AuditSinkConfig | undefined) => void,
): Promise<DeployPlan> {
  const configDir = resolveConfigDir(request.configDir);
  const env = environmentNamed(await environmentsOf(configDir), request.env, configDir);
  onAuditSink?.(env.audit);
  const datacenters = selectDatacenters(env, request.dc);
  onDatacenters?.(datacenters.map((dc) => dc.name));
  // Like an unset credential: an unset webhook variable is refused before any request (a dry run checks it too).
  const webhooks = request.notify ? webhooksOf(env) : [];
  const loaded = await appDefinitionOf(configDir, app, request.env);
  const warnings = loaded.warnings.map((w) => `${w.path}: ${w.message}`);
  for (const w of warnings) say(paint(terminal.color, 'yellow', `warning: ${app}/${request.env}: ${w}`));

  if (env.confirm && env.mutableTags.includes(request.version)) {
    throw new CliError(
      `--version ${request.version} is a mutable tag and ${env.name} requires confirmed, immutable versions: deploy a release tag (e.g. 1.4.2)`,
      ExitCode.invalidInput,
      'mutable-tag',
      { flag: '--version', environment: env.name },
    );
  }
  // Refuse before any request: a confirm environment without a way to confirm must not even be read.
  if (env.confirm && !request.yes && !request.dryRun && !request.interactive) {
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
  const { digest, promotion } = await checkRegistry(splitImage(fileImage).name, env, request, say);
  const definition = renderDefinition(loaded.definition, { version: request.version, digest: request.pinDigest ? digest : undefined });

  const settings = await appDeploySettingsOf(configDir, app);
  const strategy = request.strategy ?? settings.strategy;
  if (strategy === 'blue-green') {
    const changes = await planBlueGreenChanges({ app, env, datacenters, definition, settings, request, ...(digest ? { digest } : {}), resize: definitionFor }, say, terminal);
    return { app, env, version: request.version, definition, warnings, changes, digest, promotion, webhooks, strategy };
  }
  if (settings.preIntegration || settings.postIntegration) {
    say(paint(terminal.color, 'yellow', `warning: ${app}/baton.json: integration tests run with blue/green deploys only (--strategy blue-green)`));
  }

  const changes: PlannedChange[] = [];
  for (const dc of datacenters) {
    const client = marathonFor(dc);
    let live: AppInfo | null;
    try {
      live = await client.findApp(definition.id);
    } catch (error) {
      throw marathonCliError(error, dc);
    }
    const { definition: forDc, note } = definitionFor(live, definition);
    const diff = diffDefinitions(live, forDc);
    say(paint(terminal.color, 'bold', `${dc.name} (${client.baseUrl}) ${definition.id}: ${live ? `${liveVersion(live) ?? 'unknown'} → ${request.version}` : `new app at ${request.version}`}`));
    for (const line of formatDiff(diff, terminal.color)) say(line);
    if (note) say(`  note: ${note}`);
    changes.push({
      dc,
      client,
      appId: definition.id,
      live,
      fromVersion: liveVersion(live),
      toVersion: request.version,
      image: imageOf(definition) ?? '',
      ...(digest ? { digest } : {}),
      definition: forDc,
      diff: diff.map(maskEntry),
      ...(note ? { notes: [note] } : {}),
      // Decided again on the read right before the change: the autoscaler may have scaled the app meanwhile.
      decide: (current) => decideDeploy(current, definitionFor(current, definition).definition, request.version, Boolean(request.restart)),
    });
  }
  return { app, env, version: request.version, definition, warnings, changes, digest, promotion, webhooks, strategy };
}

/** The definition a deploy sends to one datacenter: an autoscaled app keeps its live instance count (clamped). Pure. */
export function definitionFor(live: AppInfo | null, rendered: AppDefinition): { definition: AppDefinition; note?: string } {
  const { instances, kept } = instancesToDeploy(live, rendered);
  if (!kept) return { definition: rendered };
  const bounds = `${kept.min ?? 0}..${kept.max ?? '∞'}`;
  const note = kept.clamped
    ? `instances: ${kept.live} → ${instances} (autoscaled: the live count, brought within AUTOSCALE_MIN/MAX ${bounds})`
    : `instances: kept at ${kept.live} (autoscaled, within ${bounds}; the file says ${rendered.instances ?? 'nothing'})`;
  return { definition: { ...rendered, instances }, note };
}

/** What a deploy sends, given the app as it is right before. Pure. */
export function decideDeploy(live: AppInfo | null, definition: AppDefinition, version: string, restart: boolean): SendDecision {
  const changes = diffDefinitions(live, definition);
  const running = live?.deployments ?? [];
  if (live && changes.length === 0 && running.length > 0 && live.version) return { kind: 'follow', deploymentId: running[0]!.id };
  if (live && changes.length === 0 && !restart) {
    return isAppHealthy(live)
      ? { kind: 'none', outcome: 'unchanged', message: `already at ${version}: nothing restarted` }
      : {
          kind: 'none',
          outcome: 'failed',
          message: `already at ${version} but not healthy (${live.tasksHealthy ?? 0}/${live.instances ?? 0} healthy); use --restart to roll the tasks`,
        };
  }
  if (live && changes.length === 0) return { kind: 'restart' };
  return { kind: 'put', definition };
}

/** How deploy words its results. */
export function deployWording(plan: Pick<DeployPlan, 'app' | 'env' | 'version'>): RolloutWording {
  const { version } = plan;
  return {
    dryRun: (change) =>
      change.steps
        ? `blue/green: would run the ${change.steps.length} steps above; nothing sent`
        : change.diff.length
          ? `would change ${change.diff.length} field(s); nothing sent`
          : `no changes: already at ${version}`,
    progress: (phase, progress) => (phase === 'rollback' ? `rolling back: ${progress}` : progress),
    outcome: (report, result) => deployOutcomeMessage(report, version, result),
    interrupted: (report, result, change) => {
      const { client, dc } = change;
      if (report.revertedOnInterrupt) {
        return [`interrupted; reverting ${report.deploymentId} did not end healthy: check it with baton status ${plan.app} --env ${plan.env.name}`];
      }
      if (report.rollback) {
        const id = report.rollback.deploymentId ?? '(not started)';
        return [
          `interrupted during the rollback: stopped watching. Rollback deployment ${id} goes on in Marathon.`,
          `  check it:         baton status ${plan.app} --env ${plan.env.name}`,
          `  or in Marathon:   curl ${client.baseUrl}/v2/deployments${authHint(dc)}`,
        ];
      }
      return [
        `interrupted: stopped watching. Deployment ${result.deploymentId} goes on in Marathon.`,
        `  resume watching:  baton deploy ${plan.app} --env ${plan.env.name} --dc ${dc.name} --version ${version}${plan.env.confirm ? ' --yes' : ''}`,
        `  roll it back:     curl -X DELETE ${client.baseUrl}/v2/deployments/${result.deploymentId}${authHint(dc)}   (Marathon reverts to the previous version)`,
      ];
    },
  };
}

function deployOutcomeMessage(report: RolloutReport, version: string, result: ChangeResult): string {
  const from = result.fromVersion;
  const back = report.rollback;
  const rolled = back
    ? back.outcome === 'succeeded'
      ? `rolled back to ${from ?? 'the previous state'} (healthy again)`
      : `ROLLBACK ${back.outcome.toUpperCase()}: ${back.reason ?? 'no reason given'} — the app in ${result.datacenter} needs attention now`
    : undefined;
  switch (report.outcome) {
    case 'succeeded':
      return `${version} runs healthy`;
    case 'superseded':
      return `superseded: ${report.reason}`;
    case 'interrupted':
      if (report.revertedOnInterrupt) return `interrupted; ${rolled ?? 'not reverted'}`;
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

/**
 * Before Marathon hears of it: the image:version must exist (a typo would otherwise become a crash-looping deployment), or,
 * with --promote, the source tag must exist and the release tag must be free or already the same. Reads only; the promotion
 * itself waits for the confirmation.
 */
async function checkRegistry(
  imageName: string,
  env: EnvironmentConfig,
  request: Pick<DeployRequest, 'version' | 'promote' | 'promoteFrom' | 'pinDigest' | 'imageCheck'>,
  say: (line: string) => void,
): Promise<{ digest?: string; promotion?: DeployPlan['promotion'] }> {
  const from = request.promoteFrom ?? (request.promote ? 'latest' : undefined);
  const checking = request.imageCheck !== false && env.imageCheck;
  if (!from && !checking && !request.pinDigest) return {};
  const [{ resolveImageDigest, RegistryError }, { registryCliError }] = await Promise.all([
    import('../registry/index.js'),
    import('../registry/exit-codes.js'),
  ]);
  const target = `${imageName}:${request.version}`;
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
          `cannot promote ${from} → ${request.version}: ${target} already points at ${existing}, ${imageName}:${from} at ${source}. ` +
            'Release tags are immutable: deploy the existing tag without --promote, or move it explicitly with baton promote --force.',
          ExitCode.tagHeldByOtherDigest,
          'tag-held-by-other-digest',
          { image: imageName, existingDigest: existing, sourceDigest: source },
        );
      }
      say(`registry: ${imageName}:${from} is ${source}${existing ? `; ${request.version} already points at it` : `; will be promoted to ${request.version}`}`);
      return { digest: source, promotion: { image: imageName, from, to: request.version, digest: source, needed: !existing } };
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
    if (error instanceof RegistryError) {
      const cliError = registryCliError(error, `registry check of ${target}: `);
      if (error.kind !== 'unreachable') throw cliError;
      throw new CliError(
        `${cliError.message}\n` +
          'Skip the check for a registry this machine cannot reach with --no-image-check (or "imageCheck": false in environments.json). ' +
          'To try Baton by hand without Marathon or a registry: `baton emulator --port 8080 &`, then `baton deploy <app> --env local --version 1.0.0`.',
        cliError.exitCode,
        cliError.code,
        cliError.detail,
      );
    }
    throw error;
  }
}

/** Makes the promotion that was checked in planDeploy; idempotent when the tag already points at the digest. */
export async function promoteIfNeeded(promotion: DeployPlan['promotion'], say: (line: string) => void): Promise<void> {
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

function liveVersion(live: AppInfo | null): string | null {
  return live ? (versionOf(live) ?? null) : null;
}
