import { access, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { EnvironmentConfig } from './environments.js';
import {
  baseFileName,
  ConfigError,
  deployFileSuffix,
  deploySettingsFileName,
  environmentsFileName,
  listAppEnvironments,
  listApps,
  loadAppDefinition,
  loadAppDeploySettings,
  loadEnvironments,
  type ConfigIssue,
} from './load.js';

// Everything `baton validate` checks, offline: environments.json, and every <app>/<env>-deploy.json merged with
// its base.json and validated, plus env files for environments that environments.json does not define.

export interface AppEnvironmentCheck {
  app: string;
  env: string;
  files: string[];
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}

export interface ConfigCheckReport {
  ok: boolean;
  configDir: string;
  environments: { file: string; names: string[]; errors: ConfigIssue[] };
  results: AppEnvironmentCheck[];
  /** Problems that belong to no single app/environment: stray files, folders without env files. */
  warnings: ConfigIssue[];
}

/** Throws a ConfigError only when the config dir itself cannot be read. */
export async function checkConfigDir(configDir: string): Promise<ConfigCheckReport> {
  const environmentsFile = path.join(configDir, environmentsFileName);
  let environments: Map<string, EnvironmentConfig> | undefined;
  let environmentErrors: ConfigIssue[] = [];
  const apps = await listApps(configDir);
  try {
    environments = await loadEnvironments(configDir);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    environmentErrors = error.issues;
  }
  const knownEnvironments = environments ? [...environments.keys()] : [];

  const results: AppEnvironmentCheck[] = [];
  for (const app of apps) {
    const envs = orderEnvironments(await listAppEnvironments(configDir, app), knownEnvironments);
    const checks = [];
    for (const env of envs) checks.push(await checkAppEnvironment(configDir, app, env, environments));
    // <app>/baton.json is the app's, not an environment's: its problems are told once, with the app's first environment.
    const settingsErrors = await loadAppDeploySettings(configDir, app).then(
      () => [],
      (error: unknown) => {
        if (!(error instanceof ConfigError)) throw error;
        return error.issues;
      },
    );
    if (checks[0]) checks[0].errors.push(...settingsErrors);
    results.push(...checks);
  }
  const warnings = await strayFileWarnings(configDir, apps);
  const ok = environmentErrors.length === 0 && results.every((result) => result.errors.length === 0);
  return { ok, configDir, environments: { file: environmentsFile, names: knownEnvironments, errors: environmentErrors }, results, warnings };
}

async function checkAppEnvironment(
  configDir: string,
  app: string,
  env: string,
  environments: Map<string, EnvironmentConfig> | undefined,
): Promise<AppEnvironmentCheck> {
  const envFile = path.join(configDir, app, `${env}${deployFileSuffix}`);
  const errors: ConfigIssue[] = [];
  if (environments && !environments.has(env)) {
    errors.push({
      file: envFile,
      path: '',
      message: `is for environment "${env}", which ${path.join(configDir, environmentsFileName)} does not define (it defines: ${[...environments.keys()].join(', ')})`,
    });
  }
  const baseFile = path.join(configDir, app, baseFileName);
  try {
    const loaded = await loadAppDefinition(configDir, app, env);
    return { app, env, files: loaded.files, errors, warnings: loaded.warnings };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const files = (await exists(baseFile)) ? [baseFile, envFile] : [envFile];
    return { app, env, files, errors: [...errors, ...error.issues], warnings: error.warnings };
  }
}

/** Environments in environments.json order first (qa, yz, prod), then the unknown ones by name. */
function orderEnvironments(envs: string[], known: string[]): string[] {
  const rank = (env: string) => (known.includes(env) ? known.indexOf(env) : known.length);
  return [...envs].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

async function strayFileWarnings(configDir: string, apps: string[]): Promise<ConfigIssue[]> {
  const warnings: ConfigIssue[] = [];
  for (const entry of await readdir(configDir, { withFileTypes: true })) {
    const entryPath = path.join(configDir, entry.name);
    if (entry.name.startsWith('.')) continue;
    if (entry.isDirectory() && !apps.includes(entry.name)) {
      warnings.push({ file: entryPath, path: '', message: `holds no <env>${deployFileSuffix}: not an app folder, nothing in it is checked` });
    }
    if (!entry.isDirectory()) continue;
    for (const file of await readdir(entryPath, { withFileTypes: true })) {
      if (!file.isFile() || file.name.startsWith('.') || !file.name.endsWith('.json')) continue;
      if (file.name === baseFileName || file.name === deploySettingsFileName || (file.name.endsWith(deployFileSuffix) && file.name !== deployFileSuffix)) continue;
      warnings.push({
        file: path.join(entryPath, file.name),
        path: '',
        message: `is ignored: app folders hold ${baseFileName} and <env>${deployFileSuffix} files (e.g. qa${deployFileSuffix})`,
      });
    }
  }
  return warnings;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
