// The node agent's snapshots: checkpoint a pod's gVisor sandbox into
// `<snapshots>/<namespace>/<snapshotId>/` (images/ + manifest.json), verify one for the pod
// about to be restored from it and grant that pod the restore (the wrapper's condition), revoke a
// grant once the pod runs, delete one.
// A snapshot has an id, a manifest (its digest is the SandboxSnapshot object's manifestSha256), a
// node and a path: what the operator records in a SandboxSnapshot (src/k8s/snapshot/).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CheckpointRequest, CheckpointResponse, RestoreRequest, RestoreResponse } from '../../api/k8s/node-agent.ts';
import { AgentboxError } from '../../api/errors.ts';
import { MANIFEST, sealNodeSnapshot, sha256OfFile, verifyNodeSnapshot } from './manifest.ts';
import { PerKeyQueue } from '../../api/per-key-queue.ts';
import { checkpoint, findPodSandbox, sandboxBinary, type PodSandbox, type Runsc } from './runsc.ts';
import { BinaryDigests } from './runtime.ts';
import type { S3SnapshotStore } from './store.ts';
import { grantPath, IMAGES_DIR } from './wrapper.ts';

export interface NodeSnapshotsOptions {
  node: string;
  runsc: Runsc;
  /** The snapshots directory on the host (the wrapper's too). */
  dir: string;
  /** Where snapshots are also kept, so other nodes can restore them; node-local only when unset. */
  store?: S3SnapshotStore;
  now?: () => Date;
}

const newSnapshotId = () => `snap-${randomBytes(10).toString('hex').slice(0, 16)}`;

export class NodeSnapshots {
  private readonly digests = new BinaryDigests();
  private readonly checkpoints = new PerKeyQueue();

  constructor(private readonly o: NodeSnapshotsOptions) {}

  pathOf(namespace: string, snapshotId: string): string {
    return join(this.o.dir, namespace, snapshotId);
  }

  /**
   * One checkpoint of a sandbox at a time: two forks of one running Sandbox asked at once (a warm
   * pool filling from a golden Sandbox) ran two `runsc checkpoint --leave-running` of it side by
   * side, which gVisor does not promise to support, and one of the two restored copies died
   * seconds after it started (a clean-clone CI run of test/k8s/golden-pool-real-node.test.ts).
   */
  async checkpoint(req: CheckpointRequest): Promise<CheckpointResponse> {
    const sandbox = await findPodSandbox(this.o.runsc, req);
    return this.checkpoints.run(sandbox.id, () => this.checkpointOf(sandbox, req));
  }

  private async checkpointOf(sandbox: PodSandbox, req: CheckpointRequest): Promise<CheckpointResponse> {
    // The sandbox's own binary checkpoints it, and is the one the manifest pins.
    const runsc = { ...this.o.runsc, binary: (await sandboxBinary(sandbox.pid)) ?? this.o.runsc.binary };
    const snapshotId = newSnapshotId();
    const dir = this.pathOf(req.namespace, snapshotId);
    await mkdir(join(dir, IMAGES_DIR), { recursive: true, mode: 0o700 });
    try {
      const t0 = performance.now();
      await checkpoint(runsc, sandbox.id, join(dir, IMAGES_DIR), req.leaveRunning);
      const t1 = performance.now();
      const m = await sealNodeSnapshot(dir, {
        snapshotId, node: this.o.node, pod: { namespace: req.namespace, name: req.name, uid: req.uid },
        containers: sandbox.containers, runtime: { name: 'runsc', sha256: await this.digests.of(runsc.binary) },
        createdAt: (this.o.now?.() ?? new Date()).toISOString(),
      });
      const sealMs = Math.round(performance.now() - t1);
      const store = this.o.store;
      await store?.upload(req.namespace, snapshotId, dir, m.files.map((f) => f.path));
      return {
        snapshotId, node: this.o.node, sizeBytes: m.files.reduce((n, f) => n + f.size, 0),
        checkpointMs: Math.round(t1 - t0), sealMs,
        manifestSha256: await sha256OfFile(join(dir, MANIFEST)),
        storage: store?.storage ?? 'Node', location: store?.location(req.namespace, snapshotId) ?? `node://${this.o.node}${dir}`,
      };
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      await this.o.store?.delete(req.namespace, snapshotId).catch(() => undefined);
      throw e;
    }
  }

  async prepareRestore(req: RestoreRequest): Promise<RestoreResponse> {
    const dir = this.pathOf(req.namespace, req.snapshotId);
    const t0 = performance.now();
    if (!existsSync(dir)) {
      if (!this.o.store) throw new AgentboxError('not_found', `snapshot ${req.snapshotId} of namespace ${req.namespace} is not on node ${this.o.node}`);
      // Taken on another node, or this node's copy is gone: the store's copy, verified below.
      await this.o.store.download(req.namespace, req.snapshotId, dir);
    }
    // The binary the wrapper will restore with: what the runsc path resolves to now (runtime.ts).
    const m = await verifyNodeSnapshot(dir, { runtimeSha256: await this.digests.of(this.o.runsc.binary), containers: req.containers });
    // With a store any node may restore a snapshot; without, only the node that took it holds it.
    if (m.pod.namespace !== req.namespace || (!this.o.store && m.node !== this.o.node)) {
      throw new AgentboxError('integrity_error', `snapshot ${req.snapshotId} belongs to ${m.pod.namespace} on node ${m.node}, not to ${req.namespace} on ${this.o.node}`);
    }
    const grant = grantPath(dir, req.namespace, req.name);
    await mkdir(dirname(grant), { recursive: true, mode: 0o700 });
    await writeFile(grant, '', { mode: 0o600 });
    return { restoreFrom: dir, verifyMs: Math.round(performance.now() - t0) };
  }

  /** The pod's grant to restore the snapshot goes; nothing to do when it has none. */
  async revokeGrant(namespace: string, snapshotId: string, pod: string): Promise<void> {
    await rm(grantPath(this.pathOf(namespace, snapshotId), namespace, pod), { force: true });
  }

  async delete(namespace: string, snapshotId: string): Promise<void> {
    await rm(this.pathOf(namespace, snapshotId), { recursive: true, force: true });
    await this.o.store?.delete(namespace, snapshotId);
  }
}
