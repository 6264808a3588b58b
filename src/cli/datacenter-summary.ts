import { exitCodeFor, type DatacenterOutcome } from './deploy-run.js';
import { CliError } from '../outcome/cli-error.js';
import { ExitCode } from '../outcome/exit-codes.js';
import { paint } from '../terminal/output.js';

// Shared by the commands that change datacenters one after the other (deploy, rollback): their flags and closing summary.

/** "Summary:" with one line per datacenter, its outcome coloured (green ok, grey skipped, red otherwise). */
export function summaryLines(results: { datacenter: string; outcome: DatacenterOutcome; message?: string }[], color: boolean): string[] {
  return [
    '',
    'Summary:',
    ...results.map((r) => {
      const style = exitCodeFor(r.outcome) === ExitCode.ok ? 'green' : r.outcome === 'skipped' ? 'gray' : 'red';
      return `  ${r.datacenter.padEnd(6)} ${paint(color, style, r.outcome.padEnd(20))} ${r.message ?? ''}`;
    }),
  ];
}

/** --timeout: a positive number of seconds, or undefined for the default derived from the health checks. */
export function parseTimeoutFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new CliError(`--timeout "${value}": expected a positive number of seconds`, ExitCode.invalidInput, 'invalid-flag', { flag: '--timeout' });
  }
  return seconds;
}
