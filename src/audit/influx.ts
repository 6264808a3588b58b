import axios, { type AxiosRequestConfig } from 'axios';
import type { AuditSinkConfig } from '../config/environments.js';
import { parseAuditRecord, type AuditRecord } from './log.js';

// The shared audit trail in InfluxDB 1.x: every record is also written there (in the background, never holding up or
// failing a run), and history/rollback read it back, so any machine sees who deployed what.
//
// Direct HTTP with axios (/write line protocol, /query) rather than node-influx: each request needs its own timeout and an
// abort at the exit deadline, and every error must be rebuilt without the URL, headers or auth that axios errors carry.

/** The measurement records go to: tags app, env, dc, outcome, command, user; fields record (the JSON), text, exitCode. */
export const AUDIT_MEASUREMENT = 'baton_audit';

const REQUEST_TIMEOUT_MS = 1500;
const RETRY_DELAYS_MS = [150, 400];
/** How long the process waits at its end for records still queued. */
export const FLUSH_DEADLINE_MS = 3000;
const READ_TIMEOUT_MS = 4000;

interface Endpoint {
  base: string;
  database: string;
  /** For messages: `InfluxDB <url> (database "<db>")`, never a credential. */
  label: string;
  auth?: { username: string; password: string };
  /** Why no request can be sent (an unset or malformed credential variable). */
  unusable?: string;
}

function endpointOf(config: AuditSinkConfig, env: NodeJS.ProcessEnv): Endpoint {
  const { url, database, credentialsEnv } = config.influx;
  const label = `InfluxDB ${url} (database ${JSON.stringify(database)})`;
  const endpoint: Endpoint = { base: url, database, label };
  if (credentialsEnv === undefined) return endpoint;
  const value = env[credentialsEnv];
  if (!value) return { ...endpoint, unusable: `${credentialsEnv} (audit.influx.credentialsEnv) is unset` };
  const colon = value.indexOf(':');
  if (colon < 1) return { ...endpoint, unusable: `${credentialsEnv} (audit.influx.credentialsEnv) does not hold "user:password"` };
  return { ...endpoint, auth: { username: value.slice(0, colon), password: value.slice(colon + 1) } };
}

/** What went wrong, rebuilt from the error's code or InfluxDB's answer: never its URL, headers or credentials. */
function failureOf(error: unknown, endpoint: Endpoint): string {
  let text: string;
  if (axios.isAxiosError(error)) {
    const status = error.response?.status;
    const said = (error.response?.data as { error?: unknown } | undefined)?.error;
    text = status !== undefined ? `HTTP ${status}${typeof said === 'string' ? `: ${said}` : ''}` : (error.code ?? 'no answer');
    if (error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT') text = `no answer within ${REQUEST_TIMEOUT_MS} ms`;
    if (error.code === 'ERR_CANCELED') text = 'gave up at the exit deadline';
  } else if (error instanceof InfluxAnswerError) {
    text = error.message;
  } else {
    text = 'unexpected error';
  }
  return scrub(text, endpoint);
}

class InfluxAnswerError extends Error {}

function scrub(text: string, endpoint: Endpoint): string {
  if (!endpoint.auth) return text;
  const { username, password } = endpoint.auth;
  const secrets = [`${username}:${password}`, Buffer.from(`${username}:${password}`).toString('base64'), password].filter((s) => s.length >= 3);
  return secrets.reduce((t, secret) => t.split(secret).join('***'), text);
}

function requestConfig(endpoint: Endpoint, params: Record<string, string>, timeout: number, signal?: AbortSignal): AxiosRequestConfig {
  return {
    params,
    timeout,
    ...(signal ? { signal } : {}),
    ...(endpoint.auth ? { auth: endpoint.auth } : {}),
    // A proxy from the environment is not the InfluxDB configured here.
    proxy: false,
    maxRedirects: 0,
  };
}

/** --debug (BATON_DEBUG): one stderr line per request to InfluxDB: method, URL without credentials or query text, status, time. */
async function traced<T extends { status: number }>(method: string, url: string, params: Record<string, string>, send: () => Promise<T>): Promise<T> {
  if (!process.env.BATON_DEBUG) return send();
  const shown = new URLSearchParams(Object.entries(params).filter(([key]) => key !== 'q' && key !== 'u' && key !== 'p'));
  const where = `${method} ${url}${shown.size > 0 ? `?${shown}` : ''}`;
  const started = Date.now();
  const say = (what: string) => process.stderr.write(`baton: debug: audit trail: ${where} → ${what} (${Date.now() - started} ms)\n`);
  try {
    const response = await send();
    say(String(response.status));
    return response;
  } catch (error) {
    say(axios.isAxiosError(error) ? String(error.response?.status ?? error.code ?? 'failed') : 'failed');
    throw error;
  }
}

// ---- line protocol ----------------------------------------------------------------------------------------------------

function tagValue(value: string): string {
  // Tag values cannot end in a backslash or hold a newline; separators are escaped.
  return value.replace(/[\r\n]+/g, ' ').replace(/\\+$/, '').replace(/[,= ]/g, (c) => `\\${c}`);
}

function stringField(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** One line for Grafana's annotation list: what, where, how it ended, who. */
export function annotationText(record: AuditRecord): string {
  const versions = record.toVersion !== undefined ? ` ${record.fromVersion ?? '?'} → ${record.toVersion}` : '';
  const where = record.dc ?? record.datacenters?.join(',') ?? 'all';
  const code = record.exitCode !== undefined ? ` (exit ${record.exitCode})` : '';
  const message = record.message ? `: ${record.message.split('\n')[0]!.slice(0, 200)}` : '';
  return `${record.command} ${record.app}${versions} in ${record.env}/${where}: ${record.outcome}${code} by ${record.user}${message}`;
}

/** The record as one point: the same record twice is the same point (same series, same millisecond). */
export function auditLine(record: AuditRecord): string {
  const tags: [string, string | undefined][] = [
    ['app', record.app],
    ['command', record.command],
    ['dc', record.dc],
    ['env', record.env],
    ['outcome', record.outcome],
    ['user', record.user],
  ];
  const tagText = tags
    .map(([key, value]) => [key, value === undefined ? '' : tagValue(value)] as const)
    .filter(([, value]) => value !== '')
    .map(([key, value]) => `,${key}=${value}`)
    .join('');
  const fields = [`record=${stringField(JSON.stringify(record))}`, `text=${stringField(annotationText(record).replace(/[\r\n]+/g, ' '))}`];
  if (record.exitCode !== undefined) fields.push(`exitCode=${record.exitCode}i`);
  const time = Date.parse(record.time);
  return `${AUDIT_MEASUREMENT}${tagText} ${fields.join(',')}${Number.isFinite(time) ? ` ${time}` : ''}`;
}

// ---- writing ----------------------------------------------------------------------------------------------------------

export interface SinkMiss {
  /** `InfluxDB <url> (database "<db>")`. */
  sink: string;
  reason: string;
  records: AuditRecord[];
}

/** Records queued for one InfluxDB; sent in the background as they come, the rest at the end of the process. */
export class InfluxAuditSink {
  private readonly endpoint: Endpoint;
  private readonly queue: AuditRecord[] = [];
  private sending: Promise<void> | undefined;
  private lastFailure: string | undefined;
  private closed = false;
  private databaseCreated = false;
  private readonly controller = new AbortController();

  constructor(
    config: AuditSinkConfig,
    private readonly onMissed: (miss: SinkMiss) => void,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.endpoint = endpointOf(config, env);
    openSinks.add(this);
  }

  enqueue(record: AuditRecord): void {
    if (this.closed) return;
    this.queue.push(record);
    this.pump();
  }

  /** Waits (at most until `deadline`, epoch ms) for what is queued; what is not in InfluxDB by then is reported missed. */
  async flush(deadline: number): Promise<void> {
    openSinks.delete(this);
    if (this.sending) await this.until(this.sending, deadline);
    // One more round for what an earlier round could not send (it may have been a moment's outage).
    if (this.queue.length > 0 && !this.endpoint.unusable && Date.now() < deadline) {
      this.pump();
      if (this.sending) await this.until(this.sending, deadline);
    }
    this.closed = true;
    this.controller.abort();
    if (this.queue.length === 0) return;
    const records = this.queue.splice(0);
    const reason = this.endpoint.unusable ?? this.lastFailure ?? 'no answer before the exit deadline';
    this.onMissed({ sink: this.endpoint.label, reason, records });
  }

  private async until(work: Promise<void>, deadline: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))))]);
    clearTimeout(timer);
  }

  private pump(): void {
    if (this.sending || this.closed || this.endpoint.unusable) return;
    this.sending = (async () => {
      while (this.queue.length > 0 && !this.closed) {
        const batch = this.queue.slice();
        if (!(await this.sendWithRetries(batch))) return;
        this.queue.splice(0, batch.length);
        this.lastFailure = undefined;
      }
    })().finally(() => (this.sending = undefined));
  }

  private async sendWithRetries(batch: AuditRecord[]): Promise<boolean> {
    const body = batch.map(auditLine).join('\n');
    for (let attempt = 0; ; attempt++) {
      try {
        await this.write(body);
        return true;
      } catch (error) {
        this.lastFailure = failureOf(error, this.endpoint);
        const status = axios.isAxiosError(error) ? error.response?.status : undefined;
        if (status === 404 && !this.databaseCreated && /database not found/.test(this.lastFailure)) {
          // A new database: created once (needs the right in InfluxDB; refused, the write fails as before).
          this.databaseCreated = true;
          if (await this.createDatabase()) continue;
        }
        const retryable = status === undefined || status >= 500 || status === 429;
        if (!retryable || attempt >= RETRY_DELAYS_MS.length || this.closed) return false;
        await this.pause(RETRY_DELAYS_MS[attempt]!);
      }
    }
  }

  private async write(body: string): Promise<void> {
    const { base, database } = this.endpoint;
    const params = { db: database, precision: 'ms' };
    await traced('POST', `${base}/write`, params, () =>
      axios.post(`${base}/write`, body, {
        ...requestConfig(this.endpoint, params, REQUEST_TIMEOUT_MS, this.controller.signal),
        headers: { 'content-type': 'text/plain; charset=utf-8' },
      }),
    );
  }

  private async createDatabase(): Promise<boolean> {
    try {
      const q = `CREATE DATABASE ${quoteIdentifier(this.endpoint.database)}`;
      const response = await axios.post(`${this.endpoint.base}/query`, new URLSearchParams({ q }).toString(), {
        ...requestConfig(this.endpoint, {}, REQUEST_TIMEOUT_MS, this.controller.signal),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      return statementError(response.data) === undefined;
    } catch {
      return false;
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.controller.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

const openSinks = new Set<InfluxAuditSink>();

/** At the end of the process: every sink sends what it still holds, all within one deadline (FLUSH_DEADLINE_MS). */
export async function flushAuditSinks(deadlineMs: number = FLUSH_DEADLINE_MS): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  await Promise.all([...openSinks].map((sink) => sink.flush(deadline)));
}

// ---- reading ----------------------------------------------------------------------------------------------------------

function quoteIdentifier(name: string): string {
  return `"${name.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function quoteString(value: string): string {
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

function statementError(data: unknown): string | undefined {
  const body = data as { error?: unknown; results?: { error?: unknown }[] } | undefined;
  if (typeof body?.error === 'string') return body.error;
  const failed = body?.results?.find((r) => typeof r.error === 'string');
  return failed ? String(failed.error) : undefined;
}

/** The records of one app in one environment that InfluxDB holds; throws an Error whose message is safe to print. */
export async function readInfluxAuditRecords(config: AuditSinkConfig, where: { app: string; env: string }, env: NodeJS.ProcessEnv = process.env): Promise<AuditRecord[]> {
  const endpoint = endpointOf(config, env);
  if (endpoint.unusable) throw new Error(endpoint.unusable);
  const q = `SELECT "record" FROM ${quoteIdentifier(AUDIT_MEASUREMENT)} WHERE "app" = ${quoteString(where.app)} AND "env" = ${quoteString(where.env)}`;
  let data: unknown;
  try {
    const params = { db: endpoint.database, q, epoch: 'ms' };
    const response = await traced('GET', `${endpoint.base}/query`, params, () => axios.get(`${endpoint.base}/query`, requestConfig(endpoint, params, READ_TIMEOUT_MS)));
    data = response.data;
    const error = statementError(data);
    if (error !== undefined) throw new InfluxAnswerError(error);
  } catch (error) {
    throw new Error(failureOf(error, endpoint));
  }
  const records: AuditRecord[] = [];
  const results = (data as { results?: { series?: { columns?: string[]; values?: unknown[][] }[] }[] }).results ?? [];
  for (const series of results.flatMap((r) => r.series ?? [])) {
    const column = series.columns?.indexOf('record') ?? -1;
    if (column < 0) continue;
    for (const row of series.values ?? []) {
      const record = typeof row[column] === 'string' ? parseAuditRecord(row[column]) : undefined;
      if (record) records.push(record);
    }
  }
  return records;
}

/** Whom the sink is, for warnings: `InfluxDB <url> (database "<db>")`. */
export function sinkLabel(config: AuditSinkConfig): string {
  return endpointOf(config, {}).label;
}
