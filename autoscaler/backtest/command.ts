import { readFile, writeFile } from 'node:fs/promises';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { MarathonError } from '../../src/marathon/errors.js';
import type { AppInfo } from '../../src/marathon/types.js';
import { cycleSettingsOf, historyCacheOf, influxSourceOf, marathonClientOf } from '../config/clients.js';
import { ConfigError, formatIssues, loadConfigFile, secretValues, type LoadedConfig } from '../config/load.js';
import { targetedMetrics, WEEK_MS, type UsagePoint } from '../forecast/forecast.js';
import { buildHistoryQueries } from '../forecast/history-query.js';
import { ZooKeeperSession } from '../leadership/zookeeper-session.js';
import { MetricsError } from '../metrics/errors.js';
import type { InfluxMetricsSource } from '../metrics/influx-source.js';
import { registrationFromLabels } from '../registry/labels.js';
import { isValidAppId, registrationSchema, type Registration } from '../registry/registration.js';
import { StateFileError, StateFileRegistrationStore } from '../registry/store.js';
import { ZooKeeperRegistrationStore } from '../registry/zookeeper-store.js';
import { createScrubber, withoutUserinfo } from '../telemetry/scrub.js';
import type { Logger } from '../telemetry/logger.js';
import { account } from './accounting.js';
import { renderChart } from './chart.js';
import { buildRecordingQueries, readRecording, type Recording, type RecordingQuery } from './recording.js';
import { replay } from './replay.js';
import { backtestReport, formatReport, iso, type PolicyOrigin } from './report.js';

/** Exit codes of `baton-autoscaler backtest` (docs/exit-codes.md). */
export const BACKTEST_EXIT = {
  done: 0,
  usage: 2,
  notManaged: 3,
  noRecordedUsage: 4,
  unreachable: 5,
  internal: 70,
} as const;

export type BacktestErrorKind = 'usage' | 'not-managed' | 'no-recorded-usage' | 'unreachable';

/** A backtest that cannot run, with the exit code it ends with. Messages carry no credential. */
export class BacktestError extends Error {
  override readonly name = 'BacktestError';
  constructor(
    readonly kind: BacktestErrorKind,
    message: string,
  ) {
    super(message);
  }

  get exitCode(): number {
    return { usage: BACKTEST_EXIT.usage, 'not-managed': BACKTEST_EXIT.notManaged, 'no-recorded-usage': BACKTEST_EXIT.noRecordedUsage, unreachable: BACKTEST_EXIT.unreachable }[this.kind];
  }
}

interface BacktestOptions {
  config: string;
  app: string;
  from: number;
  to: number;
  step?: number;
  startup: number;
  policy?: string;
  bucketMinutes: number;
  retentionPolicy?: string;
  chart?: string;
  json?: boolean;
}

export interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  now(): number;
}

const MAX_RANGE_DAYS = 366;

/** Runs `baton-autoscaler backtest …` (argv after the program name); resolves to the exit code. */
export async function runBacktestCommand(args: string[], io: CommandIo): Promise<number> {
  const program = backtestProgram(io);
  let options: BacktestOptions;
  try {
    program.parse(args, { from: 'user' });
    options = program.opts<BacktestOptions>();
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : BACKTEST_EXIT.usage;
    throw error;
  }
  const json = options.json === true;
  let scrub = (text: string) => text;
  try {
    if (!(options.from < options.to)) throw new BacktestError('usage', `--to (${iso(options.to)}) must be after --from (${iso(options.from)})`);
    if (options.to > io.now()) throw new BacktestError('usage', `--to (${iso(options.to)}) is in the future: nothing is recorded there yet`);
    if (options.to - options.from > MAX_RANGE_DAYS * 24 * 3600_000) throw new BacktestError('usage', `--from to --to spans more than ${MAX_RANGE_DAYS} days`);
    const loaded = await loadConfig(options.config, io.env);
    scrub = createScrubber(secretValues(loaded));
    const report = await backtest(options, loaded);
    if (options.chart !== undefined) {
      try {
        await writeFile(options.chart, renderChart(report.chart));
      } catch (error) {
        throw new BacktestError('usage', `--chart ${options.chart}: cannot write the chart (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      }
    }
    io.stdout(json ? `${JSON.stringify(report.json, null, 2)}\n` : formatReport(report.json));
    return BACKTEST_EXIT.done;
  } catch (error) {
    if (!(error instanceof BacktestError)) throw error;
    const message = scrub(error.message);
    if (json) io.stdout(`${JSON.stringify({ error: { kind: error.kind, message } }, null, 2)}\n`);
    io.stderr(`baton-autoscaler backtest: ${message}\n`);
    return error.exitCode;
  }
}

function backtestProgram(io: CommandIo): Command {
  return new Command('baton-autoscaler backtest')
    .description(
      'Replays an app\'s recorded usage (InfluxDB) through the autoscaler\'s own cycle on a simulated clock and compares what it would have run with what ran',
    )
    .requiredOption('-c, --config <file.json>', 'the daemon config file: Marathon, InfluxDB, defaults, registrations (state file or ZooKeeper)')
    .requiredOption('--app <id>', 'the Marathon app id, e.g. /shop/web', appIdArgument)
    .requiredOption('--from <time>', 'start: a date (UTC midnight) or an ISO time with a zone, e.g. 2026-11-01 or 2026-11-01T08:00:00+01:00', timeArgument)
    .requiredOption('--to <time>', 'end (exclusive), same forms as --from', timeArgument)
    .option('--step <seconds>', 'the simulated cycle interval (default: the config\'s intervalSeconds)', positiveNumber('--step'))
    .option('--startup <seconds>', 'from a scale-up until the new tasks run healthy', positiveNumber('--startup'), 60)
    .option('--policy <file.json>', 'replay this registration (the POST /apps body) instead of the app\'s registration or labels')
    .option('--bucket-minutes <n>', 'the recorded usage\'s resolution (GROUP BY time)', wholeMinutes, 1)
    .option('--retention-policy <name>', 'read the usage from this retention policy (default: the database\'s default one)')
    .option('--chart <out.svg>', 'also write an SVG chart of the load, the backtest\'s and the actual instances')
    .option('--json', 'print the result as JSON (errors too: {"error": {"kind", "message"}})')
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout(text), writeErr: (text) => io.stderr(text) })
    .addHelpText(
      'after',
      `
Examples:
  baton-autoscaler backtest --config /etc/baton/autoscaler.json --app /shop/web --from 2026-11-01 --to 2026-11-28
  baton-autoscaler backtest -c autoscaler.json --app /shop/web --from 2026-11-23 --to 2026-11-30 --chart web.svg
  baton-autoscaler backtest -c autoscaler.json --app /shop/web --from 2026-11-01 --to 2026-11-28 --policy what-if.json --json

The policy is the app's REST registration (state file, or ZooKeeper when configured), else its AUTOSCALE_* labels;
dryRun is ignored. Reads Marathon (the app's definition) and InfluxDB; changes nothing.

Exit codes: 0 done, 2 bad flags, config or policy file, 3 no such app or it is not managed (no registration,
labels or --policy), 4 no recorded usage in the range, 5 Marathon, InfluxDB or ZooKeeper unreadable, 70 internal error.`,
    );
}

async function loadConfig(file: string, env: NodeJS.ProcessEnv): Promise<LoadedConfig> {
  try {
    return await loadConfigFile(file, env, { serves: false });
  } catch (error) {
    if (error instanceof ConfigError) throw new BacktestError('usage', `invalid config: ${error.message}`);
    throw error;
  }
}

async function backtest(options: BacktestOptions, loaded: LoadedConfig) {
  const { config } = loaded;
  const marathon = marathonClientOf(loaded);
  const influx = influxSourceOf(loaded, { timeoutSeconds: Math.max(60, config.influx.timeoutSeconds) });
  const settings = cycleSettingsOf(config);
  const stepMs = (options.step ?? config.intervalSeconds) * 1000;

  const definition = await appDefinition(marathon, options.app);
  const { registration, origin } = await policyOf(options, loaded, definition);
  const queryStartedAt = performance.now();
  const query: RecordingQuery = {
    appId: options.app,
    metrics: targetedMetrics(registration),
    from: options.from,
    to: options.to,
    taskIdTag: config.metrics.taskIdTag,
    bucketMinutes: options.bucketMinutes,
    ...(options.retentionPolicy !== undefined ? { retentionPolicy: options.retentionPolicy } : {}),
  };
  const recording = await readRecorded(influx, query);
  if (recording.buckets.length === 0) {
    throw new BacktestError(
      'no-recorded-usage',
      `no recorded usage of ${options.app} from ${iso(options.from)} to ${iso(options.to)} in InfluxDB ${influx.endpoint} ` +
        `(database ${JSON.stringify(config.influx.database)}${options.retentionPolicy !== undefined ? `, retention policy ${JSON.stringify(options.retentionPolicy)}` : ''}, ` +
        `tasks by tag ${JSON.stringify(config.metrics.taskIdTag)})`,
    );
  }
  const history = registration.predictive === undefined ? undefined : await readForecastHistory(influx, loaded, options, registration);
  const queryMs = performance.now() - queryStartedAt;

  const first = recording.buckets[0];
  const initialInstances =
    first !== undefined && first.instances !== undefined && first.at - options.from < 10 * 60_000 ? first.instances : Math.max(definition.instances ?? 0, registration.minInstances);
  const replayStartedAt = performance.now();
  const { dryRun: _ignored, ...cycleSettings } = settings;
  const result = await replay({
    definition,
    registration,
    recording,
    ...(history !== undefined ? { history } : {}),
    from: options.from,
    to: options.to,
    stepMs,
    startupMs: options.startup * 1000,
    initialInstances,
    settings: cycleSettings,
    historyCache: historyCacheOf(config),
  });
  const replayMs = performance.now() - replayStartedAt;
  const resources = { cpus: typeof definition.cpus === 'number' && definition.cpus > 0 ? definition.cpus : 1, memMiB: typeof definition.mem === 'number' && definition.mem > 0 ? definition.mem : 128 };
  const accounting = account({
    policy: result.policy,
    resources,
    recording,
    from: options.from,
    stepMs,
    instances: result.instances,
    running: result.running,
    backtestActions: { up: result.actions.filter((a) => a.to > a.from).length, down: result.actions.filter((a) => a.to < a.from).length },
  });
  return backtestReport({
    appId: options.app,
    from: options.from,
    to: options.to,
    stepMs,
    startupMs: options.startup * 1000,
    origin,
    registration,
    policy: result.policy,
    resources,
    recording,
    recordingSource: { database: config.influx.database, ...(options.retentionPolicy !== undefined ? { retentionPolicy: options.retentionPolicy } : {}) },
    initialInstances,
    result,
    accounting,
    timings: { queryMs, replayMs },
  });
}

async function appDefinition(marathon: ReturnType<typeof marathonClientOf>, appId: string): Promise<AppInfo> {
  try {
    return await marathon.getApp(appId);
  } catch (error) {
    if (error instanceof MarathonError && error.kind === 'not-found') {
      throw new BacktestError('not-managed', `Marathon ${withoutUserinfo(marathon.baseUrl)} has no app ${appId}: the backtest needs its definition (cpus, mem, health checks)`);
    }
    throw new BacktestError('unreachable', `cannot read ${appId} from Marathon: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** --policy, else the REST registration (ZooKeeper or the state file), else the app's labels. */
async function policyOf(options: BacktestOptions, loaded: LoadedConfig, definition: AppInfo): Promise<{ registration: Registration; origin: PolicyOrigin }> {
  if (options.policy !== undefined) return { registration: await policyFile(options.policy, options.app), origin: { kind: 'file', file: options.policy } };
  const { config } = loaded;
  const stored = config.zookeeper ? await zookeeperRegistration(config.zookeeper, options.app) : await stateFileRegistration(config.stateFile, options.app);
  if (stored !== undefined) return { registration: stored, origin: config.zookeeper ? { kind: 'zookeeper', path: config.zookeeper.path } : { kind: 'state-file', file: config.stateFile } };
  const labels = registrationFromLabels(options.app, definition.labels);
  if (labels.kind === 'registered') return { registration: labels.registration, origin: { kind: 'labels' } };
  if (labels.kind === 'invalid') {
    throw new BacktestError('not-managed', `${options.app} has invalid AUTOSCALE_* labels (${labels.errors.join('; ')}) and no REST registration: fix them or give --policy`);
  }
  throw new BacktestError(
    'not-managed',
    `${options.app} is not managed: no registration in ${config.zookeeper ? `ZooKeeper ${config.zookeeper.path}` : config.stateFile} and no AUTOSCALE_* labels; give --policy <file.json> to try one`,
  );
}

async function policyFile(file: string, appId: string): Promise<Registration> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    const why = error instanceof SyntaxError ? `not valid JSON (${error.message})` : `cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
    throw new BacktestError('usage', `--policy ${file}: ${why}`);
  }
  const withApp = raw !== null && typeof raw === 'object' && !Array.isArray(raw) && !('appId' in raw) ? { appId, ...raw } : raw;
  const parsed = registrationSchema.safeParse(withApp);
  if (!parsed.success) throw new BacktestError('usage', `--policy ${file}: ${formatIssues(parsed.error, withApp)}`);
  if (parsed.data.appId !== appId) throw new BacktestError('usage', `--policy ${file}: appId is ${JSON.stringify(parsed.data.appId)}, but --app is ${appId}`);
  return parsed.data;
}

async function stateFileRegistration(file: string, appId: string): Promise<Registration | undefined> {
  try {
    return (await StateFileRegistrationStore.read(file)).get(appId);
  } catch (error) {
    if (error instanceof StateFileError) throw new BacktestError('usage', `cannot read the registrations: ${error.message}`);
    throw error;
  }
}

const QUIET: Logger = { debug() {}, info() {}, warn() {}, error() {} };

async function zookeeperRegistration(config: NonNullable<LoadedConfig['config']['zookeeper']>, appId: string): Promise<Registration | undefined> {
  const session = new ZooKeeperSession({ connect: config.connect, sessionTimeoutMs: config.sessionTimeoutMs, logger: QUIET });
  const store = new ZooKeeperRegistrationStore(session, config.path, QUIET);
  session.start();
  try {
    const deadline = Date.now() + config.sessionTimeoutMs;
    while (!store.loaded) {
      if (Date.now() > deadline) {
        throw new BacktestError('unreachable', `cannot read the registrations from ZooKeeper ${config.connect} (${config.path}) within ${config.sessionTimeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return store.get(appId);
  } finally {
    await session.close();
  }
}

async function readRecorded(influx: InfluxMetricsSource, query: RecordingQuery): Promise<Recording> {
  const statements = buildRecordingQueries(query);
  const chunks = await influxRead(influx, [...statements.usage.map((s) => s.statement), statements.instances]);
  const { recording, errors } = readRecording(query, statements, chunks);
  if (errors.length > 0) throw new BacktestError('unreachable', influx.failure(new MetricsError(`InfluxDB rejected the usage query: ${errors.join('; ')}`)).message);
  return recording;
}

/** The history the forecast reads, from its lookback before --from on, in the forecast's own buckets and retention policy. */
async function readForecastHistory(influx: InfluxMetricsSource, loaded: LoadedConfig, options: BacktestOptions, registration: Registration): Promise<UsagePoint[]> {
  const predictive = registration.predictive as NonNullable<Registration['predictive']>;
  const { forecast, metrics } = loaded.config;
  const from = options.from - predictive.lookbackWeeks * WEEK_MS - predictive.windowMinutes * 60_000;
  const statements = buildHistoryQueries([{ appId: options.app, metrics: targetedMetrics(registration), windows: [{ from, to: options.to }] }], {
    taskIdTag: metrics.taskIdTag,
    bucketMinutes: forecast.bucketMinutes,
    ...(forecast.retentionPolicy !== undefined ? { retentionPolicy: forecast.retentionPolicy } : {}),
  });
  try {
    return (await influx.fetchHistory(statements)).get(options.app) ?? [];
  } catch (error) {
    throw new BacktestError('unreachable', `cannot read the history of the predictive floor: ${(error as Error).message}`);
  }
}

async function influxRead(influx: InfluxMetricsSource, statements: string[]): Promise<unknown[]> {
  try {
    return await influx.fetchChunks(statements);
  } catch (error) {
    throw new BacktestError('unreachable', `cannot read the recorded usage: ${(error as Error).message}`);
  }
}

function appIdArgument(value: string): string {
  if (!isValidAppId(value)) throw new InvalidArgumentError('expected an absolute Marathon app id like /shop/web');
  return value;
}

function timeArgument(value: string): number {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const zoned = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value);
  const at = Date.parse(dateOnly ? `${value}T00:00:00Z` : value);
  if (!(dateOnly || zoned) || Number.isNaN(at)) {
    throw new InvalidArgumentError('expected a date like 2026-11-01 (UTC midnight) or an ISO time with a zone like 2026-11-01T08:00:00Z');
  }
  return at;
}

function positiveNumber(flag: string): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!(Number.isFinite(number) && number > 0)) throw new InvalidArgumentError(`${flag}: expected a number of seconds > 0`);
    return number;
  };
}

function wholeMinutes(value: string): number {
  const number = Number(value);
  if (!(Number.isInteger(number) && number >= 1 && number <= 60)) throw new InvalidArgumentError('expected whole minutes from 1 to 60');
  return number;
}
