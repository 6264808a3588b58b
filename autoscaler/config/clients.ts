import { MarathonClient, type MarathonAuth } from '../../src/marathon/client.js';
import { DEFAULT_HISTORY_CACHE, type CycleSettings } from '../cycle/run-cycle.js';
import type { HistoryCachePolicy } from '../forecast/cache.js';
import { InfluxMetricsSource, type InfluxSettings } from '../metrics/index.js';
import type { PolicyDefaults } from '../registry/registration.js';
import type { AutoscalerConfig } from './schema.js';
import type { LoadedConfig } from './load.js';

/**
 * What a config means to the cycle, in one place: the daemon and the backtest build their Marathon and InfluxDB
 * clients and their cycle settings here, so a backtest replays exactly what the daemon would run.
 */
export function marathonClientOf(loaded: LoadedConfig): MarathonClient {
  const { config, secrets } = loaded;
  const auth: MarathonAuth = {};
  if (secrets.marathonBasic) auth.basic = secrets.marathonBasic;
  if (secrets.marathonToken) auth.token = secrets.marathonToken;
  return new MarathonClient({
    url: config.marathon.url,
    auth,
    timeoutMs: config.marathon.timeoutSeconds * 1000,
    // One quick retry at most: a cycle must not stall; the next cycle is the real retry.
    readRetries: 1,
    retryBaseDelayMs: 100,
  });
}

export function influxSourceOf(loaded: LoadedConfig, options: { timeoutSeconds?: number } = {}): InfluxMetricsSource {
  const { config, secrets } = loaded;
  const settings: InfluxSettings = {
    url: config.influx.url,
    database: config.influx.database,
    requestTimeoutMs: (options.timeoutSeconds ?? config.influx.timeoutSeconds) * 1000,
  };
  if (config.influx.username) settings.username = config.influx.username;
  if (secrets.influxPassword) settings.password = secrets.influxPassword;
  return new InfluxMetricsSource(settings);
}

export function policyDefaultsOf(config: AutoscalerConfig): PolicyDefaults {
  const defaults: PolicyDefaults = {
    tolerance: config.defaults.tolerance,
    scaleDownStabilizationSeconds: config.defaults.scaleDownStabilizationSeconds,
    warmupSeconds: config.defaults.warmupSeconds,
  };
  if (config.defaults.scaleUpMaxStep !== undefined) defaults.scaleUpMaxStep = config.defaults.scaleUpMaxStep;
  return defaults;
}

export function cycleSettingsOf(config: AutoscalerConfig): CycleSettings {
  return {
    dryRun: config.dryRun,
    usageQuery: { taskIdTag: config.metrics.taskIdTag, windowSeconds: config.metrics.windowSeconds },
    freshnessSeconds: config.metrics.freshnessSeconds,
    defaults: policyDefaultsOf(config),
    forecast: {
      bucketMinutes: config.forecast.bucketMinutes,
      ...(config.forecast.retentionPolicy !== undefined ? { retentionPolicy: config.forecast.retentionPolicy } : {}),
    },
  };
}

export function historyCacheOf(config: AutoscalerConfig): HistoryCachePolicy {
  return { ...DEFAULT_HISTORY_CACHE, cacheMs: config.forecast.cacheMinutes * 60_000, appsPerQuery: config.forecast.appsPerQuery };
}
