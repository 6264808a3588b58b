// The Marathon emulator as a vitest fixture: started before the tests of a file (or of each test), closed after.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/emulator/index.js';
import { MarathonClient, type MarathonAuth } from '../../src/marathon/client.js';
import { baseEnv, batonBin, repoRoot } from './cli.js';

export { startEmulator, type EmulatorOptions, type RunningEmulator };

/** Tens of milliseconds per transition: a full rollout takes well under a second. */
export const fastTimings = { stagingMs: 20, healthyMs: 30, crashMs: 30, killMs: 10, backoffMs: 40 };

/** A Docker web app with a bridge port mapping and a health check; the image tag picks the emulated behaviour. */
export function dockerApp(id: string, image = 'shop/web:1.0.0', extra: Record<string, unknown> = {}): Record<string, unknown> & { id: string } {
  return {
    id,
    instances: 2,
    cpus: 0.25,
    mem: 128,
    container: { type: 'DOCKER', docker: { image }, portMappings: [{ containerPort: 8080, hostPort: 0, name: 'http' }] },
    networks: [{ mode: 'container/bridge' }],
    healthChecks: [{ protocol: 'MESOS_HTTP', path: '/health', portIndex: 0 }],
    env: { LOG_LEVEL: 'info' },
    ...extra,
  };
}

/** One HTTP request to the emulator with plain fetch: status, headers and the body parsed as JSON when it is JSON. */
export async function callEmulator(url: string, method: string, route: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}${route}`, {
    method,
    redirect: 'manual',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: response.status, headers: response.headers, body: json as Record<string, unknown> };
}

export interface LoggedRequest {
  time: string;
  method: string;
  path: string;
  query: string;
  status: number | null;
}

/** The Marathon API requests the emulator received (its own /_emulator control routes left out). */
export async function marathonRequests(url: string): Promise<LoggedRequest[]> {
  const body = (await (await fetch(`${url}/_emulator/requests`)).json()) as { requests: LoggedRequest[] };
  return body.requests.filter((r) => !r.path.startsWith('/_emulator'));
}

/** The requests that could have changed something (anything but GET). */
export async function marathonWrites(url: string): Promise<LoggedRequest[]> {
  return (await marathonRequests(url)).filter((r) => r.method !== 'GET');
}

export interface LoggedEvent {
  emittedAt: number;
  eventType: string;
  data: Record<string, unknown>;
}

export interface EmulatorFixture {
  /** The running emulator; only valid inside tests (after the before hook ran). */
  readonly emulator: RunningEmulator;
  readonly url: string;
  client(auth?: MarathonAuth): MarathonClient;
  /** GET /_emulator/requests: what the emulator received (control routes excluded). */
  requests(): Promise<LoggedRequest[]>;
  /** GET /_emulator/events: every event emitted so far, with its emission time. */
  events(): Promise<LoggedEvent[]>;
  /** POST /_emulator/<route>, e.g. control('reset'), control('events/drop'). */
  control(route: string): Promise<unknown>;
}

/** Starts an emulator before all tests of the calling file (`per: 'test'`: before each test) and closes it after. */
export function withEmulator(options: EmulatorOptions = {}, lifetime: { per: 'file' | 'test' } = { per: 'file' }): EmulatorFixture {
  let running: RunningEmulator | undefined;
  const start = async () => {
    running = await startEmulator({ timings: fastTimings, ...options });
  };
  const stop = async () => {
    await running?.close();
    running = undefined;
  };
  if (lifetime.per === 'file') {
    beforeAll(start);
    afterAll(stop);
  } else {
    beforeEach(start);
    afterEach(stop);
  }
  const current = (): RunningEmulator => {
    if (!running) throw new Error('the emulator fixture is used outside a test');
    return running;
  };
  const getJson = async (route: string, method = 'GET'): Promise<unknown> => {
    const response = await fetch(`${current().url}/_emulator/${route}`, { method });
    if (!response.ok) throw new Error(`${method} /_emulator/${route} answered ${response.status}`);
    return response.json();
  };
  return {
    get emulator() {
      return current();
    },
    get url() {
      return current().url;
    },
    client: (auth) => new MarathonClient({ url: current().url, auth, readRetries: 0 }),
    requests: async () => ((await getJson('requests')) as { requests: LoggedRequest[] }).requests,
    events: async () => ((await getJson('events')) as { events: LoggedEvent[] }).events,
    control: (route) => getJson(route, 'POST'),
  };
}

export interface EmulatorProcess {
  child: ChildProcessWithoutNullStreams;
  /** From the first line `baton emulator --json` prints. */
  url: string;
  output(): { stdout: string; stderr: string };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `bin/baton emulator --json <args>` as a process and resolves once it printed its URL. */
export function startEmulatorProcess(args: string[] = [], env: Record<string, string> = {}, timeoutMs = 15_000): Promise<EmulatorProcess> {
  const child = spawn(process.execPath, [batonBin, 'emulator', '--json', ...args], {
    cwd: repoRoot,
    env: { ...baseEnv(), ...env } as NodeJS.ProcessEnv,
  });
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`baton emulator printed no URL within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => {
      stdout += d;
      const line = stdout.split('\n')[0] ?? '';
      if (!stdout.includes('\n')) return;
      clearTimeout(timer);
      try {
        resolve({ child, url: (JSON.parse(line) as { url: string }).url, output: () => ({ stdout, stderr }), exited });
      } catch {
        reject(new Error(`baton emulator printed ${line}`));
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`baton emulator exited with ${code} before printing its URL:\n${stderr}`));
    });
  });
}

/** The test service (test/support/test-service.mjs) that real task processes run: answers its version, fails by it. */
export const testServicePath = path.join(repoRoot, 'test/support/test-service.mjs');
/** A shell command line running the test service with this Node (for an app's `cmd` or `imageCommand`). */
export const testServiceCommand = `'${process.execPath}' '${testServicePath}'`;

/**
 * An emulator whose tasks are real processes on 127.0.0.1 (`tasks: 'processes'`); Docker apps run the test service
 * unless `imageCommand` says otherwise. `stop()` closes it and waits until every task process is gone.
 */
export async function startProcessEmulator(options: EmulatorOptions = {}): Promise<{ url: string; emulator: RunningEmulator; stop(): Promise<void> }> {
  const emulator = await startEmulator({ imageCommand: testServiceCommand, ...options, tasks: 'processes' });
  return { url: emulator.url, emulator, stop: () => emulator.close() };
}
