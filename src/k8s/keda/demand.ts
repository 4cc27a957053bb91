// Demand per SandboxWarmPool, the one number both autoscaler paths read: KEDA's external scaler
// (external-scaler.ts) and the Prometheus gauges (metrics.ts) that KEDA's Prometheus scaler
// queries. The arithmetic is a pure function of the counts (rule "Time is a parameter"); the view
// keeps the counts from the operator's caches.
import { CONDITION, TERMINAL_CLAIM_REASONS } from '../../api/k8s/constants.ts';
import type { SandboxClaim, SandboxWarmPool } from '../../api/k8s/types.ts';
import { findCondition } from '../conditions.ts';
import type { Informer } from '../informer.ts';
import { ArrivalLog } from './arrivals.ts';

/** The window of claim arrivals a pool is sized for when the autoscaler names none. */
export const DEFAULT_WINDOW_MS = 60_000;
/** Arrivals are kept this long, so no window may be longer. */
export const MAX_WINDOW_MS = 60 * 60_000;

export interface PoolDemand {
  /** Claims of the pool that are not Ready yet and may still become Ready. */
  waiting: number;
  /** Claims of the pool created within the window (deleted ones included). */
  arrivals: number;
  /** The pool's members that are Ready and unclaimed, as its status last said. */
  readyReplicas: number;
  /** The pool's `spec.replicas` (what the scale subresource reads and writes). */
  replicas: number;
  /** Warm members the pool should keep: `wantedReplicas(waiting, arrivals)`. */
  wanted: number;
}

/**
 * Warm members a pool should keep: as many as claims arrived in the window (the pool then serves
 * the next window's claims warm), and never fewer than the claims still waiting, which the pool
 * failed to serve. Zero means idle: KEDA may scale the pool to zero; any claim makes it >= 1.
 */
export function wantedReplicas(waiting: number, arrivals: number): number {
  return Math.max(waiting, arrivals);
}

/** A claim still waiting for its sandbox: not Ready, not being deleted, not failed for good. */
export function isWaiting(claim: SandboxClaim): boolean {
  if (claim.metadata.deletionTimestamp) return false;
  const ready = findCondition(claim.status?.conditions, CONDITION.ready);
  return ready?.status !== 'True' && !TERMINAL_CLAIM_REASONS.includes(ready?.reason ?? '');
}

const poolKey = (namespace: string | undefined, pool: string) => `${namespace ?? ''}/${pool}`;

export class PoolDemandView {
  private readonly arrivals = new ArrivalLog(MAX_WINDOW_MS);
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly pools: Informer<SandboxWarmPool>,
    private readonly claims: Informer<SandboxClaim>,
    private readonly now: () => Date,
  ) {
    // Arrivals are recorded as claims are seen, not read from the cache, so a claim deleted within
    // the window (a short agent task) still counts as demand.
    claims.on((type, c) => {
      if (type === 'add') this.recordArrival(c);
      this.notify();
    });
    pools.on(() => this.notify());
  }

  /** The pool's demand over the last `windowMs`; undefined when the pool does not exist. */
  demand(namespace: string, pool: string, windowMs = DEFAULT_WINDOW_MS): PoolDemand | undefined {
    const p = this.pools.get(namespace, pool);
    if (!p) return undefined;
    const arrivals = this.arrivals.count(poolKey(namespace, pool), windowMs, this.now().getTime());
    const waiting = this.claims.list((c) => c.spec.warmPoolRef?.name === pool && isWaiting(c), namespace).length;
    return {
      waiting, arrivals, readyReplicas: p.status?.readyReplicas ?? 0, replicas: p.spec.replicas ?? 1,
      wanted: wantedReplicas(waiting, arrivals),
    };
  }

  /** Every pool in the cache with its demand over the default window (the Prometheus gauges). */
  all(): { namespace: string; pool: string; demand: PoolDemand }[] {
    return this.pools.list().map((p) => ({
      namespace: p.metadata.namespace ?? '', pool: p.metadata.name!,
      demand: this.demand(p.metadata.namespace ?? '', p.metadata.name!)!,
    }));
  }

  /**
   * Calls `listener` after every change to a pool or claim (and returns the unsubscribe): a
   * streaming caller re-reads the demand then instead of polling.
   */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }

  private recordArrival(c: SandboxClaim): void {
    const pool = c.spec.warmPoolRef?.name;
    const at = Date.parse(c.metadata.creationTimestamp ?? '');
    if (pool && c.metadata.uid && Number.isFinite(at)) this.arrivals.record(poolKey(c.metadata.namespace, pool), c.metadata.uid, at, this.now().getTime());
  }
}
