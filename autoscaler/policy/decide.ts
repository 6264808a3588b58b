import type { Decision, DecisionInput, ScheduleWindow } from './types.js';

/** Pure scaling decision for one app (HPA semantics). Implementation follows. */
export function decide(input: DecisionInput): Decision {
  return {
    appId: input.app.id,
    at: input.now,
    current: input.app.instances,
    desired: input.app.instances,
    recommendation: input.app.instances,
    action: 'none',
    reason: 'not implemented yet',
    rules: [],
    inputs: {
      targets: {},
      ratios: {},
      bounds: { min: input.policy.minInstances, max: input.policy.maxInstances, scheduleFloor: input.scheduleFloor },
      tasks: [],
    },
    dryRun: input.policy.dryRun,
  };
}

/** Highest minInstances among the schedule windows that contain `now`, null if none. Implementation follows. */
export function activeScheduleFloor(_schedules: ScheduleWindow[], _now: Date): number | null {
  return null;
}
