// Sandbox reconciler: Sandbox → PVCs, one Pod (with its guest Secret when the guest is injected),
// an optional headless Service, the default NetworkPolicy of a bare Sandbox, and status.
// Phases per pass: expiry → PVCs → policy → pod (suspend/resume with memory hibernation,
// adoption, failure policy) → Service → status. No finalizers: deletion relies on ownerReference garbage collection.
import { ANNOTATION, CONDITION, KIND, LABEL, OPERATING_MODE, REASON, SHUTDOWN_POLICY, SUSPENDED_BY_IDLE } from '../../api/k8s/constants.ts';
import type { KubeObject, Sandbox, SandboxStatus } from '../../api/k8s/types.ts';
import { AgentboxError } from '../../api/errors.ts';
import { isAlreadyExists, isNotFound, NETWORK_POLICIES, PODS, PVCS, SECRETS, SERVICES, type KubeClient } from '../client.ts';
import { wantsGuest } from '../extensions/guest-injection.ts';
import { buildGuestSecret } from '../extensions/guest-secret.ts';
import { buildSandboxNetworkPolicy, samePolicy, type NetworkPolicy } from '../extensions/network-policy.ts';
import { findCondition, removeCondition, setCondition } from '../conditions.ts';
import type { EventRecorder } from '../events.ts';
import { expiryState, sandboxExpiry } from '../expiry.ts';
import { nameHash } from '../hash.ts';
import { objectKey, type Informer } from '../informer.ts';
import { controllerOf, controllerRef, isControlledBy, mayAdopt } from '../ownership.ts';
import { SANDBOXES } from '../resources.ts';
import { writeStatus } from '../status-writer.ts';
import { buildPod, podMetadataPatch, podNameOf, type Pod, type PodLabelHook } from './pod.ts';
import type { PodDefaults } from './pod-defaults.ts';
import { buildPvc, type Pvc } from './pvc.ts';
import { buildService, serviceDriftPatch, type Service } from './service.ts';
import { computeStatus } from './status.ts';
import { Hibernator, type HibernationCondition, type ResumeStep } from './hibernation.ts';
import { idleDecision, suspendAfterIdle } from './idle.ts';
import type { NodeAgents } from '../node/client.ts';
import type { RestoreNodes } from '../node/placement.ts';
import { SnapshotRecords } from '../snapshot/records.ts';

export interface SandboxControllerDeps {
  client: KubeClient;
  sandboxes: Informer<Sandbox>;
  /** Pods and Services carrying the name-hash label. */
  pods: Informer<Pod>;
  services: Informer<Service>;
  /** NetworkPolicies carrying the name-hash label (those of bare Sandboxes). */
  policies: Informer<NetworkPolicy>;
  events: EventRecorder;
  /** Runtime class and security defaults of every pod (pod-defaults.ts). */
  podDefaults: Omit<PodDefaults, 'defaultPolicy'>;
  clusterDomain: string;
  now: () => Date;
  podLabelHook?: PodLabelHook;
  /** Called with each Sandbox whose Ready condition turned True (metrics). */
  onReady?: (sb: Sandbox) => void;
  /** The node agents that checkpoint and restore pods (memory hibernation); none = not offered. */
  nodeAgents?: NodeAgents;
  /** The gVisor nodes a snapshot in the object store may be restored on when its own node is gone. */
  restoreNodes?: RestoreNodes;
}

export type ReconcileResult = { requeueAfterMs?: number } | void;

export class SandboxController {
  private readonly hibernator: Hibernator;

  constructor(private readonly d: SandboxControllerDeps) {
    this.hibernator = new Hibernator({
      agents: d.nodeAgents, restoreNodes: d.restoreNodes, events: d.events, records: new SnapshotRecords(d.client, d.now),
      patchSandbox: (sb, patch) => this.patchSandbox(sb, patch),
      sourceOf: async (namespace, name) => {
        const sandbox = this.d.sandboxes.get(namespace, name);
        if (!sandbox) throw new AgentboxError('not_found', `there is no Sandbox ${name} in namespace ${namespace}`);
        return { sandbox, pod: this.d.pods.get(namespace, podNameOf(sandbox)) ?? null };
      },
    });
  }

  /**
   * Maps the changes this reconciler cares about to its queue keys: a Sandbox itself, and the
   * controller of an owned Pod, Service or policy (an unowned one under its own name: it may be
   * waiting for adoption by a Sandbox of that name).
   */
  watch(enqueue: (key: string) => void): void {
    this.d.sandboxes.on((_t, sb) => enqueue(objectKey(sb)));
    const ownerToSandbox = (obj: KubeObject) => {
      const owner = controllerOf(obj);
      if (owner?.kind === 'Sandbox') enqueue(`${obj.metadata.namespace}/${owner.name}`);
      else if (!owner) enqueue(objectKey(obj));
    };
    this.d.pods.on((_t, p) => ownerToSandbox(p));
    this.d.services.on((_t, s) => ownerToSandbox(s));
    this.d.policies.on((_t, p) => ownerToSandbox(p));
  }

  async reconcile(namespace: string, name: string): Promise<ReconcileResult> {
    const sb = this.d.sandboxes.get(namespace, name);
    if (!sb || sb.metadata.deletionTimestamp) return;
    try {
      return await this.sync(sb);
    } catch (e) {
      await this.reportError(sb, e);
      throw e;
    }
  }

  private async sync(sb: Sandbox): Promise<ReconcileResult> {
    const now = this.d.now();
    const exp = expiryState(sandboxExpiry(sb.spec.shutdownTime), now);
    if (exp.expired) return this.expire(sb, now);

    await this.ensurePvcs(sb);
    if (this.isBare(sb)) await this.ensureNetworkPolicy(sb);

    const hash = nameHash(sb.metadata.name!);
    const owned = this.d.pods.list((p) => p.metadata.labels?.[LABEL.sandboxNameHash] === hash
      && isControlledBy(p, sb), sb.metadata.namespace);
    if (owned.length > 1) {
      this.d.events.record({ ...sb, ...KIND.Sandbox }, 'Warning', REASON.multiplePods,
        'Reconciling', `${owned.length} pods are controlled by this Sandbox; refusing to pick one`);
      const conditions = setCondition(sb.status?.conditions, {
        type: CONDITION.ready, status: 'False', reason: REASON.multiplePods,
        message: `${owned.length} pods are controlled by this Sandbox`, observedGeneration: sb.metadata.generation,
      }, now);
      await this.writeStatus(sb, { ...(sb.status ?? {}), conditions });
      return;
    }

    const suspended = sb.spec.operatingMode === OPERATING_MODE.suspended;
    let pod: Pod | null = owned[0] ?? null;
    let podNotOwned = false;
    let podLookupFailed = false;
    let requeueAfterMs: number | undefined;
    let hibernation: HibernationCondition | undefined;
    if (suspended) {
      let named: Pod | null | undefined = this.d.pods.get(sb.metadata.namespace, podNameOf(sb));
      // An unlabelled pod of that name is not in our cache; look it up once the cache shows none.
      if (!pod && !named && findCondition(sb.status?.conditions, CONDITION.suspended)?.reason !== REASON.podTerminated) {
        named = await this.d.client.getOrNull<Pod>(PODS, sb.metadata.namespace, podNameOf(sb)).catch(() => { podLookupFailed = true; return null; });
      }
      podNotOwned = !pod && !!named && !isControlledBy(named, sb);
      if (pod && !pod.metadata.deletionTimestamp) {
        const step = await this.hibernator.beforeDelete(sb, pod);
        ({ condition: hibernation, requeueAfterMs } = step);
        if (step.deletePod) {
          await this.d.client.delete(PODS, pod.metadata.namespace, pod.metadata.name!, {
            preconditions: { uid: pod.metadata.uid }, ...(step.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: step.gracePeriodSeconds }),
          });
        }
      }
      if (sb.metadata.annotations?.[ANNOTATION.podName]) {
        await this.patchSandbox(sb, { metadata: { annotations: { [ANNOTATION.podName]: null } } });
      }
    } else {
      if (sb.metadata.annotations?.[ANNOTATION.suspendedBy]) {
        await this.patchSandbox(sb, { metadata: { annotations: { [ANNOTATION.suspendedBy]: null } } });
      }
      const made = await this.ensurePod(sb, pod);
      ({ pod, condition: hibernation, requeueAfterMs } = made);
      if (pod) hibernation = await this.hibernator.afterReady(sb, pod) ?? hibernation;
      if (pod && pod.status?.phase === 'Failed' && sb.spec.podFailurePolicy === 'Recreate' && !pod.metadata.deletionTimestamp) {
        // agentbox addition (upstream #729): replace the failed pod; PVCs stay, so data survives.
        await this.d.client.delete(PODS, pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid }, gracePeriodSeconds: 0 });
        pod = null;
        requeueAfterMs = 100;
      }
    }

    const { serviceName, serviceRequired } = await this.ensureService(sb);
    const status = computeStatus({
      sandbox: sb, pod, suspended, podNotOwned, podLookupFailed, serviceRequired, serviceName, hibernation,
      clusterDomain: this.d.clusterDomain, now,
    });
    await this.writeStatus(sb, status);
    if (!suspended) {
      const idleCheckMs = await this.suspendIfIdle(sb, status, now);
      if (idleCheckMs !== undefined) requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, idleCheckMs);
    }
    if (podLookupFailed) requeueAfterMs = 1000;
    if (exp.requeueMs !== null) requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, exp.requeueMs);
    return requeueAfterMs === undefined ? undefined : { requeueAfterMs };
  }

  /**
   * Suspends a Ready Sandbox that has been idle past its suspend-after-idle (idle.ts), marking it
   * suspended-by idle; otherwise returns when to look again.
   */
  private async suspendIfIdle(sb: Sandbox, status: SandboxStatus, now: Date): Promise<number | undefined> {
    const limit = suspendAfterIdle(sb);
    if (limit instanceof AgentboxError) {
      this.d.events.record({ ...sb, ...KIND.Sandbox }, 'Warning', REASON.invalidIdleSetting, 'Reconciling', `${limit.message}; the Sandbox is not suspended for idleness`);
      return undefined;
    }
    const ready = findCondition(status.conditions, CONDITION.ready);
    const readySince = ready?.status === 'True' && ready.lastTransitionTime ? new Date(ready.lastTransitionTime) : undefined;
    const decision = idleDecision(sb, readySince, now);
    if (!decision.suspend) return decision.checkAgainMs;
    await this.patchSandbox(sb, {
      metadata: { annotations: { [ANNOTATION.suspendedBy]: SUSPENDED_BY_IDLE } },
      spec: { operatingMode: OPERATING_MODE.suspended },
    });
    this.d.events.record({ ...sb, ...KIND.Sandbox }, 'Normal', REASON.suspendedIdle, 'Suspending',
      `no traffic through the router for ${Math.round(decision.idleMs / 1000)} s (${ANNOTATION.suspendAfterIdle}: ${limit}); a request through the router resumes it`);
    return undefined;
  }

  /** First pass marks the Sandbox expired; the next deletes its pod and Service (never PVCs). */
  private async expire(sb: Sandbox, now: Date): Promise<ReconcileResult> {
    const ready = findCondition(sb.status?.conditions, CONDITION.ready);
    if (ready?.reason !== REASON.sandboxExpired) {
      let conditions = setCondition(sb.status?.conditions, {
        type: CONDITION.ready, status: 'False', reason: REASON.sandboxExpired, message: 'Sandbox has expired',
        observedGeneration: sb.metadata.generation,
      }, now);
      conditions = removeCondition(conditions, CONDITION.podScheduled);
      await this.writeStatus(sb, { ...(sb.status ?? {}), conditions });
      return { requeueAfterMs: 0 };
    }
    const ns = sb.metadata.namespace;
    for (const pod of this.d.pods.list((p) => isControlledBy(p, sb), ns)) {
      await this.d.client.delete(PODS, ns, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } });
    }
    const svc = this.d.services.get(ns, sb.metadata.name!);
    if (svc && isControlledBy(svc, sb)) await this.d.client.delete(SERVICES, ns, svc.metadata.name!);
    if ((sb.spec.shutdownPolicy ?? SHUTDOWN_POLICY.retain) === SHUTDOWN_POLICY.delete) {
      await this.d.client.delete(SANDBOXES, ns, sb.metadata.name!, { preconditions: { uid: sb.metadata.uid } });
      return;
    }
    await this.writeStatus(sb, { conditions: sb.status?.conditions ?? [] });
  }

  private async ensurePvcs(sb: Sandbox): Promise<void> {
    for (const vct of sb.spec.volumeClaimTemplates ?? []) {
      const want = buildPvc(sb, vct);
      const name = want.metadata.name!;
      const have = await this.d.client.getOrNull<Pvc>(PVCS, sb.metadata.namespace, name);
      if (!have) {
        try { await this.d.client.create(PVCS, sb.metadata.namespace, want); } catch (e) { if (!isAlreadyExists(e)) throw e; }
        continue;
      }
      if (isControlledBy(have, sb)) continue;
      if (!mayAdopt(have, nameHash(sb.metadata.name!))) {
        throw new AgentboxError('conflict', `PersistentVolumeClaim ${name} exists and is not owned by sandbox ${sb.metadata.name}`);
      }
      await this.d.client.patch(PVCS, sb.metadata.namespace, name, {
        metadata: { resourceVersion: have.metadata.resourceVersion, ownerReferences: want.metadata.ownerReferences, labels: want.metadata.labels },
      });
    }
  }

  /**
   * Returns the sandbox's pod after creating (restored from its memory snapshot when it has one),
   * adopting or syncing it; no pod when a restore was refused and no cold start is allowed.
   */
  private async ensurePod(sb: Sandbox, owned: Pod | null): Promise<ResumeStep> {
    const ns = sb.metadata.namespace!;
    const podName = podNameOf(sb);
    let pod = owned;
    let step: Omit<ResumeStep, 'pod'> = {};
    if (!pod) {
      const named = this.d.pods.get(ns, podName) ?? null;
      if (named) {
        pod = await this.adoptPod(sb, named);
      } else {
        await this.ensureGuestSecret(sb);
        const restore = await this.hibernator.restorePod(sb, buildPod(sb, { ...this.d.podDefaults, defaultPolicy: this.isBare(sb) }, this.d.podLabelHook));
        if (!restore.pod) return restore;
        step = restore;
        try {
          pod = await this.d.client.create(PODS, ns, restore.pod);
          this.d.pods.observe(pod);
        } catch (e) {
          if (!isAlreadyExists(e)) throw e;
          // Not in our label-filtered cache: an unlabelled pod, adoptable only with adoptable=true.
          const live = await this.d.client.get<Pod>(PODS, ns, podName);
          pod = await this.adoptPod(sb, live);
        }
      }
    } else {
      const patch = podMetadataPatch(pod, sb, this.d.podLabelHook);
      if (patch) {
        pod = await this.d.client.patch<Pod>(PODS, ns, pod.metadata.name!, patch);
        this.d.pods.observe(pod);
      }
    }
    if (pod && sb.metadata.annotations?.[ANNOTATION.podName] !== pod.metadata.name) {
      await this.patchSandbox(sb, { metadata: { annotations: { [ANNOTATION.podName]: pod.metadata.name } } });
    }
    return { ...step, pod };
  }

  /**
   * A Sandbox not made from a SandboxTemplate (its pod has no template-ref-hash label, which only
   * the extensions set, for Sandboxes a warm pool or claim controls) has no template policy to
   * fall under, so it gets its own default-deny one.
   */
  private isBare(sb: Sandbox): boolean {
    return !this.d.podLabelHook?.(sb)[LABEL.templateRefHash];
  }

  private async ensureNetworkPolicy(sb: Sandbox): Promise<void> {
    const want = buildSandboxNetworkPolicy(sb);
    const ns = sb.metadata.namespace!;
    const name = want.metadata.name!;
    const have = this.d.policies.get(ns, name) ?? await this.d.client.getOrNull<NetworkPolicy>(NETWORK_POLICIES, ns, name);
    if (!have) {
      try { this.d.policies.observe(await this.d.client.create(NETWORK_POLICIES, ns, want)); } catch (e) { if (!isAlreadyExists(e)) throw e; }
      return;
    }
    if (!isControlledBy(have, sb)) {
      throw new AgentboxError('conflict', `NetworkPolicy ${name} exists and is not controlled by sandbox ${sb.metadata.name}; rename or delete it`);
    }
    if (!samePolicy(have, want)) this.d.policies.observe(await this.d.client.update<NetworkPolicy>(NETWORK_POLICIES, { ...have, spec: want.spec }));
  }

  /**
   * The injected guest's Secret (random envd token and init secret), made before the pod that
   * mounts it. Made once: a recreated pod keeps the tokens. The operator never reads Secrets: one
   * that exists already was made by an earlier pass (or by whoever may write Secrets here anyway).
   */
  private async ensureGuestSecret(sb: Sandbox): Promise<void> {
    const { spec, metadata } = sb.spec.podTemplate;
    if (!wantsGuest(spec, metadata?.annotations)) return;
    try { await this.d.client.create(SECRETS, sb.metadata.namespace, buildGuestSecret(sb, spec)); } catch (e) { if (!isAlreadyExists(e)) throw e; }
  }

  private async adoptPod(sb: Sandbox, pod: Pod): Promise<Pod> {
    if (isControlledBy(pod, sb)) return pod;
    const owner = controllerOf(pod);
    if (owner || !mayAdopt(pod, nameHash(sb.metadata.name!))) {
      throw new AgentboxError('conflict', `Pod ${pod.metadata.name} exists and is ${owner ? `controlled by ${owner.kind} ${owner.name}` : 'not adoptable'}`);
    }
    // resourceVersion makes the adoption an optimistic-lock write: two adopters cannot both win.
    const patched = await this.d.client.patch<Pod>(PODS, pod.metadata.namespace, pod.metadata.name!, {
      metadata: {
        resourceVersion: pod.metadata.resourceVersion,
        ownerReferences: [...(pod.metadata.ownerReferences ?? []), controllerRef(sb, KIND.Sandbox)],
        labels: { [LABEL.sandboxNameHash]: nameHash(sb.metadata.name!) },
      },
    });
    this.d.pods.observe(patched);
    return patched;
  }

  private async ensureService(sb: Sandbox): Promise<{ serviceName: string | null; serviceRequired: boolean }> {
    const ns = sb.metadata.namespace!;
    const name = sb.metadata.name!;
    let have = this.d.services.get(ns, name) ?? null;
    if (sb.spec.service === true) {
      const want = buildService(sb);
      if (!have) have = await this.d.client.getOrNull<Service>(SERVICES, ns, name);
      if (!have) {
        try { this.d.services.observe(await this.d.client.create(SERVICES, ns, want)); } catch (e) { if (!isAlreadyExists(e)) throw e; }
      } else if (isControlledBy(have, sb)) {
        const patch = serviceDriftPatch(have, want);
        if (patch) this.d.services.observe(await this.d.client.patch<Service>(SERVICES, ns, name, patch));
      } else if (mayAdopt(have, nameHash(name)) && have.spec.clusterIP === 'None') {
        this.d.services.observe(await this.d.client.patch<Service>(SERVICES, ns, name, {
          metadata: { resourceVersion: have.metadata.resourceVersion, ownerReferences: want.metadata.ownerReferences, labels: want.metadata.labels },
          spec: { selector: want.spec.selector, ports: want.spec.ports },
        }));
      } else {
        throw new AgentboxError('conflict', `Service ${name} exists and is not owned by the sandbox (adoption needs ${LABEL.adoptable}=true and clusterIP None)`);
      }
      return { serviceName: name, serviceRequired: true };
    }
    if (sb.spec.service === false) {
      if (have && isControlledBy(have, sb)) await this.d.client.delete(SERVICES, ns, name);
      return { serviceName: null, serviceRequired: false };
    }
    // Unset: keep using a pre-existing Service (backward compatibility), never create one.
    return { serviceName: have ? name : null, serviceRequired: false };
  }

  private async patchSandbox(sb: Sandbox, patch: unknown): Promise<void> {
    try {
      this.d.sandboxes.observe(await this.d.client.patch<Sandbox>(SANDBOXES, sb.metadata.namespace, sb.metadata.name!, patch));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /** Merge-patches /status without a resourceVersion lock; reports a Ready that turned True. */
  private async writeStatus(sb: Sandbox, next: SandboxStatus): Promise<void> {
    const w = await writeStatus(this.d.client, SANDBOXES, sb, next);
    if (w.outcome !== 'written') return;
    this.d.sandboxes.observe(w.updated);
    const wasReady = findCondition(sb.status?.conditions, CONDITION.ready)?.status === 'True';
    if (!wasReady && findCondition(next.conditions, CONDITION.ready)?.status === 'True') this.d.onReady?.(w.updated);
  }

  private async reportError(sb: Sandbox, e: unknown): Promise<void> {
    const message = `Error seen: ${e instanceof Error ? e.message : String(e)}`.slice(0, 2000);
    const conditions = setCondition(sb.status?.conditions, {
      type: CONDITION.ready, status: 'False', reason: REASON.reconcilerError, message, observedGeneration: sb.metadata.generation,
    }, this.d.now());
    await this.writeStatus(sb, { ...(sb.status ?? {}), conditions }).catch(() => undefined);
  }
}
