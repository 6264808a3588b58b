import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { validateAppDefinition } from './app-definition.js';
import { parseAppDeploySettings, type AppDeploySettings } from './deploy-strategy.js';
import { parseEnvironments, type EnvironmentConfig } from './environments.js';
import { formatConfigIssue, type ConfigIssue, type Issue } from './issue.js';
import { parseJsonText } from './json-text.js';
import { applyMergePatch } from './merge-patch.js';

export { formatConfigIssue, type ConfigIssue } from './issue.js';

// The file-system shell around the pure parts: read files, hand their text and objects to the parsers and the
// validator, and turn every problem into a ConfigError that names the file (and the line or JSON path).

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly file: string;
  readonly pointer?: string;
  readonly issues: ConfigIssue[];
  /** Warnings found alongside the errors (e.g. "did you mean instances?"), which often explain them. */
  readonly warnings: ConfigIssue[];

  constructor(issues: ConfigIssue[], warnings: ConfigIssue[] = []) {
    const first = issues[0]!;
    super(issues.length === 1 ? formatConfigIssue(first) : `${issues.length} problems:\n${issues.map((issue) => `  ${formatConfigIssue(issue)}`).join('\n')}`);
    this.file = first.file;
    if (first.path !== '') this.pointer = first.path;
    this.issues = issues;
    this.warnings = warnings;
  }
}

export const environmentsFileName = 'environments.json';
export const baseFileName = 'base.json';
export const deployFileSuffix = '-deploy.json';
export const deploySettingsFileName = 'baton.json';

/** --config-dir, else $BATON_CONFIG_DIR, else ./deploy-configs. Kept relative so messages show short paths. */
export function resolveConfigDir(flag?: string): string {
  const chosen = flag || process.env.BATON_CONFIG_DIR || 'deploy-configs';
  return path.normalize(chosen);
}

export async function loadEnvironments(configDir: string): Promise<Map<string, EnvironmentConfig>> {
  const file = path.join(configDir, environmentsFileName);
  const value = await readJsonFile(file);
  const result = parseEnvironments(value);
  if (!result.ok) throw new ConfigError(result.issues.map((issue) => ({ ...issue, file })));
  return result.environments;
}

/** App folders: sub-folders of the config dir holding at least one <env>-deploy.json, sorted by name. */
export async function listApps(configDir: string): Promise<string[]> {
  const entries = await readDirectory(configDir);
  const apps: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    if ((await listAppEnvironments(configDir, entry.name)).length > 0) apps.push(entry.name);
  }
  return apps.sort();
}

/** The environments an app has a <env>-deploy.json for, sorted by name. */
export async function listAppEnvironments(configDir: string, app: string): Promise<string[]> {
  const entries = await readDirectory(path.join(configDir, app));
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(deployFileSuffix) && entry.name.length > deployFileSuffix.length)
    .map((entry) => entry.name.slice(0, -deployFileSuffix.length))
    .sort();
}

export interface LoadedAppDefinition {
  definition: Record<string, unknown> & { id: string };
  /** The files merged, base first. */
  files: string[];
  warnings: ConfigIssue[];
}

export interface ConfigDocument {
  file: string;
  value: unknown;
}

/**
 * Reads <app>/base.json (optional) and <app>/<env>-deploy.json, merges the env file over base (JSON merge patch:
 * objects merge, arrays and values replace, null removes) and validates the result as a Marathon app definition.
 */
export async function loadAppDefinition(configDir: string, app: string, env: string): Promise<LoadedAppDefinition> {
  const appDir = path.join(configDir, app);
  const envFile = path.join(appDir, `${env}${deployFileSuffix}`);
  if (!isPlainName(app)) throw new ConfigError([{ file: appDir, path: '', message: `"${app}" is not an app folder name: expected a name without "/" or ".."` }]);
  if (!isPlainName(env)) throw new ConfigError([{ file: envFile, path: '', message: `"${env}" is not an environment name` }]);

  const documents: ConfigDocument[] = [];
  const baseFile = path.join(appDir, baseFileName);
  const base = await readJsonFile(baseFile, { optional: true });
  if (base !== undefined) documents.push({ file: baseFile, value: base });
  let envValue: unknown;
  try {
    envValue = await readJsonFile(envFile);
  } catch (error) {
    if (error instanceof ConfigError && error.issues[0]?.message.startsWith('does not exist')) {
      const known = await listAppEnvironments(configDir, app).catch(() => []);
      throw new ConfigError([
        {
          file: envFile,
          path: '',
          message: known.length
            ? `does not exist: ${app} has no config for ${env} (it has: ${known.join(', ')})`
            : `does not exist: no app "${app}" in ${configDir} (expected ${path.join(appDir, `<env>${deployFileSuffix}`)})`,
        },
      ]);
    }
    throw error;
  }
  documents.push({ file: envFile, value: envValue });
  return resolveAppDefinition(documents);
}

/** <app>/baton.json: the app's deploy strategy and tests; absent means a rolling deploy without tests. */
export async function loadAppDeploySettings(configDir: string, app: string): Promise<AppDeploySettings> {
  const file = path.join(configDir, app, deploySettingsFileName);
  if (!isPlainName(app)) throw new ConfigError([{ file, path: '', message: `"${app}" is not an app folder name: expected a name without "/" or ".."` }]);
  const value = await readJsonFile(file, { optional: true });
  if (value === undefined) return { strategy: 'rolling' };
  const result = parseAppDeploySettings(value);
  if (!result.ok) throw new ConfigError(result.issues.map((issue) => ({ ...issue, file })));
  return result.settings;
}

/** The pure part of loading: merge the documents in order and validate; problems are attributed to the files. */
export function resolveAppDefinition(documents: ConfigDocument[]): LoadedAppDefinition {
  const files = documents.map((document) => document.file);
  const lastFile = files[files.length - 1]!;
  const notObjects: ConfigIssue[] = documents
    .filter((document) => !isPlainObject(document.value))
    .map((document) => ({ file: document.file, path: '/', message: 'expected a JSON object (an app definition or part of one)' }));
  if (notObjects.length > 0) throw new ConfigError(notObjects);

  // "$schema" lets editors check a file (schemas/app-definition.schema.json): it is the file's, never sent to Marathon.
  const merged = documents.reduce<unknown>((target, document) => applyMergePatch(target, withoutSchemaKey(document.value)), {});
  const { errors, warnings } = validateAppDefinition(merged, { readOnlyFields: 'error' });
  const attribute = (issue: Issue): ConfigIssue => ({ ...issue, file: fileDefining(documents, issue.path) ?? lastFile });
  if (errors.length > 0) throw new ConfigError(errors.map(attribute), warnings.map(attribute));
  return { definition: merged as LoadedAppDefinition['definition'], files, warnings: warnings.map(attribute) };
}

function withoutSchemaKey(value: unknown): unknown {
  if (!isPlainObject(value) || !('$schema' in value)) return value;
  const { $schema: _schema, ...rest } = value as Record<string, unknown>;
  return rest;
}

/** The last file that sets the value at the pointer (or its nearest parent): that is where to fix it. */
function fileDefining(documents: ConfigDocument[], pointer: string): string | undefined {
  const segments = pointer === '/' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  for (let depth = segments.length; depth >= 1; depth--) {
    for (let i = documents.length - 1; i >= 0; i--) {
      if (hasPath(documents[i]!.value, segments.slice(0, depth))) return documents[i]!.file;
    }
  }
  return undefined;
}

function hasPath(value: unknown, segments: string[]): boolean {
  let current = value;
  for (const segment of segments) {
    if (typeof current !== 'object' || current === null || !Object.prototype.hasOwnProperty.call(current, segment)) return false;
    current = (current as Record<string, unknown>)[segment];
  }
  return true;
}

async function readJsonFile(file: string, options: { optional: true }): Promise<unknown | undefined>;
async function readJsonFile(file: string): Promise<unknown>;
async function readJsonFile(file: string, options: { optional?: boolean } = {}): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && options.optional) return undefined;
    throw new ConfigError([{ file, path: '', message: describeReadError(error) }]);
  }
  const parsed = parseJsonText(text);
  if (!parsed.ok) {
    throw new ConfigError([{ file, path: '', line: parsed.line, column: parsed.column, message: `invalid JSON: ${parsed.message}` }]);
  }
  return parsed.value;
}

async function readDirectory(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw new ConfigError([{ file: dir, path: '', message: describeReadError(error) }]);
  }
}

function describeReadError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read: permission denied';
    case 'EISDIR':
      return 'is a directory: expected a JSON file';
    case 'ENOTDIR':
      return 'is not a directory';
    default:
      return `cannot be read: ${(error as Error).message}`;
  }
}

function isPlainName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\\]/.test(name);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
