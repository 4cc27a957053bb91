// SandboxWarmPool reconciler: keeps `replicas` unclaimed, fresh Sandboxes built from the pool's
// template, replaces stale ones per update strategy, and reports rollout progress.
import { ANNOTATION, CONDITION, KIND, LABEL, LAUNCH_WARM, REASON, UPDATE_STRATEGY } from '../../api/k8s/constants.ts';
import type { Sandbox, SandboxClaim, SandboxTemplate, SandboxWarmPool, SandboxWarmPoolStatus } from '../../api/k8s/types.ts';
import { isNotFound, KubeApiError, type KubeClient } from '../client.ts';
import { findCondition, isTrue, setCondition } from '../conditions.ts';
import { nameHash } from '../hash.ts';
import { objectKey, type Informer } from '../informer.ts';
import type { OperatorMetrics } from '../metrics.ts';
import { controllerOf, controllerRef, isControlledBy } from '../ownership.ts';
import { SANDBOXES, WARM_POOLS } from '../resources.ts';
import { writeStatus } from '../status-writer.ts';
import type { EventRecorder } from '../events.ts';
import { blueprintFromTemplate, blueprintHash, isStale, podTemplateHash } from './blueprint.ts';
import { GoldenSnapshots, wantsGoldenSnapshot, type GoldenState } from './golden-snapshot.ts';
import type { RestoreNodes } from '../node/placement.ts';
import { TokenBucket } from '../token-bucket.ts';

/** Default upper bound of creates in one pass (upstream's --sandbox-warm-pool-max-batch-size). */
export const DEFAULT_MAX_BATCH = 300;
const TEMPLATE_MISSING_REQUEUE_MS = 60_000;
/** Statuses of an API server that refused a member (admission, quota, validation), not one that failed to answer. */
const REFUSALS = new Set([400, 403, 422]);

export interface WarmPoolControllerDeps {
  client: KubeClient;
  pools: Informer<SandboxWarmPool>;
  templates: Informer<SandboxTemplate>;
  sandboxes: Informer<Sandbox>;
  /** Claims, whose binding tells the pool a member left (see `watch`). */
  claims: Informer<SandboxClaim>;
  metrics: OperatorMetrics;
  events: EventRecorder;
  now: () => Date;
  readinessGraceMs: number;
  /** How often a pool holding unschedulable members is looked at again. */
  unschedulableRecheckMs?: number;
  /** Most members created in one pass, all at once (`--sandbox-warm-pool-max-batch-size`). */
  maxBatch?: number;
  /** Member creates per second per pool, `maxBatch` deep; 0 = no limit (`--sandbox-warm-pool-create-qps`). */
  createQps?: number;
  /** Whether a golden snapshot's node is still Ready (golden-snapshot pools re-take it when not). */
  restoreNodes?: RestoreNodes;
}

export const poolSelector = (poolName: string) => `${LABEL.warmPoolSandbox}=${nameHash(poolName)}`;

export class WarmPoolController {
  /** Pools (uid) that reported WarmPoolNotProgressing and have not recovered yet. */
  private readonly stuck = new Set<string>();
  /** Create allowance per pool (uid), when a rate is set. */
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly golden: GoldenSnapshots;

  constructor(private readonly d: WarmPoolControllerDeps) {
    this.golden = new GoldenSnapshots({
      client: d.client, sandboxes: d.sandboxes, restoreNodes: d.restoreNodes, sandboxOf: (pool, t, meta) => this.sandboxOf(pool, t, meta),
    });
  }

  /**
   * Maps the changes this reconciler cares about to its queue keys: a pool, the pools of a
   * changed template, and the pool of a member that changed, including one that just left it
   * (adoption): the pool that lost it must refill; and the pool a claim draws from.
   */
  watch(enqueue: (key: string) => void): void {
    this.d.pools.on((type, p) => {
      if (type === 'delete') { this.buckets.delete(p.metadata.uid!); this.stuck.delete(p.metadata.uid!); }
      enqueue(objectKey(p));
    });
    this.d.templates.on((_t, t) => {
      for (const p of this.d.pools.list((p) => p.spec.sandboxTemplateRef.name === t.metadata.name, t.metadata.namespace)) enqueue(objectKey(p));
    });
    this.d.sandboxes.on((_t, sb, old) => {
      const owner = controllerOf(sb);
      if (owner?.kind === 'SandboxWarmPool') enqueue(`${sb.metadata.namespace}/${owner.name}`);
      const oldOwner = old ? controllerOf(old) : undefined;
      if (oldOwner?.kind === 'SandboxWarmPool' && oldOwner.uid !== owner?.uid) enqueue(`${sb.metadata.namespace}/${oldOwner.name}`);
    });
    // The claim controller writes an adopted member through to the shared cache, so the watch
    // event of the adoption may arrive with `old` already adopted and name no pool; the claim's
    // own change that follows (bound, Ready) does name it.
    this.d.claims.on((_t, c) => { if (c.spec.warmPoolRef?.name) enqueue(`${c.metadata.namespace}/${c.spec.warmPoolRef.name}`); });
  }

  async reconcile(namespace: string, name: string): Promise<{ requeueAfterMs?: number } | void> {
    const pool = this.d.pools.get(namespace, name);
    if (!pool || pool.metadata.deletionTimestamp) return;
    const hash = nameHash(name);
    const labelled = this.d.sandboxes.list((sb) => sb.metadata.labels?.[LABEL.warmPoolSandbox] === hash, namespace);
    const template = this.d.templates.get(namespace, pool.spec.sandboxTemplateRef.name);

    // Orphans carrying our label (e.g. after the pool was re-created): adopt if fresh, else delete.
    for (const sb of labelled.filter((s) => !controllerOf(s) && !s.metadata.deletionTimestamp)) {
      if (template && !isStale(sb, template)) await this.adopt(sb, pool);
      else await this.deleteMember(sb);
    }

    const members = labelled.filter((sb) => isControlledBy(sb, pool));
    const terminating = members.filter((sb) => sb.metadata.deletionTimestamp);
    let active = members.filter((sb) => !sb.metadata.deletionTimestamp);
    if (!template) {
      await this.writeStatus(pool, active, active.length);
      return { requeueAfterMs: TEMPLATE_MISSING_REQUEUE_MS };
    }

    const stale = new Set(active.filter((sb) => isStale(sb, template)).map((sb) => sb.metadata.name));
    if ((pool.spec.updateStrategy?.type ?? UPDATE_STRATEGY.onReplenish) === UPDATE_STRATEGY.recreate) {
      for (const sb of active.filter((s) => stale.has(s.metadata.name))) await this.deleteMember(sb);
      active = active.filter((s) => !stale.has(s.metadata.name));
    }

    // Readiness grace: replace members that never became Ready, unless their pod cannot be
    // scheduled (deleting those only churns; they are held until capacity appears).
    let requeueAfterMs: number | undefined;
    const now = this.d.now().getTime();
    let held = 0;
    for (const sb of active.filter((s) => !isTrue(s.status?.conditions, CONDITION.ready))) {
      const age = now - Date.parse(sb.metadata.creationTimestamp ?? new Date(now).toISOString());
      const unschedulable = findCondition(sb.status?.conditions, CONDITION.podScheduled)?.reason === 'Unschedulable';
      if (age < this.d.readinessGraceMs) {
        requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, this.d.readinessGraceMs - age + 10);
      } else if (unschedulable) {
        held++;
      } else {
        await this.deleteMember(sb);
        active = active.filter((s) => s !== sb);
      }
    }
    const poolRef = { ...pool, ...KIND.SandboxWarmPool };
    if (held > 0) {
      if (!this.stuck.has(pool.metadata.uid!)) {
        this.stuck.add(pool.metadata.uid!);
        this.d.events.record(poolRef, 'Warning', 'WarmPoolNotProgressing', 'Replenishing',
          `${held} member(s) unschedulable past the readiness grace period; holding them instead of recreating`);
      }
      requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, this.d.unschedulableRecheckMs ?? 60_000);
    } else if (this.stuck.delete(pool.metadata.uid!)) {
      this.d.events.record(poolRef, 'Normal', 'WarmPoolProgressing', 'Replenishing', 'Unschedulable members recovered');
    }

    // A golden-snapshot pool creates members only once there is a snapshot for them to restore.
    const golden = wantsGoldenSnapshot(pool) ? await this.golden.ensure(pool, template) : undefined;
    if (!golden) await this.golden.retire(pool);
    const desired = pool.spec.replicas ?? 1;
    const occupied = active.length + terminating.length;
    if (occupied < desired && golden?.stored !== false) {
      const shortfall = desired - occupied;
      const allowed = this.allowance(pool, shortfall);
      active.push(...await this.scaleUp(pool, template, allowed, golden?.name));
      // What the rate held back comes when the next token does (a larger shortfall than one
      // batch is looked at again as soon as this pass's creates are seen).
      if (allowed < shortfall) requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, Math.max(1, this.bucket(pool).msUntilNext(now)));
    } else if (active.length > desired) {
      // Unready first, then newest first.
      const order = [...active].sort((a, b) => {
        const ra = isTrue(a.status?.conditions, CONDITION.ready) ? 1 : 0;
        const rb = isTrue(b.status?.conditions, CONDITION.ready) ? 1 : 0;
        if (ra !== rb) return ra - rb;
        return (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '');
      });
      const excess = order.slice(0, active.length - desired);
      for (const sb of excess) await this.deleteMember(sb);
      active = active.filter((s) => !excess.includes(s));
    }
    const updated = active.filter((sb) => !isStale(sb, template)).length;
    await this.writeStatus(pool, active, updated, golden);
    return requeueAfterMs === undefined ? undefined : { requeueAfterMs };
  }

  private bucket(pool: SandboxWarmPool): TokenBucket {
    let b = this.buckets.get(pool.metadata.uid!);
    if (!b) this.buckets.set(pool.metadata.uid!, (b = new TokenBucket(this.d.createQps ?? 0, this.maxBatch, this.d.now().getTime())));
    return b;
  }

  private get maxBatch(): number { return this.d.maxBatch ?? DEFAULT_MAX_BATCH; }

  /** How many of `shortfall` members may be created now: one batch at most, within the rate. */
  private allowance(pool: SandboxWarmPool, shortfall: number): number {
    return this.bucket(pool).take(Math.min(shortfall, this.maxBatch), this.d.now().getTime());
  }

  /**
   * Creates the whole allowance at once: under a burst of claims every member the pool lost is
   * starting again after one round trip, not after log2(n) of them. A failed create (quota,
   * admission) fails the pass after the others have landed; the queue retries with backoff.
   * The refusal is told on the pool as a FailedCreate event (as a ReplicaSet's are): a pool
   * whose template the admission guardrails refuse (docs/kubernetes-guardrails.md) would
   * otherwise just stay empty, its reason only in the operator's log.
   */
  private async scaleUp(pool: SandboxWarmPool, t: SandboxTemplate, count: number, forkFrom?: string): Promise<Sandbox[]> {
    const results = await Promise.allSettled(Array.from({ length: count }, () => this.createMember(pool, t, forkFrom)));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) {
      const reason = (failed as PromiseRejectedResult).reason;
      if (reason instanceof KubeApiError && REFUSALS.has(reason.status)) {
        this.d.events.record({ ...pool, ...KIND.SandboxWarmPool }, 'Warning', 'FailedCreate', 'Replenishing', `Error creating: ${reason.message}`);
      }
      throw reason;
    }
    return results.map((r) => (r as PromiseFulfilledResult<Sandbox>).value);
  }

  /** A member, forking `forkFrom` (the golden Sandbox of a golden-snapshot pool) when given. */
  private async createMember(pool: SandboxWarmPool, t: SandboxTemplate, forkFrom?: string): Promise<Sandbox> {
    const sb = this.sandboxOf(pool, t, {
      generateName: `${pool.metadata.name}-`,
      labels: { [LABEL.warmPoolSandbox]: nameHash(pool.metadata.name!), [LABEL.launchType]: LAUNCH_WARM },
      annotations: forkFrom ? { [ANNOTATION.forkFrom]: forkFrom } : {},
    });
    sb.spec.podTemplate.metadata!.annotations![ANNOTATION.safeToEvict] = 'true';
    const created = await this.d.client.create(SANDBOXES, pool.metadata.namespace, sb);
    // Write-through: the next pass counts it even before the watch delivers it (no over-creation).
    this.d.sandboxes.observe(created);
    return created;
  }

  /** A Sandbox of the pool's template, controlled by the pool, with `meta`'s name and additions. */
  private sandboxOf(pool: SandboxWarmPool, t: SandboxTemplate, meta: { name?: string; generateName?: string; labels: Record<string, string>; annotations: Record<string, string> }): Sandbox {
    const blueprint = blueprintFromTemplate(t);
    blueprint.podTemplate.metadata = {
      labels: { ...(blueprint.podTemplate.metadata?.labels ?? {}) },
      annotations: { ...(blueprint.podTemplate.metadata?.annotations ?? {}) },
    };
    return {
      metadata: {
        ...(meta.name ? { name: meta.name } : { generateName: meta.generateName }),
        namespace: pool.metadata.namespace,
        labels: {
          ...meta.labels,
          [LABEL.templateRefHash]: nameHash(t.metadata.name!),
          [LABEL.podTemplateHash]: podTemplateHash(t),
          [LABEL.templateHash]: blueprintHash(t),
          [LABEL.createdBy]: 'controller',
        },
        annotations: { ...meta.annotations, [ANNOTATION.templateRef]: t.metadata.name! },
        ownerReferences: [controllerRef(pool, KIND.SandboxWarmPool)],
      },
      spec: blueprint,
    };
  }

  private async adopt(sb: Sandbox, pool: SandboxWarmPool): Promise<void> {
    try {
      this.d.sandboxes.observe(await this.d.client.patch<Sandbox>(SANDBOXES, sb.metadata.namespace, sb.metadata.name!, {
        metadata: {
          resourceVersion: sb.metadata.resourceVersion,
          ownerReferences: [controllerRef(pool, KIND.SandboxWarmPool)],
        },
      }));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  private async deleteMember(sb: Sandbox): Promise<void> {
    // The uid precondition keeps us from deleting a sandbox that a claim adopted meanwhile under
    // the same name; resourceVersion keeps us from deleting one adopted since we looked.
    try {
      await this.d.client.delete(SANDBOXES, sb.metadata.namespace, sb.metadata.name!, {
        preconditions: { uid: sb.metadata.uid, resourceVersion: sb.metadata.resourceVersion },
      });
    } catch (e) {
      if (!(e instanceof Error && /Precondition failed|Conflict/i.test(e.message))) throw e;
    }
  }

  private async writeStatus(pool: SandboxWarmPool, active: Sandbox[], updated: number, golden?: GoldenState): Promise<void> {
    const ready = active.filter((sb) => isTrue(sb.status?.conditions, CONDITION.ready)).length;
    this.d.metrics.poolReady.set({ namespace: pool.metadata.namespace ?? '', warmpool: pool.metadata.name! }, ready);
    const allUpdated = updated === active.length;
    let conditions = golden ? pool.status?.conditions : pool.status?.conditions?.filter((c) => c.type !== CONDITION.goldenSnapshotReady);
    if (golden) {
      conditions = setCondition(conditions, {
        type: CONDITION.goldenSnapshotReady, status: golden.stored ? 'True' : 'False',
        reason: golden.stored ? REASON.goldenSnapshotStored : golden.reason, message: golden.message,
        observedGeneration: pool.metadata.generation,
      }, this.d.now());
    }
    conditions = setCondition(conditions, {
      type: CONDITION.rolledOut, status: allUpdated ? 'True' : 'False',
      reason: allUpdated ? REASON.upToDate : REASON.staleMembers,
      message: allUpdated ? 'All members match the current template' : `${active.length - updated} of ${active.length} members are built from an older template`,
      observedGeneration: pool.metadata.generation,
    }, this.d.now());
    const next: SandboxWarmPoolStatus = {
      replicas: active.length, readyReplicas: ready, updatedReplicas: updated,
      selector: poolSelector(pool.metadata.name!), observedGeneration: pool.metadata.generation, conditions,
    };
    const w = await writeStatus(this.d.client, WARM_POOLS, pool, next);
    if (w.outcome === 'written') this.d.pools.observe(w.updated);
  }
}
