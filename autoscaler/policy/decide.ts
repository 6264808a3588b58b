import type { Decision, DecisionAction, DecisionInput, DecisionNote, MetricName, MetricOutcome, ScalingPolicy, TaskDecisionInput } from './types.js';
import { classifyTasks, freshSinceOf } from './tasks.js';
import { addRule, metricReplicas, outcomeRules } from './replicas.js';
import { stabilize } from './stabilization.js';
import { limitAndBound } from './limits.js';

export { activeScheduleFloor, scheduleWindowProblem } from './schedule.js';
export { explainDecision } from './explain.js';


/**
 * One app's scaling decision, with Kubernetes HPA semantics: per metric
 * desired = ceil(ratio × tasks considered), the max over metrics, then the stabilization window,
 * the scale-up step, min/max and the schedule floor. Pure: the clock and the history come in `input`.
 * The decision holds numbers and rule names; `explainDecision` writes the sentence when someone reads it (the daemon
 * decides for every app every cycle, and most decisions are never read).
 */
export function decide(input: DecisionInput): Decision {
  const { policy, app } = input;
  const current = app.instances;
  const targets = targetsOf(policy);
  const bounds = { min: policy.minInstances, max: policy.maxInstances, scheduleFloor: input.scheduleFloor };
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
    inputs: { targets, ratios, bounds, tasks },
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

  const freshSince = freshSinceOf(input);
  const outcomes = metrics.map((metric) => metricReplicas(metric, targets[metric] as number, tasks, current, policy.tolerance, freshSince));
  const rules: string[] = [];
  const notes: DecisionNote[] = [];
  for (const outcome of outcomes) outcomeRules(outcome, rules);

  const recommendation = recommend(outcomes, tasks, current, rules, notes);
  const stabilized = stabilize(recommendation, current, input.recommendations, input.now, policy.scaleDownStabilizationSeconds);
  if (stabilized > recommendation) {
    addRule(rules, 'stabilization-window');
    notes.push({ note: 'stabilization-window', desired: stabilized, seconds: policy.scaleDownStabilizationSeconds });
  }
  const desired = limitAndBound(stabilized, current, policy, input.scheduleFloor, rules, notes);
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
function recommend(outcomes: MetricOutcome[], tasks: TaskDecisionInput[], current: number, rules: string[], notes: DecisionNote[]): number {
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
    let missing = 0;
    let considered = 0;
    for (const task of tasks) {
      if (task.status === 'missing') missing += 1;
      if (task.status === 'missing' || task.status === 'used') considered += 1;
    }
    if (missing > 0) {
      addRule(rules, 'missing-metrics');
      notes.push({ note: 'tasks-without-data', missing, considered });
      return current;
    }
  }
  return recommendation;
}
