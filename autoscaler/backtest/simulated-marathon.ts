import type { AppInfo, DeploymentResult, MarathonTask } from '../../src/marathon/types.js';
import type { MarathonPort } from '../cycle/run-cycle.js';

interface SimulatedTask {
  id: string;
  stagedAt: number;
  /** When it runs (and passes its health checks): stagedAt + the start-up time. */
  runningAt: number;
}

/**
 * One Marathon app on a simulated clock, as the autoscaler's cycle sees it: a scale-up launches tasks that run (and are
 * healthy) `startupMs` later, with a deployment in progress until then; a scale-down kills at once, the youngest
 * first unless the app says "killSelection": "OldestFirst" (Marathon 1.10's rule). Everything else of the app (cpus,
 * mem, health checks, labels) is the real app's definition.
 */
export class SimulatedMarathon implements MarathonPort {
  private tasks: SimulatedTask[] = [];
  private deploymentUntil: number | null = null;
  private launched = 0;
  private deployments = 0;
  private instances: number;

  constructor(
    private readonly definition: AppInfo,
    initialInstances: number,
    private readonly startupMs: number,
    private readonly clock: { now(): number },
  ) {
    this.instances = initialInstances;
    const since = clock.now() - 24 * 3600_000;
    for (let index = 0; index < initialInstances; index++) this.launch(since, since);
  }

  /** Tasks that run now (they get the usage). */
  runningTasks(now: number): number {
    let running = 0;
    for (const task of this.tasks) if (task.runningAt <= now) running++;
    return running;
  }

  get targetInstances(): number {
    return this.instances;
  }

  runningTaskIds(now: number): string[] {
    return this.tasks.filter((task) => task.runningAt <= now).map((task) => task.id);
  }

  async visitApps(_embed: string[], visit: (app: AppInfo) => void): Promise<number> {
    const now = this.clock.now();
    if (this.deploymentUntil !== null && this.deploymentUntil <= now) this.deploymentUntil = null;
    const hasHealthChecks = Array.isArray(this.definition.healthChecks) && this.definition.healthChecks.length > 0;
    const tasks: MarathonTask[] = this.tasks.map((task) => {
      const running = task.runningAt <= now;
      const view: MarathonTask = {
        id: task.id,
        appId: this.definition.id,
        state: running ? 'TASK_RUNNING' : 'TASK_STAGING',
        stagedAt: new Date(task.stagedAt).toISOString(),
        startedAt: running ? new Date(task.runningAt).toISOString() : null,
      };
      if (hasHealthChecks && running) view.healthCheckResults = [{ alive: true } as never];
      return view;
    });
    visit({
      ...this.definition,
      instances: this.instances,
      tasks,
      deployments: this.deploymentUntil === null ? [] : [{ id: `backtest-${this.deployments}` }],
    });
    return 1;
  }

  async scaleApp(_appId: string, instances: number): Promise<DeploymentResult> {
    const now = this.clock.now();
    this.instances = instances;
    this.deployments += 1;
    if (instances > this.tasks.length) {
      while (this.tasks.length < instances) this.launch(now, now + this.startupMs);
      this.deploymentUntil = now + this.startupMs;
    } else if (instances < this.tasks.length) {
      const oldestFirst = this.definition.killSelection === 'OldestFirst';
      const byAge = [...this.tasks].sort((a, b) => a.stagedAt - b.stagedAt);
      const kept = oldestFirst ? byAge.slice(byAge.length - instances) : byAge.slice(0, instances);
      this.tasks = kept;
    }
    return { deploymentId: `backtest-${this.deployments}`, version: new Date(now).toISOString() };
  }

  private launch(stagedAt: number, runningAt: number): void {
    this.launched += 1;
    const appPart = this.definition.id.slice(1).replace(/\//g, '_');
    const uuid = `00000000-0000-4000-8000-${String(this.launched).padStart(12, '0')}`;
    this.tasks.push({ id: `${appPart}.instance-${uuid}._app.1`, stagedAt, runningAt });
  }
}
