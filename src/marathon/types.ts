// Shapes of what Marathon 1.10 returns, as far as Baton reads them. Validated with zod at the boundary
// (see schemas.ts); these are the TypeScript views of the parsed values.
export type JsonObject = Record<string, unknown>;

/** An app definition as Baton sends it: a plain JSON object whose shape is checked by src/config/app-definition.ts. */
export type AppDefinition = JsonObject & { id: string };

export interface HealthCheckResult {
  alive: boolean;
  consecutiveFailures?: number;
  firstSuccess?: string | null;
  lastFailure?: string | null;
  lastSuccess?: string | null;
  lastFailureCause?: string | null;
  instanceId?: string;
  taskId?: string;
}

export interface MarathonTask {
  id: string;
  appId: string;
  host?: string;
  state?: string;
  ports?: number[];
  slaveId?: string;
  stagedAt?: string | null;
  startedAt?: string | null;
  version?: string;
  healthCheckResults?: HealthCheckResult[];
}

export interface TaskFailure {
  appId?: string;
  host?: string;
  message?: string;
  state?: string;
  taskId?: string;
  timestamp?: string;
  version?: string;
}

export interface VersionInfo {
  lastScalingAt?: string;
  lastConfigChangeAt?: string;
}

/** GET /v2/apps/{id} → app: the definition plus the read-only runtime fields. */
export interface AppInfo extends JsonObject {
  id: string;
  instances?: number;
  cpus?: number;
  mem?: number;
  version?: string;
  versionInfo?: VersionInfo;
  labels?: Record<string, string>;
  healthChecks?: unknown[];
  tasks?: MarathonTask[];
  tasksStaged?: number;
  tasksRunning?: number;
  tasksHealthy?: number;
  tasksUnhealthy?: number;
  deployments?: { id: string }[];
  lastTaskFailure?: TaskFailure | null;
}

export interface DeploymentAction {
  action: string;
  app?: string;
  pod?: string;
  readinessCheckResults?: unknown[];
}

export interface Deployment {
  id: string;
  version: string;
  affectedApps: string[];
  affectedPods?: string[];
  steps?: { actions: DeploymentAction[] }[];
  currentActions: DeploymentAction[];
  currentStep: number;
  totalSteps: number;
}

/** PUT /v2/apps/{id}, POST /v2/apps/{id}/restart, DELETE /v2/deployments/{id}: what Marathon started. */
export interface DeploymentResult {
  deploymentId: string;
  version: string;
}

export interface MarathonErrorDetail {
  path: string;
  errors: string[];
}

/** A server-sent event from /v2/events, parsed. `data` is the JSON payload; eventType is its `eventType` field. */
export interface MarathonEvent {
  eventType: string;
  data: JsonObject;
}

/** Fields Marathon adds to GET answers; never send them back (a `version` means "roll back to it"). */
export const READ_ONLY_APP_FIELDS = [
  'version',
  'versionInfo',
  'tasks',
  'tasksStaged',
  'tasksRunning',
  'tasksHealthy',
  'tasksUnhealthy',
  'deployments',
  'lastTaskFailure',
  'tasksStats',
  'readinessCheckResults',
  'taskStats',
] as const;
