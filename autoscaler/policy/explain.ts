import { formatPercent, formatRatio, METRIC_LABEL, plural } from './format.js';
import type { Decision, DecisionNote, MetricOutcome, PredictedFloor } from './types.js';

/**
 * The decision in one sentence for a person: each metric's arithmetic, then every adjustment, then the verdict, e.g.
 * "CPU 92% of target 60% on 3/3 tasks → ratio 1.53 → 5 instances; capped by max 4; 3 → 4 instances."
 * Pure and written only when asked for (/decisions, a log line): decide() keeps the numbers it needs.
 */
export function explainDecision(decision: Pick<Decision, 'action' | 'current' | 'desired' | 'inputs' | 'metrics' | 'notes'>): string {
  const { current, desired } = decision;
  const first = decision.notes[0];
  if ((decision.action === 'skip' || decision.action === 'hold') && first) {
    const sentence = unchangedSentence(first, current, decision.inputs.bounds.min);
    if (sentence !== undefined) return sentence;
  }
  const parts = decision.metrics.map(explainMetric);
  for (const note of decision.notes) parts.push(noteText(note));
  parts.push(desired === current ? `stays at ${plural(current, 'instance')}` : `${current} → ${plural(desired, 'instance')}`);
  return `${parts.join('; ')}.`;
}

function rejectedText(sample: { taskId: string; metric: 'cpu' | 'memory'; value: number }): string {
  const what = sample.metric === 'cpu' ? 'CPU' : 'memory';
  const reason = Number.isFinite(sample.value) ? 'negative' : 'not a finite number';
  return `${what} ${sample.value} of ${sample.taskId} (${reason})`;
}

function unchangedSentence(note: DecisionNote, current: number, min: number): string | undefined {
  switch (note.note) {
    case 'deployment-in-progress':
      return `A deployment is in progress: left at ${plural(current, 'instance')} until it finishes.`;
    case 'paused':
      return `The app is at 0 instances while min is ${min}: treated as paused and left alone.`;
    case 'metrics-unavailable': {
      const streak = note.consecutiveFailures > 1 ? ` (${note.consecutiveFailures} cycles in a row)` : '';
      return `Metrics could not be read${streak}: holding ${plural(current, 'instance')}, no scaling this cycle.`;
    }
    default:
      return undefined;
  }
}

/**
 * One metric's arithmetic, e.g. "CPU 92% of target 60% on 3/4 tasks (1 warming up, set aside for CPU) → ratio 1.53 →
 * 5 instances": which tasks were left out and why, and what was assumed for the missing ones.
 */
export function explainMetric(outcome: MetricOutcome): string {
  const label = METRIC_LABEL[outcome.metric];
  const setAside: string[] = [];
  if (outcome.noData > 0) setAside.push(`${outcome.noData} without fresh data`);
  if (outcome.invalid > 0) setAside.push(`${outcome.invalid} with a rejected sample`);
  if (outcome.unreachable > 0) setAside.push(`${outcome.unreachable} unreachable`);
  if (outcome.unlisted > 0) setAside.push(`${plural(outcome.unlisted, 'instance')} not in Marathon's task list`);
  if (outcome.pending > 0) setAside.push(`${outcome.pending} still launching`);
  if (outcome.notReady > 0) setAside.push(`${outcome.notReady} not ready`);
  if (outcome.warmingUp > 0) setAside.push(`${outcome.warmingUp} warming up`);
  const aside = setAside.length > 0 ? ` (${setAside.join(', ')})` : '';
  if (outcome.ratio === undefined || outcome.meanUtilization === undefined) return `${label}: no task has usable data${aside}`;

  const tasks = outcome.considered + outcome.pending + outcome.notReady + outcome.warmingUp;
  let text =
    `${label} ${formatPercent(outcome.meanUtilization)} of target ${formatPercent(outcome.target)} on ${outcome.used}/${tasks} tasks` +
    `${aside} → ratio ${formatRatio(outcome.ratio)}`;
  if (outcome.recomputedRatio !== undefined) {
    const assumed: string[] = [];
    if (outcome.missingAssumed !== undefined) {
      assumed.push(outcome.missingAssumed === 0 ? 'missing at 0%' : `missing at ${formatPercent(outcome.missingAssumed)} of their ${outcome.metric === 'cpu' ? 'cpus' : 'mem'}`);
    }
    if (outcome.pending + outcome.notReady + outcome.warmingUp > 0 && outcome.ratio > 1) assumed.push('unready at 0%');
    text += `; recomputed with ${assumed.join(', ')} → ratio ${formatRatio(outcome.recomputedRatio)}`;
  }
  switch (outcome.conclusion) {
    case 'tolerance':
      return `${text}, within tolerance ${formatPercent(outcome.tolerance)}`;
    case 'direction-flip':
      return outcome.flippedReplicas === undefined
        ? `${text}, which flips direction: no change`
        : `${text} but ${plural(outcome.flippedReplicas, 'instance')} would move the other way: no change`;
    default:
      return `${text} → ${plural(outcome.replicas ?? 0, 'instance')}`;
  }
}

function noteText(note: DecisionNote): string {
  switch (note.note) {
    case 'deployment-in-progress':
      return 'a deployment is in progress';
    case 'paused':
      return 'treated as paused';
    case 'metrics-unavailable':
      return 'metrics could not be read';
    case 'no-targets':
      return 'no CPU or memory target set: only the bounds and schedules apply';
    case 'no-usable-data':
      return 'no task has usable data: holding the current count';
    case 'metric-without-data':
      return `not scaling down: no usable data for ${note.metrics.map((metric) => METRIC_LABEL[metric]).join(', ')}`;
    case 'tasks-without-data':
      return `not scaling down: ${note.missing}/${note.considered} instances lack usable data`;
    case 'rejected-samples':
      return `rejected as garbage (treated as missing data): ${note.samples.map(rejectedText).join(', ')}`;
    case 'stabilization-window':
      return `kept at ${note.desired} by the scale-down stabilization window (highest recommendation in the last ${note.seconds} s)`;
    case 'scale-up-limit': {
      const rule = note.step !== undefined ? `+${note.step}` : 'max(+100%, +4)';
      const since = note.added > 0 ? `; ${note.added} already added in that time` : '';
      return `limited to ${rule} per ${note.periodSeconds} s from ${note.periodStart} (scale-up limit${since}) → ${note.desired}`;
    }
    case 'max-bound':
      return `capped by max ${note.max}`;
    case 'schedule-floor':
      return note.floor > note.max
        ? `raised to max ${note.max} (the schedule floor ${note.floor} is above max)`
        : `raised to the schedule floor ${note.floor}`;
    case 'min-bound':
      return `raised to min ${note.min}`;
    case 'predicted-floor':
      return predictedFloorText(note.floor, note.recommendation, note.forecast);
    case 'dry-run':
      return 'dry run: not applied';
  }
}

/**
 * E.g. "raised from 4 to the predicted floor 20: CPU 6.00 cores expected at 2026-11-30 09:00 UTC (quantile 0.9 of the
 * weeks of 2026-11-23, 2026-11-16, 2026-11-09; no data 2 weeks ago)".
 */
function predictedFloorText(floor: number, recommendation: number, forecast: PredictedFloor): string {
  const expected: string[] = [];
  if (forecast.expected.cpuCores !== undefined) expected.push(`CPU ${forecast.expected.cpuCores.toFixed(2)} cores`);
  if (forecast.expected.memoryBytes !== undefined) expected.push(`memory ${(forecast.expected.memoryBytes / 1048576).toFixed(0)} MiB`);
  const weeks = forecast.weeks.map((week) => utcDate(week.at)).join(', ');
  const ignored = forecast.ignoredWeeks.length > 0 ? `; no data ${forecast.ignoredWeeks.join(', ')} week${forecast.ignoredWeeks.length === 1 && forecast.ignoredWeeks[0] === 1 ? '' : 's'} ago` : '';
  return (
    `raised from ${recommendation} to the predicted floor ${floor}: ${expected.join(' and ')} expected at ${utcMinute(forecast.forecastAt)} ` +
    `(quantile ${forecast.quantile} of the weeks of ${weeks}${ignored})`
  );
}

function utcDate(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

function utcMinute(at: number): string {
  return `${new Date(at).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
