import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { runCredentialHelper, type CredentialHelperAnswer, type RunCredentialHelper } from './credential-helper-process.js';
import { RegistryError } from './errors.js';
import { DOCKER_HUB } from './reference.js';

/**
 * A username and password (sent with Basic auth, to the registry or its token server), or an identity token: an OAuth2
 * refresh token that only a token server takes (a credential helper answers Username "<token>" for one).
 */
export type RegistryCredentials =
  | { kind: 'password'; username: string; password: string; /** Where they came from, for messages. */ source: string }
  | { kind: 'identity-token'; identityToken: string; source: string };

export interface CredentialLookup {
  credentials: RegistryCredentials | null;
  /** Why none were found although the user may expect some, and what to do: it follows "requires credentials, but". */
  note?: string;
}

/** A credential helper the docker config asks for, and what to ask it. */
export interface CredentialHelperCall {
  /** "docker-credential-ecr-login": run from PATH. */
  executable: string;
  /** What in the config named it, for messages: `credHelpers["reg.example.com"]` or `credsStore`. */
  configKey: string;
  /** Written to the helper's stdin: "https://index.docker.io/v1/" for Docker Hub, else host[:port]. */
  serverAddress: string;
  /** The docker config file, for messages. */
  file: string;
}

/** What the docker config says about one registry. */
export type DockerConfigCredentials =
  | { from: 'auths'; credentials: RegistryCredentials }
  | { from: 'helper'; helper: CredentialHelperCall }
  | { from: 'none' };

export type { CredentialHelperAnswer } from './credential-helper-process.js';

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
            identitytoken: z.string().optional(),
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
  const host = hostPart(key).toLowerCase();
  return DOCKER_HUB_KEYS.has(host) ? DOCKER_HUB : host;
}

/** "https://Reg.Example.com:5000/v2/" → "Reg.Example.com:5000": host[:port] as the key writes it. */
function hostPart(key: string): string {
  return key.trim().replace(/^[a-z]+:\/\//i, '').split('/')[0]!;
}

// The address the docker CLI gives a credential helper for Docker Hub (and the key `docker login` writes for it).
const DOCKER_HUB_SERVER_ADDRESS = 'https://index.docker.io/v1/';
// `credsStore: "desktop"` runs docker-credential-desktop from PATH: a name must not be able to point elsewhere.
const helperName = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Which credentials the docker config gives `registry`, the way the docker CLI reads it, except that an `auths` entry
 * with a secret wins over helpers (as Baton always did): `auths.<host>.identitytoken` (what `docker login` stores when
 * the registry answers with an identity token); else `auths.<host>.auth` (base64 "user:password") or
 * `username`/`password`; else the helper `credHelpers.<host>` names; else the `credsStore` helper; else none. Pure:
 * `file` only names the source in messages. Throws RegistryError('invalid') naming the field that is wrong.
 */
export function findDockerConfigCredentials(config: unknown, registry: string, file = 'docker config'): DockerConfigCredentials {
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
    // Checked even when an identity token wins below: docker refuses to load a config whose `auth` is malformed.
    const fromAuth = value.auth ? decodeAuthField(value.auth, key, file) : undefined;
    // Docker's token flow sends the identity token whenever there is one; `docker login` then stores "user:" (no
    // password) in `auth`, so that username could not sign in anyway.
    if (value.identitytoken) {
      const source = `auths["${key}"].identitytoken in ${file}`;
      return { from: 'auths', credentials: { kind: 'identity-token', identityToken: value.identitytoken, source } };
    }
    const password = fromAuth ?? (value.username && value.password ? { username: value.username, password: value.password } : undefined);
    if (password) return { from: 'auths', credentials: { kind: 'password', ...password, source: file } };
  }
  // Like docker, an empty helper name means "none": credHelpers: { host: "" } falls back to credsStore.
  const helperEntry = Object.entries(parsed.data.credHelpers ?? {}).find(([key, name]) => name !== '' && registryKey(key) === wanted);
  const [configKey, name, keyForAddress] = helperEntry
    ? [`credHelpers["${helperEntry[0]}"]`, helperEntry[1], helperEntry[0]]
    : [`credsStore`, parsed.data.credsStore, entry?.[0]];
  if (!name) return { from: 'none' };
  if (!helperName.test(name)) {
    throw new RegistryError(
      'invalid',
      `${file}: ${configKey} "${name}" is not a credential helper name (docker runs docker-credential-<name> from PATH: letters, digits, ".", "_", "-")`,
      { file },
    );
  }
  const serverAddress = wanted === DOCKER_HUB ? DOCKER_HUB_SERVER_ADDRESS : keyForAddress ? hostPart(keyForAddress) : registry;
  return { from: 'helper', helper: { executable: `docker-credential-${name}`, configKey, serverAddress, file } };
}

function decodeAuthField(auth: string, key: string, file: string): { username: string; password: string } {
  const decoded = Buffer.from(auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw new RegistryError('invalid', `${file}: auths["${key}"].auth must be base64 of "user:password"`, { file });
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

// What docker-credential-helpers' `get` prints (exit status 1) when it holds nothing for the server.
const HELPER_NOT_FOUND = 'credentials not found in native keychain';
const IDENTITY_TOKEN_USERNAME = '<token>';
const helperOutputSchema = z.object({ ServerURL: z.string().optional(), Username: z.string(), Secret: z.string() }).passthrough();

/**
 * Judges a credential helper's answer the way the docker CLI does: JSON {ServerURL, Username, Secret} on exit 0
 * (Username "<token>": Secret is an identity token); "credentials not found" means anonymous access; anything else is
 * an error naming the helper and the config file. Pure. Never puts the helper's answer into a message when it may hold
 * a secret.
 */
export function credentialsFromHelper(call: CredentialHelperCall, answer: CredentialHelperAnswer): CredentialLookup {
  const helper = `${call.executable} (${call.configKey} in ${call.file})`;
  const detail = { file: call.file, helper: call.executable };
  const fail = (kind: 'auth' | 'invalid', why: string): never => {
    throw new RegistryError(kind, `credential helper ${helper} ${why}`, detail);
  };
  switch (answer.outcome) {
    case 'not-installed':
      throw new RegistryError(
        'invalid',
        `${call.file}: ${call.configKey} asks for the credential helper ${call.executable}, which is not installed (not found on PATH): install it, remove ${call.configKey}, or set BATON_REGISTRY_USER and BATON_REGISTRY_PASSWORD`,
        detail,
      );
    case 'not-started':
      return fail('invalid', `cannot be run: ${answer.reason}`);
    case 'timed-out':
      return fail('auth', `did not answer within ${answer.timeoutMs / 1000} s (killed)`);
    case 'exited':
      break;
  }
  if (answer.exitCode !== 0) {
    if (answer.stdout.includes(HELPER_NOT_FOUND)) {
      return { credentials: null, note: `${helper} has none for ${call.serverAddress}: ${helperAdvice(call)}` };
    }
    const how = answer.exitCode === null ? `was killed by ${answer.signal ?? 'a signal'}` : `failed with exit status ${answer.exitCode}`;
    return fail('auth', `${how}: ${helperSaid(answer.stdout, answer.stderr)}`);
  }
  let output: unknown;
  try {
    output = JSON.parse(answer.stdout);
  } catch {
    output = undefined;
  }
  const parsed = helperOutputSchema.safeParse(output);
  if (!parsed.success) {
    return fail('auth', 'answered something other than JSON {"ServerURL","Username","Secret"} (not shown: it may hold a secret)');
  }
  const { Username: username, Secret: secret } = parsed.data;
  if (secret === '') {
    return { credentials: null, note: `${helper} answered an empty Secret for ${call.serverAddress}: ${helperAdvice(call)}` };
  }
  if (username === IDENTITY_TOKEN_USERNAME) return { credentials: { kind: 'identity-token', identityToken: secret, source: helper } };
  if (username === '') return fail('auth', `answered an empty Username for ${call.serverAddress}`);
  return { credentials: { kind: 'password', username, password: secret, source: helper } };
}

function helperAdvice(call: CredentialHelperCall): string {
  return `run docker login ${call.serverAddress}, or set BATON_REGISTRY_USER and BATON_REGISTRY_PASSWORD`;
}

/** The first line of what a failing helper said, short and printable; withheld when it looks like credentials. */
function helperSaid(stdout: string, stderr: string): string {
  const text = stdout.trim() || stderr.trim();
  if (text === '') return 'it printed nothing';
  if (/\b(secret|password)\b"?\s*[:=]/i.test(text)) return 'its output is not shown: it may hold a secret';
  const line = text.split(/\r?\n/)[0]!.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
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
  return { kind: 'password', username, password, source: 'BATON_REGISTRY_USER/BATON_REGISTRY_PASSWORD' };
}

/** Where Docker keeps its client config: $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
export function dockerConfigPath(env: NodeJS.ProcessEnv): string {
  if (env.DOCKER_CONFIG) return path.join(env.DOCKER_CONFIG, 'config.json');
  return path.join(env.HOME || os.homedir(), '.docker', 'config.json');
}

/**
 * BATON_REGISTRY_USER/BATON_REGISTRY_PASSWORD win over the docker config file; a missing file means anonymous access.
 * A credential helper the config names is run through `runHelper`.
 */
export async function loadRegistryCredentials(
  registry: string,
  env: NodeJS.ProcessEnv,
  runHelper: RunCredentialHelper = runCredentialHelper,
): Promise<CredentialLookup> {
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
  const found = findDockerConfigCredentials(config, registry, file);
  if (found.from === 'auths') return { credentials: found.credentials };
  if (found.from === 'none') return { credentials: null };
  return credentialsFromHelper(found.helper, await runHelper(found.helper.executable, found.helper.serverAddress, env));
}
