import type { BlueGreenSettings, IntegrationTest } from '../config/deploy-strategy.js';
import { versionOf } from '../deploy/render.js';
import { isAppHealthy } from '../marathon/app-health.js';
import type { AppDefinition } from '../marathon/types.js';
import {
  colourAppId,
  colourDefinition,
  labelsOf,
  liveColourOf,
  nextServicePort,
  otherColour,
  targetInstancesOf,
  type Colour,
  type ColourApp,
  ZDD_LABELS,
} from './colours.js';

// A blue/green deploy as data: what Marathon holds in, the steps out. Pure; src/rollout/blue-green.ts executes the steps
// through the Marathon client and, when one fails, the restore steps planned here from what it reads back then.

export type TestPhase = 'pre' | 'post';

export type Step =
  /** PUT the candidate colour (create, or replace a colour kept at 0 instances) at full size. */
  | { kind: 'start'; colour: Colour; appId: string; definition: AppDefinition }
  /** Wait until the colour's deployment is done by the engine's completion rule (healthy, current tasks, right count). */
  | { kind: 'wait-healthy'; colour: Colour; appId: string }
  /** Keep watching the healthy colour, so a crash after becoming healthy is caught before users reach it. */
  | { kind: 'watch'; colour: Colour; appId: string; seconds: number }
  /** Make this colour the one marathon-lb routes to, at the same size: scale it by one and straight back (no restart). */
  | { kind: 'serve'; colour: Colour; appId: string; instances: number }
  /** Scale a colour (the old colour back to full size when a half-done deploy is undone). */
  | { kind: 'scale'; colour: Colour; appId: string; instances: number }
  | { kind: 'test'; phase: TestPhase; colour: Colour; appId: string; test: IntegrationTest }
  /** Let marathon-lb reload HAProxy after a switch, before the proxy is tested or the colour that left is removed. */
  | { kind: 'settle'; seconds: number }
  /** Before the old colour goes: the candidate must still be healthy, with no failure of its own since users were routed to it. */
  | { kind: 'check'; colour: Colour; appId: string }
  /** Delete a colour, or keep it at 0 instances for an instant rollback. */
  | { kind: 'retire'; colour: Colour; appId: string; keep: boolean };

export interface BlueGreenRequest {
  baseId: string;
  group: string;
  version: string;
  /** The rendered definition for this datacenter (instances resolved). */
  rendered: AppDefinition;
  settings: BlueGreenSettings;
  preIntegration?: IntegrationTest;
  postIntegration?: IntegrationTest;
  /** STARTED_AT of a candidate created now. */
  now: Date;
}

export interface BlueGreenPlan {
  live: ColourApp | null;
  candidate: Colour;
  candidateId: string;
  instances: number;
  /** What was found in Marathon that the plan reacts to (a half-done deploy), said before it starts. */
  found: string[];
  steps: Step[];
  /** What a failure restores: this colour serving at this size (null: a first deploy, nothing served before). */
  restoreTo: { colour: Colour; instances: number } | null;
  /** The result line when every step went well, where it is not "<version> runs healthy as <candidate>". */
  doneMessage?: string;
}

/** The steps of a blue/green deploy from what Marathon holds now. */
export function planBlueGreen(colours: readonly ColourApp[], request: BlueGreenRequest): BlueGreenPlan {
  const instances = request.rendered.instances === undefined ? 1 : Number(request.rendered.instances);
  const live = liveColourOf(colours);
  const found: string[] = [];
  const other = live ? colours.find((c) => c.colour !== live.colour) : colours.find((c) => (c.app.instances ?? 0) === 0);
  const testsAndSwitch = (candidate: Colour, from: 'pre' | 'post', old: ColourApp | null, candidateSize = instances): Step[] => {
    const appId = colourAppId(request.baseId, candidate);
    const steps: Step[] = [];
    if (from === 'pre' && request.preIntegration) steps.push({ kind: 'test', phase: 'pre', colour: candidate, appId, test: request.preIntegration });
    if (from === 'pre' && old) steps.push({ kind: 'serve', colour: candidate, appId, instances: candidateSize });
    if (candidateSize < instances) steps.push({ kind: 'scale', colour: candidate, appId, instances }, { kind: 'wait-healthy', colour: candidate, appId });
    if (old || request.postIntegration) steps.push({ kind: 'settle', seconds: request.settings.settleSeconds });
    if (request.postIntegration) steps.push({ kind: 'test', phase: 'post', colour: candidate, appId, test: request.postIntegration });
    // A candidate crashing after it served makes marathon-lb route to the old colour again: it must not be removed then.
    if (old) steps.push({ kind: 'check', colour: candidate, appId }, { kind: 'retire', colour: old.colour, appId: colourAppId(request.baseId, old.colour), keep: request.settings.keepOldColour });
    return steps;
  };

  // Both colours hold tasks: an earlier deploy was cut short (or zdd.py's left it half-done). Finish it when a colour is
  // exactly what is asked for and healthy; else put the serving colour back to full size and start the candidate over.
  if (live && other && (other.app.instances ?? 0) > 0) {
    const target = Math.max(targetInstancesOf(live.app), instances);
    const ready = (c: ColourApp) => versionOf(c.app) === request.version && (c.app.instances ?? 0) === instances && isAppHealthy(c.app);
    const resumed = (candidate: ColourApp, old: ColourApp, from: 'pre' | 'post', before: Step[]): BlueGreenPlan => {
      found.push(
        `found a deploy cut short: ${candidate.colour} runs ${request.version} healthy (${instances} tasks) beside ${old.colour}` +
          `${from === 'post' ? ` and users are routed to it` : ''}; continuing from the ${from}-integration tests`,
      );
      return {
        live,
        candidate: candidate.colour,
        candidateId: colourAppId(request.baseId, candidate.colour),
        instances,
        found,
        steps: [...before, ...testsAndSwitch(candidate.colour, from, old)],
        restoreTo: { colour: old.colour, instances: Math.max(targetInstancesOf(old.app), old.app.instances ?? 0) },
      };
    };
    if (ready(live)) return resumed(live, other, 'post', []);
    if (ready(other)) return resumed(other, live, 'pre', restoreSizeOf(live, target));
    found.push(
      `found a deploy cut short: ${other.colour} runs ${versionOf(other.app) ?? 'an unknown version'} (${other.app.tasksHealthy ?? 0}/${other.app.instances ?? 0} healthy) ` +
        `beside ${live.colour}, which users are routed to; ${other.colour} is started over`,
    );
    return forward(live, Math.max(target, live.app.instances ?? 0), restoreSizeOf(live, target));
  }
  return forward(live, live?.app.instances ?? 0, []);

  /** A deploy from a state with at most one serving colour (after `before` made it so), sized `servingSize`. */
  function forward(serving: ColourApp | null, servingSize: number, before: Step[]): BlueGreenPlan {
    const candidate = serving ? otherColour(serving.colour) : (other?.colour ?? 'blue');
    const appId = colourAppId(request.baseId, candidate);
    // Before the switch marathon-lb drains only as many of the candidate's tasks as the serving colour has healthy ones
    // (beyond its TARGET_INSTANCES): a candidate larger than the serving colour starts at that size and grows once it serves.
    const startSize = serving ? Math.min(instances, servingSize) : instances;
    const definition = colourDefinition(request.rendered, {
      colour: candidate,
      group: request.group,
      ports: request.settings,
      servicePort: nextServicePort(serving?.app ?? null, request.settings),
      instances: startSize,
      targetInstances: instances,
      startedAt: request.now,
    });
    const steps: Step[] = [...before, { kind: 'start', colour: candidate, appId, definition }];
    // The candidate was PUT last, so marathon-lb would take it as "new" and drain the serving colour as the candidate's tasks
    // turn healthy: scaling the serving colour by one and back makes it the last scaled again before any of them is healthy.
    if (serving) steps.push({ kind: 'serve', colour: serving.colour, appId: colourAppId(request.baseId, serving.colour), instances: servingSize });
    steps.push({ kind: 'wait-healthy', colour: candidate, appId });
    if (request.settings.watchSeconds > 0) steps.push({ kind: 'watch', colour: candidate, appId, seconds: request.settings.watchSeconds });
    steps.push(...testsAndSwitch(candidate, 'pre', serving, startSize));
    return { live: serving, candidate, candidateId: appId, instances, found, steps, restoreTo: serving ? { colour: serving.colour, instances: servingSize } : null };
  }

  function restoreSizeOf(colour: ColourApp, target: number): Step[] {
    if ((colour.app.instances ?? 0) >= target && isAppHealthy(colour.app)) return [];
    const appId = colourAppId(request.baseId, colour.colour);
    return [
      { kind: 'scale', colour: colour.colour, appId, instances: target },
      { kind: 'wait-healthy', colour: colour.colour, appId },
    ];
  }
}

/**
 * `baton rollback` of a blue/green app, when Marathon holds what to go back to. A colour kept at 0 instances beside the
 * serving one: scale it back, switch to it, retire the other (instant: no image to pull, no config to change). Both colours
 * with tasks (a deploy cut short): undo it, the colour started first serving at full size, the other removed. Otherwise
 * null: the previous version is deployed blue/green like any version. Pure.
 */
export function planColourRollback(colours: readonly ColourApp[], request: Pick<BlueGreenRequest, 'baseId' | 'settings'>): (BlueGreenPlan & { toVersion: string | null }) | null {
  const live = liveColourOf(colours);
  const other = live ? colours.find((c) => c.colour !== live.colour) : undefined;
  if (!live || !other) return null;
  const versionOfColour = (c: ColourApp) => versionOf(c.app) ?? null;
  const size = Math.max(targetInstancesOf(live.app), live.app.instances ?? 0);
  if ((other.app.instances ?? 0) === 0) {
    const appId = colourAppId(request.baseId, other.colour);
    return {
      live,
      candidate: other.colour,
      candidateId: appId,
      instances: size,
      found: [`${other.colour} (${versionOfColour(other) ?? 'unknown version'}) is kept at 0 instances beside ${live.colour}: scaling it back and switching to it`],
      steps: [
        { kind: 'scale', colour: other.colour, appId, instances: size },
        { kind: 'wait-healthy', colour: other.colour, appId },
        ...(request.settings.watchSeconds > 0 ? [{ kind: 'watch' as const, colour: other.colour, appId, seconds: request.settings.watchSeconds }] : []),
        { kind: 'serve', colour: other.colour, appId, instances: size },
        { kind: 'settle', seconds: request.settings.settleSeconds },
        { kind: 'retire', colour: live.colour, appId: colourAppId(request.baseId, live.colour), keep: request.settings.keepOldColour },
      ],
      restoreTo: { colour: live.colour, instances: size },
      toVersion: versionOfColour(other),
      doneMessage: `back on ${other.colour} (${versionOfColour(other) ?? '?'}), users routed to it`,
    };
  }
  // The colour started last is the deploy that was cut short.
  const started = (c: ColourApp) => labelsOf(c.app)[ZDD_LABELS.startedAt] ?? '';
  const [older, newer] = started(live) <= started(other) ? [live, other] : [other, live];
  const instances = Math.max(targetInstancesOf(older.app), older.app.instances ?? 0);
  const restore = { baseId: request.baseId, old: { colour: older.colour, instances }, candidate: newer.colour, settleSeconds: request.settings.settleSeconds };
  return {
    live,
    candidate: newer.colour,
    candidateId: colourAppId(request.baseId, newer.colour),
    instances,
    found: [`a deploy was cut short: ${newer.colour} (${versionOfColour(newer) ?? '?'}) beside ${older.colour} (${versionOfColour(older) ?? '?'}); undoing it`],
    steps: planRestore(colours, restore),
    restoreTo: restore.old,
    toVersion: versionOfColour(older),
    doneMessage: `back on ${older.colour} (${versionOfColour(older) ?? '?'}) at ${instances} instances, ${newer.colour} removed`,
  };
}

export interface RestoreRequest {
  baseId: string;
  /** The colour that served before the deploy, and its size then; null for a first deploy. */
  old: { colour: Colour; instances: number } | null;
  candidate: Colour;
  settleSeconds: number;
}

/**
 * The steps back to the state before the deploy, from what Marathon holds when a step failed: the old colour at full size
 * and serving again, then the candidate deleted. Pure.
 */
export function planRestore(colours: readonly ColourApp[], request: RestoreRequest): Step[] {
  const steps: Step[] = [];
  const candidate = colours.find((c) => c.colour === request.candidate);
  const old = request.old ? colours.find((c) => c.colour === request.old!.colour) : undefined;
  if (request.old && old) {
    const appId = colourAppId(request.baseId, old.colour);
    if ((old.app.instances ?? 0) !== request.old.instances || !isAppHealthy(old.app)) {
      steps.push({ kind: 'scale', colour: old.colour, appId, instances: request.old.instances }, { kind: 'wait-healthy', colour: old.colour, appId });
    }
    if (candidate && liveColourOf(colours)?.colour !== old.colour) {
      steps.push({ kind: 'serve', colour: old.colour, appId, instances: request.old.instances }, { kind: 'settle', seconds: request.settleSeconds });
    }
  }
  if (candidate) steps.push({ kind: 'retire', colour: candidate.colour, appId: colourAppId(request.baseId, candidate.colour), keep: false });
  return steps;
}

/** Whether Marathon holds the restored state: the old colour serving at full size and healthy, the candidate gone. Pure. */
export function restoredProblem(colours: readonly ColourApp[], request: RestoreRequest): string | undefined {
  const candidate = colours.find((c) => c.colour === request.candidate);
  if (candidate) return `${candidate.colour} (${candidate.app.id}) still exists`;
  if (!request.old) return undefined;
  const old = colours.find((c) => c.colour === request.old!.colour);
  if (!old) return `${request.old.colour} no longer exists`;
  if ((old.app.instances ?? 0) !== request.old.instances) return `${old.colour} has ${old.app.instances ?? 0} instances, not ${request.old.instances}`;
  if (!isAppHealthy(old.app)) return `${old.colour} is not healthy (${old.app.tasksHealthy ?? 0}/${old.app.instances ?? 0})`;
  if (liveColourOf(colours)?.colour !== old.colour) return `${old.colour} is not the colour marathon-lb routes to`;
  return undefined;
}

/** One line per step, for the dry run and the plan printed before a deploy. */
export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'start':
      return `start ${step.colour} (${step.appId}) at ${step.definition.instances ?? 1} instances, unreachable by users`;
    case 'wait-healthy':
      return `wait until ${step.colour} is healthy`;
    case 'watch':
      return `watch ${step.colour} for ${step.seconds}s (it must stay healthy)`;
    case 'serve':
      return `route users to ${step.colour} (scale ${step.instances} → ${step.instances + 1} → ${step.instances}: marathon-lb follows the colour scaled last)`;
    case 'scale':
      return `scale ${step.colour} to ${step.instances}`;
    case 'test':
      return `${step.phase}-integration test (limit ${step.test.timeoutSeconds}s): ${step.test.command}`;
    case 'settle':
      return `pause ${step.seconds}s for marathon-lb to reload HAProxy`;
    case 'check':
      return `check that ${step.colour} is still healthy, with no task failure since users reached it`;
    case 'retire':
      return step.keep ? `scale ${step.colour} to 0 (kept for an instant baton rollback)` : `delete ${step.colour} (${step.appId})`;
  }
}
