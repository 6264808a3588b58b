import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

/** What became of one attempt on one datacenter. */
export type AuditOutcome =
  | 'succeeded'
  | 'unchanged'
  | 'dry-run'
  | 'started'
  | 'refused'
  | 'invalid'
  | 'rejected'
  | 'marathon-error'
  | 'too-many-deployments'
  | 'failed'
  | 'failed-rolled-back'
  | 'timeout'
  | 'timeout-rolled-back'
  | 'rollback-failed'
  | 'superseded'
  | 'interrupted'
  | 'skipped'
  | 'unreachable'
  | 'tests-failed'
  | 'tests-failed-rolled-back'
  /** One step of a blue/green deploy (its own record; the datacenter's outcome record follows at the end). */
  | 'step';

/** What one step of a blue/green deploy did. */
export interface AuditStep {
  /** e.g. start, wait-healthy, serve, pre-integration, post-integration, retire, restore. */
  name: string;
  colour?: string;
  result: 'done' | 'passed' | 'failed' | 'timeout' | 'interrupted' | 'found';
  /** The last lines a test printed. */
  output?: string;
}

export interface AuditRecord {
  time: string;
  /** Who: a person's login, or the CI identity that ran the job. */
  user: string;
  ci?: { system: string; job?: string; build?: string; url?: string };
  command: string;
  /** One id per run of a changing command: its `started` record and its per-datacenter records share it. */
  run?: string;
  app: string;
  env: string;
  /** The datacenter this record is about; absent when the attempt ended before any one datacenter (see `datacenters`). */
  dc?: string;
  /**
   * Without `dc`: the datacenters the attempt was aimed at, when known (written since exitCode was added). Absent on such a
   * record: every datacenter of the environment.
   */
  datacenters?: string[];
  appId?: string;
  fromVersion?: string | null;
  toVersion?: string;
  image?: string;
  deploymentId?: string;
  /**
   * Marathon's version timestamp of the definition the attempt created. Records that carry `exitCode` always have it when
   * the attempt created a version; older records may lack it (the history join then matches them by tag and time).
   */
  marathonVersion?: string;
  outcome: AuditOutcome;
  /** What `baton` exits with for this outcome (src/cli/exit-codes.ts); absent in records written before it was added. */
  exitCode?: number;
  /** The HTTP status of Marathon's refusal, on `rejected` and Marathon-error records. */
  marathonStatus?: number;
  message?: string;
  durationMs?: number;
  /** The automatic revert: its deployment, the version Marathon gave the restored app, how it ended. */
  rollback?: { deploymentId?: string; marathonVersion?: string; outcome: string };
  /** On a `step` record: which step of a blue/green deploy, and how it went. */
  step?: AuditStep;
  /** The deploy strategy, when not rolling. */
  strategy?: 'blue-green';
}

/**
 * A line of the local log saying that the shared audit sink (InfluxDB) missed records of this run: they are in this log only.
 * It has no `outcome`, so readers of records (history, rollback) skip it.
 */
export interface SinkMissRecord {
  time: string;
  user: string;
  command: string;
  run?: string;
  app: string;
  env: string;
  auditSinkMissed: {
    sink: string;
    reason: string;
    /** Which records, by what identifies one: time, datacenter, outcome (and the run above). */
    records: { time: string; dc?: string; outcome: string }[];
  };
}

export const auditRecordSchema = z
  .object({
    time: z.string(),
    user: z.string(),
    command: z.string(),
    app: z.string(),
    env: z.string(),
    dc: z.string().optional(),
    outcome: z.string(),
    // Added later: a mistyped value is dropped rather than losing the whole record.
    exitCode: z.number().int().optional().catch(undefined),
    datacenters: z.array(z.string()).optional().catch(undefined),
  })
  .passthrough();

/** Whether a record is about one app in one datacenter of an environment (a record before any datacenter counts for the ones it aimed at). */
export function recordConcerns(record: AuditRecord, where: { app: string; env: string; dc: string }): boolean {
  if (record.app !== where.app || record.env !== where.env) return false;
  if (record.dc !== undefined) return record.dc === where.dc;
  return record.datacenters === undefined || record.datacenters.includes(where.dc);
}

export function auditLogPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.BATON_AUDIT_LOG || path.join(os.homedir(), '.baton', 'audit.jsonl');
}

/** The identity to record: an explicit BATON_USER, else the CI system's user/job, else the login name. */
export function auditIdentity(env: NodeJS.ProcessEnv = process.env): Pick<AuditRecord, 'user' | 'ci'> {
  const ciSystems: { system: string; when: string; user?: string; job?: string; build?: string; url?: string }[] = [
    { system: 'jenkins', when: 'JENKINS_URL', user: 'BUILD_USER_ID', job: 'JOB_NAME', build: 'BUILD_NUMBER', url: 'BUILD_URL' },
    { system: 'gitlab', when: 'GITLAB_CI', user: 'GITLAB_USER_LOGIN', job: 'CI_JOB_NAME', build: 'CI_JOB_ID', url: 'CI_JOB_URL' },
    { system: 'github', when: 'GITHUB_ACTIONS', user: 'GITHUB_ACTOR', job: 'GITHUB_WORKFLOW', build: 'GITHUB_RUN_ID' },
  ];
  let login = 'unknown';
  try {
    login = os.userInfo().username;
  } catch {
    login = env.USER ?? env.LOGNAME ?? 'unknown';
  }
  for (const ci of ciSystems) {
    if (!env[ci.when]) continue;
    const pick = (key?: string) => (key ? env[key] || undefined : undefined);
    const job = pick(ci.job);
    return {
      user: env.BATON_USER || pick(ci.user) || `${ci.system}${job ? `:${job}` : ''}`,
      ci: { system: ci.system, job, build: pick(ci.build), url: pick(ci.url) },
    };
  }
  return { user: env.BATON_USER || login };
}

/**
 * Appends one record as one line with a single write(2) on an O_APPEND descriptor, then fsyncs. Concurrent writers
 * therefore never interleave, and if an earlier crash left a torn last line, this record still starts on a line of its own.
 */
export function appendAuditRecord(record: AuditRecord | SinkMissRecord, file: string = auditLogPath()): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'a+', 0o600);
  try {
    const size = fs.fstatSync(fd).size;
    const last = Buffer.alloc(size > 0 ? 1 : 0);
    if (size > 0) fs.readSync(fd, last, 0, 1, size - 1);
    fs.writeSync(fd, appendedText([record], last));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * As appendAuditRecord, for several records in one write, without blocking the event loop: a caller that must not hang
 * (exiting on a second Ctrl-C) can stop waiting for a stuck disk.
 */
export async function appendAuditRecordsAsync(records: AuditRecord[], file: string = auditLogPath()): Promise<void> {
  if (records.length === 0) return;
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const handle = await fs.promises.open(file, 'a+', 0o600);
  try {
    const { size } = await handle.stat();
    const last = Buffer.alloc(size > 0 ? 1 : 0);
    if (size > 0) await handle.read(last, 0, 1, size - 1);
    await handle.write(appendedText(records, last));
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** One line per record, starting on a line of its own even when the file ends in a torn line. */
function appendedText(records: (AuditRecord | SinkMissRecord)[], lastByteOfFile: Buffer): string {
  const prefix = lastByteOfFile.length > 0 && lastByteOfFile[0] !== 0x0a ? '\n' : '';
  return `${prefix}${records.map((record) => `${JSON.stringify(record)}\n`).join('')}`;
}

/** Opens the log for appending (creating it and its directory if needed) and closes it again: throws when it cannot be written. */
export function checkAppendable(file: string = auditLogPath()): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.closeSync(fs.openSync(file, 'a', 0o600));
}

/**
 * The records that say what happened: a run's `started` record is dropped once a record of that run says how it ended, so
 * it stays only for a run that was killed before it could say (kill -9, a lost machine).
 */
export function withoutAnsweredStarts(records: AuditRecord[]): AuditRecord[] {
  const ended = new Set(records.filter((r) => r.outcome !== 'started' && r.outcome !== 'step' && r.run !== undefined).map((r) => r.run));
  // A blue/green step's record tells how the run went, not what it ended with: readers judge versions by outcomes.
  return records.filter((r) => r.outcome !== 'step' && (r.outcome !== 'started' || r.run === undefined || !ended.has(r.run)));
}

/** Reads every intact record; a torn line (from a crash mid-write) or a foreign line is skipped. */
export function readAuditRecords(file: string = auditLogPath()): AuditRecord[] {
  return withoutAnsweredStarts(readAllAuditRecords(file));
}

/** As readAuditRecords, `started` records kept (for merging with another source first). */
export function readAllAuditRecords(file: string = auditLogPath()): AuditRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return text.split('\n').flatMap((line) => {
    const record = line.trim() ? parseAuditRecord(line) : undefined;
    return record ? [record] : [];
  });
}

/** One record from its JSON text; undefined for a torn or foreign line (or a note such as SinkMissRecord). */
export function parseAuditRecord(text: string): AuditRecord | undefined {
  try {
    const parsed = auditRecordSchema.safeParse(JSON.parse(text));
    return parsed.success ? (parsed.data as unknown as AuditRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** What identifies a record wherever it is stored: the same run, datacenter, outcome and time is the same record. */
export function auditRecordKey(record: AuditRecord): string {
  return JSON.stringify([record.run ?? null, record.dc ?? null, record.outcome, Date.parse(record.time) || record.time, record.run ? null : record.user]);
}

/** Both sources as one log, each record once, oldest first (ties in the order given: local first). */
export function mergeAuditRecords(local: AuditRecord[], shared: AuditRecord[]): AuditRecord[] {
  const seen = new Set<string>();
  const merged: AuditRecord[] = [];
  for (const record of [...local, ...shared]) {
    const key = auditRecordKey(record);
    if (seen.has(key)) continue;
    seen.add(key);
    merged.push(record);
  }
  const at = (r: AuditRecord) => Date.parse(r.time) || 0;
  return merged
    .map((record, index) => ({ record, index }))
    .sort((a, b) => at(a.record) - at(b.record) || a.index - b.index)
    .map(({ record }) => record);
}
