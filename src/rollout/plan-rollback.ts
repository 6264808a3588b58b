import type { AuditRecord } from '../audit/log.js';
import { readSharedAuditRecords } from '../audit/shared.js';
import type { AuditSinkConfig, DatacenterConfig, EnvironmentConfig } from '../config/environments.js';
import { appDefinitionOf, appDeploySettingsOf, environmentNamed, environmentsOf, selectDatacenters } from '../config/for-command.js';
import { planBlueGreenRollback } from './plan-blue-green.js';
import { resolveConfigDir } from '../config/load.js';
import { diffDefinitions, formatDiff, maskEntry, type DiffEntry } from '../deploy/diff.js';
import { imageOf, versionOf } from '../deploy/render.js';
import type { RolloutReport } from '../deploy/rollout.js';
import { marathonFor } from '../marathon/for-datacenter.js';
import { webhooksOf, type Webhook } from '../notify/webhook.js';
import type { AppDefinition, AppInfo, JsonObject } from '../marathon/types.js';
import { readVersionDefinitions } from '../marathon/version-definitions.js';
import { CliError } from '../outcome/cli-error.js';
import { ExitCode } from '../outcome/exit-codes.js';
import { joinHistory, versionsNewestFirst, type HistoryEntry, type MarathonVersion } from '../status/history.js';
import { absoluteId } from '../status/matrix.js';
import {
  healthierTargetMayBeOlder,
  pickRollbackTarget,
  rollbackDefinition,
  tagVerdicts,
  type RollbackPick,
  type RollbackRequest,
} from '../status/rollback-target.js';
import { paint, type Terminal } from '../terminal/output.js';
import type { ChangeResult, PlannedChange } from './change.js';
import type { RolloutWording } from './engine.js';
import { marathonCliError } from './marathon-errors.js';

/** Versions read per round while looking for the target: the previous tag is nearly always among the newest few. */
const VERSIONS_PER_ROUND = 10;
const MAX_VERSIONS_SEARCHED = 100;

export interface RollbackRequestFlags {
  env: string;
  dc?: string;
  configDir?: string;
  yes?: boolean;
  dryRun?: boolean;
  interactive: boolean;
}

export interface RollbackPlan {
  env: EnvironmentConfig;
  appId: string;
  changes: PlannedChange[];
  /** Where to tell the result (the environment's notify, URLs read from their variables). */
  webhooks: Webhook[];
}

/** One datacenter's pick before anything is changed: where it is, where it goes back to, and what that changes. */
interface DatacenterPick {
  dc: DatacenterConfig;
  live: AppInfo;
  pick: RollbackPick;
  target?: { entry: HistoryEntry; definition: AppDefinition; notes: string[] };
  diff: DiffEntry[];
}

/** The rollback planner: reads configs and each datacenter's app and history, and picks the targets. Changes nothing. */
export async function planRollback(
  app: string,
  request: RollbackRequest,
  flags: RollbackRequestFlags,
  say: (line: string) => void,
  terminal: Terminal,
  known: { datacenters?: (names: string[]) => void; appId?: (id: string) => void; auditSink?: (sink: AuditSinkConfig | undefined) => void } = {},
): Promise<RollbackPlan> {
  const configDir = resolveConfigDir(flags.configDir);
  const env = environmentNamed(await environmentsOf(configDir), flags.env, configDir);
  known.auditSink?.(env.audit);
  const datacenters = selectDatacenters(env, flags.dc);
  known.datacenters?.(datacenters.map((dc) => dc.name));
  const { definition: configured } = await appDefinitionOf(configDir, app, env.name);
  const appId = absoluteId(configured.id);
  known.appId?.(appId);
  // Like an unset credential: an unset webhook variable is refused before any request (a dry run checks it too).
  const webhooks = webhooksOf(env);

  // Refuse before any request: a confirm environment without a way to confirm must not even be read.
  if (env.confirm && !flags.yes && !flags.dryRun && !flags.interactive) {
    const message = `${env.name} needs confirmation: no terminal to ask on, and --yes was not given. Nothing was sent to Marathon.`;
    throw new CliError(message, ExitCode.notConfirmed, 'not-confirmed', { environment: env.name });
  }

  const auditRecords = await readSharedAuditRecords(env.audit, { app, env: env.name });
  const settings = await appDeploySettingsOf(configDir, app);
  if (settings.strategy === 'blue-green') {
    const changes = await planBlueGreenRollback({ app, env, datacenters, configured, settings, request, audit: auditRecords }, say, terminal);
    return { env, appId, changes, webhooks };
  }
  const changes: PlannedChange[] = [];
  const picks: DatacenterPick[] = [];
  for (const dc of datacenters) {
    const client = marathonFor(dc);
    const picked = await pickTarget(dc, client, { app, env: env.name, appId, request, audit: auditRecords });
    showPick(picked, client.baseUrl, say, terminal);
    picks.push(picked);
    changes.push(changeOf(picked, client, appId));
  }
  const missing = picks.filter((p) => p.pick.kind === 'not-found');
  if (missing.length > 0) {
    const first = missing[0]!;
    const others = datacenters.filter((dc) => !missing.some((m) => m.dc.name === dc.name)).map((dc) => dc.name);
    const hint = others.length ? ` To roll back the others alone: --dc ${others.join(',')}.` : '';
    throw new CliError(
      `${first.dc.name}: nothing to roll back to: ${first.pick.kind === 'not-found' ? first.pick.reason : ''}. See \`baton history ${app} --env ${env.name}\`; \`--to\` takes a tag or a Marathon version.${hint}`,
      ExitCode.invalidInput,
      'no-rollback-target',
      { datacenter: first.dc.name, datacenters: missing.map((m) => m.dc.name) },
    );
  }
  return { env, appId, changes, webhooks };
}

function changeOf(picked: DatacenterPick, client: PlannedChange['client'], appId: string): PlannedChange {
  const { dc, live, target } = picked;
  const planned = live.version;
  return {
    dc,
    client,
    appId,
    live,
    fromVersion: versionOf(live) ?? null,
    toVersion: target ? (target.entry.version ?? null) : (versionOf(live) ?? null),
    ...(target ? { targetMarathonVersion: target.entry.marathonVersion, image: imageOf(target.definition), definition: target.definition } : {}),
    diff: picked.diff.map(maskEntry),
    notes: target?.notes ?? [],
    decide: (current) => {
      if (!target || picked.diff.length === 0) {
        const why = picked.pick.kind === 'already' ? picked.pick.reason : 'the target definition equals the live one';
        return { kind: 'none', outcome: 'unchanged', message: `nothing to do: ${why}` };
      }
      // The target was chosen against the version read when planning: another change since then voids the choice.
      if (!current || current.version !== planned) {
        return {
          kind: 'none',
          outcome: 'superseded',
          message: `the app changed while this rollback was prepared (now ${current ? `at Marathon version ${current.version}` : 'gone'}): nothing sent; run it again`,
        };
      }
      return { kind: 'put', definition: target.definition };
    },
  };
}

/** Reads the live app and as much of its history as it takes to find the target. Changes nothing. */
async function pickTarget(
  dc: DatacenterConfig,
  client: PlannedChange['client'],
  context: { app: string; env: string; appId: string; request: RollbackRequest; audit: AuditRecord[] },
): Promise<DatacenterPick> {
  try {
    const live = await client.findApp(context.appId);
    if (!live) {
      throw new CliError(`${dc.name}: ${context.appId} is not deployed there: nothing to roll back`, ExitCode.invalidInput, 'not-deployed', {
        datacenter: dc.name,
      });
    }
    // Newest first, so the rounds below read the likely targets first.
    const all = versionsNewestFirst(await client.listVersions(context.appId), context.audit, { app: context.app, env: context.env, dc: dc.name });
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
    if (pick.kind !== 'target') return { dc, live, pick, diff: [] };
    const stored = read.find((v) => v.marathonVersion === pick.entry.marathonVersion)?.definition as JsonObject;
    const { definition, notes } = rollbackDefinition(stored, live);
    return { dc, live, pick, target: { entry: pick.entry, definition, notes }, diff: diffDefinitions(live, definition) };
  } catch (error) {
    throw marathonCliError(error, dc);
  }
}

function showPick(plan: DatacenterPick, baseUrl: string, say: (line: string) => void, terminal: Terminal): void {
  const from = `${versionOf(plan.live) ?? 'unknown'} (Marathon version ${plan.live.version ?? '?'})`;
  const head = (text: string) => say(paint(terminal.color, 'bold', `${plan.dc.name} (${baseUrl}) ${plan.live.id}: ${text}`));
  if (plan.pick.kind === 'already') return head(`${from}: already there (${plan.pick.reason})`);
  if (plan.pick.kind === 'not-found') return head(`${from}: ${plan.pick.reason}`);
  const target = plan.pick.entry;
  head(`${from} → ${target.version ?? '?'} (Marathon version ${target.marathonVersion})`);
  for (const s of plan.pick.skipped) say(`  passed over ${s.entry.version ?? '?'} (${s.entry.marathonVersion}): ${s.why}`);
  if (plan.pick.warning) say(paint(terminal.color, 'yellow', `  warning: ${plan.pick.warning}`));
  for (const note of plan.target?.notes ?? []) say(`  note: ${note}`);
  for (const line of formatDiff(plan.diff, terminal.color)) say(line);
}

/** How rollback words its results. */
export function rollbackWording(app: string, env: string): RolloutWording {
  return {
    dryRun: (change) => (change.steps ? `blue/green: would run the ${change.steps.length} steps above; nothing sent` : undefined),
    progress: (phase, progress, result) => `${phase === 'rollback' ? `restoring ${result.fromVersion ?? 'the previous version'}: ` : ''}${progress}`,
    outcome: (report, result) => rollbackOutcomeMessage(report, result),
    interrupted: (report, result, change) => [
      `interrupted: stopped watching. Deployment ${result.deploymentId} goes on in Marathon.`,
      `  watch it:   baton status ${app} --env ${env}`,
      `  revert it:  curl -X DELETE ${change.client.baseUrl}/v2/deployments/${result.deploymentId}   (Marathon restores ${result.fromVersion ?? 'the previous version'})`,
    ],
  };
}

function rollbackOutcomeMessage(report: RolloutReport, result: ChangeResult): string {
  const to = result.toVersion ?? 'the target';
  const from = result.fromVersion ?? 'the previous version';
  const back = report.rollback;
  const restored = back
    ? back.outcome === 'succeeded'
      ? `restored ${from}, which ran before the rollback (healthy again)`
      : `RESTORING ${from} ${back.outcome.toUpperCase()}: ${back.reason ?? ''} — the app in ${result.datacenter} needs attention now`
    : '';
  switch (report.outcome) {
    case 'succeeded':
      return `rolled back to ${to}: runs healthy`;
    case 'superseded':
      return `superseded: ${report.reason}`;
    case 'interrupted':
      if (report.revertedOnInterrupt) return `interrupted; ${restored || 'not restored'}`;
      return `interrupted while waiting; deployment ${report.deploymentId} continues`;
    case 'failed':
    case 'timeout':
      return `rollback target ${to} ${report.outcome === 'timeout' ? report.reason : `failed: ${report.reason}`}; left as it is (--no-rollback)`;
    default:
      return `rollback target ${to} ${report.outcome.startsWith('timeout') ? report.reason : `failed: ${report.reason}`}; ${restored}`.trim();
  }
}
