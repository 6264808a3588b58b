import type { UsagePoint } from '../forecast/forecast.js';
import { readHistory, type HistoryStatement } from '../forecast/history-query.js';
import type { TaskUsage } from '../policy/types.js';
import { chunkedQuery, QueryTransportError } from './chunked-query.js';
import { MetricsError } from './errors.js';
import { buildUsageQueries, type UsageQueryOptions } from './queries.js';
import { finishUsage, newUsageReader, readUsageChunk } from './results.js';

export interface InfluxSettings {
  url: string;
  database: string;
  username?: string;
  password?: string;
  /** Per request; default 10 s. A cycle that cannot read metrics in time holds instead of waiting. */
  requestTimeoutMs?: number;
  /** Rows per chunk of the answer (what is in memory at once); default 10,000, InfluxDB's own default. */
  chunkSize?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const DEFAULT_CHUNK_SIZE = 10_000;

/**
 * Reads every managed task's usage from InfluxDB 1.x (cAdvisor's measurements) in exactly one HTTP request, read chunk
 * by chunk: node-influx buffers a whole answer (and InfluxDB 1.6 marks every series above 10,000 rows of a non-chunked
 * answer partial), so the usage query is a direct streamed request.
 */
export class InfluxMetricsSource {
  private readonly database: string;
  private readonly username: string | undefined;
  private readonly timeoutMs: number;
  private readonly chunkSize: number;
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
    this.username = username;
    this.timeoutMs = settings.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.chunkSize = settings.chunkSize ?? DEFAULT_CHUNK_SIZE;
  }

  /** Exactly ONE HTTP request to InfluxDB for all apps' tasks. Throws MetricsError on failure (and when aborted). */
  async fetchUsage(options: UsageQueryOptions, signal?: AbortSignal): Promise<Record<string, TaskUsage>> {
    const statements = buildUsageQueries(options);
    const reader = newUsageReader(true);
    try {
      await this.query(statements, (chunk) => readUsageChunk(reader, chunk), signal);
      return finishUsage(reader);
    } catch (error) {
      throw this.failure(error);
    }
  }

  /**
   * One HTTP request for the usage history of the predictive apps (autoscaler/forecast): the statements of
   * `buildHistoryQueries`, answered by app. Throws MetricsError on failure, or when InfluxDB refused a statement.
   */
  async fetchHistory(statements: HistoryStatement[], signal?: AbortSignal): Promise<Map<string, UsagePoint[]>> {
    const chunks = await this.fetchChunks(statements.map((s) => s.statement), signal);
    const { history, errors } = readHistory(statements, chunks);
    if (errors.length > 0) throw this.failure(new MetricsError(`InfluxDB rejected the history query: ${errors.join('; ')}`, 'rejected'));
    return history;
  }

  /**
   * One request for `statements`, every chunk of the answer kept (for answers bounded by the caller, like a backtest's
   * recording). Throws MetricsError on failure; statement errors stay in the chunks for the caller to read.
   */
  async fetchChunks(statements: string[], signal?: AbortSignal): Promise<unknown[]> {
    const chunks: unknown[] = [];
    try {
      await this.query(statements, (chunk) => chunks.push(chunk), signal);
    } catch (error) {
      throw this.failure(error);
    }
    return chunks;
  }

  /** One streamed request for `statements`; credentials in a header. */
  private query(statements: string[], onChunk: (chunk: unknown) => void, signal: AbortSignal | undefined): Promise<void> {
    return chunkedQuery(
      {
        endpoint: this.endpoint,
        database: this.database,
        statements,
        chunkSize: this.chunkSize,
        ...(this.username !== undefined ? { username: this.username, password: this.secret ?? '' } : {}),
        timeoutMs: this.timeoutMs,
        ...(signal ? { signal } : {}),
      },
      onChunk,
    );
  }

  failure(error: unknown): MetricsError {
    const where = `InfluxDB ${this.endpoint} (database ${JSON.stringify(this.database)})`;
    if (error instanceof MetricsError) {
      return new MetricsError(this.scrub(`${where} ${error.message.replace(/^InfluxDB /, '')}`), error.kind);
    }
    if (error instanceof QueryTransportError && error.status !== undefined) {
      // 4xx: InfluxDB refused the request (credentials, syntax), with its reason; 5xx: it is not serving.
      if (error.status >= 500) return new MetricsError(this.scrub(`${where} is unreachable: ${error.statusText || `HTTP ${error.status}`}`), 'unreachable');
      return new MetricsError(this.scrub(`${where} answered HTTP ${error.status} ${error.statusText}: ${error.body.trim().slice(0, 500)}`), 'rejected');
    }
    if (error instanceof SyntaxError) {
      return new MetricsError(this.scrub(`${where} answered something that is not query results: ${error.message}`), 'invalid-response');
    }
    const detail = error instanceof Error ? error.message : String(error);
    const code = (error as { code?: unknown } | null)?.code;
    const cause = typeof code === 'string' && !detail.includes(code) ? `${code} ${detail}` : detail;
    return new MetricsError(this.scrub(`${where} is unreachable: ${cause || 'request failed'}`), 'unreachable');
  }

  private scrub(message: string): string {
    return this.secret ? message.split(this.secret).join('***') : message;
  }
}
