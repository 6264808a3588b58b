import type { JsonObject } from '../marathon/types.js';

const MIN_TIMEOUT_S = 120;
const MAX_TIMEOUT_S = 3600;
/** Time to pull an image and start a container, before health checks matter. */
const START_ALLOWANCE_S = 60;

/**
 * A deadline that fits the app: each wave of the rolling upgrade needs the start allowance plus the health-check grace and
 * one interval (or a short settle time without health checks); readiness checks add their interval and timeout.
 */
export function defaultTimeoutSeconds(definition: JsonObject): number {
  const instances = numberOr(definition.instances, 1);
  const strategy = (definition.upgradeStrategy ?? {}) as JsonObject;
  const minHealth = numberOr(strategy.minimumHealthCapacity, 1);
  const maxOver = numberOr(strategy.maximumOverCapacity, 1);
  const healthChecks = Array.isArray(definition.healthChecks) ? (definition.healthChecks as JsonObject[]) : [];
  const readiness = Array.isArray(definition.readinessChecks) ? (definition.readinessChecks as JsonObject[]) : [];

  const healthWait = healthChecks.length
    ? Math.max(...healthChecks.map((hc) => Math.min(numberOr(hc.gracePeriodSeconds, 300), 600) + numberOr(hc.intervalSeconds, 60)))
    : 30;
  const readinessWait = readiness.length
    ? Math.max(...readiness.map((rc) => numberOr(rc.intervalSeconds, 30) + numberOr(rc.timeoutSeconds, 10)))
    : 0;
  const batch = Math.max(1, Math.floor(instances * maxOver) + Math.floor(instances * (1 - minHealth)));
  const waves = Math.max(1, Math.ceil(instances / batch));
  const seconds = (START_ALLOWANCE_S + healthWait + readinessWait) * waves;
  return Math.min(MAX_TIMEOUT_S, Math.max(MIN_TIMEOUT_S, Math.round(seconds)));
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}
