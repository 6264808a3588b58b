import type { AppInfo, MarathonTask } from '../../src/marathon/types.js';
import type { AppView, TaskView } from '../policy/types.js';

/** Marathon's app (from GET /v2/apps?embed=apps.tasks&embed=apps.deployments) as the decision function sees it. */
export function toAppView(app: AppInfo): AppView {
  const hasHealthChecks = Array.isArray(app.healthChecks) && app.healthChecks.length > 0;
  return {
    id: app.id,
    instances: typeof app.instances === 'number' ? app.instances : 0,
    // Marathon's own defaults when a definition leaves them out.
    cpus: typeof app.cpus === 'number' && app.cpus > 0 ? app.cpus : 1,
    mem: typeof app.mem === 'number' && app.mem > 0 ? app.mem : 128,
    hasHealthChecks,
    deploymentInProgress: Array.isArray(app.deployments) && app.deployments.length > 0,
    tasks: (app.tasks ?? []).map((task) => toTaskView(task, hasHealthChecks)),
  };
}

function toTaskView(task: MarathonTask, hasHealthChecks: boolean): TaskView {
  const results = task.healthCheckResults ?? [];
  const view: TaskView = {
    id: task.id,
    state: task.state ?? 'TASK_UNKNOWN',
    healthy: hasHealthChecks ? results.length > 0 && results.every((r) => r.alive) : null,
    startedAt: parseTime(task.startedAt),
  };
  if (task.version) view.version = task.version;
  return view;
}

function parseTime(value: string | null | undefined): number | null {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}
