import type { MetricName, MetricOutcome, TaskDecisionInput } from './types.js';
import { useOf, utilizationOf } from './tasks.js';

export type { MetricOutcome } from './types.js';

/** ceil() of a product that is an integer up to floating-point noise (0.6/0.3×2) must not add an instance. */
const EPSILON = 1e-9;

/**
 * Kubernetes' replica calculator (GetResourceReplicas) for one metric: ratio over the tasks with usable data,
 * desired = ceil(ratio × count). With missing instances (no fresh valid sample, unreachable, or not in Marathon's task
 * list) or, on a scale-up, tasks set aside (pending; for CPU also unready or warming up), the ratio is recomputed:
 * missing ones at 100% of their request (or of a target above 100%) on a scale-down, at 0% on a scale-up; set-aside
 * ones at 0% on a scale-up. Within tolerance or a flipped direction means no change.
 * Numbers only: this runs for every metric of every app each cycle, and the words are written when someone reads them.
 */
export function metricReplicas(
  metric: MetricName,
  target: number,
  tasks: TaskDecisionInput[],
  current: number,
  tolerance: number,
  unlisted: number,
): MetricOutcome {
  let used = 0;
  let sum = 0;
  let noData = 0;
  let invalid = 0;
  let unreachable = 0;
  let pending = 0;
  let notReady = 0;
  let warmingUp = 0;
  for (let index = 0; index < tasks.length; index++) {
    const task = tasks[index] as TaskDecisionInput;
    switch (useOf(task, metric)) {
      case 'used':
        used += 1;
        sum += utilizationOf(task, metric) as number;
        break;
      case 'no-data': noData += 1; break;
      case 'invalid': invalid += 1; break;
      case 'unreachable': unreachable += 1; break;
      case 'pending': pending += 1; break;
      case 'not-ready': notReady += 1; break;
      case 'warming-up': warmingUp += 1; break;
      case 'ignored': break;
    }
  }
  const missing = noData + invalid + unreachable + unlisted;
  const outcome: MetricOutcome = {
    metric,
    target,
    tolerance,
    ratio: undefined,
    replicas: undefined,
    meanUtilization: undefined,
    used,
    considered: used + missing,
    missing,
    noData,
    invalid,
    unreachable,
    unlisted,
    pending,
    notReady,
    warmingUp,
    missingAssumed: undefined,
    recomputedRatio: undefined,
    conclusion: 'no-data',
    flippedReplicas: undefined,
  };
  if (used === 0) return outcome;

  const ratio = sum / (used * target);
  outcome.ratio = ratio;
  outcome.meanUtilization = sum / used;
  const setAside = pending + notReady + warmingUp;
  const rebalanceSetAside = setAside > 0 && ratio > 1;
  let finalRatio = ratio;
  let count = used;
  if (rebalanceSetAside || missing > 0) {
    // HPA: a missing pod uses 100% of its request on a scale-down (max(100, targetUtilization)), 0% on a scale-up.
    const missingAssumed = ratio < 1 ? Math.max(1, target) : 0;
    if (missing > 0) outcome.missingAssumed = missingAssumed;
    count = used + missing + (rebalanceSetAside ? setAside : 0);
    finalRatio = (sum + missing * missingAssumed) / (count * target);
    outcome.recomputedRatio = finalRatio;
  }
  outcome.replicas = current;
  if (withinTolerance(finalRatio, tolerance)) {
    outcome.conclusion = 'tolerance';
    return outcome;
  }
  if ((ratio < 1 && finalRatio > 1) || (ratio > 1 && finalRatio < 1)) {
    outcome.conclusion = 'direction-flip';
    return outcome;
  }
  const replicas = hpaReplicas(finalRatio, count);
  if (flips(finalRatio, replicas, current)) {
    outcome.conclusion = 'direction-flip';
    outcome.flippedReplicas = replicas;
    return outcome;
  }
  outcome.conclusion = 'replicas';
  outcome.replicas = replicas;
  return outcome;
}

/** The rules a metric's outcome adds to the decision, in the order they are reported. */
export function outcomeRules(outcome: MetricOutcome, rules: string[]): void {
  if (outcome.missing > 0) addRule(rules, 'missing-metrics');
  if (outcome.unreachable > 0) addRule(rules, 'unreachable-tasks');
  if (outcome.invalid > 0) addRule(rules, 'invalid-samples');
  if (outcome.pending > 0 || outcome.notReady > 0) addRule(rules, 'not-ready');
  if (outcome.warmingUp > 0) addRule(rules, 'warming-up');
  if (outcome.conclusion === 'tolerance' || outcome.conclusion === 'direction-flip') addRule(rules, outcome.conclusion);
}

/** Rules are a handful of names: an array that skips duplicates beats a Set built and spread for every app. */
export function addRule(rules: string[], rule: string): void {
  if (!rules.includes(rule)) rules.push(rule);
}

/** HPA's count for a usage/target ratio over `count` instances: ceil(ratio × count). The forecast's floor uses it too. */
export function hpaReplicas(ratio: number, count: number): number {
  return Math.ceil(ratio * count - EPSILON);
}

/** HPA's tolerance: no change while the ratio is within 1 ± tolerance. */
export function withinTolerance(ratio: number, tolerance: number): boolean {
  return Math.abs(1 - ratio) <= tolerance;
}

/** A count that moves against the ratio (fewer tasks counted than instances) is not acted on. */
function flips(ratio: number, replicas: number, current: number): boolean {
  return (ratio < 1 && replicas > current) || (ratio > 1 && replicas < current);
}
