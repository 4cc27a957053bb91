// Memory hibernation of a Sandbox (docs/kubernetes-hibernation.md): on suspend its pod's gVisor
// sandbox is checkpointed by the node agent of its node before the pod is deleted; on resume the
// new pod carries `agentbox.dev/restore-from` and is pinned to that node (snapshots are
// node-local), and once it is Ready the snapshot is released. A fork restores its source's
// stored snapshot when the source is suspended with one (and leaves it to the source: a golden
// Sandbox's snapshot serves every member of its warm pool), else checkpoints the running source.
// Every checkpoint is recorded as a
// SandboxSnapshot object (../snapshot/records.ts), and releasing a snapshot is deleting that
// object: its finalizer has the node agent remove the data. Each step says what happened in the
// Hibernated condition; memory is given up after a failure only under hibernation-fallback.
import {
  ANNOTATION, CONDITION, HIBERNATION_FALLBACK_COLD_START, HIBERNATION_MEMORY, KIND, OPERATING_MODE, REASON,
} from '../../api/k8s/constants.ts';
import type { PodSpec, Sandbox } from '../../api/k8s/types.ts';
import { AgentboxError } from '../../api/errors.ts';
import type { ConditionInput } from '../conditions.ts';
import type { EventRecorder } from '../events.ts';
import type { CheckpointRequest, CheckpointResponse } from '../../api/k8s/node-agent.ts';
import type { NodeAgents } from '../node/client.ts';
import type { RestoreNodes } from '../node/placement.ts';
import type { SnapshotRecords } from '../snapshot/records.ts';
import type { Pod } from './pod.ts';

export type HibernationCondition = Omit<ConditionInput, 'observedGeneration'>;

/**
 * The snapshot a suspended Sandbox's memory is in; `storage` S3 when the node agents also keep it
 * in their object store (restorable on another node); `sharedFrom` names the Sandbox it belongs
 * to when that is another one (a fork of a suspended Sandbox), which keeps it after this restore.
 */
export interface SnapshotRef { id: string; node: string; podUid: string; storage?: 'Node' | 'S3'; sharedFrom?: string }

const setting = (sb: Sandbox, key: string) => sb.metadata.annotations?.[key] ?? sb.spec.podTemplate.metadata?.annotations?.[key];
export const wantsMemoryHibernation = (sb: Sandbox) => setting(sb, ANNOTATION.hibernation) === HIBERNATION_MEMORY;
const mayColdStart = (sb: Sandbox) => setting(sb, ANNOTATION.hibernationFallback) === HIBERNATION_FALLBACK_COLD_START;
/**
 * The running Sandbox this one forks, until the fork has been taken. Set on the Sandbox, or on its
 * template's pod template: then every Sandbox of the template, warm-pool members included, starts
 * as a copy of that golden Sandbox, its start command already done.
 */
const forkSourceOf = (sb: Sandbox) => setting(sb, ANNOTATION.forkFrom) || undefined;
const pendingForkOf = (sb: Sandbox) => (sb.metadata.annotations?.[ANNOTATION.forked] ? undefined : forkSourceOf(sb));

export function snapshotOf(sb: Sandbox): SnapshotRef | null {
  const raw = sb.metadata.annotations?.[ANNOTATION.hibernationSnapshot];
  if (!raw) return null;
  try {
    const v = JSON.parse(raw) as Partial<SnapshotRef>;
    if (typeof v.id !== 'string' || typeof v.node !== 'string' || typeof v.podUid !== 'string') return null;
    return {
      id: v.id, node: v.node, podUid: v.podUid,
      ...(v.storage === 'S3' || v.storage === 'Node' ? { storage: v.storage } : {}),
      ...(typeof v.sharedFrom === 'string' ? { sharedFrom: v.sharedFrom } : {}),
    };
  } catch {
    return null;
  }
}

/** The pod spec required onto `node`, ANDed with every node selector term the template has. */
export function pinToNode(spec: PodSpec, node: string): PodSpec {
  const field = { key: 'metadata.name', operator: 'In', values: [node] };
  const affinity = (spec.affinity ?? {}) as { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: { matchFields?: unknown[] }[] } } };
  const terms = affinity.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [{}];
  return {
    ...spec,
    affinity: {
      ...affinity,
      nodeAffinity: {
        ...affinity.nodeAffinity,
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: terms.map((t) => ({ ...t, matchFields: [...(t.matchFields ?? []), field] })),
        },
      },
    },
  };
}

const reasonOf = (e: unknown) => (e instanceof Error ? e.message : String(e));
const FALLBACK = `${ANNOTATION.hibernationFallback}: ${HIBERNATION_FALLBACK_COLD_START}`;
/** A failure's message: what failed, why, and what happens now, with or without the fallback. */
const failure = (what: string, e: unknown, giveUp: boolean, given: string, waiting: string, allow: string) =>
  `${what}: ${reasonOf(e)}; ${giveUp ? `${given} (${FALLBACK})` : `${waiting} (set ${FALLBACK} to ${allow})`}`;
/** Worth retrying: the agent was unreachable or busy; a refused snapshot stays refused. */
const transient = (e: unknown) => !(e instanceof AgentboxError) || ['unavailable', 'internal', 'deadline_exceeded'].includes(e.code);
const RETRY_MS = 5_000;

export interface HibernatorDeps {
  /** Absent when the operator was started without node agents: hibernation then always fails. */
  agents?: NodeAgents;
  events: EventRecorder;
  /** The SandboxSnapshot objects: one written per checkpoint, deleted to release it. */
  records: SnapshotRecords;
  /** Merge-patches the Sandbox's metadata (its snapshot annotation). */
  patchSandbox(sb: Sandbox, patch: unknown): Promise<void>;
  /** The gVisor nodes a snapshot kept in the object store may be restored on when its own node is not Ready; absent: only its own. */
  restoreNodes?: RestoreNodes;
  /** Sandbox `name` in `namespace` (a fork's source) and its pod; not_found when there is no such Sandbox. */
  sourceOf(namespace: string, name: string): Promise<{ sandbox: Sandbox; pod: Pod | null }>;
}

/**
 * `gracePeriodSeconds` 1 after a checkpoint: the pod's containers have ended already, so nothing
 * waits on it, yet the deletion stays graceful. A grace of 0 would remove the pod object at once
 * while the kubelet still tears the old pod down, and the resumed pod of the same name could then
 * start beside it on that node; the kubelet finds a container to exec into by the pod's name, so
 * `kubectl exec` would answer `container not found` until the old one was gone.
 */
export interface SuspendStep { deletePod: boolean; gracePeriodSeconds?: number; condition?: HibernationCondition; requeueAfterMs?: number }
export interface ResumeStep { pod: Pod | null; condition?: HibernationCondition; requeueAfterMs?: number }

export class Hibernator {
  constructor(private readonly d: HibernatorDeps) {}

  private agents(): NodeAgents {
    if (!this.d.agents) throw new AgentboxError('not_supported', 'this operator runs without node agents (start it with --node-agent-token-file)');
    return this.d.agents;
  }

  private event(sb: Sandbox, type: 'Normal' | 'Warning', reason: string, message: string) {
    this.d.events.record({ ...sb, ...KIND.Sandbox }, type, reason, 'Hibernating', message);
  }

  /** Checkpoints a pod on its node and records it as a SandboxSnapshot of Sandbox `of`, owned by `sb`. */
  private async checkpointRecorded(sb: Sandbox, node: string, req: CheckpointRequest, of?: string): Promise<CheckpointResponse> {
    const agents = this.agents();
    const snap = await agents.checkpoint(node, req);
    await this.d.records.record(sb, snap, of).catch(async (e: unknown) => {
      // Data no object names would never be deleted; the pod's memory is lost either way now.
      await agents.deleteSnapshot(node, req.namespace, snap.snapshotId).catch(() => undefined);
      throw e;
    });
    return snap;
  }

  /** A step that failed: said in a Warning Event and in the Hibernated condition. */
  private failed(sb: Sandbox, reason: string, message: string): HibernationCondition {
    this.event(sb, 'Warning', reason, message);
    return { type: CONDITION.hibernated, status: 'False', reason, message };
  }

  /** Suspend: checkpoint the running pod before it is deleted (or say why it is kept). */
  async beforeDelete(sb: Sandbox, pod: Pod): Promise<SuspendStep> {
    if (!wantsMemoryHibernation(sb)) return { deletePod: true };
    if (snapshotOf(sb)?.podUid === pod.metadata.uid) return { deletePod: true };
    const node = pod.spec.nodeName;
    try {
      this.agents();
      if (pod.status?.phase !== 'Running') throw new AgentboxError('conflict', `pod ${pod.metadata.name} is ${pod.status?.phase ?? 'Pending'}, not Running: there is no memory to checkpoint`);
      if (!node) throw new AgentboxError('conflict', `pod ${pod.metadata.name} is on no node: there is no node agent to checkpoint it`);
      const snap = await this.checkpointRecorded(sb, node, { namespace: pod.metadata.namespace!, name: pod.metadata.name!, uid: pod.metadata.uid! });
      const ref: SnapshotRef = { id: snap.snapshotId, node, podUid: pod.metadata.uid!, storage: snap.storage };
      await this.d.patchSandbox(sb, { metadata: { annotations: { [ANNOTATION.hibernationSnapshot]: JSON.stringify(ref) } } });
      const message = `memory snapshot ${snap.snapshotId} (${Math.round(snap.sizeBytes / 1024)} KiB) on node ${node}, checkpoint ${snap.checkpointMs} ms`;
      this.event(sb, 'Normal', REASON.checkpointed, message);
      return { deletePod: true, gracePeriodSeconds: 1, condition: { type: CONDITION.hibernated, status: 'True', reason: REASON.checkpointed, message } };
    } catch (e) {
      const giveUp = mayColdStart(sb);
      const message = failure('checkpoint failed', e, giveUp, 'suspended without its memory', 'the pod keeps running until a checkpoint succeeds', 'suspend without memory');
      const condition = this.failed(sb, REASON.checkpointFailed, message);
      return giveUp ? { deletePod: true, condition } : { deletePod: false, condition, requeueAfterMs: RETRY_MS };
    }
  }

  /**
   * Fork (issue 14 §5): the source's stored snapshot when it is suspended with one, else a
   * checkpoint of its running pod, which goes on running; restored into this Sandbox's first pod
   * like a resume (pinned to that node).
   */
  private async takeFork(sb: Sandbox, from: string): Promise<SnapshotRef> {
    const ns = sb.metadata.namespace!;
    if (from === sb.metadata.name) throw new AgentboxError('invalid_argument', `a Sandbox cannot fork itself (${ANNOTATION.forkFrom}: ${from})`);
    const { sandbox: source, pod } = await this.d.sourceOf(ns, from);
    const node = pod?.spec.nodeName;
    let ref: SnapshotRef;
    let how: string;
    // A suspended source is never checkpointed here: its own suspend may be checkpointing it now.
    const stored = source.spec.operatingMode === OPERATING_MODE.suspended ? snapshotOf(source) : null;
    if (stored) {
      ref = { ...stored, sharedFrom: from };
      how = `its stored memory snapshot ${stored.id} on node ${stored.node}, which stays with it`;
    } else if (source.spec.operatingMode !== OPERATING_MODE.suspended && pod && node && pod.status?.phase === 'Running' && !pod.metadata.deletionTimestamp) {
      const snap = await this.checkpointRecorded(sb, node, { namespace: ns, name: pod.metadata.name!, uid: pod.metadata.uid!, leaveRunning: true }, from);
      ref = { id: snap.snapshotId, node, podUid: pod.metadata.uid!, storage: snap.storage };
      how = `memory snapshot ${snap.snapshotId} (${Math.round(snap.sizeBytes / 1024)} KiB) of its running pod on node ${node}, checkpoint ${snap.checkpointMs} ms`;
    } else {
      throw new AgentboxError('unavailable', `Sandbox ${from} has neither a running pod nor a stored memory snapshot to fork yet`);
    }
    await this.d.patchSandbox(sb, { metadata: { annotations: {
      [ANNOTATION.hibernationSnapshot]: JSON.stringify(ref),
      [ANNOTATION.forked]: JSON.stringify({ from, snapshot: ref.id, at: new Date().toISOString() }),
    } } });
    this.event(sb, 'Normal', REASON.forked, `forked Sandbox ${from}: ${how}`);
    return ref;
  }

  /** Resume: the pod to create, restored from the Sandbox's snapshot when it has one (a fork's first pod: from its source's). */
  async restorePod(sb: Sandbox, pod: Pod): Promise<ResumeStep> {
    let snap = snapshotOf(sb);
    const from = pendingForkOf(sb);
    if (!snap && from) {
      try {
        snap = await this.takeFork(sb, from);
      } catch (e) {
        const giveUp = mayColdStart(sb);
        const message = failure(`fork of Sandbox ${from} failed`, e, giveUp, 'started without its memory', 'no pod is started until it succeeds', 'start it fresh');
        const condition = this.failed(sb, REASON.forkFailed, message);
        if (!giveUp) return { pod: null, condition, ...(transient(e) ? { requeueAfterMs: RETRY_MS } : {}) };
        await this.d.patchSandbox(sb, { metadata: { annotations: { [ANNOTATION.forked]: JSON.stringify({ from, coldStart: true, at: new Date().toISOString() }) } } });
        return { pod, condition };
      }
    }
    if (!snap || !(wantsMemoryHibernation(sb) || forkSourceOf(sb))) return { pod };
    try {
      snap = await this.placeRestore(sb, snap);
      const granted = await this.agents().prepareRestore(snap.node, {
        namespace: pod.metadata.namespace!, name: pod.metadata.name!, snapshotId: snap.id,
        containers: pod.spec.containers.map((c) => ({ name: c.name, image: c.image ?? '' })),
      });
      const restored: Pod = {
        ...pod,
        metadata: { ...pod.metadata, annotations: { ...pod.metadata.annotations, [ANNOTATION.restoreFrom]: granted.restoreFrom } },
        spec: pinToNode(pod.spec, snap.node),
      };
      return { pod: restored, condition: { type: CONDITION.hibernated, status: 'True', reason: REASON.restoring, message: `restoring memory snapshot ${snap.id} on node ${snap.node}` } };
    } catch (e) {
      const giveUp = mayColdStart(sb);
      const message = failure(`restore of memory snapshot ${snap.id} on node ${snap.node} refused or failed`, e, giveUp, 'started without its memory', 'no pod is started', 'start it without memory');
      const condition = this.failed(sb, REASON.restoreFailed, message);
      if (giveUp) {
        await this.release(sb, snap);
        return { pod, condition };
      }
      if (snap.sharedFrom) {
        // Its source's snapshot, which the source may have restored and released meanwhile: the
        // next pass forks the source again, in whatever state it is then.
        await this.d.patchSandbox(sb, { metadata: { annotations: { [ANNOTATION.hibernationSnapshot]: null, [ANNOTATION.forked]: null } } });
        return { pod: null, condition, requeueAfterMs: RETRY_MS };
      }
      return { pod: null, condition, ...(transient(e) ? { requeueAfterMs: RETRY_MS } : {}) };
    }
  }

  /**
   * The snapshot, on the node to restore it on: its own node while that is Ready; else, when the
   * snapshot is also in the object store, another Ready gVisor node, to which its object and the
   * Sandbox's annotation are moved (that node's agent downloads it, and later deletes it there
   * and in the store).
   */
  private async placeRestore(sb: Sandbox, snap: SnapshotRef): Promise<SnapshotRef> {
    const nodes = this.d.restoreNodes;
    if (!nodes || (await nodes.isReady(snap.node))) return snap;
    const why = `node ${snap.node}, which holds memory snapshot ${snap.id}, is gone or not Ready`;
    if (snap.sharedFrom) throw new AgentboxError('unavailable', `${why}; Sandbox ${snap.sharedFrom}'s snapshot is restored on that node only`);
    if (snap.storage !== 'S3') throw new AgentboxError('unavailable', `${why}, and the snapshot is kept on that node only (node agents started with --store keep snapshots where any node can restore them)`);
    const others = (await nodes.ready()).filter((n) => n !== snap.node);
    if (others.length === 0) throw new AgentboxError('unavailable', `${why}, and no other gVisor node is Ready to restore it from the object store`);
    const moved: SnapshotRef = { ...snap, node: others[Math.floor(Math.random() * others.length)]! };
    await this.d.records.moveTo(sb.metadata.namespace!, snap.id, moved.node);
    await this.d.patchSandbox(sb, { metadata: { annotations: { [ANNOTATION.hibernationSnapshot]: JSON.stringify(moved) } } });
    this.event(sb, 'Normal', REASON.restoring, `${why}: restoring it from the object store on node ${moved.node}`);
    return moved;
  }

  /**
   * After resume: once the restored pod is Ready, its snapshot is released. A snapshot another
   * Sandbox keeps outlives this restore, so the pod's grant to it is revoked first: a container
   * of the pod that restarts later must start fresh, not restore again.
   */
  async afterReady(sb: Sandbox, pod: Pod): Promise<HibernationCondition | undefined> {
    const snap = snapshotOf(sb);
    if (!snap || !pod.metadata.annotations?.[ANNOTATION.restoreFrom]) return undefined;
    if (pod.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True') return undefined;
    if (snap.sharedFrom) await this.agents().revokeRestore(snap.node, sb.metadata.namespace!, snap.id, pod.metadata.name!);
    await this.release(sb, snap);
    const message = `restored from memory snapshot ${snap.id} on node ${snap.node}; ${snap.sharedFrom ? `the snapshot stays with Sandbox ${snap.sharedFrom}` : 'the snapshot is released'}`;
    this.event(sb, 'Normal', REASON.restored, message);
    return { type: CONDITION.hibernated, status: 'True', reason: REASON.restored, message };
  }

  /** The snapshot is no longer wanted: its object (and so its data) is deleted, then the Sandbox forgets it; another Sandbox's is only forgotten. */
  private async release(sb: Sandbox, snap: SnapshotRef): Promise<void> {
    if (!snap.sharedFrom && !(await this.d.records.release(sb.metadata.namespace!, snap.id))) {
      // No object: a user deleted it already, or an operator from before SandboxSnapshots took it.
      await this.agents().deleteSnapshot(snap.node, sb.metadata.namespace!, snap.id);
    }
    await this.d.patchSandbox(sb, { metadata: { annotations: { [ANNOTATION.hibernationSnapshot]: null } } });
  }
}
