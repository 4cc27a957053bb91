// OpenSandbox BatchSandbox reconciler: `replicas` members named `<batch>-<i>`. With spec.poolRef
// each member is a SandboxClaim against the Pool's warm pool (pool-controller.ts), so it takes an
// idle member and the Pool counts it allocated; with spec.template each is a Sandbox of its own.
// spec.expireTime deletes the batch and its members. Status counts members, and the annotation
// sandbox.opensandbox.io/endpoints lists their pod IPs, as upstream publishes them.
// Not served: taskTemplate (upstream's task-executor; agentbox runs commands through the guest's
// execd instead), shardPatches, pause.
import { KIND } from '../../api/k8s/constants.ts';
import { OPENSANDBOX_ANNOTATION, OPENSANDBOX_KIND, type BatchSandbox, type BatchSandboxStatus } from '../../api/k8s/opensandbox.ts';
import type { KubeObject, Sandbox, SandboxClaim } from '../../api/k8s/types.ts';
import type { KubeClient, ResourceType } from '../client.ts';
import { objectKey, type Informer } from '../informer.ts';
import { controllerOf, controllerRef, isControlledBy } from '../ownership.ts';
import { BATCH_SANDBOXES, CLAIMS, SANDBOXES } from '../resources.ts';
import { writeStatus } from '../status-writer.ts';
import { boundTo, isReady } from './membership.ts';
import { agentboxPodTemplate } from './pod-template.ts';

export interface BatchControllerDeps {
  client: KubeClient;
  batches: Informer<BatchSandbox>;
  claims: Informer<SandboxClaim>;
  sandboxes: Informer<Sandbox>;
  guestImage: string;
  now: () => Date;
}

/** One member as the status counts it. */
interface MemberView { allocated: boolean; ready: boolean; ip?: string }

const claimView = (c: SandboxClaim): MemberView =>
  ({ allocated: !!boundTo(c), ready: isReady(c), ip: c.status?.sandbox?.podIPs?.[0] });
const sandboxView = (sb: Sandbox): MemberView =>
  ({ allocated: !!sb.status?.podIPs?.length, ready: isReady(sb), ip: sb.status?.podIPs?.[0] });

/** `<batch>-<i>` → i, or undefined for a name of another shape. */
function indexOf(batch: string, member: string): number | undefined {
  const m = member.startsWith(`${batch}-`) ? /^\d+$/.exec(member.slice(batch.length + 1)) : null;
  return m ? Number(m[0]) : undefined;
}

export class BatchSandboxController {
  constructor(private readonly d: BatchControllerDeps) {}

  watch(enqueue: (key: string) => void): void {
    this.d.batches.on((_t, b) => enqueue(objectKey(b)));
    const byOwner = (_t: unknown, o: KubeObject) => {
      const owner = controllerOf(o);
      if (owner?.kind === OPENSANDBOX_KIND.BatchSandbox.kind) enqueue(`${o.metadata.namespace}/${owner.name}`);
    };
    this.d.claims.on(byOwner);
    this.d.sandboxes.on(byOwner);
  }

  async reconcile(namespace: string, name: string): Promise<{ requeueAfterMs?: number } | void> {
    const b = this.d.batches.get(namespace, name);
    if (!b || b.metadata.deletionTimestamp) return;
    const pooled = b.spec.poolRef !== undefined;
    const rt = pooled ? CLAIMS : SANDBOXES;
    const mine = (o: KubeObject) => isControlledBy(o, b) && !o.metadata.deletionTimestamp;
    const owned: (SandboxClaim | Sandbox)[] = pooled ? this.d.claims.list(mine, namespace) : this.d.sandboxes.list(mine, namespace);

    const untilExpiry = b.spec.expireTime ? Date.parse(b.spec.expireTime) - this.d.now().getTime() : Infinity;
    if (untilExpiry <= 0) {
      // Members first, so none outlives the batch if this pass stops half-way (the next redoes it).
      for (const m of owned) await this.d.client.delete(rt, namespace, m.metadata.name!);
      await this.d.client.delete(BATCH_SANDBOXES, namespace, name, { preconditions: { uid: b.metadata.uid } });
      return;
    }

    const replicas = b.spec.replicas ?? 1;
    const kept = owned.filter((m) => (indexOf(name, m.metadata.name!) ?? Infinity) < replicas);
    for (const m of owned.filter((x) => !kept.includes(x))) await this.d.client.delete(rt, namespace, m.metadata.name!);
    const have = new Set(kept.map((m) => m.metadata.name));
    for (let i = 0; i < replicas; i++) {
      const member = `${name}-${i}`;
      if (!have.has(member)) kept.push(await this.createMember(b, member, rt));
    }

    const views = kept.map((m) => (pooled ? claimView(m as SandboxClaim) : sandboxView(m as Sandbox)));
    await this.publishEndpoints(b, views.flatMap((v) => (v.ip ? [v.ip] : [])));
    const ready = views.filter((v) => v.ready).length;
    const next: BatchSandboxStatus = {
      observedGeneration: b.metadata.generation,
      replicas: kept.length,
      allocated: views.filter((v) => v.allocated).length,
      ready,
      phase: ready === replicas ? 'Running' : 'Pending',
    };
    const w = await writeStatus(this.d.client, BATCH_SANDBOXES, b, next);
    if (w.outcome === 'written') this.d.batches.observe(w.updated);
    return Number.isFinite(untilExpiry) ? { requeueAfterMs: untilExpiry } : undefined;
  }

  private async createMember(b: BatchSandbox, member: string, rt: ResourceType): Promise<SandboxClaim | Sandbox> {
    const metadata = { name: member, ownerReferences: [controllerRef(b, OPENSANDBOX_KIND.BatchSandbox)] };
    if (rt === CLAIMS) {
      const c = await this.d.client.create<SandboxClaim>(CLAIMS, b.metadata.namespace, { metadata, spec: { warmPoolRef: { name: b.spec.poolRef! } } } as SandboxClaim);
      this.d.claims.observe(c);
      return c;
    }
    const podTemplate = agentboxPodTemplate(b.spec.template, this.d.guestImage, `BatchSandbox '${b.metadata.name}'`);
    const sb = await this.d.client.create<Sandbox>(SANDBOXES, b.metadata.namespace, { ...KIND.Sandbox, metadata, spec: { podTemplate } } as Sandbox);
    this.d.sandboxes.observe(sb);
    return sb;
  }

  private async publishEndpoints(b: BatchSandbox, ips: string[]): Promise<void> {
    const value = JSON.stringify(ips);
    if (b.metadata.annotations?.[OPENSANDBOX_ANNOTATION.endpoints] === value) return;
    this.d.batches.observe(await this.d.client.patch<BatchSandbox>(BATCH_SANDBOXES, b.metadata.namespace, b.metadata.name!, {
      metadata: { annotations: { [OPENSANDBOX_ANNOTATION.endpoints]: value } },
    }));
  }
}
