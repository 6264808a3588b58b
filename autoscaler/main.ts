import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfigFile } from './config/load.js';
import { startDaemon } from './daemon.js';
import { StateFileError } from './registry/store.js';

/** Exit codes of baton-autoscaler: 0 stopped cleanly, 1 could not start (state file, port), 2 bad config, 70 bug. */
const EXIT_START_FAILED = 1;
const EXIT_INVALID_CONFIG = 2;
const EXIT_INTERNAL = 70;

async function main(argv: string[]): Promise<void> {
  const program = new Command('baton-autoscaler')
    .description('Scales Marathon apps from cAdvisor metrics in InfluxDB (HPA-style), with a REST API for registrations')
    .requiredOption('-c, --config <file.json>', 'the daemon config file (see autoscaler/example-config.json)')
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  BATON_AUTOSCALER_TOKEN=s3cret baton-autoscaler --config /etc/baton/autoscaler.json
  baton-autoscaler --config autoscaler/example-config.json   # with "readOnly": true no token is needed

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
      process.stderr.write(`baton-autoscaler: invalid config: ${error.message}\n`);
      process.exitCode = EXIT_INVALID_CONFIG;
      return;
    }
    throw error;
  }

  let daemon;
  try {
    daemon = await startDaemon(loaded, (line) => process.stdout.write(line));
  } catch (error) {
    if (error instanceof StateFileError || isListenError(error)) {
      process.stderr.write(`baton-autoscaler: cannot start: ${(error as Error).message}\n`);
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
  process.stderr.write(`baton-autoscaler: internal error: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exitCode = EXIT_INTERNAL;
});
