import { randomUUID } from 'node:crypto';
import zookeeper, { type Client, type Event } from 'node-zookeeper-client';
import { systemTimers, type MonotonicTimers } from '../controller/fixed-rate.js';
import type { Logger } from '../telemetry/logger.js';

/** A ZooKeeper request that failed: `code` is ZooKeeper's exception name (NO_NODE, NODE_EXISTS, ...) or `TIMEOUT`. */
export class ZooKeeperError extends Error {
  override readonly name = 'ZooKeeperError';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export interface ZooKeeperSessionOptions {
  connect: string;
  sessionTimeoutMs: number;
  logger: Logger;
  timers?: MonotonicTimers;
}

/** One operation of an atomic multi-op (ZooKeeper's `multi`): all apply, or none. */
export type TransactionOp =
  | { op: 'check'; path: string }
  | { op: 'create'; path: string; data: Buffer }
  | { op: 'set'; path: string; data: Buffer }
  | { op: 'remove'; path: string };

export type SessionListener = (event: { kind: 'established'; newSession: boolean } | { kind: 'lost'; why: string }) => void;

/**
 * The daemon's one ZooKeeper client, kept alive: a new client (so a new session) when the session expired, and
 * "contact" only while the server answers.
 *
 * Why a heartbeat of our own: node-zookeeper-client pings when the socket is idle but never times out a read, so a
 * server that stops answering with its TCP connection open (paused, overloaded, a half-open link) goes unnoticed and
 * the client stays "connected" for ever. The Java client treats 2/3 of the session timeout without an answer as a
 * lost connection; so does this: a leader then stops scaling before the server can expire its session and let
 * another instance lead. The stuck connection is then dropped, so the client moves on to another server (or retries
 * this one) and either resumes the session or learns that it expired.
 */
export class ZooKeeperSession {
  private readonly timers: MonotonicTimers;
  private client: Client | null = null;
  private connected = false;
  private sessionId: string | null = null;
  private lastAnswerAt = Number.NEGATIVE_INFINITY;
  private heartbeat: unknown = null;
  private closed = false;
  private readonly listeners: SessionListener[] = [];
  /** Changes with every session: names of our ephemeral nodes carry it, to find them again after a lost answer. */
  private sessionTag = randomUUID();

  constructor(private readonly options: ZooKeeperSessionOptions) {
    this.timers = options.timers ?? systemTimers;
  }

  get sessionTimeoutMs(): number {
    return this.client?.getSessionTimeout() || this.options.sessionTimeoutMs;
  }

  /** The tag of the current session's ephemeral nodes (see LeaderElection). */
  get tag(): string {
    return this.sessionTag;
  }

  onChange(listener: SessionListener): void {
    this.listeners.push(listener);
  }

  start(): void {
    this.newClient();
    this.beat();
  }

  /** Connected, and the server answered within the last 2/3 of the session timeout (the Java client's read timeout). */
  hasContact(): boolean {
    return this.connected && this.timers.now() - this.lastAnswerAt < this.contactWindowMs();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.heartbeat !== null) this.timers.clearTimeout(this.heartbeat);
    const client = this.client;
    this.client = null;
    this.connected = false;
    if (!client) return;
    // Closing ends the session at once: our ephemeral nodes go now, not a session timeout later, so another instance
    // takes over without waiting. Bounded: a server that does not answer must not hold up the shutdown.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1000);
      client.once('disconnected', () => {
        clearTimeout(timer);
        resolve();
      });
      client.close();
    });
  }

  create(path: string, data: Buffer, mode: 'persistent' | 'ephemeral-sequential' = 'persistent'): Promise<string> {
    const createMode = mode === 'persistent' ? zookeeper.CreateMode.PERSISTENT : zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL;
    return this.call(`create ${path}`, (client, done) => client.create(path, data, createMode, done));
  }

  /** Creates `path` and its parents when missing. */
  async ensurePath(path: string): Promise<void> {
    await this.call<string>(`mkdirp ${path}`, (client, done) => client.mkdirp(path, done));
  }

  children(path: string, watch?: (event: Event) => void): Promise<string[]> {
    return this.call(`getChildren ${path}`, (client, done) =>
      watch ? client.getChildren(path, watch, done) : client.getChildren(path, done),
    );
  }

  /** The node's data, or null when it does not exist. */
  async data(path: string, watch?: (event: Event) => void): Promise<Buffer | null> {
    try {
      return await this.call<Buffer>(`getData ${path}`, (client, done) =>
        watch ? client.getData(path, watch, done) : client.getData(path, done),
      );
    } catch (error) {
      if (error instanceof ZooKeeperError && error.code === 'NO_NODE') return null;
      throw error;
    }
  }

  /** Whether the node exists; with `watch`, called once when it is created, changed or deleted. */
  async exists(path: string, watch?: (event: Event) => void): Promise<boolean> {
    const stat = await this.call<unknown>(`exists ${path}`, (client, done) => (watch ? client.exists(path, watch, done) : client.exists(path, done)));
    return stat !== null && stat !== undefined;
  }

  async remove(path: string): Promise<boolean> {
    try {
      await this.call<void>(`remove ${path}`, (client, done) => client.remove(path, -1, (error) => done(error, undefined)));
      return true;
    } catch (error) {
      if (error instanceof ZooKeeperError && error.code === 'NO_NODE') return false;
      throw error;
    }
  }

  /** All the operations or none (ZooKeeper's multi). Rejects with the code of the first operation that failed. */
  async transaction(ops: TransactionOp[]): Promise<void> {
    await this.call<unknown>(`multi (${ops.length} ops)`, (client, done) => {
      const transaction = client.transaction();
      for (const op of ops) {
        if (op.op === 'check') transaction.check(op.path, -1);
        else if (op.op === 'create') transaction.create(op.path, op.data, zookeeper.CreateMode.PERSISTENT);
        else if (op.op === 'set') transaction.setData(op.path, op.data, -1);
        else transaction.remove(op.path, -1);
      }
      transaction.commit(done);
    });
  }

  private contactWindowMs(): number {
    return (this.sessionTimeoutMs * 2) / 3;
  }

  /**
   * Runs one request with a deadline of one session timeout (the client queues requests while disconnected and
   * would otherwise keep them waiting for ever). Any answer, even an error, proves the server is there.
   */
  private call<T>(what: string, run: (client: Client, done: (error: unknown, value: T) => void) => void): Promise<T> {
    const client = this.client;
    if (!client) return Promise.reject(new ZooKeeperError(`ZooKeeper ${what}: the client is closed`, 'CLOSED'));
    return new Promise<T>((resolve, reject) => {
      const timer = this.timers.setTimeout(() => {
        reject(new ZooKeeperError(`ZooKeeper ${what}: no answer within ${this.sessionTimeoutMs} ms`, 'TIMEOUT'));
      }, this.sessionTimeoutMs);
      run(client, (error, value) => {
        this.timers.clearTimeout(timer);
        if (client !== this.client) {
          reject(new ZooKeeperError(`ZooKeeper ${what}: the session ended`, 'SESSION_EXPIRED'));
          return;
        }
        const code = exceptionName(error);
        if (code !== 'CONNECTION_LOSS' && code !== 'SESSION_EXPIRED') this.lastAnswerAt = this.timers.now();
        if (error) reject(new ZooKeeperError(`ZooKeeper ${what}: ${code ?? String(error)}`, code ?? 'UNKNOWN'));
        else resolve(value);
      });
    });
  }

  private newClient(): void {
    if (this.closed) return;
    this.sessionTag = randomUUID();
    const client = zookeeper.createClient(this.options.connect, {
      sessionTimeout: this.options.sessionTimeoutMs,
      // Between two rounds over every server of the connect string.
      spinDelay: Math.min(1000, Math.max(50, Math.floor(this.options.sessionTimeoutMs / 10))),
      retries: 0,
    });
    this.client = client;
    client.on('state', (state) => {
      if (client !== this.client) return;
      if (state === zookeeper.State.SYNC_CONNECTED || state === zookeeper.State.CONNECTED_READ_ONLY) {
        if (state === zookeeper.State.CONNECTED_READ_ONLY) return; // a partitioned server: writes would fail
        const id = client.getSessionId().toString('hex');
        const newSession = id !== this.sessionId;
        this.sessionId = id;
        this.connected = true;
        this.lastAnswerAt = this.timers.now();
        this.options.logger.info(newSession ? 'zookeeper session established' : 'zookeeper session resumed', {
          sessionTimeoutMs: client.getSessionTimeout(),
        });
        this.emit({ kind: 'established', newSession });
      } else if (state === zookeeper.State.DISCONNECTED) {
        this.lose('disconnected');
      } else if (state === zookeeper.State.EXPIRED) {
        this.lose('session expired');
        client.close();
        this.newClient();
      } else if (state === zookeeper.State.AUTH_FAILED) {
        this.lose('authentication failed');
      }
    });
    client.connect();
  }

  private lose(why: string): void {
    const had = this.connected;
    this.connected = false;
    if (had) {
      this.options.logger.warn('zookeeper contact lost: not leading until it is back', { why });
      this.emit({ kind: 'lost', why });
    }
  }

  /** Every sixth of the session timeout: one cheap request, and a check that an answer came recently. */
  private beat(): void {
    if (this.closed) return;
    const period = Math.max(50, Math.floor(this.sessionTimeoutMs / 6));
    this.heartbeat = this.timers.setTimeout(() => {
      this.heartbeat = null;
      if (this.connected && this.timers.now() - this.lastAnswerAt >= this.contactWindowMs()) {
        this.lose(`no answer from ZooKeeper for ${Math.round(this.contactWindowMs())} ms`);
        this.dropStuckConnection();
      } else if (this.connected) {
        this.exists('/').catch(() => undefined);
      }
      this.beat();
    }, period);
  }

  /**
   * The client has no read timeout: close its socket, so it reconnects (to the next server of the connect string)
   * and resumes the session or learns it expired. Reaches into the client; without that socket, a new client.
   */
  private dropStuckConnection(): void {
    const socket = (this.client as unknown as { connectionManager?: { socket?: { destroy?: () => void } } } | null)?.connectionManager?.socket;
    if (socket && typeof socket.destroy === 'function') {
      socket.destroy();
      return;
    }
    this.client?.close();
    this.newClient();
  }

  private emit(event: Parameters<SessionListener>[0]): void {
    for (const listener of this.listeners) listener(event);
  }
}

/** ZooKeeper's exception name (NO_NODE, NODE_EXISTS, BAD_VERSION, ...) of a client error, if it is one. */
function exceptionName(error: unknown): string | undefined {
  if (!error) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'number') return undefined;
  for (const [name, value] of Object.entries(zookeeper.Exception)) if (value === code && name !== 'prototype') return name;
  return `ZK_${code}`;
}

/** An app id as a node name: URL-encoded, so its slashes do not make a path. */
export function nodeNameOf(appId: string): string {
  return encodeURIComponent(appId);
}

/** A node name back to the app id it encodes; null for a name that is not an encoded app id. */
export function appIdOfNode(name: string): string | null {
  try {
    const id = decodeURIComponent(name);
    return id.startsWith('/') ? id : null;
  } catch {
    return null;
  }
}
