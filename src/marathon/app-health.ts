import type { AppInfo } from './types.js';

/** An app's task counts as Marathon reports them (tasksHealthy is 0 for apps without health checks). */
export interface TaskCounts {
  healthy: number;
  running: number;
  staged: number;
  unhealthy: number;
  target: number;
  hasHealthChecks: boolean;
}

export type AppHealth = 'healthy' | 'deploying' | 'degraded' | 'suspended';

export function taskCountsOf(app: AppInfo): TaskCounts {
  return {
    healthy: app.tasksHealthy ?? 0,
    running: app.tasksRunning ?? 0,
    staged: app.tasksStaged ?? 0,
    unhealthy: app.tasksUnhealthy ?? 0,
    target: app.instances ?? 0,
    hasHealthChecks: Array.isArray(app.healthChecks) && app.healthChecks.length > 0,
  };
}

/**
 * The one definition of an app's health, for status, deploy and rollback alike: a running deployment is "deploying";
 * otherwise healthy means exactly as many tasks running as asked for, none staging, and with health checks every one of
 * them healthy and none unhealthy. Scaled to zero with nothing left running is "suspended". Anything else is degraded.
 */
export function appHealthOf(counts: TaskCounts, deploying: boolean): AppHealth {
  if (deploying) return 'deploying';
  if (counts.target === 0 && counts.running === 0 && counts.staged === 0) return 'suspended';
  const allRunning = counts.running === counts.target && counts.staged === 0;
  const allHealthy = !counts.hasHealthChecks || (counts.healthy === counts.target && counts.unhealthy === 0);
  return allRunning && allHealthy ? 'healthy' : 'degraded';
}

/** The app runs as asked, healthy (or suspended, which is what zero instances ask for), with no deployment on it. */
export function isAppHealthy(app: AppInfo): boolean {
  const health = appHealthOf(taskCountsOf(app), (app.deployments ?? []).length > 0);
  return health === 'healthy' || health === 'suspended';
}
