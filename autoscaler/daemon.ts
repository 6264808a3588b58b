import type http from 'node:http';
import os from 'node:os';
import { createApiServer, listen } from './api/server.js';
import { secretValues, type LoadedConfig } from './config/load.js';
import { Controller } from './controller/controller.js';
import type { Clock } from './cycle/run-cycle.js';
import { cycleSettingsOf, historyCacheOf, influxSourceOf, marathonClientOf } from './config/clients.js';
import { DecisionLog } from './decisions/log.js';
import { scheduleProblems } from './registry/schedules.js';
import { StateFileRegistrationStore, type RegistrationStore } from './registry/store.js';
import { ZooKeeperRegistrationStore } from './registry/zookeeper-store.js';
import { LeaderElection, standalone, type Leadership } from './leadership/election.js';
import { SharedCycleMemory } from './leadership/shared-memory.js';
import { ZooKeeperSession } from './leadership/zookeeper-session.js';
import { createJsonLogger, type Logger } from './telemetry/logger.js';
import { createScrubber, withoutUserinfo } from './telemetry/scrub.js';
import { buildInfo } from './telemetry/build-info.js';
import { AutoscalerMetrics } from './telemetry/prometheus.js';

export interface RunningDaemon {
  url: string;
  logger: Logger;
  stop(): Promise<void>;
}

/** Wires the adapters (Marathon, InfluxDB, state file, HTTP, wall clock) around the cycle and starts it. */
export async function startDaemon(loaded: LoadedConfig, write: (line: string) => void): Promise<RunningDaemon> {
  const { config, secrets } = loaded;
  const scrub = createScrubber(secretValues(loaded));
  const logger = createJsonLogger({ write, level: config.logLevel, scrub });
  const clock = wallClock(process.env.BATON_AUTOSCALER_TEST_CLOCK_START, logger);

  const marathon = marathonClientOf(loaded);
  const metricsSource = influxSourceOf(loaded);

  const coordination = config.zookeeper ? zookeeperCoordination(config.zookeeper, logger) : undefined;
  let store: RegistrationStore;
  if (coordination) store = coordination.store;
  else {
    const fileStore = await StateFileRegistrationStore.open(config.stateFile);
    for (const file of fileStore.removedTempFiles) logger.warn('removed a temp file left by an interrupted state write', { file });
    store = fileStore;
  }
  const settings = cycleSettingsOf(config);
  const defaults = settings.defaults;

  const decisions = new DecisionLog(config.decisionHistory);
  const metrics = new AutoscalerMetrics(buildInfo());
  const leadership: Leadership = coordination?.election ?? standalone;
  metrics.reportRole(() => leadership.role());
  const controller = new Controller(
    { marathon, metrics: metricsSource, history: metricsSource, clock, logger, ...(coordination ? { guard: coordination.memory } : {}) },
    {
      intervalSeconds: config.intervalSeconds,
      maxCycleAgeSeconds: config.health.maxCycleAgeSeconds ?? defaultMaxCycleAgeSeconds(config),
      settings,
      historyCache: historyCacheOf(config),
      registrations: () => store.list(),
      decisions,
      metrics,
      scrub,
      leadership,
      ...(coordination
        ? { sharedMemory: coordination.memory, registrationsLoaded: () => coordination.store.loaded }
        : {}),
    },
  );

  const apiAuth: { token?: string; readOnly: boolean } = { readOnly: config.readOnly };
  if (secrets.apiToken) apiAuth.token = secrets.apiToken;
  const server = createApiServer({
    store,
    status: controller,
    decisions,
    metrics,
    defaults,
    checkRegistration: (registration) => scheduleProblems(registration.schedules),
    auth: apiAuth,
    logger,
    scrub,
    leadership,
  });
  const address = await listen(server, config.listen.host, config.listen.port);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  // The API listens first: the election node names the address, so other instances can point at it.
  coordination?.start(config.zookeeper?.advertiseUrl ?? advertisedUrl(address.address, address.port));
  logger.info('listening', {
    url,
    marathon: withoutUserinfo(marathon.baseUrl),
    influx: withoutUserinfo(config.influx.url),
    database: config.influx.database,
    intervalSeconds: config.intervalSeconds,
    dryRun: config.dryRun,
    readOnly: config.readOnly,
    ...(config.zookeeper
      ? { zookeeper: config.zookeeper.connect, zookeeperPath: config.zookeeper.path, sessionTimeoutMs: config.zookeeper.sessionTimeoutMs }
      : { stateFile: config.stateFile, registrations: store.list().length }),
  });
  controller.start();

  return {
    url,
    logger,
    stop: async () => {
      await controller.stop();
      await coordination?.stop();
      await closeServer(server);
      logger.info('stopped');
    },
  };
}

type ZooKeeperConfig = NonNullable<LoadedConfig['config']['zookeeper']>;

/** The ZooKeeper side of several instances: one session, the election, the shared registrations and memory. */
function zookeeperCoordination(config: ZooKeeperConfig, logger: Logger) {
  const session = new ZooKeeperSession({ connect: config.connect, sessionTimeoutMs: config.sessionTimeoutMs, logger });
  const store = new ZooKeeperRegistrationStore(session, config.path, logger);
  const election = new LeaderElection(session, config.path, logger);
  const memory = new SharedCycleMemory(session, config.path, election, () => election.ownPath(), logger);
  return {
    store,
    election,
    memory,
    start(advertiseUrl: string) {
      election.join(advertiseUrl);
      session.start();
    },
    async stop() {
      election.close();
      await session.close();
    },
  };
}

/** The address other instances are told: the listen address, or this host's name when it listens on every interface. */
function advertisedUrl(address: string, port: number): string {
  const wildcard = address === '0.0.0.0' || address === '::';
  const host = wildcard ? os.hostname() : address.includes(':') ? `[${address}]` : address;
  return `http://${host}:${port}`;
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * Liveness must not fail while a cycle waits out timeouts during an outage (that is readiness' business): three
 * intervals, and at least one cycle's worst case (Marathon list with its one retry, then InfluxDB) plus an interval.
 */
function defaultMaxCycleAgeSeconds(config: LoadedConfig['config']): number {
  const worstCycleSeconds = 2 * config.marathon.timeoutSeconds + config.influx.timeoutSeconds;
  return Math.max(3 * config.intervalSeconds, worstCycleSeconds + config.intervalSeconds);
}

/**
 * The wall clock decisions, schedules and forecasts use. FOR TESTS ONLY: BATON_AUTOSCALER_TEST_CLOCK_START=<ISO time>
 * starts it at that instant and lets it run at real speed from there (a recorded Monday replayed on any day); the
 * cycle's pace, liveness and every timeout stay on the real monotonic clock, and InfluxDB's now() is not moved.
 */
function wallClock(testStart: string | undefined, logger: Logger): Clock {
  if (testStart === undefined || testStart === '') return { now: () => Date.now() };
  const start = Date.parse(testStart);
  if (Number.isNaN(start)) throw new Error(`BATON_AUTOSCALER_TEST_CLOCK_START: expected an ISO time like 2026-11-30T08:50:00Z, got ${JSON.stringify(testStart)}`);
  const startedAt = performance.now();
  logger.warn('test clock: decisions use a wall clock started at BATON_AUTOSCALER_TEST_CLOCK_START (tests only)', { start: testStart });
  return { now: () => start + Math.round(performance.now() - startedAt) };
}
