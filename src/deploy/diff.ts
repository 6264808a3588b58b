import { hasEmptyDefault, withMarathonDefaults } from '../marathon/app-defaults.js';
import { READ_ONLY_APP_FIELDS, type JsonObject } from '../marathon/types.js';
import { paint } from '../terminal/output.js';

export interface DiffEntry {
  /** Dotted path, e.g. container.docker.image, env.LOG_LEVEL, healthChecks[0].path */
  path: string;
  kind: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

/** Objects whose every key is the user's (nothing Marathon defaults in), so a key missing from the file is a removal. */
const MAP_FIELDS = new Set(['env', 'labels']);
const SECRET_NAME = /pass|secret|token|key|credential|private|auth|pwd/i;
export const MASK = '******';

export function stripReadOnly(app: JsonObject): JsonObject {
  const copy: JsonObject = { ...app };
  for (const field of READ_ONLY_APP_FIELDS) delete copy[field];
  return copy;
}

/**
 * What a full PUT (partialUpdate=false) of `desired` would change on the live app. Both sides get Marathon's defaults
 * first: a field the file leaves out and that is at its default live is no change, and a field removed from the file is a
 * change back to its default, shown as a removal where that default is empty (`- constraints: [...]`). Fields without a
 * known default, and keys the file does not mention inside objects other than env and labels, are not compared (Marathon
 * returns more than it was sent). Deprecated fields stored migrated and service ports Marathon assigns are no change either.
 */
export function diffDefinitions(live: JsonObject | null, desired: JsonObject): DiffEntry[] {
  const entries: DiffEntry[] = [];
  if (!live) {
    walkAdded(desired, '', entries);
    return entries;
  }
  const id = live.id === normalizeId(desired.id) ? live.id : desired.id;
  compare(withMarathonDefaults(stripReadOnly(live)), withMarathonDefaults({ ...desired, id }), '', entries, false);
  return entries
    .filter((entry) => !isMigratedField(entry) && !isAssignedServicePort(entry))
    .map((entry) => (isRemovedField(entry, desired) ? { path: entry.path, kind: 'removed' as const, before: live[entry.path] } : entry));
}

/** A top-level field the file leaves out, whose live value goes back to an empty default. */
function isRemovedField(entry: DiffEntry, desired: JsonObject): boolean {
  return entry.kind === 'changed' && !entry.path.includes('.') && !entry.path.includes('[') && desired[entry.path] === undefined && hasEmptyDefault(entry.path);
}

/** Deprecated fields Marathon 1.5+ accepts but stores migrated (networks, container.portMappings, fetch): never in a GET. */
const MIGRATED_FIELDS = new Set(['container.docker.network', 'container.docker.portMappings', 'ipAddress', 'ports', 'uris']);

function isMigratedField(entry: DiffEntry): boolean {
  return entry.kind === 'added' && MIGRATED_FIELDS.has(entry.path);
}

/** Service ports the file leaves to Marathon (0) come back assigned (10000+). */
const SERVICE_PORT_PATH = /^(portDefinitions\[\d+\]\.port|ports\[\d+\]|container\.(docker\.)?portMappings\[\d+\]\.servicePort)$/;

function isAssignedServicePort(entry: DiffEntry): boolean {
  return entry.kind === 'changed' && entry.after === 0 && typeof entry.before === 'number' && SERVICE_PORT_PATH.test(entry.path);
}

function normalizeId(id: unknown): unknown {
  return typeof id === 'string' && !id.startsWith('/') ? `/${id}` : id;
}

function compare(live: unknown, desired: unknown, path: string, out: DiffEntry[], fullKeys: boolean): void {
  if (isObject(live) && isObject(desired)) {
    for (const [key, value] of Object.entries(desired)) {
      const child = join(path, key);
      if (!(key in live)) {
        if (value !== null && !isEmpty(value)) out.push({ path: child, kind: 'added', after: value });
        continue;
      }
      compare(live[key], value, child, out, MAP_FIELDS.has(key) && path === '');
    }
    if (fullKeys) {
      for (const key of Object.keys(live)) {
        if (!(key in desired)) out.push({ path: join(path, key), kind: 'removed', before: live[key] });
      }
    }
    return;
  }
  if (Array.isArray(live) && Array.isArray(desired) && live.length === desired.length) {
    desired.forEach((item, index) => compare(live[index], item, `${path}[${index}]`, out, false));
    return;
  }
  if (!deepEqual(live, desired)) out.push({ path, kind: 'changed', before: live, after: desired });
}

function walkAdded(desired: JsonObject, path: string, out: DiffEntry[]): void {
  for (const [key, value] of Object.entries(desired)) out.push({ path: join(path, key), kind: 'added', after: value });
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isEmpty(value: unknown): boolean {
  return (Array.isArray(value) && value.length === 0) || (isObject(value) && Object.keys(value).length === 0);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/** A password inside a URL (scheme://user:password@host) is a secret whatever the variable is called. */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+@/gi;

function maskUrlPasswords(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(URL_PASSWORD, `$1${MASK}@`);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskUrlPasswords(v)]));
  if (Array.isArray(value)) return value.map(maskUrlPasswords);
  return value;
}

/** Secret-looking env values (by name), passwords in URLs and secret references never reach the screen. */
export function maskEntry(raw: DiffEntry): DiffEntry {
  const entry = { ...raw, before: maskUrlPasswords(raw.before), after: maskUrlPasswords(raw.after) };
  const envMatch = /^env\.(.+)$/.exec(entry.path);
  if (envMatch && SECRET_NAME.test(envMatch[1] ?? '')) {
    return { ...entry, before: entry.before === undefined ? undefined : MASK, after: entry.after === undefined ? undefined : MASK };
  }
  if (entry.path === 'env') {
    return { ...entry, before: maskEnv(entry.before), after: maskEnv(entry.after) };
  }
  return entry;
}

export function maskEnv(env: unknown): unknown {
  if (!isObject(env)) return env;
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, SECRET_NAME.test(k) && typeof v === 'string' ? MASK : v]));
}

export function formatDiff(entries: DiffEntry[], color = false): string[] {
  if (entries.length === 0) return ['  (no changes)'];
  return entries.map(maskEntry).map((entry) => {
    const show = (value: unknown) => (value === undefined ? '' : JSON.stringify(value));
    if (entry.kind === 'added') return paint(color, 'green', `  + ${entry.path}: ${show(entry.after)}`);
    if (entry.kind === 'removed') return paint(color, 'red', `  - ${entry.path}: ${show(entry.before)}`);
    const secretUnchangedLook = entry.before === MASK && entry.after === MASK;
    return paint(
      color,
      'yellow',
      `  ~ ${entry.path}: ${secretUnchangedLook ? '(secret value changed)' : `${show(entry.before)} → ${show(entry.after)}`}`,
    );
  });
}
