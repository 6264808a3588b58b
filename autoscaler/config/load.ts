import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { urlCredentials } from '../telemetry/scrub.js';
import { autoscalerConfigSchema, type AutoscalerConfig } from './schema.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** The secrets the config points at, read once from the environment. */
export interface Secrets {
  marathonBasic?: string;
  marathonToken?: string;
  influxPassword?: string;
  apiToken?: string;
}

export interface LoadedConfig {
  config: AutoscalerConfig;
  secrets: Secrets;
}

/** `serves: false` for a command that reads through the config without running the write API (a backtest): no API token needed. */
export interface ConfigUse {
  serves: boolean;
}

export async function loadConfigFile(file: string, env: NodeJS.ProcessEnv, use: ConfigUse = { serves: true }): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${file}: cannot read the config file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  return parseConfig(raw, env, file, use);
}

/** Validates a parsed config and resolves the secrets it names. Errors name the key: `influx.url: expected a URL`. */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv, file = 'config', use: ConfigUse = { serves: true }): LoadedConfig {
  const result = autoscalerConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(`${file}: ${formatIssues(result.error, raw)}`);
  const config = result.data;
  const secrets: Secrets = {};
  const fromEnv = (key: string, name: string | undefined): string | undefined => {
    if (!name) return undefined;
    const value = env[name];
    if (value === undefined || value === '') throw new ConfigError(`${file}: ${key}: environment variable ${name} is not set`);
    return value;
  };
  secrets.marathonBasic = fromEnv('marathon.credentialsEnv', config.marathon.credentialsEnv);
  if (secrets.marathonBasic !== undefined && !secrets.marathonBasic.includes(':')) {
    throw new ConfigError(`${file}: marathon.credentialsEnv: ${config.marathon.credentialsEnv} must hold "user:password"`);
  }
  secrets.marathonToken = fromEnv('marathon.tokenEnv', config.marathon.tokenEnv);
  secrets.influxPassword = fromEnv('influx.passwordEnv', config.influx.passwordEnv);
  const apiToken = env[config.apiTokenEnv];
  if (apiToken) secrets.apiToken = apiToken;
  else if (!config.readOnly && use.serves) {
    throw new ConfigError(
      `${file}: apiTokenEnv: environment variable ${config.apiTokenEnv} is not set; writes (POST/DELETE /apps) need a token. ` +
        'Set it, or set "readOnly": true to run without the write API',
    );
  }
  return { config, secrets };
}

/** One line per issue, each starting with the JSON path of the key it is about. */
export function formatIssues(error: z.ZodError, input: unknown): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join('.') || '(root)';
      if (issue.code === 'unrecognized_keys') return `${path}: unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined) return `${path}: is required`;
      return `${path}: ${issue.message}`;
    })
    .join('; ');
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/**
 * Every credential the daemon holds, for the scrubber: the environment's secrets, the userinfo of the two URLs, and the
 * InfluxDB "user:password" pair (so its base64 form is scrubbed as well).
 */
export function secretValues(loaded: LoadedConfig): string[] {
  const { config, secrets } = loaded;
  const values = Object.values(secrets).filter((value): value is string => typeof value === 'string');
  values.push(...urlCredentials(config.marathon.url), ...urlCredentials(config.influx.url));
  if (config.influx.username && secrets.influxPassword) values.push(`${config.influx.username}:${secrets.influxPassword}`);
  return values;
}
