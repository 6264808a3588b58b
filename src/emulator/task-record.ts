// A task as the emulator records it, and the timings of the simulation: shared by the model and the task runners.
import type { Behaviour, JsonObject } from './definition.js';

export interface EmulatorTimings {
  stagingMs: number;
  healthyMs: number;
  crashMs: number;
  killMs: number;
  backoffMs: number;
}

export type MesosState =
  | 'TASK_STAGING'
  | 'TASK_RUNNING'
  | 'TASK_KILLING'
  | 'TASK_FINISHED'
  | 'TASK_FAILED'
  | 'TASK_KILLED'
  | 'TASK_LOST';

export interface HealthRecord {
  alive: boolean;
  consecutiveFailures: number;
  firstSuccess: string | null;
  lastSuccess: string | null;
  lastFailure: string | null;
  lastFailureCause: string | null;
}

export interface TaskRecord {
  id: string;
  instanceId: string;
  incarnation: number;
  appId: string;
  /** The app version the task was launched from. */
  version: string;
  /** Bumped by config changes and restarts: tasks of an older generation are replaced by a RestartApplication. */
  generation: number;
  behaviour: Behaviour;
  healthChecked: boolean;
  state: MesosState;
  /** A kill was sent. Without Marathon's task_killing feature the state stays as is until TASK_KILLED. */
  killing: boolean;
  /** The message of the TASK_KILLED status update that ends the kill. */
  killMessage: string;
  health: HealthRecord | null;
  host: string;
  slaveId: string;
  ipAddress: string;
  ports: number[];
  servicePorts: number[];
  stagedAt: number;
  startedAt: number | null;
  cancelTimers: (() => void)[];
}

/** Mesos' command executor escalates SIGTERM to SIGKILL after 3 s when the app sets no taskKillGracePeriodSeconds. */
export const DEFAULT_KILL_GRACE_PERIOD_MS = 3000;

export function killGracePeriodMsOf(definition: JsonObject): number {
  const seconds = definition.taskKillGracePeriodSeconds;
  return typeof seconds === 'number' ? seconds * 1000 : DEFAULT_KILL_GRACE_PERIOD_MS;
}

