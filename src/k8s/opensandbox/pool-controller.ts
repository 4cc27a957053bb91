// OpenSandbox Pool reconciler. A Pool owns a SandboxTemplate and a SandboxWarmPool of its own name
// (its pod template mapped by pod-template.ts); this controller sizes the warm pool by OpenSandbox's
// capacity arithmetic (api/pool-capacity.ts) and the warm-pool controller does the creating,
// staleness and readiness grace. Claims against the warm pool (a BatchSandbox's, or a poolRef
// create's through `agentbox up --kubernetes`) are the Pool's allocations.
import { KIND } from '../../api/k8s/constants.ts';
import { OPENSANDBOX_ANNOTATION, OPENSANDBOX_KIND, type Pool, type PoolStatus } from '../../api/k8s/opensandbox.ts';
import type { Sandbox, SandboxClaim, SandboxTemplate, SandboxWarmPool } from '../../api/k8s/types.ts';
import { desiredIdle } from '../../api/pool-capacity.ts';
import type { KubeClient } from '../client.ts';
import { canonicalJson, contentHash } from '../hash.ts';
import { objectKey, type Informer } from '../informer.ts';
import { controllerOf, controllerRef } from '../ownership.ts';
import { POOLS, TEMPLATES, WARM_POOLS } from '../resources.ts';
import { writeStatus } from '../status-writer.ts';
import { boundTo, claimsOf, idleMembers, isReady } from './membership.ts';
import { agentboxPodTemplate } from './pod-template.ts';

/** How often a Pool whose warm pool is still filling is looked at again. */
const SETTLE_RECHECK_MS = 1000;

export interface PoolControllerDeps {
  client: KubeClient;
  pools: Informer<Pool>;
  templates: Informer<SandboxTemplate>;
  warmPools: Informer<SandboxWarmPool>;
  sandboxes: Informer<Sandbox>;
  claims: Informer<SandboxClaim>;
  guestImage: string;
}

/**
 * How many members are idle now, from the warm pool's last size and the allocations since: each
 * new allocation took one idle member. Counting the warm pool's Sandboxes instead would race its
 * controller, which refills an adopted member at once: the Pool would then see a full buffer and
 * grow by `size` semantics rather than OpenSandbox's (a buffer that shrinks as members are taken).
 */
export function idleSinceResize(wp: SandboxWarmPool | undefined, allocated: number): number {
  if (!wp) return 0;
  const before = Number(wp.metadata.annotations?.[OPENSANDBOX_ANNOTATION.allocatedAtResize] ?? allocated);
  return Math.max(0, (wp.spec.replicas ?? 0) - Math.max(0, allocated - before));
}

export class PoolController {
  constructor(private readonly d: PoolControllerDeps) {}

  /** A Pool, and the Pool behind a changed warm pool, member or claim (all share its name). */
  watch(enqueue: (key: string) => void): void {
    const ifPool = (ns: string | undefined, name: string | undefined) => {
      if (ns && name && this.d.pools.get(ns, name)) enqueue(`${ns}/${name}`);
    };
    this.d.pools.on((_t, p) => enqueue(objectKey(p)));
    this.d.warmPools.on((_t, wp) => ifPool(wp.metadata.namespace, wp.metadata.name));
    this.d.claims.on((_t, c) => ifPool(c.metadata.namespace, c.spec.warmPoolRef?.name));
    this.d.sandboxes.on((_t, sb, old) => {
      for (const o of [sb, old]) {
        const owner = o && controllerOf(o);
        if (owner?.kind === KIND.SandboxWarmPool.kind) ifPool(sb.metadata.namespace, owner.name);
      }
    });
  }

  async reconcile(namespace: string, name: string): Promise<{ requeueAfterMs?: number } | void> {
    const pool = this.d.pools.get(namespace, name);
    if (!pool || pool.metadata.deletionTimestamp) return;
    await this.ensureTemplate(pool);
    const allocated = claimsOf(this.d.claims, namespace, name).filter(boundTo).length;
    const existing = this.d.warmPools.get(namespace, name);
    const idle = desiredIdle(pool.spec.capacitySpec, { idle: idleSinceResize(existing, allocated), allocated });
    const wp = await this.ensureWarmPool(pool, existing, idle, allocated);
    const members = idleMembers(this.d.sandboxes, wp);
    const next: PoolStatus = {
      observedGeneration: pool.metadata.generation,
      revision: contentHash(pool.spec.template ?? null),
      total: members.length + allocated,
      allocated,
      available: members.filter(isReady).length,
      updated: wp.status?.updatedReplicas ?? 0,
    };
    const w = await writeStatus(this.d.client, POOLS, pool, next);
    if (w.outcome === 'written') this.d.pools.observe(w.updated);
    // Until the warm pool has settled (every member it should have, all Ready), look again: its
    // members' events arrive in any order with the claims', and a count is only final once both
    // have been seen.
    const settled = members.length === wp.spec.replicas && next.available === members.length;
    return settled ? undefined : { requeueAfterMs: SETTLE_RECHECK_MS };
  }

  private async ensureTemplate(pool: Pool): Promise<void> {
    const { namespace, name } = pool.metadata;
    const spec = { podTemplate: agentboxPodTemplate(pool.spec.template, this.d.guestImage, `Pool '${name}'`) };
    const t = this.d.templates.get(namespace!, name!);
    if (!t) {
      this.d.templates.observe(await this.d.client.create<SandboxTemplate>(TEMPLATES, namespace, {
        metadata: { name, ownerReferences: [controllerRef(pool, OPENSANDBOX_KIND.Pool)] }, spec,
      } as SandboxTemplate));
    } else if (canonicalJson(t.spec.podTemplate) !== canonicalJson(spec.podTemplate)) {
      // A changed Pool template rolls out through the warm pool's staleness (OnReplenish).
      this.d.templates.observe(await this.d.client.patch<SandboxTemplate>(TEMPLATES, namespace, name!, { spec: { podTemplate: spec.podTemplate } }));
    }
  }

  private async ensureWarmPool(pool: Pool, wp: SandboxWarmPool | undefined, replicas: number, allocated: number): Promise<SandboxWarmPool> {
    const { namespace, name } = pool.metadata;
    const annotations = { [OPENSANDBOX_ANNOTATION.allocatedAtResize]: String(allocated) };
    if (!wp) {
      const created = await this.d.client.create<SandboxWarmPool>(WARM_POOLS, namespace, {
        metadata: { name, annotations, ownerReferences: [controllerRef(pool, OPENSANDBOX_KIND.Pool)] },
        spec: { replicas, sandboxTemplateRef: { name: name! } },
      } as SandboxWarmPool);
      this.d.warmPools.observe(created);
      return created;
    }
    if (wp.spec.replicas === replicas && wp.metadata.annotations?.[OPENSANDBOX_ANNOTATION.allocatedAtResize] === String(allocated)) return wp;
    // resourceVersion: a size computed from a stale view of the warm pool is refused and redone.
    const patched = await this.d.client.patch<SandboxWarmPool>(WARM_POOLS, namespace, name!, {
      metadata: { resourceVersion: wp.metadata.resourceVersion, annotations }, spec: { replicas },
    });
    this.d.warmPools.observe(patched);
    return patched;
  }
}
