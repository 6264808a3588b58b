import type { Decision, DecisionAction, DecisionInput, DecisionNote, MetricName, MetricOutcome, ScalingPolicy, TaskDecisionInput } from './types.js';
import { classifyTasks, isValidUtilization, unlistedInstances } from './tasks.js';
import { addRule, metricReplicas, outcomeRules } from './replicas.js';
import { stabilize } from './stabilization.js';
import { limitAndBound } from './limits.js';

export { activeScheduleFloor, scheduleWindowProblem } from './schedule.js';
export { explainDecision } from './explain.js';


/**
 * One app's scaling decision, with Kubernetes HPA semantics: per metric
 * desired = ceil(ratio × tasks considered), the max over metrics and the predicted floor, then the stabilization window,
 * the scale-up step, min/max and the schedule floor. Pure: the clock and the history come in `input`.
 * The decision holds numbers and rule names; `explainDecision` writes the sentence when someone reads it (the daemon
 * decides for every app every cycle, and most decisions are never read).
 */
export function decide(input: DecisionInput): Decision {
  const { policy, app } = input;
  const current = app.instances;
  const targets = targetsOf(policy);
  const predicted = input.predictedFloor ?? null;
  const bounds = { min: policy.minInstances, max: policy.maxInstances, scheduleFloor: input.scheduleFloor, predictedFloor: predicted?.floor ?? null };
  const decision = (
    desired: number,
    recommendation: number,
    action: DecisionAction,
    rules: string[],
    ratios: Decision['inputs']['ratios'],
    tasks: TaskDecisionInput[],
    metrics: MetricOutcome[],
    notes: DecisionNote[],
  ): Decision => ({
    appId: policy.appId,
    at: input.now,
    current,
    desired,
    recommendation,
    action,
    rules,
    inputs: predicted === null ? { targets, ratios, bounds, tasks } : { targets, ratios, bounds, tasks, forecast: predicted },
    dryRun: policy.dryRun,
    metrics,
    notes,
  });
  const metrics: MetricName[] = [];
  if (targets.cpu !== undefined) metrics.push('cpu');
  if (targets.memory !== undefined) metrics.push('memory');
  // Also for an app left alone: /decisions shows each task's status and usage whatever the verdict.
  const tasks = classifyTasks(input, metrics);
  const unchanged = (action: 'skip' | 'hold', note: DecisionNote): Decision =>
    decision(current, current, action, [note.note], {}, tasks, [], [note]);

  if (app.deploymentInProgress) return unchanged('skip', { note: 'deployment-in-progress' });
  if (current === 0 && policy.minInstances > 0) return unchanged('skip', { note: 'paused' });
  if (!input.metricsAvailable) {
    return unchanged('hold', { note: 'metrics-unavailable', consecutiveFailures: input.consecutiveMetricFailures });
  }

  const unlisted = unlistedInstances(current, tasks);
  const outcomes = metrics.map((metric) => metricReplicas(metric, targets[metric] as number, tasks, current, policy.tolerance, unlisted));
  const rules: string[] = [];
  const notes: DecisionNote[] = [];
  for (const outcome of outcomes) outcomeRules(outcome, rules);
  const rejected = rejectedSamples(tasks);
  if (rejected !== undefined) notes.push(rejected);

  let recommendation = recommend(outcomes, current, rules, notes);
  if (predicted !== null && predicted.floor > recommendation) {
    // The forecast is one more recommendation (max over them, as over metrics): stored in the history, so the
    // scale-down after a predicted peak waits out the stabilization window like any other.
    addRule(rules, 'predicted-floor');
    notes.push({ note: 'predicted-floor', floor: predicted.floor, recommendation, forecast: predicted });
    recommendation = predicted.floor;
  }
  const stabilized = stabilize(recommendation, current, input.recommendations, input.now, policy.scaleDownStabilizationSeconds);
  if (stabilized > recommendation) {
    addRule(rules, 'stabilization-window');
    notes.push({ note: 'stabilization-window', desired: stabilized, seconds: policy.scaleDownStabilizationSeconds });
  }
  const desired = limitAndBound(stabilized, current, policy, input.scheduleFloor, input.scaleEvents ?? [], input.now, rules, notes);
  const action = desired > current ? 'scale-up' : desired < current ? 'scale-down' : 'none';
  if (policy.dryRun && action !== 'none') {
    addRule(rules, 'dry-run');
    notes.push({ note: 'dry-run' });
  }

  const ratios: Decision['inputs']['ratios'] = {};
  for (const outcome of outcomes) if (outcome.ratio !== undefined) ratios[outcome.metric] = outcome.ratio;
  return decision(desired, recommendation, action, rules, ratios, tasks, outcomes, notes);
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
function recommend(outcomes: MetricOutcome[], current: number, rules: string[], notes: DecisionNote[]): number {
  if (outcomes.length === 0) {
    addRule(rules, 'no-targets');
    notes.push({ note: 'no-targets' });
    return current;
  }
  let recommendation: number | undefined;
  let withoutData: MetricName[] | undefined;
  for (const outcome of outcomes) {
    if (outcome.replicas === undefined) (withoutData ??= []).push(outcome.metric);
    else recommendation = Math.max(recommendation ?? outcome.replicas, outcome.replicas);
  }
  if (recommendation === undefined) {
    addRule(rules, 'missing-metrics');
    notes.push({ note: 'no-usable-data' });
    return current;
  }
  if (recommendation < current && withoutData !== undefined) {
    addRule(rules, 'missing-metrics');
    notes.push({ note: 'metric-without-data', metrics: withoutData });
    return current;
  }
  if (recommendation < current) {
    // Instances that exist but report nothing (or garbage) block a scale-down whatever the arithmetic says.
    let worst: MetricOutcome | undefined;
    for (const outcome of outcomes) if (outcome.missing > 0 && (worst === undefined || outcome.missing > worst.missing)) worst = outcome;
    if (worst !== undefined) {
      addRule(rules, 'missing-metrics');
      notes.push({ note: 'tasks-without-data', missing: worst.missing, considered: worst.considered });
      return current;
    }
  }
  return recommendation;
}

/** Samples set aside as garbage (negative, not finite), named with their raw value so a person can find the exporter. */
function rejectedSamples(tasks: TaskDecisionInput[]): DecisionNote | undefined {
  let samples: { taskId: string; metric: MetricName; value: number }[] | undefined;
  for (let index = 0; index < tasks.length; index++) {
    const task = tasks[index] as TaskDecisionInput;
    if (task.cpu === 'invalid') (samples ??= []).push({ taskId: task.taskId, metric: 'cpu', value: rawValue(task.cpuCores, task.cpuUtilization) });
    if (task.memory === 'invalid') {
      (samples ??= []).push({ taskId: task.taskId, metric: 'memory', value: rawValue(task.memoryBytes, task.memoryUtilization) });
    }
  }
  return samples === undefined ? undefined : { note: 'rejected-samples', samples };
}

function rawValue(raw: number | undefined, utilization: number | undefined): number {
  if (raw !== undefined && !isValidUtilization(raw)) return raw;
  return utilization ?? NaN;
}
