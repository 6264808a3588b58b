import { z } from 'zod';
import type { AppMemory } from '../cycle/run-cycle.js';
import type { Logger } from '../telemetry/logger.js';
import type { Leadership } from './election.js';
import { appIdOfNode, nodeNameOf, ZooKeeperError, type TransactionOp, type ZooKeeperSession } from './zookeeper-session.js';

/** What a leader keeps of an app between cycles, as stored in ZooKeeper for the next leader. */
const storedMemorySchema = z.strictObject({
  version: z.literal(1),
  recommendations: z.array(z.strictObject({ at: z.number(), desired: z.number().int().min(0) })).max(100_000),
  baseline: z.number().int().min(0).optional(),
  scaleEvents: z.array(z.strictObject({ at: z.number(), change: z.number().int() })).max(100_000).optional(),
});
export type StoredMemory = z.infer<typeof storedMemorySchema>;

/** A scale request refused because this instance no longer leads (or cannot prove it still does). */
export class NotLeaderError extends Error {
  override readonly name = 'NotLeaderError';
}

export function toStored(memory: AppMemory): StoredMemory {
  const stored: StoredMemory = { version: 1, recommendations: memory.recommendations.map(({ at, desired }) => ({ at, desired })) };
  if (memory.baseline !== undefined) stored.baseline = memory.baseline;
  if (memory.scaleEvents && memory.scaleEvents.length > 0) stored.scaleEvents = memory.scaleEvents.map(({ at, change }) => ({ at, change }));
  return stored;
}

export function fromStored(stored: StoredMemory): AppMemory {
  const memory: AppMemory = { recommendations: stored.recommendations };
  if (stored.baseline !== undefined) memory.baseline = stored.baseline;
  if (stored.scaleEvents) memory.scaleEvents = stored.scaleEvents;
  return memory;
}

/**
 * Whether an app's memory must be written again. Every cycle moves the time of its newest recommendation; writing
 * only that would be a write per app per cycle, so a time alone is refreshed every `refreshMs`. Anything else (the
 * recommended counts, the baseline, the scale events) is written when it changes. After a takeover a held scale-down
 * may thus end up to `refreshMs` early; a scale-up is never held.
 */
export function needsWrite(previous: StoredMemory | undefined, next: StoredMemory, refreshMs: number): boolean {
  if (!previous) return true;
  if (previous.baseline !== next.baseline) return true;
  if (JSON.stringify(previous.scaleEvents ?? []) !== JSON.stringify(next.scaleEvents ?? [])) return true;
  const a = previous.recommendations;
  const b = next.recommendations;
  if (a.length !== b.length) return true;
  for (let index = 0; index < a.length; index++) {
    if ((a[index] as { desired: number }).desired !== (b[index] as { desired: number }).desired) return true;
  }
  const newestBefore = a.length > 0 ? (a[a.length - 1] as { at: number }).at : 0;
  const newestNow = b.length > 0 ? (b[b.length - 1] as { at: number }).at : 0;
  return newestNow - newestBefore >= refreshMs;
}

/** ZooKeeper answers a multi of at most 1 MB (jute.maxbuffer): a few hundred apps' memories per request. */
const OPS_PER_TRANSACTION = 200;

/**
 * The stabilization history (recommendations), the baseline and the recent scale events of every app, under
 * `<path>/apps/<URL-encoded app id>`: written by the leader after each cycle and before each scale request, read by
 * the next leader when it takes over. Every write also checks the leader's own election node, in the same
 * transaction: once its session has ended, no write of it lands.
 */
export class SharedCycleMemory {
  private readonly dir: string;
  /** What ZooKeeper holds, as far as we know: written or loaded by us. */
  private readonly stored = new Map<string, StoredMemory>();

  constructor(
    private readonly session: ZooKeeperSession,
    basePath: string,
    private readonly leadership: Leadership,
    /** Our election node: the fence of every write. */
    private readonly fence: () => string | null,
    private readonly logger: Logger,
    private readonly refreshMs = 10_000,
  ) {
    this.dir = `${basePath}/apps`;
  }

  /** Every app's memory as the last leader left it (entries that fail validation are logged and left out). */
  async load(): Promise<Map<string, AppMemory>> {
    await this.session.ensurePath(this.dir);
    const names = await this.session.children(this.dir);
    this.stored.clear();
    const apps = new Map<string, AppMemory>();
    for (let start = 0; start < names.length; start += OPS_PER_TRANSACTION) {
      const batch = names.slice(start, start + OPS_PER_TRANSACTION);
      const datas = await Promise.all(batch.map((name) => this.session.data(`${this.dir}/${name}`)));
      batch.forEach((name, index) => {
        const data = datas[index];
        if (!data) return;
        const appId = appIdOfNode(name);
        const parsed = parseStored(data);
        if (appId === null || !parsed.success) {
          this.logger.warn('ignored an invalid stabilization history in ZooKeeper', { node: `${this.dir}/${name}` });
          return;
        }
        this.stored.set(appId, parsed.data);
        apps.set(appId, fromStored(parsed.data));
      });
    }
    return apps;
  }

  /**
   * Right before a scale request: records the app's memory as it will be once the request is applied, guarded by our
   * election node. Rejects with NotLeaderError when we no longer lead, so the request is not sent; if we die after
   * it, the next leader finds the baseline it set and does not scale the same app again for the same reason.
   */
  async beforeScale(appId: string, after: AppMemory): Promise<void> {
    const fence = this.fence();
    if (!this.leadership.isLeader() || fence === null) throw new NotLeaderError('this instance does not lead');
    const next = toStored(after);
    try {
      await this.write([[appId, next]], fence);
    } catch (error) {
      throw new NotLeaderError(`cannot confirm leadership in ZooKeeper (${(error as Error).message})`);
    }
    // The answer took a round trip: the session may have been lost meanwhile.
    if (!this.leadership.isLeader()) throw new NotLeaderError('leadership lost while confirming it');
  }

  /** After a leader's cycle: writes what changed, removes the apps no longer managed. Failures are logged, not fatal. */
  async save(apps: Map<string, AppMemory>): Promise<void> {
    const fence = this.fence();
    if (!this.leadership.isLeader() || fence === null) return;
    const changed: [string, StoredMemory][] = [];
    for (const [appId, memory] of apps) {
      const next = toStored(memory);
      if (needsWrite(this.stored.get(appId), next, this.refreshMs)) changed.push([appId, next]);
    }
    const gone = [...this.stored.keys()].filter((appId) => !apps.has(appId));
    try {
      for (let start = 0; start < changed.length; start += OPS_PER_TRANSACTION) {
        await this.write(changed.slice(start, start + OPS_PER_TRANSACTION), fence);
      }
      for (let start = 0; start < gone.length; start += OPS_PER_TRANSACTION) {
        const batch = gone.slice(start, start + OPS_PER_TRANSACTION);
        await this.session.transaction([{ op: 'check', path: fence }, ...batch.map((appId) => ({ op: 'remove' as const, path: this.pathOf(appId) }))]);
        for (const appId of batch) this.stored.delete(appId);
      }
    } catch (error) {
      this.logger.warn('could not save the stabilization history to ZooKeeper; trying again next cycle', { error: (error as Error).message });
    }
  }

  /** Creates the nodes not known to exist (outside the transaction: a create of an existing node fails it), then sets all. */
  private async write(entries: [string, StoredMemory][], fence: string): Promise<void> {
    await this.session.ensurePath(this.dir);
    for (const [appId] of entries) {
      if (this.stored.has(appId)) continue;
      try {
        await this.session.create(this.pathOf(appId), Buffer.from('{}'));
      } catch (error) {
        if (!(error instanceof ZooKeeperError && error.code === 'NODE_EXISTS')) throw error;
      }
    }
    const ops: TransactionOp[] = [{ op: 'check', path: fence }];
    for (const [appId, memory] of entries) ops.push({ op: 'set', path: this.pathOf(appId), data: Buffer.from(JSON.stringify(memory)) });
    try {
      await this.session.transaction(ops);
    } catch (error) {
      for (const [appId] of entries) this.stored.delete(appId);
      throw error;
    }
    for (const [appId, memory] of entries) this.stored.set(appId, memory);
  }

  private pathOf(appId: string): string {
    return `${this.dir}/${nodeNameOf(appId)}`;
  }
}

function parseStored(data: Buffer): ReturnType<typeof storedMemorySchema.safeParse> {
  let raw: unknown;
  try {
    raw = JSON.parse(data.toString('utf8'));
  } catch {
    raw = undefined;
  }
  return storedMemorySchema.safeParse(raw);
}
