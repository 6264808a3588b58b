export interface ScheduleWindow { cron: string; durationMinutes: number; minInstances: number; timezone?: string }
export interface ScalingPolicy {
  appId: string;                 // Marathon id, absolute: "/shop/web"
  minInstances: number;
  maxInstances: number;
  targetCpu?: number;            // target utilization, cores used / app.cpus (0 < x, may be > 1)
  targetMemory?: number;         // target fraction of app.mem
  tolerance: number;             // default 0.1
  scaleDownStabilizationSeconds: number; // default 300
  warmupSeconds: number;         // default 60
  scaleUpMaxStep?: number;       // rate limit per cycle: max(100% of current, 4 pods) by default (HPA)
  dryRun: boolean;
  schedules: ScheduleWindow[];
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
export interface DecisionInput {
  now: number;                              // epoch ms (the clock is passed in)
  policy: ScalingPolicy;
  app: AppView;
  usage: Record<string, TaskUsage>;         // by task id (only tasks with data appear)
  freshnessSeconds: number;                 // a task whose lastSampleAt is older than this has *missing* data
  recommendations: Recommendation[];        // this app's earlier raw recommendations (for the stabilization window)
  scheduleFloor: number | null;             // highest minInstances of the schedule windows active now, null if none
  metricsAvailable: boolean;                // false when the InfluxDB query failed this cycle
  consecutiveMetricFailures: number;
}
export type DecisionAction = 'scale-up' | 'scale-down' | 'none' | 'hold' | 'skip';
export interface TaskDecisionInput { taskId: string; cpuUtilization?: number; memoryUtilization?: number; status: 'used' | 'missing' | 'not-ready' | 'warming-up' | 'not-running' }
export interface Decision {
  appId: string;
  at: number;
  current: number;
  desired: number;                 // what to set (== current when no change)
  recommendation: number;          // raw recommendation before stabilization/limits (store it in the history)
  action: DecisionAction;
  reason: string;                  // one human sentence: why
  rules: string[];                 // every rule that applied/held/blocked, e.g. "tolerance", "stabilization-window", "max-bound", "schedule-floor", "missing-metrics", "deployment-in-progress", "paused"
  inputs: {
    targets: { cpu?: number; memory?: number };
    ratios: { cpu?: number; memory?: number };   // usage / target over used tasks
    bounds: { min: number; max: number; scheduleFloor: number | null };
    tasks: TaskDecisionInput[];
  };
  dryRun: boolean;
}
