import type { AuditRecord } from '../audit/log.js';
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
/** Outcomes after which the attempt's tag ran healthy. */
const HEALTHY_OUTCOMES = new Set(['succeeded', 'unchanged']);
/** Outcomes after which the attempt's tag is not known to have run healthy (superseded and interrupted ones never got there). */
const NEVER_HEALTHY_OUTCOMES = new Set([...FAILED_OUTCOMES, 'superseded', 'interrupted']);

/** The latest audit record that speaks for or against one image tag in one datacenter. */
export interface TagEvidence {
  command: string;
  user: string;
  outcome: string;
  time: string;
}

/** By image tag: the latest attempt that left it running healthy, and the latest that did not. */
export type TagVerdicts = ReadonlyMap<string, { healthy?: TagEvidence; failed?: TagEvidence }>;

/** What Baton's audit log says about each tag deployed (or rolled back) to one app in one datacenter. Pure. */
export function tagVerdicts(records: AuditRecord[], where: { app: string; env: string; dc: string }): TagVerdicts {
  const verdicts = new Map<string, { healthy?: TagEvidence; failed?: TagEvidence }>();
  for (const r of records) {
    // A record about no one datacenter ended before Marathon heard of the tag (refused, invalid, interrupted early): no evidence.
    if (r.app !== where.app || r.env !== where.env || r.dc !== where.dc || !r.toVersion) continue;
    const side = HEALTHY_OUTCOMES.has(r.outcome) ? 'healthy' : NEVER_HEALTHY_OUTCOMES.has(r.outcome) ? 'failed' : undefined;
    if (!side) continue;
    const verdict = verdicts.get(r.toVersion) ?? {};
    const latest = verdict[side];
    if (!latest || Date.parse(r.time) >= Date.parse(latest.time)) {
      verdict[side] = { command: r.command, user: r.user, outcome: r.outcome, time: r.time };
    }
    verdicts.set(r.toVersion, verdict);
  }
  return verdicts;
}

export type RollbackPick =
  | { kind: 'target'; entry: HistoryEntry; skipped: { entry: HistoryEntry; why: string }[]; warning?: string }
  | { kind: 'already'; reason: string }
  | { kind: 'not-found'; reason: string; skipped: { entry: HistoryEntry; why: string }[] };

/**
 * Picks the version to go back to among the app's history (newest first; `current` marked). The default is the newest
 * version older than the current one whose image tag differs and is not known (from the audit log) to have failed — by
 * that Marathon version or by any attempt with its tag that never ran healthy — preferring tags the audit log shows
 * running healthy when there are any. A named tag prefers such a version too but falls back to any version with that
 * tag, with a warning. Pure.
 */
export function pickRollbackTarget(
  entries: HistoryEntry[],
  live: { marathonVersion: string | undefined; version: string | undefined },
  request: RollbackRequest,
  tags: TagVerdicts = new Map(),
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
    const matching = entries.filter((e) => !e.current && !e.neverRan && e.error === undefined && e.version === request.tag);
    const tagFailure = neverHealthy(tags, request.tag);
    const good = tagFailure ? undefined : matching.find((e) => !e.abandoned && !failedPer(e));
    const entry = good ?? matching[0];
    if (!entry) return { kind: 'not-found', reason: `no stored Marathon version of this app runs ${request.tag}`, skipped };
    if (good) return { kind: 'target', entry, skipped };
    const why = failedPer(entry) ?? tagFailure ?? 'it was replaced by an older version (reverted)';
    return { kind: 'target', entry, skipped, warning: `the only stored version with ${request.tag} is not known to have run healthy: ${why}` };
  }

  const candidates: HistoryEntry[] = [];
  for (const entry of entries) {
    // Before the current one, in the order versions became current: history marks as abandoned what came after it (a
    // restored version's own timestamp can be older than versions it replaced, so timestamps alone cannot say).
    if (entry.current || entry.marathonVersion === live.marathonVersion || entry.abandoned) continue;
    const why =
      entry.error !== undefined
        ? `could not be read: ${entry.error ?? 'unknown error'}`
        : entry.neverRan
          ? 'stored by a change Marathon refused (409, app locked): it never ran'
        : entry.version === runningTag
          ? null
          : (failedPer(entry) ?? neverHealthy(tags, entry.version));
    if (why === null) continue;
    if (why !== undefined) skipped.push({ entry, why });
    else candidates.push(entry);
  }
  const entry = candidates.find((e) => ranHealthy(tags, e.version)) ?? candidates[0];
  if (!entry) return { kind: 'not-found', reason: `no earlier version with an image tag other than ${runningTag ?? 'the current one'}`, skipped };
  const unproven = candidates
    .filter((e) => e !== entry && Date.parse(e.marathonVersion) > Date.parse(entry.marathonVersion))
    .map((e) => ({ entry: e, why: `not known to have run healthy (no succeeded deploy or rollback of ${e.version} in the audit log); ${entry.version} has` }));
  const passedOver = [...skipped.filter((s) => Date.parse(s.entry.marathonVersion) > Date.parse(entry.marathonVersion)), ...unproven];
  passedOver.sort((a, b) => entries.indexOf(a.entry) - entries.indexOf(b.entry));
  return { kind: 'target', entry, skipped: passedOver };
}

/**
 * The default pick could still improve by reading older versions: it is not known to have run healthy, while the audit
 * log names a healthy tag (other than the running one) that none of the versions read so far carries.
 */
export function healthierTargetMayBeOlder(pick: RollbackPick, entries: HistoryEntry[], tags: TagVerdicts, runningTag: string | undefined): boolean {
  if (pick.kind !== 'target' || ranHealthy(tags, pick.entry.version)) return false;
  const seen = new Set(entries.map((e) => e.version));
  return [...tags].some(([tag, verdict]) => verdict.healthy && tag !== runningTag && !seen.has(tag));
}

function ranHealthy(tags: TagVerdicts, tag: string | undefined): boolean {
  return tag !== undefined && tags.get(tag)?.healthy !== undefined;
}

/** Why the tag is taken as never having run healthy here, if it is: attempts with it failed and none succeeded. */
function neverHealthy(tags: TagVerdicts, tag: string | undefined): string | undefined {
  const verdict = tag === undefined ? undefined : tags.get(tag);
  if (!verdict?.failed || verdict.healthy) return undefined;
  const f = verdict.failed;
  return `${tag} never ran healthy here: the audit log says ${f.command} by ${f.user} ended ${f.outcome} at ${f.time}, and no attempt with it succeeded`;
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
