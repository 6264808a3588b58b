import type { AuditFields, AuditTrail } from '../audit/trail.js';
import { ExitCode } from '../outcome/exit-codes.js';
import type { ChangeResult, PlannedChange } from './change.js';

/**
 * Where a run stands in the datacenter it is changing: what a forced exit (a second Ctrl-C) still has to record.
 */
export interface InFlightDeploy {
  datacenter: string;
  fromVersion: string | null;
  /** What this datacenter is being changed to, when it differs from the run's version (a rollback picks one per datacenter). */
  toVersion?: string;
  image?: string;
  /** sending: Marathon has not answered the change yet; waiting: our deployment runs; rollback: the automatic rollback runs. */
  phase: 'sending' | 'waiting' | 'rollback';
  deploymentId?: string;
  marathonVersion?: string;
  startedAt: number;
}

/** What a run knows up front for the records a forced exit owes. */
export interface OwedOnForcedExit {
  appId: string;
  /** The version every datacenter is changed to (deploy); a rollback has one per datacenter, in InFlightDeploy and skippedFields. */
  version: string | undefined;
  image: string | undefined;
  /** Every datacenter of the run, in order. */
  datacenters: string[];
  /** More of what a skipped datacenter's record says (its own target, for a rollback). */
  skippedFields?: (dc: string) => Pick<AuditFields, 'fromVersion' | 'toVersion' | 'image'>;
}

/**
 * The records a run still owes when a second Ctrl-C ends it without waiting: the datacenter in flight as interrupted, and
 * the ones after it as skipped, as the first Ctrl-C would have recorded them. Pure.
 */
export function recordsOwedOnForcedExit(input: OwedOnForcedExit & { inFlight: InFlightDeploy | undefined; signal: string; now: number }): AuditFields[] {
  const { inFlight } = input;
  if (!inFlight) return [];
  const how = `interrupted (${input.signal}, twice)`;
  const toVersion = inFlight.toVersion ?? input.version;
  const image = inFlight.image ?? input.image;
  const message =
    inFlight.phase === 'sending' || !inFlight.deploymentId
      ? `${how} before Marathon answered the change: it may have started a deployment (baton status shows it)`
      : inFlight.phase === 'rollback'
        ? `${toVersion ?? 'the change'} failed; ${how} while rolling back (deployment ${inFlight.deploymentId} was cancelled; the rollback continues)`
        : `${how} while waiting; deployment ${inFlight.deploymentId} continues`;
  const interrupted: AuditFields = {
    dc: inFlight.datacenter,
    appId: input.appId,
    fromVersion: inFlight.fromVersion,
    ...(toVersion ? { toVersion } : {}),
    ...(image ? { image } : {}),
    ...(inFlight.deploymentId ? { deploymentId: inFlight.deploymentId } : {}),
    ...(inFlight.marathonVersion ? { marathonVersion: inFlight.marathonVersion } : {}),
    outcome: 'interrupted',
    exitCode: ExitCode.interrupted,
    message,
    durationMs: input.now - inFlight.startedAt,
  };
  const after = input.datacenters.slice(input.datacenters.indexOf(inFlight.datacenter) + 1);
  const skipped = after.map(
    (dc): AuditFields => ({
      dc,
      appId: input.appId,
      ...(input.version ? { toVersion: input.version } : {}),
      ...input.skippedFields?.(dc),
      outcome: 'skipped',
      exitCode: ExitCode.interrupted,
      message: `not touched: ${inFlight.datacenter} interrupted`,
    }),
  );
  return [interrupted, ...skipped];
}

/** The audit record of one datacenter's result. `prefix` leads the message (a rollback names the stored version it put back). */
export function auditFieldsOf(r: ChangeResult, exitCode: number): AuditFields {
  const prefix = r.targetMarathonVersion ? `to Marathon version ${r.targetMarathonVersion}` : undefined;
  return {
    dc: r.datacenter,
    appId: r.appId,
    fromVersion: r.fromVersion,
    ...(r.toVersion ? { toVersion: r.toVersion } : {}),
    ...(r.image ? { image: r.image } : {}),
    ...(r.deploymentId ? { deploymentId: r.deploymentId } : {}),
    ...(r.marathonVersion ? { marathonVersion: r.marathonVersion } : {}),
    outcome: r.outcome,
    ...(r.strategy ? { strategy: r.strategy } : {}),
    ...(r.marathonStatus !== undefined ? { marathonStatus: r.marathonStatus } : {}),
    exitCode,
    message: [prefix, r.message].filter(Boolean).join(': ') || undefined,
    durationMs: r.durations.totalMs,
    ...(r.rollback
      ? { rollback: { deploymentId: r.rollback.deploymentId, ...(r.rollback.marathonVersion ? { marathonVersion: r.rollback.marathonVersion } : {}), outcome: r.rollback.outcome } }
      : {}),
  };
}

/**
 * The per-datacenter ledger of a run: it alone writes the run's records once changes begin, so each datacenter gets exactly
 * one, also when a second Ctrl-C ends the run while one is in flight.
 */
export class RolloutLedger {
  private inFlight: InFlightDeploy | undefined;

  constructor(
    private readonly trail: AuditTrail,
    private readonly run: OwedOnForcedExit,
    private readonly now: () => number = Date.now,
  ) {}

  /** The datacenter whose change is about to be sent. */
  begin(change: PlannedChange): void {
    this.inFlight = {
      datacenter: change.dc.name,
      fromVersion: change.fromVersion,
      ...(change.toVersion ? { toVersion: change.toVersion } : {}),
      ...(change.image ? { image: change.image } : {}),
      phase: 'sending',
      startedAt: this.now(),
    };
  }

  /** What Marathon answered, or that the automatic rollback began. */
  update(patch: Partial<Omit<InFlightDeploy, 'datacenter' | 'startedAt'>>): void {
    if (this.inFlight) Object.assign(this.inFlight, patch);
  }

  finish(result: ChangeResult, exitCode: number): void {
    this.trail.record(auditFieldsOf(result, exitCode));
    this.inFlight = undefined;
  }

  /** The first Ctrl-C's record of the datacenters left alone. */
  skip(results: ChangeResult[], exitCode: number): void {
    for (const r of results) this.trail.record(auditFieldsOf(r, exitCode));
  }

  /** The `beforeForcedExit` of whileInterruptible: names the datacenter in flight on stderr and writes what the run still owes. */
  readonly beforeForcedExit = (signal: NodeJS.Signals): Promise<void> => {
    const owed = recordsOwedOnForcedExit({ ...this.run, inFlight: this.inFlight, signal, now: this.now() });
    const interrupted = owed.find((r) => r.outcome === 'interrupted');
    if (interrupted) process.stderr.write(`baton: ${interrupted.dc}: ${interrupted.message}\n`);
    return this.trail.recordBeforeExit(owed);
  };
}
