import zookeeper, { type Event } from 'node-zookeeper-client';
import { appIdOfNode, nodeNameOf, ZooKeeperError, type ZooKeeperSession } from '../leadership/zookeeper-session.js';
import { SerialTask } from '../leadership/serial-task.js';
import type { Logger } from '../telemetry/logger.js';
import { registrationSchema, type Registration } from './registration.js';
import { RegistrationIndex, type RegistrationStore } from './store.js';

/**
 * REST registrations shared by every instance: one node per app, `<path>/registrations/<URL-encoded app id>`, its
 * data the registration's JSON. Any instance writes them (a write is durable once ZooKeeper's quorum has it, so no
 * registration depends on which instance leads); each keeps a copy in memory, kept current by watches, so list()
 * does no I/O.
 */
export class ZooKeeperRegistrationStore implements RegistrationStore {
  private readonly dir: string;
  private readonly registrations = new RegistrationIndex();
  private loadedOnce = false;
  private readonly syncs: SerialTask;

  constructor(
    private readonly session: ZooKeeperSession,
    basePath: string,
    private readonly logger: Logger,
  ) {
    this.dir = `${basePath}/registrations`;
    this.syncs = new SerialTask(
      () => this.readAll(),
      (error) => logger.warn('could not read the registrations from ZooKeeper; trying again', { error: error.message }),
      () => session.hasContact(),
    );
    // Watches set in an expired session are gone: read everything again whenever a session (re)starts.
    session.onChange((event) => {
      if (event.kind === 'established') this.sync();
    });
  }

  /** True once every registration was read at least once: before that, a cycle would take registered apps for unmanaged. */
  get loaded(): boolean {
    return this.loadedOnce;
  }

  list(): Registration[] {
    return this.registrations.list();
  }

  get(appId: string): Registration | undefined {
    return this.registrations.get(appId);
  }

  async put(registration: Registration): Promise<boolean> {
    this.requireContact();
    const path = this.pathOf(registration.appId);
    const data = Buffer.from(JSON.stringify(registration));
    await this.session.ensurePath(this.dir);
    let created = true;
    try {
      await this.session.create(path, data);
    } catch (error) {
      if (!(error instanceof ZooKeeperError && error.code === 'NODE_EXISTS')) throw error;
      await this.session.transaction([{ op: 'set', path, data }]);
      created = false;
    }
    this.registrations.set(registration.appId, registration);
    return created;
  }

  async remove(appId: string): Promise<boolean> {
    this.requireContact();
    const removed = await this.session.remove(this.pathOf(appId));
    this.registrations.set(appId, undefined);
    return removed;
  }

  /** Re-reads the registrations (one read at a time). */
  sync(): void {
    this.syncs.request();
  }

  private async readAll(): Promise<void> {
    await this.session.ensurePath(this.dir);
    const names = await this.session.children(this.dir, () => this.sync());
    const seen = new Set<string>();
    await Promise.all(
      names.map(async (name) => {
        const appId = appIdOfNode(name);
        if (appId === null) return;
        seen.add(appId);
        await this.readOne(name, appId);
      }),
    );
    for (const appId of this.registrations.appIds()) if (!seen.has(appId)) this.registrations.set(appId, undefined);
    if (!this.loadedOnce) {
      this.loadedOnce = true;
      this.logger.info('registrations read from ZooKeeper', { registrations: this.registrations.size });
    }
  }

  private async readOne(name: string, appId: string): Promise<void> {
    const onChange = (event: Event) => {
      if (event.getType() === zookeeper.Event.NODE_DATA_CHANGED) this.readOne(name, appId).catch(() => this.sync());
    };
    const data = await this.session.data(`${this.dir}/${name}`, onChange);
    if (data === null) {
      this.registrations.set(appId, undefined);
      return;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(data.toString('utf8'));
    } catch {
      raw = undefined;
    }
    const parsed = registrationSchema.safeParse(raw);
    if (!parsed.success || parsed.data.appId !== appId) {
      this.logger.warn('ignored an invalid registration in ZooKeeper', { node: `${this.dir}/${name}` });
      this.registrations.set(appId, undefined);
      return;
    }
    this.registrations.set(appId, parsed.data);
  }

  private requireContact(): void {
    if (!this.session.hasContact()) {
      throw new ZooKeeperError('no ZooKeeper session: registrations cannot be changed now; try again, or ask another instance', 'NO_SESSION');
    }
  }

  private pathOf(appId: string): string {
    return `${this.dir}/${nodeNameOf(appId)}`;
  }
}
