import type { ScalingPolicy } from './types.js';

/**
 * HPA's rate limit and bounds: grow by at most `scaleUpMaxStep` (default max(100% of current, 4)) per cycle,
 * never above max; never below min or the active schedule floor (max wins over a floor set above it).
 */
export function limitAndBound(
  stabilized: number,
  current: number,
  policy: ScalingPolicy,
  scheduleFloor: number | null,
): { desired: number; rules: string[]; notes: string[] } {
  const rules: string[] = [];
  const notes: string[] = [];
  const { minInstances: min, maxInstances: max } = policy;
  let desired = stabilized;

  const step = policy.scaleUpMaxStep ?? Math.max(current, 4);
  const upLimit = current + step;
  if (desired > upLimit && upLimit < max) {
    desired = upLimit;
    rules.push('scale-up-limit');
    notes.push(`limited to +${step} per cycle (scale-up limit) → ${desired}`);
  }
  if (desired > max) {
    desired = max;
    rules.push('max-bound');
    notes.push(`capped by max ${max}`);
  }

  const floor = scheduleFloor !== null && scheduleFloor > min ? scheduleFloor : null;
  const lowest = Math.min(floor ?? min, max);
  if (desired < lowest) {
    desired = lowest;
    if (floor !== null) {
      rules.push('schedule-floor');
      notes.push(floor > max ? `raised to max ${max} (the schedule floor ${floor} is above max)` : `raised to the schedule floor ${floor}`);
    } else {
      rules.push('min-bound');
      notes.push(`raised to min ${min}`);
    }
  }
  return { desired, rules, notes };
}
