import path from 'node:path';
import { ConfigError, listAppEnvironments, listApps, loadAppDefinition, loadAppDeploySettings, loadEnvironments, type LoadedAppDefinition } from './load.js';
import type { AppDeploySettings } from './deploy-strategy.js';
import type { DatacenterConfig, EnvironmentConfig } from './environments.js';
import { splitList } from '../status/selection.js';
import { CliError } from '../outcome/cli-error.js';
import { ExitCode } from '../outcome/exit-codes.js';

// deploy-configs as the read-side commands (status, history, rollback) load it: every config problem becomes an exit-2 CliError.

export function configCliError(error: unknown): unknown {
  if (!(error instanceof ConfigError)) return error;
  return new CliError(error.message, ExitCode.invalidInput, 'invalid-config', { file: error.file, path: error.pointer, issues: error.issues });
}

async function orCliError<T>(load: Promise<T>): Promise<T> {
  try {
    return await load;
  } catch (error) {
    throw configCliError(error);
  }
}

export function environmentsOf(configDir: string): Promise<Map<string, EnvironmentConfig>> {
  return orCliError(loadEnvironments(configDir));
}

export function environmentNamed(environments: Map<string, EnvironmentConfig>, name: string, configDir: string): EnvironmentConfig {
  const env = environments.get(name);
  if (env) return env;
  throw new CliError(
    `--env ${name}: no such environment in ${path.join(configDir, 'environments.json')} (known: ${[...environments.keys()].join(', ')})`,
    ExitCode.invalidInput,
    'unknown-environment',
    { flag: '--env' },
  );
}

export function appsOf(configDir: string): Promise<string[]> {
  return orCliError(listApps(configDir));
}

export function environmentsOfApp(configDir: string, app: string): Promise<string[]> {
  return orCliError(listAppEnvironments(configDir, app));
}

export function appDefinitionOf(configDir: string, app: string, env: string): Promise<LoadedAppDefinition> {
  return orCliError(loadAppDefinition(configDir, app, env));
}

export function appDeploySettingsOf(configDir: string, app: string): Promise<AppDeploySettings> {
  return orCliError(loadAppDeploySettings(configDir, app));
}

/** --dc: one datacenter, a comma-separated list (in the environment's order), or "all"/absent for every one. */
export function selectDatacenters(env: EnvironmentConfig, dcFlag: string | undefined): DatacenterConfig[] {
  const names = dcFlag === undefined ? [] : splitList([dcFlag]);
  if (names.length === 0 || (names.length === 1 && names[0] === 'all')) return env.datacenters;
  const unknown = names.filter((name) => !env.datacenters.some((d) => d.name === name));
  if (unknown.length > 0) {
    throw new CliError(
      `--dc ${dcFlag}: ${env.name} has no datacenter ${unknown.join(', ')} (expected one or more of: ${env.datacenters.map((d) => d.name).join(', ')}, comma-separated, or all)`,
      ExitCode.invalidInput,
      'unknown-datacenter',
      { flag: '--dc' },
    );
  }
  return env.datacenters.filter((d) => names.includes(d.name));
}
