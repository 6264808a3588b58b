import { READ_ONLY_APP_FIELDS } from '../marathon/types.js';
import { appSchema } from './app-schema.js';
import { checkAppRules } from './app-rules.js';
import { describeType, explainZodIssue, fromZodIssues, type Issue } from './issue.js';
import { findUnknownFields, unknownFieldWarning } from './unknown-fields.js';

export type { Issue } from './issue.js';

export interface ValidateOptions {
  /**
   * Fields that GET /v2/apps returns (version, tasks, deployments, ...). Marathon ignores them in a request, so by
   * default they are warnings; a config file should not carry them ('error').
   */
  readOnlyFields?: 'error' | 'warning';
}

export interface ValidationResult {
  errors: Issue[];
  warnings: Issue[];
}

/**
 * Checks an app definition the way Marathon 1.10 does before it answers 422: everything Marathon accepts passes
 * without errors. On top of that it warns about what Marathon silently ignores or has deprecated.
 */
export function validateAppDefinition(value: unknown, options: ValidateOptions = {}): ValidationResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { errors: [{ path: '/', message: `is ${describeType(value)}: expected a JSON object (an app definition)` }], warnings: [] };
  }
  const errors: Issue[] = [];
  const warnings: Issue[] = [];
  const definition: Record<string, unknown> = { ...(value as Record<string, unknown>) };

  for (const field of READ_ONLY_APP_FIELDS) {
    if (!(field in definition)) continue;
    delete definition[field];
    if (options.readOnlyFields === 'error') {
      errors.push({ path: `/${field}`, message: 'is a read-only field (GET /v2/apps returns it, a definition does not set it): remove it' });
    } else {
      warnings.push({ path: `/${field}`, message: 'is a read-only field (GET /v2/apps returns it): Marathon ignores it in a definition' });
    }
  }

  warnings.push(...deprecationWarnings(definition));
  warnings.push(...findUnknownFields(appSchema, definition).map(unknownFieldWarning));

  const parsed = appSchema.safeParse(definition, { error: explainZodIssue });
  if (!parsed.success) {
    errors.push(...fromZodIssues(parsed.error.issues));
    return { errors, warnings };
  }
  const rules = checkAppRules(parsed.data);
  return { errors: [...errors, ...rules.errors], warnings: [...warnings, ...rules.warnings] };
}

/** Fields Marathon still accepts but converts (since 1.5): say what to write instead. */
function deprecationWarnings(definition: Record<string, unknown>): Issue[] {
  const warnings: Issue[] = [];
  const deprecated = (path: string, advice: string) => warnings.push({ path, message: `is deprecated since Marathon 1.5: ${advice}` });
  const container = asObject(definition.container);
  const docker = asObject(container?.docker);
  const ipAddress = asObject(definition.ipAddress);
  const networkName = typeof ipAddress?.networkName === 'string' ? ipAddress.networkName : '<network name>';

  if (docker?.network != null) {
    const replacement: Record<string, string> = {
      HOST: 'use "networks": [{"mode": "host"}]',
      BRIDGE: 'use "networks": [{"mode": "container/bridge"}]',
      USER: `use "networks": [{"mode": "container", "name": "${networkName}"}] (and drop ipAddress)`,
      NONE: 'remove it',
    };
    deprecated('/container/docker/network', replacement[String(docker.network)] ?? 'use networks');
  }
  if (docker?.portMappings != null) deprecated('/container/docker/portMappings', 'move the list to container.portMappings');
  if (ipAddress != null) {
    deprecated(
      '/ipAddress',
      docker?.network === 'USER'
        ? 'name the network in networks[].name instead'
        : `use "networks": [{"mode": "container", "name": "${networkName}"}] and container.portMappings`,
    );
  }
  if (definition.ports != null) deprecated('/ports', 'use portDefinitions, e.g. [{"port": 0, "name": "http"}]');
  if (definition.uris != null) deprecated('/uris', 'use fetch, e.g. [{"uri": "https://..."}]');
  if (definition.residency != null) warnings.push({ path: '/residency', message: 'is deprecated and has no effect: remove it' });
  return warnings;
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
