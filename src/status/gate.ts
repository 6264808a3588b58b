import type { StatusCell } from './matrix.js';

// `baton status --fail-on`: the conditions a CI gate can fail on, decided per row of the matrix. Pure.

export const FAIL_CONDITIONS = ['unhealthy', 'deploying', 'not-deployed', 'drift', 'config-drift', 'version-drift'] as const;
export type FailCondition = (typeof FAIL_CONDITIONS)[number];

export type ParsedConditions = { ok: true; conditions: FailCondition[] } | { ok: false; unknown: string[] };

/** Names as typed (already split), checked against FAIL_CONDITIONS. */
export function parseFailConditions(names: readonly string[]): ParsedConditions {
  const unknown = names.filter((name) => !(FAIL_CONDITIONS as readonly string[]).includes(name));
  return unknown.length > 0 ? { ok: false, unknown } : { ok: true, conditions: names as FailCondition[] };
}

/**
 * The listed conditions that hold for one row, in the order listed. A row whose datacenter did not answer holds none:
 * nothing is known about it (that is exit 1's business). Drift the row cannot tell (its config is broken) does not hold either.
 */
export function conditionsHeld(cell: StatusCell, conditions: readonly FailCondition[]): FailCondition[] {
  if (!cell.reachable) return [];
  const configDrift = (cell.configDrift?.length ?? 0) > 0;
  const holds: Record<FailCondition, boolean> = {
    // "deploying" wins over the task counts while a deployment runs: tasks are being replaced, so counts say nothing yet.
    unhealthy: cell.health === 'degraded',
    deploying: cell.deployment != null,
    'not-deployed': !cell.deployed,
    drift: configDrift || cell.versionDrift,
    'config-drift': configDrift,
    'version-drift': cell.versionDrift,
  };
  return conditions.filter((condition) => holds[condition]);
}

/**
 * How `baton status` ends. A listed condition seen to hold is a definite answer, so it wins over a datacenter that did not
 * answer (or a config that did not load): those can only leave the answer incomplete, never make it pass.
 */
export type StatusVerdict = 'ok' | 'incomplete' | 'condition-held';

export function statusVerdict(facts: { complete: boolean; configBroken: boolean; conditionHeld: boolean }): StatusVerdict {
  if (facts.conditionHeld) return 'condition-held';
  return facts.complete && !facts.configBroken ? 'ok' : 'incomplete';
}
