import http from 'node:http';
import https from 'node:https';
import axios, { AxiosError, type AxiosInstance } from 'axios';
import type { TaskUsage } from '../policy/types.js';
import { MetricsError } from './errors.js';
import { buildUsageQueries, type UsageQueryOptions } from './queries.js';
import { ChunkedUsageReader } from './results.js';

export interface InfluxSettings {
  url: string;
  database: string;
  username?: string;
  password?: string;
  /** Per request; default 10 s. A cycle that cannot read metrics in time holds instead of waiting. */
  requestTimeoutMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** Rows per chunk of InfluxDB's answer: each chunk is parsed and dropped on its own, small enough to die young. */
const CHUNK_ROWS = 2_000;
const NEWLINE = 0x0a;

/**
 * Reads every managed task's usage from InfluxDB 1.x (cAdvisor's measurements) in exactly one HTTP request.
 * The query runs with `chunked=true`: InfluxDB streams its answer as one JSON document per chunk of rows, each read
 * as it arrives (ChunkedUsageReader). node-influx, which the project otherwise uses for InfluxDB, only returns whole
 * answers (15,000 rows for 5,000 tasks as one string and one parse), so this one request goes through axios.
 */
export class InfluxMetricsSource {
  private readonly http: AxiosInstance;
  private readonly database: string;
  private readonly secret: string | undefined;
  private readonly timeoutMs: number;
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
    this.timeoutMs = settings.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.http = axios.create({
      baseURL: this.endpoint,
      timeout: this.timeoutMs,
      httpAgent: new http.Agent({ keepAlive: true }),
      httpsAgent: new https.Agent({ keepAlive: true }),
      // Basic auth rather than u/p query parameters: the password stays out of URLs (and proxies' logs).
      ...(username !== undefined ? { auth: { username, password: password ?? '' } } : {}),
      // Status handling is ours; one try per cycle (the next cycle is the retry), no redirects.
      validateStatus: () => true,
      maxRedirects: 0,
      responseType: 'stream',
    });
  }

  /** Exactly ONE HTTP request to InfluxDB for all apps' tasks. Throws MetricsError on failure. */
  async fetchUsage(options: UsageQueryOptions): Promise<Record<string, TaskUsage>> {
    const body = new URLSearchParams({
      q: buildUsageQueries(options).join(';'),
      db: this.database,
      epoch: 'ms',
      chunked: 'true',
      chunk_size: String(CHUNK_ROWS),
    });
    const reader = new ChunkedUsageReader();
    // The whole exchange (answer included) has one deadline: a server that trickles must not stall the cycle.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.timeoutMs);
    try {
      const response = await this.http.post<AsyncIterable<Buffer>>('/query', body.toString(), {
        // Uncompressed: InfluxDB gzips when asked (axios asks by default), and inflating costs the daemon more CPU than
        // the few megabytes save inside a datacenter.
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json', 'Accept-Encoding': 'identity' },
        signal: deadline.signal,
      });
      if (response.status >= 500) throw new MetricsError(`is unreachable: ${response.statusText || `HTTP ${response.status}`}`, 'unreachable');
      if (response.status !== 200) {
        const text = (await readText(response.data, 4_096)).trim().slice(0, 500);
        throw new MetricsError(`answered HTTP ${response.status} ${response.statusText}: ${text}`, 'rejected');
      }
      await readDocuments(response.data, (document) => reader.add(document));
      return reader.finish();
    } catch (error) {
      throw this.failure(error, deadline.signal.aborted);
    } finally {
      clearTimeout(timer);
    }
  }

  private failure(error: unknown, timedOut: boolean): MetricsError {
    const where = `InfluxDB ${this.endpoint} (database ${JSON.stringify(this.database)})`;
    if (error instanceof MetricsError) {
      return new MetricsError(this.scrub(`${where} ${error.message.replace(/^InfluxDB /, '')}`), error.kind);
    }
    if (timedOut || (error instanceof AxiosError && error.code === 'ECONNABORTED')) {
      return new MetricsError(this.scrub(`${where} is unreachable: timed out after ${this.timeoutMs} ms`), 'unreachable');
    }
    const detail = error instanceof Error ? error.message : String(error);
    return new MetricsError(this.scrub(`${where} is unreachable: ${detail || 'request failed'}`), 'unreachable');
  }

  private scrub(message: string): string {
    return this.secret ? message.split(this.secret).join('***') : message;
  }
}

/** Calls `onDocument` with each newline-separated JSON document of the stream (InfluxDB ends each chunk with one). */
async function readDocuments(stream: AsyncIterable<Buffer>, onDocument: (document: unknown) => void): Promise<void> {
  let pending: Buffer[] = [];
  const parse = (bytes: Buffer) => {
    const text = bytes.toString('utf8').trim();
    if (text === '') return;
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      throw new MetricsError('InfluxDB answered something that is not JSON query results', 'invalid-response');
    }
    onDocument(document);
  };
  for await (const chunk of stream) {
    let from = 0;
    for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, from)) {
      const piece = chunk.subarray(from, end);
      parse(pending.length > 0 ? Buffer.concat([...pending, piece]) : piece);
      pending = [];
      from = end + 1;
    }
    if (from < chunk.length) pending.push(chunk.subarray(from));
  }
  if (pending.length > 0) parse(Buffer.concat(pending));
}

async function readText(stream: AsyncIterable<Buffer>, limit: number): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    parts.push(chunk);
    size += chunk.length;
    if (size >= limit) break;
  }
  return Buffer.concat(parts).toString('utf8');
}
