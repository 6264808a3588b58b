import { flushAuditSinks } from '../audit/influx.js';
import { ExitCode } from '../outcome/exit-codes.js';

/** How long an exit on Ctrl-C waits for the shared audit trail (InfluxDB) to take the records still on their way. */
export const INTERRUPT_SINK_WAIT_MS = 1500;

/** How long a second Ctrl-C waits for `beforeForcedExit` (an audit append) before exiting anyway: a stuck disk must not hang it. */
export const FORCED_EXIT_WAIT_MS = 2000;

/**
 * Runs `work` with a signal that the first Ctrl-C (or SIGTERM) aborts, so a command can stop waiting and report what goes on
 * in Marathon; a second one exits 130 without waiting for that, once `beforeForcedExit` (e.g. writing the audit record the
 * run still owes) has settled or `waitMs` has passed. Further ones change nothing.
 */
export async function whileInterruptible<T>(
  work: (signal: AbortSignal) => Promise<T>,
  options: { beforeForcedExit?: (signal: NodeJS.Signals) => Promise<void>; waitMs?: number } = {},
): Promise<T> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts += 1;
    // The signal's name as the reason, so what stops because of it can say which one it was.
    if (interrupts === 1) controller.abort(signal);
    if (interrupts !== 2) return;
    const last = options.beforeForcedExit ? Promise.resolve().then(() => options.beforeForcedExit!(signal)) : Promise.resolve();
    void settledWithin(last, options.waitMs ?? FORCED_EXIT_WAIT_MS).then((settled) => {
      if (settled === 'timed-out') process.stderr.write(`baton: gave up waiting for the audit log after ${options.waitMs ?? FORCED_EXIT_WAIT_MS} ms\n`);
      if (settled === 'failed') process.stderr.write('baton: could not write the audit record before exiting\n');
      process.exit(ExitCode.interrupted);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Whether `promise` settled within `ms`, and how; never rejects. */
export function settledWithin(promise: Promise<unknown>, ms: number): Promise<'fulfilled' | 'failed' | 'timed-out'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('timed-out'), ms);
    promise.then(
      () => resolve('fulfilled'),
      () => resolve('failed'),
    ).finally(() => clearTimeout(timer));
  });
}

/** How an aborted run was interrupted, for messages: "interrupted (SIGINT)". */
export function interruptedBy(signal: AbortSignal): string {
  return typeof signal.reason === 'string' ? `interrupted (${signal.reason})` : 'interrupted';
}

/** Why a datacenter was left alone after a Ctrl-C, in deploy's and rollback's results and audit records. */
export function notTouchedAfterInterrupt(signal: AbortSignal): string {
  return `not touched: ${interruptedBy(signal)} before its change was sent`;
}

/**
 * For the phases before anything changes (reading configs, the registry check, the prompt): until the returned function is
 * called, Ctrl-C (or SIGTERM) runs `onInterrupt` (e.g. to put the attempt on record) and exits 130 at once. Without this,
 * the default signal action would end the process with no trace of the attempt.
 */
export function exitOnInterrupt(onInterrupt: (signal: NodeJS.Signals) => void): () => void {
  let exiting = false;
  const onSignal = (signal: NodeJS.Signals) => {
    // A second one while the shared audit trail is being waited for: out at once (the records are in the local log).
    if (exiting) process.exit(ExitCode.interrupted);
    exiting = true;
    try {
      onInterrupt(signal);
    } catch {
      // exit anyway
    }
    void flushAuditSinks(INTERRUPT_SINK_WAIT_MS).finally(() => process.exit(ExitCode.interrupted));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
