// The SandboxSnapshot objects of memory snapshots (src/api/k8s/snapshot-schemas.ts): one is
// written for every checkpoint, named by the node agent's snapshot id, controlled by its Sandbox
// (deleting the Sandbox deletes it) and carrying the finalizer by which the snapshot controller
// (./controller.ts) has the node agent remove the data before the object goes.
import { CONDITION, KIND, REASON } from '../../api/k8s/constants.ts';
import type { CheckpointResponse } from '../../api/k8s/node-agent.ts';
import type { Sandbox, SandboxSnapshot, SandboxSnapshotStatus } from '../../api/k8s/types.ts';
import type { KubeClient } from '../client.ts';
import { setCondition } from '../conditions.ts';
import { controllerRef } from '../ownership.ts';
import { SANDBOX_SNAPSHOTS } from '../resources.ts';
import { writeStatus } from '../status-writer.ts';

/** On every SandboxSnapshot the operator writes: its data is removed before the object goes. */
export const SNAPSHOT_DATA_FINALIZER = 'agentbox.dev/snapshot-data';

export function readyStatus(snap: CheckpointResponse, now: Date): SandboxSnapshotStatus {
  return {
    phase: 'Ready', snapshotId: snap.snapshotId, node: snap.node, sizeBytes: snap.sizeBytes,
    storage: snap.storage, location: snap.location, manifestSha256: snap.manifestSha256,
    conditions: setCondition(undefined, {
      type: CONDITION.ready, status: 'True', reason: REASON.checkpointed,
      message: `checkpoint ${snap.checkpointMs} ms, manifest sealed in ${snap.sealMs} ms`,
    }, now),
  };
}

export class SnapshotRecords {
  constructor(private readonly client: KubeClient, private readonly now: () => Date) {}

  /** The object of a checkpoint just taken of `sb`'s pod (of Sandbox `of`'s, for a fork), Ready and owned by `sb`. */
  async record(sb: Sandbox, snap: CheckpointResponse, of = sb.metadata.name!): Promise<SandboxSnapshot> {
    const created = await this.client.create<SandboxSnapshot>(SANDBOX_SNAPSHOTS, sb.metadata.namespace, {
      ...KIND.SandboxSnapshot,
      metadata: {
        name: snap.snapshotId, namespace: sb.metadata.namespace,
        ownerReferences: [controllerRef(sb, KIND.Sandbox)], finalizers: [SNAPSHOT_DATA_FINALIZER],
      },
      spec: { sandboxName: of },
    });
    const written = await writeStatus(this.client, SANDBOX_SNAPSHOTS, created, readyStatus(snap, this.now()));
    return written.outcome === 'written' ? written.updated : created;
  }

  /**
   * The snapshot is restored on `node` now (its own node is gone): the object says so, and its
   * finalizer has that node's agent remove the data (its downloaded copy and the store's).
   * Nothing to do without an object.
   */
  async moveTo(namespace: string, snapshotId: string, node: string): Promise<void> {
    const obj = await this.client.getOrNull<SandboxSnapshot>(SANDBOX_SNAPSHOTS, namespace, snapshotId);
    if (!obj?.status) return;
    const status: SandboxSnapshotStatus = { ...obj.status, node };
    await writeStatus(this.client, SANDBOX_SNAPSHOTS, obj, status);
  }

  /** Deletes the object (its finalizer removes the data); false when there is none. */
  release(namespace: string, snapshotId: string): Promise<boolean> {
    return this.client.delete(SANDBOX_SNAPSHOTS, namespace, snapshotId);
  }
}
