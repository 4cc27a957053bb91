// Controller metrics, named as upstream's (agent_sandbox_*) so dashboards carry over, plus the
// agentbox additions: per-pool demand for autoscalers (upstream #677 has only per-template
// claim metrics), work queue depth and reconcile timings.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ANNOTATION, CONDITION, LABEL, REASON } from '../api/k8s/constants.ts';
import type { Sandbox, SandboxClaim, SandboxWarmPool } from '../api/k8s/types.ts';
import { VERSION } from '../api/version.ts';
import { findCondition } from './conditions.ts';
import type { Informer } from './informer.ts';
import { controllerOf } from './ownership.ts';
import type { WorkQueue } from './queue.ts';
import { DEFAULT_WINDOW_MS, type PoolDemandView } from './keda/demand.ts';

const LATENCY_BUCKETS_MS = [100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 120_000, 240_000];

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly creationLatency = new Histogram({
    name: 'agent_sandbox_creation_latency_ms', help: 'Sandbox creation to Ready, milliseconds',
    labelNames: ['namespace', 'launch_type', 'sandbox_template'], buckets: LATENCY_BUCKETS_MS, registers: [this.registry],
  });
  readonly claimStartupLatency = new Histogram({
    name: 'agent_sandbox_claim_startup_latency_ms', help: 'Claim admission (webhook annotation) to Ready, milliseconds',
    labelNames: ['launch_type', 'sandbox_template'], buckets: LATENCY_BUCKETS_MS, registers: [this.registry],
  });
  readonly claimControllerLatency = new Histogram({
    name: 'agent_sandbox_claim_controller_startup_latency_ms', help: 'Claim first observed by the controller to Ready, milliseconds',
    labelNames: ['launch_type', 'sandbox_template'], buckets: LATENCY_BUCKETS_MS, registers: [this.registry],
  });
  readonly clientClaimLatency = new Histogram({
    name: 'agent_sandbox_client_claim_startup_latency_ms', help: 'Client request (annotation) to Ready, milliseconds',
    labelNames: ['launch_type', 'sandbox_template'], buckets: LATENCY_BUCKETS_MS, registers: [this.registry],
  });
  readonly claimCreation = new Counter({
    name: 'agent_sandbox_claim_creation_total', help: 'Sandboxes assigned to claims',
    labelNames: ['namespace', 'sandbox_template', 'launch_type', 'warmpool_name', 'pod_condition', 'created_by'], registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: 'agentbox_operator_reconcile_errors_total', help: 'Failed reconcile passes', labelNames: ['controller'], registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: 'agentbox_operator_reconcile_duration_seconds', help: 'Reconcile pass duration', labelNames: ['controller'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [this.registry],
  });
  /** Written by the warm-pool reconciler on every pass. */
  readonly poolReady = new Gauge({
    name: 'agentbox_warmpool_ready_replicas', help: 'Ready, unclaimed members per warm pool', labelNames: ['namespace', 'warmpool'], registers: [this.registry],
  });
  readonly poolWarmHits = new Counter({
    name: 'agentbox_warmpool_claims_total', help: 'Claims served per pool by launch type (warm = hit, cold = miss)',
    labelNames: ['namespace', 'warmpool', 'launch_type'], registers: [this.registry],
  });

  private readonly queues: Record<string, WorkQueue> = {};

  constructor() {
    const queues = this.queues;
    const depth: Gauge = new Gauge({
      name: 'agentbox_operator_workqueue_depth', help: 'Keys waiting per reconciler queue', labelNames: ['controller'],
      registers: [this.registry],
      collect() { for (const [k, q] of Object.entries(queues)) depth.set({ controller: k }, q.depth); },
    });
    new Gauge({ name: 'agent_sandbox_build_info', help: 'Build information', labelNames: ['version', 'implementation'], registers: [this.registry] })
      .set({ version: process.env.AGENTBOX_VERSION ?? VERSION, implementation: 'agentbox' }, 1);
  }

  async timeReconcile<T>(controller: string, fn: () => Promise<T>): Promise<T> {
    const end = this.reconcileDuration.startTimer({ controller });
    try { return await fn(); } finally { end(); }
  }

  watchQueues(queues: Record<string, WorkQueue>): void {
    Object.assign(this.queues, queues);
  }

  /** Collector gauges computed from the caches at scrape time. */
  collectSandboxes(sandboxes: Informer<Sandbox>, pools?: Informer<SandboxWarmPool>, claims?: Informer<SandboxClaim>): void {
    const g = new Gauge({
      name: 'agent_sandboxes', help: 'Sandboxes by state',
      labelNames: ['namespace', 'ready_condition', 'expired', 'launch_type', 'sandbox_template', 'owned_by', 'created_by'],
      registers: [this.registry],
      collect() {
        g.reset();
        for (const sb of sandboxes.list()) {
          const ready = findCondition(sb.status?.conditions, CONDITION.ready);
          g.inc({
            namespace: sb.metadata.namespace ?? '', ready_condition: ready?.status ?? 'Unknown',
            expired: String(ready?.reason === REASON.sandboxExpired),
            launch_type: sb.metadata.labels?.[LABEL.launchType] ?? '',
            sandbox_template: sb.metadata.annotations?.[ANNOTATION.templateRef] ?? '',
            owned_by: controllerOf(sb)?.kind ?? '', created_by: sb.metadata.labels?.[LABEL.createdBy] ?? 'unknown',
          });
        }
      },
    });
    if (!pools || !claims) return;
    // Demand per pool: claims waiting for a sandbox + claims bound to one. Autoscalers (HPA/KEDA
    // on the pool's scale subresource) target demand + headroom instead of per-template rates.
    const demand = new Gauge({
      name: 'agentbox_warmpool_demand', help: 'Claims referencing the pool, by state', labelNames: ['namespace', 'warmpool', 'state'],
      registers: [this.registry],
      collect() {
        demand.reset();
        for (const p of pools.list()) {
          for (const state of ['pending', 'bound']) demand.set({ namespace: p.metadata.namespace ?? '', warmpool: p.metadata.name!, state }, 0);
        }
        for (const c of claims.list()) {
          const state = c.status?.sandbox?.name ? 'bound' : 'pending';
          demand.inc({ namespace: c.metadata.namespace ?? '', warmpool: c.spec.warmPoolRef?.name ?? '', state });
        }
      },
    });
  }

  /**
   * The warm-pool demand KEDA's Prometheus scaler queries (docs/kubernetes-scaling.md): the same
   * numbers the external scaler answers with, over its default window.
   */
  collectDemand(view: PoolDemandView): void {
    const labelNames = ['namespace', 'warmpool'];
    const registers = [this.registry];
    // One collect fills all three, so a scrape never mixes two reads of the caches; it is the
    // first-registered gauge's, as a scrape reads the gauges in registration order.
    const waiting: Gauge = new Gauge({
      name: 'agentbox_warmpool_waiting_claims', help: 'Claims of the pool not Ready yet (and not failed for good)', labelNames, registers,
      collect() {
        for (const g of [waiting, rate, wanted]) g.reset();
        for (const { namespace, pool, demand } of view.all()) {
          const labels = { namespace, warmpool: pool };
          waiting.set(labels, demand.waiting);
          rate.set(labels, demand.arrivals / (DEFAULT_WINDOW_MS / 1000));
          wanted.set(labels, demand.wanted);
        }
      },
    });
    const rate = new Gauge({ name: 'agentbox_warmpool_claim_arrival_rate', help: `Claims of the pool per second over the last ${DEFAULT_WINDOW_MS / 1000} s`, labelNames, registers });
    const wanted = new Gauge({ name: 'agentbox_warmpool_wanted_replicas', help: 'Warm members the pool should keep: max(waiting claims, claims arrived in the window); 0 = idle', labelNames, registers });
  }

  sandboxReady(sb: Sandbox, now: Date): void {
    const created = Date.parse(sb.metadata.creationTimestamp ?? '');
    if (!Number.isFinite(created)) return;
    this.creationLatency.observe({
      namespace: sb.metadata.namespace ?? '', launch_type: sb.metadata.labels?.[LABEL.launchType] ?? 'cold',
      sandbox_template: sb.metadata.annotations?.[ANNOTATION.templateRef] ?? '',
    }, Math.max(0, now.getTime() - created));
  }
}
