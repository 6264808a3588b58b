import type { MetricName, MetricOutcome, TaskDecisionInput } from './types.js';
import { countsFor, utilizationOf } from './tasks.js';

export type { MetricOutcome } from './types.js';

/** ceil() of a product that is an integer up to floating-point noise (0.6/0.3×2) must not add an instance. */
const EPSILON = 1e-9;

/**
 * Kubernetes' replica calculator for one metric: ratio over tasks with data, desired = ceil(ratio × count).
 * With missing tasks (100% of target on a scale-down, 0% on a scale-up) or unready tasks on a scale-up (0%),
 * the ratio is recomputed; within tolerance or a flipped direction means no change.
 * Numbers only: this runs for every metric of every app each cycle, and the words are written when someone reads them.
 */
export function metricReplicas(
  metric: MetricName,
  target: number,
  tasks: TaskDecisionInput[],
  current: number,
  tolerance: number,
  freshSince: number,
): MetricOutcome {
  let considered = 0;
  let used = 0;
  let sum = 0;
  let notReady = 0;
  let warmingUp = 0;
  for (let index = 0; index < tasks.length; index++) {
    const task = tasks[index] as TaskDecisionInput;
    if (task.status === 'not-ready') notReady += 1;
    else if (task.status === 'warming-up') warmingUp += 1;
    else if (task.status === 'used' || task.status === 'missing') {
      considered += 1;
      if (countsFor(task, metric, freshSince)) {
        used += 1;
        sum += utilizationOf(task, metric) as number;
      }
    }
  }
  const outcome: MetricOutcome = {
    metric,
    target,
    tolerance,
    ratio: undefined,
    replicas: undefined,
    meanUtilization: undefined,
    used,
    considered,
    missing: considered - used,
    notReady,
    warmingUp,
    recomputedRatio: undefined,
    conclusion: 'no-data',
    flippedReplicas: undefined,
  };
  if (used === 0) return outcome;

  const ratio = sum / (used * target);
  outcome.ratio = ratio;
  outcome.meanUtilization = sum / used;
  const unready = notReady + warmingUp;
  const rebalanceUnready = unready > 0 && ratio > 1;
  let finalRatio = ratio;
  let count = used;
  if (rebalanceUnready || outcome.missing > 0) {
    // Recompute conservatively: missing tasks at 100% of target when shrinking, 0% when growing; unready at 0% when growing.
    const missingShare = ratio < 1 ? target : 0;
    count = used + outcome.missing + (rebalanceUnready ? unready : 0);
    finalRatio = (sum + outcome.missing * missingShare) / (count * target);
    outcome.recomputedRatio = finalRatio;
  }
  outcome.replicas = current;
  if (Math.abs(1 - finalRatio) <= tolerance) {
    outcome.conclusion = 'tolerance';
    return outcome;
  }
  if ((ratio < 1 && finalRatio > 1) || (ratio > 1 && finalRatio < 1)) {
    outcome.conclusion = 'direction-flip';
    return outcome;
  }
  const replicas = ceil(finalRatio * count);
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
  if (outcome.notReady > 0) addRule(rules, 'not-ready');
  if (outcome.warmingUp > 0) addRule(rules, 'warming-up');
  if (outcome.conclusion === 'tolerance' || outcome.conclusion === 'direction-flip') addRule(rules, outcome.conclusion);
}

/** Rules are a handful of names: an array that skips duplicates beats a Set built and spread for every app. */
export function addRule(rules: string[], rule: string): void {
  if (!rules.includes(rule)) rules.push(rule);
}

function ceil(value: number): number {
  return Math.ceil(value - EPSILON);
}

/** A count that moves against the ratio (fewer tasks counted than instances) is not acted on. */
function flips(ratio: number, replicas: number, current: number): boolean {
  return (ratio < 1 && replicas > current) || (ratio > 1 && replicas < current);
}
