import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
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
}

/**
 * REST registrations, persisted so that a restart or a crash loses none: every change is written to a temp file,
 * fsynced, renamed over the state file, and the directory is fsynced.
 */
export class RegistrationStore {
  private readonly registrations = new Map<string, Registration>();
  /** list() runs every cycle: sorted once per change, not per call. */
  private sorted: Registration[] | null = null;
  /** Writes are serialised: two concurrent POSTs must not interleave their renames. */
  private writing: Promise<void> = Promise.resolve();

  private constructor(readonly file: string) {}

  static async open(file: string): Promise<RegistrationStore> {
    const store = new RegistrationStore(file);
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
    this.sorted ??= [...this.registrations.values()].sort((a, b) => (a.appId < b.appId ? -1 : a.appId > b.appId ? 1 : 0));
    return this.sorted;
  }

  get(appId: string): Registration | undefined {
    return this.registrations.get(appId);
  }

  /** Returns true when the app was not registered before. Resolves once the change is on disk. */
  async put(registration: Registration): Promise<boolean> {
    const created = !this.registrations.has(registration.appId);
    const previous = this.registrations.get(registration.appId);
    this.registrations.set(registration.appId, registration);
    this.sorted = null;
    try {
      await this.persist();
    } catch (error) {
      if (previous) this.registrations.set(registration.appId, previous);
      else this.registrations.delete(registration.appId);
      this.sorted = null;
      throw error;
    }
    return created;
  }

  async remove(appId: string): Promise<boolean> {
    const previous = this.registrations.get(appId);
    if (!previous) return false;
    this.registrations.delete(appId);
    this.sorted = null;
    try {
      await this.persist();
    } catch (error) {
      this.registrations.set(appId, previous);
      this.sorted = null;
      throw error;
    }
    return true;
  }

  private persist(): Promise<void> {
    const snapshot = JSON.stringify({ version: 1, registrations: this.list() }, null, 2) + '\n';
    const next = this.writing.catch(() => undefined).then(() => writeFileAtomically(this.file, snapshot));
    this.writing = next;
    return next;
  }
}

export async function writeFileAtomically(file: string, content: string): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
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
