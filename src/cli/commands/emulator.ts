import fs from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { startEmulator, type EmulatorOptions, type EmulatorTimings } from '../../emulator/index.js';
import { CliError } from '../../outcome/cli-error.js';
import { ExitCode } from '../../outcome/exit-codes.js';

interface EmulatorFlags {
  port: string;
  host: string;
  stagingMs?: string;
  healthyMs?: string;
  crashMs?: string;
  killMs?: string;
  backoffMs?: string;
  credentialsEnv?: string;
  tokenEnv?: string;
  apps?: string;
  leader?: string;
  runTasks?: boolean;
  imageCommand?: string;
  json?: boolean;
}

const TIMING_FLAGS: [keyof EmulatorFlags & keyof EmulatorTimings, string][] = [
  ['stagingMs', '--staging-ms'],
  ['healthyMs', '--healthy-ms'],
  ['crashMs', '--crash-ms'],
  ['killMs', '--kill-ms'],
  ['backoffMs', '--backoff-ms'],
];

const seedFileSchema = z.union([
  z.array(z.looseObject({ id: z.string().min(1) })),
  z.object({ apps: z.array(z.looseObject({ id: z.string().min(1) })) }),
]);

export function register(program: Command): void {
  program
    .command('emulator')
    .description('Run the in-memory Marathon 1.10 emulator (for demos, tests and trying deploys without a cluster)')
    .option('--port <n>', 'TCP port to listen on (0 = any free port)', '0')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--staging-ms <ms>', 'TASK_STAGING → TASK_RUNNING delay (default 300)')
    .option('--healthy-ms <ms>', 'TASK_RUNNING → healthy delay for apps with health checks (default 500)')
    .option('--crash-ms <ms>', 'how long a crashing task runs before TASK_FAILED (default 300)')
    .option('--kill-ms <ms>', 'kill → TASK_KILLED delay (default 100)')
    .option('--backoff-ms <ms>', 'delay before a failed task is relaunched (default 300)')
    .option('--credentials-env <name>', 'require HTTP Basic auth with the "user:password" held by this environment variable')
    .option('--token-env <name>', 'also accept "Authorization: token=<value>" with the token held by this environment variable')
    .option('--apps <file>', 'JSON file with app definitions (an array, or {"apps": [...]}) that run, healthy, from the start')
    .option('--leader <url>', 'be a non-leader of this leader: redirect /v2/events to it (302), proxy every other request to it')
    .option('--run-tasks', 'run each task as a real process on 127.0.0.1 (its cmd or args), probe its health checks for real')
    .option('--image-command <command>', 'with --run-tasks: the command that stands in for `docker run <image>` for Docker apps')
    .option('--json', 'print {"url": ...} on stdout instead of the sentence')
    .addHelpText(
      'after',
      `
Serves Marathon's REST API (/v2/apps, /v2/deployments, /v2/events, /v2/queue, ...) from memory, with simulated tasks,
rolling deployments and health checks. Runs until Ctrl-C (SIGINT) or SIGTERM, then closes every connection.

Failure injection, chosen by the app definition so a real deploy can trigger it:
  label EMULATOR_BEHAVIOUR=crash|unhealthy|stuck|lost|hc-kill|crash-after-healthy, or a Docker image tag
  containing one of those words (e.g. shop/web:2.0.0-crash, shop/web:2.0.0-crash-after-healthy). Control routes for tests and demos live under /_emulator/ (see docs/emulator.md).

Examples:
  baton emulator --port 8080
  baton emulator --port 0 --json --staging-ms 50 --healthy-ms 100
  MARATHON_CREDENTIALS=ops:s3cret baton emulator --port 8080 --credentials-env MARATHON_CREDENTIALS
  baton emulator --apps demo/apps.json
  baton emulator --port 8081 --leader http://127.0.0.1:8080   # a second master that is not the leader
  baton emulator --run-tasks --image-command "node test/support/test-service.mjs"   # tasks as real processes`,
    )
    .action(async (flags: EmulatorFlags) => {
      const options = emulatorOptionsFrom(flags, process.env);
      let emulator;
      try {
        emulator = await startEmulator(options);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
          throw new CliError(`cannot listen on ${options.host}:${options.port}: ${code}`, ExitCode.invalidInput, 'cannot-listen', {
            host: options.host,
            port: options.port,
          });
        }
        throw error;
      }
      process.stdout.write(flags.json ? `${JSON.stringify({ url: emulator.url })}\n` : `Marathon emulator listening on ${emulator.url}\n`);
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
      });
      await emulator.close();
      if (!flags.json) process.stderr.write(`Marathon emulator stopped (${signal})\n`);
    });
}

/** Flags and environment → EmulatorOptions; every bad value names its flag or variable. */
export function emulatorOptionsFrom(flags: EmulatorFlags, env: NodeJS.ProcessEnv): EmulatorOptions & { host: string; port: number } {
  const port = wholeNumber(flags.port, '--port');
  if (port > 65535) throw invalid(`--port must be at most 65535, got ${flags.port}`);
  const timings: Partial<EmulatorTimings> = {};
  for (const [key, flag] of TIMING_FLAGS) {
    const value = flags[key];
    if (value !== undefined) timings[key] = wholeNumber(value, flag);
  }
  const options: EmulatorOptions & { host: string; port: number } = { host: flags.host, port, timings };
  if (flags.credentialsEnv) {
    const value = env[flags.credentialsEnv];
    const colon = value?.indexOf(':') ?? -1;
    if (!value || colon <= 0) {
      throw invalid(`--credentials-env ${flags.credentialsEnv}: the variable must be set to "user:password"`);
    }
    options.credentials = { username: value.slice(0, colon), password: value.slice(colon + 1) };
  }
  if (flags.tokenEnv) {
    const value = env[flags.tokenEnv];
    if (!value) throw invalid(`--token-env ${flags.tokenEnv}: the variable is not set`);
    options.token = value;
  }
  if (flags.apps) options.apps = readSeedApps(flags.apps);
  if (flags.leader !== undefined) options.leader = leaderUrl(flags.leader);
  if (flags.imageCommand !== undefined && !flags.runTasks) throw invalid('--image-command needs --run-tasks (it stands in for `docker run` of real task processes)');
  if (flags.imageCommand !== undefined && flags.imageCommand.trim() === '') throw invalid('--image-command must be a command, got an empty string');
  if (flags.runTasks) {
    options.tasks = 'processes';
    if (flags.imageCommand !== undefined) options.imageCommand = flags.imageCommand;
  }
  return options;
}

function readSeedApps(file: string): Record<string, unknown>[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw invalid(`--apps ${file}: ${(error as Error).message}`);
  }
  const result = seedFileSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? `/${issue.path.join('/')}` : '/';
    throw invalid(`--apps ${file}: expected an array of app definitions with an "id" (or {"apps": [...]}); at ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return Array.isArray(result.data) ? result.data : result.data.apps;
}

function leaderUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`--leader must be the leader's http(s) URL, e.g. http://127.0.0.1:8080, got "${value}"`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.host === '') {
    throw invalid(`--leader must be the leader's http(s) URL, e.g. http://127.0.0.1:8080, got "${value}"`);
  }
  return url.origin;
}

function wholeNumber(value: string, flag: string): number {
  if (!/^\d+$/.test(value.trim())) throw invalid(`${flag} must be a whole number of ${flag === '--port' ? 'port' : 'milliseconds'}, got "${value}"`);
  return Number(value);
}

function invalid(message: string): CliError {
  return new CliError(message, ExitCode.invalidInput, 'invalid-input');
}
