import type { DecisionNote, ScalingPolicy } from './types.js';
import { addRule } from './replicas.js';

/**
 * HPA's rate limit and bounds: grow by at most `scaleUpMaxStep` (default max(100% of current, 4)) per cycle,
 * never above max; never below min or the active schedule floor (max wins over a floor set above it).
 * Returns the bounded count; what applied is added to `rules` and `notes`.
 */
export function limitAndBound(
  stabilized: number,
  current: number,
  policy: ScalingPolicy,
  scheduleFloor: number | null,
  rules: string[],
  notes: DecisionNote[],
): number {
  const { minInstances: min, maxInstances: max } = policy;
  let desired = stabilized;

  const step = policy.scaleUpMaxStep ?? Math.max(current, 4);
  const upLimit = current + step;
  if (desired > upLimit && upLimit < max) {
    desired = upLimit;
    addRule(rules, 'scale-up-limit');
    notes.push({ note: 'scale-up-limit', step, desired });
  }
  if (desired > max) {
    desired = max;
    addRule(rules, 'max-bound');
    notes.push({ note: 'max-bound', max });
  }

  const floor = scheduleFloor !== null && scheduleFloor > min ? scheduleFloor : null;
  const lowest = Math.min(floor ?? min, max);
  if (desired < lowest) {
    desired = lowest;
    if (floor !== null) {
      addRule(rules, 'schedule-floor');
      notes.push({ note: 'schedule-floor', floor, max });
    } else {
      addRule(rules, 'min-bound');
      notes.push({ note: 'min-bound', min });
    }
  }
  return desired;
}
