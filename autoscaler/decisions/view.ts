import { explainDecision } from '../policy/decide.js';
import type { DecisionRecord } from '../cycle/run-cycle.js';

/** A task's figures as /decisions shows them under `inputs.tasks`: what the decision saw (absent values left out). */
export interface TaskInputView {
  taskId: string;
  status: string;
  cpuUtilization?: number;
  memoryUtilization?: number;
}

/** A task's raw usage from InfluxDB as /decisions shows it under `usage` (null where there is no data). */
export interface TaskUsageView {
  taskId: string;
  cpuCores: number | null;
  memoryBytes: number | null;
  /** Epoch ms of the newest sample. */
  lastSampleAt: number | null;
}

export interface ForecastView {
  floor: number;
  /** Whether the floor raised the recommendation this time (rule `predicted-floor`). */
  raised: boolean;
  forecastAt: string;
  quantile: number;
  weeks: { weeksAgo: number; at: string; cpuCores?: number; memoryBytes?: number }[];
  ignoredWeeks: number[];
  expected: { cpuCores?: number; memoryBytes?: number };
}

/** One entry of GET /decisions. */
export interface DecisionView {
  appId: string;
  at: number;
  current: number;
  desired: number;
  recommendation: number;
  action: DecisionRecord['action'];
  /** The decision in one sentence. */
  reason: string;
  rules: string[];
  inputs: Omit<DecisionRecord['inputs'], 'tasks' | 'forecast'> & { tasks: TaskInputView[] };
  /** Where the predicted floor came from: the instant forecast and the past weeks used (ISO times), when there is one. */
  forecast?: ForecastView;
  dryRun: boolean;
  source: DecisionRecord['source'];
  outcome: DecisionRecord['outcome'];
  adopted?: { from: number; to: number };
  error?: string;
  resources: DecisionRecord['resources'];
  usage: TaskUsageView[];
  firstAt: number;
  repeated: number;
}

/**
 * The kept record in the shape /decisions answers with: the sentence written now, the per-task figures split into
 * what the decision used and the raw usage. Done per request, for the entries asked for, not per cycle for all apps.
 */
export function decisionView(record: DecisionRecord): DecisionView {
  const view: DecisionView = {
    appId: record.appId,
    at: record.at,
    current: record.current,
    desired: record.desired,
    recommendation: record.recommendation,
    action: record.action,
    reason: explainDecision(record),
    rules: record.rules,
    inputs: {
      targets: record.inputs.targets,
      ratios: record.inputs.ratios,
      bounds: record.inputs.bounds,
      tasks: record.inputs.tasks.map((task) => {
        // Utilization of the metrics the app is scaled on; the raw usage of both is under `usage`.
        const entry: TaskInputView = { taskId: task.taskId, status: task.status };
        if (task.cpuUtilization !== undefined && record.inputs.targets.cpu !== undefined) entry.cpuUtilization = task.cpuUtilization;
        if (task.memoryUtilization !== undefined && record.inputs.targets.memory !== undefined) {
          entry.memoryUtilization = task.memoryUtilization;
        }
        return entry;
      }),
    },
    dryRun: record.dryRun,
    source: record.source,
    outcome: record.outcome,
    resources: record.resources,
    usage: record.inputs.tasks.map((task) => ({
      taskId: task.taskId,
      cpuCores: task.cpuCores ?? null,
      memoryBytes: task.memoryBytes ?? null,
      lastSampleAt: task.lastSampleAt ?? null,
    })),
    firstAt: record.firstAt,
    repeated: record.repeated,
  };
  const forecast = record.inputs.forecast;
  if (forecast !== undefined) {
    view.forecast = {
      floor: forecast.floor,
      raised: record.rules.includes('predicted-floor'),
      forecastAt: new Date(forecast.forecastAt).toISOString(),
      quantile: forecast.quantile,
      weeks: forecast.weeks.map((week) => ({ ...week, at: new Date(week.at).toISOString() })),
      ignoredWeeks: forecast.ignoredWeeks,
      expected: forecast.expected,
    };
  }
  if (record.adopted) view.adopted = record.adopted;
  if (record.error !== undefined) view.error = record.error;
  return view;
}
