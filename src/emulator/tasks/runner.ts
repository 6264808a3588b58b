// What runs a task: the model (model.ts) decides Marathon's rules and tells a runner when a task is launched, runs,
// becomes ready or is killed; the runner reports back what the task did. Two runners: the simulation on the clock
// (simulated-runner.ts) and real processes on 127.0.0.1 (process-runner.ts).
import type { JsonObject } from '../definition.js';
import type { TaskRecord } from '../task-record.js';

/** How a task's process ended: an exit code, or the signal that ended it. */
export interface TaskExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One health check result, as Marathon's HealthCheckWorker reports it (HealthResult). */
export type ProbeResult = { kind: 'healthy' } | { kind: 'unhealthy'; cause: string } | { kind: 'ignored' };

/** Where a task runs (Mesos' offer): the agent's host and the host ports it was given. */
export interface Placement {
  host: string;
  ipAddress: string;
  ports: number[];
}

/** What a runner reports to the model. Reports about a task the model no longer knows are ignored. */
export interface TaskReports {
  /** The task was placed on an agent (its host ports are known): TASK_STAGING. */
  staging(task: TaskRecord, placement?: Placement): void;
  /** The task's command runs: TASK_RUNNING. */
  running(task: TaskRecord): void;
  /** The task's command ended (by itself, or after a kill). */
  exited(task: TaskRecord, exit: TaskExit): void;
  /** Simulated only: the task's agent was removed. */
  lost(task: TaskRecord): void;
  /** Simulated only: the task's health as its behaviour dictates (`announce: false`: set silently, for seeded tasks). */
  simulatedHealth(task: TaskRecord, options?: { announce: boolean }): void;
  /** A real health check of the task answered. */
  probed(task: TaskRecord, result: ProbeResult): void;
  /** Runs `run` after `ms` on the model's clock; cancelled when the task is killed or ends. */
  after(task: TaskRecord, ms: number, run: () => void): void;
}

export interface TaskRunner {
  readonly kind: 'simulated' | 'processes';
  /** A new task: place it, report staging, start it. */
  launch(task: TaskRecord, definition: JsonObject): void;
  /** A task the emulator starts with (seeded apps), already marked TASK_RUNNING by the model. */
  adopt(task: TaskRecord, definition: JsonObject): void;
  /** The model marked the task TASK_RUNNING. */
  running(task: TaskRecord, definition: JsonObject): void;
  /** The task became ready for deployments (healthy, or running without health checks). */
  ready(task: TaskRecord): void;
  /** Stop the task: SIGTERM, SIGKILL after `gracePeriodMs`; report exited when it is gone. */
  kill(task: TaskRecord, gracePeriodMs: number): void;
  /** Forget every task at once, without reports (the model was reset or disposed). */
  abandonAll(): void;
  /** Stops every task and waits until each is gone. */
  close(): Promise<void>;
}

export type TaskRunnerFactory = (reports: TaskReports) => TaskRunner;
