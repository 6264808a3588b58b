import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CycleResult } from '../cycle/run-cycle.js';
import type { Role } from '../leadership/election.js';
import type { BuildInfo } from './build-info.js';

const PREFIX = 'baton_autoscaler_';
const ROLES: Role[] = ['standalone', 'leader', 'follower', 'joining', 'no-session'];
/**
 * prom-client's totals of the by-type gauges: gauges named *_total, which `promtool check metrics` rejects (the suffix
 * is for counters). Their by-type gauges stay; sum() over them gives the totals.
 */
const GAUGES_NAMED_LIKE_COUNTERS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** The daemon's Prometheus metrics (GET /metrics). Its own registry, so tests can run several daemons in one process. */
export class AutoscalerMetrics {
  readonly registry = new Registry();
  private readonly cycleDuration = new Histogram({
    name: 'baton_autoscaler_cycle_duration_seconds',
    help: 'Wall time of one autoscaling cycle (Marathon list, InfluxDB query, decisions, scaling)',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 1.5, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly cycles = new Counter({
    name: 'baton_autoscaler_cycles_total',
    help: 'Cycles run, by outcome (ok: Marathon and InfluxDB answered; failed: no scaling that cycle)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private readonly appsManaged = new Gauge({
    name: 'baton_autoscaler_apps_managed',
    help: 'Apps under autoscaling, by how they were registered',
    labelNames: ['source'],
    registers: [this.registry],
  });
  private readonly scaleActions = new Counter({
    name: 'baton_autoscaler_scale_actions_total',
    help: 'Scale requests accepted by Marathon, by direction',
    labelNames: ['direction'],
    registers: [this.registry],
  });
  private readonly skipped = new Counter({
    name: 'baton_autoscaler_skipped_total',
    help: 'Apps (or whole ticks, reason="cycle-overlap") left alone, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly errors = new Counter({
    name: 'baton_autoscaler_errors_total',
    help: 'Failures, by source (marathon, influxdb)',
    labelNames: ['source'],
    registers: [this.registry],
  });
  private readonly lastSuccess = new Gauge({
    name: 'baton_autoscaler_last_successful_cycle_timestamp_seconds',
    help: 'Unix time at which the last cycle with Marathon and InfluxDB both answering ended',
    registers: [this.registry],
  });
  private readonly labelIssues = new Gauge({
    name: 'baton_autoscaler_invalid_label_apps',
    help: 'Apps whose AUTOSCALE_* labels are invalid (not managed)',
    registers: [this.registry],
  });

  private readonly appCurrent = this.appGauge('app_current_instances', "The app's instances in Marathon as the last cycle read them");
  private readonly appDesired = this.appGauge('app_desired_instances', 'The instances the last cycle decided on (equal to current when no change)');
  private readonly appMin = this.appGauge('app_min_instances', "The app's minInstances (its registration or AUTOSCALE_MIN)");
  private readonly appMax = this.appGauge('app_max_instances', "The app's maxInstances (its registration or AUTOSCALE_MAX)");

  /** Read when scraped: the role can change between cycles (a lost ZooKeeper session). */
  private role: () => Role = () => 'standalone';

  constructor(build: BuildInfo) {
    const metrics = this;
    new Gauge({
      name: `${PREFIX}leader`,
      help: '1 while this instance scales (it leads, or runs alone without ZooKeeper), else 0',
      registers: [this.registry],
      collect() {
        const role = metrics.role();
        this.set(role === 'leader' || role === 'standalone' ? 1 : 0);
      },
    });
    new Gauge({
      name: `${PREFIX}role`,
      help: "1 for this instance's role (standalone, leader, follower, joining, no-session), 0 for the others",
      labelNames: ['role'],
      registers: [this.registry],
      collect() {
        const role = metrics.role();
        for (const name of ROLES) this.set({ role: name }, name === role ? 1 : 0);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
    for (const name of GAUGES_NAMED_LIKE_COUNTERS) this.registry.removeSingleMetric(PREFIX + name);
    new Gauge({
      name: `${PREFIX}build_info`,
      help: 'Always 1; the labels say which baton-autoscaler version runs on which Node version',
      labelNames: ['version', 'node_version'],
      registers: [this.registry],
    }).set({ version: build.version, node_version: build.nodeVersion }, 1);
    for (const direction of ['up', 'down']) this.scaleActions.inc({ direction }, 0);
    for (const source of ['marathon', 'influxdb']) this.errors.inc({ source }, 0);
    for (const outcome of ['ok', 'failed']) this.cycles.inc({ outcome }, 0);
  }

  recordCycle(result: CycleResult): void {
    const ok = result.ok;
    this.cycleDuration.observe((result.finishedAt - result.startedAt) / 1000);
    this.cycles.inc({ outcome: ok ? 'ok' : 'failed' });
    if (ok) this.lastSuccess.set(result.finishedAt / 1000);
    this.appsManaged.reset();
    for (const source of ['rest', 'labels']) {
      this.appsManaged.set({ source }, result.managed.filter((m) => m.source === source).length);
    }
    this.labelIssues.set(result.labelIssues.length);
    // Apps of the last cycle only: an app no longer managed disappears instead of showing its last values forever.
    for (const gauge of [this.appCurrent, this.appDesired, this.appMin, this.appMax]) gauge.reset();
    for (const managed of result.managed) {
      const labels = { app_id: managed.appId };
      this.appMin.set(labels, managed.policy.minInstances);
      this.appMax.set(labels, managed.policy.maxInstances);
      if (managed.instances !== undefined) this.appCurrent.set(labels, managed.instances);
    }
    for (const decision of result.decisions) this.appDesired.set({ app_id: decision.appId }, decision.desired);
    for (const action of result.actions) this.scaleActions.inc({ direction: action.direction });
    for (const skip of result.skipped) this.skipped.inc({ reason: skip.reason });
    for (const error of result.errors) this.errors.inc({ source: error.source });
  }

  reportRole(role: () => Role): void {
    this.role = role;
  }

  recordOverlap(): void {
    this.skipped.inc({ reason: 'cycle-overlap' });
  }

  private appGauge(name: string, help: string): Gauge<'app_id'> {
    return new Gauge({ name: PREFIX + name, help, labelNames: ['app_id'], registers: [this.registry] });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
