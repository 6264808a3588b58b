import path from 'node:path';
import { Command, Option } from 'commander';
import type { ConfigCheckReport } from '../../config/config-check.js';
import { formatConfigIssue as formatIssue, type ConfigIssue } from '../../config/issue.js';
import { CliError } from '../../outcome/cli-error.js';
import { ExitCode } from '../../outcome/exit-codes.js';
import { colorEnabled, paint } from '../../terminal/output.js';

interface ValidateFlags {
  configDir?: string;
  json?: boolean;
  strict?: boolean;
}

export function register(program: Command): void {
  program
    .command('validate')
    .description('Check every app and environment in the config dir, offline: JSON syntax, Marathon 1.10 rules, environments.json')
    .addOption(new Option('--config-dir <dir>', 'deploy-configs directory').env('BATON_CONFIG_DIR').default(undefined, './deploy-configs'))
    .option('--json', 'print one JSON document {ok, results: [{app, env, files, errors, warnings}]} on stdout')
    .option('--strict', 'warnings fail the check too (a typo such as "instance" for "instances"): for CI')
    .addHelpText(
      'after',
      `
Checks environments.json and, for every <app>/<env>-deploy.json, the definition Baton would deploy (base.json merged
with the env file): JSON syntax (with line and column), Marathon 1.10 validation rules, read-only fields copied from
GET /v2/apps, and env files for environments that environments.json does not define. Nothing is sent anywhere.
Warnings (unknown fields with "did you mean", deprecated fields) do not fail the check, unless --strict.

Examples:
  baton validate
  baton validate --config-dir ./deploy-configs --json
  BATON_CONFIG_DIR=/srv/deploy-configs baton validate
  baton validate --strict                 # CI: an unknown field fails the build

Exit codes: 0 no errors (warnings allowed, unless --strict) · 2 at least one error (or, with --strict, a warning)`,
    )
    .action(async (flags: ValidateFlags) => {
      const { resolveConfigDir, ConfigError } = await import('../../config/load.js');
      const { checkConfigDir } = await import('../../config/config-check.js');
      let report: ConfigCheckReport;
      try {
        report = await checkConfigDir(resolveConfigDir(flags.configDir));
      } catch (error) {
        if (error instanceof ConfigError) {
          throw new CliError(`config dir: ${error.message}`, ExitCode.invalidInput, 'invalid-config', { issues: error.issues });
        }
        throw error;
      }
      const strict = Boolean(flags.strict);
      const ok = report.ok && !(strict && warningCountOf(report) > 0);
      process.stdout.write(
        flags.json ? `${JSON.stringify({ ...report, ok, strict }, null, 2)}\n` : formatReport(report, colorEnabled(process.stdout), strict),
      );
      process.exitCode = ok ? ExitCode.ok : ExitCode.invalidInput;
    });
}

function warningCountOf(report: ConfigCheckReport): number {
  return report.results.reduce((sum, result) => sum + result.warnings.length, report.warnings.length);
}

export function formatReport(report: ConfigCheckReport, color: boolean, strict = false): string {
  const lines: string[] = [];
  const issueLine = (kind: 'error' | 'warning', issue: ConfigIssue) =>
    `      ${paint(color, kind === 'error' ? 'red' : 'yellow', `${kind}:`)} ${formatIssue(issue)}`;

  const envs = report.environments;
  if (envs.errors.length === 0) {
    lines.push(`${paint(color, 'green', 'ok  ')}  ${envs.file} (${envs.names.join(', ')})`);
  } else {
    lines.push(`${paint(color, 'red', 'FAIL')}  ${envs.file}`);
    for (const issue of envs.errors) lines.push(issueLine('error', issue));
  }
  const width = Math.max(0, ...report.results.map((result) => `${result.app}/${result.env}`.length));
  for (const result of report.results) {
    const name = `${result.app}/${result.env}`.padEnd(width);
    const failed = result.errors.length > 0;
    const counts = [plural(result.errors.length, 'error'), plural(result.warnings.length, 'warning')].filter(Boolean).join(', ');
    const files = paint(color, 'dim', `(${result.files.map((file) => path.basename(file)).join(' + ')})`);
    lines.push(`${failed ? paint(color, 'red', 'FAIL') : paint(color, 'green', 'ok  ')}  ${name}  ${files}${counts ? `  ${counts}` : ''}`);
    for (const issue of result.errors) lines.push(issueLine('error', issue));
    for (const issue of result.warnings) lines.push(issueLine('warning', issue));
  }
  for (const issue of report.warnings) lines.push(`${paint(color, 'yellow', 'note')}  ${formatIssue(issue)}`);

  const failed = report.results.filter((result) => result.errors.length > 0).length;
  const warningCount = warningCountOf(report);
  const apps = new Set(report.results.map((result) => result.app)).size;
  const strictFailed = strict && report.ok && warningCount > 0;
  const verdict = report.ok && !strictFailed ? paint(color, 'green', 'valid') : paint(color, 'red', strictFailed ? 'INVALID (--strict: warnings fail)' : 'INVALID');
  lines.push(
    '',
    `${verdict}: ${plural(apps, 'app') || '0 apps'}, ${plural(report.results.length, 'app/environment pair') || 'no app/environment pairs'} checked, ` +
      `${failed} with errors${envs.errors.length ? ', environments.json has errors' : ''}, ${plural(warningCount, 'warning') || 'no warnings'}`,
  );
  return `${lines.join('\n')}\n`;
}

function plural(count: number, noun: string): string {
  return count === 0 ? '' : `${count} ${noun}${count === 1 ? '' : 's'}`;
}
