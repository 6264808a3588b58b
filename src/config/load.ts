import path from 'node:path';
import type { Issue } from './app-definition.js';
import type { EnvironmentConfig } from './environments.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    readonly file: string,
    readonly pointer?: string,
    readonly issues: Issue[] = [],
  ) {
    super(message);
  }
}

export function resolveConfigDir(flag?: string): string {
  return path.resolve(flag ?? process.env.BATON_CONFIG_DIR ?? 'deploy-configs');
}

export async function loadEnvironments(configDir: string): Promise<Map<string, EnvironmentConfig>> {
  throw new ConfigError('not implemented yet', path.join(configDir, 'environments.json'));
}

export async function listApps(configDir: string): Promise<string[]> {
  throw new ConfigError('not implemented yet', configDir);
}

export interface LoadedAppDefinition {
  definition: Record<string, unknown> & { id: string };
  files: string[];
  warnings: Issue[];
}

export async function loadAppDefinition(configDir: string, app: string, env: string): Promise<LoadedAppDefinition> {
  throw new ConfigError(`not implemented yet: ${app}/${env}`, configDir);
}
