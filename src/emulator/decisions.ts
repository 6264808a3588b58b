// What Marathon's deployment actors decide at each moment, as pure functions of the task picture:
// which tasks to kill, how many to launch, and whether the current deployment step is finished.

export interface TaskPicture {
  id: string;
  /** Launched from the app's current configuration (not an older config or a pre-restart incarnation). */
  current: boolean;
  /** TASK_RUNNING, and healthy when the app has health checks. */
  ready: boolean;
  /** A kill was requested and TASK_KILLED has not arrived yet. */
  killing: boolean;
  /** Epoch ms, for killSelection. */
  stagedAt: number;
}

export type Goal =
  /** No deployment: replace failed instances, nothing more (Marathon kills surplus only in its periodic scale check). */
  | { kind: 'steady'; instances: number }
  /** StartApplication: the app exists with 0 instances; done at once. */
  | { kind: 'start' }
  | { kind: 'scale'; instances: number }
  | { kind: 'restart'; instances: number; minimumHealthCapacity: number; maximumOverCapacity: number }
  | { kind: 'stop' };

export type KillSelection = 'YOUNGEST_FIRST' | 'OLDEST_FIRST';

export interface Decision {
  kill: string[];
  launch: number;
  /** The step driven by this goal has reached its target (always false for 'steady'). */
  done: boolean;
}

/** Rounds away float noise before ceil/floor (10 × 0.3 must be 3, not 3.0000000000000004). */
function stable(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}

/** Marathon's TaskReplaceActor sizing: minimum healthy instances and the ceiling of instances during the upgrade. */
export function restartCapacity(instances: number, minimumHealthCapacity: number, maximumOverCapacity: number, running: number) {
  const minHealthy = Math.ceil(stable(instances * minimumHealthCapacity));
  let maxCapacity = Math.floor(stable(instances * (1 + maximumOverCapacity)));
  // With no room above the minimum, Marathon allows one extra instance so the upgrade can make progress.
  if (minHealthy === maxCapacity && maxCapacity <= running) maxCapacity += 1;
  return { minHealthy, maxCapacity };
}

/** Orders candidates for killing: not-ready first (staging/unhealthy, like Marathon's ScalingProposition), then by killSelection. */
export function killOrder(tasks: TaskPicture[], selection: KillSelection): TaskPicture[] {
  // Tasks come in launch order, so the position breaks ties between tasks staged in the same millisecond.
  return tasks
    .map((task, position) => ({ task, position }))
    .sort((a, b) => {
      if (a.task.ready !== b.task.ready) return a.task.ready ? 1 : -1;
      const older = a.task.stagedAt - b.task.stagedAt || a.position - b.position;
      return selection === 'YOUNGEST_FIRST' ? -older : older;
    })
    .map(({ task }) => task);
}

export function decide(goal: Goal, tasks: TaskPicture[], selection: KillSelection = 'YOUNGEST_FIRST'): Decision {
  const live = tasks.filter((t) => !t.killing);
  switch (goal.kind) {
    case 'start':
      return { kill: [], launch: 0, done: true };
    case 'stop':
      return { kill: live.map((t) => t.id), launch: 0, done: tasks.length === 0 };
    case 'steady':
      return { kill: [], launch: Math.max(0, goal.instances - live.length), done: false };
    case 'scale': {
      const surplus = Math.max(0, live.length - goal.instances);
      const kill = killOrder(live, selection).slice(0, surplus).map((t) => t.id);
      const done = tasks.length === goal.instances && live.length === goal.instances && live.every((t) => t.ready);
      return { kill, launch: Math.max(0, goal.instances - live.length), done };
    }
    case 'restart':
      return decideRestart(goal, tasks, live, selection);
  }
}

function decideRestart(
  goal: Extract<Goal, { kind: 'restart' }>,
  tasks: TaskPicture[],
  live: TaskPicture[],
  selection: KillSelection,
): Decision {
  const old = live.filter((t) => !t.current);
  const fresh = live.filter((t) => t.current);
  const freshReady = fresh.filter((t) => t.ready).length;
  const { minHealthy, maxCapacity } = restartCapacity(
    goal.instances,
    goal.minimumHealthCapacity,
    goal.maximumOverCapacity,
    live.length,
  );

  // Old tasks go as new ones become ready, never dropping below minHealthy of (old + ready new).
  const oldToKill = Math.min(old.length, Math.max(0, old.length + freshReady - minHealthy));
  const freshSurplus = Math.max(0, fresh.length - goal.instances);
  const kill = [
    ...killOrder(old, selection).slice(0, oldToKill),
    ...killOrder(fresh, selection).slice(0, freshSurplus),
  ].map((t) => t.id);

  const remainingOld = old.length - oldToKill;
  const freshKept = fresh.length - freshSurplus;
  const launch = Math.max(0, Math.min(goal.instances - freshKept, maxCapacity - remainingOld - freshKept));

  const done =
    tasks.length === goal.instances && tasks.every((t) => t.current && !t.killing && t.ready);
  return { kill, launch, done };
}
