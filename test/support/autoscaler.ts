import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { autoscalerBin, baseEnv } from './cli.js';
import { ensureCommand } from './debian.js';

/** A `bin/baton-autoscaler` child process started with a generated config file, talked to over HTTP. */
export interface DaemonProcess {
  url: string;
  configFile: string;
  /** Every stdout line parsed as JSON (the daemon's structured log). */
  logs(): Record<string, unknown>[];
  stdout(): string;
  stderr(): string;
  request(method: string, urlPath: string, options?: { body?: unknown; rawBody?: string; token?: string | null; headers?: Record<string, string> }): Promise<{ status: number; body: any; text: string }>;
  /** SIGTERM and wait. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait: a crash, no clean shutdown. */
  kill(): Promise<void>;
  readonly child: ChildProcess;
}

export const TEST_API_TOKEN = 'test-api-token-3f9a';

export interface DaemonConfigOptions {
  marathonUrl: string;
  influxUrl: string;
  stateFile: string;
  intervalSeconds?: number;
  overrides?: Record<string, unknown>;
}

/** A config for tests: short timings, a free port on loopback. */
export function testConfig(options: DaemonConfigOptions): Record<string, unknown> {
  return {
    marathon: { url: options.marathonUrl, timeoutSeconds: 2 },
    influx: { url: options.influxUrl, database: 'cadvisor' },
    listen: { host: '127.0.0.1', port: 0 },
    apiTokenEnv: 'BATON_AUTOSCALER_TOKEN',
    stateFile: options.stateFile,
    intervalSeconds: options.intervalSeconds ?? 0.5,
    metrics: { taskIdTag: 'MESOS_TASK_ID', windowSeconds: 60, freshnessSeconds: 30 },
    defaults: { tolerance: 0.1, scaleDownStabilizationSeconds: 3, warmupSeconds: 0 },
    health: { maxCycleAgeSeconds: 2 },
    ...options.overrides,
  };
}

export async function makeTempDir(prefix = 'baton-autoscaler-test-'): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export async function startDaemon(
  config: Record<string, unknown>,
  options: { dir: string; env?: Record<string, string | undefined>; name?: string; bin?: string; nodeArgs?: string[]; cwd?: string },
): Promise<DaemonProcess> {
  const configFile = path.join(options.dir, `${options.name ?? 'autoscaler'}.json`);
  await writeFile(configFile, JSON.stringify(config, null, 2));
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.bin ?? autoscalerBin, '--config', configFile], {
    env: { ...baseEnv(), BATON_AUTOSCALER_TOKEN: TEST_API_TOKEN, ...options.env } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  let stdout = '';
  let stderr = '';
  const lines: Record<string, unknown>[] = [];
  let partial = '';
  let resolveUrl: (url: string) => void = () => undefined;
  const urlKnown = new Promise<string>((resolve) => (resolveUrl = resolve));
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      if (!line.trim()) continue;
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        lines.push(entry);
        if (entry.msg === 'listening' && typeof entry.url === 'string') resolveUrl(entry.url);
      } catch {
        lines.push({ unparsed: line });
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const url = await Promise.race([
    urlKnown,
    exited.then((code) => {
      throw new Error(`baton-autoscaler exited with ${code} before listening:\n${stderr}\n${stdout}`);
    }),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`baton-autoscaler did not start:\n${stderr}`)), 15_000)),
  ]);

  return {
    url,
    configFile,
    child,
    logs: () => lines,
    stdout: () => stdout,
    stderr: () => stderr,
    request: async (method, urlPath, requestOptions = {}) => {
      const headers: Record<string, string> = { ...requestOptions.headers };
      const token = requestOptions.token === undefined ? TEST_API_TOKEN : requestOptions.token;
      if (token !== null) headers.Authorization = `Bearer ${token}`;
      let body: string | undefined = requestOptions.rawBody;
      if (requestOptions.body !== undefined) {
        body = JSON.stringify(requestOptions.body);
        headers['Content-Type'] = 'application/json';
      }
      const init: RequestInit = { method, headers };
      if (body !== undefined) init.body = body;
      const response = await fetch(url + urlPath, init);
      const text = await response.text();
      let parsed: unknown = undefined;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: response.status, body: parsed, text };
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Polls until `check` returns a value other than undefined/false, or fails with the last value seen. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * A reverse proxy in front of a real server (InfluxDB, the emulator) on a fixed loopback port: counts requests and can be
 * switched off (connections refused, as when the server is down) and on again on the same port.
 */
export interface SwitchableProxy {
  url: string;
  port: number;
  /** Requests seen, by `METHOD path` without query. */
  readonly requests: { method: string; path: string; query: string }[];
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startSwitchableProxy(target: string): Promise<SwitchableProxy> {
  const targetUrl = new URL(target);
  const requests: { method: string; path: string; query: string }[] = [];
  const agent = new http.Agent({ keepAlive: true });
  const sockets = new Set<import('node:net').Socket>();
  let port = 0;
  let server: http.Server | null = null;

  const open = () =>
    new Promise<void>((resolve, reject) => {
      const s = http.createServer((request, response) => {
        const url = new URL(request.url ?? '/', 'http://proxy');
        requests.push({ method: request.method ?? 'GET', path: url.pathname, query: url.search });
        const upstream = http.request(
          {
            host: targetUrl.hostname,
            port: targetUrl.port,
            method: request.method,
            path: request.url,
            headers: { ...request.headers, host: targetUrl.host },
            agent,
          },
          (upstreamResponse) => {
            response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
            upstreamResponse.pipe(response);
          },
        );
        upstream.on('error', () => {
          if (!response.headersSent) response.writeHead(502);
          response.end();
        });
        request.pipe(upstream);
      });
      s.on('connection', (socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as import('node:net').AddressInfo).port;
        server = s;
        resolve();
      });
    });
  const shut = () =>
    new Promise<void>((resolve) => {
      const s = server;
      server = null;
      if (!s) return resolve();
      s.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });

  await open();
  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    requests,
    down: shut,
    up: open,
    close: async () => {
      await shut();
      agent.destroy();
    },
  };
}

/**
 * A preload (`node --import <file>`) for the daemon under test that moves ITS wall clock, not the machine's: Date and
 * Date.now() run 120 s behind once the process gets SIGUSR2 (as after an NTP step back), and it says so on stderr.
 * performance.now() and the event loop's timers are left alone, as a real step leaves them.
 */
export async function wallClockStepPreload(dir: string): Promise<string> {
  const file = path.join(dir, 'wall-clock-step.mjs');
  await writeFile(
    file,
    `const RealDate = Date;
let offsetMs = 0;
class SteppedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + offsetMs);
    else super(...args);
  }
  static now() {
    return RealDate.now() + offsetMs;
  }
}
globalThis.Date = SteppedDate;
process.on('SIGUSR2', () => {
  offsetMs -= 120_000;
  process.stderr.write('wall clock stepped back 120 s\\n');
});
`,
  );
  return file;
}

/** Installs Debian's `prometheus` package (it ships `promtool`) when promtool is missing. */
export function ensurePromtoolInstalled(): Promise<void> {
  return ensureCommand('promtool', 'prometheus');
}

/** `promtool check metrics` on a /metrics answer: its exit code and what it printed (problems, one a line). */
export async function promtoolCheckMetrics(text: string): Promise<{ code: number | null; output: string }> {
  await ensurePromtoolInstalled();
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}

