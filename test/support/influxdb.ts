import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureCommand } from './debian.js';
import { freePort } from './free-port.js';
import { superviseShell, supervisorScript, type Supervised } from './supervised.js';

/** A throwaway InfluxDB 1.x (Debian's `influxd`) on loopback ports, with all its files in a temp dir. */
export interface InfluxDbServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Creates `db` when needed, then writes line protocol (nanosecond timestamps) in chunks the server accepts. */
  writePoints(lines: string, db: string): Promise<void>;
}

const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;
const LINES_PER_WRITE = 20_000;

export interface InfluxDbOptions {
  /** Turns authentication on, with this admin user (created at start; writePoints then sends it). */
  admin?: { username: string; password: string };
}

export async function startInfluxDb(options: InfluxDbOptions = {}): Promise<InfluxDbServer> {
  await ensureInfluxdInstalled();
  // A free port can be taken by someone else between probing and binding: retry with fresh ports.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await launch(options);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function launch(options: InfluxDbOptions): Promise<InfluxDbServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'baton-influxdb-'));
  const [httpPort, rpcPort] = [await freePort(), await freePort()];
  const configPath = path.join(dir, 'influxdb.conf');
  await writeFile(configPath, influxConfig(dir, httpPort, rpcPort, options.admin !== undefined));

  // influxd runs under a small shell that also watches this Node process: when a runner ends without calling stop()
  // (a crash, a killed worker, a bench runner without hooks), influxd is stopped and its temp dir removed anyway.
  const server = superviseShell(supervisorScript('influxd.pid'), 'influxd-supervisor', [dir, String(process.pid), 'influxd', 'run', '-config', configPath]);
  const url = `http://127.0.0.1:${httpPort}`;
  const stop = async () => {
    await server.stop(STOP_TIMEOUT_MS, async () => {
      const influxdPid = Number(await readFile(path.join(dir, 'influxd.pid'), 'utf8').catch(() => ''));
      if (influxdPid > 0) process.kill(influxdPid, 'SIGKILL');
    });
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await waitUntilReady(url, server);
    // With auth on, the first user may be created without credentials: the admin.
    if (options.admin) {
      const { username, password } = options.admin;
      const q = `CREATE USER ${quoteIdentifier(username)} WITH PASSWORD '${password.replace(/[\\']/g, (c) => `\\${c}`)}' WITH ALL PRIVILEGES`;
      await influxPost(`${url}/query`, new URLSearchParams({ q }).toString(), 'application/x-www-form-urlencoded');
    }
  } catch (error) {
    await stop();
    throw error;
  }

  const databases = new Set<string>();
  return {
    url,
    port: httpPort,
    stop,
    async writePoints(lines: string, db: string) {
      if (!databases.has(db)) {
        await influxPost(`${url}/query`, new URLSearchParams({ q: `CREATE DATABASE ${quoteIdentifier(db)}` }).toString(), 'application/x-www-form-urlencoded', options.admin);
        databases.add(db);
      }
      const all = lines.split('\n').filter((line) => line.length > 0);
      for (let start = 0; start < all.length; start += LINES_PER_WRITE) {
        const body = all.slice(start, start + LINES_PER_WRITE).join('\n');
        await influxPost(`${url}/write?${new URLSearchParams({ db })}`, body, 'text/plain', options.admin);
      }
    },
  };
}

function influxConfig(dir: string, httpPort: number, rpcPort: number, authEnabled: boolean): string {
  // [ifql] would otherwise bind 8082 on all interfaces; reporting would phone home.
  return `reporting-enabled = false
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${path.join(dir, 'meta')}"
[data]
  dir = "${path.join(dir, 'data')}"
  wal-dir = "${path.join(dir, 'wal')}"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:${httpPort}"
  log-enabled = false
  auth-enabled = ${authEnabled}
[ifql]
  enabled = false
[monitor]
  store-enabled = false
[logging]
  level = "warn"
`;
}

async function waitUntilReady(url: string, server: Supervised): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (server.hasExited()) {
      throw new Error(`influxd exited before it was ready (code ${server.child.exitCode}, signal ${server.child.signalCode}):\n${server.output()}`);
    }
    try {
      const response = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
      if (response.status === 204) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`influxd did not answer ${url}/ping within ${READY_TIMEOUT_MS} ms:\n${server.output()}`);
}

async function influxPost(url: string, body: string, contentType: string, auth?: { username: string; password: string }): Promise<void> {
  const headers: Record<string, string> = { 'content-type': contentType };
  if (auth) headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  const response = await fetch(url, { method: 'POST', body, headers });
  const text = await response.text();
  if (!response.ok || text.includes('"error"')) {
    throw new Error(`InfluxDB ${url.split('?')[0]} answered ${response.status}: ${text.slice(0, 500)}`);
  }
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Installs Debian's `influxdb` package when `influxd` is missing. */
export function ensureInfluxdInstalled(): Promise<void> {
  return ensureCommand('influxd', 'influxdb');
}

export interface CadvisorSeries {
  taskId: string;
  containerName: string;
  machine: string;
  /** Constant CPU rate of the container, in cores. */
  cpuCoresUsed: number;
  memoryBytes: number;
  /** Epoch ms of the first and last sample (inclusive). */
  from: number;
  to: number;
  stepSeconds: number;
  /** Tag key that carries the task id (cAdvisor writes Docker labels as tags: MESOS_TASK_ID by default). */
  taskIdTag?: string;
}

/**
 * Line protocol shaped like cAdvisor's InfluxDB driver: `cpu_usage_total` (cumulative CPU nanoseconds) and
 * `memory_working_set` (bytes), one integer field `value`, tags machine, container_name and the task id label.
 */
export function cadvisorLines(series: CadvisorSeries): string {
  const tags = [
    `container_name=${lineProtocolTag(series.containerName)}`,
    `machine=${lineProtocolTag(series.machine)}`,
    `${lineProtocolTag(series.taskIdTag ?? 'MESOS_TASK_ID')}=${lineProtocolTag(series.taskId)}`,
  ].join(',');
  const lines: string[] = [];
  const stepMs = series.stepSeconds * 1000;
  for (let at = series.from; at <= series.to; at += stepMs) {
    const cpuNanoseconds = Math.round(series.cpuCoresUsed * ((at - series.from) / 1000) * 1e9);
    const timestamp = `${Math.round(at)}000000`;
    lines.push(`cpu_usage_total,${tags} value=${cpuNanoseconds}i ${timestamp}`);
    lines.push(`memory_working_set,${tags} value=${Math.round(series.memoryBytes)}i ${timestamp}`);
  }
  return lines.join('\n') + '\n';
}

/** Escapes a tag key or value for line protocol; rejects what line protocol cannot carry. */
export function lineProtocolTag(value: string): string {
  // InfluxDB 1.x keeps other backslashes literally, but one before a separator (or at the end) would escape it.
  if (value.length === 0 || value.includes('\n') || /\\([,= ]|$)/.test(value)) {
    throw new Error(`line protocol cannot carry the tag ${JSON.stringify(value)} (empty, a newline, or a backslash before , = space or the end)`);
  }
  return value.replace(/[,= ]/g, (c) => `\\${c}`);
}
