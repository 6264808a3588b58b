import type { AuditOutcome } from '../audit/log.js';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';

/** What one outcome of a change in one datacenter means, for every command that shows or judges it. */
export interface OutcomeMeaning {
  exitCode: ExitCodeValue;
  /**
   * Whether the attempt made Marathon store a new version of the app: yes, no, or maybe (a change whose answer was lost, an
   * interrupt while Marathon was answering). History matches the created version to the attempt.
   */
  createdVersion: 'yes' | 'no' | 'maybe';
  /** Whether the attempt's target version ran healthy: true, false (it was seen failing), or unknown. */
  ranHealthy: boolean | undefined;
  /** Whether Baton put the previous version back after this attempt's version failed (verified healthy). */
  restoredPrevious: boolean;
  /** How people see it: ok (green), skipped (grey), bad (red). */
  tone: 'ok' | 'skipped' | 'bad';
}

/**
 * The one table of outcomes. deploy and rollback exit with its code, history judges versions by it, rollback's target pick
 * trusts it, status colours by it. A new outcome is added here or nowhere.
 */
export const OUTCOMES: Record<AuditOutcome, OutcomeMeaning> = {
  succeeded: { exitCode: ExitCode.ok, createdVersion: 'yes', ranHealthy: true, restoredPrevious: false, tone: 'ok' },
  unchanged: { exitCode: ExitCode.ok, createdVersion: 'no', ranHealthy: true, restoredPrevious: false, tone: 'ok' },
  'dry-run': { exitCode: ExitCode.ok, createdVersion: 'no', ranHealthy: undefined, restoredPrevious: false, tone: 'ok' },
  started: { exitCode: ExitCode.ok, createdVersion: 'maybe', ranHealthy: undefined, restoredPrevious: false, tone: 'skipped' },
  refused: { exitCode: ExitCode.notConfirmed, createdVersion: 'no', ranHealthy: undefined, restoredPrevious: false, tone: 'bad' },
  invalid: { exitCode: ExitCode.invalidInput, createdVersion: 'no', ranHealthy: undefined, restoredPrevious: false, tone: 'bad' },
  rejected: { exitCode: ExitCode.rejected, createdVersion: 'no', ranHealthy: undefined, restoredPrevious: false, tone: 'bad' },
  'marathon-error': { exitCode: ExitCode.marathonError, createdVersion: 'no', ranHealthy: undefined, restoredPrevious: false, tone: 'bad' },
  'too-many-deployments': { exitCode: ExitCode.tooManyDeployments, createdVersion: 'no', ranHealthy: undefined, restoredPrevious: false, tone: 'bad' },
  failed: { exitCode: ExitCode.failedRolledBack, createdVersion: 'yes', ranHealthy: false, restoredPrevious: false, tone: 'bad' },
  'failed-rolled-back': { exitCode: ExitCode.failedRolledBack, createdVersion: 'yes', ranHealthy: false, restoredPrevious: true, tone: 'bad' },
  timeout: { exitCode: ExitCode.timeout, createdVersion: 'yes', ranHealthy: false, restoredPrevious: false, tone: 'bad' },
  'timeout-rolled-back': { exitCode: ExitCode.timeout, createdVersion: 'yes', ranHealthy: false, restoredPrevious: true, tone: 'bad' },
  'rollback-failed': { exitCode: ExitCode.rollbackFailed, createdVersion: 'yes', ranHealthy: false, restoredPrevious: false, tone: 'bad' },
  superseded: { exitCode: ExitCode.superseded, createdVersion: 'maybe', ranHealthy: undefined, restoredPrevious: false, tone: 'bad' },
  interrupted: { exitCode: ExitCode.interrupted, createdVersion: 'maybe', ranHealthy: undefined, restoredPrevious: false, tone: 'bad' },
  skipped: { exitCode: ExitCode.ok, createdVersion: 'no', ranHealthy: undefined, restoredPrevious: false, tone: 'skipped' },
  unreachable: { exitCode: ExitCode.unreachable, createdVersion: 'no', ranHealthy: undefined, restoredPrevious: false, tone: 'bad' },
  // Blue/green: the candidate ran healthy but an integration test failed; its version is not one to go back to.
  'tests-failed': { exitCode: ExitCode.integrationTestFailed, createdVersion: 'yes', ranHealthy: false, restoredPrevious: false, tone: 'bad' },
  'tests-failed-rolled-back': { exitCode: ExitCode.integrationTestFailed, createdVersion: 'yes', ranHealthy: false, restoredPrevious: true, tone: 'bad' },
  step: { exitCode: ExitCode.ok, createdVersion: 'no', ranHealthy: undefined, restoredPrevious: false, tone: 'skipped' },
};

/** The exit code of a run that ended with this outcome in a datacenter (a skipped one ends nothing by itself). */
export function exitCodeFor(outcome: AuditOutcome): ExitCodeValue {
  return OUTCOMES[outcome].exitCode;
}

/** The outcomes whose meaning passes `test`, e.g. those after which the attempt's version ran healthy. */
export const outcomesWhere = (test: (meaning: OutcomeMeaning) => boolean): Set<string> =>
  new Set(Object.entries(OUTCOMES).filter(([, meaning]) => test(meaning)).map(([outcome]) => outcome));
