import type { Recommendation } from './types.js';

/**
 * HPA's stabilization: scale up at once (a 0 s window: the lowest of just this recommendation), scale down only to
 * the highest recommendation of the last `windowSeconds` — so one quiet sample cannot shrink an app.
 */
export function stabilize(
  recommendation: number,
  current: number,
  history: Recommendation[],
  now: number,
  windowSeconds: number,
): { desired: number; held: boolean } {
  const cutoff = now - windowSeconds * 1000;
  const highest = history
    .filter((earlier) => earlier.at > cutoff && earlier.at <= now)
    .reduce((max, earlier) => Math.max(max, earlier.desired), recommendation);
  let desired = current;
  if (desired < recommendation) desired = recommendation;
  if (desired > highest) desired = highest;
  return { desired, held: desired > recommendation };
}
