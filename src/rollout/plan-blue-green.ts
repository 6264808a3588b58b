import { colourAppId, deploymentGroupOf, liveColourOf, ZDD_LABELS } from '../blue-green/colours.js';
import { describeStep, planBlueGreen, planColourRollback } from '../blue-green/plan.js';
import { recordConcerns, type AuditRecord } from '../audit/log.js';
import type { RollbackRequest } from '../status/rollback-target.js';
import type { AppDeploySettings } from '../config/deploy-strategy.js';
import type { DatacenterConfig, EnvironmentConfig } from '../config/environments.js';
import { diffDefinitions, formatDiff, maskEntry, type DiffEntry } from '../deploy/diff.js';
import { imageOf, renderDefinition, versionOf } from '../deploy/render.js';
import { marathonFor } from '../marathon/for-datacenter.js';
import type { AppDefinition, AppInfo } from '../marathon/types.js';
import { CliError } from '../outcome/cli-error.js';
import { ExitCode } from '../outcome/exit-codes.js';
import { paint, type Terminal } from '../terminal/output.js';
import { executeBlueGreen, readColours } from './blue-green.js';
import type { PlannedChange } from './change.js';
import { marathonCliError } from './marathon-errors.js';

export interface BlueGreenPlanInput {
  app: string;
  env: EnvironmentConfig;
  datacenters: DatacenterConfig[];
  /** The rendered definition (image tag, version label). */
  definition: AppDefinition;
  settings: AppDeploySettings;
  request: { version: string; restart?: boolean; stableSeconds?: number };
  digest?: string;
  /** The definition for one datacenter given what serves there (an autoscaled app keeps its live count). */
  resize(live: AppInfo | null, rendered: AppDefinition): { definition: AppDefinition; note?: string };
}

/** The blue/green planner: per datacenter, reads the colours and prints what the deploy will do there. Changes nothing. */
export async function planBlueGreenChanges(input: BlueGreenPlanInput, say: (line: string) => void, terminal: Terminal): Promise<PlannedChange[]> {
  const { definition, settings } = input;
  const configured = settings.blueGreen;
  if (!configured) {
    throw new CliError(
      `--strategy blue-green: ${input.app}/baton.json has no "blueGreen" settings: expected {"blueGreen": {"publicPort": 10000, "altPort": 10001}}`,
      ExitCode.invalidInput,
      'invalid-config',
      { file: `${input.app}/baton.json`, path: '/blueGreen' },
    );
  }
  // Without its own watchSeconds the candidate is watched as a rolling deploy's new tasks are (--stable-seconds, stableSeconds).
  const blueGreen = { ...configured, watchSeconds: configured.watchSeconds || (input.request.stableSeconds ?? input.env.stableSeconds) };
  if (input.request.restart) {
    throw new CliError('--restart does not apply to blue/green deploys: every deploy starts a fresh colour', ExitCode.invalidInput, 'invalid-flag', { flag: '--restart' });
  }
  const group = deploymentGroupOf(definition);
  const changes: PlannedChange[] = [];
  for (const dc of input.datacenters) {
    if (settings.postIntegration && !dc.loadBalancer) {
      throw new CliError(
        `environments.json: /environments/${input.env.name}/datacenters/${dc.name}/loadBalancer is required: post-integration tests reach the app through marathon-lb, e.g. "loadBalancer": "http://lb.${dc.name.toLowerCase()}.example.com"`,
        ExitCode.invalidInput,
        'invalid-config',
        { path: `/environments/${input.env.name}/datacenters/${dc.name}/loadBalancer` },
      );
    }
    const client = marathonFor(dc);
    let colours;
    let plain: AppInfo | null;
    try {
      [colours, plain] = await Promise.all([readColours(client, definition.id, group), client.findApp(definition.id)]);
    } catch (error) {
      throw marathonCliError(error, dc);
    }
    if (colours.length === 0 && plain) {
      throw new CliError(
        `${dc.name}: ${definition.id} runs as a plain app (a rolling deploy); blue/green runs ${colourAppId(definition.id, 'blue')} and ${colourAppId(definition.id, 'green')} instead. ` +
          'Keep deploying it rolling, or move it over by hand (deploy blue/green, check it, then delete the plain app).',
        ExitCode.invalidInput,
        'plain-app-exists',
        { datacenter: dc.name },
      );
    }
    const live = liveColourOf(colours);
    const { definition: forDc, note } = input.resize(live?.app ?? null, definition);
    const target = {
      app: input.app,
      env: input.env.name,
      dc,
      client,
      baseId: definition.id,
      group,
      version: input.request.version,
      rendered: forDc,
      settings: blueGreen,
      ...(settings.preIntegration ? { preIntegration: settings.preIntegration } : {}),
      ...(settings.postIntegration ? { postIntegration: settings.postIntegration } : {}),
      ...(dc.loadBalancer ? { proxyUrl: proxyUrlOf(dc.loadBalancer, blueGreen.publicPort) } : {}),
    };
    const plan = planBlueGreen(colours, { ...target, now: new Date() });
    const candidate = plan.steps.find((s) => s.kind === 'start');
    const diff = colourDiff(live?.app ?? null, candidate?.kind === 'start' ? candidate.definition : null);
    const from = live ? `${live.colour} ${versionOf(live.app) ?? 'unknown'}` : 'no colour';
    say(paint(terminal.color, 'bold', `${dc.name} (${client.baseUrl}) ${definition.id}: blue/green, ${from} → ${plan.candidate} ${input.request.version}`));
    for (const line of plan.found) say(`  ${line}`);
    const steps = plan.steps.map(describeStep);
    steps.forEach((line, index) => say(`  ${index + 1}. ${line}`));
    if (candidate) for (const line of formatDiff(diff, terminal.color)) say(line);
    if (note) say(`  note: ${note}`);
    if (target.proxyUrl && settings.postIntegration) say(`  post-integration tests reach ${target.proxyUrl}`);
    changes.push({
      dc,
      client,
      appId: definition.id,
      live: live?.app ?? null,
      fromVersion: live ? (versionOf(live.app) ?? null) : null,
      toVersion: input.request.version,
      image: imageOf(definition) ?? '',
      ...(input.digest ? { digest: input.digest } : {}),
      definition: forDc,
      diff: diff.map(maskEntry),
      notes: [...(note ? [note] : []), ...plan.found],
      steps,
      // Planned again on the colours read right before: the plan may be minutes old (a prompt, an earlier datacenter).
      execute: (context) => executeBlueGreen(target, context),
    });
  }
  return changes;
}

/** The load balancer's host at the app's public port: where users reach it, and post-integration tests too. */
export function proxyUrlOf(loadBalancer: string, publicPort: number): string {
  const url = new URL(loadBalancer);
  url.port = String(publicPort);
  return url.toString().replace(/\/+$/, '');
}

/** What the candidate changes against the serving colour, apart from what blue/green itself sets (id, labels, service port). */
function colourDiff(live: AppInfo | null, candidate: AppDefinition | null): DiffEntry[] {
  if (!candidate) return [];
  const zdd = new Set<string>(Object.values(ZDD_LABELS));
  return diffDefinitions(live ? { ...live, id: candidate.id } : null, candidate).filter(
    (entry) => !(entry.path.startsWith('labels.') && zdd.has(entry.path.slice('labels.'.length))) && !/servicePort$|^portDefinitions\[0\]\.port$/.test(entry.path),
  );
}

export interface BlueGreenRollbackInput {
  app: string;
  env: EnvironmentConfig;
  datacenters: DatacenterConfig[];
  /** The app's config (not rendered): a previous tag is rendered from it. */
  configured: AppDefinition;
  settings: AppDeploySettings;
  request: RollbackRequest;
  /** The audit records of this app and environment (the previous tag of a datacenter is the one its current deploy came from). */
  audit: AuditRecord[];
}

/**
 * `baton rollback` of a blue/green app, per datacenter: back to a colour Marathon still holds (kept at 0, or a deploy cut
 * short), else a blue/green deploy of the previous tag (--to, or the one the audit log shows the current version came from).
 */
export async function planBlueGreenRollback(input: BlueGreenRollbackInput, say: (line: string) => void, terminal: Terminal): Promise<PlannedChange[]> {
  const { settings, request } = input;
  const blueGreen = settings.blueGreen!;
  const baseId = input.configured.id;
  const group = deploymentGroupOf(input.configured);
  if (request.kind === 'marathon-version') {
    throw new CliError('--to <marathon-version> does not apply to a blue/green app (each deploy is a new colour): give an image tag', ExitCode.invalidInput, 'invalid-flag', { flag: '--to' });
  }
  const changes: PlannedChange[] = [];
  for (const dc of input.datacenters) {
    const client = marathonFor(dc);
    let colours;
    try {
      colours = await readColours(client, baseId, group);
    } catch (error) {
      throw marathonCliError(error, dc);
    }
    const live = liveColourOf(colours);
    const fromVersion = live ? (versionOf(live.app) ?? null) : null;
    const inMarathon = request.kind === 'previous' ? planColourRollback(colours, { baseId, settings: blueGreen }) : null;
    if (inMarathon) {
      say(paint(terminal.color, 'bold', `${dc.name} (${client.baseUrl}) ${baseId}: blue/green, ${live!.colour} ${fromVersion ?? '?'} → ${inMarathon.candidate === live!.colour ? (inMarathon.restoreTo?.colour ?? '?') : inMarathon.candidate} ${inMarathon.toVersion ?? '?'}`));
      for (const line of inMarathon.found) say(`  ${line}`);
      const steps = inMarathon.steps.map(describeStep);
      steps.forEach((line, index) => say(`  ${index + 1}. ${line}`));
      changes.push({
        dc,
        client,
        appId: baseId,
        live: live!.app,
        fromVersion,
        toVersion: inMarathon.toVersion,
        diff: [],
        notes: inMarathon.found,
        steps,
        execute: (context) =>
          executeBlueGreen(
            {
              app: input.app,
              env: input.env.name,
              dc,
              client,
              baseId,
              group,
              version: inMarathon.toVersion ?? '?',
              rendered: input.configured,
              settings: blueGreen,
              planner: (now) => planColourRollback(now, { baseId, settings: blueGreen }) ?? 'the colours changed since the rollback was planned: nothing sent; run it again',
            },
            context,
          ),
      });
      continue;
    }
    const tag = request.kind === 'tag' ? request.tag : previousTag(input.audit, { app: input.app, env: input.env.name, dc: dc.name }, fromVersion);
    if (!tag) {
      throw new CliError(
        `${dc.name}: nothing to roll back to: no colour is kept at 0 instances, and the audit log shows no deploy that brought ${fromVersion ?? 'the current version'}. Give the tag: --to <tag>.`,
        ExitCode.invalidInput,
        'no-rollback-target',
        { datacenter: dc.name },
      );
    }
    const rendered = renderDefinition(input.configured, { version: tag });
    changes.push(
      ...(await planBlueGreenChanges(
        { app: input.app, env: input.env, datacenters: [dc], definition: rendered, settings, request: { version: tag }, resize: (liveApp, r) => ({ definition: liveApp ? { ...r, instances: liveApp.instances ?? r.instances } : r }) },
        say,
        terminal,
      )),
    );
  }
  return changes;
}

/** The tag the current version replaced: the `fromVersion` of the newest succeeded deploy to it. Pure. */
export function previousTag(audit: AuditRecord[], where: { app: string; env: string; dc: string }, current: string | null): string | undefined {
  const deploys = audit.filter((r) => recordConcerns(r, where) && r.outcome === 'succeeded' && r.toVersion === current && typeof r.fromVersion === 'string');
  return deploys.at(-1)?.fromVersion ?? undefined;
}
