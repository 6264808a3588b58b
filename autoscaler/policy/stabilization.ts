import type { Recommendation } from './types.js';

/**
 * HPA's stabilization: scale up at once (a 0 s window: the lowest of just this recommendation), scale down only to
 * the highest recommendation of the last `windowSeconds` — so one quiet sample cannot shrink an app.
 * Returns the stabilized count; it is above `recommendation` when the window held a scale-down.
 */
export function stabilize(recommendation: number, current: number, history: Recommendation[], now: number, windowSeconds: number): number {
  const cutoff = now - windowSeconds * 1000;
  let highest = recommendation;
  for (let index = 0; index < history.length; index++) {
    const earlier = history[index] as Recommendation;
    if (earlier.at > cutoff && earlier.at <= now && earlier.desired > highest) highest = earlier.desired;
  }
  let desired = current;
  if (desired < recommendation) desired = recommendation;
  if (desired > highest) desired = highest;
  return desired;
}
