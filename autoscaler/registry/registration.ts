import { z } from 'zod';
import type { PredictiveSettings, ScalingPolicy } from '../policy/types.js';

/** Marathon's app id pattern (it answers 422 to anything else); we also require an absolute id that is not "/". */
const MARATHON_ID_PATTERN =
  /^(\/?((\.\.)|(([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9]))?($|\/))+$/;

export function isValidAppId(id: string): boolean {
  return id.length <= 255 && id.startsWith('/') && id !== '/' && !id.endsWith('/') && !id.includes('..') && MARATHON_ID_PATTERN.test(id);
}

const appIdSchema = z
  .string({ error: 'expected a string' })
  .refine(isValidAppId, 'expected an absolute Marathon app id like "/shop/web" (lowercase letters, digits, "-", ".", "/")');

function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const scheduleWindowSchema = z.strictObject({
  cron: z.string().min(1).max(200),
  durationMinutes: z.number().positive('expected minutes > 0').max(7 * 24 * 60),
  minInstances: z.number().int('expected an integer').min(0),
  timezone: z.string().refine(isValidTimeZone, 'expected an IANA time zone like "Europe/Berlin"').optional(),
});

/**
 * Opt-in to a floor forecast from the app's usage at the same weekday and time of day in past weeks (see
 * autoscaler/forecast). Unset knobs take these defaults; `minWeeks` defaults to 2 (1 with a one-week lookback).
 */
export const predictiveSchema = z.strictObject({
  lookbackWeeks: z.number().int('expected a whole number of weeks').min(1, 'expected at least 1 week').max(52, 'expected at most 52 weeks').default(4),
  leadMinutes: z.number().min(0, 'expected minutes >= 0').max(24 * 60, 'expected at most 1440 minutes').default(10),
  quantile: z.number().min(0, 'expected a quantile from 0 to 1').max(1, 'expected a quantile from 0 to 1').default(0.9),
  windowMinutes: z.number().min(5, 'expected at least 5 minutes (one history bucket)').max(24 * 60).default(10),
  minWeeks: z.number().int('expected a whole number of weeks').min(1, 'expected at least 1 week').optional(),
});

/** What a user registers (REST body, or labels turned into the same shape). Unset knobs take the config's defaults. */
export const registrationSchema = z
  .strictObject({
    appId: appIdSchema,
    minInstances: z.number().int('expected an integer').min(0, 'expected an integer >= 0'),
    maxInstances: z.number().int('expected an integer').min(1, 'expected an integer >= 1').max(10_000),
    targetCpu: z.number().positive('expected a number > 0').max(64).optional(),
    targetMemory: z.number().positive('expected a number > 0').max(1, 'expected a fraction <= 1').optional(),
    tolerance: z.number().min(0).max(1).optional(),
    scaleDownStabilizationSeconds: z.number().min(0).max(86_400).optional(),
    warmupSeconds: z.number().min(0).max(86_400).optional(),
    scaleUpMaxStep: z.number().int().min(1).optional(),
    dryRun: z.boolean().default(false),
    schedules: z.array(scheduleWindowSchema).max(50).default([]),
    predictive: predictiveSchema.optional(),
  })
  .superRefine((value, ctx) => {
    if (value.targetCpu === undefined && value.targetMemory === undefined) {
      ctx.addIssue({ code: 'custom', path: ['targetCpu'], message: 'set targetCpu or targetMemory (or both)' });
    }
    if (value.maxInstances < value.minInstances) {
      ctx.addIssue({ code: 'custom', path: ['maxInstances'], message: `must be >= minInstances (${value.minInstances})` });
    }
    if (value.predictive?.minWeeks !== undefined && value.predictive.minWeeks > value.predictive.lookbackWeeks) {
      ctx.addIssue({
        code: 'custom',
        path: ['predictive', 'minWeeks'],
        message: `must be <= lookbackWeeks (${value.predictive.lookbackWeeks})`,
      });
    }
    value.schedules.forEach((window, index) => {
      if (window.minInstances > value.maxInstances) {
        ctx.addIssue({
          code: 'custom',
          path: ['schedules', index, 'minInstances'],
          message: `must be <= maxInstances (${value.maxInstances})`,
        });
      }
    });
  });

export type Registration = z.infer<typeof registrationSchema>;

export interface PolicyDefaults {
  tolerance: number;
  scaleDownStabilizationSeconds: number;
  warmupSeconds: number;
  scaleUpMaxStep?: number;
}

export function toPolicy(registration: Registration, defaults: PolicyDefaults, source: ScalingPolicy['source']): ScalingPolicy {
  const policy: ScalingPolicy = {
    appId: registration.appId,
    minInstances: registration.minInstances,
    maxInstances: registration.maxInstances,
    tolerance: registration.tolerance ?? defaults.tolerance,
    scaleDownStabilizationSeconds: registration.scaleDownStabilizationSeconds ?? defaults.scaleDownStabilizationSeconds,
    warmupSeconds: registration.warmupSeconds ?? defaults.warmupSeconds,
    dryRun: registration.dryRun,
    schedules: registration.schedules,
    source,
  };
  if (registration.targetCpu !== undefined) policy.targetCpu = registration.targetCpu;
  if (registration.targetMemory !== undefined) policy.targetMemory = registration.targetMemory;
  if (registration.predictive !== undefined) policy.predictive = predictiveSettings(registration.predictive);
  const step = registration.scaleUpMaxStep ?? defaults.scaleUpMaxStep;
  if (step !== undefined) policy.scaleUpMaxStep = step;
  return policy;
}

export function predictiveSettings(predictive: z.infer<typeof predictiveSchema>): PredictiveSettings {
  return {
    lookbackWeeks: predictive.lookbackWeeks,
    leadMinutes: predictive.leadMinutes,
    quantile: predictive.quantile,
    windowMinutes: predictive.windowMinutes,
    minWeeks: predictive.minWeeks ?? Math.min(2, predictive.lookbackWeeks),
  };
}
