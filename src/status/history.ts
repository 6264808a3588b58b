import { recordConcerns, type AuditRecord } from '../audit/log.js';
import { deepEqual, stripReadOnly } from '../deploy/diff.js';
import { splitImage } from '../deploy/image.js';
import { imageOf, versionOf } from '../deploy/render.js';
import type { JsonObject } from '../marathon/types.js';

/** One of Marathon's stored versions of an app; `definition` is null when it could not be read (then `error` says why). */
export interface MarathonVersion {
  marathonVersion: string;
  definition: JsonObject | null;
  error?: string;
}

/** What changed from the next older version: the definition, only `instances`, or nothing (a restart). */
export type ChangeKind = 'config' | 'scale' | 'restart' | 'unknown';

/** Who did an attempt and how it ended, as its audit record says. */
export interface AuditSummary {
  user: string;
  command: string;
  outcome: string;
  time: string;
  exitCode?: number;
  message?: string;
  ci?: AuditRecord['ci'];
}

export interface HistoryEntry {
  kind: 'version';
  marathonVersion: string;
  /** The version the app runs now. */
  current: boolean;
  /** Newer than the current one: a change that was reverted or replaced (e.g. a failed deploy rolled back by cancelling). */
  abandoned: boolean;
  change: ChangeKind;
  /**
   * Stored by a change Marathon refused with 409 (app locked): Marathon stores the version before it finds the lock, so it
   * is listed, but it never ran. Known from the refused attempt's audit record.
   */
  neverRan?: true;
  image?: string;
  version?: string;
  digest?: string;
  instances?: number;
  error?: string;
  /** From Baton's audit log, when a record matches. */
  audit?: AuditSummary & { matchedBy: 'marathon-version' | 'version-and-time' | 'reverted-to' };
}

/** An audited attempt that created no Marathon version (refused by Marathon, stopped before it, interrupted, dry run). */
export interface AttemptEntry {
  kind: 'attempt';
  marathonVersion: null;
  /** When Baton recorded it. */
  time: string;
  /** The image tag it was for. */
  version?: string;
  image?: string;
  audit: AuditSummary;
}

/**
 * A deploy or rollback that created a Marathon version, as the audit log alone tells it while that Marathon could not be
 * asked: what Marathon would say (running now, reverted, what changed) is unknown, so null.
 */
export interface AuditedVersionEntry {
  kind: 'version';
  /** As recorded; null for a record from before Baton recorded it. */
  marathonVersion: string | null;
  current: null;
  abandoned: null;
  change: null;
  /** When Baton recorded it. */
  time: string;
  version?: string;
  image?: string;
  audit: AuditSummary;
}

export type TimelineEntry = HistoryEntry | AttemptEntry | AuditedVersionEntry;

export interface HistoryInput {
  app: string;
  env: string;
  dc: string;
  /** Marathon's version of the live app. */
  currentVersion: string | undefined;
  /** Newest first, as Marathon lists them. */
  versions: MarathonVersion[];
  /** Marathon holds older versions than the last one given (the list was cut at a limit). */
  olderExist: boolean;
  audit: AuditRecord[];
}

/**
 * Marathon's versions of an app, newest first in the order they became current. Marathon lists them in no fixed order,
 * and the version a cancelled deployment restores is Marathon's process start time, older than what it undid: such a
 * version (named as `rollback.marathonVersion` by the audit record of the revert) takes the time of that record. Pure.
 */
export function versionsNewestFirst(versions: string[], audit: AuditRecord[], where: { app: string; env: string; dc: string }): string[] {
  const becameCurrent = becameCurrentAt(audit, where);
  return [...versions].sort((a, b) => becameCurrent(b) - becameCurrent(a));
}

/** When a version became current: its own timestamp, or for a version a revert restored, the time of that revert's record. */
function becameCurrentAt(audit: AuditRecord[], where: { app: string; env: string; dc: string }): (version: string) => number {
  const restoredAt = new Map<string, number>();
  for (const record of audit) {
    const restored = record.rollback?.marathonVersion;
    if (restored === undefined || !recordConcerns(record, where)) continue;
    const at = Date.parse(record.time);
    if (Number.isFinite(at) && at > (restoredAt.get(restored) ?? Number.NEGATIVE_INFINITY)) restoredAt.set(restored, at);
  }
  return (version) => restoredAt.get(version) ?? Date.parse(version);
}

/** How far a record's clock may be from Marathon's (the PUT happens between the record's start and its time). */
const CLOCK_SLACK_MS = 60_000;
/** Without a duration, a record may describe a version created this long before it was written. */
const UNKNOWN_DURATION_MS = 60 * 60_000;
/** Attempts that cannot have created a Marathon version. */
const NO_VERSION_OUTCOMES = new Set(['unchanged', 'dry-run', 'refused', 'invalid', 'rejected', 'skipped', 'unreachable']);
const ROLLED_BACK_OUTCOMES = new Set(['failed-rolled-back', 'timeout-rolled-back']);

/**
 * Joins Marathon's versions of an app with Baton's audit records: first by (app, env, dc, Marathon version), else by the
 * version tag and the time window of the attempt. A version restored by Baton's automatic rollback is attributed to the
 * failed attempt that caused it. Each record explains at most one version. Pure.
 */
export function joinHistory(input: HistoryInput): HistoryEntry[] {
  return joinVersions(input).entries;
}

/**
 * The versions joined as by joinHistory, merged newest first with every audited attempt for this app and datacenter that
 * created no Marathon version, cut to the newest `limit`. `attempts` counts all such attempts, shown or not. Given the
 * newest versions (more than `limit` when Marathon holds more), the cut list is the newest of the whole timeline. Pure.
 */
export function historyTimeline(input: HistoryInput & { limit: number }): { entries: TimelineEntry[]; attempts: number } {
  const { entries: versions, records, used } = joinVersions(input);
  const becameCurrent = becameCurrentAt(input.audit, input);
  const oldestShown = versions.length ? Math.min(...versions.map((v) => becameCurrent(v.marathonVersion))) : Number.NaN;
  const attempts = newestFirst(
    records.filter((r) => !used.has(r) && (createdNoVersion(r) || unmatchedWithinShownVersions(r, input.olderExist, oldestShown))),
  ).map(attemptEntry);

  const merged: TimelineEntry[] = [];
  let next = 0;
  for (const version of versions) {
    const at = becameCurrent(version.marathonVersion);
    while (next < attempts.length && Date.parse(attempts[next]!.time) > at) merged.push(attempts[next++]!);
    merged.push(version);
  }
  merged.push(...attempts.slice(next));
  return { entries: merged.slice(0, input.limit), attempts: attempts.length };
}

/**
 * The timeline of one app in one datacenter from the audit log alone, for when its Marathon could not be asked: every
 * record about it, newest first, cut to the newest `limit`. A record that names the Marathon version it created, or an
 * older one whose outcome may have created one, is a version with Marathon's fields null; the rest are attempts, as in
 * historyTimeline. Pure.
 */
export function auditOnlyTimeline(input: {
  app: string;
  env: string;
  dc: string;
  audit: AuditRecord[];
  limit: number;
}): { entries: (AttemptEntry | AuditedVersionEntry)[]; attempts: number; versions: number } {
  const entries = newestFirst(input.audit.filter((r) => recordConcerns(r, input))).map((record) =>
    createdNoVersion(record)
      ? attemptEntry(record)
      : ({
          kind: 'version',
          marathonVersion: record.marathonVersion ?? null,
          current: null,
          abandoned: null,
          change: null,
          time: record.time,
          ...(record.toVersion ? { version: record.toVersion } : {}),
          ...(record.image ? { image: record.image } : {}),
          audit: auditSummary(record),
        } satisfies AuditedVersionEntry),
  );
  const attempts = entries.filter((e) => e.kind === 'attempt').length;
  return { entries: entries.slice(0, input.limit), attempts, versions: entries.length - attempts };
}

/** Newest first; of two records with one time, the one written later. */
function newestFirst(records: AuditRecord[]): AuditRecord[] {
  return records
    .map((record, index) => ({ record, index, at: Date.parse(record.time) }))
    .sort((a, b) => b.at - a.at || b.index - a.index)
    .map(({ record }) => record);
}

function attemptEntry(record: AuditRecord): AttemptEntry {
  return {
    kind: 'attempt',
    marathonVersion: null,
    time: record.time,
    ...(record.toVersion ? { version: record.toVersion } : {}),
    ...(record.image ? { image: record.image } : {}),
    audit: auditSummary(record),
  };
}

/**
 * Records that carry an exit code were written by a Baton that always records the Marathon version an attempt created, so
 * without one they created none; older records tell only by the outcome.
 */
function createdNoVersion(record: AuditRecord): boolean {
  return record.marathonVersion === undefined && (record.exitCode !== undefined || NO_VERSION_OUTCOMES.has(record.outcome));
}

/**
 * An older record that may have created a version without naming it, and matched none: shown as an attempt only when every
 * version it could have created is among those given, so a version cut off by the limit is not mistaken for a failed attempt.
 */
function unmatchedWithinShownVersions(record: AuditRecord, olderExist: boolean, oldestShown: number): boolean {
  if (record.marathonVersion !== undefined) return false;
  if (!olderExist) return true;
  const end = Date.parse(record.time);
  return Number.isFinite(end) && end - (record.durationMs ?? UNKNOWN_DURATION_MS) - CLOCK_SLACK_MS > oldestShown;
}

function joinVersions(input: HistoryInput): { entries: HistoryEntry[]; records: AuditRecord[]; used: Set<AuditRecord> } {
  const records = input.audit.filter((r) => recordConcerns(r, input));
  const used = new Set<AuditRecord>();
  // Since when the current version runs: a version Marathon restored on a cancelled deployment carries Marathon's start
  // time, older than what it undid, so the revert's own record says when it became current.
  const restoredBy = records.find((r) => r.rollback?.marathonVersion !== undefined && r.rollback.marathonVersion === input.currentVersion);
  const currentTime = restoredBy ? Date.parse(restoredBy.time) : input.currentVersion ? Date.parse(input.currentVersion) : Number.NaN;
  const entries: HistoryEntry[] = input.versions.map((v, index) => {
    const definition = v.definition;
    const image = imageOf(definition);
    return {
      kind: 'version',
      marathonVersion: v.marathonVersion,
      current: v.marathonVersion === input.currentVersion,
      abandoned: v.marathonVersion !== input.currentVersion && Date.parse(v.marathonVersion) > currentTime,
      change: changeKind(definition, input.versions[index + 1]?.definition, !input.olderExist),
      ...(image ? { image } : {}),
      ...(definition ? { version: versionOf(definition) } : {}),
      ...(image && splitImage(image).digest ? { digest: splitImage(image).digest } : {}),
      ...(typeof definition?.instances === 'number' ? { instances: definition.instances } : {}),
      ...(v.error ? { error: v.error } : {}),
    };
  });

  for (const entry of entries) {
    const exact = records.find((r) => !used.has(r) && r.marathonVersion === entry.marathonVersion);
    if (exact) attach(entry, exact, 'marathon-version', used);
  }
  for (const entry of entries) {
    if (entry.audit || entry.current || entry.version === undefined) continue;
    const refusal = records.find(
      (r) => !used.has(r) && isLockRefusal(r) && r.toVersion === entry.version && withinWindow(r, entry.marathonVersion),
    );
    if (refusal) {
      attach(entry, refusal, 'version-and-time', used);
      entry.neverRan = true;
      entry.abandoned = false;
    }
  }
  const restoredCauses = new Set<AuditRecord>();
  for (const entry of entries) {
    if (entry.audit) continue;
    const cause = records.find((r) => r.rollback?.marathonVersion === entry.marathonVersion && ROLLED_BACK_OUTCOMES.has(r.outcome));
    if (cause) {
      restoredCauses.add(cause);
      creditRestore(entry, cause);
    }
  }
  for (const entry of entries) {
    if (entry.audit || entry.change !== 'config' || entry.version === undefined) continue;
    const candidates = records.filter(
      (r) =>
        !used.has(r) &&
        r.marathonVersion === undefined &&
        !createdNoVersion(r) &&
        r.toVersion === entry.version &&
        withinWindow(r, entry.marathonVersion),
    );
    const nearest = nearestInTime(candidates, entry.marathonVersion);
    if (nearest) attach(entry, nearest, 'version-and-time', used);
  }
  // Oldest first, so the restore is credited to the version right after the failed one, not to later scalings.
  const usedCauses = new Set<AuditRecord>(restoredCauses);
  for (const entry of [...entries].reverse()) {
    if (entry.audit || entry.version === undefined || entry.change !== 'config') continue;
    const cause = records.find(
      (r) =>
        !usedCauses.has(r) &&
        ROLLED_BACK_OUTCOMES.has(r.outcome) &&
        r.fromVersion === entry.version &&
        r.marathonVersion !== undefined &&
        Date.parse(entry.marathonVersion) > Date.parse(r.marathonVersion) &&
        withinWindow(r, entry.marathonVersion),
    );
    if (cause) {
      usedCauses.add(cause);
      creditRestore(entry, cause);
    }
  }
  return { entries, records, used };
}

/** A change Marathon refused because a deployment locked the app: it stored the version first (GroupManagerImpl). */
function isLockRefusal(record: AuditRecord): boolean {
  return record.outcome === 'rejected' && record.marathonStatus === 409;
}

/** A version Baton's automatic rollback restored is credited to the failed attempt that caused it. */
function creditRestore(entry: HistoryEntry, cause: AuditRecord): void {
  entry.audit = {
    ...auditSummary(cause),
    matchedBy: 'reverted-to',
    command: `${cause.command} (automatic rollback)`,
    outcome: `restored after ${cause.toVersion ?? 'the new version'} ${cause.outcome}`,
  };
}

function attach(entry: HistoryEntry, record: AuditRecord, matchedBy: NonNullable<HistoryEntry['audit']>['matchedBy'], used: Set<AuditRecord>) {
  entry.audit = { ...auditSummary(record), matchedBy };
  used.add(record);
}

function auditSummary(record: AuditRecord): AuditSummary {
  return {
    user: record.user,
    command: record.command,
    outcome: record.outcome,
    time: record.time,
    ...(record.exitCode !== undefined ? { exitCode: record.exitCode } : {}),
    ...(record.message ? { message: record.message } : {}),
    ...(record.ci ? { ci: record.ci } : {}),
  };
}

function withinWindow(record: AuditRecord, marathonVersion: string): boolean {
  const at = Date.parse(marathonVersion);
  const end = Date.parse(record.time);
  if (!Number.isFinite(at) || !Number.isFinite(end)) return false;
  const start = end - (record.durationMs ?? UNKNOWN_DURATION_MS);
  return at >= start - CLOCK_SLACK_MS && at <= end + CLOCK_SLACK_MS;
}

function nearestInTime(records: AuditRecord[], marathonVersion: string): AuditRecord | undefined {
  const at = Date.parse(marathonVersion);
  return [...records].sort((a, b) => Math.abs(Date.parse(a.time) - at) - Math.abs(Date.parse(b.time) - at))[0];
}

function changeKind(definition: JsonObject | null, older: JsonObject | null | undefined, isFirstEver: boolean): ChangeKind {
  if (!definition) return 'unknown';
  if (older === undefined) return isFirstEver ? 'config' : 'unknown';
  if (older === null) return 'unknown';
  const [a, b] = [stripReadOnly(definition), stripReadOnly(older)];
  if (deepEqual(a, b)) return 'restart';
  const { instances: _a, ...restA } = a;
  const { instances: _b, ...restB } = b;
  return deepEqual(restA, restB) ? 'scale' : 'config';
}
