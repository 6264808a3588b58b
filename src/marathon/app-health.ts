import type { AppInfo } from './types.js';

/**
 * The one definition of "this app runs healthy" in Marathon's terms: no deployment runs on it, as many tasks run as it asks
 * for, and with health checks every one of them is healthy (Marathon reports tasksHealthy 0 for apps without checks).
 */
export function isAppHealthy(app: AppInfo): boolean {
  const instances = app.instances ?? 0;
  const hasHealthChecks = Array.isArray(app.healthChecks) && app.healthChecks.length > 0;
  return (
    (app.deployments ?? []).length === 0 &&
    (app.tasksRunning ?? 0) === instances &&
    (!hasHealthChecks || (app.tasksHealthy ?? 0) === instances)
  );
}
