import { mkdir, open, readFile, readdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { formatIssues } from '../config/load.js';
import { registrationSchema, type Registration } from './registration.js';

const stateFileSchema = z.object({
  version: z.literal(1),
  registrations: z.array(registrationSchema),
});

export class StateFileError extends Error {
  override readonly name = 'StateFileError';
  constructor(
    message: string,
    /** The errno code when the file system refused (ENOSPC, EACCES, ...). */
    readonly code?: string,
  ) {
    super(message);
  }
}

/**
 * Where REST registrations live: the state file of a single instance, or ZooKeeper when several instances share them
 * (registry/zookeeper-store.ts). list() runs every cycle and must not do I/O; writes resolve once the change is durable
 * and reject (changing nothing) when it cannot be made so.
 */
export interface RegistrationStore {
  list(): Registration[];
  get(appId: string): Registration | undefined;
  /** Returns true when the app was not registered before. */
  put(registration: Registration): Promise<boolean>;
  /** Returns false when the app was not registered. */
  remove(appId: string): Promise<boolean>;
}

/** The registrations a store holds in memory, by app id; list() is sorted by app id once per change, not per call. */
export class RegistrationIndex {
  private readonly byId = new Map<string, Registration>();
  private sorted: Registration[] | null = null;

  list(): Registration[] {
    this.sorted ??= [...this.byId.values()].sort((a, b) => (a.appId < b.appId ? -1 : a.appId > b.appId ? 1 : 0));
    return this.sorted;
  }

  get(appId: string): Registration | undefined {
    return this.byId.get(appId);
  }

  appIds(): string[] {
    return [...this.byId.keys()];
  }

  get size(): number {
    return this.byId.size;
  }

  /** Sets the app's registration; `undefined` removes it. */
  set(appId: string, registration: Registration | undefined): void {
    if (registration) this.byId.set(appId, registration);
    else if (!this.byId.delete(appId)) return;
    this.sorted = null;
  }
}

/**
 * REST registrations, persisted so that a restart or a crash loses none: every change is written to a temp file,
 * fsynced, renamed over the state file, and the directory is fsynced.
 */
export class StateFileRegistrationStore implements RegistrationStore {
  private readonly registrations = new RegistrationIndex();
  /** Writes are serialised: two concurrent POSTs must not interleave their renames. */
  private writing: Promise<void> = Promise.resolve();

  /** Temp files of earlier writers that died mid-write (kill -9, a crash), removed by open(). */
  readonly removedTempFiles: string[] = [];

  private constructor(readonly file: string) {}

  static async open(file: string): Promise<StateFileRegistrationStore> {
    const removed = await removeStaleTempFiles(file);
    const store = await StateFileRegistrationStore.read(file);
    store.removedTempFiles.push(...removed);
    return store;
  }

  /**
   * The registrations in `file`, for a reader beside the daemon (a backtest): touches nothing, not even the temp files
   * of a write the daemon may be making right now. Writes through it work as through open().
   */
  static async read(file: string): Promise<StateFileRegistrationStore> {
    const store = new StateFileRegistrationStore(file);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return store;
      throw new StateFileError(`${file}: cannot read the state file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      // Refuse to start rather than silently drop every registration.
      throw new StateFileError(`${file}: the state file is not valid JSON (${(error as Error).message}); fix or remove it`);
    }
    const parsed = stateFileSchema.safeParse(raw);
    if (!parsed.success) throw new StateFileError(`${file}: ${formatIssues(parsed.error, raw)}`);
    for (const registration of parsed.data.registrations) store.registrations.set(registration.appId, registration);
    return store;
  }

  list(): Registration[] {
    return this.registrations.list();
  }

  get(appId: string): Registration | undefined {
    return this.registrations.get(appId);
  }

  /** Returns true when the app was not registered before. Resolves once the change is on disk. */
  async put(registration: Registration): Promise<boolean> {
    const previous = this.registrations.get(registration.appId);
    await this.change(registration.appId, registration);
    return previous === undefined;
  }

  async remove(appId: string): Promise<boolean> {
    if (!this.registrations.get(appId)) return false;
    await this.change(appId, undefined);
    return true;
  }

  /** Applies the change, and undoes it when it cannot be saved. */
  private async change(appId: string, registration: Registration | undefined): Promise<void> {
    const previous = this.registrations.get(appId);
    this.registrations.set(appId, registration);
    try {
      await this.persist();
    } catch (error) {
      this.registrations.set(appId, previous);
      throw error;
    }
  }

  private persist(): Promise<void> {
    const snapshot = JSON.stringify({ version: 1, registrations: this.list() }, null, 2) + '\n';
    const write = async () => {
      try {
        await writeFileAtomically(this.file, snapshot);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const why = code ? `${code}: ${describeErrno(code)}` : String(error);
        throw new StateFileError(`${this.file}: cannot save the state file (${why}); the change was not applied`, code);
      }
    };
    const next = this.writing.catch(() => undefined).then(write);
    this.writing = next;
    return next;
  }
}

const TEMP_SUFFIX = '.tmp';

/** `.autoscaler.json.<pid>.<ms>.tmp` beside the state file: the pattern both the writer and the cleanup know. */
function tempFileFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}${TEMP_SUFFIX}`);
}

/**
 * Removes temp files of our pattern left by a writer that died before its rename. One whose pid is a live process
 * other than us may be another writer's, mid-write: left alone. (Our own pid is stale too: in a container a restarted
 * daemon often gets the pid its predecessor had.)
 */
async function removeStaleTempFiles(file: string): Promise<string[]> {
  const dir = path.dirname(file);
  const prefix = `.${path.basename(file)}.`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(TEMP_SUFFIX)) continue;
    const match = /^(\d+)\.(\d+)$/.exec(name.slice(prefix.length, -TEMP_SUFFIX.length));
    if (!match) continue;
    const pid = Number(match[1]);
    if (pid !== process.pid && isAlive(pid)) continue;
    try {
      await unlink(path.join(dir, name));
      removed.push(path.join(dir, name));
    } catch {
      // gone already, or not ours to remove: the state file itself is what matters
    }
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function describeErrno(code: string): string {
  const known: Record<string, string> = {
    ENOSPC: 'no space left on the device',
    EDQUOT: 'disk quota exceeded',
    EACCES: 'permission denied',
    EROFS: 'read-only file system',
    EIO: 'input/output error',
  };
  return known[code] ?? 'the file system refused the write';
}

/** Temp file, fsync, rename, fsync of the directory. On any failure the temp file is removed and the old file stays. */
export async function writeFileAtomically(file: string, content: string): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  const temp = tempFileFor(file);
  const handle = await open(temp, 'w', 0o600);
  try {
    try {
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}
