import { colourAppId, deploymentGroupOf, liveColourOf, ZDD_LABELS } from '../blue-green/colours.js';
import { describeStep, planBlueGreen } from '../blue-green/plan.js';
import type { AppDeploySettings } from '../config/deploy-strategy.js';
import type { DatacenterConfig, EnvironmentConfig } from '../config/environments.js';
import { diffDefinitions, formatDiff, maskEntry, type DiffEntry } from '../deploy/diff.js';
import { imageOf, versionOf } from '../deploy/render.js';
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
  request: { version: string; restart?: boolean };
  digest?: string;
  /** The definition for one datacenter given what serves there (an autoscaled app keeps its live count). */
  resize(live: AppInfo | null, rendered: AppDefinition): { definition: AppDefinition; note?: string };
}

/** The blue/green planner: per datacenter, reads the colours and prints what the deploy will do there. Changes nothing. */
export async function planBlueGreenChanges(input: BlueGreenPlanInput, say: (line: string) => void, terminal: Terminal): Promise<PlannedChange[]> {
  const { definition, settings } = input;
  const blueGreen = settings.blueGreen;
  if (!blueGreen) {
    throw new CliError(
      `--strategy blue-green: ${input.app}/baton.json has no "blueGreen" settings: expected {"blueGreen": {"publicPort": 10000, "altPort": 10001}}`,
      ExitCode.invalidInput,
      'invalid-config',
      { file: `${input.app}/baton.json`, path: '/blueGreen' },
    );
  }
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
