// In-memory Marathon 1.10 emulator. Public API (others code against it): startEmulator and its option types.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from './clock.js';
import { canonicalAppId, isJsonObject, type JsonObject } from './definition.js';
import { EventHub } from './events.js';
import { createRequestHandler, type RequestLogEntry } from './http.js';
import { MarathonModel, type EmulatorTimings } from './model.js';
import { processRunner } from './tasks/process-runner.js';

export type { EmulatorTimings } from './model.js';
export type { Clock } from './clock.js';

export interface EmulatorOptions {
  host?: string;
  port?: number;
  credentials?: { username: string; password: string };
  token?: string;
  timings?: Partial<EmulatorTimings>;
  apps?: Record<string, unknown>[];
  /** Interval of the SSE heartbeat (a bare CRLF) on each /v2/events stream (default 10000 ms, as Jetty's EventSourceServlet). */
  keepAliveMs?: number;
  /** Time source of the simulation (default: the system clock). */
  clock?: Clock;
  /**
   * The leader's URL (e.g. "http://10.0.0.1:8080"): this emulator is then a non-leader, as Marathon's LeaderProxyFilter
   * makes it: /v2/events* answers 302 to the leader (same path and query), every other request (but /_emulator/*)
   * is proxied to the leader, whose answer carries its own X-Marathon-Leader.
   */
  leader?: string;
  /**
   * 'simulated' (default): tasks are records on the clock, failure injection by label or image tag.
   * 'processes': each task is a real process on 127.0.0.1 (its `cmd`, `args`, or `imageCommand` for Docker apps) with
   * free host ports and Marathon's environment; health checks probe it, kills signal it (see README "Real processes").
   */
  tasks?: 'simulated' | 'processes';
  /** In 'processes' mode: the command (run by `sh -c`, app `args` appended) that stands in for `docker run <image>`. */
  imageCommand?: string;
}

export interface RunningEmulator {
  url: string;
  port: number;
  close(): Promise<void>;
}

export const DEFAULT_TIMINGS: EmulatorTimings = {
  stagingMs: 300,
  healthyMs: 500,
  crashMs: 300,
  killMs: 100,
  backoffMs: 300,
};

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const host = options.host ?? '127.0.0.1';
  const timings: EmulatorTimings = { ...DEFAULT_TIMINGS, ...options.timings };
  if (options.tasks === 'processes' && options.clock) throw new Error('emulator: real task processes run on the system clock; drop `clock` or `tasks`');
  if (options.imageCommand !== undefined && options.tasks !== 'processes') throw new Error("emulator: `imageCommand` needs tasks: 'processes'");
  const hub = new EventHub(options.keepAliveMs ?? 10_000);
  const model = new MarathonModel({
    clock: options.clock ?? systemClock,
    // Group.defaultVersion is fixed when the Marathon process starts; on an injected clock, when the model is made.
    defaultVersion: options.clock ? undefined : Math.floor(performance.timeOrigin),
    timings,
    emit: (eventType, payload) => hub.publish(eventType, payload),
    ...(options.tasks === 'processes'
      ? { runner: processRunner({ imageCommand: options.imageCommand }), taskKilling: true }
      : {}),
  });
  const seedApps = () => {
    for (const app of options.apps ?? []) {
      if (!isJsonObject(app) || typeof app.id !== 'string') throw new Error('emulator: every seeded app needs a string "id"');
      model.seed(canonicalAppId(app.id), app as JsonObject);
    }
  };
  seedApps();

  const requests: RequestLogEntry[] = [];
  const leaderUrl = options.leader === undefined ? undefined : new URL(options.leader);
  if (leaderUrl && leaderUrl.protocol !== 'http:' && leaderUrl.protocol !== 'https:') {
    throw new Error(`emulator: the leader must be an http(s) URL, got ${options.leader}`);
  }
  let leader = `${host}:${options.port ?? 0}`;
  const server = http.createServer(
    createRequestHandler({
      model,
      hub,
      credentials: options.credentials,
      token: options.token,
      leader: () => leader,
      requests,
      proxy: leaderUrl ? { leader: leaderUrl, self: () => leader } : undefined,
      reset: () => {
        model.reset();
        requests.length = 0;
        hub.clearLog();
        seedApps();
      },
    }),
  );
  // Event streams stay open for hours; Node's default request timeouts would cut them.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  leader = `${host}:${port}`;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close() {
      closing ??= (async () => {
        const tasksGone = model.close();
        hub.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await tasksGone;
      })();
      return closing;
    },
  };
}
