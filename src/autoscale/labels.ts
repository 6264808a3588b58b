import type { JsonObject } from '../marathon/types.js';

// The AUTOSCALE_* label contract between a Marathon app and baton-autoscaler. The daemon reads registrations from these
// labels; deploy, status and rollback leave `instances` to the autoscaler when an app carries any of them.

/** Every label the autoscaler reads, and the registration field it sets. */
export const AUTOSCALE_LABEL_FIELDS = {
  AUTOSCALE_MIN: 'minInstances',
  AUTOSCALE_MAX: 'maxInstances',
  AUTOSCALE_TARGET_CPU: 'targetCpu',
  AUTOSCALE_TARGET_MEMORY: 'targetMemory',
  AUTOSCALE_TOLERANCE: 'tolerance',
  AUTOSCALE_SCALE_DOWN_STABILIZATION_SECONDS: 'scaleDownStabilizationSeconds',
  AUTOSCALE_WARMUP_SECONDS: 'warmupSeconds',
  AUTOSCALE_SCALE_UP_MAX_STEP: 'scaleUpMaxStep',
  AUTOSCALE_DRY_RUN: 'dryRun',
  AUTOSCALE_SCHEDULES: 'schedules',
  AUTOSCALE_PREDICTIVE: 'predictive',
} as const;

export const AUTOSCALE_LABEL_PREFIX = 'AUTOSCALE_';

/** The labels of a definition or live app, as strings. */
export function labelsOf(definition: JsonObject | null | undefined): Record<string, string | undefined> {
  const labels = definition?.labels;
  return labels && typeof labels === 'object' && !Array.isArray(labels) ? (labels as Record<string, string | undefined>) : {};
}

/** Whether the autoscaler manages the app: it carries at least one AUTOSCALE_* label. */
export function isAutoscaled(definition: JsonObject | null | undefined): boolean {
  return Object.keys(labelsOf(definition)).some((name) => name.startsWith(AUTOSCALE_LABEL_PREFIX));
}

/**
 * The instance count a deploy sends for an app: the file's, unless the autoscaler manages the app (in the live app or in the
 * new definition); then the live count, clamped to the new AUTOSCALE_MIN/MAX, so a deploy never undoes the autoscaler's
 * work. Pure.
 */
export function instancesToDeploy(
  live: JsonObject | null,
  rendered: JsonObject,
): { instances: number | undefined; kept?: { live: number; min?: number; max?: number; clamped: boolean } } {
  const fileInstances = typeof rendered.instances === 'number' ? rendered.instances : undefined;
  const liveInstances = typeof live?.instances === 'number' ? live.instances : undefined;
  if (liveInstances === undefined || !(isAutoscaled(live) || isAutoscaled(rendered))) return { instances: fileInstances };
  const bounds = { ...boundsOf(live), ...boundsOf(rendered) };
  let instances = liveInstances;
  if (bounds.min !== undefined) instances = Math.max(instances, bounds.min);
  if (bounds.max !== undefined) instances = Math.min(instances, bounds.max);
  return { instances, kept: { live: liveInstances, ...bounds, clamped: instances !== liveInstances } };
}

function boundsOf(definition: JsonObject | null): { min?: number; max?: number } {
  const labels = labelsOf(definition);
  const number = (value: string | undefined) => {
    const parsed = value === undefined ? Number.NaN : Number(value.trim());
    return Number.isInteger(parsed) && parsed >= 0 ? parsed : undefined;
  };
  const min = number(labels.AUTOSCALE_MIN);
  const max = number(labels.AUTOSCALE_MAX);
  return { ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) };
}
