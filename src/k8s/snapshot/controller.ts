// SandboxSnapshot finalizer: when an object the operator wrote is deleted (by a user, by the
// operator once a restore is done, or by garbage collection with its Sandbox), the node agent of
// the node that holds the data removes it, and only then the finalizer is dropped, so no
// snapshot's memory outlives its object. Runs only when the operator has node agents.
import type { SandboxSnapshot } from '../../api/k8s/types.ts';
import { isNotFound, type KubeClient } from '../client.ts';
import { objectKey, type Informer } from '../informer.ts';
import type { NodeAgents } from '../node/client.ts';
import { SANDBOX_SNAPSHOTS } from '../resources.ts';
import { SNAPSHOT_DATA_FINALIZER } from './records.ts';

export interface SnapshotControllerDeps {
  client: KubeClient;
  snapshots: Informer<SandboxSnapshot>;
  agents: NodeAgents;
}

export class SnapshotController {
  constructor(private readonly d: SnapshotControllerDeps) {}

  watch(enqueue: (key: string) => void): void {
    this.d.snapshots.on((_t, s) => enqueue(objectKey(s)));
  }

  async reconcile(namespace: string, name: string): Promise<void> {
    const snap = this.d.snapshots.get(namespace, name);
    const finalizers = snap?.metadata.finalizers ?? [];
    if (!snap?.metadata.deletionTimestamp || !finalizers.includes(SNAPSHOT_DATA_FINALIZER)) return;
    const { node, snapshotId } = snap.status ?? {};
    // Without an id and node nothing was written on any node: there is no data to remove.
    if (node && snapshotId) await this.removeData(node, namespace, snapshotId);
    try {
      await this.d.client.patch(SANDBOX_SNAPSHOTS, namespace, name, {
        metadata: { resourceVersion: snap.metadata.resourceVersion, finalizers: finalizers.filter((f) => f !== SNAPSHOT_DATA_FINALIZER) },
      });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  private async removeData(node: string, namespace: string, snapshotId: string): Promise<void> {
    try {
      await this.d.agents.deleteSnapshot(node, namespace, snapshotId);
    } catch (e) {
      // The Node object is gone (agentAtNodeIP's lookup): its node-local data went with it.
      // Any other failure is retried with backoff; the object stays until its data is gone.
      if (!isNotFound(e)) throw e;
    }
  }
}
