import type { ScalingPolicy } from '../policy/types.js';
import type { Registration } from '../registry/registration.js';
import type { Accounting, ProvisioningSummary } from './accounting.js';
import type { ChartInput } from './chart.js';
import type { Recording } from './recording.js';
import type { ReplayResult } from './replay.js';

export type PolicyOrigin = { kind: 'file'; file: string } | { kind: 'zookeeper'; path: string } | { kind: 'state-file'; file: string } | { kind: 'labels' };

export interface ReportInput {
  appId: string;
  from: number;
  to: number;
  stepMs: number;
  startupMs: number;
  origin: PolicyOrigin;
  registration: Registration;
  policy: ScalingPolicy;
  resources: { cpus: number; memMiB: number };
  recording: Recording;
  recordingSource: { database: string; retentionPolicy?: string };
  initialInstances: number;
  result: ReplayResult;
  accounting: Accounting;
  timings: { queryMs: number; replayMs: number };
}

/** The backtest's answer for --json (docs/json.md), and the chart's input. */
export interface BacktestJson {
  appId: string;
  from: string;
  to: string;
  stepSeconds: number;
  cycles: number;
  assumptions: { taskStartupSeconds: number; initialInstances: number; usage: string };
  policy: { origin: PolicyOrigin; registration: Registration };
  resources: { cpus: number; memMiB: number };
  recorded: { database: string; retentionPolicy?: string; bucketMinutes: number; buckets: number; minutesWithoutData: number };
  backtest: ProvisioningSummary & { cyclesHeldWithoutData: number; cyclesSkippedForDeployment: number };
  actual: ProvisioningSummary;
  actions: { at: string; from: number; to: number; reason: string; rules: string[] }[];
  actualChanges: { at: string; instances: number }[];
  timings: { queryMs: number; replayMs: number };
}

export function backtestReport(input: ReportInput): { json: BacktestJson; chart: ChartInput } {
  const { accounting, result } = input;
  const json: BacktestJson = {
    appId: input.appId,
    from: iso(input.from),
    to: iso(input.to),
    stepSeconds: input.stepMs / 1000,
    cycles: result.steps,
    assumptions: {
      taskStartupSeconds: input.startupMs / 1000,
      initialInstances: input.initialInstances,
      usage: 'the recorded app-wide usage, spread evenly over the tasks running at each moment',
    },
    policy: { origin: input.origin, registration: input.registration },
    resources: input.resources,
    recorded: {
      database: input.recordingSource.database,
      ...(input.recordingSource.retentionPolicy !== undefined ? { retentionPolicy: input.recordingSource.retentionPolicy } : {}),
      bucketMinutes: input.recording.bucketMs / 60_000,
      buckets: input.recording.buckets.length,
      minutesWithoutData: accounting.minutesWithoutData,
    },
    backtest: { ...accounting.backtest, cyclesHeldWithoutData: result.heldWithoutData, cyclesSkippedForDeployment: result.skippedForDeployment },
    actual: accounting.actual,
    actions: result.actions.map((action) => ({ at: iso(action.at), from: action.from, to: action.to, reason: action.reason, rules: action.rules })),
    actualChanges: accounting.actualChanges.map((change) => ({ at: iso(change.at), instances: change.instances })),
    timings: { queryMs: Math.round(input.timings.queryMs), replayMs: Math.round(input.timings.replayMs) },
  };
  const chart: ChartInput = {
    title: `${input.appId}: backtest ${iso(input.from)} – ${iso(input.to)}`,
    from: input.from,
    to: input.to,
    points: accounting.samples,
    minInstances: input.policy.minInstances,
    maxInstances: input.policy.maxInstances,
    actions: result.actions.map((action) => ({ at: action.at, direction: action.to > action.from ? 'up' : 'down' })),
  };
  return { json, chart };
}

const ACTIONS_SHOWN = 10;

/** For people: the range and policy in a line each, the two sides side by side, the first scale actions. */
export function formatReport(report: BacktestJson): string {
  const lines: string[] = [];
  const { backtest, actual } = report;
  lines.push(`Backtest of ${report.appId} from ${report.from} to ${report.to}: ${number(report.cycles)} cycles of ${report.stepSeconds} s`);
  lines.push(`Policy (${origin(report.policy.origin)}): ${policyLine(report.policy.registration)}`);
  lines.push(
    `Recorded usage: ${number(report.recorded.buckets)} buckets of ${report.recorded.bucketMinutes} min` +
      (report.recorded.minutesWithoutData > 0 ? `, ${number(report.recorded.minutesWithoutData)} min without data (not counted)` : ''),
  );
  lines.push(`Assumed: new tasks run healthy ${report.assumptions.taskStartupSeconds} s after a scale-up; usage spread evenly over the running tasks`);
  lines.push('');
  const rows: [string, string, string][] = [
    ['', 'backtest', 'actual (recorded)'],
    ['instances mean / min / max', instances(backtest), actual.minutesCounted > 0 ? instances(actual) : 'not recorded'],
    ['under-provisioned', `${number(backtest.underProvisionedTaskMinutes)} task-min`, `${number(actual.underProvisionedTaskMinutes)} task-min`],
    ['over-provisioned', `${number(backtest.overProvisionedTaskMinutes)} task-min`, `${number(actual.overProvisionedTaskMinutes)} task-min`],
    ['above target (+tolerance)', above(backtest), above(actual)],
    ['scale actions up / down', `${backtest.scaleActions.up} / ${backtest.scaleActions.down}`, `${actual.scaleActions.up} / ${actual.scaleActions.down} (task count changes)`],
  ];
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column as 0 | 1 | 2].length)));
  for (const row of rows) lines.push(`  ${row[0].padEnd(widths[0] as number)}  ${row[1].padEnd(widths[1] as number)}  ${row[2]}`.trimEnd());
  lines.push('');
  if (report.actions.length === 0) lines.push('The backtest never scaled.');
  else {
    lines.push(`Scale actions (${report.actions.length}${report.actions.length > ACTIONS_SHOWN ? `, the first ${ACTIONS_SHOWN}; all with --json` : ''}):`);
    for (const action of report.actions.slice(0, ACTIONS_SHOWN)) lines.push(`  ${action.at}  ${action.from} → ${action.to}  ${action.reason}`);
  }
  lines.push(`Read InfluxDB in ${seconds(report.timings.queryMs)}, replayed in ${seconds(report.timings.replayMs)}.`);
  return `${lines.join('\n')}\n`;
}

function policyLine(registration: Registration): string {
  const parts: string[] = [];
  if (registration.targetCpu !== undefined) parts.push(`cpu ${registration.targetCpu}`);
  if (registration.targetMemory !== undefined) parts.push(`memory ${registration.targetMemory}`);
  parts.push(`${registration.minInstances}–${registration.maxInstances} instances`);
  if (registration.schedules.length > 0) parts.push(`${registration.schedules.length} schedule window${registration.schedules.length === 1 ? '' : 's'}`);
  if (registration.predictive !== undefined) {
    const p = registration.predictive;
    parts.push(`predictive (${p.lookbackWeeks} weeks, ${p.leadMinutes} min ahead, quantile ${p.quantile})`);
  }
  if (registration.dryRun) parts.push('dryRun ignored');
  return parts.join(', ');
}

function origin(value: PolicyOrigin): string {
  switch (value.kind) {
    case 'file':
      return `--policy ${value.file}`;
    case 'zookeeper':
      return `registration in ZooKeeper ${value.path}`;
    case 'state-file':
      return `registration in ${value.file}`;
    case 'labels':
      return 'AUTOSCALE_* labels';
  }
}

function instances(side: ProvisioningSummary): string {
  return `${side.instances.mean} / ${side.instances.min} / ${side.instances.max}`;
}

function above(side: ProvisioningSummary): string {
  if (side.aboveTarget.times === 0) return 'never';
  return `${side.aboveTarget.times}×, ${number(side.aboveTarget.minutes)} min (longest ${number(side.aboveTarget.longestMinutes)})`;
}

function number(value: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: 1 });
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function iso(at: number): string {
  return new Date(at).toISOString().replace('.000Z', 'Z');
}
