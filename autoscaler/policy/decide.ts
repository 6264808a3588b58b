import type { Decision, DecisionInput, ScalingPolicy, TaskDecisionInput } from './types.js';
import { classifyTasks, type ClassifiedTask, type MetricName } from './tasks.js';
import { metricReplicas, type MetricOutcome } from './replicas.js';
import { stabilize } from './stabilization.js';
import { limitAndBound } from './limits.js';
import { METRIC_LABEL, plural } from './format.js';

export { activeScheduleFloor, scheduleWindowProblem } from './schedule.js';

/**
 * One app's scaling decision, with Kubernetes HPA semantics: per metric
 * desired = ceil(ratio × tasks considered), the max over metrics, then the stabilization window,
 * the scale-up step, min/max and the schedule floor. Pure: the clock and the history come in `input`.
 */
export function decide(input: DecisionInput): Decision {
  const { policy, app } = input;
  const current = app.instances;
  const targets = targetsOf(policy);
  const bounds = { min: policy.minInstances, max: policy.maxInstances, scheduleFloor: input.scheduleFloor };
  const base = { appId: policy.appId, at: input.now, current, dryRun: policy.dryRun };

  const unchanged = (action: 'skip' | 'hold', rule: string, reason: string, tasks: TaskDecisionInput[] = []): Decision => ({
    ...base,
    desired: current,
    recommendation: current,
    action,
    reason,
    rules: [rule],
    inputs: { targets, ratios: {}, bounds, tasks },
  });

  if (app.deploymentInProgress) {
    return unchanged('skip', 'deployment-in-progress', `A deployment is in progress: left at ${plural(current, 'instance')} until it finishes.`);
  }
  if (current === 0 && policy.minInstances > 0) {
    return unchanged('skip', 'paused', `The app is at 0 instances while min is ${policy.minInstances}: treated as paused and left alone.`);
  }
  if (!input.metricsAvailable) {
    const streak = input.consecutiveMetricFailures > 1 ? ` (${input.consecutiveMetricFailures} cycles in a row)` : '';
    return unchanged('hold', 'metrics-unavailable', `Metrics could not be read${streak}: holding ${plural(current, 'instance')}, no scaling this cycle.`);
  }

  const metrics = (Object.keys(targets) as MetricName[]).filter((metric) => targets[metric] !== undefined);
  const tasks = classifyTasks(input, metrics);
  const outcomes = metrics.map((metric) => metricReplicas(metric, targets[metric] as number, tasks, current, policy.tolerance));
  const rules = new Set<string>();
  const notes: string[] = [];
  for (const outcome of outcomes) outcome.rules.forEach((rule) => rules.add(rule));

  const recommendation = recommend(outcomes, tasks, current, rules, notes);
  const stabilized = stabilize(recommendation, current, input.recommendations, input.now, policy.scaleDownStabilizationSeconds);
  if (stabilized.held) {
    rules.add('stabilization-window');
    notes.push(
      `kept at ${stabilized.desired} by the scale-down stabilization window (highest recommendation in the last ${policy.scaleDownStabilizationSeconds} s)`,
    );
  }
  const limited = limitAndBound(stabilized.desired, current, policy, input.scheduleFloor);
  limited.rules.forEach((rule) => rules.add(rule));
  notes.push(...limited.notes);

  const desired = limited.desired;
  const action = desired > current ? 'scale-up' : desired < current ? 'scale-down' : 'none';
  if (policy.dryRun && action !== 'none') {
    rules.add('dry-run');
    notes.push('dry run: not applied');
  }

  const ratios: { cpu?: number; memory?: number } = {};
  for (const outcome of outcomes) if (outcome.ratio !== undefined) ratios[outcome.metric] = outcome.ratio;

  return {
    ...base,
    desired,
    recommendation,
    action,
    reason: reasonText(outcomes, current, desired, notes),
    rules: [...rules],
    inputs: { targets, ratios, bounds, tasks: tasks.map((task) => taskInput(task, metrics)) },
  };
}

function targetsOf(policy: ScalingPolicy): { cpu?: number; memory?: number } {
  const targets: { cpu?: number; memory?: number } = {};
  if (policy.targetCpu !== undefined) targets.cpu = policy.targetCpu;
  if (policy.targetMemory !== undefined) targets.memory = policy.targetMemory;
  return targets;
}

/**
 * The raw recommendation (what the history stores): the max over valid metrics. Conservative where data is lacking:
 * a metric without any usable task, or any task without fresh data, never lets the app shrink.
 */
function recommend(outcomes: MetricOutcome[], tasks: ClassifiedTask[], current: number, rules: Set<string>, notes: string[]): number {
  if (outcomes.length === 0) {
    rules.add('no-targets');
    notes.push('no CPU or memory target set: only the bounds and schedules apply');
    return current;
  }
  const valid = outcomes.filter((outcome) => outcome.replicas !== undefined);
  if (valid.length === 0) {
    rules.add('missing-metrics');
    notes.push('no task has usable data: holding the current count');
    return current;
  }
  let recommendation = Math.max(...valid.map((outcome) => outcome.replicas as number));
  if (recommendation < current && valid.length < outcomes.length) {
    rules.add('missing-metrics');
    notes.push(`not scaling down: no usable data for ${outcomes.filter((o) => o.replicas === undefined).map((o) => METRIC_LABEL[o.metric]).join(', ')}`);
    recommendation = current;
  }
  const missing = tasks.filter((task) => task.status === 'missing').length;
  if (recommendation < current && missing > 0) {
    const considered = tasks.filter((task) => task.status === 'missing' || task.status === 'used').length;
    rules.add('missing-metrics');
    notes.push(`not scaling down: ${missing}/${considered} tasks lack fresh data`);
    recommendation = current;
  }
  return recommendation;
}

function reasonText(outcomes: MetricOutcome[], current: number, desired: number, notes: string[]): string {
  const parts = outcomes.map((outcome) => outcome.explanation);
  const verdict = desired === current ? `stays at ${plural(current, 'instance')}` : `${current} → ${plural(desired, 'instance')}`;
  return [...parts, ...notes].concat(verdict).join('; ') + '.';
}

function taskInput(task: ClassifiedTask, metrics: MetricName[]): TaskDecisionInput {
  const entry: TaskDecisionInput = { taskId: task.id, status: task.status };
  if (metrics.includes('cpu') && task.utilization.cpu !== undefined) entry.cpuUtilization = task.utilization.cpu;
  if (metrics.includes('memory') && task.utilization.memory !== undefined) entry.memoryUtilization = task.utilization.memory;
  return entry;
}
