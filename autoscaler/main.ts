import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfigFile } from './config/load.js';
import { startDaemon } from './daemon.js';
import { StateFileError } from './registry/store.js';
import { packageVersion } from '../src/package-info.js';
import { runBacktestCommand } from './backtest/command.js';

/** Exit codes of baton-autoscaler: 0 stopped cleanly, 1 could not start (state file, port), 2 bad config, 70 bug. */
const EXIT_START_FAILED = 1;
const EXIT_INVALID_CONFIG = 2;
const EXIT_INTERNAL = 70;

/**
 * stdout may go away under us (`baton-autoscaler ... | head -1`, a log shipper that dies). Writing to it then fails
 * with EPIPE, emitted as an 'error' event that would kill the process. Before the daemon runs (--help, errors) there is
 * nothing left to say: exit quietly. Once it runs, logs are only output: stop writing them, say so once on stderr,
 * and keep scaling.
 */
const stdoutState = { daemonRunning: false, open: true };

function watchOutputStreams(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (!stdoutState.open) return;
    stdoutState.open = false;
    if (!stdoutState.daemonRunning) process.exit(process.exitCode ?? 0);
    writeStderr(`baton-autoscaler: stdout is closed (${error.code ?? error.message}): logs are no longer written; the daemon keeps running\n`);
  });
  // stderr may be the same closed pipe: a message that cannot be shown must not stop the daemon either.
  process.stderr.on('error', () => undefined);
}

function writeStdout(line: string): void {
  if (stdoutState.open) process.stdout.write(line);
}

function writeStderr(text: string): void {
  if (!process.stderr.destroyed) process.stderr.write(text);
}

async function main(argv: string[]): Promise<void> {
  watchOutputStreams();
  if (argv[2] === 'backtest') {
    process.exitCode = await runBacktestCommand(argv.slice(3), {
      stdout: writeStdout,
      stderr: writeStderr,
      env: process.env,
      now: () => Date.now(),
    });
    return;
  }
  const program = new Command('baton-autoscaler')
    .description('Scales Marathon apps from cAdvisor metrics in InfluxDB (HPA-style), with a REST API for registrations')
    .version(packageVersion() ?? 'unknown', '-V, --version')
    .requiredOption('-c, --config <file.json>', 'the daemon config file (see autoscaler/example-config.json)')
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  BATON_AUTOSCALER_TOKEN=s3cret baton-autoscaler --config /etc/baton/autoscaler.json
  baton-autoscaler --config autoscaler/example-config.json   # with "readOnly": true no token is needed
  baton-autoscaler backtest --config autoscaler.json --app /shop/web --from 2026-11-01 --to 2026-11-28   # see backtest --help

Exit codes: 0 stopped by SIGTERM/SIGINT, 1 could not start (state file, listen address), 2 invalid config.`,
    );
  try {
    program.parse(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : EXIT_INVALID_CONFIG;
      return;
    }
    throw error;
  }
  const options = program.opts<{ config: string }>();

  let loaded;
  try {
    loaded = await loadConfigFile(options.config, process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      writeStderr(`baton-autoscaler: invalid config: ${error.message}\n`);
      process.exitCode = EXIT_INVALID_CONFIG;
      return;
    }
    throw error;
  }

  let daemon;
  try {
    stdoutState.daemonRunning = true;
    daemon = await startDaemon(loaded, writeStdout);
  } catch (error) {
    stdoutState.daemonRunning = false;
    if (error instanceof StateFileError || isListenError(error)) {
      writeStderr(`baton-autoscaler: cannot start: ${(error as Error).message}\n`);
      process.exitCode = EXIT_START_FAILED;
      return;
    }
    throw error;
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    daemon.logger.info('stopping', { signal });
    daemon.stop().then(
      () => process.exit(0),
      () => process.exit(EXIT_INTERNAL),
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

function isListenError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL';
}

main(process.argv).catch((error: unknown) => {
  writeStderr(`baton-autoscaler: internal error: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exitCode = EXIT_INTERNAL;
});
