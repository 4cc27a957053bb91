// SandboxClaim reconciler. Phases: stamp → expiry → resolve pool/template → find or get a sandbox
// (bound, interrupted adoption, same-named, warm adoption, cold create) → status.
//
// Invariant: one warm Sandbox is never handed to two claims. The claim first records its choice
// in its own annotation (optimistic lock on the claim), then transfers the Sandbox's controller
// reference with an optimistic lock on the Sandbox: of two claims racing for one Sandbox only one
// patch can succeed; the loser drops its annotation and tries another candidate. A recorded
// choice whose Sandbox is still pool-owned is finished after a restart, never abandoned.
import { ANNOTATION, CONDITION, KIND, LABEL, LAUNCH_COLD, LAUNCH_WARM, REASON, SHUTDOWN_POLICY, UPDATE_STRATEGY } from '../../api/k8s/constants.ts';
import type { Condition, Sandbox, SandboxClaim, SandboxClaimStatus, SandboxTemplate, SandboxWarmPool } from '../../api/k8s/types.ts';
import { AgentboxError } from '../../api/errors.ts';
import { isAlreadyExists, isConflict, isNotFound, PVCS, type KubeClient } from '../client.ts';
import { findCondition, isTrue, removeCondition, setCondition, type ConditionInput } from '../conditions.ts';
import type { EventRecorder } from '../events.ts';
import { claimExpiry, expiryState } from '../expiry.ts';
import { nameHash } from '../hash.ts';
import { objectKey, type Informer } from '../informer.ts';
import { writeStatus } from '../status-writer.ts';
import type { OperatorMetrics } from '../metrics.ts';
import { controllerOf, controllerRef, isControlledBy } from '../ownership.ts';
import { CLAIMS, SANDBOXES } from '../resources.ts';
import { blueprintFromTemplate, isStale } from './blueprint.ts';
import { ClaimInputError, createdByOf, injectEnv, injectVolumeMounts, mergePodMetadata, mergeVolumeClaimTemplates, validatePodMetadata, volumeMountsOf, type ClaimVolumeMount } from './claim-inputs.ts';

/** Default ceiling on a claim's wait for the starting pool member it counts on (then it goes cold). */
export const DEFAULT_MAX_WARM_WAIT_MS = 10_000;
const MISSING_DEP_REQUEUE_MS = 60_000;
const ADOPTION_ATTEMPTS = 3;

export interface ClaimControllerDeps {
  client: KubeClient;
  claims: Informer<SandboxClaim>;
  pools: Informer<SandboxWarmPool>;
  templates: Informer<SandboxTemplate>;
  sandboxes: Informer<Sandbox>;
  events: EventRecorder;
  metrics: OperatorMetrics;
  now: () => Date;
  log: (msg: string, fields?: Record<string, unknown>) => void;
  labelDomains?: readonly string[];
  /** Requeues a claim (wired to the claim queue by the composition root). */
  enqueue?: (key: string) => void;
  /** Ceiling on a wait for a starting pool member (`--sandbox-claim-max-warm-wait`). */
  maxWarmWaitMs?: number;
}

type Result = { requeueAfterMs?: number } | void;

/** Ready condition to write, with a requeue when the reason is transient. */
class StatusOutcome {
  constructor(readonly ready: Omit<ConditionInput, 'type' | 'observedGeneration'>, readonly requeueAfterMs?: number) {}
}

export class ClaimController {
  /** Sandboxes being adopted right now (key ns/name → claim uid): avoids pointless 409 races. */
  private readonly reserved = new Map<string, string>();
  /** Claim uid → first observation time not yet written to the claim. */
  private readonly firstObserved = new Map<string, string>();
  /**
   * Claims waiting for a starting warm member to get an IP, per pool key. Each counts on one
   * member: a claim waits only while the pool has more starting members than earlier waiters.
   */
  private readonly waiting = new Map<string, Set<string>>();

  constructor(private readonly d: ClaimControllerDeps) {}

  /**
   * Maps the changes this reconciler cares about to its queue keys: a claim (a deleted one is
   * forgotten), the claim owning a changed Sandbox, the unbound claims of a changed pool, and
   * the claims waiting for a template that has just appeared.
   */
  watch(enqueue: (key: string) => void): void {
    const { claims, pools, templates, sandboxes } = this.d;
    claims.on((type, c) => { if (type === 'delete') this.forget(c); else enqueue(objectKey(c)); });
    sandboxes.on((type, sb) => {
      const owner = controllerOf(sb);
      if (owner?.kind === 'SandboxClaim') enqueue(`${sb.metadata.namespace}/${owner.name}`);
      this.observeSandbox(sb, type === 'delete');
    });
    pools.on((_t, p) => { for (const c of claims.list((c) => c.spec.warmPoolRef?.name === p.metadata.name && !c.status?.sandbox?.name, p.metadata.namespace)) enqueue(objectKey(c)); });
    templates.on((type, t) => {
      if (type !== 'add') return;
      const poolNames = new Set(pools.list((p) => p.spec.sandboxTemplateRef.name === t.metadata.name, t.metadata.namespace).map((p) => p.metadata.name));
      for (const c of claims.list((c) => poolNames.has(c.spec.warmPoolRef?.name), t.metadata.namespace)) enqueue(objectKey(c));
    });
  }

  /** Drops what is kept in memory for a deleted claim. */
  private forget(claim: SandboxClaim): void {
    for (const set of this.waiting.values()) set.delete(objectKey(claim));
    for (const [k, uid] of this.reserved) if (uid === claim.metadata.uid) this.reserved.delete(k);
    this.firstObserved.delete(claim.metadata.uid!);
  }

  /**
   * Wakes the claims waiting on a pool when one of its members gets an IP (one of them adopts it)
   * or goes away (one of them counted on it and must now count again, or go cold).
   */
  private observeSandbox(sb: Sandbox, deleted: boolean): void {
    const owner = controllerOf(sb);
    if (owner?.kind !== 'SandboxWarmPool') return;
    const set = this.waiting.get(`${sb.metadata.namespace}/${owner.name}`);
    if (!set?.size || !(deleted || sb.status?.podIPs?.length)) return;
    for (const key of set) this.d.enqueue?.(key);
  }

  async reconcile(namespace: string, name: string): Promise<Result> {
    let claim = this.d.claims.get(namespace, name);
    if (!claim || claim.metadata.deletionTimestamp) return;
    try {
      claim = this.stamp(claim);
      const expiry = await this.handleExpiry(claim);
      if (expiry.done) return;
      let outcome = await this.ensureSandbox(claim);
      await this.flushAnnotations(claim);
      if (!(outcome instanceof StatusOutcome)) outcome = await this.syncPodMetadata(claim, outcome);
      const result = await this.report(claim, outcome);
      // Come back at the expiry time, or sooner if the pass asked for it.
      const after = Math.min(result?.requeueAfterMs ?? Infinity, expiry.requeueMs ?? Infinity);
      return Number.isFinite(after) ? { requeueAfterMs: after } : undefined;
    } catch (e) {
      if (e instanceof ClaimInputError) {
        await this.flushAnnotations(claim);
        return this.report(claim, new StatusOutcome({ status: 'False', reason: e.reason, message: e.message }));
      }
      await this.report(claim, new StatusOutcome({ status: 'False', reason: REASON.reconcilerError, message: `Error seen: ${(e as Error).message}` })).catch(() => undefined);
      throw e;
    }
  }

  /**
   * Records when the controller first saw the claim. Kept in memory and written with the claim's
   * next metadata write (the adoption annotation, or the first-ready stamp), which saves one API
   * round trip on the warm path.
   */
  private stamp(claim: SandboxClaim): SandboxClaim {
    if (!claim.metadata.annotations?.[ANNOTATION.controllerFirstObservedAt] && !this.firstObserved.has(claim.metadata.uid!)) {
      this.firstObserved.set(claim.metadata.uid!, this.d.now().toISOString());
    }
    return claim;
  }

  /**
   * Annotations to add on the next claim write: the pending first-observed stamp, and the
   * template of the claim's pool when the claim does not record it yet (the v1alpha1 conversion
   * reads it from the claim; src/k8s/conversion/convert.ts).
   */
  private pendingAnnotations(claim: SandboxClaim): Record<string, string> {
    const out: Record<string, string> = {};
    const at = this.firstObserved.get(claim.metadata.uid!);
    if (at && !claim.metadata.annotations?.[ANNOTATION.controllerFirstObservedAt]) out[ANNOTATION.controllerFirstObservedAt] = at;
    const template = this.d.pools.get(claim.metadata.namespace, claim.spec.warmPoolRef.name)?.spec.sandboxTemplateRef.name;
    if (template && claim.metadata.annotations?.[ANNOTATION.claimTemplate] !== template) out[ANNOTATION.claimTemplate] = template;
    return out;
  }

  /** Writes the pending annotations when no adoption patch has carried them (cold starts, waits, refusals). */
  private async flushAnnotations(claim: SandboxClaim): Promise<void> {
    const latest = this.d.claims.get(claim.metadata.namespace, claim.metadata.name!) ?? claim;
    if (Object.keys(this.pendingAnnotations(latest)).length) await this.patchClaim(latest, { metadata: {} });
  }

  /** Applies the shutdown policy once expired (`done`); otherwise says when expiry is due. */
  private async handleExpiry(claim: SandboxClaim): Promise<{ done: boolean; requeueMs?: number }> {
    const finished = findCondition(claim.status?.conditions, CONDITION.finished);
    const st = expiryState(claimExpiry(claim.spec.lifecycle, finished), this.d.now());
    if (!st.expired) return { done: false, ...(st.requeueMs !== null ? { requeueMs: st.requeueMs } : {}) };
    const ready = findCondition(claim.status?.conditions, CONDITION.ready);
    if (ready?.reason !== REASON.claimExpired) {
      this.d.events.record({ ...claim, ...KIND.SandboxClaim }, 'Normal', REASON.claimExpired, 'Expiring', 'Claim lifetime has ended');
      await this.writeStatus(claim, { ...(claim.status ?? {}), conditions: this.withReady(claim, { status: 'False', reason: REASON.claimExpired, message: 'Claim has expired' }) });
    }
    const policy = claim.spec.lifecycle?.shutdownPolicy ?? SHUTDOWN_POLICY.retain;
    if (policy === SHUTDOWN_POLICY.delete || policy === SHUTDOWN_POLICY.deleteForeground) {
      await this.d.client.delete(CLAIMS, claim.metadata.namespace, claim.metadata.name!, {
        propagationPolicy: policy === SHUTDOWN_POLICY.deleteForeground ? 'Foreground' : 'Background',
        preconditions: { uid: claim.metadata.uid },
      });
      return { done: true };
    }
    for (const sb of this.d.sandboxes.list((s) => isControlledBy(s, claim) && !s.metadata.deletionTimestamp, claim.metadata.namespace)) {
      await this.d.client.delete(SANDBOXES, sb.metadata.namespace, sb.metadata.name!, { preconditions: { uid: sb.metadata.uid } });
    }
    return { done: true };
  }

  private async ensureSandbox(claim: SandboxClaim): Promise<StatusOutcome | Sandbox> {
    const ns = claim.metadata.namespace!;
    validatePodMetadata(claim.spec.additionalPodMetadata, this.d.labelDomains);
    const pool = this.d.pools.get(ns, claim.spec.warmPoolRef.name);

    // a. Already bound.
    const boundName = claim.status?.sandbox?.name;
    if (boundName) {
      const sb = this.d.sandboxes.get(ns, boundName);
      if (sb && isControlledBy(sb, claim)) return sb;
    }
    // b. A committed choice: use it, or finish the interrupted adoption.
    const chosen = claim.metadata.annotations?.[ANNOTATION.sandboxName];
    if (chosen) {
      const sb = this.d.sandboxes.get(ns, chosen) ?? await this.d.client.getOrNull<Sandbox>(SANDBOXES, ns, chosen);
      if (sb && isControlledBy(sb, claim)) return sb;
      if (sb && pool && isControlledBy(sb, pool) && !sb.metadata.deletionTimestamp) {
        const template = this.d.templates.get(ns, pool.spec.sandboxTemplateRef.name);
        if (template) {
          try { return await this.transfer(sb, claim, template); } catch (e) { if (!isConflict(e)) throw e; }
        }
      }
      if (boundName === chosen && !sb) {
        return new StatusOutcome({ status: 'False', reason: REASON.sandboxMissing, message: `Sandbox ${chosen} no longer exists` });
      }
      claim = await this.patchClaim(claim, { metadata: { annotations: { [ANNOTATION.sandboxName]: null } } });
    }
    if (boundName && !this.d.sandboxes.get(ns, boundName)) {
      return new StatusOutcome({ status: 'False', reason: REASON.sandboxMissing, message: `Sandbox ${boundName} no longer exists` });
    }
    // c. A sandbox named like the claim must be ours.
    const same = this.d.sandboxes.get(ns, claim.metadata.name!);
    if (same) {
      if (isControlledBy(same, claim)) return same;
      throw new AgentboxError('conflict', `Sandbox ${claim.metadata.name} exists and is not controlled by this claim; use a different claim name`);
    }

    if (!pool) return new StatusOutcome({ status: 'False', reason: REASON.warmPoolNotFound, message: `SandboxWarmPool ${claim.spec.warmPoolRef.name} not found` }, MISSING_DEP_REQUEUE_MS);
    const template = this.d.templates.get(ns, pool.spec.sandboxTemplateRef.name);
    if (!template) return new StatusOutcome({ status: 'False', reason: REASON.templateNotFound, message: `SandboxTemplate ${pool.spec.sandboxTemplateRef.name} not found` }, MISSING_DEP_REQUEUE_MS);

    // d. env / VCTs / volume mounts change the pod spec, which a running warm pod cannot take: cold start.
    const needsCold = (claim.spec.env?.length ?? 0) > 0 || (claim.spec.volumeClaimTemplates?.length ?? 0) > 0 || volumeMountsOf(claim).length > 0;
    if (!needsCold) {
      const warm = await this.adoptWarm(claim, pool, template);
      if (warm instanceof StatusOutcome || warm) return warm;
    }
    return this.createCold(claim, pool, template);
  }

  /** Desired pod-template metadata of the claim's sandbox: template + claim + identity labels. */
  private podMetadataFor(claim: SandboxClaim, template: SandboxTemplate) {
    const merged = mergePodMetadata(template.spec.podTemplate.metadata, claim.spec.additionalPodMetadata);
    return {
      labels: {
        ...merged.labels, [LABEL.claimUid]: claim.metadata.uid!, [LABEL.templateRefHash]: nameHash(template.metadata.name!),
        [LABEL.createdBy]: createdByOf(claim),
      },
      annotations: merged.annotations ?? {},
    };
  }

  /**
   * Bound claims: keep the Sandbox's pod-template labels/annotations in line with template +
   * claim (e.g. after `additionalPodMetadata` is edited); the Sandbox reconciler then patches the
   * live pod's metadata. The pod spec is never touched.
   */
  private async syncPodMetadata(claim: SandboxClaim, sb: Sandbox): Promise<Sandbox> {
    const pool = this.d.pools.get(claim.metadata.namespace, claim.spec.warmPoolRef.name);
    const template = pool && this.d.templates.get(claim.metadata.namespace, pool.spec.sandboxTemplateRef.name);
    if (!template || sb.metadata.deletionTimestamp) return sb;
    const want = this.podMetadataFor(claim, template);
    const have = sb.spec.podTemplate.metadata ?? {};
    const missing = (w: Record<string, string>, h: Record<string, string> | undefined) =>
      Object.fromEntries(Object.entries(w).filter(([k, v]) => h?.[k] !== v));
    const labels = missing(want.labels, have.labels);
    const annotations = missing(want.annotations, have.annotations);
    if (!Object.keys(labels).length && !Object.keys(annotations).length) return sb;
    const updated = await this.d.client.patch<Sandbox>(SANDBOXES, sb.metadata.namespace, sb.metadata.name!,
      { spec: { podTemplate: { metadata: { labels, annotations } } } });
    this.d.sandboxes.observe(updated);
    return updated;
  }

  private candidates(claim: SandboxClaim, pool: SandboxWarmPool, template: SandboxTemplate): { withIp: Sandbox[]; withoutIp: number } {
    const hash = nameHash(pool.metadata.name!);
    const recreate = pool.spec.updateStrategy?.type === UPDATE_STRATEGY.recreate;
    const all = this.d.sandboxes.list((sb) => sb.metadata.labels?.[LABEL.warmPoolSandbox] === hash
      && !!sb.metadata.labels?.[LABEL.templateRefHash] && isControlledBy(sb, pool) && !sb.metadata.deletionTimestamp
      && !(recreate && isStale(sb, template))
      && (this.reserved.get(objectKey(sb)) ?? claim.metadata.uid) === claim.metadata.uid, claim.metadata.namespace);
    const withIp = all.filter((sb) => sb.status?.podIPs?.length);
    // Ready first, then oldest first.
    withIp.sort((a, b) => {
      const ra = isTrue(a.status?.conditions, CONDITION.ready) ? 0 : 1;
      const rb = isTrue(b.status?.conditions, CONDITION.ready) ? 0 : 1;
      if (ra !== rb) return ra - rb;
      return (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || (a.metadata.name! < b.metadata.name! ? -1 : 1);
    });
    return { withIp, withoutIp: all.length - withIp.length };
  }

  /** Returns the adopted Sandbox, a wait outcome, or null to cold start. */
  private async adoptWarm(claim: SandboxClaim, pool: SandboxWarmPool, template: SandboxTemplate): Promise<Sandbox | StatusOutcome | null> {
    const poolKey = objectKey(pool);
    for (let attempt = 0; attempt < ADOPTION_ATTEMPTS; attempt++) {
      const { withIp, withoutIp } = this.candidates(claim, pool, template);
      const pick = withIp[0];
      if (!pick) {
        // Wait only for a member already starting that no earlier waiter counts on: it is ahead
        // of any pod a cold start would begin now. Otherwise go cold at once, so a burst larger
        // than the pool starts all its pods together. The wait is woken by the member's events
        // (observeSandbox); the requeue is only the ceiling, never a polling step.
        const set = this.waiting.get(poolKey) ?? new Set<string>();
        const others = set.size - (set.has(objectKey(claim)) ? 1 : 0);
        const left = (this.d.maxWarmWaitMs ?? DEFAULT_MAX_WARM_WAIT_MS) - (this.d.now().getTime() - Date.parse(claim.metadata.creationTimestamp ?? ''));
        if (withoutIp > others && left > 0) {
          this.waiting.set(poolKey, set.add(objectKey(claim)));
          return new StatusOutcome({ status: 'False', reason: REASON.dependenciesNotReady, message: 'Waiting for a starting warm sandbox to get an IP' }, left);
        }
        set.delete(objectKey(claim));
        return null;
      }
      this.waiting.get(poolKey)?.delete(objectKey(claim));
      const key = objectKey(pick);
      this.reserved.set(key, claim.metadata.uid!);
      try {
        claim = await this.patchClaim(claim, { metadata: { resourceVersion: claim.metadata.resourceVersion, annotations: { [ANNOTATION.sandboxName]: pick.metadata.name! } } });
        const sb = await this.transfer(pick, claim, template);
        this.d.events.record({ ...claim, ...KIND.SandboxClaim }, 'Normal', 'SandboxAdopted', 'Adopting', `Adopted warm sandbox ${sb.metadata.name}`);
        this.countAssignment(claim, pool, template, LAUNCH_WARM, sb);
        return sb;
      } catch (e) {
        if (!isConflict(e) && !isNotFound(e)) throw e;
        this.d.log('warm adoption lost a race; trying another candidate', { claim: claim.metadata.name, sandbox: pick.metadata.name });
        // Re-read: the 409 may have been on the claim itself (someone else wrote it).
        const fresh = await this.d.client.getOrNull<SandboxClaim>(CLAIMS, claim.metadata.namespace, claim.metadata.name!);
        if (!fresh) return new StatusOutcome({ status: 'False', reason: REASON.adoptionConflict, message: 'Claim disappeared during adoption' });
        this.d.claims.observe(fresh);
        claim = fresh;
        if (claim.metadata.annotations?.[ANNOTATION.sandboxName] === pick.metadata.name) {
          claim = await this.patchClaim(claim, { metadata: { annotations: { [ANNOTATION.sandboxName]: null } } });
        }
        // Never pick this one again in this pass: it belongs to someone else now.
        this.reserved.set(key, 'taken');
      } finally {
        if (this.reserved.get(key) === claim.metadata.uid) this.reserved.delete(key);
      }
    }
    return new StatusOutcome({ status: 'False', reason: REASON.adoptionConflict, message: `Lost ${ADOPTION_ATTEMPTS} adoption races; retrying` }, 100);
  }

  /** Moves a pool member to the claim: optimistic lock on the Sandbox's resourceVersion. */
  private async transfer(sb: Sandbox, claim: SandboxClaim, template: SandboxTemplate): Promise<Sandbox> {
    const createdBy = createdByOf(claim);
    const podMeta = this.podMetadataFor(claim, template);
    const trace = claim.metadata.annotations?.[ANNOTATION.traceContext];
    const patch = {
      metadata: {
        resourceVersion: sb.metadata.resourceVersion,
        labels: {
          [LABEL.warmPoolSandbox]: null, [LABEL.templateHash]: null, [LABEL.podTemplateHash]: null,
          [LABEL.launchType]: LAUNCH_WARM, [LABEL.claimUid]: claim.metadata.uid, [LABEL.createdBy]: createdBy,
        },
        annotations: { [ANNOTATION.podName]: sb.metadata.annotations?.[ANNOTATION.podName] ?? sb.metadata.name, ...(trace ? { [ANNOTATION.traceContext]: trace } : {}) },
        ownerReferences: [controllerRef(claim, KIND.SandboxClaim)],
      },
      spec: {
        podTemplate: {
          metadata: {
            labels: podMeta.labels,
            annotations: { ...podMeta.annotations, ...(sb.spec.podTemplate.metadata?.annotations?.[ANNOTATION.safeToEvict] === 'true' && podMeta.annotations[ANNOTATION.safeToEvict] === undefined ? { [ANNOTATION.safeToEvict]: null } : {}) },
          },
        },
      },
    };
    const updated = await this.d.client.patch<Sandbox>(SANDBOXES, sb.metadata.namespace, sb.metadata.name!, patch);
    this.d.sandboxes.observe(updated);
    return updated;
  }

  private async createCold(claim: SandboxClaim, pool: SandboxWarmPool, template: SandboxTemplate): Promise<Sandbox | StatusOutcome> {
    const blueprint = blueprintFromTemplate(template);
    blueprint.podTemplate.spec = injectVolumeMounts(injectEnv(blueprint.podTemplate.spec, claim, template), await this.mountableVolumes(claim));
    const vcts = mergeVolumeClaimTemplates(blueprint.volumeClaimTemplates, claim, template);
    const refHash = nameHash(template.metadata.name!);
    const createdBy = createdByOf(claim);
    const podMeta = this.podMetadataFor(claim, template);
    const sb: Sandbox = {
      metadata: {
        name: claim.metadata.name, namespace: claim.metadata.namespace,
        labels: { [LABEL.claimUid]: claim.metadata.uid!, [LABEL.createdBy]: createdBy, [LABEL.launchType]: LAUNCH_COLD, [LABEL.templateRefHash]: refHash },
        annotations: { [ANNOTATION.templateRef]: template.metadata.name! },
        ownerReferences: [controllerRef(claim, KIND.SandboxClaim)],
      },
      spec: {
        ...blueprint,
        ...(vcts ? { volumeClaimTemplates: vcts } : {}),
        podTemplate: {
          metadata: podMeta,
          spec: blueprint.podTemplate.spec,
        },
      },
    };
    try {
      const created = await this.d.client.create(SANDBOXES, claim.metadata.namespace, sb);
      this.d.sandboxes.observe(created);
      this.d.events.record({ ...claim, ...KIND.SandboxClaim }, 'Normal', 'SandboxProvisioned', 'Provisioning', `Created sandbox ${created.metadata.name}`);
      this.countAssignment(claim, pool, template, LAUNCH_COLD, created);
      return created;
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      return new StatusOutcome({ status: 'False', reason: REASON.sandboxCreatePending, message: 'Sandbox creation is pending' }, 200);
    }
  }

  /**
   * The claim's volume mounts, once each PVC is known to be one it may mount: an agentbox volume
   * (LABEL.volume) of the claim's own tenant (LABEL.tenant). Whoever may create claims in the
   * namespace could otherwise mount any PVC there through the annotation.
   */
  private async mountableVolumes(claim: SandboxClaim): Promise<ClaimVolumeMount[]> {
    const mounts = volumeMountsOf(claim);
    const tenant = claim.metadata.labels?.[LABEL.tenant];
    for (const m of mounts) {
      const pvc = await this.d.client.getOrNull<{ metadata: { labels?: Record<string, string>; deletionTimestamp?: string } }>(PVCS, claim.metadata.namespace, m.claimName);
      const labels = pvc?.metadata.labels ?? {};
      if (!pvc || pvc.metadata.deletionTimestamp || labels[LABEL.volume] !== 'true' || tenant === undefined || labels[LABEL.tenant] !== tenant) {
        throw new ClaimInputError(REASON.volumeMountFailed, `PersistentVolumeClaim ${m.claimName} is not a volume of this claim's tenant (labels ${LABEL.volume}=true and ${LABEL.tenant}=${tenant ?? '<none>'})`);
      }
    }
    return mounts;
  }

  private countAssignment(claim: SandboxClaim, pool: SandboxWarmPool, t: SandboxTemplate, launch: string, sb: Sandbox): void {
    this.d.metrics.claimCreation.inc({
      namespace: claim.metadata.namespace ?? '', sandbox_template: t.metadata.name!, launch_type: launch,
      warmpool_name: pool.metadata.name!, pod_condition: isTrue(sb.status?.conditions, CONDITION.ready) ? 'ready' : 'not_ready',
      created_by: createdByOf(claim),
    });
    this.d.metrics.poolWarmHits.inc({ namespace: claim.metadata.namespace ?? '', warmpool: pool.metadata.name!, launch_type: launch });
  }

  private withReady(claim: SandboxClaim, ready: Omit<ConditionInput, 'type' | 'observedGeneration'>, base?: Condition[]): Condition[] {
    return setCondition(base ?? claim.status?.conditions, { type: CONDITION.ready, ...ready, observedGeneration: claim.metadata.generation }, this.d.now());
  }

  private async report(claim: SandboxClaim, outcome: StatusOutcome | Sandbox): Promise<Result> {
    claim = this.d.claims.get(claim.metadata.namespace, claim.metadata.name!) ?? claim;
    if (outcome instanceof StatusOutcome) {
      await this.writeStatus(claim, { ...(claim.status ?? {}), conditions: this.withReady(claim, outcome.ready) });
      return outcome.requeueAfterMs === undefined ? undefined : { requeueAfterMs: outcome.requeueAfterMs };
    }
    const sb = outcome;
    const sbReady = findCondition(sb.status?.conditions, CONDITION.ready);
    let ready: Omit<ConditionInput, 'type' | 'observedGeneration'>;
    if (!sbReady) ready = { status: 'False', reason: REASON.sandboxNotReady, message: 'Sandbox has not reported readiness yet' };
    else if (sbReady.reason === REASON.sandboxExpired) ready = { status: 'False', reason: REASON.sandboxExpired, message: 'Underlying Sandbox resource has expired independently of the Claim.' };
    else ready = { status: sbReady.status, reason: sbReady.reason, message: sbReady.message };
    let conditions = this.withReady(claim, ready);
    const finished = findCondition(sb.status?.conditions, CONDITION.finished);
    conditions = finished
      ? setCondition(conditions, { ...finished, observedGeneration: claim.metadata.generation }, this.d.now())
      : removeCondition(conditions, CONDITION.finished);
    const status: SandboxClaimStatus = {
      conditions,
      sandbox: { name: sb.metadata.name, ...(sb.status?.podIPs?.length ? { podIPs: sb.status.podIPs } : {}) },
    };
    await this.writeStatus(claim, status);
    if (ready.status === 'True' && !claim.metadata.annotations?.[ANNOTATION.claimFirstReadyAt]) await this.firstReady(claim, sb);
  }

  private async firstReady(claim: SandboxClaim, sb: Sandbox): Promise<void> {
    const now = this.d.now();
    const labels = { launch_type: sb.metadata.labels?.[LABEL.launchType] ?? LAUNCH_COLD, sandbox_template: sb.metadata.annotations?.[ANNOTATION.templateRef] ?? '' };
    const observed = Date.parse(claim.metadata.annotations?.[ANNOTATION.controllerFirstObservedAt] ?? this.firstObserved.get(claim.metadata.uid!) ?? '');
    if (Number.isFinite(observed)) this.d.metrics.claimControllerLatency.observe(labels, now.getTime() - observed);
    const webhookSeen = Date.parse(claim.metadata.annotations?.[ANNOTATION.webhookFirstObservedAt] ?? '');
    if (Number.isFinite(webhookSeen)) this.d.metrics.claimStartupLatency.observe(labels, now.getTime() - webhookSeen);
    const requested = Date.parse(claim.metadata.annotations?.[ANNOTATION.clientFirstRequestedAt] ?? '');
    if (Number.isFinite(requested)) this.d.metrics.clientClaimLatency.observe(labels, now.getTime() - requested);
    await this.patchClaim(claim, { metadata: { annotations: { [ANNOTATION.claimFirstReadyAt]: now.toISOString() } } });
  }

  /** Metadata merge patch of the claim; carries the pending first-observed stamp along. */
  private async patchClaim(claim: SandboxClaim, patch: { metadata: { resourceVersion?: string; annotations?: Record<string, string | null> } }): Promise<SandboxClaim> {
    const pending = this.pendingAnnotations(claim);
    const body = { metadata: { ...patch.metadata, annotations: { ...pending, ...(patch.metadata.annotations ?? {}) } } };
    const updated = await this.d.client.patch<SandboxClaim>(CLAIMS, claim.metadata.namespace, claim.metadata.name!, body);
    this.d.claims.observe(updated);
    if (updated.metadata.annotations?.[ANNOTATION.controllerFirstObservedAt]) this.firstObserved.delete(claim.metadata.uid!);
    return updated;
  }

  /** Status merge patch under an optimistic lock; on a conflict the claim is looked at again. */
  private async writeStatus(claim: SandboxClaim, next: SandboxClaimStatus): Promise<void> {
    const w = await writeStatus(this.d.client, CLAIMS, claim, next, { lock: true });
    if (w.outcome === 'written') this.d.claims.observe(w.updated);
    else if (w.outcome === 'conflict') this.d.enqueue?.(objectKey(claim));
  }
}
