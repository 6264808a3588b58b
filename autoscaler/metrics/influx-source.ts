import { InfluxDB } from 'influx';
import type { TaskUsage } from '../policy/types.js';
import { MetricsError } from './errors.js';
import { buildUsageQueries, type UsageQueryOptions } from './queries.js';
import { usageFromResults } from './results.js';

export interface InfluxSettings {
  url: string;
  database: string;
  username?: string;
  password?: string;
  /** Per request; default 10 s. A cycle that cannot read metrics in time holds instead of waiting. */
  requestTimeoutMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** The pool must neither retry nor bench the host after a failure: the daemon holds and tries again next cycle. */
const noBackoff = { getDelay: () => 0, next: () => noBackoff, reset: () => noBackoff };

/** Reads every managed task's usage from InfluxDB 1.x (cAdvisor's measurements) in exactly one HTTP request. */
export class InfluxMetricsSource {
  private readonly influx: InfluxDB;
  private readonly database: string;
  private readonly secret: string | undefined;
  /** Where we read from, for messages: no userinfo. */
  readonly endpoint: string;

  constructor(settings: InfluxSettings) {
    let url: URL;
    try {
      url = new URL(settings.url);
    } catch {
      throw new MetricsError('the InfluxDB URL is not a valid URL (expected e.g. http://influxdb:8086)', 'rejected');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new MetricsError(`the InfluxDB URL must start with http:// or https://, got ${url.protocol}`, 'rejected');
    }
    const username = settings.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
    const password = settings.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
    url.username = '';
    url.password = '';
    this.endpoint = url.origin + (url.pathname === '/' ? '' : url.pathname.replace(/\/$/, ''));
    this.database = settings.database;
    this.secret = password;
    const protocol = url.protocol === 'https:' ? 'https' : 'http';
    this.influx = new InfluxDB({
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(url.port || (protocol === 'https' ? 443 : 80)),
      protocol,
      ...(url.pathname !== '/' ? { path: url.pathname.replace(/\/$/, '') } : {}),
      database: settings.database,
      ...(username !== undefined ? { username, password: password ?? '' } : {}),
      pool: { maxRetries: 0, backoff: noBackoff, requestTimeout: settings.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS },
    });
  }

  /** Exactly ONE HTTP request to InfluxDB for all apps' tasks. Throws MetricsError on failure. */
  async fetchUsage(options: UsageQueryOptions): Promise<Record<string, TaskUsage>> {
    const queries = buildUsageQueries(options);
    let raw: unknown;
    try {
      raw = await this.influx.queryRaw(queries, { database: this.database, precision: 'ms', method: 'POST' });
    } catch (error) {
      throw this.failure(error);
    }
    try {
      return usageFromResults(raw);
    } catch (error) {
      throw this.failure(error);
    }
  }

  private failure(error: unknown): MetricsError {
    const where = `InfluxDB ${this.endpoint} (database ${JSON.stringify(this.database)})`;
    if (error instanceof MetricsError) {
      return new MetricsError(this.scrub(`${where} ${error.message.replace(/^InfluxDB /, '')}`), error.kind);
    }
    const detail = error instanceof Error ? error.message : String(error);
    // node-influx's RequestError: "A 401 Unauthorized error occurred: {body}"; 5xx and network errors carry no status.
    const http = /^A (\d{3}) (.*?) error occurred: ([\s\S]*)$/.exec(detail);
    if (http) {
      const [, status, statusText, body] = http;
      return new MetricsError(this.scrub(`${where} answered HTTP ${status} ${statusText}: ${(body ?? '').trim().slice(0, 500)}`), 'rejected');
    }
    return new MetricsError(this.scrub(`${where} is unreachable: ${detail || 'request failed'}`), 'unreachable');
  }

  private scrub(message: string): string {
    return this.secret ? message.split(this.secret).join('***') : message;
  }
}
