import { stripReadOnly } from '../deploy/diff.js';
import { TAG_PATTERN } from '../deploy/image.js';
import type { AppDefinition, AppInfo, JsonObject } from '../marathon/types.js';
import { autoscalerOf } from './drift.js';
import type { HistoryEntry } from './history.js';

export type RollbackRequest =
  | { kind: 'previous' }
  | { kind: 'tag'; tag: string }
  | { kind: 'marathon-version'; marathonVersion: string };

/** Marathon's version ids are ISO-8601 UTC timestamps, e.g. 2024-05-02T09:14:03.512Z. */
const MARATHON_VERSION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** `--to`: absent → the previous version; a Marathon version timestamp; else an image tag. */
export function parseRollbackTo(to: string | undefined): RollbackRequest | { kind: 'invalid'; reason: string } {
  if (to === undefined) return { kind: 'previous' };
  const value = to.trim();
  if (MARATHON_VERSION.test(value)) return { kind: 'marathon-version', marathonVersion: value };
  if (TAG_PATTERN.test(value)) return { kind: 'tag', tag: value };
  return {
    kind: 'invalid',
    reason: `--to "${to}": expected an image tag (letters, digits, "_", "." or "-") or a Marathon version such as 2024-05-02T09:14:03.512Z`,
  };
}

/** Outcomes of attempts whose version must not be picked implicitly: it was never healthy. */
const FAILED_OUTCOMES = new Set(['failed', 'failed-rolled-back', 'timeout', 'timeout-rolled-back', 'rollback-failed']);

export type RollbackPick =
  | { kind: 'target'; entry: HistoryEntry; skipped: { entry: HistoryEntry; why: string }[]; warning?: string }
  | { kind: 'already'; reason: string }
  | { kind: 'not-found'; reason: string; skipped: { entry: HistoryEntry; why: string }[] };

/**
 * Picks the version to go back to among the app's history (newest first; `current` marked). The default is the newest
 * version older than the current one whose image tag differs and that is not known (from the audit log) to have failed.
 * A named tag prefers such a version too but falls back to any version with that tag. Pure.
 */
export function pickRollbackTarget(
  entries: HistoryEntry[],
  live: { marathonVersion: string | undefined; version: string | undefined },
  request: RollbackRequest,
): RollbackPick {
  const runningTag = live.version;
  const skipped: { entry: HistoryEntry; why: string }[] = [];

  if (request.kind === 'marathon-version') {
    const entry = entries.find((e) => e.marathonVersion === request.marathonVersion);
    if (entry?.current || request.marathonVersion === live.marathonVersion) {
      return { kind: 'already', reason: `Marathon version ${request.marathonVersion} is the current one` };
    }
    if (!entry) return { kind: 'not-found', reason: `Marathon has no version ${request.marathonVersion} of this app`, skipped };
    if (entry.error !== undefined) {
      return { kind: 'not-found', reason: `Marathon version ${entry.marathonVersion} could not be read: ${entry.error ?? 'unknown error'}`, skipped };
    }
    return { kind: 'target', entry, skipped };
  }

  if (request.kind === 'tag') {
    if (runningTag === request.tag) return { kind: 'already', reason: `${request.tag} is the version running now` };
    const matching = entries.filter((e) => !e.current && e.error === undefined && e.version === request.tag);
    const good = matching.find((e) => !e.abandoned && !failedPer(e));
    const entry = good ?? matching[0];
    if (!entry) return { kind: 'not-found', reason: `no stored Marathon version of this app runs ${request.tag}`, skipped };
    if (good) return { kind: 'target', entry, skipped };
    const why = failedPer(entry) ?? 'it was replaced by an older version (reverted)';
    return { kind: 'target', entry, skipped, warning: `the only stored version with ${request.tag} is not known to have run healthy: ${why}` };
  }

  const currentTime = Date.parse(live.marathonVersion ?? '');
  for (const entry of entries) {
    if (entry.current || !(Date.parse(entry.marathonVersion) < currentTime)) continue;
    if (entry.error !== undefined) skipped.push({ entry, why: `could not be read: ${entry.error ?? 'unknown error'}` });
    else if (entry.version === runningTag) continue;
    else if (failedPer(entry)) skipped.push({ entry, why: failedPer(entry)! });
    else return { kind: 'target', entry, skipped };
  }
  return { kind: 'not-found', reason: `no earlier version with an image tag other than ${runningTag ?? 'the current one'}`, skipped };
}

function failedPer(entry: HistoryEntry): string | undefined {
  const audit = entry.audit;
  if (!audit || audit.matchedBy === 'reverted-to' || !FAILED_OUTCOMES.has(audit.outcome)) return undefined;
  return `the audit log says ${audit.command} by ${audit.user} ended ${audit.outcome}`;
}

/**
 * The definition a rollback PUTs (partialUpdate=false): the old version as Marathon stored it, read-only fields stripped,
 * labels (and so the version label) as they were. `instances` stays at the live count when the autoscaler manages the app,
 * and never drops to 0 from a running app: going back in code must not take capacity away.
 */
export function rollbackDefinition(target: JsonObject, live: AppInfo): { definition: AppDefinition; notes: string[] } {
  const definition = { ...stripReadOnly(target), id: live.id } as AppDefinition;
  const notes: string[] = [];
  const liveInstances = live.instances ?? 0;
  const targetInstances = typeof definition.instances === 'number' ? definition.instances : undefined;
  if (autoscalerOf(live) && targetInstances !== liveInstances) {
    definition.instances = liveInstances;
    notes.push(`instances kept at ${liveInstances} (the autoscaler manages this app; the old version had ${targetInstances ?? 'none'})`);
  } else if (targetInstances === 0 && liveInstances > 0) {
    definition.instances = liveInstances;
    notes.push(`instances kept at ${liveInstances} (the old version had 0)`);
  }
  return { definition, notes };
}
