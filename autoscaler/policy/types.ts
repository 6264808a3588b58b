export interface ScheduleWindow { cron: string; durationMinutes: number; minInstances: number; timezone?: string }
/** An app's opt-in to predictive floors (registration field `predictive`, label AUTOSCALE_PREDICTIVE). */
export interface PredictiveSettings {
  /** How many past weeks to look at. */
  lookbackWeeks: number;
  /** How far ahead the floor looks: start-up and health-check grace, so instances are ready when the load comes. */
  leadMinutes: number;
  /** Which quantile of the weeks' usage to plan for (0.5 the median week, 1 the busiest). */
  quantile: number;
  /** The span around the forecast instant in each past week whose highest bucket is that week's usage. */
  windowMinutes: number;
  /** Fewer weeks with data than this: no floor (a holiday or an outage leaves a week without data). */
  minWeeks: number;
}

export interface ScalingPolicy {
  appId: string;                 // Marathon id, absolute: "/shop/web"
  minInstances: number;
  maxInstances: number;
  targetCpu?: number;            // target utilization, cores used / app.cpus (0 < x, may be > 1)
  targetMemory?: number;         // target fraction of app.mem
  tolerance: number;             // default 0.1
  scaleDownStabilizationSeconds: number; // default 300
  warmupSeconds: number;         // default 60
  scaleUpMaxStep?: number;       // most instances added per scale-up period (15 s); default max(100% of the count at the period's start, 4) (HPA)
  dryRun: boolean;
  schedules: ScheduleWindow[];
  predictive?: PredictiveSettings; // opt-in floor from the same weekday and time of day in past weeks
  source: 'rest' | 'labels';
}
export interface TaskView {
  id: string;
  state: string;                 // Marathon task state, e.g. TASK_RUNNING
  healthy: boolean | null;       // null when the app has no health checks
  startedAt: number | null;      // epoch ms
  version?: string;
}
export interface TaskUsage {
  cpuCores?: number;             // mean cores over the window
  memoryBytes?: number;          // max working set over the window
  lastSampleAt?: number;         // epoch ms of the newest point
}
export interface AppView {
  id: string;
  instances: number;             // Marathon's target count now
  cpus: number;
  mem: number;                   // MiB
  hasHealthChecks: boolean;
  deploymentInProgress: boolean;
  tasks: TaskView[];
}
export interface Recommendation { at: number; desired: number }   // epoch ms
/** A change of `instances` the autoscaler applied: `change` > 0 added, < 0 removed (HPA's scale events). */
export interface ScaleEvent { at: number; change: number }        // epoch ms
export interface DecisionInput {
  now: number;                              // epoch ms (the clock is passed in)
  policy: ScalingPolicy;
  app: AppView;
  usage: Record<string, TaskUsage>;         // by task id (only tasks with data appear)
  freshnessSeconds: number;                 // a task whose lastSampleAt is older than this has *missing* data
  recommendations: Recommendation[];        // this app's earlier raw recommendations (for the stabilization window)
  scaleEvents?: ScaleEvent[];               // this app's recent applied scalings (for the scale-up rate limit per period)
  scheduleFloor: number | null;             // highest minInstances of the schedule windows active now, null if none
  predictedFloor?: PredictedFloor | null;   // the forecast's floor for this app now (autoscaler/forecast), null/absent if none
  metricsAvailable: boolean;                // false when the InfluxDB query failed this cycle
  consecutiveMetricFailures: number;
}
/**
 * A floor from the forecast (autoscaler/forecast): the count the usage of the same weekday and time of day in past weeks
 * asks for `leadMinutes` ahead. It joins the recommendation (like one more metric), so a falling floor goes through the
 * scale-down stabilization window.
 */
export interface PredictedFloor {
  floor: number;
  /** The instant forecast (now + leadMinutes), epoch ms. */
  forecastAt: number;
  quantile: number;
  /** The past weeks whose usage made the forecast: the instant one week, two weeks, ... before forecastAt. */
  weeks: { weeksAgo: number; at: number; cpuCores?: number; memoryBytes?: number }[];
  /** Weeks asked for but left out for lack of data (holidays, outages, the app is younger), by how many weeks ago. */
  ignoredWeeks: number[];
  /** The expected app-wide usage (quantile across weeks) that the floor is computed from. */
  expected: { cpuCores?: number; memoryBytes?: number };
}
export type DecisionAction = 'scale-up' | 'scale-down' | 'none' | 'hold' | 'skip';
export type MetricName = 'cpu' | 'memory';
/**
 * A task in one word: 'used' (every metric counted it), 'missing' (some metric had no fresh valid sample), 'pending'
 * (launching), 'not-ready' / 'warming-up' (set aside for CPU only), 'unreachable' (exists, reports nothing: missing for
 * every metric), 'not-running' (gone: ignored).
 */
export type TaskStatus = 'used' | 'missing' | 'pending' | 'not-ready' | 'warming-up' | 'unreachable' | 'not-running';
/**
 * How one metric's calculation used a task: counted ('used'); missing data ('no-data': no fresh sample, 'invalid': a
 * negative or non-finite sample, 'unreachable'); set aside ('pending'; for CPU also 'not-ready', 'warming-up'); or
 * 'ignored' (gone, or the metric is not targeted).
 */
export type MetricUse = 'used' | 'no-data' | 'invalid' | 'unreachable' | 'pending' | 'not-ready' | 'warming-up' | 'ignored';
/**
 * One task as the decision saw it. Absent values are `undefined` (not left out): every entry has the same shape, which
 * keeps thousands of them cheap to build and to keep for /decisions.
 */
export interface TaskDecisionInput {
  taskId: string;
  status: TaskStatus;
  cpu: MetricUse;
  memory: MetricUse;
  cpuUtilization: number | undefined;    // cores / app cpus
  memoryUtilization: number | undefined; // bytes / app mem
  /** Raw usage from InfluxDB (what the utilization was computed from). */
  cpuCores: number | undefined;
  memoryBytes: number | undefined;
  lastSampleAt: number | undefined;      // epoch ms of the newest sample
}
/** What one metric asked for, as numbers: `explainDecision` turns it into words. */
export interface MetricOutcome {
  metric: MetricName;
  target: number;
  tolerance: number;
  /** usage / target over the tasks with usable data (before the missing/unready adjustment). */
  ratio: number | undefined;
  /** Desired instances by this metric alone; undefined when no task has usable data for it. */
  replicas: number | undefined;
  /** Mean utilization of the tasks with usable data. */
  meanUtilization: number | undefined;
  used: number;                   // tasks whose data counted
  considered: number;             // used + missing: the count the recomputed ratio is over (with unready on a scale-up)
  /** Instances without usable data: noData + invalid + unreachable + unlisted (HPA's missing pods). */
  missing: number;
  noData: number;                 // no fresh sample
  invalid: number;                // a negative or non-finite sample, rejected
  unreachable: number;            // TASK_UNREACHABLE / TASK_UNKNOWN / TASK_LOST
  unlisted: number;               // instances Marathon counts with no task in its list
  pending: number;                // launching (set aside for every metric)
  notReady: number;               // CPU only: unhealthy or start unknown
  warmingUp: number;              // CPU only
  /** The utilization assumed for missing instances in the recomputed ratio (max(1, target) down, 0 up). */
  missingAssumed: number | undefined;
  /** The ratio recomputed with missing (and, on a scale-up, set-aside) tasks at the assumed usage. */
  recomputedRatio: number | undefined;
  /** How the metric concluded: a count, or no change because of tolerance or a flipped direction. */
  conclusion: 'no-data' | 'replicas' | 'tolerance' | 'direction-flip';
  /** With 'direction-flip' after computing a count: the count that would have moved the other way. */
  flippedReplicas: number | undefined;
}
/** Why the count was adjusted or held, with the figures a person needs: `explainDecision` turns it into words. */
export type DecisionNote =
  | { note: 'deployment-in-progress' }
  | { note: 'paused' }
  | { note: 'metrics-unavailable'; consecutiveFailures: number }
  | { note: 'no-targets' }
  | { note: 'no-usable-data' }
  | { note: 'metric-without-data'; metrics: MetricName[] }
  | { note: 'tasks-without-data'; missing: number; considered: number }
  | { note: 'rejected-samples'; samples: { taskId: string; metric: MetricName; value: number }[] }
  | { note: 'stabilization-window'; desired: number; seconds: number }
  | { note: 'scale-up-limit'; limit: number; periodStart: number; added: number; periodSeconds: number; step: number | undefined; desired: number }
  | { note: 'max-bound'; max: number }
  | { note: 'schedule-floor'; floor: number; max: number }
  | { note: 'predicted-floor'; floor: number; recommendation: number; forecast: PredictedFloor }
  | { note: 'min-bound'; min: number }
  | { note: 'dry-run' };
export interface Decision {
  appId: string;
  at: number;
  current: number;
  desired: number;                 // what to set (== current when no change)
  recommendation: number;          // raw recommendation before stabilization/limits (store it in the history)
  action: DecisionAction;
  rules: string[];                 // every rule that applied/held/blocked, e.g. "tolerance", "stabilization-window", "max-bound", "schedule-floor", "missing-metrics", "deployment-in-progress", "paused"
  inputs: {
    targets: { cpu?: number; memory?: number };
    ratios: { cpu?: number; memory?: number };   // usage / target over used tasks
    bounds: { min: number; max: number; scheduleFloor: number | null; predictedFloor?: number | null };
    tasks: TaskDecisionInput[];
    /** The forecast behind bounds.predictedFloor, when the app has one. */
    forecast?: PredictedFloor;
  };
  dryRun: boolean;
  /** Per metric, in target order (cpu, memory). */
  metrics: MetricOutcome[];
  /** In the order they applied. */
  notes: DecisionNote[];
}
