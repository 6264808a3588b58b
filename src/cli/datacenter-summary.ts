import type { AuditOutcome } from '../audit/log.js';
import { CliError } from '../outcome/cli-error.js';
import { ExitCode } from '../outcome/exit-codes.js';
import { OUTCOMES } from '../outcome/outcomes.js';
import { paint } from '../terminal/output.js';

// Shared by the commands that change datacenters one after the other (deploy, rollback): their flags and closing summary.

const TONE_STYLE = { ok: 'green', skipped: 'gray', bad: 'red' } as const;

/** "Summary:" with one line per datacenter, its outcome coloured (green ok, grey skipped, red otherwise). */
export function summaryLines(results: { datacenter: string; outcome: AuditOutcome; message?: string }[], color: boolean): string[] {
  return [
    '',
    'Summary:',
    ...results.map((r) => `  ${r.datacenter.padEnd(6)} ${paint(color, TONE_STYLE[OUTCOMES[r.outcome].tone], r.outcome.padEnd(20))} ${r.message ?? ''}`),
  ];
}

const UNIT_SECONDS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600 };

/** A duration flag in seconds: `300`, `90s`, `5m`, `1.5h`; undefined when not given. */
export function parseDurationFlag(flag: string, value: string | undefined, options: { allowZero?: boolean } = {}): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*(s|m|h)?$/.exec(value.trim());
  const seconds = match ? Number(match[1]) * UNIT_SECONDS[match[2] ?? '']! : Number.NaN;
  if (!Number.isFinite(seconds) || seconds < 0 || (seconds === 0 && !options.allowZero)) {
    throw new CliError(
      `${flag} "${value}": expected a ${options.allowZero ? 'non-negative' : 'positive'} duration: seconds (300) or with a unit (90s, 5m, 1h)`,
      ExitCode.invalidInput,
      'invalid-flag',
      { flag },
    );
  }
  return seconds;
}

/** --timeout: a positive duration, or undefined for the default derived from the health checks. */
export function parseTimeoutFlag(value: string | undefined): number | undefined {
  return parseDurationFlag('--timeout', value);
}
