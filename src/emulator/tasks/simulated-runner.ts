// The simulated runner: tasks are records moved through their states on the model's clock, their fate chosen by
// the app's failure-injection behaviour (EMULATOR_BEHAVIOUR label or image tag, see definition.ts behaviourOf).
import type { EmulatorTimings, TaskRecord } from '../task-record.js';
import type { TaskReports, TaskRunner, TaskRunnerFactory } from './runner.js';

export function simulatedRunner(timings: EmulatorTimings): TaskRunnerFactory {
  return (reports) => new SimulatedRunner(timings, reports);
}

class SimulatedRunner implements TaskRunner {
  readonly kind = 'simulated';
  /** `appId version` of versions (behaviour `lost`) that have already lost their one task. */
  private readonly lostVersions = new Set<string>();

  constructor(
    private readonly timings: EmulatorTimings,
    private readonly reports: TaskReports,
  ) {}

  launch(task: TaskRecord): void {
    this.reports.staging(task);
    if (task.behaviour !== 'stuck') this.reports.after(task, this.timings.stagingMs, () => this.reports.running(task));
  }

  /** Seeded tasks run (and are healthy, unless their behaviour says otherwise) from the start. */
  adopt(task: TaskRecord): void {
    if (task.behaviour === 'crash' || task.behaviour === 'lost') {
      this.running(task);
    } else if (task.healthChecked && task.behaviour === 'hc-kill') {
      this.reports.after(task, this.timings.healthyMs, () => this.reports.simulatedHealth(task));
    } else {
      if (task.healthChecked) this.reports.simulatedHealth(task, { announce: false });
      this.ready(task);
    }
  }

  /** Behaviours that act once a task runs: crash, the lost agent, then health checks (or readiness without them). */
  running(task: TaskRecord): void {
    const { crashMs, healthyMs } = this.timings;
    if (task.behaviour === 'crash') {
      this.reports.after(task, crashMs, () => this.reports.exited(task, { code: 1, signal: null }));
      return;
    }
    const versionKey = `${task.appId} ${task.version}`;
    if (task.behaviour === 'lost' && !this.lostVersions.has(versionKey)) {
      this.lostVersions.add(versionKey);
      this.reports.after(task, crashMs, () => this.reports.lost(task));
    }
    if (task.healthChecked) this.reports.after(task, healthyMs, () => this.reports.simulatedHealth(task));
    else this.ready(task);
  }

  /** `crash-after-healthy` crashes crashMs after it became ready. */
  ready(task: TaskRecord): void {
    if (task.behaviour === 'crash-after-healthy') {
      this.reports.after(task, this.timings.crashMs, () => this.reports.exited(task, { code: 1, signal: null }));
    }
  }

  kill(task: TaskRecord): void {
    this.reports.after(task, this.timings.killMs, () => this.reports.exited(task, { code: null, signal: 'SIGTERM' }));
  }

  abandonAll(): void {
    this.lostVersions.clear();
  }

  async close(): Promise<void> {
    this.abandonAll();
  }
}
