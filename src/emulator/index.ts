// In-memory Marathon 1.10 emulator. Public API (others code against it): startEmulator and its option types.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from './clock.js';
import { canonicalAppId, isJsonObject, type JsonObject } from './definition.js';
import { EventHub } from './events.js';
import { createRequestHandler, type RequestLogEntry } from './http.js';
import { MarathonModel, type EmulatorTimings } from './model.js';

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
  const hub = new EventHub(options.keepAliveMs ?? 10_000);
  const model = new MarathonModel({
    clock: options.clock ?? systemClock,
    // Group.defaultVersion is fixed when the Marathon process starts; on an injected clock, when the model is made.
    defaultVersion: options.clock ? undefined : Math.floor(performance.timeOrigin),
    timings,
    emit: (eventType, payload) => hub.publish(eventType, payload),
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
      closing ??= new Promise<void>((resolve) => {
        model.dispose();
        hub.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
