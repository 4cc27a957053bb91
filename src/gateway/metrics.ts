/**
 * Prometheus metrics of one server instance (its own Registry: no global state). Gauges are
 * computed at scrape time from the state database, so they cannot drift from it.
 */
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Op } from '../server/service.ts';

export interface MetricsSources {
  sandboxCounts: () => { state: string; n: number }[];
  poolSizes: () => { tenant: string; template: string; size: number; ready: number }[];
}

export class Metrics {
  readonly registry = new Registry();
  private readonly latency: Histogram<'op'>;

  constructor(sources: MetricsSources) {
    collectDefaultMetrics({ register: this.registry, prefix: 'agentbox_process_' });
    this.latency = new Histogram({
      name: 'agentbox_operation_duration_seconds',
      help: 'Latency of sandbox operations (create, claim, exec, pause, resume, fork, kill)',
      labelNames: ['op'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    });
    new Gauge({
      name: 'agentbox_sandboxes',
      help: 'Sandboxes by state (pooled = warm and unclaimed)',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const c of sources.sandboxCounts()) this.inc({ state: c.state }, c.n);
      },
    });
    new Gauge({
      name: 'agentbox_pool_size',
      help: 'Warm pool size: desired (kind=desired) and ready to claim (kind=ready)',
      labelNames: ['tenant', 'template', 'kind'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const p of sources.poolSizes()) {
          this.set({ tenant: p.tenant, template: p.template, kind: 'desired' }, p.size);
          this.set({ tenant: p.tenant, template: p.template, kind: 'ready' }, p.ready);
        }
      },
    });
  }

  observe(op: Op, ms: number): void {
    this.latency.observe({ op }, ms / 1000);
  }
}
