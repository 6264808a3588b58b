import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { RegistryError } from './errors.js';
import { DOCKER_HUB } from './reference.js';

export interface RegistryCredentials {
  username: string;
  password: string;
  /** Where they came from, for messages ("BATON_REGISTRY_USER/BATON_REGISTRY_PASSWORD" or the config file). */
  source: string;
}

export interface CredentialLookup {
  credentials: RegistryCredentials | null;
  /** Why none were found although the user may expect some (e.g. a credential helper Baton does not run). */
  note?: string;
}

const dockerConfigSchema = z
  .object({
    auths: z
      .record(
        z.string(),
        z
          .object({
            auth: z.string().optional(),
            username: z.string().optional(),
            password: z.string().optional(),
          })
          .passthrough(),
      )
      .optional(),
    credsStore: z.string().optional(),
    credHelpers: z.record(z.string(), z.string()).optional(),
  })
  .passthrough();

const DOCKER_HUB_KEYS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** Docker writes keys as "host", "https://host" or "https://index.docker.io/v1/": compare hosts only. */
function registryKey(key: string): string {
  const host = key.trim().replace(/^[a-z]+:\/\//i, '').split('/')[0]!.toLowerCase();
  return DOCKER_HUB_KEYS.has(host) ? DOCKER_HUB : host;
}

/**
 * Credentials for `registry` from a parsed docker config.json (`auths.<host>.auth` = base64 "user:password", or
 * `username`/`password`). Pure: `file` only names the source in messages.
 */
export function findDockerConfigCredentials(config: unknown, registry: string, file = 'docker config'): CredentialLookup {
  const parsed = dockerConfigSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.map(String).join('.') : '(root)';
    throw new RegistryError('invalid', `${file}: ${where}: ${issue?.message ?? 'invalid'}`, { file });
  }
  const wanted = registryKey(registry);
  const entry = Object.entries(parsed.data.auths ?? {}).find(([key]) => registryKey(key) === wanted);
  if (entry) {
    const [key, value] = entry;
    if (value.auth) {
      const decoded = Buffer.from(value.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon <= 0) {
        throw new RegistryError('invalid', `${file}: auths["${key}"].auth must be base64 of "user:password"`, { file });
      }
      return { credentials: { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source: file } };
    }
    if (value.username && value.password) {
      return { credentials: { username: value.username, password: value.password, source: file } };
    }
  }
  const helper =
    Object.entries(parsed.data.credHelpers ?? {}).find(([key]) => registryKey(key) === wanted)?.[1] ?? parsed.data.credsStore;
  if (helper) {
    return {
      credentials: null,
      note: `${file} delegates credentials to the helper "docker-credential-${helper}", which Baton does not run; set BATON_REGISTRY_USER and BATON_REGISTRY_PASSWORD instead`,
    };
  }
  return { credentials: null };
}

/** BATON_REGISTRY_USER + BATON_REGISTRY_PASSWORD, both or neither. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv): RegistryCredentials | null {
  const username = env.BATON_REGISTRY_USER;
  const password = env.BATON_REGISTRY_PASSWORD;
  if (!username && !password) return null;
  if (!username || !password) {
    const missing = username ? 'BATON_REGISTRY_PASSWORD' : 'BATON_REGISTRY_USER';
    throw new RegistryError('invalid', `${missing} is not set: set both BATON_REGISTRY_USER and BATON_REGISTRY_PASSWORD, or neither`);
  }
  return { username, password, source: 'BATON_REGISTRY_USER/BATON_REGISTRY_PASSWORD' };
}

/** Where Docker keeps its client config: $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
export function dockerConfigPath(env: NodeJS.ProcessEnv): string {
  if (env.DOCKER_CONFIG) return path.join(env.DOCKER_CONFIG, 'config.json');
  return path.join(env.HOME || os.homedir(), '.docker', 'config.json');
}

/** The environment wins over the docker config file; a missing file means anonymous access. */
export async function loadRegistryCredentials(registry: string, env: NodeJS.ProcessEnv): Promise<CredentialLookup> {
  const fromEnv = credentialsFromEnv(env);
  if (fromEnv) return { credentials: fromEnv };
  const file = dockerConfigPath(env);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { credentials: null };
    throw new RegistryError('invalid', `cannot read ${file}: ${(error as Error).message}`, { file });
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (error) {
    // JSON.parse quotes the text around the fault, which may be a credential: keep only the position.
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    throw new RegistryError('invalid', `${file} is not valid JSON${position ? ` (at character ${position})` : ''}`, { file });
  }
  return findDockerConfigCredentials(config, registry, file);
}
