import type { Logger } from '../telemetry/logger.js';
import { SerialTask } from './serial-task.js';
import type { ZooKeeperSession } from './zookeeper-session.js';

/**
 * What this instance is: `standalone` without ZooKeeper (it always scales), `leader` (it scales), `follower` (another
 * instance leads), `joining` (in the election, standing not known yet), `no-session` (no ZooKeeper contact: it does
 * not scale, and cannot tell who does).
 */
export type Role = 'standalone' | 'leader' | 'follower' | 'joining' | 'no-session';

export interface LeaderInfo {
  /** The leader's advertised API address (its election node's data); null when not known. */
  url: string | null;
  self: boolean;
}

/** Who may scale, asked right before each cycle and each Marathon write. */
export interface Leadership {
  role(): Role;
  /** True only while this instance leads and ZooKeeper answers (always, standalone). */
  isLeader(): boolean;
  leader(): LeaderInfo | null;
  /** Called on every change of role. */
  onChange(listener: (role: Role) => void): void;
}

/** One instance, no ZooKeeper: it leads. */
export const standalone: Leadership = {
  role: () => 'standalone',
  isLeader: () => true,
  leader: () => ({ url: null, self: true }),
  onChange: () => undefined,
};

const NODE_PREFIX = 'n_';
const SEQUENCE_DIGITS = 10;

export type Standing =
  | { kind: 'leads' }
  | { kind: 'follows'; leader: string; predecessor: string }
  | { kind: 'absent' };

/**
 * The ZooKeeper election recipe: among the election's children (ephemeral sequential nodes), the lowest sequence
 * number leads; every other node watches the one just below its own, so a departure wakes one instance, not all.
 */
export function standing(children: readonly string[], own: string): Standing {
  const ordered = children.filter((name) => sequenceOf(name) !== null).sort((a, b) => (sequenceOf(a) as number) - (sequenceOf(b) as number));
  const index = ordered.indexOf(own);
  if (index < 0) return { kind: 'absent' };
  if (index === 0) return { kind: 'leads' };
  return { kind: 'follows', leader: ordered[0] as string, predecessor: ordered[index - 1] as string };
}

/** The sequence number ZooKeeper appended to a node's name (10 digits), or null for a name that is not ours. */
export function sequenceOf(name: string): number | null {
  if (!name.startsWith(NODE_PREFIX)) return null;
  const digits = name.slice(-SEQUENCE_DIGITS);
  return /^\d{10}$/.test(digits) ? Number(digits) : null;
}

/** The node a session created, found by the session's tag in its name (when the answer to the create was lost). */
export function ownNodeOf(children: readonly string[], tag: string): string | undefined {
  return children.find((name) => name.startsWith(`${NODE_PREFIX}${tag}_`) && sequenceOf(name) !== null);
}

/** Leader election under `<path>/election`; this instance's node holds its advertised API address. */
export class LeaderElection implements Leadership {
  private readonly dir: string;
  private own: string | null = null;
  private current: Role = 'joining';
  private leaderInfo: LeaderInfo | null = null;
  private readonly listeners: ((role: Role) => void)[] = [];
  private readonly checks: SerialTask;
  private closed = false;
  /** Known once the API listens (join): the data of our node, what other instances name as the leader. */
  private advertiseUrl: string | null = null;

  constructor(
    private readonly session: ZooKeeperSession,
    basePath: string,
    private readonly logger: Logger,
  ) {
    this.dir = `${basePath}/election`;
    this.checks = new SerialTask(
      () => this.runCheck(),
      (error) => logger.warn('leader election: ZooKeeper request failed, trying again', { error: error.message }),
      () => session.hasContact(),
    );
    session.onChange((event) => {
      if (event.kind === 'lost') {
        this.setRole('no-session');
        return;
      }
      // A new session's ephemeral nodes are new: the old node went (or will go) with the old session.
      if (event.newSession) this.own = null;
      this.check();
    });
  }

  /** Enters the election (at the next session, or now if there is one) with the address to advertise. */
  join(advertiseUrl: string): void {
    this.advertiseUrl = advertiseUrl;
    if (this.session.hasContact()) this.check();
  }

  /** The path of our election node: a write guarded by a check on it fails once our session has ended. */
  ownPath(): string | null {
    return this.own === null ? null : `${this.dir}/${this.own}`;
  }

  role(): Role {
    if (this.current === 'leader' || this.current === 'follower' || this.current === 'joining') {
      if (!this.session.hasContact()) return 'no-session';
    }
    return this.current;
  }

  isLeader(): boolean {
    return this.current === 'leader' && this.session.hasContact();
  }

  leader(): LeaderInfo | null {
    return this.role() === 'no-session' ? null : this.leaderInfo;
  }

  onChange(listener: (role: Role) => void): void {
    this.listeners.push(listener);
  }

  close(): void {
    this.closed = true;
    this.checks.stop();
  }

  /** Re-reads the election (one read at a time). */
  private check(): void {
    if (this.closed || this.advertiseUrl === null) return;
    this.checks.request();
  }

  private async runCheck(): Promise<void> {
    const advertiseUrl = this.advertiseUrl as string;
    await this.session.ensurePath(this.dir);
    let children = await this.session.children(this.dir);
    if (this.own === null) {
      const tag = this.session.tag;
      this.own = ownNodeOf(children, tag) ?? null;
      if (this.own === null) {
        const created = await this.session.create(`${this.dir}/${NODE_PREFIX}${tag}_`, Buffer.from(advertiseUrl), 'ephemeral-sequential');
        this.own = created.slice(created.lastIndexOf('/') + 1);
        children = await this.session.children(this.dir);
      }
    }
    const own = this.own;
    const place = standing(children, own);
    if (place.kind === 'absent') {
      // Our node is gone (the session behind it ended): join again.
      this.own = null;
      this.checks.requestAgain();
      return;
    }
    if (place.kind === 'leads') {
      this.leaderInfo = { url: advertiseUrl, self: true };
      this.setRole('leader');
      return;
    }
    const wake = () => this.check();
    const leaderUrl = await this.session.data(`${this.dir}/${place.leader}`, wake);
    // The predecessor's departure may make us the leader; the leader's (when it is not the predecessor) changes only who
    // we name as the leader.
    const predecessorThere = await this.session.exists(`${this.dir}/${place.predecessor}`, wake);
    if (!predecessorThere || leaderUrl === null) {
      this.checks.requestAgain();
      return;
    }
    this.leaderInfo = { url: leaderUrl.toString('utf8'), self: false };
    this.setRole('follower');
  }

  private setRole(role: Role): void {
    const before = this.current;
    this.current = role;
    if (before === role) return;
    this.logger.info(role === 'leader' ? 'leading: this instance scales' : `leadership: ${role}`, {
      role,
      previous: before,
      ...(this.leaderInfo && !this.leaderInfo.self && role === 'follower' ? { leader: this.leaderInfo.url } : {}),
    });
    for (const listener of this.listeners) listener(role);
  }
}
