import { ExitCode } from './exit-codes.js';

/**
 * Runs `work` with a signal that the first Ctrl-C (or SIGTERM) aborts, so a command can stop waiting and report what goes on
 * in Marathon; a second Ctrl-C exits at once.
 */
export async function whileInterruptible<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(ExitCode.interrupted);
    controller.abort();
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

/**
 * For the phases before anything changes (reading configs, the registry check, the prompt): until the returned function is
 * called, Ctrl-C (or SIGTERM) runs `onInterrupt` (e.g. to put the attempt on record) and exits 130 at once. Without this,
 * the default signal action would end the process with no trace of the attempt.
 */
export function exitOnInterrupt(onInterrupt: (signal: NodeJS.Signals) => void): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    try {
      onInterrupt(signal);
    } finally {
      process.exit(ExitCode.interrupted);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
