import type { ClassifiedTask, MetricName } from './tasks.js';
import { formatPercent, formatRatio, METRIC_LABEL as LABEL, plural } from './format.js';

export interface MetricOutcome {
  metric: MetricName;
  target: number;
  /** usage / target over the tasks with data (before the missing/unready adjustment). */
  ratio?: number;
  /** Desired instances by this metric alone; undefined when no task has usable data for it. */
  replicas?: number;
  rules: string[];
  explanation: string;
}

/** ceil() of a product that is an integer up to floating-point noise (0.6/0.3×2) must not add an instance. */
const EPSILON = 1e-9;

/**
 * Kubernetes' replica calculator for one metric: ratio over tasks with data, desired = ceil(ratio × count).
 * With missing tasks (100% of target on a scale-down, 0% on a scale-up) or unready tasks on a scale-up (0%),
 * the ratio is recomputed; within tolerance or a flipped direction means no change.
 */
export function metricReplicas(metric: MetricName, target: number, tasks: ClassifiedTask[], current: number, tolerance: number): MetricOutcome {
  // One pass, no intermediate lists: this runs for every metric of every app each cycle.
  let consideredCount = 0;
  let usedCount = 0;
  let sum = 0;
  let notReady = 0;
  let warming = 0;
  for (const task of tasks) {
    if (task.status === 'not-ready') notReady += 1;
    else if (task.status === 'warming-up') warming += 1;
    else if (task.status === 'used' || task.status === 'missing') {
      consideredCount += 1;
      if (task.usable.includes(metric)) {
        usedCount += 1;
        sum += task.utilization[metric] as number;
      }
    }
  }
  const missing = consideredCount - usedCount;
  const unready = notReady + warming;
  const rules: string[] = [];
  if (missing > 0) rules.push('missing-metrics');
  if (notReady > 0) rules.push('not-ready');
  if (warming > 0) rules.push('warming-up');
  const setAside = [
    missing > 0 ? `${missing} without fresh data` : '',
    notReady > 0 ? `${notReady} not ready` : '',
    warming > 0 ? `${warming} warming up` : '',
  ].filter(Boolean);
  const aside = setAside.length > 0 ? ` (${setAside.join(', ')})` : '';

  if (usedCount === 0) {
    return { metric, target, rules, explanation: `${LABEL[metric]}: no task has usable data${aside}` };
  }
  const ratio = sum / (usedCount * target);
  const head = `${LABEL[metric]} ${formatPercent(sum / usedCount)} of target ${formatPercent(target)} on ${usedCount}/${consideredCount + unready} tasks${aside} → ratio ${formatRatio(ratio)}`;
  const outcome = (replicas: number, rule: string | null, tail: string): MetricOutcome => ({
    metric,
    target,
    ratio,
    replicas,
    rules: rule ? [...rules, rule] : rules,
    explanation: `${head}${tail}`,
  });

  const rebalanceUnready = unready > 0 && ratio > 1;
  if (!rebalanceUnready && missing === 0) {
    if (Math.abs(1 - ratio) <= tolerance) return outcome(current, 'tolerance', `, within tolerance ${formatPercent(tolerance)}`);
    const replicas = ceil(ratio * usedCount);
    if (flips(ratio, replicas, current)) return outcome(current, 'direction-flip', ` but ${plural(replicas, 'instance')} would move the other way: no change`);
    return outcome(replicas, null, ` → ${plural(replicas, 'instance')}`);
  }

  // Recompute conservatively: missing tasks at 100% of target when shrinking, 0% when growing; unready at 0% when growing.
  const missingShare = ratio < 1 ? target : 0;
  const count = usedCount + missing + (rebalanceUnready ? unready : 0);
  const newRatio = (sum + missing * missingShare) / (count * target);
  const assumed = [
    missing > 0 ? `missing at ${ratio < 1 ? '100%' : '0%'} of target` : '',
    rebalanceUnready ? 'unready at 0%' : '',
  ].filter(Boolean).join(', ');
  const recomputed = `; recomputed with ${assumed} → ratio ${formatRatio(newRatio)}`;
  if (Math.abs(1 - newRatio) <= tolerance) return outcome(current, 'tolerance', `${recomputed}, within tolerance ${formatPercent(tolerance)}`);
  if ((ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1)) {
    return outcome(current, 'direction-flip', `${recomputed}, which flips direction: no change`);
  }
  const replicas = ceil(newRatio * count);
  if (flips(newRatio, replicas, current)) {
    return outcome(current, 'direction-flip', `${recomputed} but ${plural(replicas, 'instance')} would move the other way: no change`);
  }
  return outcome(replicas, null, `${recomputed} → ${plural(replicas, 'instance')}`);
}

function ceil(value: number): number {
  return Math.ceil(value - EPSILON);
}

/** A count that moves against the ratio (fewer tasks counted than instances) is not acted on. */
function flips(ratio: number, replicas: number, current: number): boolean {
  return (ratio < 1 && replicas > current) || (ratio > 1 && replicas < current);
}
