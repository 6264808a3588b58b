import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CycleResult } from '../cycle/run-cycle.js';

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

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'baton_autoscaler_' });
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
    for (const action of result.actions) this.scaleActions.inc({ direction: action.direction });
    for (const skip of result.skipped) this.skipped.inc({ reason: skip.reason });
    for (const error of result.errors) this.errors.inc({ source: error.source });
  }

  recordOverlap(): void {
    this.skipped.inc({ reason: 'cycle-overlap' });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
