import { Command, CommanderError } from 'commander';
import { CliError } from '../outcome/cli-error.js';
import { ExitCode } from '../outcome/exit-codes.js';
import { registerCommands } from './commands/index.js';
import { packageVersion } from '../package-info.js';
import { flushAuditSinks } from '../audit/influx.js';

// `baton deploy … | head -3` closes the pipe early. A reader going away must not end a deploy halfway (the change is
// sent, the wait and any revert are not done): stop printing to stdout, keep going, exit with the true code.
let stdoutClosed = false;
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED' || stdoutClosed) {
    stdoutClosed = true;
    return;
  }
  throw error;
});

// --debug may come anywhere (`baton deploy web --debug`): it is taken out before commander sees the command's options.
if (process.argv.includes('--debug')) {
  process.argv = process.argv.filter((arg) => arg !== '--debug');
  process.env.BATON_DEBUG = '1';
}

const program = new Command();
program
  .name('baton')
  .description('Deploy tagged Docker images to Marathon, per environment and datacenter, and see what runs where.')
  .version(packageVersion() ?? 'unknown', '-V, --version')
  .option('--debug', 'print each HTTP request to Marathon (and to the shared audit trail) (method, URL, status, time) on stderr, never a credential; also BATON_DEBUG=1')
  .enablePositionalOptions()
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

await registerCommands(program, process.argv.slice(2));

program.addHelpText(
  'after',
  `
Exit codes:
  0 ok · 1 partial · 2 invalid input · 3 not confirmed · 4 rejected by Marathon · 5 failed, rolled back
  6 timeout · 7 rollback failed · 8 unreachable · 9 superseded · 10-13 registry (docs/exit-codes.md)
  15 Marathon failed (5xx) · 16 too many deployments in Marathon
  14 a status --fail-on condition holds · 70 internal · 130 interrupted

Configuration: ./deploy-configs (or --config-dir, BATON_CONFIG_DIR). Audit log: BATON_AUDIT_LOG (~/.baton/audit.jsonl).`,
);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = reportFatal(error, process.argv.includes('--json'));
}
// Audit records still on their way to the shared audit trail: sent within a few seconds, else noted as missed.
await flushAuditSinks();

function reportFatal(error: unknown, json: boolean): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
      return ExitCode.ok;
    }
    // commander already printed its message to stderr
    return ExitCode.invalidInput;
  }
  if (error instanceof CliError) {
    if (json) process.stdout.write(`${JSON.stringify(error.toJSON(), null, 2)}\n`);
    process.stderr.write(`baton: ${error.message}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  if (json) process.stdout.write(`${JSON.stringify({ error: 'internal', message: String(error) })}\n`);
  process.stderr.write(`baton: internal error: ${message}\n`);
  return ExitCode.internal;
}
