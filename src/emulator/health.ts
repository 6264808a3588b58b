// Marathon's HealthCheckActor and Health (core/health) over one task's real health check results, as pure functions:
// which failures count, when the task is killed, and when its health changes.
import { isJsonObject, type JsonObject } from './definition.js';
import type { HealthRecord } from './task-record.js';
import type { ProbeResult } from './tasks/runner.js';

export interface HealthCheckRules {
  gracePeriodMs: number;
  maxConsecutiveFailures: number;
}

export interface HealthOutcome {
  health: HealthRecord;
  /** `alive` differs from before: health_status_changed_event. */
  aliveChanged: boolean;
  /** A failure that counted: failed_health_check_event. */
  failedCheck: boolean;
  /** Too many failures: unhealthy_instance_kill_event with this reason, and the task is killed. */
  kill: { reason: string } | null;
}

const initialHealth: HealthRecord = {
  alive: false,
  consecutiveFailures: 0,
  firstSuccess: null,
  lastSuccess: null,
  lastFailure: null,
  lastFailureCause: null,
};

/** The rules of an app's first health check (the one the emulator runs), with Marathon's defaults. */
export function healthCheckRulesOf(definition: JsonObject): HealthCheckRules {
  const checks = definition.healthChecks;
  const first = Array.isArray(checks) && isJsonObject(checks[0]) ? checks[0] : {};
  const number = (value: unknown, fallback: number) => (typeof value === 'number' ? value : fallback);
  return {
    gracePeriodMs: number(first.gracePeriodSeconds, 300) * 1000,
    maxConsecutiveFailures: number(first.maxConsecutiveFailures, 3),
  };
}

/**
 * HealthCheckActor.handleHealthResult: a success always counts; a failure is ignored while the task has never been
 * healthy and is within its grace period (counted from TASK_RUNNING); a counted failure is checked against
 * maxConsecutiveFailures with the failures counted *before* it (checkConsecutiveFailures runs on the old Health, so
 * with 3 the 4th failure kills; 0 never kills), then recorded. `Ignored` (an HTTP 1xx with ignoreHttp1xx) keeps all.
 */
export function applyHealthResult(
  previous: HealthRecord | null,
  result: ProbeResult,
  context: { now: number; runningSince: number; rules: HealthCheckRules },
): HealthOutcome {
  const health = previous ?? initialHealth;
  const unchanged: HealthOutcome = { health, aliveChanged: false, failedCheck: false, kill: null };
  const at = new Date(context.now).toISOString();
  if (result.kind === 'ignored') return unchanged;
  if (result.kind === 'healthy') {
    const next = withAlive({ ...health, firstSuccess: health.firstSuccess ?? at, lastSuccess: at, consecutiveFailures: 0 });
    return { health: next, aliveChanged: next.alive !== health.alive, failedCheck: false, kill: null };
  }
  const withinGrace = health.firstSuccess === null && context.runningSince + context.rules.gracePeriodMs > context.now;
  if (withinGrace) return unchanged;
  const { maxConsecutiveFailures } = context.rules;
  const kill = maxConsecutiveFailures > 0 && health.consecutiveFailures >= maxConsecutiveFailures
    ? { reason: health.lastFailureCause ?? 'unknown' }
    : null;
  const next = withAlive({ ...health, lastFailure: at, lastFailureCause: result.cause, consecutiveFailures: health.consecutiveFailures + 1 });
  return { health: next, aliveChanged: next.alive !== health.alive, failedCheck: true, kill };
}

/** Health.alive: a success, and none of the failures after it (timestamps compared as Marathon's Timestamps are). */
function withAlive(health: HealthRecord): HealthRecord {
  const alive = health.lastSuccess !== null && (health.lastFailure === null || Date.parse(health.lastSuccess) > Date.parse(health.lastFailure));
  return { ...health, alive };
}
