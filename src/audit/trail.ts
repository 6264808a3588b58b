import { randomUUID } from 'node:crypto';
import { appendAuditRecord, checkAppendable, appendAuditRecordsAsync, auditIdentity, auditLogPath, type AuditOutcome, type AuditRecord } from './log.js';
import type { ConfirmAnswer } from '../terminal/confirm-answer.js';
import type { AuditSinkConfig } from '../config/environments.js';
import { flushAuditSinks, InfluxAuditSink, type SinkMiss } from './influx.js';
import { CliError } from '../outcome/cli-error.js';
import { ExitCode } from '../outcome/exit-codes.js';
import { exitOnInterrupt } from '../rollout/interrupt.js';

/** Less than the forced exit's wait for the audit log (FORCED_EXIT_WAIT_MS, 2 s), so the missed-records note still gets written. */
const FORCED_EXIT_SINK_WAIT_MS = 1200;

type AttemptFields = Omit<AuditFields, 'outcome' | 'exitCode' | 'message'>;

/** What a command adds to a record; who, when, the command, app and environment are filled in. */
export type AuditFields = Omit<AuditRecord, 'time' | 'user' | 'ci' | 'command' | 'app' | 'env' | 'datacenters' | 'run'>;

/** The audit records of one run of a changing command (deploy, rollback): every attempt is on record, however it ends. */
export interface AuditTrail {
  /** Who runs it, as every record of the run says (a person's login or the CI identity). */
  readonly user: string;
  /** Checks, before anything is sent, that the audit log can be appended to; an exit-2 CliError naming it otherwise. */
  ensureWritable(): void;
  record(fields: AuditFields): void;
  /**
   * For a forced exit (a second Ctrl-C): appends, in one write, those of `owed` about a datacenter that has no record yet,
   * and ends the trail, so an attempt still finishing meanwhile cannot record a datacenter twice.
   */
  recordBeforeExit(owed: AuditFields[]): Promise<void>;
  /** Once the environment is read: the datacenters the run aims at, for records about none of them in particular. */
  aimAt(datacenters: string[]): void;
  /**
   * Once environments.json is read: its shared audit sink, if any. Every record of the run (those before included) is also
   * sent there in the background; what it misses is noted in the local log at the end of the process (flushAuditSinks).
   */
  shareWith(sink: AuditSinkConfig | undefined): void;
  /** Records an attempt that ended before anything was changed, with the error's outcome, exit code and message. */
  endedBefore(error: unknown, fields?: AttemptFields): void;
  /**
   * Until the returned function is called (when changes start and Ctrl-C means "stop watching"), Ctrl-C or SIGTERM puts the
   * attempt on record as interrupted `stage()`, says so on stderr and exits 130.
   */
  recordInterrupts(stage: () => string, fields?: AttemptFields): () => void;
  /** Records a prompt that was not answered with the phrase; returns the error to end the run with. */
  notConfirmed(answer: Exclude<ConfirmAnswer, 'confirmed'>, env: string, fields?: AttemptFields): CliError;
}

export function auditTrail(command: 'deploy' | 'rollback', app: string, flags: { env: string; dc?: string }): AuditTrail {
  const identity = auditIdentity();
  // Ties the records of one run together: its `started` record and the outcome of each datacenter.
  const run = randomUUID();
  // Known from the flag alone, so even a run that fails to read environments.json says where it was going.
  let datacenters: string[] | undefined = flags.dc && flags.dc !== 'all' ? [flags.dc] : undefined;
  const recordedDatacenters = new Set<string>();
  let ended = false;
  const written: AuditRecord[] = [];
  let shared: InfluxAuditSink | undefined;
  const complete = (fields: AuditFields): AuditRecord => ({
    time: new Date().toISOString(),
    ...identity,
    command,
    run,
    app,
    env: flags.env,
    ...(fields.dc === undefined && datacenters ? { datacenters } : {}),
    ...fields,
  });
  const record = (fields: AuditFields) => {
    if (ended) return;
    if (fields.dc !== undefined) recordedDatacenters.add(fields.dc);
    const completed = complete(fields);
    appendAuditRecord(completed, auditLogPath());
    written.push(completed);
    shared?.enqueue(completed);
  };
  // The sink could not take them: one warning line, and a local line saying which records are in this log only.
  const missed = (miss: SinkMiss) => {
    const count = miss.records.length;
    process.stderr.write(
      `baton: warning: the shared audit trail (${miss.sink}) could not be written (${miss.reason}): ${count} record${count === 1 ? '' : 's'} of this run ${count === 1 ? 'is' : 'are'} in the local audit log only (${auditLogPath()})\n`,
    );
    try {
      appendAuditRecord(
        {
          time: new Date().toISOString(),
          user: identity.user,
          command,
          run,
          app,
          env: flags.env,
          auditSinkMissed: {
            sink: miss.sink,
            reason: miss.reason,
            records: miss.records.map((r) => ({ time: r.time, ...(r.dc !== undefined ? { dc: r.dc } : {}), outcome: r.outcome })),
          },
        },
        auditLogPath(),
      );
    } catch {
      // The records themselves are in the local log; only the note is lost.
    }
  };
  return {
    user: identity.user,
    ensureWritable() {
      const file = auditLogPath();
      try {
        checkAppendable(file);
      } catch (error) {
        throw new CliError(
          `the audit log ${file} cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): fix its permissions or set BATON_AUDIT_LOG. Nothing was sent.`,
          ExitCode.invalidInput,
          'audit-log-unwritable',
          { file },
        );
      }
    },
    record,
    recordBeforeExit(owed) {
      if (ended) return Promise.resolve();
      ended = true;
      const records = owed.filter((fields) => fields.dc === undefined || !recordedDatacenters.has(fields.dc)).map(complete);
      return appendAuditRecordsAsync(records, auditLogPath()).then(() => {
        if (!shared) return;
        for (const r of records) shared.enqueue(r);
        // Within the forced exit's own wait (FORCED_EXIT_WAIT_MS): what InfluxDB has not taken by then is noted as missed.
        return flushAuditSinks(FORCED_EXIT_SINK_WAIT_MS);
      });
    },
    aimAt(names) {
      datacenters = names;
    },
    shareWith(sink) {
      if (!sink || shared) return;
      shared = new InfluxAuditSink(sink, missed);
      for (const earlier of written) shared.enqueue(earlier);
    },
    endedBefore(error, fields = {}) {
      if (!(error instanceof CliError)) return;
      record({ ...fields, outcome: auditOutcomeOf(error), exitCode: error.exitCode, message: error.message });
    },
    recordInterrupts(stage, fields = {}) {
      return exitOnInterrupt((signal) => {
        const message = `interrupted (${signal}) ${stage()}`;
        record({ ...fields, outcome: 'interrupted', exitCode: ExitCode.interrupted, message });
        process.stderr.write(`baton: ${message}\n`);
      });
    },
    notConfirmed(answer, env, fields = {}) {
      const message = answer === 'interrupted' ? 'not confirmed: interrupted (Ctrl-C) at the prompt' : 'not confirmed at the prompt';
      record({ ...fields, outcome: 'refused', exitCode: ExitCode.notConfirmed, message });
      return new CliError(`not confirmed: nothing was sent to ${env}`, ExitCode.notConfirmed, 'not-confirmed');
    },
  };
}

function auditOutcomeOf(error: CliError): AuditOutcome {
  switch (error.exitCode) {
    case ExitCode.notConfirmed:
      return 'refused';
    case ExitCode.invalidInput:
      return 'invalid';
    case ExitCode.unreachable:
      return 'unreachable';
    case ExitCode.interrupted:
      return 'interrupted';
    default:
      return 'rejected';
  }
}
