import type { DecisionNote, ScaleEvent, ScalingPolicy } from './types.js';
import { addRule } from './replicas.js';

/** HPA's default scale-up policies share one period: max(+100%, +4 pods) per 15 s. */
export const SCALE_UP_PERIOD_SECONDS = 15;
const SCALE_UP_PODS = 4;

/**
 * HPA's rate limit (convertDesiredReplicasWithBehaviorRate with the default scale-up behavior) and bounds. Over any
 * period of SCALE_UP_PERIOD_SECONDS the app may grow from the count it had when the period started (current − added
 * + removed by the scale events within the period) to max(2 × that, that + 4), or by `scaleUpMaxStep` when set: a
 * period, not a cycle, so a short interval does not scale faster. Never above max; never below min or the active
 * schedule floor (max wins over a floor set above it). Returns the bounded count; what applied goes to rules and notes.
 */
export function limitAndBound(
  stabilized: number,
  current: number,
  policy: ScalingPolicy,
  scheduleFloor: number | null,
  scaleEvents: ScaleEvent[],
  now: number,
  rules: string[],
  notes: DecisionNote[],
): number {
  const { minInstances: min, maxInstances: max } = policy;
  let desired = stabilized;

  if (desired > current) {
    const { limit, periodStart, added } = scaleUpLimit(current, policy.scaleUpMaxStep, scaleEvents, now);
    if (desired > limit && limit < max) {
      desired = limit;
      addRule(rules, 'scale-up-limit');
      notes.push({ note: 'scale-up-limit', limit, periodStart, added, periodSeconds: SCALE_UP_PERIOD_SECONDS, step: policy.scaleUpMaxStep, desired });
    }
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

/**
 * calculateScaleUpLimitWithScalingRules: the most instances allowed now. Never below current (HPA: "we shouldn't scale
 * up further until the scaleUpEvents will be cleaned up").
 */
export function scaleUpLimit(
  current: number,
  step: number | undefined,
  scaleEvents: ScaleEvent[],
  now: number,
): { limit: number; periodStart: number; added: number } {
  const since = now - SCALE_UP_PERIOD_SECONDS * 1000;
  let added = 0;
  let removed = 0;
  for (const event of scaleEvents) {
    if (event.at <= since || event.at > now) continue;
    if (event.change > 0) added += event.change;
    else removed -= event.change;
  }
  const periodStart = current - added + removed;
  const limit = step !== undefined ? periodStart + step : Math.max(periodStart + SCALE_UP_PODS, Math.ceil(periodStart * 2));
  return { limit: Math.max(limit, current), periodStart, added };
}
